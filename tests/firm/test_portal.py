"""The firm's overview and scans pages: certificates and quota, label orders, scans and alerts
about its own products only, traceability; both languages."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.brands.models import Membership, MembershipStatus
from app.certificates.models import Certificate, CertificateStatus
from app.resolver.models import AlertKind, AlertStatus, Scan, ScanAlert, ScanChannel
from app.resolver.verdicts import Verdict
from tests.brandkit import brand_body
from tests.portalkit import post, text
from tests.products.factories import caller
from tests.products.test_portal import signed_in


def test_overview_shows_certificates_quota_orders_and_traceability(app, demo, session) -> None:
    client = signed_in(app, demo)
    page = client.get("/portal/firm?lang=en").get_data(as_text=True)
    number, suspended = demo["certificate"]["number"], demo["certificate_suspended"]["number"]
    assert f'href="/certificates/{number}"' in page and f'href="/certificates/{suspended}"' in page
    assert "in force" in page and "not in force" in page and "(suspended)" in page
    certificate = session.scalar(select(Certificate).where(Certificate.number == number))
    assert f"{certificate.labels_issued:,} / {certificate.label_quota:,}" in page
    assert f'href="/portal/label-orders/{demo["label_order"]["id"]}"' in page
    assert '<svg class="chart"' in page
    assert "Likou tea factory" in page and "Latest events about your products" in page
    chinese = client.get("/portal/firm?lang=zh-CN").get_data(as_text=True)
    assert (
        "企业概览" in chinese and "祁门红茶·特茗 罐装 100 克" in chinese and "扫码与预警" in chinese
    )


def test_the_firm_admin_may_cancel_its_live_certificates_from_the_overview(app, demo, api) -> None:
    number = demo["certificate"]["number"]
    link = f'href="/portal/firm/certificates/{number}/cancel"'
    assert link in signed_in(app, demo).get("/portal/firm?lang=en").get_data(as_text=True)
    staff = signed_in(app, demo, "firm_staff").get("/portal/firm?lang=en")
    assert link not in staff.get_data(as_text=True)
    cancelled = api("firm_admin").post(
        f"/api/v1/certificates/{number}/cancel", json={"reason": "left the brand"}
    )
    assert cancelled.status_code == 200
    client = signed_in(app, demo)
    page = client.get("/portal/firm?lang=en").get_data(as_text=True)
    assert "(cancelled by its holder)" in page and "left the brand" in page and link not in page
    chinese = client.get("/portal/firm?lang=zh-CN").get_data(as_text=True)
    assert "已由持证方申请注销" in chinese and "已撤销" not in chinese


def _scan(session, firm_id: int, gtin: str, verdict: Verdict, serial: str, reasons=None) -> None:
    session.add(
        Scan(
            channel=ScanChannel.LINK,
            answer="page",
            gtin=gtin,
            serial=serial,
            verdict=verdict,
            reasons=reasons,
            firm_id=firm_id,
            client_hash="c" * 32,
            place="合肥",
        )
    )


def test_scans_and_alerts_are_the_firms_own(app, demo, session) -> None:
    firm = caller(session)
    other = caller(session, "admin@shanyuan-tea.example")
    _scan(session, firm.organisation_id, demo["product"]["gtin"], Verdict.GENUINE, "OURS0000001")
    _scan(session, other.organisation_id, "06923456789043", Verdict.NOT_FOUND, "THEIRS00001")
    session.add(
        ScanAlert(
            kind=AlertKind.BLACKLISTED_HIT,
            status=AlertStatus.OPEN,
            open_key="test-blacklisted-hit",
            gtin=demo["product"]["gtin"],
            serial="OURS0000002",
            firm_id=firm.organisation_id,
        )
    )
    session.flush()
    client = signed_in(app, demo)
    page = client.get("/portal/firm/scans?lang=en").get_data(as_text=True)
    assert "OURS0000001" in page and "THEIRS00001" not in page and "合肥" in page
    assert "Genuine" in page and "<polyline" in page
    genuine_only = client.get("/portal/firm/scans?lang=en&verdict=NOT_FOUND").get_data(as_text=True)
    assert "OURS0000001" not in genuine_only
    # The verdict filter names verdicts: a "not valid" scan may be a recall or a revoked key.
    choices = re.findall(r'<option value="NOT_VALID"[^>]*>([^<]*)</option>', page)
    assert choices == ["Not valid"], choices
    overview = client.get("/portal/firm?lang=en").get_data(as_text=True)
    assert "Blocked code scanned" in overview and "OURS0000002" in overview
    theirs = signed_in(app, demo, "firm2_admin").get("/portal/firm?lang=en").get_data(as_text=True)
    assert "OURS0000002" not in theirs
    chinese = client.get("/portal/firm/scans?lang=zh-CN").get_data(as_text=True)
    assert "贵企业产品的扫码记录" in chinese


def test_a_scan_of_a_recalled_pack_reads_as_the_shopper_read_it(app, demo, session) -> None:
    firm = caller(session)
    gtin = demo["product"]["gtin"]
    _scan(
        session, firm.organisation_id, gtin, Verdict.NOT_VALID, "RECALLED001", ["product_recalled"]
    )
    _scan(
        session,
        firm.organisation_id,
        gtin,
        Verdict.NOT_VALID,
        "LAPSED00001",
        ["certificate_expired"],
    )
    session.flush()
    page = signed_in(app, demo).get("/portal/firm/scans?lang=en").get_data(as_text=True)
    rows = {
        serial: re.search(rf"{serial}.*?verdict-not_valid\">([^<]*)<", page, re.S).group(1)
        for serial in ("RECALLED001", "LAPSED00001")
    }
    assert rows == {
        "RECALLED001": "Not valid: this product is recalled",
        "LAPSED00001": "Not valid: certification not in force",
    }


def _membership_id(session, firm_id: int) -> int:
    return session.scalar(
        select(Membership.id).where(
            Membership.firm_id == firm_id, Membership.status == MembershipStatus.APPROVED
        )
    )


def test_the_leave_confirmation_names_the_certificates_it_cancels(app, demo, session) -> None:
    firm = caller(session)
    membership_id = _membership_id(session, firm.organisation_id)
    leave = f"/portal/firm/memberships/{membership_id}/leave"
    client = signed_in(app, demo)
    overview = client.get("/portal/firm?lang=en").get_data(as_text=True)
    assert "Brand memberships" in overview and f'href="{leave}"' in overview
    staff = signed_in(app, demo, "firm_staff")
    assert f'href="{leave}"' not in staff.get("/portal/firm?lang=en").get_data(as_text=True)
    assert staff.get(leave).status_code == 403

    numbers = [demo["certificate"]["number"], demo["certificate_suspended"]["number"]]
    page = client.get(leave + "?lang=en").get_data(as_text=True)
    assert "Leave the brand Qimen Black Tea" in page and "This cannot be undone." in page
    for number in numbers:
        assert f'href="/certificates/{number}"' in page
    assert "Cancellation is final" in page
    chinese = client.get(leave + "?lang=zh-CN").get_data(as_text=True)
    assert "退出品牌将注销贵企业持有的该品牌下列证书" in chinese and "注销是最终的" in chinese
    assert all(number in chinese for number in numbers)

    # The page was last seen in Chinese, and the language is remembered.
    done = post(client, leave, {"reason": "转产绿茶"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/portal/firm")
    shown = client.get("/portal/firm").get_data(as_text=True)
    assert "贵企业已退出“祁门红茶”品牌。已注销的证书：" in shown
    assert all(number in shown for number in numbers) and f'href="{leave}"' not in shown
    session.expire_all()
    assert session.get(Membership, membership_id).status == MembershipStatus.LEFT
    assert {
        session.scalar(select(Certificate.status).where(Certificate.number == number))
        for number in numbers
    } == {CertificateStatus.CANCELLED}
    # Nothing is left to leave.
    closed = client.get(leave + "?lang=en").get_data(as_text=True)
    assert "there is nothing to leave" in closed and 'name="reason"' not in closed


def test_withdrawing_an_application_from_the_portal_lists_no_certificate(
    app, demo, session, api
) -> None:
    api("association_admin").post("/api/v1/brands", json=brand_body())
    mine = api("firm_admin").post("/api/v1/brands/huangshan-maofeng/memberships", json={})
    leave = f"/portal/firm/memberships/{mine.get_json()['id']}/leave"
    client = signed_in(app, demo)
    assert "Withdraw the application…" in client.get("/portal/firm?lang=en").get_data(as_text=True)
    page = client.get(leave + "?lang=en").get_data(as_text=True)
    assert "Withdraw your application to Huangshan Maofeng" in page
    assert "no certificate is affected" in page and "/certificates/" not in page
    done = post(client, leave, {})
    assert done.status_code == 303
    shown = client.get("/portal/firm?lang=en").get_data(as_text=True)
    assert "Your application to Huangshan Maofeng was withdrawn." in shown


def test_a_refused_leave_shows_the_form_again_and_changes_nothing(
    app, demo, session, monkeypatch
) -> None:
    from app.certificates import ledger
    from app.errors import Conflict

    firm = caller(session)
    membership_id = _membership_id(session, firm.organisation_id)

    def refuse(*args, **kwargs):
        raise Conflict("The transparency log refused the entry.")

    monkeypatch.setattr(ledger, "record_status_change", refuse)
    client = signed_in(app, demo)
    response = post(client, f"/portal/firm/memberships/{membership_id}/leave?lang=en", {})
    assert response.status_code == 409
    assert "Nothing was changed." in text(response)
    session.expire_all()
    assert session.get(Membership, membership_id).status == MembershipStatus.APPROVED
    number = demo["certificate"]["number"]
    assert session.scalar(select(Certificate.status).where(Certificate.number == number)) == (
        CertificateStatus.ACTIVE
    )
