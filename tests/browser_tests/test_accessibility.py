"""The pages anyone can open, checked by axe-core in Chromium, in both languages: the scan page
for every verdict, the manual check, the fake-report form, the brands, the certificate register
and a certificate's page. None may break a WCAG 2.1 A/AA rule or an axe best practice (the
portal's screens are checked the same way in ``test_main_screens``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import DESKTOP, PHONE, accessibility_violations

pytestmark = pytest.mark.browser


def _public_pages(server: Any) -> list[str]:
    demo = server.demo
    unknown = f"/01/{demo['product']['gtin']}/10/{demo['batch']['lot']}/21/NOTISSUED0001"
    scans = [
        demo[key]["digital_link"].removeprefix(server.url)
        for key in ("unit", "unit_inactive", "unit_blacklisted", "unit_suspended")
    ]
    return [
        "/",
        *scans,
        unknown,
        "/verify",
        f"/report?code={scans[0]}",
        "/brands",
        f"/brands/{demo['brand']['slug']}",
        "/certificates",
        "/certificates?q=QTA",
        demo["certificate"]["url"].removeprefix(server.url),
    ]


@pytest.mark.parametrize(
    ("locale", "viewport"), [("zh-CN", PHONE), ("en-GB", DESKTOP)], ids=["zh-phone", "en-desktop"]
)
def test_public_pages_break_no_accessibility_rule(live_server, browser, locale, viewport) -> None:
    context = browser.new_context(viewport=viewport, locale=locale, is_mobile=viewport == PHONE)
    page = context.new_page()
    problems: list[str] = []
    try:
        for path in _public_pages(live_server):
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.status in (200, 404), path
            lang = page.locator("html").get_attribute("lang") or ""
            assert lang == ("zh-CN" if locale == "zh-CN" else "en"), (path, lang)
            problems.extend(f"{path}: {violation}" for violation in accessibility_violations(page))
    finally:
        context.close()
    assert problems == [], "\n".join(problems)


def test_the_check_finds_what_it_is_there_to_find(live_server, browser) -> None:
    # The rules are really applied: an image without words and an empty link are caught.
    page = browser.new_page()
    try:
        page.goto(f"{live_server.url}/")
        assert accessibility_violations(page) == []
        page.evaluate(
            "document.querySelector('main').insertAdjacentHTML("
            "'beforeend', '<img src=\"/favicon.ico\"><a href=\"/brands\"></a>')"
        )
        found = " ".join(accessibility_violations(page))
        assert "image-alt" in found and "link-name" in found
    finally:
        page.close()
