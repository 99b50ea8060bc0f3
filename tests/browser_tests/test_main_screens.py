"""Every main screen of the portal, as each kind of person sees it, in Chromium: a desktop in
English and a phone in Chinese. Each screen answers, has a heading, fits the phone's width
(wide tables scroll inside their box; the page itself never scrolls sideways), breaks none of
axe-core's WCAG 2.1 A/AA rules or best practices, and is saved as
``test-artifacts/screen-<role>-<device>-<page>.png`` for people to look at."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser import DESKTOP, PHONE, LiveServer, accessibility_violations, sign_in

pytestmark = pytest.mark.browser

ROLES = ("association_admin", "firm_admin", "government_viewer")
# Screens reached from a menu entry, plus the detail pages people spend their time on.
DETAILS = {
    "association_admin": ["/portal/scan-alerts/1", "/portal/keys/key-1/revoke"],
    "firm_admin": ["/portal/label-orders/1", "/portal/scan-alerts/1", "/portal/firm/brands/apply"],
    "government_viewer": ["/portal/register/certificates", "/portal/fake-reports/1"],
}


def _menu(page: Any, server: LiveServer) -> list[str]:
    page.goto(f"{server.url}/portal")
    links = page.eval_on_selector_all("main a", "els => els.map(e => e.getAttribute('href'))")
    return sorted({link for link in links if link and link.startswith("/portal/")})


def _name(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.removeprefix("/portal").lower()).strip("-") or "home"


@pytest.mark.parametrize("role", ROLES)
def test_main_screens_on_a_desktop_and_a_phone(
    live_server, browser, artifacts_dir: Path, role: str
) -> None:
    desktop = browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = desktop.new_page()
    sign_in(page, live_server, role)
    screens = _menu(page, live_server) + DETAILS[role]
    assert len(screens) >= 6
    state = desktop.storage_state()
    phone = browser.new_context(
        viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True, storage_state=state
    )
    phone_page = phone.new_page()
    problems = []
    try:
        for device, tab, width in (
            ("desktop", page, DESKTOP["width"]),
            ("phone", phone_page, PHONE["width"]),
        ):
            for path in screens:
                response = tab.goto(f"{live_server.url}{path}")
                if response is None or response.status != 200:
                    problems.append(f"{device} {path}: {response.status if response else '-'}")
                    continue
                if tab.locator("main h1").count() != 1:
                    problems.append(f"{device} {path}: no single heading")
                wide = tab.evaluate("document.documentElement.scrollWidth")
                if wide > width:
                    problems.append(f"{device} {path}: {wide}px wide")
                problems.extend(f"{device} {path}: {v}" for v in accessibility_violations(tab))
                tab.screenshot(
                    path=str(artifacts_dir / f"screen-{role}-{device}-{_name(path)}.png"),
                    full_page=True,
                )
    finally:
        desktop.close()
        phone.close()
    assert problems == [], "\n".join(problems)


def test_filter_forms_fit_a_phone_in_english(live_server, phone_page) -> None:
    # English option texts are longer than the Chinese ones: a filter's select (what happened:
    # "Label scanned before activation (leaked label?)") widened the page.
    sign_in(phone_page, live_server, "government_viewer")
    for path in ("/portal/scan-alerts", "/portal/fake-reports", "/portal/register/certificates"):
        phone_page.goto(f"{live_server.url}{path}?lang=en")
        wide = phone_page.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], f"{path}: {wide}px wide"
