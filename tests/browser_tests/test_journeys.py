"""The issue's journeys end to end in headless Chromium, against the app served over HTTP.

Screenshots of each main screen go to ``test-artifacts/``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.browser import sign_in

pytestmark = pytest.mark.browser


def _shot(page, artifacts_dir: Path, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"{name}.png"), full_page=True)


def test_observer_reads_the_register_exports_it_and_checks_the_log(
    live_server, desktop_page, artifacts_dir
) -> None:
    page = desktop_page
    sign_in(page, live_server, "government_viewer")
    page.goto(f"{live_server.url}/portal")
    page.click("main >> text=Brand register")
    page.wait_for_load_state("networkidle")
    assert "Qimen Black Tea" in page.inner_text("main")
    _shot(page, artifacts_dir, "observer-register-brands")

    page.click("nav.tabs >> text=Certificates")
    page.select_option("select[name=status]", "active")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    table = page.inner_text("table.table")
    number = live_server.demo["certificate"]["number"]
    assert number in table and "✓ In force" in table
    assert live_server.demo["certificate_suspended"]["number"] not in table
    _shot(page, artifacts_dir, "observer-register-certificates")

    with page.expect_download() as download_info:
        page.click("text=Download these certificates as CSV")
    download = download_info.value
    assert download.suggested_filename.startswith("certificates-")
    text = Path(download.path()).read_text("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["number"] for row in rows] == [number]
    assert rows[0]["in_force"] == "yes" and rows[0]["holder_name_zh"] == "祁门红香茶业有限公司"

    page.goto(f"{live_server.url}/portal/statistics")
    assert page.locator("svg.chart").count() >= 5
    _shot(page, artifacts_dir, "observer-statistics")

    page.goto(f"{live_server.url}/portal/transparency")
    assert "The monitor check passes." in page.inner_text("#monitor-verdict")
    _shot(page, artifacts_dir, "observer-transparency-log")


def test_observer_register_in_chinese_on_a_phone(live_server, phone_page, artifacts_dir) -> None:
    page = phone_page
    sign_in(page, live_server, "alliance_viewer")
    page.goto(f"{live_server.url}/portal/register/members")
    main = page.inner_text("main")
    assert "会员企业" in main and "祁门红香茶业有限公司" in main
    _shot(page, artifacts_dir, "observer-register-members-zh-phone")
