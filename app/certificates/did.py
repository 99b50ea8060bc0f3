"""did:web identifiers and DID documents of issuers (W3C DID 1.0, did:web method, Controlled
Identifiers 1.0 Multikey verification methods).

Pure module (standard library only): the service builds documents with it and the offline
verifier reads them with it.

- ``did:web:<host>[%3A<port>]:<path>:<segments>`` resolves to
  ``https://<host>[:<port>]/<path>/<segments>/did.json`` (the colon of a port is
  percent-encoded, path segments are separated by ``:``).
- Every key an issuer ever used stays in its document as a ``Multikey`` verification method,
  referenced from ``assertionMethod``, with the window in which it could sign: ``validFrom``
  (when it was created) and ``validUntil`` (when a rotation retired it), both brandtrace
  extensions defined in the brandtrace context, and ``revoked`` (Controlled Identifiers 1.0):
  proofs created at or after that instant are not accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

__all__ = [
    "DID_CONTEXT",
    "MULTIKEY_CONTEXT",
    "DidError",
    "IssuerKeyInfo",
    "build_did_document",
    "did_web",
    "did_web_document_url",
    "find_verification_method",
    "format_instant",
]

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"


class DidError(ValueError):
    """A DID or DID URL that this module cannot handle."""


def format_instant(moment: datetime) -> str:
    """A UTC dateTimeStamp with whole seconds and a ``Z``, as used in our documents."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def did_web(base_url: str, *segments: str) -> str:
    """The did:web identifier for a path under ``base_url``'s host.

    ``did_web("https://brand.example:8443", "orgs", "qimen")`` is
    ``did:web:brand.example%3A8443:orgs:qimen``.
    """
    parts = urlsplit(base_url)
    if not parts.hostname:
        raise DidError(f"{base_url!r} has no host")
    host = parts.hostname.lower()
    if parts.port is not None:
        host += f"%3A{parts.port}"
    for segment in segments:
        if not segment or ":" in segment or "/" in segment:
            raise DidError(f"did:web path segment {segment!r} is empty or has ':' or '/'")
    return ":".join(["did:web", host, *(quote(s, safe="-._~") for s in segments)])


def did_web_document_url(did: str) -> str:
    """Where a did:web DID's document lives (the did:web method's read operation)."""
    if not did.startswith("did:web:"):
        raise DidError(f"{did!r} is not a did:web DID")
    method_specific = did.removeprefix("did:web:").split("#", 1)[0]
    host, *path = method_specific.split(":")
    if not host:
        raise DidError(f"{did!r} has no host")
    base = "https://" + unquote(host)
    if not path:
        return base + "/.well-known/did.json"
    return base + "/" + "/".join(path) + "/did.json"


@dataclass(frozen=True)
class IssuerKeyInfo:
    """The public facts about one issuer key, as published in the DID document."""

    fragment: str
    public_key_multibase: str
    valid_from: datetime
    valid_until: datetime | None = None
    revoked_at: datetime | None = None


def build_did_document(
    did: str, keys: Iterable[IssuerKeyInfo], *, extra_contexts: Iterable[str] = ()
) -> dict[str, Any]:
    """The DID document listing every key of the issuer, oldest first, each usable for
    ``assertionMethod`` within its window."""
    methods: list[dict[str, Any]] = []
    for key in keys:
        method: dict[str, Any] = {
            "id": f"{did}#{key.fragment}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.public_key_multibase,
            "validFrom": format_instant(key.valid_from),
        }
        if key.valid_until is not None:
            method["validUntil"] = format_instant(key.valid_until)
        if key.revoked_at is not None:
            method["revoked"] = format_instant(key.revoked_at)
        methods.append(method)
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT, *extra_contexts],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


def _absolute(reference: str, did: str) -> str:
    return did + reference if reference.startswith("#") else reference


def find_verification_method(
    document: Mapping[str, Any], method_id: str, *, relationship: str = "assertionMethod"
) -> tuple[Mapping[str, Any] | None, bool]:
    """The verification method ``method_id`` in ``document`` and whether ``relationship``
    authorises it. Relative references (``#key-1``) are resolved against the document id."""
    did = str(document.get("id", ""))
    found: Mapping[str, Any] | None = None
    methods = document.get("verificationMethod", [])
    for method in methods if isinstance(methods, list) else []:
        if isinstance(method, Mapping) and _absolute(str(method.get("id", "")), did) == method_id:
            found = method
            break
    authorised = False
    references = document.get(relationship, [])
    for reference in references if isinstance(references, list) else []:
        if isinstance(reference, str) and _absolute(reference, did) == method_id:
            authorised = True
        elif (
            isinstance(reference, Mapping)
            and _absolute(str(reference.get("id", "")), did) == method_id
        ):
            # An embedded verification method authorises itself.
            authorised = True
            found = found or reference
    return found, authorised
