"""Scan alerts and reports of fakes in the portal: lists with filters for the association, the
firm and observers; resolving an alert and triaging a report with a note; forged posts,
another organisation's ids, double submits, over-long notes and read-only observers."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from app.activity.models import ActivityRecord
from app.auth import services as auth
from app.auth.models import OrgKind, Role
from app.files.services import store_bytes
from app.resolver.models import AlertStatus, FakeReport, ReportStatus, ScanAlert
from tests.brandkit import png_logo
from tests.test_pages_matrix import _sign_in

PASSWORD = "a-long-password-9"
HTML = {"Accept": "text/html"}


def _words(response) -> str:
    """What a person reads: the page without its tags."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def _csrf(client, path: str) -> str:
    return re.search(
        r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)
    ).group(1)


def _activity(session) -> int:
    return session.scalar(select(func.count()).select_from(ActivityRecord))


@pytest.fixture
def alert(session) -> ScanAlert:
    """The demo's alert: a blacklisted Hongxiang code was scanned."""
    found = session.scalar(select(ScanAlert).order_by(ScanAlert.id))
    assert found is not None and found.status is AlertStatus.OPEN
    return found


@pytest.fixture
def report(session) -> FakeReport:
    """The demo's report of a code that was never issued."""
    found = session.scalar(select(FakeReport).order_by(FakeReport.id))
    assert found is not None and found.status is ReportStatus.NEW
    return found


def _sign_in_new(client, session, kind: OrgKind, slug: str, role: Role = Role.ADMIN) -> None:
    """Sign in a person of a new organisation of ``kind`` that co-builds no brand."""
    organisation = auth.create_organisation(
        session, slug=slug, kind=kind, name_zh=f"{slug} 机构", name_en=f"{slug} org"
    )
    email = f"someone@{slug}.example"
    auth.create_user(
        session,
        organisation=organisation,
        email=email,
        display_name="Someone",
        role=role,
        password=PASSWORD,
    )
    session.commit()
    token = _csrf(client, "/login")
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303


# --- alerts: lists -----------------------------------------------------------------------------


def test_association_lists_and_filters_alerts_in_both_languages(client, demo, alert) -> None:
    _sign_in(client, demo, "association_staff")
    page = _words(client.get("/portal/scan-alerts"))
    assert "(1 in all)" in page and f"#{alert.id}" in page
    assert "Blocked code scanned" in page and "⚠ Open" in page and alert.serial in page
    assert "(0 in all)" in _words(client.get("/portal/scan-alerts?status=resolved"))
    assert "(0 in all)" in _words(client.get("/portal/scan-alerts?kind=repeat_scans"))
    assert "(1 in all)" in _words(client.get(f"/portal/scan-alerts?code={alert.serial}"))
    assert "(1 in all)" in _words(client.get(f"/portal/scan-alerts?code={alert.gtin[1:]}"))
    assert "(0 in all)" in _words(client.get("/portal/scan-alerts?code=NOSUCHSERIAL"))
    zh = _words(client.get("/portal/scan-alerts?lang=zh-CN"))
    assert "扫码预警" in zh and "已拉黑的码被扫描" in zh and "未处理" in zh


def test_the_firm_sees_its_own_alerts_and_another_firm_none(client, demo, alert) -> None:
    _sign_in(client, demo, "firm_staff")
    assert f"#{alert.id}" in _words(client.get("/portal/scan-alerts"))
    other = client.application.test_client()
    _sign_in(other, demo, "firm2_admin")
    assert "(0 in all)" in _words(other.get("/portal/scan-alerts"))
    missing = other.get(f"/portal/scan-alerts/{alert.id}", headers=HTML)
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert f"No alert {alert.id} for your organisation." in _words(missing)


def test_observers_read_alerts_without_a_form(client, demo, alert, session) -> None:
    _sign_in(client, demo, "government_viewer")
    detail = client.get(f"/portal/scan-alerts/{alert.id}")
    assert detail.status_code == 200
    page = _words(detail)
    assert "Blocked code scanned" in page and "Qimen Hongxiang Tea Co., Ltd." in page
    assert "Resolve this alert" not in page
    assert 'action="/portal/scan-alerts' not in detail.get_data(as_text=True)
    before = _activity(session)
    token = _csrf(client, f"/portal/scan-alerts/{alert.id}")
    refused = client.post(
        f"/portal/scan-alerts/{alert.id}/resolve",
        data={"csrf_token": token, "resolution": "false_alarm"},
        headers=HTML,
    )
    assert refused.status_code == 403 and _activity(session) == before
    session.refresh(alert)
    assert alert.status is AlertStatus.OPEN


