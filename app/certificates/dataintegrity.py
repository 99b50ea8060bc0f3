"""W3C Data Integrity proofs with the ``eddsa-jcs-2022`` cryptosuite (VC Data Integrity EdDSA 1.0).

Pure module (standard library, ``cryptography``, ``rfc8785``, ``orjson``): the service signs with
it and the offline verifier checks with it, with no network and no database.

The algorithm (spec section "eddsa-jcs-2022"):

1. transformation: ``JCS(document without proof)`` (RFC 8785);
2. proof configuration: ``JCS(proof options)``, where the options are the proof without
   ``proofValue`` and carry the document's ``@context``;
3. hashing: ``SHA-256(canonical proof config) || SHA-256(canonical document)`` (64 bytes);
4. serialisation: Ed25519 signature over those 64 bytes, ``proofValue = "z" + base58btc(sig)``.

Signed documents are written with :func:`serialize_document`, which reproduces the W3C vector
``eddsa-jcs-2022/signedJCS.json`` byte for byte.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.certificates.multibase import (
    MultibaseError,
    decode_ed25519_multikey,
    multibase_decode,
    multibase_encode,
)
from app.timestamps import utc_seconds

__all__ = [
    "CRYPTOSUITE",
    "PROOF_TYPE",
    "DataIntegrityError",
    "ErrorCode",
    "SignedDocument",
    "VerificationResult",
    "add_proof",
    "build_proof_options",
    "format_created",
    "hash_data",
    "jcs",
    "resolve_did_key",
    "serialize_document",
    "sign_canonical_documents",
    "sign_document",
    "sign_documents",
    "verify_proof",
]

CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_TYPE = "DataIntegrityProof"
_SIGNATURE_LEN = 64

# XML Schema dateTimeStamp: a dateTime that must carry a time zone.
_DATETIME_STAMP_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})"
)


class DataIntegrityError(ValueError):
    """A proof cannot be created (the spec's PROOF_GENERATION_ERROR): bad document or options."""


class ErrorCode(StrEnum):
    """Stable codes reported by :func:`verify_proof`; values never change once published."""

    MALFORMED_DOCUMENT = "MALFORMED_DOCUMENT"
    MALFORMED_PROOF = "MALFORMED_PROOF"
    UNSUPPORTED_PROOF_TYPE = "UNSUPPORTED_PROOF_TYPE"
    UNKNOWN_CRYPTOSUITE = "UNKNOWN_CRYPTOSUITE"
    CONTEXT_MISMATCH = "CONTEXT_MISMATCH"
    PROOF_PURPOSE_MISMATCH = "PROOF_PURPOSE_MISMATCH"
    MALFORMED_MULTIBASE = "MALFORMED_MULTIBASE"
    KEY_NOT_FOUND = "KEY_NOT_FOUND"
    INVALID_KEY = "INVALID_KEY"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"


@dataclass(frozen=True)
class VerificationResult:
    """Outcome of :func:`verify_proof`.

    ``verified`` is true only when ``errors`` is empty. ``errors`` holds ``(code, message)`` pairs;
    the code is an :class:`ErrorCode` (a ``str``), the message is for humans and may change.
    ``verification_method`` and ``created`` echo the proof when they were strings.
    """

    verified: bool
    errors: tuple[tuple[ErrorCode, str], ...]
    verification_method: str | None
    created: str | None

    @property
    def codes(self) -> tuple[ErrorCode, ...]:
        """Just the error codes, in the order found."""
        return tuple(code for code, _ in self.errors)


_JCS_INT_MAX = 2**53 - 1
# Below the surrogate range, sorting keys by code point (Python) and by UTF-16 code unit
# (RFC 8785) agree, and no lone surrogate can be present.
_UNSAFE_CHARS = re.compile("[\ud800-\U0010ffff]")
# UTF-8 bytes of characters below U+E000: a canonical form made only of these (orjson refuses
# lone surrogates) needs no UTF-16 key ordering. Deleting them is faster than a regex search.
_BELOW_E000_BYTES = bytes(range(0xEE))


def _plain_json(value: Any) -> bool:
    """True when ``value`` holds only exact ``dict``/``list``/``str``/``bool``/``None`` and
    integers within JCS's range: then JSON with sorted keys is byte-identical to JCS except for
    key ordering and surrogates beyond U+D7FF, which :func:`jcs` checks separately."""
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is dict:
            for key in item:
                if type(key) is not str:
                    return False
            extend(item.values())
        elif kind is list:
            extend(item)
        elif kind is int:
            if not -_JCS_INT_MAX <= item <= _JCS_INT_MAX:
                return False
        else:
            # Floats need ECMAScript number formatting; subclasses (enums) may print
            # differently: leave both to the reference implementation.
            return False
    return True


def jcs(obj: Any) -> bytes:
    """RFC 8785 (JCS) canonical UTF-8 bytes of a JSON value.

    Documents made of strings, integers, booleans and null (every credential this service
    signs) take a fast path through ``orjson`` with sorted keys, whose escaping, separators and
    integers are JCS's (or, past what ``orjson`` encodes, the standard library's C encoder);
    anything else (floats, characters from U+D800 up, big integers, non-JSON types) goes
    through the ``rfc8785`` reference implementation. All give the same bytes (tested against
    each other and the W3C vectors).

    Raises ``rfc8785.CanonicalizationError`` (a ``ValueError``) for values JSON cannot carry
    exactly: NaN/infinity, integers beyond 2**53, non-string keys, non-JSON types.
    """
    if _plain_json(obj):
        try:
            canonical = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            # A lone surrogate, or nesting deeper than orjson goes: the standard library encodes.
            text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
            if _UNSAFE_CHARS.search(text) is None:
                return text.encode("utf-8")
        else:
            if not canonical.translate(None, _BELOW_E000_BYTES):
                return canonical
    return rfc8785.dumps(obj)


def serialize_document(document: Mapping[str, Any]) -> str:
    """Pretty JSON exactly as the W3C vectors are written.

    Two-space indent, keys in insertion order, non-ASCII kept as is, no trailing newline:
    ``json.dumps(document, indent=2, ensure_ascii=False)``. Write it as UTF-8.
    """
    return json.dumps(document, indent=2, ensure_ascii=False)


def format_created(moment: datetime) -> str:
    """A proof ``created`` value: UTC, whole seconds, ``Z`` suffix (``2023-02-24T23:36:38Z``)."""
    if moment.tzinfo is None:
        # A naive datetime has no defined instant; refuse rather than guess the zone.
        raise DataIntegrityError("created must be a timezone-aware datetime")
    utc = moment.astimezone(UTC)
    if utc.year < 1000:  # strftime leaves such years unpadded; keep its spelling
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return utc_seconds(utc, "T") + "Z"


def _is_datetime_stamp(value: str) -> bool:
    if not _DATETIME_STAMP_RE.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def build_proof_options(
    document: Mapping[str, Any],
    *,
    verification_method: str,
    created: str | None,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Proof options (the proof without ``proofValue``) in the key order of the W3C vector.

    The document's ``@context``, when present, is copied in: the spec binds the proof to the
    contexts the document was signed under.
    """
    if created is not None and not _is_datetime_stamp(created):
        raise DataIntegrityError(f"created {created!r} is not an XML Schema dateTimeStamp")
    if not verification_method:
        raise DataIntegrityError("verification_method is required")
    if not proof_purpose:
        raise DataIntegrityError("proof_purpose is required")
    options: dict[str, Any] = {"type": PROOF_TYPE, "cryptosuite": CRYPTOSUITE}
    if created is not None:
        options["created"] = created
    options["verificationMethod"] = verification_method
    options["proofPurpose"] = proof_purpose
    if "@context" in document:
        context = document["@context"]
        # A list of context URLs (the usual case) is copied cheaply; anything else deeply.
        plain = isinstance(context, list) and all(type(item) is str for item in context)
        options["@context"] = list(context) if plain else copy.deepcopy(context)
    return options


def hash_data(document: Mapping[str, Any], proof_options: Mapping[str, Any]) -> bytes:
    """The 64 bytes that are signed: SHA-256(JCS(proof options)) || SHA-256(JCS(document)).

    ``document`` must not contain ``proof``; ``proof_options`` must not contain ``proofValue``.
    """
    return hashlib.sha256(jcs(proof_options)).digest() + hashlib.sha256(jcs(document)).digest()


@dataclass(frozen=True)
class SignedDocument:
    """A document with its new proof, and one serialisation of it.

    ``text`` is the RFC 8785 form of the unsecured document (computed anyway to sign it) with
    the proof, in RFC 8785 form too, appended as the last member: valid JSON that parses back
    to ``document``, produced without serialising the document a second time.
    """

    document: dict[str, Any]
    text: bytes


def _string_list(value: Any) -> list[str] | None:
    if type(value) is list and all(type(item) is str for item in value):
        return value
    return None


class _ProofTemplate:
    """What every document signed with the same options and ``@context`` shares: the proof
    options, the hash of their canonical form, and the canonical proof around its value."""

    def __init__(
        self,
        document: Mapping[str, Any],
        *,
        verification_method: str,
        created: str | None,
        proof_purpose: str,
    ) -> None:
        context = _string_list(document.get("@context"))
        self.context = None if context is None else list(context)
        self.options = build_proof_options(
            document,
            verification_method=verification_method,
            created=created,
            proof_purpose=proof_purpose,
        )
        try:
            canonical_options = jcs(self.options)
            # proofValue is base58btc: nothing in it is escaped, so the canonical proof is this
            # one with the value written between the quotes (its key's place is its own).
            head, member, tail = jcs({**self.options, "proofValue": ""}).partition(
                b'"proofValue":""'
            )
        except rfc8785.CanonicalizationError as exc:
            raise DataIntegrityError(f"document cannot be canonicalised: {exc}") from exc
        self.options_hash = hashlib.sha256(canonical_options).digest()
        self.head = head + b'"proofValue":"'
        self.tail = b'"' + tail
        # Only a context of its own could hold the same bytes; then canonicalise each proof.
        self.spliceable = bool(member) and member not in tail

    def fits(self, document: Mapping[str, Any]) -> bool:
        """Whether ``document`` gets the same options: both contexts are the same list of
        strings (anything else gets a template of its own)."""
        return self.context is not None and _string_list(document.get("@context")) == self.context

    def sign(self, document: Mapping[str, Any], private_key: Ed25519PrivateKey) -> SignedDocument:
        if "proof" in document:
            # Proof sets and chains are out of scope; silently replacing a proof would lose it.
            raise DataIntegrityError("document already has a proof")
        try:
            canonical = jcs(document)
        except rfc8785.CanonicalizationError as exc:
            raise DataIntegrityError(f"document cannot be canonicalised: {exc}") from exc
        text, proof_value = self.sign_canonical(canonical, private_key)
        return SignedDocument(
            {**document, "proof": {**self.options, "proofValue": proof_value}}, text
        )

    def sign_canonical(self, canonical: bytes, private_key: Ed25519PrivateKey) -> tuple[bytes, str]:
        """Sign a document given as its canonical bytes; returns (text, proofValue)."""
        signature = private_key.sign(self.options_hash + hashlib.sha256(canonical).digest())
        proof_value = multibase_encode(signature, "z")
        if self.spliceable:
            canonical_proof = self.head + proof_value.encode("ascii") + self.tail
        else:
            canonical_proof = jcs({**self.options, "proofValue": proof_value})
        separator = b"," if len(canonical) > 2 else b""
        text = b"".join((memoryview(canonical)[:-1], separator, b'"proof":', canonical_proof, b"}"))
        return text, proof_value


def sign_document(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    *,
    verification_method: str,
    created: str | None,
    proof_purpose: str = "assertionMethod",
) -> SignedDocument:
    """Sign a freshly built document (``eddsa-jcs-2022``) without copying it.

    Same proof as :func:`add_proof`, for issuers that build each document themselves and sign
    many: the input is not modified, but the result shares its nested values, so neither may
    be mutated afterwards. Raises :class:`DataIntegrityError` like :func:`add_proof`.
    """
    if "proof" in document:
        raise DataIntegrityError("document already has a proof")
    template = _ProofTemplate(
        document,
        verification_method=verification_method,
        created=created,
        proof_purpose=proof_purpose,
    )
    return template.sign(document, private_key)


def sign_documents(
    documents: Iterable[Mapping[str, Any]],
    private_key: Ed25519PrivateKey,
    *,
    verification_method: str,
    created: str | None,
    proof_purpose: str = "assertionMethod",
) -> Iterator[SignedDocument]:
    """:func:`sign_document` for many documents signed with the same key and options.

    Yields, for each document in turn, exactly what :func:`sign_document` gives for it; the
    proof options (which depend only on the arguments and the document's ``@context``) are
    built and canonicalised once per run of documents sharing a context instead of once per
    document. Lazy both ways: fed a generator and consumed as it goes, only one document is
    alive at a time.
    """
    template: _ProofTemplate | None = None
    for document in documents:
        if "proof" in document:
            raise DataIntegrityError("document already has a proof")
        if template is None or not template.fits(document):
            template = _ProofTemplate(
                document,
                verification_method=verification_method,
                created=created,
                proof_purpose=proof_purpose,
            )
        yield template.sign(document, private_key)


def sign_canonical_documents(
    canonicals: Iterable[bytes],
    private_key: Ed25519PrivateKey,
    *,
    context: list[str],
    verification_method: str,
    created: str | None,
    proof_purpose: str = "assertionMethod",
) -> Iterator[tuple[bytes, str]]:
    """:func:`sign_documents` for issuers that write each document's RFC 8785 form themselves,
    typically by filling values into one template canonicalised once with :func:`jcs`.

    Each item must be the JCS bytes of a document without a proof whose ``@context`` is
    ``context`` (the caller vouches for both: nothing is parsed here). Yields ``(text,
    proofValue)`` per document, ``text`` being what :func:`sign_documents` gives for the parsed
    document, byte for byte.
    """
    template = _ProofTemplate(
        {"@context": context},
        verification_method=verification_method,
        created=created,
        proof_purpose=proof_purpose,
    )
    for canonical in canonicals:
        yield template.sign_canonical(canonical, private_key)


def add_proof(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    *,
    verification_method: str,
    created: str | None,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Return a new document with an ``eddsa-jcs-2022`` proof; the input is left untouched.

    ``created`` is included when given (use :func:`format_created`); ``None`` omits it, which the
    spec allows. Raises :class:`DataIntegrityError` if the document already has a proof or
    cannot be canonicalised.
    """
    if "proof" in document:
        raise DataIntegrityError("document already has a proof")
    return sign_document(
        copy.deepcopy(dict(document)),
        private_key,
        verification_method=verification_method,
        created=created,
        proof_purpose=proof_purpose,
    ).document


def resolve_did_key(verification_method: str) -> bytes:
    """Raw Ed25519 public key of a ``did:key:z6Mk...#z6Mk...`` verification method, offline.

    Raises ``LookupError`` for anything that is not a did:key, and
    :class:`~app.certificates.multibase.MultibaseError` (a ``ValueError``) for a malformed or
    non-Ed25519 key. Usable directly as the ``resolve_key`` argument of :func:`verify_proof`.
    """
    did, _, fragment = verification_method.partition("#")
    if not did.startswith("did:key:"):
        raise LookupError(f"{verification_method!r} is not a did:key verification method")
    multikey = did.removeprefix("did:key:")
    if fragment and fragment != multikey:
        raise MultibaseError("did:key fragment must repeat the method-specific identifier")
    return decode_ed25519_multikey(multikey)


def _context_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def verify_proof(
    document_with_proof: Mapping[str, Any],
    resolve_key: Callable[[str], bytes],
    *,
    expected_proof_purpose: str | None = None,
) -> VerificationResult:
    """Verify the document's single ``eddsa-jcs-2022`` proof; never raises for bad input.

    ``resolve_key(verification_method)`` returns the raw 32-byte Ed25519 public key; it signals
    an unknown method with ``LookupError`` (-> ``KEY_NOT_FOUND``) and an unusable key with
    ``ValueError`` (-> ``INVALID_KEY``). Other exceptions are bugs and propagate.
    With ``expected_proof_purpose``, a different ``proofPurpose`` is an error.
    """
    errors: list[tuple[ErrorCode, str]] = []

    def result(vm: str | None = None, created: str | None = None) -> VerificationResult:
        return VerificationResult(not errors, tuple(errors), vm, created)

    if not isinstance(document_with_proof, Mapping):
        errors.append((ErrorCode.MALFORMED_DOCUMENT, "document is not a JSON object"))
        return result()
    proof = document_with_proof.get("proof")
    if isinstance(proof, list):
        errors.append(
            (ErrorCode.MALFORMED_PROOF, "proof sets (a list of proofs) are not supported")
        )
        return result()
    if not isinstance(proof, Mapping):
        errors.append((ErrorCode.MALFORMED_PROOF, "document has no proof object"))
        return result()

    vm = proof.get("verificationMethod")
    vm = vm if isinstance(vm, str) else None
    created = proof.get("created")
    created_str = created if isinstance(created, str) else None

    if proof.get("type") != PROOF_TYPE:
        errors.append(
            (
                ErrorCode.UNSUPPORTED_PROOF_TYPE,
                f"proof type {proof.get('type')!r} is not {PROOF_TYPE}",
            )
        )
    if proof.get("cryptosuite") != CRYPTOSUITE:
        errors.append(
            (
                ErrorCode.UNKNOWN_CRYPTOSUITE,
                f"cryptosuite {proof.get('cryptosuite')!r} is not {CRYPTOSUITE}",
            )
        )
    if not vm:
        errors.append(
            (ErrorCode.MALFORMED_PROOF, "proof.verificationMethod missing or not a string")
        )
    purpose = proof.get("proofPurpose")
    if not isinstance(purpose, str) or not purpose:
        errors.append((ErrorCode.MALFORMED_PROOF, "proof.proofPurpose missing or not a string"))
    elif expected_proof_purpose is not None and purpose != expected_proof_purpose:
        errors.append(
            (
                ErrorCode.PROOF_PURPOSE_MISMATCH,
                f"proofPurpose {purpose!r} is not {expected_proof_purpose!r}",
            )
        )
    if created is not None and (created_str is None or not _is_datetime_stamp(created_str)):
        errors.append(
            (ErrorCode.MALFORMED_PROOF, f"proof.created {created!r} is not a dateTimeStamp")
        )

    unsecured = {k: v for k, v in document_with_proof.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in options:
        # Spec: the document's @context must start with the proof's contexts, in order; the
        # proof's contexts are then what was signed.
        proof_ctx = _context_list(options["@context"])
        doc_ctx = _context_list(unsecured.get("@context", []))
        if doc_ctx[: len(proof_ctx)] != proof_ctx:
            errors.append(
                (ErrorCode.CONTEXT_MISMATCH, "document @context does not start with the proof's")
            )
        unsecured["@context"] = options["@context"]

    signature = b""
    proof_value = proof.get("proofValue")
    if not isinstance(proof_value, str):
        errors.append((ErrorCode.MALFORMED_PROOF, "proof.proofValue missing or not a string"))
    else:
        try:
            signature = multibase_decode(proof_value, expect="z")
        except MultibaseError as exc:
            errors.append((ErrorCode.MALFORMED_MULTIBASE, f"proofValue: {exc}"))
        else:
            if len(signature) != _SIGNATURE_LEN:
                errors.append(
                    (
                        ErrorCode.MALFORMED_PROOF,
                        f"proofValue must hold a 64-byte signature, got {len(signature)} bytes",
                    )
                )

    to_verify = b""
    try:
        to_verify = hash_data(unsecured, options)
    except rfc8785.CanonicalizationError as exc:
        errors.append((ErrorCode.MALFORMED_DOCUMENT, f"cannot canonicalise: {exc}"))
    if errors or vm is None:
        return result(vm, created_str)

    try:
        raw_key = resolve_key(vm)
        public_key = Ed25519PublicKey.from_public_bytes(raw_key)
    except LookupError as exc:
        errors.append((ErrorCode.KEY_NOT_FOUND, f"{vm}: {exc}"))
        return result(vm, created_str)
    except ValueError as exc:
        errors.append((ErrorCode.INVALID_KEY, f"{vm}: not an Ed25519 public key: {exc}"))
        return result(vm, created_str)

    try:
        public_key.verify(signature, to_verify)
    except InvalidSignature:
        errors.append((ErrorCode.INVALID_SIGNATURE, "signature does not match document and proof"))
    return result(vm, created_str)
