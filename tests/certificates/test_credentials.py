"""The credential writer: the RFC 8785 form it writes directly is, byte for byte, the reference
canonicalisation of the credential it describes, and signs as that credential does."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.auth.models import Organisation, OrgKind
from app.certificates.credentials import (
    AssessmentRef,
    BrandRef,
    CertificateFacts,
    CredentialParts,
    CredentialWriter,
    Site,
    StandardRef,
)
from app.certificates.dataintegrity import (
    format_created,
    sign_canonical_documents,
    sign_document,
    verify_proof,
)
from app.certificates.statuslist import build_status_list_entry

BASE = "https://brand.example.test"
DID = "did:web:brand.example.test:orgs:qimen-tea-association"
# What JCS writes specially: escapes, characters past the BMP and from U+E000 (whose UTF-16
# order differs from code point order), separators JSON leaves as they are.
TRICKY = [
    "祁门红香茶业有限公司",
    'quote " backslash \\ slash /',
    "controls \x00\x01\x08\t\n\x0b\x0c\r\x1f end",
    "del \x7f line separators \u2028\u2029",
    "private use \ue000\uffff",
    "astral \U0001f375 😀",
    "é combining e\u0301",
    "",
]


def _organisation(identifier: int, name: str, *, registration: str | None) -> Organisation:
    return Organisation(
        id=identifier,
        kind=OrgKind.ENTERPRISE,
        slug=f"org-{identifier}",
        name_zh=name,
        name_en=f"{name} (en)",
        registration_number=registration,
        registration_scheme="uscc" if registration else None,
    )


def _facts(draw: random.Random, text: str, **changes: Any) -> CertificateFacts:
    start = datetime(2026, 11, 28, 13, 43, 8, 662689, tzinfo=timezone(timedelta(hours=8)))
    facts = CertificateFacts(
        firm_id=2,
        brand_id=1,
        decision_id=1,
        standard_version_id=1,
        standard=StandardRef(
            code=f"T/QMTA 001-2024 {text}",
            version="1.0",
            content_hash="a" * 64,
            title=draw.choice([None, text, "Qimen black tea"]),
            url=draw.choice([None, f"{BASE}/api/v1/standard-versions/1"]),
        ),
        gtins=draw.sample(
            ["06923456789012", "06923456789029", "00000000000017"], draw.randint(1, 3)
        ),
        sites=[Site(name=text or "site", address=draw.choice([None, text]), gln="6931234000013")],
        label_quota=draw.choice([0, 1, 10_000, 100_000_000]),
        valid_from=start,
        valid_until=start + timedelta(days=draw.randint(1, 1500), seconds=draw.randint(0, 86_400)),
        brand=draw.choice([None, BrandRef(text, "Qimen Black Tea", f"{BASE}/brands/qimen")]),
        assessment=draw.choice(
            [
                None,
                AssessmentRef(
                    audit_url=f"{BASE}/api/v1/audits/1",
                    assessment_date=date(2026, 11, 14),
                    decision_url=draw.choice([None, f"{BASE}/api/v1/audit-decisions/1"]),
                    decided_on=draw.choice([None, date(2026, 11, 28)]),
                    evidence=((f"{BASE}/e/1", text, "c" * 64),) * draw.randint(0, 2),
                ),
            ]
        ),
    )
    return dataclasses.replace(facts, **changes)


def _arguments(facts: CertificateFacts, holder: Organisation, number: int) -> CredentialParts:
    status_list = f"{BASE}/orgs/qimen-tea-association/status/revocation/1"
    return CredentialParts(
        number=f"QTA-2026-{number:06d}",
        licence_number=f"QTA-ML-2026-{number:06d}",
        holder=holder,
        facts=facts,
        gtins=list(facts.gtins),
        sites=[site.as_dict() for site in facts.sites],
        status_entries=[
            build_status_list_entry(list_url=status_list, index=index, status_purpose=purpose)
            for index, purpose in ((number * 7, "revocation"), (131_071 - number, "suspension"))
        ],
    )


@pytest.mark.parametrize("text", TRICKY)
def test_the_written_credential_is_the_reference_canonical_form(text: str) -> None:
    draw = random.Random(text)
    issuer = _organisation(1, text or "祁门县茶业协会", registration=None)
    writer = CredentialWriter(base_url=BASE, issuer_did=DID, issuer=issuer)
    for number in range(1, 40):
        holder = _organisation(
            2 + number % 3, text or "firm", registration=draw.choice([None, "91341024MA2N7B4C3P"])
        )
        arguments = _arguments(_facts(draw, text), holder, number)
        document = writer.document(arguments)
        assert writer.canonical(arguments) == rfc8785.dumps(document)
        assert document["@context"] == writer.context
        assert document["validUntil"] == format_created(arguments.facts.valid_until)


@pytest.mark.parametrize(
    "changes",
    [
        {"label_quota": 10.0},  # a float: JCS writes 10, orjson would write 10.0
        {"standard": StandardRef("lone \ud800 surrogate", "1.0", "a" * 64)},
    ],
)
def test_values_orjson_would_write_otherwise_take_the_reference_path(changes) -> None:
    writer = CredentialWriter(
        base_url=BASE, issuer_did=DID, issuer=_organisation(1, "协会", registration=None)
    )
    holder = _organisation(2, "firm", registration=None)
    arguments = _arguments(_facts(random.Random(1), "x", **changes), holder, 1)
    try:
        expected = rfc8785.dumps(writer.document(arguments))
    except rfc8785.CanonicalizationError:  # no JSON text can carry a lone surrogate
        with pytest.raises(rfc8785.CanonicalizationError):
            writer.canonical(arguments)
        return
    assert writer.canonical(arguments) == expected


def test_written_credentials_sign_as_the_documents_do() -> None:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    writer = CredentialWriter(
        base_url=BASE, issuer_did=DID, issuer=_organisation(1, "祁门县茶业协会", registration=None)
    )
    draw = random.Random(5)
    arguments = [
        _arguments(_facts(draw, text), _organisation(2, text or "firm", registration=None), n)
        for n, text in enumerate(TRICKY, start=1)
    ]
    created = format_created(datetime(2026, 11, 28, 13, 43, 8, tzinfo=UTC))
    method = f"{DID}#key-1"
    signed = sign_canonical_documents(
        (writer.canonical(each) for each in arguments),
        key,
        context=writer.context,
        verification_method=method,
        created=created,
    )
    for each, (text, _) in zip(arguments, signed, strict=True):
        alone = sign_document(
            writer.document(each), key, verification_method=method, created=created
        )
        assert text == alone.text
        assert verify_proof(json.loads(text), lambda _method: public).verified
