"""Voluntary cancellation: the holder gives its certificate up. Final like a withdrawal (the
revocation bit is set, nothing can bring it back), but recorded as the holder's choice: who
may cancel (the holder's admins, the issuer's admins and staff on its request, nobody else),
the event, the transparency log, and every refusal changing nothing."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.audits.models import AuditKind
from app.auth.models import User
from app.auth.services import caller_for
from app.certificates import credentials
from app.certificates.errors import (
    CancellationNotAllowed,
    CertificateCancelled,
    CertificateNotFound,
    CertificateWithdrawn,
    InvalidTransition,
)
from app.certificates.models import (
    Certificate,
    CertificateEvent,
    CertificateEventKind,
    CertificateStatus,
    StatusList,
)
from app.certificates.statuslist import decode
from app.transparency.models import LogEntry
from tests.certificates.test_issuance import _problem

FIRM_ADMIN = "admin@hongxiang-tea.example"
FIRM_STAFF = "staff@hongxiang-tea.example"
OTHER_FIRM_ADMIN = "admin@shanyuan-tea.example"
ASSOCIATION_STAFF = "staff@qimen-tea.example"
ASSOCIATION_AUDITOR = "auditor@qimen-tea.example"


def _caller(session, email: str):
    return caller_for(session.scalar(select(User).where(User.email == email)))


def _bit(client, url: str, index: int) -> bool:
    served = client.get(url.removeprefix("https://brand.example.test"))
    return decode(served.get_json()["credentialSubject"]["encodedList"]).get(index)


def _snapshot(session) -> tuple:
    session.expire_all()
    return (
        tuple(session.scalars(select(StatusList.etag).order_by(StatusList.id))),
        tuple(session.execute(select(Certificate.number, Certificate.status))),
        session.scalar(select(func.count()).select_from(CertificateEvent)),
        session.scalar(select(func.count()).select_from(LogEntry)),
    )


def test_the_holder_cancels_its_certificate_for_good(session, issue, client) -> None:
    certificate = issue()
    revocation_url, suspension_url = (
        entry["statusListCredential"]
        for entry in json.loads(certificate.credential_json)["credentialStatus"]
    )
    firm_admin = _caller(session, FIRM_ADMIN)
    cancelled = credentials.cancel_certificate(
        session, firm_admin, certificate.number, reason="we stop making this tea"
    )
    session.commit()

    assert cancelled.status == CertificateStatus.CANCELLED
    assert cancelled.status_reason == "we stop making this tea"
    assert _bit(client, revocation_url, certificate.revocation_index) is True
    assert _bit(client, suspension_url, certificate.suspension_index) is False
    event = session.scalars(
        select(CertificateEvent)
        .where(CertificateEvent.certificate_id == certificate.id)
        .order_by(CertificateEvent.id.desc())
    ).first()
    assert event.kind == CertificateEventKind.CANCELLED
    assert event.reason == "we stop making this tea"
    assert (event.actor_user_id, event.actor_organisation_id) == (
        firm_admin.user_id,
        firm_admin.organisation_id,
    )
    entry = session.scalars(
        select(LogEntry)
        .where(LogEntry.record_type == "certificate", LogEntry.record_id == certificate.number)
        .order_by(LogEntry.log_index.desc())
    ).first()
    assert entry.entry_type == "certificate.cancelled"
    logged = json.loads(entry.entry)
    assert logged["details"] == {
        "actor_user_id": firm_admin.user_id,
        "reason": "we stop making this tea",
    }
    assert (
        logged["content_sha256"] == hashlib.sha256(certificate.credential_json.encode()).hexdigest()
    )
    standing = credentials.standing(session, cancelled)
    assert standing.in_force is False and standing.reason == "cancelled"


def test_cancelling_a_suspended_certificate_clears_its_suspension(
    session, issue, admin, client
) -> None:
    certificate = issue()
    suspension_url = json.loads(certificate.credential_json)["credentialStatus"][1][
        "statusListCredential"
    ]
    credentials.suspend_certificate(session, admin, certificate.number, reason="moisture")
    session.commit()
    assert _bit(client, suspension_url, certificate.suspension_index) is True
    credentials.cancel_certificate(
        session, _caller(session, ASSOCIATION_STAFF), certificate.number, reason="firm asked"
    )
    session.commit()
    assert certificate.status == CertificateStatus.CANCELLED
    assert certificate.suspended_until is None
    assert _bit(client, suspension_url, certificate.suspension_index) is False


@pytest.mark.parametrize(
    ("change", "arguments"),
    [
        (credentials.suspend_certificate, {"reason": "x"}),
        (credentials.reinstate_certificate, {"reason": "x"}),
        (credentials.withdraw_certificate, {"reason": "x"}),
        (credentials.cancel_certificate, {"reason": "x"}),
        (
            credentials.reissue_certificate,
            {"gtins": None, "sites": None, "label_quota": 10, "reason": "x"},
        ),
    ],
)
def test_cancellation_is_final_and_a_refusal_changes_nothing(
    session, issue, admin, change, arguments
) -> None:
    certificate = issue()
    credentials.cancel_certificate(session, admin, certificate.number, reason="firm asked")
    session.commit()
    before = _snapshot(session)
    with pytest.raises(CertificateCancelled, match="cancellation is final"):
        change(session, admin, certificate.number, **arguments)
    session.rollback()
    assert _snapshot(session) == before


def test_only_a_live_certificate_within_its_validity_can_be_cancelled(
    session, issue, admin, clock
) -> None:
    withdrawn = issue()
    credentials.withdraw_certificate(session, admin, withdrawn.number, reason="fraud")
    session.commit()
    lapsed = issue()
    before = _snapshot(session)
    with pytest.raises(CertificateWithdrawn):
        credentials.cancel_certificate(session, admin, withdrawn.number, reason="x")
    session.rollback()
    clock.set(timedelta(days=4 * 366))
    with pytest.raises(InvalidTransition, match="expired"):
        credentials.cancel_certificate(session, admin, lapsed.number, reason="x")
    session.rollback()
    assert _snapshot(session) == before


@pytest.mark.parametrize(
    ("email", "error"),
    [
        (FIRM_STAFF, CancellationNotAllowed),
        (ASSOCIATION_AUDITOR, CancellationNotAllowed),
        (OTHER_FIRM_ADMIN, CertificateNotFound),
    ],
)
def test_other_callers_cannot_cancel(session, issue, email, error) -> None:
    certificate = issue()
    before = _snapshot(session)
    with pytest.raises(error):
        credentials.cancel_certificate(
            session, _caller(session, email), certificate.number, reason="x"
        )
    session.rollback()
    assert _snapshot(session) == before


# --- the API ----------------------------------------------------------------------------------


def test_the_holder_admin_cancels_through_the_api(issue, api, client, session) -> None:
    certificate = issue()
    path = f"/api/v1/certificates/{certificate.number}/cancel"
    response = api("firm_admin").post(path, json={"reason": "left the brand"})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "cancelled" and body["in_force"] is False
    assert body["not_in_force_because"] == "cancelled"
    assert body["status_reason"] == "left the brand"
    assert [(e["kind"], e["reason"], e["by"]) for e in body["events"]][-1] == (
        "cancelled",
        "left the brand",
        "Qimen Hongxiang Tea Co., Ltd.",
    )
    listed = api(None).get("/api/v1/register/certificates?status=cancelled").get_json()
    assert [item["number"] for item in listed["items"]] == [certificate.number]
    # Final: the association cannot bring it back or withdraw it afterwards.
    association = api("association_admin")
    for action in ("reinstate", "suspend", "withdraw", "cancel", "reissue"):
        _problem(
            association.post(
                f"/api/v1/certificates/{certificate.number}/{action}", json={"reason": "x"}
            ),
            409,
            "certificate-cancelled",
        )


def test_a_cancelled_certificate_is_not_renewed(issue, api, grant, session) -> None:
    certificate = issue()
    renewal = grant(kind=AuditKind.RENEWAL)
    api("firm_admin").post(
        f"/api/v1/certificates/{certificate.number}/cancel", json={"reason": "left the brand"}
    )
    before = _snapshot(session)
    _problem(
        api("association_admin").post(
            f"/api/v1/certificates/{certificate.number}/renew", json={"decision_id": renewal}
        ),
        409,
        "certificate-cancelled",
    )
    assert _snapshot(session) == before


def test_the_association_records_a_cancellation_the_firm_asked_for(issue, api) -> None:
    for role in ("association_admin", "association_staff"):
        certificate = issue()
        response = api(role).post(
            f"/api/v1/certificates/{certificate.number}/cancel",
            json={"reason": "letter of 3 March: production stopped"},
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert body["status"] == "cancelled"
        assert body["events"][-1]["by"] == "Qimen County Tea Industry Association"


def test_the_api_refuses_everyone_else_and_changes_nothing(issue, api, session) -> None:
    certificate = issue()
    path = f"/api/v1/certificates/{certificate.number}/cancel"
    before = _snapshot(session)
    _problem(api(None).post(path, json={"reason": "x"}), 401, "unauthenticated")
    _problem(api("firm_staff").post(path, json={"reason": "x"}), 403, "cancellation-not-allowed")
    _problem(api("firm2_admin").post(path, json={"reason": "x"}), 404, "certificate-not-found")
    _problem(api("association_auditor").post(path, json={"reason": "x"}), 403, "forbidden")
    _problem(api("government_viewer").post(path, json={"reason": "x"}), 403, "forbidden")
    _problem(api("firm_admin").post(path, json={}), 422, "validation-failed")
    _problem(api("firm_admin").post(path, json={"reason": "x" * 501}), 422, "validation-failed")
    _problem(
        api("firm_admin").post("/api/v1/certificates/QTA-1999-000001/cancel", json={"reason": "x"}),
        404,
        "certificate-not-found",
    )
    assert _snapshot(session) == before


def test_the_openapi_document_lists_the_route_and_the_status(client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert "post" in document["paths"]["/api/v1/certificates/{number}/cancel"]
    statuses = json.dumps(document["components"]["schemas"])
    assert '"cancelled"' in statuses


def test_the_public_page_and_register_say_cancelled_in_both_languages(issue, api, client) -> None:
    certificate = issue()
    api("firm_admin").post(
        f"/api/v1/certificates/{certificate.number}/cancel", json={"reason": "停止生产"}
    )
    english = client.get(f"/certificates/{certificate.number}", headers={"Accept-Language": "en"})
    text = english.get_data(as_text=True)
    assert "Not in force" in text and "Cancelled" in text and "停止生产" in text
    assert "Cancelled at the holder&#39;s request" in text
    chinese = client.get(f"/certificates/{certificate.number}?lang=zh-CN").get_data(as_text=True)
    assert "已注销" in chinese and "应持证方申请注销" in chinese
    assert "已撤销" not in chinese  # cancellation (注销) is not withdrawal (撤销)
    register = client.get("/certificates?status=cancelled&lang=zh-CN").get_data(as_text=True)
    assert certificate.number in register and "已注销" in register