def test_lists_of_alerts_and_reports_say_their_times_are_utc(client, demo, alert, report) -> None:
    # A regulator in China reads 05:02 as Beijing time unless the page says otherwise.
    _sign_in(client, demo, "government_viewer")
    alerts = _words(client.get("/portal/scan-alerts?lang=zh-CN"))
    assert f"{alert.last_seen_at:%Y-%m-%d %H:%M} UTC" in alerts
    reports = _words(client.get("/portal/fake-reports?lang=zh-CN"))
    assert f"{report.created_at:%Y-%m-%d %H:%M} UTC" in reports


# --- alerts: resolving -------------------------------------------------------------------------


def test_association_resolves_an_alert_with_a_note_once(client, demo, alert, session) -> None:
    _sign_in(client, demo, "association_admin")
    path = f"/portal/scan-alerts/{alert.id}"
    token = _csrf(client, path)
    form = {
        "csrf_token": token,
        "resolution": "labels_blacklisted",
        "note": "标签已冻结 / labels were already blocked",
    }
    done = client.post(f"{path}/resolve", data=form)
    assert done.status_code == 303 and done.headers["Location"].endswith(path)
    page = _words(client.get(path))
    assert f"Alert {alert.id} resolved." in page and "✓ Resolved : Labels blacklisted" in page
    assert "标签已冻结 / labels were already blocked" in page and "Resolve this alert" not in page
    session.refresh(alert)
    assert alert.status is AlertStatus.RESOLVED and alert.resolution_note == form["note"]
    resolved_at = alert.resolved_at

    # A double submit is refused with a clear message, and changes nothing.
    before = _activity(session)
    again = client.post(f"{path}/resolve", data={**form, "note": "second"})
    assert again.status_code == 409
    assert f"Alert {alert.id} was already resolved on" in _words(again)
    assert _activity(session) == before
    session.refresh(alert)
    assert alert.resolution_note == form["note"] and alert.resolved_at == resolved_at


def test_the_firm_resolves_its_alert(client, demo, alert, session) -> None:
    _sign_in(client, demo, "firm_staff")
    path = f"/portal/scan-alerts/{alert.id}"
    response = client.post(
        f"{path}/resolve",
        data={"csrf_token": _csrf(client, path), "resolution": "confirmed_counterfeit"},
    )
    assert response.status_code == 303
    session.refresh(alert)
    assert alert.resolution.value == "confirmed_counterfeit" and alert.resolution_note is None


def test_bad_resolutions_are_explained_next_to_the_field(client, demo, alert, session) -> None:
    _sign_in(client, demo, "association_staff")
    path = f"/portal/scan-alerts/{alert.id}"
    token = _csrf(client, path)
    before = _activity(session)
    long_note = "假" * 1001
    too_long = client.post(
        f"{path}/resolve",
        data={"csrf_token": token, "resolution": "false_alarm", "note": long_note},
    )
    assert too_long.status_code == 422
    html = too_long.get_data(as_text=True)
    assert 'id="e-note"' in html and "1000" in unescape(html.split('id="e-note"')[1][:200])
    assert long_note in html  # what was typed is kept
    unknown = client.post(f"{path}/resolve", data={"csrf_token": token, "resolution": "shrug"})
    assert unknown.status_code == 422 and 'id="e-resolution"' in unknown.get_data(as_text=True)
    forged = client.post(f"{path}/resolve", data={"resolution": "false_alarm"}, headers=HTML)
    assert forged.status_code == 403 and "CSRF" in forged.get_data(as_text=True)
    assert _activity(session) == before
    session.refresh(alert)
    assert alert.status is AlertStatus.OPEN


def test_another_firms_alert_cannot_be_resolved(client, demo, alert, session) -> None:
    _sign_in(client, demo, "firm2_admin")
    token = _csrf(client, "/portal/scan-alerts")
    response = client.post(
        f"/portal/scan-alerts/{alert.id}/resolve",
        data={"csrf_token": token, "resolution": "false_alarm"},
        headers=HTML,
    )
    assert response.status_code == 404
    session.refresh(alert)
    assert alert.status is AlertStatus.OPEN


# --- reports -----------------------------------------------------------------------------------


def test_association_and_observers_list_reports_firms_may_not(client, demo, report) -> None:
    _sign_in(client, demo, "association_staff")
    page = _words(client.get("/portal/fake-reports"))
    assert f"#{report.id}" in page and "● New" in page and "Tunxi Old Street" in page
    assert "(0 in all)" in _words(client.get("/portal/fake-reports?status=closed"))
    assert "(1 in all)" in _words(client.get(f"/portal/fake-reports?code={report.serial}"))
    zh = _words(client.get("/portal/fake-reports?lang=zh-CN"))
    assert "假冒举报" in zh and "新报告" in zh
    observer = client.application.test_client()
    _sign_in(observer, demo, "alliance_viewer")
    detail = _words(observer.get(f"/portal/fake-reports/{report.id}"))
    assert "Far below the usual price" in detail and "Triage" not in detail
    firm = client.application.test_client()
    _sign_in(firm, demo, "firm_admin")
    assert firm.get("/portal/fake-reports", headers=HTML).status_code == 403
    assert "/portal/fake-reports" not in firm.get("/portal").get_data(as_text=True)


