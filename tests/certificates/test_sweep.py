"""Time passing: expiry is visible at once (the daily sweep only records it) and a suspension
whose planned end has passed stays suspended, flagged for the issuer's decision."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app.certificates import credentials
from app.certificates.models import Certificate
from app.db import utcnow
from tests.portalkit import as_role


def _lapse(session, certificate: Certificate) -> None:
    session.execute(
        update(Certificate)
        .where(Certificate.id == certificate.id)
        .values(valid_from=utcnow() - timedelta(days=800), valid_until=utcnow() - timedelta(days=1))
    )
    session.commit()


def _numbers(response) -> set[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["number"] for item in response.get_json()["items"]}


def test_a_lapsed_certificate_reads_expired_before_the_sweep_records_it(
    issue, api, session, app, demo
) -> None:
    certificate = issue()
    _lapse(session, certificate)
    anyone = api(None)
    entry = anyone.get(f"/api/v1/register/certificates/{certificate.number}").get_json()
    assert (entry["status"], entry["in_force"]) == ("expired", False)
    assert entry["not_in_force_because"] == "expired"
    assert certificate.number in _numbers(
        anyone.get("/api/v1/register/certificates?status=expired&limit=100")
    )
    assert certificate.number not in _numbers(
        anyone.get("/api/v1/register/certificates?status=active&limit=100")
    )
    own = api("association_admin").get("/api/v1/certificates?status=active&limit=100")
    assert certificate.number not in _numbers(own)
    # The portals' status filters agree: the association's list and the observers' register.
    for role, path in (
        ("association_admin", "/portal/certificates"),
        ("government_viewer", "/portal/register/certificates"),
    ):
        screen = as_role(app, demo, role)
        expired = screen.get(f"{path}?status=expired&per_page=100").get_data(as_text=True)
        active = screen.get(f"{path}?status=active&per_page=100").get_data(as_text=True)
        assert certificate.number in expired and certificate.number not in active, role

    result = app.test_cli_runner().invoke(args=["certificates", "sweep"])
    assert result.exit_code == 0, result.output
    assert f"expired {certificate.number}" in result.output
    session.expire_all()
    stored = session.get(Certificate, certificate.id)
    assert stored.status == "expired" and stored.events[-1].kind == "expired"
    # Recorded once: a second sweep finds nothing left to expire.
    again = app.test_cli_runner().invoke(args=["certificates", "sweep"])
    assert f"expired {certificate.number}" not in again.output


def test_a_suspension_past_its_planned_end_stays_suspended_and_asks_for_a_decision(
    issue, api, session, app, client, verify_api, demo
) -> None:
    certificate = issue()
    admin = api("association_admin")
    path = f"/api/v1/certificates/{certificate.number}"
    until = (utcnow() + timedelta(days=1)).isoformat()
    suspended = admin.post(path + "/suspend", json={"reason": "pesticide residue", "until": until})
    assert suspended.get_json()["suspension_overdue"] is False
    session.execute(
        update(Certificate)
        .where(Certificate.id == certificate.id)
        .values(suspended_until=utcnow() - timedelta(hours=1))
    )
    session.commit()

    body = admin.get(path).get_json()
    assert (body["status"], body["in_force"], body["suspension_overdue"]) == (
        "suspended",
        False,
        True,
    )
    credential = client.get(f"/certificates/{certificate.number}/credential.json").get_json()
    report = verify_api(credential)
    assert report["verdict"] == "invalid"
    assert {c["name"]: c["status"] for c in report["checks"]}["suspension"] == "fail"

    page = client.get(f"/certificates/{certificate.number}?lang=en").get_data(as_text=True)
    assert "the planned end has passed" in page
    screen = (
        as_role(app, demo, "association_admin").get("/portal/certificates").get_data(as_text=True)
    )
    assert "Suspensions past their planned end" in screen and certificate.number in screen

    result = app.test_cli_runner().invoke(args=["certificates", "sweep"])
    assert result.exit_code == 0, result.output
    assert f"suspension overdue {certificate.number}" in result.output
    session.expire_all()
    assert session.get(Certificate, certificate.id).status == "suspended"

    reinstated = admin.post(path + "/reinstate", json={"reason": "residue retested clean"})
    assert reinstated.get_json()["suspension_overdue"] is False
    assert credentials.overdue_suspensions(session, issuer_id=certificate.issuer_id) == []


def test_the_expiry_reason_is_shown_in_the_readers_language(
    api, session, app, client, demo
) -> None:
    number = demo["certificate"]["number"]
    certificate = credentials.get_certificate(session, number)
    _lapse(session, certificate)
    result = app.test_cli_runner().invoke(args=["certificates", "sweep"])
    assert f"expired {number}" in result.output
    session.expire_all()
    assert credentials.get_certificate(session, number).status_reason == "validity period ended"

    zh = client.get(f"/certificates/{number}?lang=zh-CN").get_data(as_text=True)
    assert "有效期届满" in zh and "validity period ended" not in zh
    en = client.get(f"/certificates/{number}?lang=en").get_data(as_text=True)
    assert "validity period ended" in en
    for role, path in (
        ("firm_admin", "/portal/firm"),
        ("association_admin", f"/portal/certificates/{number}"),
        ("government_viewer", "/portal/register/certificates?status=expired&per_page=100"),
    ):
        screen = as_role(app, demo, role, lang="zh-CN").get(path).get_data(as_text=True)
        assert "有效期届满" in screen and "validity period ended" not in screen, role

    unit = demo["unit"]["digital_link"].removeprefix(demo["base_url"])
    for language, words in (("zh-CN", "有效期届满"), ("en", "validity period ended")):
        verdict = (
            app.test_client()
            .get(unit, headers={"Accept": "application/json", "Accept-Language": language})
            .get_json()
        )
        assert verdict["verdict"] == "NOT_VALID"
        reason = verdict["reasons"][0]
        assert (reason["code"], reason["reason"]) == ("certificate_expired", words), language
        assert verdict["certificate"]["status_reason"] == words


def test_the_observers_register_says_in_chinese_that_a_certificate_was_signed_by_a_revoked_key(
    app, demo, session
) -> None:
    from app.certificates import keys

    certificate = credentials.get_certificate(session, demo["certificate"]["number"])
    keys.revoke_key(
        session,
        certificate.issuer,
        certificate.issuer_key.fragment,
        revoked_from=credentials.proof_created(certificate),
        reason="private key leaked",
    )
    session.commit()
    screen = as_role(app, demo, "government_viewer", lang="zh-CN")
    page = screen.get("/portal/register/certificates?per_page=100").get_data(as_text=True)
    assert certificate.number in page
    assert "签名密钥已被吊销，须由协会重新签发" in page and "key_revoked" not in page
