"""Issuing certificates on granted decisions, all or nothing, and their lifecycle: suspend,
reinstate, withdraw, renew, re-issue, expire; in force; label quota reservations."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from app.audits.models import Audit, AuditKind, DecisionOutcome
from app.brands.models import Membership, MembershipStatus
from app.certificates import credentials, ledger
from app.certificates.errors import CertificateNotInForce, LabelQuotaExceeded
from app.certificates.models import (
    Certificate,
    CertificateEvent,
    CertificateNumberSequence,
    StatusList,
)
from app.certificates.statuslist import decode
from app.db import utcnow
from app.transparency.models import LogEntry


def _problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"].endswith(f"/problems/{slug}"), body
    return body


def test_issuing_through_the_api_signs_a_vc_2_credential(api, grant, client, session) -> None:
    decision_id = grant()
    response = api("association_admin").post(
        "/api/v1/certificates", json={"decision_id": decision_id, "label_quota": 12000}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert response.headers["Location"] == body["url"]
    assert body["status"] == "active" and body["in_force"] is True
    assert body["holder"]["registration_number"] == "91341024MA2N7B4C3P"
    assert body["gtins"] == ["06923456789012", "06923456789029"]
    assert body["label_quota"] == 12000 and body["labels_issued"] == 0
    assert [event["kind"] for event in body["events"]] == ["issued"]

    served = client.get(f"/certificates/{body['number']}/credential.json")
    stored = session.scalar(select(Certificate).where(Certificate.number == body["number"]))
    assert served.data.decode() == stored.credential_json
    assert served.headers["Cache-Control"].startswith("public")
    credential = json.loads(served.data)
    assert credential["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert credential["type"] == ["VerifiableCredential", "BrandCertificateCredential"]
    assert credential["issuer"]["id"] == body["issuer_did"]
    subject = credential["credentialSubject"]
    assert subject["type"] == ["ConformityAttestation", "Attestation"]
    assert subject["certificateNumber"] == body["number"]
    assert subject["issuedToParty"]["registeredId"] == "91341024MA2N7B4C3P"
    assert subject["referenceStandard"]["code"] == body["standard"]["code"]
    assert len(subject["referenceStandard"]["contentHash"]) == 64
    assert subject["scope"]["products"][0]["id"] == "https://brand.example.test/01/06923456789012"
    assert subject["markLicence"]["labelQuota"] == 12000
    assert subject["brand"]["id"] == "https://brand.example.test/brands/qimen-black-tea"
    assert subject["assessment"][0]["decision"].endswith(f"/audit-decisions/{decision_id}")
    entries = credential["credentialStatus"]
    assert [entry["statusPurpose"] for entry in entries] == ["revocation", "suspension"]
    assert body["status_list_urls"] == [entry["statusListCredential"] for entry in entries]
    assert credential["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert credential["proof"]["verificationMethod"].startswith(body["issuer_did"] + "#")
    # The issuance is in the transparency log.
    assert stored.log_index is not None
    entry = session.scalar(select(LogEntry).where(LogEntry.log_index == stored.log_index))
    assert entry.entry_type == "certificate.issued" and entry.record_id == body["number"]


def test_status_lists_are_big_signed_and_cacheable(client, demo) -> None:
    url = demo["certificate"]["status_list_urls"][0].removeprefix("https://brand.example.test")
    response = client.get(url)
    assert response.status_code == 200
    assert "max-age=60" in response.headers["Cache-Control"]
    document = response.get_json()
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["credentialSubject"]["statusPurpose"] == "revocation"
    assert decode(document["credentialSubject"]["encodedList"]).size >= 131_072
    assert document["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    cached = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert cached.status_code == 304
    missing = client.get(url[:-1] + "9", headers={"Accept": "application/json"})
    assert missing.status_code == 404
    other = client.get(url.replace("revocation", "refresh"), headers={"Accept": "application/json"})
    assert other.status_code == 404


def test_status_indices_are_drawn_at_random(issue) -> None:
    first, second, third = issue(), issue(), issue()
    indices = {c.revocation_index for c in (first, second, third)}
    assert len(indices) == 3
    # Consecutive issues do not get neighbouring bits (the chance of that by luck is tiny).
    ordered = sorted(indices)
    assert ordered[-1] - ordered[0] > 3


def test_issuing_needs_a_granted_decision(api, grant) -> None:
    refused = grant(outcome=DecisionOutcome.REFUSED)
    admin = api("association_admin")
    body = _problem(
        admin.post("/api/v1/certificates", json={"decision_id": refused, "label_quota": 1}),
        409,
        "decision-not-granted",
    )
    assert body["errors"][0]["field"] == "decision_id"
    _problem(
        admin.post("/api/v1/certificates", json={"decision_id": 999999, "label_quota": 1}),
        404,
        "decision-not-found",
    )


def test_issuing_needs_a_member_firm(api, grant, session) -> None:
    decision_id = grant("shanyuan-tea")
    session.execute(
        update(Membership)
        .where(Membership.firm_id == _firm_id(session, "shanyuan-tea"))
        .values(status=MembershipStatus.SUSPENDED)
    )
    session.commit()
    body = _problem(
        api("association_admin").post(
            "/api/v1/certificates", json={"decision_id": decision_id, "label_quota": 1}
        ),
        409,
        "not-a-member",
    )
    assert body["errors"][0]["rule"] == "approved_member"


def _firm_id(session, slug: str) -> int:
    from app.auth.models import Organisation

    return session.scalar(select(Organisation.id).where(Organisation.slug == slug))


def test_a_product_is_covered_once_per_decision_and_a_scope_within_the_audit(
    api, demo, grant
) -> None:
    admin = api("association_admin")
    # The demo's decision backs two certificates, one per product: both are covered.
    body = _problem(
        admin.post(
            "/api/v1/certificates",
            json={"decision_id": demo["audit_decision"]["id"], "label_quota": 1},
        ),
        409,
        "decision-already-certified",
    )
    assert body["certificates"] == sorted(
        [demo["certificate"]["number"], demo["certificate_suspended"]["number"]]
    )
    assert [e["rule"] for e in body["errors"]] == ["already_certified"] * 2
    decision_id = grant()
    beyond = _problem(
        admin.post(
            "/api/v1/certificates",
            json={
                "decision_id": decision_id,
                "label_quota": 1,
                "gtins": ["6923456789012", "4006381333931", "123"],
            },
        ),
        422,
        "invalid-certificate-request",
    )
    assert [(e["field"], e["rule"]) for e in beyond["errors"]] == [
        ("/gtins/1", "audited"),
        ("/gtins/2", "length"),
    ]
    unknown_site = _problem(
        admin.post(
            "/api/v1/certificates",
            json={"decision_id": decision_id, "label_quota": 1, "sites": [{"name": "Elsewhere"}]},
        ),
        422,
        "invalid-certificate-request",
    )
    assert unknown_site["errors"][0]["field"] == "/sites/0"
    narrower = admin.post(
        "/api/v1/certificates",
        json={"decision_id": decision_id, "label_quota": 1, "gtins": ["6923456789029"]},
    )
    assert narrower.status_code == 201
    assert narrower.get_json()["gtins"] == ["06923456789029"]
    other = admin.post(
        "/api/v1/certificates",
        json={"decision_id": decision_id, "label_quota": 1, "gtins": ["06923456789012"]},
    )
    assert other.status_code == 201
    _problem(
        admin.post(
            "/api/v1/certificates",
            json={"decision_id": decision_id, "label_quota": 1, "gtins": ["6923456789029"]},
        ),
        409,
        "decision-already-certified",
    )


def test_bad_issue_requests_get_field_errors(api) -> None:
    admin = api("association_admin")
    body = _problem(
        admin.post(
            "/api/v1/certificates",
            json={"decision_id": "1", "label_quota": -5, "validity_months": 99, "extra": 1},
        ),
        422,
        "validation-failed",
    )
    fields = {error["field"] for error in body["errors"]}
    assert {"/decision_id", "/label_quota", "/validity_months", "/extra"} <= fields


def test_a_failure_after_allocating_status_bits_leaves_no_trace(
    api, grant, session, monkeypatch
) -> None:
    decision_id = grant()

    def snapshot() -> tuple:
        session.expire_all()
        return (
            session.scalar(select(func.count()).select_from(Certificate)),
            session.scalar(select(func.count()).select_from(CertificateEvent)),
            tuple(session.scalars(select(StatusList.allocated).order_by(StatusList.id))),
            tuple(session.scalars(select(StatusList.etag).order_by(StatusList.id))),
            tuple(session.scalars(select(CertificateNumberSequence.last_value))),
            session.scalar(select(func.count()).select_from(LogEntry)),
        )

    before = snapshot()

    def fail(*args, **kwargs):
        raise RuntimeError("the log is unreachable")

    monkeypatch.setattr(ledger, "append_entry_indices", fail)
    response = api("association_admin").post(
        "/api/v1/certificates", json={"decision_id": decision_id, "label_quota": 10}
    )
    _problem(response, 500, "internal-error")
    assert snapshot() == before
    monkeypatch.undo()
    retried = api("association_admin").post(
        "/api/v1/certificates", json={"decision_id": decision_id, "label_quota": 10}
    )
    assert retried.status_code == 201


def test_lifecycle_is_recorded_and_shown(issue, api, client) -> None:
    certificate = issue()
    admin = api("association_admin")
    until = (utcnow() + timedelta(days=30)).isoformat()
    suspended = admin.post(
        f"/api/v1/certificates/{certificate.number}/suspend",
        json={"reason": "moisture above limit", "until": until},
    ).get_json()
    assert suspended["status"] == "suspended" and suspended["in_force"] is False
    assert suspended["not_in_force_because"] == "suspended"
    assert suspended["suspended_until"] is not None
    admin.post(f"/api/v1/certificates/{certificate.number}/reinstate", json={"reason": "fixed"})
    withdrawn = admin.post(
        f"/api/v1/certificates/{certificate.number}/withdraw", json={"reason": "left the brand"}
    ).get_json()
    assert [(e["kind"], e["reason"]) for e in withdrawn["events"]] == [
        ("issued", None),
        ("suspended", "moisture above limit"),
        ("reinstated", "fixed"),
        ("withdrawn", "left the brand"),
    ]
    assert all(e["by"] == "Qimen County Tea Industry Association" for e in withdrawn["events"])
    page = client.get(f"/certificates/{certificate.number}", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert "moisture above limit" in text and "left the brand" in text and "Withdrawn" in text


def test_forbidden_transitions_are_refused_and_change_nothing(issue, api, session) -> None:
    certificate = issue()
    admin = api("association_admin")
    path = f"/api/v1/certificates/{certificate.number}"
    _problem(
        admin.post(path + "/reinstate", json={"reason": "x"}),
        409,
        "invalid-certificate-transition",
    )
    past = (utcnow() - timedelta(days=1)).isoformat()
    body = _problem(
        admin.post(path + "/suspend", json={"reason": "x", "until": past}),
        422,
        "invalid-certificate-request",
    )
    assert body["errors"][0]["field"] == "/until"
    admin.post(path + "/withdraw", json={"reason": "final"})
    etags = tuple(session.scalars(select(StatusList.etag).order_by(StatusList.id)))
    _problem(admin.post(path + "/reinstate", json={"reason": "x"}), 409, "certificate-withdrawn")
    _problem(admin.post(path + "/suspend", json={"reason": "x"}), 409, "certificate-withdrawn")
    _problem(
        admin.post(path + "/withdraw", json={"reason": "x"}), 409, "invalid-certificate-transition"
    )
    _problem(admin.post(path + "/reissue", json={"reason": "x"}), 409, "certificate-withdrawn")
    session.expire_all()
    assert tuple(session.scalars(select(StatusList.etag).order_by(StatusList.id))) == etags
    _problem(admin.post(path + "/suspend", json={}), 422, "validation-failed")


def test_other_organisations_cannot_see_or_change_a_certificate(issue, api) -> None:
    certificate = issue()
    path = f"/api/v1/certificates/{certificate.number}"
    assert api("firm_admin").get(path).status_code == 200
    _problem(api("firm2_admin").get(path), 404, "certificate-not-found")
    listed = api("firm2_admin").get("/api/v1/certificates").get_json()["items"]
    assert certificate.number not in {item["number"] for item in listed}
    mine = api("firm_admin").get("/api/v1/certificates").get_json()["items"]
    assert certificate.number in {item["number"] for item in mine}


def test_renewal_references_and_replaces_the_previous_certificate(
    issue, api, grant, verify_api
) -> None:
    old = issue()
    renewal = grant(kind=AuditKind.RENEWAL)
    admin = api("association_admin")
    _problem(
        admin.post(
            f"/api/v1/certificates/{old.number}/renew", json={"decision_id": old.decision_id}
        ),
        422,
        "invalid-certificate-request",
    )
    other_firm = grant("shanyuan-tea", gtins=["6923456789043"])
    _problem(
        admin.post(f"/api/v1/certificates/{old.number}/renew", json={"decision_id": other_firm}),
        422,
        "invalid-certificate-request",
    )
    response = admin.post(
        f"/api/v1/certificates/{old.number}/renew",
        json={"decision_id": renewal, "reason": "three-year cycle"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    new = response.get_json()
    assert new["replaces"] == old.number
    assert new["events"][0]["kind"] == "renewed"
    credential = json.loads(
        admin.get(new["vc_url"].removeprefix("https://brand.example.test")).data
    )
    assert credential["credentialSubject"]["replaces"].endswith(f"/certificates/{old.number}")
    previous = admin.get(f"/api/v1/certificates/{old.number}").get_json()
    assert previous["status"] == "superseded" and previous["replaced_by"] == new["number"]
    # Shown as it is stored, on zh pages as on en ones: in both languages.
    assert previous["status_reason"] == f"由 {new['number']} 替代 / replaced by {new['number']}"
    page = admin.get(f"/certificates/{old.number}?lang=zh-CN", headers={"Accept": "text/html"})
    assert f"由 {new['number']} 替代" in page.get_data(as_text=True)
    assert previous["events"][-1]["kind"] == "superseded"
    old_report = verify_api(json.loads(old.credential_json))
    assert old_report["verdict"] == "invalid"
    _problem(
        admin.post(f"/api/v1/certificates/{old.number}/renew", json={"decision_id": renewal}),
        409,
        "invalid-certificate-transition",
    )
    assert previous["latest_replacement"] == new["number"]
    assert new["replaced_by"] is None and new["latest_replacement"] is None


def test_a_replaced_certificate_names_the_newest_of_its_chain(issue, api, grant) -> None:
    """Someone holding the first of several renewals is sent to the one that stands now, not
    only to the next one (which may itself be replaced)."""
    first = issue()
    admin = api("association_admin")
    chain = [first.number]
    for _ in range(2):
        renewed = admin.post(
            f"/api/v1/certificates/{chain[-1]}/renew",
            json={"decision_id": grant(kind=AuditKind.RENEWAL)},
        )
        assert renewed.status_code == 201, renewed.get_data(as_text=True)
        chain.append(renewed.get_json()["number"])
    described = admin.get(f"/api/v1/certificates/{first.number}").get_json()
    assert described["replaced_by"] == chain[1]
    assert described["latest_replacement"] == chain[2]
    page = admin.get(f"/certificates/{first.number}", headers={"Accept": "text/html"})
    text = page.get_data(as_text=True)
    assert "Newest in its chain" in text and f"/certificates/{chain[2]}" in text
    middle = admin.get(f"/api/v1/certificates/{chain[1]}").get_json()
    assert middle["replaced_by"] == middle["latest_replacement"] == chain[2]
    # Named once where the next is the newest: no second line saying the same.
    middle_page = admin.get(f"/certificates/{chain[1]}", headers={"Accept": "text/html"})
    assert "Newest in its chain" not in middle_page.get_data(as_text=True)


def test_reissue_changes_scope_and_carries_labels_over(issue, api, session) -> None:
    old = issue()
    credentials.reserve_label_quota(session, old.id, 300)
    session.commit()
    admin = api("association_admin")
    below = _problem(
        admin.post(
            f"/api/v1/certificates/{old.number}/reissue",
            json={"label_quota": 100, "reason": "smaller quota"},
        ),
        422,
        "invalid-certificate-request",
    )
    assert below["errors"][0]["rule"] == "below_issued"
    beyond = _problem(
        admin.post(
            f"/api/v1/certificates/{old.number}/reissue",
            json={"gtins": ["4006381333931"], "reason": "a product never audited"},
        ),
        422,
        "invalid-certificate-request",
    )
    assert beyond["errors"][0] == {
        "field": "/gtins/0",
        "rule": "audited",
        "message": "4006381333931 was not audited",
    }
    response = admin.post(
        f"/api/v1/certificates/{old.number}/reissue",
        json={"gtins": ["6923456789012"], "label_quota": 8000, "reason": "one product dropped"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    new = response.get_json()
    assert new["gtins"] == ["06923456789012"]
    assert new["labels_issued"] == 300 and new["label_quota"] == 8000
    assert (
        new["valid_until"]
        == admin.get(f"/api/v1/certificates/{old.number}").get_json()["valid_until"]
    )
    assert new["events"][0]["kind"] == "reissued"
    assert new["events"][0]["reason"] == "one product dropped"


def test_in_force_needs_active_status_validity_and_surveillance(issue, session, client) -> None:
    certificate = issue()
    assert credentials.standing(session, certificate).in_force
    gtin = certificate.scope_gtins[0]
    assert credentials.certificate_in_force_for(session, certificate.firm_id, gtin[1:]) is not None
    # Overdue surveillance: the follow-up audit's due date has passed.
    session.execute(
        update(Audit)
        .where(Audit.kind == AuditKind.SURVEILLANCE, Audit.firm_id == certificate.firm_id)
        .values(due_on=utcnow().date() - timedelta(days=1))
    )
    session.flush()
    current = credentials.standing(session, certificate)
    assert (current.in_force, current.reason) == (False, "surveillance_overdue")
    session.commit()
    page = client.get(f"/certificates/{certificate.number}?lang=en").get_data(as_text=True)
    assert "Not in force: Surveillance audit overdue" in page
    assert credentials.certificate_in_force_for(session, certificate.firm_id, gtin) is None
    with pytest.raises(CertificateNotInForce):
        credentials.reserve_label_quota(session, certificate.id, 1)
    later = utcnow() + timedelta(days=5 * 365)
    assert credentials.standing(session, certificate, later).reason == "expired"
    assert credentials.certificate_in_force_for(session, certificate.firm_id, "12345") is None


def test_the_expiry_sweep_marks_and_records_expired_certificates(issue, session, app) -> None:
    certificate = issue()
    session.execute(
        update(Certificate)
        .where(Certificate.id == certificate.id)
        .values(
            valid_from=utcnow() - timedelta(days=800),
            valid_until=utcnow() - timedelta(days=1),
        )
    )
    session.commit()
    result = app.test_cli_runner().invoke(args=["certificates", "expire"])
    assert result.exit_code == 0, result.output
    assert f"expired {certificate.number}" in result.output
    session.expire_all()
    assert session.get(Certificate, certificate.id).status == "expired"
    assert session.get(Certificate, certificate.id).events[-1].kind == "expired"


def test_label_quota_is_reserved_and_released_under_a_row_lock(issue, session) -> None:
    certificate = issue(label_quota=100)
    credentials.reserve_label_quota(session, certificate.id, 60)
    with pytest.raises(LabelQuotaExceeded) as raised:
        credentials.reserve_label_quota(session, certificate.id, 41)
    assert raised.value.extra["remaining"] == 40
    assert raised.value.errors[0].rule == "label_quota"
    credentials.reserve_label_quota(session, certificate.id, 40)
    credentials.release_label_quota(session, certificate.id, 10)
    assert session.get(Certificate, certificate.id).labels_issued == 90


def test_export_cli_writes_an_offline_bundle(app, demo, tmp_path) -> None:
    result = app.test_cli_runner().invoke(
        args=["certificates", "export", demo["certificate"]["number"], "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert {p.name for p in tmp_path.iterdir()} == {
        "credential.json",
        "did.json",
        "revocation.json",
        "suspension.json",
    }
    assert "python -m app.verify" in result.output


def test_export_cli_into_a_folder_it_cannot_create_says_so(app, demo, tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = app.test_cli_runner().invoke(
        args=[
            "certificates",
            "export",
            demo["certificate"]["number"],
            "--out",
            str(blocker / "bundle"),
        ]
    )
    assert result.exit_code == 1, result.output
    assert f"cannot write into {blocker / 'bundle'}" in result.output
    assert not isinstance(result.exception, OSError)


@pytest.mark.committing
def test_concurrent_label_orders_never_exceed_the_quota(app, demo) -> None:
    """Eight orders race for a quota that fits three: exactly three succeed (row lock)."""
    from concurrent.futures import ThreadPoolExecutor

    from app.extensions import db

    certificate_id = demo["certificate"]["id"]
    with app.app_context():
        session = db.new_session()
        certificate = session.get(Certificate, certificate_id)
        original, quota = certificate.labels_issued, certificate.label_quota
        session.close()
    per_order = (quota - original) // 4 + 1

    def order(_: int) -> bool:
        with app.app_context():
            worker = db.new_session(writer=True)
            try:
                credentials.reserve_label_quota(worker, certificate_id, per_order)
                worker.commit()
                return True
            except LabelQuotaExceeded:
                worker.rollback()
                return False
            finally:
                worker.close()

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(order, range(8)))
        with app.app_context():
            session = db.new_session()
            issued = session.get(Certificate, certificate_id).labels_issued
            session.close()
        assert sum(results) == 3
        assert issued == original + 3 * per_order <= quota
    finally:
        with app.app_context():
            session = db.new_session(writer=True)
            session.execute(
                update(Certificate)
                .where(Certificate.id == certificate_id)
                .values(labels_issued=original)
            )
            session.commit()
            session.close()


def test_a_full_status_list_is_followed_by_a_new_one(issue, session, client) -> None:
    first = issue()
    full = session.get(StatusList, first.revocation_list_id)
    full.allocated = full.size_bits // 2
    session.commit()
    second = issue()
    assert second.revocation_list_id != first.revocation_list_id
    assert second.suspension_list_id == first.suspension_list_id
    newer = session.get(StatusList, second.revocation_list_id)
    assert (newer.purpose, newer.sequence) == ("revocation", full.sequence + 1)
    url = json.loads(second.credential_json)["credentialStatus"][0]["statusListCredential"]
    assert url.endswith(f"/status/revocation/{newer.sequence}")
    assert client.get(url.removeprefix("https://brand.example.test")).status_code == 200


def _year_of_facts(session, decision_id: int):  # type: ignore[no-untyped-def]
    """What a granted decision certifies, for 100 labels over a year from now."""
    from app.audits.services import get_granted_decision
    from app.certificates import issuance

    now = utcnow()
    return issuance.facts_from_decision(
        session,
        get_granted_decision(session, decision_id),
        label_quota=100,
        valid_from=now,
        valid_until=now + timedelta(days=365),
    )


def test_a_batch_signs_each_credential_exactly_as_signing_it_alone_would(
    session, association, grant, verify_api, downloads, offline
) -> None:
    # A batch writes its credentials' canonical form directly, with what the issuer and each
    # firm state written once: each must give the bytes of building and signing it on its own.
    from app.certificates import keys
    from app.certificates.dataintegrity import sign_document

    facts = _year_of_facts(session, grant())
    other = dataclasses.replace(facts, label_quota=7)
    issued = credentials.issue_certificates(session, association, [facts, facts, other, facts])
    session.commit()
    signing = keys.signing_key(session, association)
    slots = set()
    for item in issued:
        document = json.loads(item.credential_json)
        proof = document.pop("proof")
        alone = sign_document(
            document,
            signing.private_key,
            verification_method=proof["verificationMethod"],
            created=proof["created"],
        )
        assert item.credential_json == alone.text.decode("utf-8")
        subject = document["credentialSubject"]
        assert subject["certificateNumber"] == item.number
        assert subject["markLicence"]["labelQuota"] == (7 if item is issued[2] else 100)
        slots.update(entry["id"] for entry in document["credentialStatus"])
        certificate = session.get(Certificate, item.id)
        assert certificate.credential_json == item.credential_json
        assert certificate.proof_value == proof["proofValue"]
        assert certificate.log_index == item.log_index
        stored = session.get(LogEntry, item.log_index)
        assert (
            json.loads(stored.entry)["content_sha256"]
            == hashlib.sha256(item.credential_json.encode()).hexdigest()
        )
        assert verify_api(json.loads(item.credential_json))["verdict"] == "valid"
    assert len({item.number for item in issued}) == 4 and len(slots) == 8
    code, report = offline(downloads(session.get(Certificate, issued[3].id), None))
    assert (code, report["verdict"]) == (0, "valid")


def test_reissue_refuses_products_another_live_certificate_of_the_decision_covers(
    issue, grant, api, session
) -> None:
    decision_id = grant()
    first = issue(decision_id, gtins=["6923456789012"])
    second = issue(decision_id, gtins=["6923456789029"])
    admin = api("association_admin")

    def snapshot() -> tuple:
        session.expire_all()
        return (
            session.scalar(select(func.count()).select_from(Certificate)),
            session.scalar(select(func.count()).select_from(LogEntry)),
            session.get(Certificate, first.id).status,
        )

    before = snapshot()
    body = _problem(
        admin.post(
            f"/api/v1/certificates/{first.number}/reissue",
            # GTIN-13 forms: compared as GTIN-14, like the stored scope.
            json={"gtins": ["6923456789012", "6923456789029"], "reason": "both products"},
        ),
        409,
        "decision-already-certified",
    )
    assert body["errors"] == [
        {
            "field": "/gtins",
            "rule": "already_certified",
            "message": f"06923456789029 is in {second.number}",
        }
    ]
    assert body["certificates"] == [second.number]
    assert snapshot() == before
    # Its own products stay its own: a re-issue keeping them is not a conflict.
    kept = admin.post(
        f"/api/v1/certificates/{first.number}/reissue",
        json={"gtins": ["06923456789012"], "label_quota": 100, "reason": "smaller quota"},
    )
    assert kept.status_code == 201, kept.get_data(as_text=True)
    assert kept.get_json()["gtins"] == ["06923456789012"]


def _granted(api, version_id: int) -> int:
    from tests.brandkit import ok, signed_off_audit

    audit = signed_off_audit(api, version_id)
    decision = ok(
        api("association_admin").post(
            f"/api/v1/audits/{audit['id']}/decision",
            json={"outcome": "granted", "reason": "all criteria met"},
        ),
        201,
    )
    return int(decision["id"])


def _scheduled(api) -> tuple[dict, date]:
    """A new brand whose version 1.0 is in force and whose version 2.0, published now,
    takes effect in 30 days (the demo firm is a member)."""
    from tests.brandkit import ok, published_brand, version_body

    world = published_brand(api)
    admin = api("association_admin")
    effective = utcnow().date() + timedelta(days=30)
    draft = ok(
        admin.post(
            f"/api/v1/standards/{world['standard']['id']}/versions",
            json=version_body("2.0", effective_from=effective.isoformat()),
        ),
        201,
    )
    world["scheduled"] = ok(admin.post(f"/api/v1/standard-versions/{draft['id']}/publish"))
    return world, effective


def _trail(session) -> tuple[int, ...]:
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Certificate, CertificateEvent, LogEntry)
    )


def test_a_certificate_under_a_scheduled_version_is_valid_from_its_day_at_the_earliest(
    api, app, demo, session
) -> None:
    # A firm audited against version 2.0 ahead of the day it takes effect may be certified,
    # with the certificate valid from that day, not before.
    from tests.brandkit import ok, problem, rules
    from tests.portalkit import as_role

    world, effective = _scheduled(api)
    decision_id = _granted(api, world["scheduled"]["id"])
    admin = api("association_admin")
    before = _trail(session)
    day_before = (effective - timedelta(days=1)).isoformat()
    for valid_from in (None, f"{day_before}T23:59:59+00:00"):
        body: dict = {"decision_id": decision_id, "label_quota": 100}
        if valid_from:
            body["valid_from"] = valid_from
        refused = problem(
            admin.post("/api/v1/certificates", json=body), 409, "standard-version-not-effective"
        )
        assert refused["effective_from"] == effective.isoformat()
        assert rules(refused) == {("/valid_from", "standard_effective")}
        assert f"takes effect on {effective.isoformat()}" in refused["detail"]
    assert _trail(session) == before  # nothing changed

    # The portal offers the day it takes effect as the start of validity.
    screen = as_role(app, demo, "association_admin")
    form = screen.get(f"/portal/certificates/issue?decision={decision_id}").get_data(as_text=True)
    assert f'value="{effective.isoformat()}"' in form

    issued = ok(
        admin.post(
            "/api/v1/certificates",
            json={
                "decision_id": decision_id,
                "label_quota": 100,
                "valid_from": f"{effective.isoformat()}T00:00:00+00:00",
            },
        ),
        201,
    )
    assert issued["valid_from"].startswith(effective.isoformat())
    assert (issued["in_force"], issued["not_in_force_because"]) == (False, "not_yet_valid")

    # Re-issuing it now would make it valid before the version takes effect.
    before = _trail(session)
    reissue = admin.post(
        f"/api/v1/certificates/{issued['number']}/reissue",
        json={"label_quota": 200, "reason": "larger quota"},
    )
    problem(reissue, 409, "standard-version-not-effective")
    assert _trail(session) == before


def test_a_renewal_on_a_decision_under_a_scheduled_version_waits_for_its_day(api, session) -> None:
    from tests.brandkit import ok, problem

    world, effective = _scheduled(api)
    admin = api("association_admin")
    current = ok(
        admin.post(
            "/api/v1/certificates",
            json={"decision_id": _granted(api, world["version"]["id"]), "label_quota": 100},
        ),
        201,
    )
    renewal = _granted(api, world["scheduled"]["id"])
    before = _trail(session)
    refused = admin.post(
        f"/api/v1/certificates/{current['number']}/renew", json={"decision_id": renewal}
    )
    assert problem(refused, 409, "standard-version-not-effective")["effective_from"] == (
        effective.isoformat()
    )
    assert _trail(session) == before
    assert ok(admin.get(f"/api/v1/certificates/{current['number']}"))["status"] == "active"


@pytest.mark.parametrize("size", [131_072, 1000, 5])
def test_a_slot_permutation_gives_every_index_of_its_list_once(size) -> None:
    from app.certificates.status import SlotPermutation

    permutation = SlotPermutation(b"k" * 32, size)
    indices = permutation.indices(range(size))
    assert sorted(indices) == list(range(size))
    assert indices != list(range(size))
    # The order is the key's: another key orders the same list otherwise, the same key alike.
    assert SlotPermutation(b"k" * 31 + b"l", size).indices(range(size)) != indices
    assert SlotPermutation(b"k" * 32, size).indices(range(size)) == indices
    with pytest.raises(ValueError, match="outside"):
        permutation.index(size)


def test_a_batch_gets_distinct_unpredictable_status_indices(session, association, grant) -> None:
    facts = _year_of_facts(session, grant())
    issued = credentials.issue_certificates(session, association, [facts] * 300)
    issued += credentials.issue_certificates(session, association, [facts] * 300)
    session.commit()
    certificates = [session.get(Certificate, item.id) for item in issued]
    for list_column, index_column in (
        ("revocation_list_id", "revocation_index"),
        ("suspension_list_id", "suspension_index"),
    ):
        slots = [(getattr(c, list_column), getattr(c, index_column)) for c in certificates]
        assert len(set(slots)) == len(slots)
        indices = [index for _, index in slots]
        # Neither in issuance order nor bunched: spread over the whole list.
        assert indices != sorted(indices)
        assert max(indices) - min(indices) > 100_000
        status_list = session.get(StatusList, slots[0][0])
        assert status_list.allocated >= 600
    # The lists' keys are their own.
    keys = {session.get(StatusList, c.revocation_list_id).slot_key for c in certificates[:1]}
    keys |= {session.get(StatusList, c.suspension_list_id).slot_key for c in certificates[:1]}
    assert len(keys) == 2 and all(len(key) == 32 for key in keys)


def test_a_list_made_before_keyed_allocation_takes_no_new_certificates(
    issue, session, client, api
) -> None:
    first = issue()
    legacy = session.get(StatusList, first.revocation_list_id)
    session.execute(update(StatusList).where(StatusList.id == legacy.id).values(slot_key=None))
    session.commit()
    second = issue()
    assert second.revocation_list_id != legacy.id
    assert second.suspension_list_id == first.suspension_list_id
    newer = session.get(StatusList, second.revocation_list_id)
    assert newer.sequence == legacy.sequence + 1 and newer.slot_key is not None
    # The old list still serves its certificate, whose bit still changes.
    withdrawn = api("association_admin").post(
        f"/api/v1/certificates/{first.number}/withdraw", json={"reason": "left the brand"}
    )
    assert withdrawn.status_code == 200, withdrawn.get_data(as_text=True)
    entry = json.loads(first.credential_json)["credentialStatus"][0]
    served = client.get(entry["statusListCredential"].removeprefix("https://brand.example.test"))
    bits = decode(served.get_json()["credentialSubject"]["encodedList"])
    assert bits.get(int(entry["statusListIndex"])) is True


def test_a_batch_stores_who_issued_why_and_what_each_certificate_replaces(
    session, association, admin, grant
) -> None:
    # Columns a batch fills only when some of its requests do: each row gets its own value,
    # and NULL where it has none (a batch of mixed requests, then one without an actor).
    from app.certificates.models import CertificateEvent, CertificateEventKind

    facts = _year_of_facts(session, grant())
    (old,) = credentials.issue_certificates(session, association, [facts])
    previous = session.get(Certificate, old.id)
    renewal = dataclasses.replace(
        facts,
        previous=previous,
        event=CertificateEventKind.RENEWED,
        reason="re-certified",
        gtins=[facts.gtins[0]],
    )
    plain = dataclasses.replace(facts, gtins=[facts.gtins[-1]])
    mixed = credentials.issue_certificates(session, association, [plain, renewal], actor=admin)
    session.commit()

    def stored(item):
        certificate = session.get(Certificate, item.id)
        # Its first event: how it was issued (the old one is superseded later).
        event = session.scalars(
            select(CertificateEvent)
            .where(CertificateEvent.certificate_id == item.id)
            .order_by(CertificateEvent.id)
        ).first()
        return (
            certificate.issued_by_user_id,
            certificate.previous_certificate_id,
            event.kind,
            event.reason,
            event.related_certificate_id,
            event.actor_user_id,
        )

    assert stored(mixed[0]) == (admin.user_id, None, "issued", None, None, admin.user_id)
    assert stored(mixed[1]) == (
        admin.user_id,
        old.id,
        "renewed",
        "re-certified",
        old.id,
        admin.user_id,
    )
    assert stored(old) == (None, None, "issued", None, None, None)
