"""The pure verifier, check by check, with documents built in the test (no database)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.certificates.dataintegrity import add_proof, format_created
from app.certificates.did import IssuerKeyInfo, build_did_document, find_verification_method
from app.certificates.multibase import encode_ed25519_multikey
from app.certificates.statuslist import (
    Bitstring,
    build_status_list_credential,
    build_status_list_entry,
)
from app.certificates.verifier import OfflineResolver, Verifier

DID = "did:web:issuer.example:orgs:tea"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=10)
REVOCATION = "https://issuer.example/orgs/tea/status/revocation/1"
SUSPENSION = "https://issuer.example/orgs/tea/status/suspension/1"


class Issuer:
    """A small issuer: keys with windows, two status lists, and a signer."""

    def __init__(self) -> None:
        self.keys = [Ed25519PrivateKey.generate()]
        self.infos = [self._info(0, T0)]
        self.bits = {REVOCATION: Bitstring(), SUSPENSION: Bitstring()}

    def _info(self, position: int, valid_from: datetime, **extra: Any) -> IssuerKeyInfo:
        public = self.keys[position].public_key().public_bytes_raw()
        return IssuerKeyInfo(
            f"key-{position + 1}", encode_ed25519_multikey(public), valid_from, **extra
        )

    def did_document(self) -> dict[str, Any]:
        return build_did_document(DID, self.infos)

    def sign(self, document: dict[str, Any], *, key: int = 0, at: datetime = T0) -> dict[str, Any]:
        return add_proof(
            document,
            self.keys[key],
            verification_method=f"{DID}#key-{key + 1}",
            created=format_created(at),
        )

    def status_list(self, url: str, *, at: datetime = T0, key: int = 0) -> dict[str, Any]:
        purpose = "revocation" if "revocation" in url else "suspension"
        return self.sign(
            build_status_list_credential(
                list_url=url,
                issuer=DID,
                status_purpose=purpose,
                encoded_list=self.bits[url].encode(),
                valid_from=format_created(at),
            ),
            key=key,
            at=at,
        )

    def credential(self, *, key: int = 0, at: datetime = T0) -> dict[str, Any]:
        return self.sign(
            {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "id": "https://issuer.example/certificates/X-1",
                "type": ["VerifiableCredential", "BrandCertificateCredential"],
                "issuer": {"id": DID, "name": "Tea association"},
                "validFrom": format_created(T0),
                "validUntil": format_created(T0 + timedelta(days=365)),
                "credentialSubject": {
                    "certificateNumber": "X-1",
                    "issuedToParty": {"name": "Firm"},
                    "referenceStandard": {"code": "S", "version": "1", "contentHash": "ab" * 32},
                    "scope": {"products": []},
                },
                "credentialStatus": [
                    build_status_list_entry(
                        list_url=REVOCATION, index=7, status_purpose="revocation"
                    ),
                    build_status_list_entry(
                        list_url=SUSPENSION, index=9, status_purpose="suspension"
                    ),
                ],
            },
            key=key,
            at=at,
        )

    def verifier(self, **lists: dict[str, Any]) -> Verifier:
        documents = lists or {
            REVOCATION: self.status_list(REVOCATION),
            SUSPENSION: self.status_list(SUSPENSION),
        }
        return Verifier(
            OfflineResolver.from_documents([self.did_document()], list(documents.values()))
        )


def _codes(report: Any) -> dict[str, tuple[str, str | None]]:
    return {check.name: (check.status.value, check.code) for check in report.checks}


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


def test_a_valid_certificate(issuer: Issuer) -> None:
    report = issuer.verifier().verify(issuer.credential(), now=NOW)
    assert report.verdict == "valid", report
    codes = _codes(report)
    assert codes["registered"] == ("skip", "NOT_CHECKED_OFFLINE")
    assert [c.name for c in report.checks][:4] == [
        "well_formed",
        "issuer_known",
        "key_valid_when_signed",
        "signature",
    ]


def test_set_bits_mean_revoked_or_suspended(issuer: Issuer) -> None:
    issuer.bits[SUSPENSION].set(9, True)
    report = issuer.verifier().verify(issuer.credential(), now=NOW)
    assert _codes(report)["suspension"] == ("fail", "SUSPENDED")
    issuer.bits[REVOCATION].set(7, True)
    report = issuer.verifier().verify(issuer.credential(), now=NOW)
    assert _codes(report)["revocation"] == ("fail", "REVOKED")


def test_status_errors_read_without_their_code_twice(issuer: Issuer) -> None:
    # The code is shown apart ([RANGE_ERROR]); the message is for the inspector.
    credential = issuer.credential()
    del credential["proof"]
    credential["credentialStatus"][0]["statusListIndex"] = "9" * 20
    report = issuer.verifier().verify(issuer.sign(credential), now=NOW)
    check = report.check("revocation")
    assert (check.status, check.code) == ("fail", "RANGE_ERROR")
    assert check.message == f"statusListIndex {'9' * 20!r} is not a decimal of at most 15 digits"
    broken = issuer.status_list(REVOCATION)
    broken["credentialSubject"]["encodedList"] = "uAAAA"
    del broken["proof"]
    lists = {REVOCATION: issuer.sign(broken), SUSPENSION: issuer.status_list(SUSPENSION)}
    check = issuer.verifier(**lists).verify(issuer.credential(), now=NOW).check("revocation")
    assert check.code == "STATUS_LIST_DECODING_ERROR"
    assert check.message.startswith(f"status list {REVOCATION}: ")
    assert "ERROR" not in check.message


def test_key_windows(issuer: Issuer) -> None:
    issuer.keys.append(Ed25519PrivateKey.generate())
    rotation = T0 + timedelta(days=5)
    issuer.infos = [
        issuer._info(0, T0, valid_until=rotation),
        issuer._info(1, rotation),
    ]
    verifier = issuer.verifier()
    assert verifier.verify(issuer.credential(at=rotation), now=NOW).verdict == "valid"
    late = verifier.verify(issuer.credential(at=rotation + timedelta(seconds=1)), now=NOW)
    assert _codes(late)["key_valid_when_signed"] == ("fail", "KEY_RETIRED")
    # The instants are spelled as in the DID document the inspector holds.
    assert "valid until 2026-01-06T00:00:00Z" in late.check("key_valid_when_signed").message
    early = verifier.verify(issuer.credential(key=1, at=T0), now=NOW)
    assert _codes(early)["key_valid_when_signed"] == ("fail", "KEY_NOT_YET_VALID")
    assert "valid from 2026-01-06T00:00:00Z" in early.check("key_valid_when_signed").message
    future = verifier.verify(issuer.credential(key=1, at=NOW + timedelta(hours=1)), now=NOW)
    assert _codes(future)["key_valid_when_signed"] == ("fail", "PROOF_IN_FUTURE")


def test_revocation_of_a_key_is_from_an_instant(issuer: Issuer) -> None:
    revoked = T0 + timedelta(days=2)
    issuer.infos = [issuer._info(0, T0, revoked_at=revoked)]
    verifier = issuer.verifier()
    assert (
        verifier.verify(issuer.credential(at=revoked - timedelta(seconds=1)), now=NOW).verdict
        == "valid"
    )
    at_revocation = verifier.verify(issuer.credential(at=revoked), now=NOW)
    assert _codes(at_revocation)["key_valid_when_signed"] == ("fail", "KEY_REVOKED")
    assert _codes(at_revocation)["signature"] == ("pass", None)
    # Signed at the very instant of revocation: not "revoked before the proof".
    message = at_revocation.check("key_valid_when_signed").message
    assert "revoked from 2026-01-03T00:00:00Z on" in message
    assert "before the proof" not in message


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda m: m.update(type="JsonWebKey"), "WRONG_KEY_TYPE"),
        (
            lambda m: m.update(
                publicKeyMultibase="zQ3sgkxA1r9UUKeDtF6gRP5t3pbNSemByHZ3XvvkoJLg8DUrj"
            ),
            "WRONG_KEY_TYPE",
        ),
        (lambda m: m.update(publicKeyMultibase="z6Mk0OIl"), "MALFORMED_MULTIBASE"),
        (lambda m: m.update(validFrom="soon"), "MALFORMED_KEY_WINDOW"),
    ],
)
def test_bad_verification_methods(issuer: Issuer, change: Any, code: str) -> None:
    document = issuer.did_document()
    change(document["verificationMethod"][0])
    verifier = Verifier(OfflineResolver.from_documents([document]))
    report = verifier.verify(issuer.credential(), now=NOW)
    assert report.verdict == "invalid"
    assert _codes(report)["key_valid_when_signed"] == ("fail", code)


def test_a_key_not_authorised_for_assertions_is_refused(issuer: Issuer) -> None:
    document = issuer.did_document()
    document["assertionMethod"] = []
    report = Verifier(OfflineResolver.from_documents([document])).verify(
        issuer.credential(), now=NOW
    )
    assert _codes(report)["key_valid_when_signed"] == ("fail", "KEY_NOT_AUTHORISED")


def test_relative_and_embedded_verification_methods_are_found(issuer: Issuer) -> None:
    document = issuer.did_document()
    method = document["verificationMethod"][0]
    document["assertionMethod"] = ["#key-1"]
    assert find_verification_method(document, method["id"]) == (method, True)
    document["verificationMethod"] = []
    document["assertionMethod"] = [method]
    assert find_verification_method(document, method["id"]) == (method, True)


def test_missing_documents_make_the_verdict_indeterminate(issuer: Issuer) -> None:
    credential = issuer.credential()
    nothing = Verifier(OfflineResolver()).verify(credential, now=NOW)
    assert nothing.verdict == "indeterminate"
    codes = _codes(nothing)
    assert codes["issuer_known"] == ("unknown", "DID_DOCUMENT_UNAVAILABLE")
    assert codes["signature"] == ("unknown", "KEY_NOT_FOUND")
    no_lists = Verifier(OfflineResolver.from_documents([issuer.did_document()])).verify(
        credential, now=NOW
    )
    assert no_lists.verdict == "indeterminate"
    assert _codes(no_lists)["revocation"] == ("unknown", "STATUS_LIST_UNAVAILABLE")


def test_status_lists_must_be_signed_by_the_issuer_and_current(issuer: Issuer) -> None:
    credential = issuer.credential()
    tampered = issuer.status_list(REVOCATION)
    bits = Bitstring()
    bits.set(1, True)
    tampered["credentialSubject"]["encodedList"] = bits.encode()
    report = issuer.verifier(
        **{REVOCATION: tampered, SUSPENSION: issuer.status_list(SUSPENSION)}
    ).verify(credential, now=NOW)
    assert _codes(report)["revocation"] == ("fail", "STATUS_LIST_INVALID")

    stranger = copy.deepcopy(issuer.status_list(SUSPENSION))
    stranger["issuer"] = "did:web:other.example"
    report = issuer.verifier(
        **{REVOCATION: issuer.status_list(REVOCATION), SUSPENSION: stranger}
    ).verify(credential, now=NOW)
    assert _codes(report)["suspension"][0] == "fail"

    expiring = issuer.status_list(REVOCATION)
    del expiring["proof"]
    expiring["validUntil"] = format_created(T0 + timedelta(days=1))
    expiring = issuer.sign(expiring)
    report = issuer.verifier(
        **{REVOCATION: expiring, SUSPENSION: issuer.status_list(SUSPENSION)}
    ).verify(credential, now=NOW)
    assert _codes(report)["revocation"] == ("fail", "STATUS_LIST_EXPIRED")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            lambda d: d.update({"@context": ["https://www.w3.org/2018/credentials/v1"]}),
            "INVALID_CONTEXT",
        ),
        (lambda d: d.update(type=["BrandCertificateCredential"]), "INVALID_TYPE"),
        (lambda d: d.update(issuer=42), "INVALID_ISSUER"),
        (lambda d: d.update(credentialSubject={}), "INVALID_SUBJECT"),
        (lambda d: d.update(validUntil="2026-13-01T00:00:00Z"), "INVALID_DATE"),
        (lambda d: d.update(credentialStatus=["x"]), "INVALID_STATUS_ENTRY"),
        (lambda d: d.pop("proof"), "MISSING_PROOF"),
        (lambda d: d["credentialSubject"].pop("certificateNumber"), "INCOMPLETE_CERTIFICATE"),
        (lambda d: d["credentialStatus"].pop(), "INCOMPLETE_CERTIFICATE"),
    ],
)
def test_malformed_credentials(issuer: Issuer, change: Any, code: str) -> None:
    credential = issuer.credential()
    change(credential)
    report = issuer.verifier().verify(credential, now=NOW)
    assert report.verdict == "invalid"
    assert _codes(report)["well_formed"] == ("fail", code)


def test_validity_window_is_checked_against_now(issuer: Issuer) -> None:
    verifier = issuer.verifier()
    credential = issuer.credential()
    assert _codes(verifier.verify(credential, now=T0 - timedelta(days=1)))["validity_window"] == (
        "fail",
        "NOT_YET_VALID",
    )
    assert _codes(verifier.verify(credential, now=T0 + timedelta(days=400)))["validity_window"] == (
        "fail",
        "EXPIRED",
    )


def test_non_objects_and_non_json_never_raise(issuer: Issuer) -> None:
    verifier = issuer.verifier()
    assert _codes(verifier.verify([1, 2]))["well_formed"] == ("fail", "NOT_AN_OBJECT")
    assert _codes(verifier.verify_json(b'{"a":'))["well_formed"] == ("fail", "MALFORMED_JSON")
    assert _codes(verifier.verify_json(b"\xff\xfe"))["well_formed"] == ("fail", "MALFORMED_JSON")
    # Nested deeper than Python's JSON parser goes: refused, not a RecursionError.
    nested = verifier.verify_json(b"[" * 100_000 + b"]" * 100_000)
    assert _codes(nested)["well_formed"] == ("fail", "MALFORMED_JSON")


def test_the_issuer_must_control_the_key(issuer: Issuer) -> None:
    credential = issuer.credential()
    credential["issuer"] = {"id": "did:web:issuer.example:orgs:other"}
    report = issuer.verifier().verify(credential, now=NOW)
    assert _codes(report)["key_valid_when_signed"] == ("fail", "KEY_NOT_ISSUERS")


def test_lists_are_verified_once_per_verifier(issuer: Issuer) -> None:
    verifier = issuer.verifier()
    for _ in range(3):
        assert verifier.verify(issuer.credential(), now=NOW).verdict == "valid"
    assert len(verifier._lists) == 2
