"""The issue's journeys end to end in headless Chromium, through the real screens of every
portal, against the app served over HTTP on a database of its own:

1. the association publishes a standard version, audits a member firm, a different person
   decides, and a certificate is issued;
2. the firm registers the certified product, records a batch, orders labels (the association
   approves them), marks them printed, activates them and records a traceability event;
3. a shopper's phone shows GENUINE for one of those labels (its QR code's Digital Link);
4. the association suspends the certificate and the same label turns NOT_VALID;
5. an observer finds the certificate suspended in the register and exports the register.

Screenshots of each main screen go to ``test-artifacts/journey-*.png``.
"""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.gs1.identifiers import compute_check_digit
from tests.browser import DESKTOP, PHONE, LiveServer, fill_audit_results, sign_in
from tests.conftest import fresh_database, make_test_config, migrate_and_seed

pytestmark = pytest.mark.browser

VERSION = "2027.1"
GTIN_BODY = "692345678911"
GTIN = GTIN_BODY + compute_check_digit(GTIN_BODY)  # a Hongxiang product of this journey only
LOT = "JOURNEY-01"
ORDERED = 12


@pytest.fixture(scope="module")
def journey_server(tmp_path_factory: pytest.TempPathFactory, key_dir: Path) -> Iterator[LiveServer]:
    """The app over HTTP on a fresh demo database of its own, so the journey sees the demo as
    seeded whatever other browser tests did to theirs."""
    with fresh_database(tmp_path_factory.mktemp("journey"), "journey") as database_url:
        server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
        base_url = f"http://127.0.0.1:{server.socket.getsockname()[1]}"
        application = create_app(make_test_config(database_url, key_dir) | {"BASE_URL": base_url})
        server.app = application
        demo = migrate_and_seed(application)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield LiveServer(url=base_url, app=application, demo=demo)
        finally:
            server.shutdown()
            thread.join(timeout=5)


def _page(browser: Any, *, phone: bool = False, locale: str = "en-GB") -> Any:
    if phone:
        context = browser.new_context(
            viewport=PHONE, locale="zh-CN", device_scale_factor=2, is_mobile=True, has_touch=True
        )
    else:
        context = browser.new_context(viewport=DESKTOP, locale=locale)
    return context.new_page()


def _shot(page: Any, artifacts_dir: Path, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"journey-{name}.png"), full_page=True)


def _publish_audit_decide_issue(server: LiveServer, browser: Any, artifacts_dir: Path) -> str:
    """Journey 1, through the association's screens; returns the certificate number."""
    url = server.url
    admin = _page(browser)
    sign_in(admin, server, "association_admin")
    admin.goto(f"{url}/portal/standards")
    admin.click("text=T/QMTA 001-2024")
    admin.click("text=Draft a new version starting from 1.0")
    admin.fill("#f-version", VERSION)
    admin.fill("#f-effective_from", "2026-01-01")
    admin.click("button:has-text('Save the draft')")
    assert f"Draft {VERSION} saved." in admin.inner_text("main")
    admin.click("text=Back to the draft")
    admin.click("text=Publish…")
    admin.click(f"button:has-text('Publish version {VERSION}')")
    assert "Content hash" in admin.inner_text(".flash")
    _shot(admin, artifacts_dir, "1-standard-published")

    auditor = _page(browser)
    sign_in(auditor, server, "association_auditor")
    auditor.goto(f"{url}/portal/audits/new")
    auditor.select_option("#f-brand", "qimen-black-tea")
    auditor.select_option("#f-firm", "hongxiang-tea")
    auditor.select_option("#f-standard_version_id", label=f"T/QMTA 001-2024 {VERSION}")
    auditor.fill("#f-products-0-gtin", GTIN)
    auditor.fill("#f-products-0-name_zh", "祁门红茶 旅程装")
    auditor.fill("#f-products-0-name_en", "Keemun journey pack")
    auditor.fill("#f-sites-0-name", "红香茶业历口初制所")
    auditor.fill("#f-sites-0-address", "祁门县历口镇")
    auditor.fill("#f-sites-0-gln", "6931234000013")
    auditor.click("button:has-text('Open the audit')")
    audit_url = auditor.url
    assert re.search(r"/portal/audits/\d+$", audit_url)
    fill_audit_results(auditor)
    auditor.click("button:has-text('Save the results')")
    _shot(auditor, artifacts_dir, "1-audit-results")
    auditor.click("text=Sign off…")
    auditor.click("form.stack button:has-text('Sign off')")
    assert "awaits a decision" in auditor.inner_text(".flash")
    auditor.context.close()

    admin.goto(audit_url)
    admin.click("text=Decide…")
    admin.check("input[name=outcome][value=granted]")
    admin.fill("#f-reason", "全部强制性指标符合 / every mandatory criterion is met")
    admin.click("button:has-text('Record the decision')")
    assert "Certification granted" in admin.inner_text(".flash")
    admin.click("text=Issue a certificate on this decision")
    admin.fill("#f-label_quota", "1000")
    admin.click("button:has-text('Issue and sign the certificate')")
    number = re.search(r"/portal/certificates/([A-Z0-9-]+)$", admin.url).group(1)
    assert "in force" in admin.inner_text("main")
    _shot(admin, artifacts_dir, "1-certificate-issued")
    admin.context.close()
    return number


