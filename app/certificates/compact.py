"""Compact label signatures: a short, offline-verifiable Ed25519 signature for a printed code.

Pure module (standard library, ``cryptography``, ``rfc8785``).

Format ``brandtrace-label-v1`` (change the version string for any change below):

- message = ``b"brandtrace-label-v1\\n" + JCS(fields)`` where ``fields`` is the JSON object
  ``{"01": gtin14, "10": lot, "21": serial, "kid": key_id}``; ``"10"`` and ``"21"`` are omitted
  when there is no lot or serial. JCS (RFC 8785) sorts keys and escapes strings, so the message
  is unambiguous; the prefix keeps these signatures from being valid for any other purpose.
- ``gtin14``: 14 digits with a valid GS1 check digit; ``lot`` and ``serial``: 1 to 20 characters
  of GS1 character set 82 (what GS1 AIs 10 and 21 allow); ``key_id``: the verification-method id,
  bound in so a signature cannot be presented under another key after rotation.
- signature = Ed25519 over the message; transported as base64url without padding
  (86 characters), safe in a URL query parameter as is.
"""

from __future__ import annotations

import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.certificates.dataintegrity import jcs
from app.certificates.multibase import b64url_decode, b64url_encode

__all__ = [
    "LABEL_FORMAT",
    "CompactSignatureError",
    "label_message",
    "sign_compact",
    "verify_compact",
]

LABEL_FORMAT = "brandtrace-label-v1"
_SIGNATURE_CHARS = 86  # base64url of 64 bytes, unpadded
_GTIN14_RE = re.compile(r"[0-9]{14}")
# GS1 General Specifications, character set 82.
_CSET82_RE = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")


class CompactSignatureError(ValueError):
    """Label identifiers that the ``brandtrace-label-v1`` format cannot carry."""


def _gs1_check_digit_ok(digits: str) -> bool:
    # Weights 3,1,3,... from the digit left of the check digit, moving left.
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == int(digits[-1])


def label_message(*, gtin: str, lot: str | None, serial: str | None, key_id: str) -> bytes:
    """The exact bytes signed for a label; raises :class:`CompactSignatureError` on bad input."""
    if not isinstance(gtin, str) or not _GTIN14_RE.fullmatch(gtin):
        raise CompactSignatureError("gtin must be 14 digits (GTIN-14)")
    if not _gs1_check_digit_ok(gtin):
        raise CompactSignatureError(f"gtin {gtin} has a wrong check digit")
    fields: dict[str, str] = {"01": gtin}
    for ai, value in (("10", lot), ("21", serial)):
        if value is None:
            continue
        if not isinstance(value, str) or not _CSET82_RE.fullmatch(value):
            raise CompactSignatureError(
                f"AI ({ai}) must be 1-20 characters of GS1 character set 82, got {value!r}"
            )
        fields[ai] = value
    if not isinstance(key_id, str) or not key_id:
        raise CompactSignatureError("key_id is required")
    fields["kid"] = key_id
    return LABEL_FORMAT.encode("ascii") + b"\n" + jcs(fields)


def sign_compact(
    private_key: Ed25519PrivateKey,
    *,
    gtin: str,
    lot: str | None,
    serial: str | None,
    key_id: str,
) -> str:
    """The 86-character base64url signature to print (e.g. as a query parameter) on a label."""
    message = label_message(gtin=gtin, lot=lot, serial=serial, key_id=key_id)
    return b64url_encode(private_key.sign(message))


def verify_compact(
    signature: str,
    public_key: Ed25519PublicKey | bytes,
    *,
    gtin: str,
    lot: str | None,
    serial: str | None,
    key_id: str,
) -> bool:
    """Whether ``signature`` signs these identifiers under ``key_id``; never raises on bad input.

    ``public_key`` is an ``Ed25519PublicKey`` or its raw 32 bytes.
    """
    if not isinstance(signature, str) or len(signature) != _SIGNATURE_CHARS:
        return False
    try:
        raw_signature = b64url_decode(signature)
        message = label_message(gtin=gtin, lot=lot, serial=serial, key_id=key_id)
        key = (
            public_key
            if isinstance(public_key, Ed25519PublicKey)
            else Ed25519PublicKey.from_public_bytes(public_key)
        )
    except ValueError:  # MultibaseError, CompactSignatureError, or not a 32-byte key
        return False
    # 86 characters carry 4 spare bits; require them zero so each signature has one spelling.
    if b64url_encode(raw_signature) != signature:
        return False
    try:
        key.verify(raw_signature, message)
    except InvalidSignature:
        return False
    return True
