"""Verify a Verifiable Credential, check by check, with no network and no database.

Pure module: everything the verifier needs comes from a :class:`Resolver`. The offline verifier
(``python -m app.verify``) gives it the DID documents and status list files named on the
command line; the service's ``POST /api/v1/verify/credential`` gives it the same documents
built from the register. Both run this code, so they reach the same verdict.

Checks, in order (names and codes are stable; messages are for people):

``well_formed``            the VC 2.0 shape, plus what a brandtrace certificate must carry
``issuer_known``           the issuer's DID document is available (did:key needs none)
``key_valid_when_signed``  the proof's key belongs to the issuer, may assert, is Ed25519, and
                           the proof was created inside the key's window and before any
                           revocation of the key
``signature``              the ``eddsa-jcs-2022`` Data Integrity proof
``validity_window``        now is within ``validFrom`` .. ``validUntil``
``revocation``             the revocation bit in a signed, valid status list is clear
``suspension``             the suspension bit likewise
``standard_version_known`` the standard code, version and content hash are published
``registered``             the certificate is in the issuer's public register, as issued

Each check passes, fails, is skipped (not applicable, or not checkable here, e.g. the register
offline) or is unknown (a needed document is missing). The verdict is ``invalid`` when any
check fails, else ``indeterminate`` when any is unknown, else ``valid``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from app.certificates.dataintegrity import (
    CRYPTOSUITE,
    ErrorCode,
    resolve_did_key,
    verify_proof,
)
from app.certificates.did import find_verification_method, format_instant
from app.certificates.multibase import MultibaseError, decode_ed25519_multikey
from app.certificates.statuslist import STATUS_PURPOSES, Bitstring, StatusListError, check_status
from app.certificates.statuslist import decode as decode_status_list

__all__ = [
    "BRAND_CERTIFICATE_TYPE",
    "CHECK_NAMES",
    "VC_V2_CONTEXT",
    "Check",
    "CheckStatus",
    "OfflineResolver",
    "RegisterAnswer",
    "Report",
    "Resolver",
    "Verdict",
    "Verifier",
    "label_issued_before_revocation",
    "label_key_revoked",
    "signed_after_revocation",
]

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
BRAND_CERTIFICATE_TYPE = "BrandCertificateCredential"
STATUS_LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
# Clocks disagree a little; a proof "created" further in the future than this is refused.
CLOCK_SKEW = timedelta(minutes=5)


def signed_after_revocation(created: datetime, revoked_at: datetime | None) -> bool:
    """Whether a proof created at ``created`` was made by a key revoked from ``revoked_at``
    (at or before the proof): a compromised key's signatures from that instant on are not
    trusted. The one rule of ``key_valid_when_signed``, shared with the register's standing."""
    return revoked_at is not None and created >= revoked_at


def label_key_revoked(revoked_at: datetime | None, now: datetime) -> bool:
    """Whether a label signature by a key revoked from ``revoked_at`` is refused at ``now``.

    Labels carry no signing time, so no signature of a key revoked by now can be told apart
    from one forged after the compromise: the offline verifier and the resolver both refuse
    them all."""
    return revoked_at is not None and revoked_at <= now


def label_issued_before_revocation(revoked_at: datetime, issued_at: datetime | None) -> bool:
    """Whether a label of a key revoked from ``revoked_at`` (refused offline by
    :func:`label_key_revoked`) was, by the register's record, signed before that instant (its
    order was issued then, as the transparency log's ``label_order.issued`` entry attests).
    Only the resolver knows that: the pack is genuine, though the signature printed on it no
    longer checks offline."""
    return issued_at is not None and issued_at < revoked_at


CHECK_NAMES = (
    "well_formed",
    "issuer_known",
    "key_valid_when_signed",
    "signature",
    "validity_window",
    "revocation",
    "suspension",
    "standard_version_known",
    "registered",
)
_DATETIME_STAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})"
)


class CheckStatus(StrEnum):
    PASS = "pass"  # noqa: S105 - a check outcome, not a password
    FAIL = "fail"
    SKIP = "skip"
    UNKNOWN = "unknown"


class Verdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True)
class Check:
    """The outcome of one check: ``code`` names the rule that failed (or why it was skipped)."""

    name: str
    status: CheckStatus
    message: str
    code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "code": self.code,
            "message": self.message,
        }


@dataclass(frozen=True)
class Report:
    """Every check and the overall verdict for one credential."""

    verdict: Verdict
    checks: tuple[Check, ...]
    checked_at: datetime
    credential_id: str | None = None
    issuer: str | None = None
    verification_method: str | None = None

    def check(self, name: str) -> Check:
        return next(check for check in self.checks if check.name == name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "checked_at": self.checked_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "credential_id": self.credential_id,
            "issuer": self.issuer,
            "verification_method": self.verification_method,
            "checks": [check.as_dict() for check in self.checks],
        }


@dataclass(frozen=True)
class RegisterAnswer:
    """What an issuer's register says about a presented certificate."""

    registered: bool
    message: str
    code: str | None = None


class Resolver(Protocol):
    """Where the verifier gets documents. ``None`` means "not available here"."""

    def did_document(self, did: str) -> Mapping[str, Any] | None:
        """The DID document of ``did``, or None when it is not available."""

    def is_authoritative(self, did: str) -> bool:
        """True when a missing document means the DID does not exist (not just unknown)."""

    def status_list(self, url: str) -> Mapping[str, Any] | None:
        """The status list credential published at ``url``, or None."""

    def standard_version(self, code: str, version: str, content_hash: str) -> bool | None:
        """Whether this standard version is published with this hash; None: cannot tell."""

    def register_entry(self, credential: Mapping[str, Any]) -> RegisterAnswer | None:
        """What the issuer's register says about the credential; None: cannot tell."""


@dataclass
class OfflineResolver:
    """A resolver over documents given up front (files, for the offline verifier)."""

    did_documents: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    status_lists: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_documents(
        cls,
        did_documents: Iterable[Mapping[str, Any]] = (),
        status_lists: Iterable[Mapping[str, Any]] = (),
    ) -> OfflineResolver:
        """Index documents by their ``id``."""
        return cls(
            did_documents={str(doc.get("id")): doc for doc in did_documents},
            status_lists={str(doc.get("id")): doc for doc in status_lists},
        )

    def did_document(self, did: str) -> Mapping[str, Any] | None:
        return self.did_documents.get(did)

    def is_authoritative(self, did: str) -> bool:
        return False

    def status_list(self, url: str) -> Mapping[str, Any] | None:
        return self.status_lists.get(url)

    def standard_version(self, code: str, version: str, content_hash: str) -> bool | None:
        return None

    def register_entry(self, credential: Mapping[str, Any]) -> RegisterAnswer | None:
        return None


def _parse_instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _DATETIME_STAMP.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _issuer_id(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) and issuer else None


def _status_entries(credential: Mapping[str, Any]) -> list[Any]:
    entries = credential.get("credentialStatus")
    if entries is None:
        return []
    return entries if isinstance(entries, list) else [entries]


def _subjects(credential: Mapping[str, Any]) -> list[Any]:
    subject = credential.get("credentialSubject")
    return subject if isinstance(subject, list) else [subject]


@dataclass(frozen=True)
class _KeyLookup:
    """A verification method resolved for one proof: the key, or why there is none."""

    check: Check
    public_key: bytes | None


@dataclass(frozen=True)
class _MethodInfo:
    public_key: bytes | None
    problem: tuple[CheckStatus, str, str] | None
    valid_from: datetime | None
    valid_until: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class _ListState:
    """A status list credential, verified once: its bits, or why it cannot be used."""

    bitstring: Bitstring | None
    problem: tuple[CheckStatus, str, str] | None


