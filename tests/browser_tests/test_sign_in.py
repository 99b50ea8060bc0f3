"""Sign-in in a real browser: the form, the account page, sign-out, both languages."""

from __future__ import annotations

import pytest

from tests.browser import sign_in

pytestmark = pytest.mark.browser


def test_sign_in_and_out_in_chromium(live_server, desktop_page, artifacts_dir) -> None:
    page = desktop_page
    page.goto(f"{live_server.url}/login")
    page.screenshot(path=str(artifacts_dir / "sign-in.png"), full_page=True)
    sign_in(page, live_server, "association_admin")
    page.goto(f"{live_server.url}/account")
    assert "admin@qimen-tea.example" in page.content()
    page.screenshot(path=str(artifacts_dir / "account.png"), full_page=True)
    page.click("text=Sign out")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/account")
    assert page.url.startswith(f"{live_server.url}/login")


def test_wrong_password_is_explained_next_to_the_field(
    live_server, phone_page, artifacts_dir
) -> None:
    page = phone_page
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=email]", "admin@qimen-tea.example")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert page.locator("#password-error").inner_text() == "电子邮箱或密码错误。"
    assert page.input_value("input[name=email]") == "admin@qimen-tea.example"
    page.screenshot(path=str(artifacts_dir / "sign-in-error-zh.png"), full_page=True)