def _register_order_activate_record(
    server: LiveServer, browser: Any, artifacts_dir: Path
) -> list[dict[str, str]]:
    """Journey 2, through the firm's screens (the association approves the order on its own
    queue); returns the activated codes as the CSV download lists them."""
    url = server.url
    firm = _page(browser)
    sign_in(firm, server, "firm_admin")
    firm.goto(f"{url}/portal/products/new")
    firm.fill("#f-gtin", GTIN)
    firm.fill("#f-name_zh", "祁门红茶 旅程装")
    firm.fill("#f-name_en", "Keemun journey pack")
    firm.click("button.primary")
    firm.wait_for_url(re.compile(r"/portal/products/\d+$"))
    _shot(firm, artifacts_dir, "2-product")

    firm.click("text=Record a batch")
    firm.fill("#f-lot", LOT)
    firm.fill("#f-production_date", "2026-04-02")
    firm.fill("#f-quantity", "600")
    firm.fill("#f-production_site_gln", "6931234000013")
    firm.click("button.primary")
    firm.wait_for_url(re.compile(r"/portal/batches/\d+$"))
    batch_url = firm.url

    firm.click("text=Order labels")
    firm.fill("#f-quantity", str(ORDERED))
    firm.click("button.primary")
    firm.wait_for_url(re.compile(r"/portal/label-orders/\d+$"))
    order_url = firm.url
    order_id = order_url.rsplit("/", 1)[1]
    assert "waiting" in firm.inner_text("#order-status")

    association = _page(browser)
    sign_in(association, server, "association_staff")
    association.goto(f"{url}/portal/label-approvals")
    _shot(association, artifacts_dir, "2-association-label-queue")
    association.click(f"text=Approve order {order_id}")
    association.wait_for_load_state("networkidle")
    association.context.close()

    firm.goto(order_url)
    with firm.expect_navigation():
        firm.click("button:has-text('Mark as printed')")
    firm.click("a.button.primary")  # "Activate the labels…"
    firm.wait_for_url(re.compile(r"/activate$"))
    with firm.expect_navigation():
        firm.click("button.primary")
    assert "genuine" in firm.inner_text("#order-status")
    _shot(firm, artifacts_dir, "2-labels-active")
    with firm.expect_download() as download:
        firm.click("text=Codes as CSV")
    codes = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    assert len(codes) == ORDERED and all(row["gtin"].endswith(GTIN) for row in codes)

    firm.goto(batch_url)
    firm.click("text=Record an event")
    firm.click("text=Shipping")
    firm.select_option("#f-location_id", label="Likou tea factory")
    firm.select_option("#f-batch_id", label=f"{LOT} · Keemun journey pack")
    firm.fill("#f-quantity", str(ORDERED))
    firm.select_option("#f-uom", "H87")
    firm.click("button.primary")
    firm.wait_for_url(re.compile(r"/portal/trace/captures/"))
    assert "Succeeded" in firm.inner_text("#capture-status")
    _shot(firm, artifacts_dir, "2-event-recorded")
    firm.context.close()
    return codes


def _consumer_sees(browser: Any, artifacts_dir: Path, link: str, verdict: str, name: str) -> str:
    """Journeys 3 and 4: a shopper's phone opens the label's Digital Link (as a QR scanner
    would); returns the words of the verdict."""
    phone = _page(browser, phone=True)
    response = phone.goto(link)
    assert response is not None and response.status == 200
    heading = phone.locator("h1#verdict-title")
    assert heading.get_attribute("data-verdict") == verdict
    words = heading.inner_text()
    _shot(phone, artifacts_dir, name)
    phone.context.close()
    return words


def _suspend(server: LiveServer, browser: Any, artifacts_dir: Path, number: str) -> None:
    """Journey 4, first half: the association suspends the certificate with a reason."""
    admin = _page(browser)
    sign_in(admin, server, "association_admin")
    admin.goto(f"{server.url}/portal/certificates/{number}")
    admin.click("text=Suspend…")
    admin.fill("#f-reason", "监督抽检水分超标 / moisture above the limit in a sample")
    admin.click(f"button:has-text('Suspend certificate {number}')")
    assert f"Certificate {number} is suspended." in admin.inner_text(".flash")
    _shot(admin, artifacts_dir, "4-certificate-suspended")
    admin.context.close()