def test_association_triages_a_report(client, demo, report, session) -> None:
    _sign_in(client, demo, "association_staff")
    path = f"/portal/fake-reports/{report.id}"
    token = _csrf(client, path)
    reviewing = client.post(
        f"{path}/review",
        data={"csrf_token": token, "status": "reviewing", "note": "已联系市场监管 / AMR told"},
    )
    assert reviewing.status_code == 303
    page = _words(client.get(path))
    assert f"Report {report.id} is now: Being reviewed." in page and "AMR told" in page
    closed = client.post(f"{path}/review", data={"csrf_token": token, "status": "closed"})
    assert closed.status_code == 303
    session.refresh(report)
    assert report.status is ReportStatus.CLOSED
    assert report.review_note == "已联系市场监管 / AMR told"  # an empty note keeps the last


def test_bad_triage_changes_nothing(client, demo, report, session) -> None:
    _sign_in(client, demo, "association_admin")
    path = f"/portal/fake-reports/{report.id}"
    token = _csrf(client, path)
    observer = client.application.test_client()
    _sign_in(observer, demo, "government_viewer")
    before = _activity(session)
    back_to_new = client.post(f"{path}/review", data={"csrf_token": token, "status": "new"})
    assert back_to_new.status_code == 422
    assert "Choose being reviewed or closed." in _words(back_to_new)
    too_long = client.post(
        f"{path}/review", data={"csrf_token": token, "status": "closed", "note": "x" * 1001}
    )
    assert too_long.status_code == 422 and 'id="e-note"' in too_long.get_data(as_text=True)
    forged = client.post(f"{path}/review", data={"status": "closed"}, headers=HTML)
    assert forged.status_code == 403
    read_only = observer.post(
        f"{path}/review",
        data={"csrf_token": _csrf(observer, path), "status": "closed"},
        headers=HTML,
    )
    assert read_only.status_code == 403
    assert _activity(session) == before
    session.refresh(report)
    assert report.status is ReportStatus.NEW and report.review_note is None


def test_another_associations_report_is_not_found(client, session, report) -> None:
    _sign_in_new(client, session, OrgKind.GOVERNMENT, "far-county-amr", Role.VIEWER)
    assert "(0 in all)" in _words(client.get("/portal/fake-reports"))
    assert client.get(f"/portal/fake-reports/{report.id}", headers=HTML).status_code == 404
    assert client.get(f"/portal/fake-reports/{report.id}/photo", headers=HTML).status_code == 404