class Verifier:
    """Verifies credentials against one resolver.

    Resolved verification methods and verified status lists are remembered (keyed by the
    document objects the resolver returned), so verifying many credentials of one issuer
    costs one signature check each, as for a verifier that caches what it fetched.
    """

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self._methods: dict[str, tuple[Mapping[str, Any], _MethodInfo]] = {}
        self._lists: dict[str, tuple[Mapping[str, Any], _ListState]] = {}

    # -- public API ------------------------------------------------------------------------

    def verify(self, credential: Any, *, now: datetime | None = None) -> Report:
        """Run every check on ``credential`` (a parsed JSON value) at ``now`` (default: the
        current time). Never raises for bad input: problems are failed checks."""
        now = now or datetime.now(UTC)
        if not isinstance(credential, Mapping):
            checks = [
                Check(
                    "well_formed",
                    CheckStatus.FAIL,
                    "the credential is not a JSON object",
                    "NOT_AN_OBJECT",
                ),
                *(
                    Check(name, CheckStatus.SKIP, "not checked: the credential is malformed")
                    for name in CHECK_NAMES[1:]
                ),
            ]
            return Report(Verdict.INVALID, tuple(checks), now)
        issuer = _issuer_id(credential)
        proof = credential.get("proof")
        proof = proof if isinstance(proof, Mapping) else {}
        vm = proof.get("verificationMethod")
        vm = vm if isinstance(vm, str) else None
        is_certificate = BRAND_CERTIFICATE_TYPE in _types(credential.get("type"))

        checks = [self._well_formed(credential, is_certificate)]
        issuer_check = self._issuer_known(issuer, vm)
        checks.append(issuer_check)
        key = self._key_for_proof(issuer, proof, now)
        checks.append(key.check)
        checks.append(self._signature(credential, key))
        checks.append(self._validity_window(credential, now))
        for purpose in STATUS_PURPOSES:
            checks.append(self._status(credential, issuer, purpose, now))
        checks.append(self._standard(credential, is_certificate))
        checks.append(self._registered(credential, is_certificate))
        statuses = {check.status for check in checks}
        if CheckStatus.FAIL in statuses:
            verdict = Verdict.INVALID
        elif CheckStatus.UNKNOWN in statuses:
            verdict = Verdict.INDETERMINATE
        else:
            verdict = Verdict.VALID
        credential_id = credential.get("id")
        return Report(
            verdict,
            tuple(checks),
            now,
            credential_id=credential_id if isinstance(credential_id, str) else None,
            issuer=issuer,
            verification_method=vm,
        )

    def verify_json(self, text: str | bytes, *, now: datetime | None = None) -> Report:
        """Parse JSON text and verify it; text that is not JSON fails ``well_formed``."""
        try:
            credential = json.loads(text)
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            # RecursionError: arrays or objects nested deeper than Python's parser goes.
            detail = "nested too deeply" if isinstance(error, RecursionError) else str(error)
            now = now or datetime.now(UTC)
            checks = [
                Check(
                    "well_formed",
                    CheckStatus.FAIL,
                    f"the credential is not valid JSON: {detail}",
                    "MALFORMED_JSON",
                ),
                *(
                    Check(name, CheckStatus.SKIP, "not checked: the credential is malformed")
                    for name in CHECK_NAMES[1:]
                ),
            ]
            return Report(Verdict.INVALID, tuple(checks), now)
        return self.verify(credential, now=now)

    # -- checks ----------------------------------------------------------------------------

    def _well_formed(self, credential: Mapping[str, Any], is_certificate: bool) -> Check:
        def fail(code: str, message: str) -> Check:
            return Check("well_formed", CheckStatus.FAIL, message, code)

        contexts = credential.get("@context")
        if not isinstance(contexts, list) or not contexts or contexts[0] != VC_V2_CONTEXT:
            return fail("INVALID_CONTEXT", f"@context must be a list starting with {VC_V2_CONTEXT}")
        types = credential.get("type")
        if not isinstance(types, list) or "VerifiableCredential" not in types:
            return fail("INVALID_TYPE", "type must be a list that includes VerifiableCredential")
        if _issuer_id(credential) is None:
            return fail("INVALID_ISSUER", "issuer must be a URL or an object with an id")
        subjects = _subjects(credential)
        if not subjects or not all(isinstance(s, Mapping) and s for s in subjects):
            return fail("INVALID_SUBJECT", "credentialSubject must be a non-empty object")
        for name in ("validFrom", "validUntil"):
            if name in credential and _parse_instant(credential[name]) is None:
                return fail("INVALID_DATE", f"{name} is not a dateTimeStamp")
        for entry in _status_entries(credential):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("type"), str):
                return fail("INVALID_STATUS_ENTRY", "each credentialStatus needs a type")
        proof = credential.get("proof")
        if not isinstance(proof, Mapping):
            return fail("MISSING_PROOF", "the credential has no (single) proof object")
        if is_certificate:
            missing = [
                name
                for name in ("id", "validFrom", "validUntil")
                if not isinstance(credential.get(name), str)
            ]
            purposes = {
                entry.get("statusPurpose")
                for entry in _status_entries(credential)
                if isinstance(entry, Mapping) and entry.get("type") == "BitstringStatusListEntry"
            }
            missing += [f"credentialStatus[{p}]" for p in STATUS_PURPOSES if p not in purposes]
            subject = subjects[0]
            missing += [
                f"credentialSubject.{name}"
                for name in ("certificateNumber", "issuedToParty", "referenceStandard", "scope")
                if name not in subject
            ]
            if missing:
                return fail(
                    "INCOMPLETE_CERTIFICATE",
                    "a brand certificate must carry " + ", ".join(missing),
                )
        return Check("well_formed", CheckStatus.PASS, "a VC 2.0 credential with one proof")

    def _issuer_known(self, issuer: str | None, vm: str | None) -> Check:
        name = "issuer_known"
        if issuer is None:
            return Check(name, CheckStatus.FAIL, "the credential names no issuer", "NO_ISSUER")
        if issuer.startswith("did:key:"):
            return Check(name, CheckStatus.PASS, "did:key: the issuer is its own public key")
        if not issuer.startswith("did:"):
            if vm is not None and vm.startswith("did:key:"):
                return Check(
                    name,
                    CheckStatus.SKIP,
                    f"the issuer {issuer} is not a DID; the proof's did:key is checked on its "
                    "own and nobody vouches for the issuer",
                    "ISSUER_NOT_A_DID",
                )
            return Check(
                name,
                CheckStatus.UNKNOWN,
                f"the issuer {issuer} is not a DID this verifier can resolve",
                "ISSUER_UNRESOLVABLE",
            )
        if self.resolver.did_document(issuer) is not None:
            return Check(name, CheckStatus.PASS, f"the DID document of {issuer} is known")
        if self.resolver.is_authoritative(issuer):
            return Check(
                name,
                CheckStatus.FAIL,
                f"{issuer} is not an issuer of this register",
                "ISSUER_UNKNOWN",
            )
        return Check(
            name,
            CheckStatus.UNKNOWN,
            f"no DID document for {issuer} was given",
            "DID_DOCUMENT_UNAVAILABLE",
        )

    def _method_info(self, document: Mapping[str, Any], vm: str) -> _MethodInfo:
        cached = self._methods.get(vm)
        if cached is not None and cached[0] is document:
            return cached[1]
        info = self._read_method(document, vm)
        self._methods[vm] = (document, info)
        return info

    @staticmethod
    def _read_method(document: Mapping[str, Any], vm: str) -> _MethodInfo:
        method, authorised = find_verification_method(document, vm)

        def problem(status: CheckStatus, code: str, message: str) -> _MethodInfo:
            return _MethodInfo(None, (status, code, message), None, None, None)

        if method is None:
            return problem(
                CheckStatus.FAIL, "KEY_NOT_FOUND", f"{vm} is not in the issuer's DID document"
            )
        if not authorised:
            return problem(
                CheckStatus.FAIL,
                "KEY_NOT_AUTHORISED",
                f"{vm} is not listed under assertionMethod in the issuer's DID document",
            )
        if method.get("type") != "Multikey":
            return problem(
                CheckStatus.FAIL,
                "WRONG_KEY_TYPE",
                f"{vm} is a {method.get('type')!r}, not an Ed25519 Multikey",
            )
        try:
            public_key = decode_ed25519_multikey(str(method.get("publicKeyMultibase", "")))
        except MultibaseError as error:
            code = "WRONG_KEY_TYPE" if "multicodec" in str(error) else "MALFORMED_MULTIBASE"
            return problem(CheckStatus.FAIL, code, f"{vm}: {error}")
        window = []
        for name in ("validFrom", "validUntil", "revoked"):
            value = method.get(name)
            instant = _parse_instant(value)
            if value is not None and instant is None:
                return problem(
                    CheckStatus.FAIL, "MALFORMED_KEY_WINDOW", f"{vm}: {name} is not a dateTimeStamp"
                )
            window.append(instant)
        return _MethodInfo(public_key, None, window[0], window[1], window[2])

    def _key_for_proof(
        self, issuer: str | None, proof: Mapping[str, Any], now: datetime
    ) -> _KeyLookup:
        name = "key_valid_when_signed"

        def outcome(status: CheckStatus, message: str, code: str | None = None) -> _KeyLookup:
            return _KeyLookup(Check(name, status, message, code), None)

        vm = proof.get("verificationMethod")
        if not isinstance(vm, str) or not vm:
            return outcome(CheckStatus.FAIL, "the proof names no verification method", "NO_KEY")
        did = vm.split("#", 1)[0]
        if issuer is not None and issuer.startswith("did:") and did != issuer:
            return outcome(
                CheckStatus.FAIL,
                f"the proof's key {vm} does not belong to the issuer {issuer}",
                "KEY_NOT_ISSUERS",
            )
        if did.startswith("did:key:"):
            try:
                public_key = resolve_did_key(vm)
            except MultibaseError as error:
                code = "WRONG_KEY_TYPE" if "multicodec" in str(error) else "MALFORMED_MULTIBASE"
                return outcome(CheckStatus.FAIL, f"{vm}: {error}", code)
            return _KeyLookup(
                Check(name, CheckStatus.PASS, "did:key: an Ed25519 key with no validity window"),
                public_key,
            )
        document = self.resolver.did_document(did)
        if document is None:
            if self.resolver.is_authoritative(did):
                return outcome(CheckStatus.FAIL, f"{did} is not a known issuer", "KEY_NOT_FOUND")
            return outcome(
                CheckStatus.UNKNOWN,
                f"no DID document for {did}: the key cannot be checked",
                "DID_DOCUMENT_UNAVAILABLE",
            )
        info = self._method_info(document, vm)
        if info.problem is not None:
            status, code, message = info.problem
            return outcome(status, message, code)
        created = _parse_instant(proof.get("created"))
        if created is None:
            # Without a creation time, the key's window cannot be applied.
            return _KeyLookup(
                Check(
                    name,
                    CheckStatus.FAIL,
                    "the proof has no valid created time to check against the key's window",
                    "MISSING_CREATED",
                ),
                info.public_key,
            )

        def refused(code: str, message: str) -> _KeyLookup:
            return _KeyLookup(Check(name, CheckStatus.FAIL, message, code), info.public_key)

        stamp = proof["created"]
        if created > now + CLOCK_SKEW:
            return refused(
                "PROOF_IN_FUTURE", f"the proof claims to be created in the future ({stamp})"
            )
        # Instants in messages are spelled as in the DID document, for the reader to compare.
        if info.valid_from is not None and created < info.valid_from:
            return refused(
                "KEY_NOT_YET_VALID",
                f"{vm} was not in use yet at {stamp} "
                f"(valid from {format_instant(info.valid_from)})",
            )
        if info.valid_until is not None and created > info.valid_until:
            return refused(
                "KEY_RETIRED",
                f"{vm} had been retired at {stamp} "
                f"(valid until {format_instant(info.valid_until)})",
            )
        if signed_after_revocation(created, info.revoked_at):
            assert info.revoked_at is not None
            return refused(
                "KEY_REVOKED",
                f"{vm} is revoked from {format_instant(info.revoked_at)} on, and the proof was "
                f"created at {stamp}: signatures from the revocation on are not trusted",
            )
        return _KeyLookup(
            Check(name, CheckStatus.PASS, f"{vm} was valid when the proof was created ({stamp})"),
            info.public_key,
        )

    def _signature(self, credential: Mapping[str, Any], key: _KeyLookup) -> Check:
        name = "signature"
        public_key = key.public_key

        def resolve(_vm: str) -> bytes:
            if public_key is None:
                raise LookupError("no usable key")
            return public_key

        result = verify_proof(credential, resolve, expected_proof_purpose="assertionMethod")
        if result.verified:
            return Check(name, CheckStatus.PASS, f"a valid {CRYPTOSUITE} proof")
        code = result.errors[0][0]
        if code == ErrorCode.KEY_NOT_FOUND:
            status = (
                CheckStatus.UNKNOWN if key.check.status == CheckStatus.UNKNOWN else CheckStatus.FAIL
            )
            return Check(name, status, "no usable key to check the signature with", code.value)
        details = "; ".join(text for _, text in result.errors)
        return Check(name, CheckStatus.FAIL, details, code.value)

    def _validity_window(self, credential: Mapping[str, Any], now: datetime) -> Check:
        name = "validity_window"
        valid_from = _parse_instant(credential.get("validFrom"))
        valid_until = _parse_instant(credential.get("validUntil"))
        if valid_from is None and valid_until is None:
            return Check(name, CheckStatus.SKIP, "the credential has no validity period")
        if valid_from is not None and now < valid_from:
            return Check(
                name,
                CheckStatus.FAIL,
                f"not valid before {credential['validFrom']}",
                "NOT_YET_VALID",
            )
        if valid_until is not None and now >= valid_until:
            return Check(
                name, CheckStatus.FAIL, f"expired at {credential['validUntil']}", "EXPIRED"
            )
        return Check(name, CheckStatus.PASS, "within the validity period")

    def _list_state(
        self, url: str, document: Mapping[str, Any], issuer: str | None, now: datetime
    ) -> _ListState:
        cached = self._lists.get(url)
        if cached is not None and cached[0] is document:
            state = cached[1]
        else:
            state = self._verify_list(document, issuer, now)
            self._lists[url] = (document, state)
        if state.problem is None:
            # The list's own validity period is checked at every use, not only when cached.
            until = _parse_instant(document.get("validUntil"))
            if until is not None and now >= until:
                return _ListState(
                    None,
                    (CheckStatus.FAIL, "STATUS_LIST_EXPIRED", f"the status list {url} expired"),
                )
        if state.problem is None and _issuer_id(document) != issuer:
            return _ListState(
                None,
                (
                    CheckStatus.FAIL,
                    "STATUS_LIST_ISSUER_MISMATCH",
                    f"the status list {url} is not issued by {issuer}",
                ),
            )
        return state

    def _verify_list(
        self, document: Mapping[str, Any], issuer: str | None, now: datetime
    ) -> _ListState:
        url = document.get("id")
        if STATUS_LIST_CREDENTIAL_TYPE not in _types(document.get("type")):
            return _ListState(
                None,
                (
                    CheckStatus.FAIL,
                    "STATUS_LIST_INVALID",
                    f"{url} is not a {STATUS_LIST_CREDENTIAL_TYPE}",
                ),
            )
        proof = document.get("proof")
        key = self._key_for_proof(
            _issuer_id(document), proof if isinstance(proof, Mapping) else {}, now
        )
        if key.check.status != CheckStatus.PASS:
            status = (
                CheckStatus.UNKNOWN if key.check.status == CheckStatus.UNKNOWN else CheckStatus.FAIL
            )
            return _ListState(
                None, (status, "STATUS_LIST_INVALID", f"status list {url}: {key.check.message}")
            )
        signature = self._signature(document, key)
        if signature.status != CheckStatus.PASS:
            return _ListState(
                None,
                (
                    CheckStatus.FAIL,
                    "STATUS_LIST_INVALID",
                    f"status list {url}: {signature.message}",
                ),
            )
        subject = document.get("credentialSubject")
        encoded = subject.get("encodedList") if isinstance(subject, Mapping) else None
        try:
            bitstring = decode_status_list(str(encoded))
        except StatusListError as error:
            return _ListState(
                None, (CheckStatus.FAIL, error.code, f"status list {url}: {error.message}")
            )
        return _ListState(bitstring, None)

    def _status(
        self, credential: Mapping[str, Any], issuer: str | None, purpose: str, now: datetime
    ) -> Check:
        entries = [
            entry
            for entry in _status_entries(credential)
            if isinstance(entry, Mapping)
            and entry.get("type") == "BitstringStatusListEntry"
            and entry.get("statusPurpose") == purpose
        ]
        if not entries:
            return Check(purpose, CheckStatus.SKIP, f"the credential has no {purpose} entry")
        set_code = "REVOKED" if purpose == "revocation" else "SUSPENDED"
        for entry in entries:
            url = entry.get("statusListCredential")
            document = self.resolver.status_list(url) if isinstance(url, str) else None
            if document is None:
                return Check(
                    purpose,
                    CheckStatus.UNKNOWN,
                    f"the {purpose} status list {url} was not given",
                    "STATUS_LIST_UNAVAILABLE",
                )
            state = self._list_state(str(url), document, issuer, now)
            if state.problem is not None:
                status, code, message = state.problem
                return Check(purpose, status, message, code)
            try:
                is_set = check_status(entry, document, bitstring=state.bitstring)
            except StatusListError as error:
                return Check(purpose, CheckStatus.FAIL, error.message, error.code)
            if is_set:
                word = "revoked" if purpose == "revocation" else "suspended"
                return Check(
                    purpose,
                    CheckStatus.FAIL,
                    f"the credential is {word} (bit {entry.get('statusListIndex')} of {url})",
                    set_code,
                )
        return Check(purpose, CheckStatus.PASS, f"not set in the signed {purpose} list")

    def _standard(self, credential: Mapping[str, Any], is_certificate: bool) -> Check:
        name = "standard_version_known"
        subject = _subjects(credential)[0]
        standard = subject.get("referenceStandard") if isinstance(subject, Mapping) else None
        if not is_certificate or not isinstance(standard, Mapping):
            return Check(name, CheckStatus.SKIP, "the credential names no reference standard")
        code, version, digest = (
            standard.get("code"),
            standard.get("version"),
            standard.get("contentHash"),
        )
        if not all(isinstance(value, str) and value for value in (code, version, digest)):
            return Check(
                name,
                CheckStatus.FAIL,
                "referenceStandard needs a code, a version and a contentHash",
                "INCOMPLETE_STANDARD",
            )
        known = self.resolver.standard_version(str(code), str(version), str(digest))
        if known is None:
            return Check(
                name,
                CheckStatus.SKIP,
                f"{code} version {version}: the register of standards is not consulted here",
                "NOT_CHECKED_OFFLINE",
            )
        if not known:
            return Check(
                name,
                CheckStatus.FAIL,
                f"{code} version {version} with content hash {digest} is not a published "
                "standard version",
                "UNKNOWN_STANDARD_VERSION",
            )
        return Check(name, CheckStatus.PASS, f"{code} version {version} is published")

    def _registered(self, credential: Mapping[str, Any], is_certificate: bool) -> Check:
        name = "registered"
        if not is_certificate:
            return Check(name, CheckStatus.SKIP, "not a brand certificate")
        answer = self.resolver.register_entry(credential)
        if answer is None:
            return Check(
                name,
                CheckStatus.SKIP,
                "the public register is not consulted here; look the number up online",
                "NOT_CHECKED_OFFLINE",
            )
        if not answer.registered:
            return Check(name, CheckStatus.FAIL, answer.message, answer.code or "NOT_REGISTERED")
        return Check(name, CheckStatus.PASS, answer.message)