def _observer_exports(
    server: LiveServer, browser: Any, artifacts_dir: Path, number: str
) -> list[dict[str, str]]:
    """Journey 5: a market regulator finds the certificate in the register and exports it."""
    page = _page(browser)
    sign_in(page, server, "government_viewer")
    page.goto(f"{server.url}/portal")
    page.click("main >> text=Brand register")
    _shot(page, artifacts_dir, "5-register-brands")
    page.click("nav.tabs >> text=Certificates")
    page.fill("input[name=q]", number)
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    table = page.inner_text("table.table")
    assert number in table and "Suspended" in table and "✗ Not in force" in table
    _shot(page, artifacts_dir, "5-register-certificates")
    page.fill("input[name=q]", "")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    with page.expect_download() as download:
        page.click("text=Download these certificates as CSV")
    assert download.value.suggested_filename.startswith("certificates-")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    page.goto(f"{server.url}/portal/statistics")
    _shot(page, artifacts_dir, "5-statistics")
    page.goto(f"{server.url}/portal/transparency")
    assert "The monitor check passes." in page.inner_text("#monitor-verdict")
    _shot(page, artifacts_dir, "5-transparency-log")
    page.context.close()
    return rows


def test_certify_label_verify_suspend_and_observe(journey_server, browser, artifacts_dir) -> None:
    number = _publish_audit_decide_issue(journey_server, browser, artifacts_dir)
    codes = _register_order_activate_record(journey_server, browser, artifacts_dir)
    link = codes[0]["digital_link"]
    assert link.startswith(f"{journey_server.url}/01/0{GTIN}/10/{LOT}/21/")
    genuine = _consumer_sees(browser, artifacts_dir, link, "GENUINE", "3-consumer-genuine")
    assert genuine == "正品"  # the phone prefers Chinese
    _suspend(journey_server, browser, artifacts_dir, number)
    not_valid = _consumer_sees(browser, artifacts_dir, link, "NOT_VALID", "4-consumer-not-valid")
    assert not_valid != genuine
    rows = _observer_exports(journey_server, browser, artifacts_dir, number)
    exported = {row["number"]: row for row in rows}
    assert exported[number]["status"] == "suspended" and exported[number]["in_force"] == "no"
    assert exported[number]["gtins"] == "0" + GTIN
    assert exported[number]["standard_version"] == VERSION
    assert exported[number]["labels_issued"] == str(ORDERED)
    # The whole register, not only the page shown: the demo's certificates are there too.
    assert journey_server.demo["certificate"]["number"] in exported


def test_association_resolves_an_alert_and_triages_a_report(
    journey_server, browser, artifacts_dir
) -> None:
    """The demo's alert (a blocked code was scanned) and report (a code never issued), handled
    through the triage screens without JavaScript; the regulator then reads the outcome."""
    url = journey_server.url
    staff = _page(browser)
    sign_in(staff, journey_server, "association_staff")
    staff.goto(f"{url}/portal/scan-alerts?status=open")
    assert "Blocked code scanned" in staff.inner_text("table.table")
    _shot(staff, artifacts_dir, "triage-alerts")
    staff.click("table.table >> a:has-text('#')")
    staff.select_option("#f-resolution", "labels_blacklisted")
    staff.fill("#f-note", "标签早已冻结 / the labels were blocked before this scan")
    _shot(staff, artifacts_dir, "triage-alert")
    with staff.expect_navigation():
        staff.click("button:has-text('Resolve')")
    assert "resolved" in staff.inner_text(".flash")
    assert "Labels blacklisted" in staff.inner_text("#alert-status")

    staff.goto(f"{url}/portal/fake-reports")
    _shot(staff, artifacts_dir, "triage-reports")
    staff.click("table.table >> a:has-text('#')")
    staff.select_option("#f-status", "closed")
    staff.fill("#f-note", "已转交市场监管局 / passed to the market regulator")
    with staff.expect_navigation():
        staff.click("button:has-text('Save')")
    assert "Closed" in staff.inner_text("#report-status")
    _shot(staff, artifacts_dir, "triage-report")
    staff.context.close()

    regulator = _page(browser, locale="zh-CN")
    sign_in(regulator, journey_server, "government_viewer")
    regulator.goto(f"{url}/portal/fake-reports?status=closed")
    assert "已结案" in regulator.inner_text("table.table")
    regulator.click("table.table >> a:has-text('#')")
    assert "已转交市场监管局" in regulator.inner_text("main")
    assert regulator.locator("form[method=post] >> text=保存").count() == 0  # read only
    _shot(regulator, artifacts_dir, "triage-report-regulator-zh")
    regulator.context.close()


def test_observer_register_in_chinese_on_a_phone(live_server, phone_page, artifacts_dir) -> None:
    page = phone_page
    sign_in(page, live_server, "alliance_viewer")
    page.goto(f"{live_server.url}/portal/register/members")
    main = page.inner_text("main")
    assert "会员企业" in main and "祁门红香茶业有限公司" in main
    _shot(page, artifacts_dir, "observer-register-members-zh-phone")