def test_a_reports_photo_is_shown_only_to_those_who_may_read_it(
    client, demo, report, session
) -> None:
    stored = store_bytes(session, png_logo(), allowed_types={"image/png"}, max_bytes=1 << 20)
    report.photo_file_id = stored.id
    session.commit()
    _sign_in(client, demo, "association_staff")
    page = client.get(f"/portal/fake-reports/{report.id}").get_data(as_text=True)
    assert f'src="/portal/fake-reports/{report.id}/photo"' in page
    photo = client.get(f"/portal/fake-reports/{report.id}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    assert photo.data == png_logo()
    firm = client.application.test_client()
    _sign_in(firm, demo, "firm_admin")
    assert firm.get(f"/portal/fake-reports/{report.id}/photo", headers=HTML).status_code == 403


# --- statistics --------------------------------------------------------------------------------


def test_statistics_chart_scans_verdicts_and_open_alerts(client, demo) -> None:
    _sign_in(client, demo, "government_viewer")
    response = client.get("/portal/statistics")
    html = response.get_data(as_text=True)
    assert html.count('<svg class="chart" role="img"') == 8
    tables = re.findall(r'<table class="table numbers">.*?</table>', html, re.S)
    numbers = [
        dict(re.findall(r"<tr><td>([^<]*)</td><td>(\d+)</td></tr>", table)) for table in tables
    ]
    per_day, verdicts, alerts = numbers[5], numbers[6], numbers[7]
    assert len(per_day) == 30
    assert sum(int(n) for n in per_day.values()) == sum(int(n) for n in verdicts.values()) > 0
    assert int(verdicts["Genuine"]) >= 1 and int(verdicts["Blocked"]) >= 1
    assert (
        alerts["Blocked code scanned"] == "1"
        and alerts["One pack scanned by too many shoppers"] == "0"
    )
    assert "Consumers' scans in the last 30 days:" in _words(response)


def test_association_admin_sets_a_brands_scan_rules(client, demo, session) -> None:
    from app.resolver.models import ScanRule

    _sign_in(client, demo, "association_admin")
    slug = demo["brand"]["slug"]
    page = _words(client.get("/portal/scan-rules"))
    assert "Too many shoppers for one pack" in page and "default" in page
    assert 'value="20"' in client.get("/portal/scan-rules").get_data(as_text=True)
    token = _csrf(client, "/portal/scan-rules")
    before = _activity(session)

    path = f"/portal/scan-rules/{slug}/many_clients"
    missing = client.post(path, data={"csrf_token": token, "is_enabled": "true", "threshold": "5"})
    assert missing.status_code == 422
    html = missing.get_data(as_text=True)
    assert 'id="e-many_clients-window_minutes"' in html and "Required for this rule." in html
    assert 'id="f-many_clients-threshold" name="threshold" value="5"' in html  # kept as typed
    too_big = client.post(
        path,
        data={"csrf_token": token, "is_enabled": "true", "threshold": "0", "window_minutes": "x"},
    )
    assert too_big.status_code == 422 and 'id="e-many_clients-threshold"' in too_big.get_data(
        as_text=True
    )
    forged = client.post(path, data={"threshold": "5", "window_minutes": "30"}, headers=HTML)
    assert forged.status_code == 403
    assert session.scalar(select(ScanRule)) is None and _activity(session) == before

    done = client.post(
        path,
        data={"csrf_token": token, "is_enabled": "true", "threshold": "5", "window_minutes": "30"},
    )
    assert done.status_code == 303
    off = client.post(f"/portal/scan-rules/{slug}/inactive_hit", data={"csrf_token": token})
    assert off.status_code == 303
    rules = {rule.kind.value: rule for rule in session.scalars(select(ScanRule))}
    assert (rules["many_clients"].threshold, rules["many_clients"].window_minutes) == (5, 30)
    assert rules["inactive_hit"].is_enabled is False and rules["inactive_hit"].threshold is None
    page = _words(client.get(f"/portal/scan-rules?brand={slug}"))
    assert "set by the association" in page
    # The API reads what the screen wrote.
    api = client.get(f"/api/v1/brands/{slug}/scan-rules", headers={"Accept": "application/json"})
    listed = {rule["kind"]: rule for rule in api.get_json()}
    assert listed["many_clients"]["threshold"] == 5 and not listed["many_clients"]["is_default"]

    zh = _words(client.get("/portal/scan-rules?lang=zh-CN"))
    assert "扫码预警规则" in zh


def test_scan_rules_are_read_only_for_staff_and_closed_to_others(client, demo, session) -> None:
    from app.resolver.models import ScanRule

    slug = demo["brand"]["slug"]
    _sign_in(client, demo, "association_staff")
    page = client.get("/portal/scan-rules").get_data(as_text=True)
    assert "Only the association's admins change these rules." in unescape(page)
    assert f"/portal/scan-rules/{slug}/" not in page  # no form to change a rule
    token = _csrf(client, "/portal/scan-rules")
    refused = client.post(
        f"/portal/scan-rules/{slug}/inactive_hit", data={"csrf_token": token}, headers=HTML
    )
    assert refused.status_code == 403
    client.post("/logout", data={"csrf_token": token})
    _sign_in(client, demo, "firm_admin")
    assert client.get("/portal/scan-rules", headers=HTML).status_code == 403
    _sign_in_new(client, session, OrgKind.ASSOCIATION, "other-assoc-rules")
    token = _csrf(client, "/portal/scan-rules")
    assert "Your association owns no brand yet." in _words(client.get("/portal/scan-rules"))
    other = client.post(
        f"/portal/scan-rules/{slug}/inactive_hit", data={"csrf_token": token}, headers=HTML
    )
    assert other.status_code == 404
    assert session.scalar(select(ScanRule)) is None


def test_the_association_reads_which_lot_a_copied_serial_was_issued_under(
    client, session, demo
) -> None:
    from tests.resolver.conftest import Shopper, path_of

    lot = demo["batch"]["lot"]
    copied = path_of(demo, "unit").replace(lot, "FAKELOT1")
    assert Shopper(client.application).get(copied).status_code == 404
    alert = session.scalar(
        select(ScanAlert).where(ScanAlert.lot == "FAKELOT1").order_by(ScanAlert.id.desc())
    )
    _sign_in(client, demo, "association_staff")
    page = _words(client.get(f"/portal/scan-alerts/{alert.id}"))
    assert f"with batch FAKELOT1, but that serial was issued under batch {lot}" in page
    assert "was ever issued" not in page
