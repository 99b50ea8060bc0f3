"""The consumer page in Chromium at a phone's size: each demo code's verdict, with screenshots;
the JSON and the linkset agree; small, self-contained, usable without JavaScript."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.browser import PHONE

pytestmark = pytest.mark.browser

CODES = {
    "unit": "GENUINE",
    "unit_inactive": "NOT_ACTIVATED",
    "unit_blacklisted": "BLOCKED",
    "unit_suspended": "NOT_VALID",
    "unknown": "NOT_FOUND",
}
TITLES_ZH = {
    "GENUINE": "正品",
    "NOT_ACTIVATED": "码未激活",
    "BLOCKED": "已停用的码",
    "NOT_VALID": "无效：认证未生效",
    "NOT_FOUND": "查无此码",
}
GS1 = "https://gs1.org/voc/"


def _url(server: Any, key: str) -> str:
    if key == "unknown":
        demo = server.demo
        return (
            f"{server.url}/01/{demo['product']['gtin']}/10/{demo['batch']['lot']}/21/NOTISSUED0001"
        )
    return server.demo[key]["digital_link"]


def _fetch(url: str, accept: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, headers={"Accept": accept})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize("key", list(CODES))
def test_each_verdict_on_a_phone(live_server, phone_page, artifacts_dir, key) -> None:
    verdict = CODES[key]
    transferred: list[int] = []
    origins: set[str] = set()

    def on_response(response: Any) -> None:
        origins.add(response.url.split("/", 3)[2])
        body = response.body() if response.request.method == "GET" else b""
        transferred.append(len(body) + sum(len(k) + len(v) for k, v in response.headers.items()))

    phone_page.on("response", on_response)
    response = phone_page.goto(_url(live_server, key))
    phone_page.wait_for_load_state("networkidle")
    assert response.status == (404 if verdict == "NOT_FOUND" else 200)
    heading = phone_page.locator("h1#verdict-title")
    assert heading.get_attribute("data-verdict") == verdict
    assert heading.inner_text() == TITLES_ZH[verdict]  # the phone prefers Chinese
    assert phone_page.locator("html").get_attribute("lang") == "zh-CN"
    # Words and a shape, not colour alone: the icon is hidden from screen readers.
    assert phone_page.locator("svg.rv-verdict-icon[aria-hidden=true]").count() == 1
    assert live_server.url.split("//")[1] in phone_page.locator(".rv-official").inner_text()
    # Mobile first: nothing wider than the screen.
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    phone_page.screenshot(path=str(artifacts_dir / f"resolver-{key}.png"), full_page=True)
    assert sum(transferred) < 100_000, transferred
    assert origins == {live_server.url.split("//")[1]}, origins

    status, document = _fetch(_url(live_server, key), "application/json")
    assert document["verdict"] == verdict
    linkset_status, linkset = _fetch(_url(live_server, key), "application/linkset+json")
    assert linkset_status == status
    assert linkset["linkset"][0][GS1 + "verificationService"][0]["verdict"] == [verdict]


def test_the_page_works_without_javascript_and_takes_a_report(
    live_server, browser, artifacts_dir
) -> None:
    context = browser.new_context(viewport=PHONE, locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(_url(live_server, "unknown"))
        # The report form is open for a code that is not ours.
        assert page.locator("details#report").get_attribute("open") is not None
        page.fill(
            "details#report textarea[name=description]", "Sold at a market stall, blurred print"
        )
        page.fill("details#report input[name=place]", "Tunxi Old Street")
        page.click("details#report button[type=submit]")
        page.wait_for_load_state("load")
        assert "your report was received" in page.locator("h1").inner_text()
        page.screenshot(path=str(artifacts_dir / "resolver-report-sent.png"), full_page=True)
        # The language switch is a plain link.
        page.goto(_url(live_server, "unit"))
        page.click("nav.rv-lang a[lang=zh-CN]")
        assert page.locator("h1#verdict-title").inner_text() == "正品"
        assert "lang=zh-CN" in page.url
    finally:
        context.close()


def test_typing_the_code_by_hand(live_server, desktop_page, artifacts_dir) -> None:
    page = desktop_page
    unit = live_server.demo["unit_blacklisted"]["digital_link"]
    gtin, _, lot, _, serial = unit.split("/01/", 1)[1].split("/")
    page.goto(f"{live_server.url}/verify")
    page.fill("input[name=code]", f"(01){gtin}(10){lot}(21){serial}")
    page.click("form button[type=submit]")
    page.wait_for_load_state("load")
    assert page.locator("h1#verdict-title").get_attribute("data-verdict") == "BLOCKED"
    page.screenshot(path=str(artifacts_dir / "resolver-manual-check.png"), full_page=True)
    page.goto(f"{live_server.url}/verify?code=nonsense")
    assert page.locator("input[name=code]").get_attribute("aria-invalid") == "true"
    assert page.locator("#code-error").is_visible()


def test_in_app_browsers_get_the_page(live_server, browser) -> None:
    wechat = (
        "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/116.0 Mobile Safari/537.36 MicroMessenger/8.0.44 NetType/WIFI Language/zh_CN"
    )
    context = browser.new_context(viewport=PHONE, user_agent=wechat, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(_url(live_server, "unit_suspended"))
        assert page.locator("h1#verdict-title").get_attribute("data-verdict") == "NOT_VALID"
        from app.certificates.demo import SUSPENSION_REASON

        assert SUSPENSION_REASON.split("/")[0].strip() in page.locator(".rv-reasons").inner_text()
    finally:
        context.close()
