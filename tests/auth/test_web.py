"""Browser sign-in: sessions, CSRF, sign-out, password change, rate limits."""

from __future__ import annotations

import re

import pytest

PASSWORD = "brandtrace-demo-2026"


def _csrf(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def _sign_in(client, email: str, password: str = PASSWORD):
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": _csrf(client)}
    )


def test_sign_in_sets_a_hardened_session_cookie_and_shows_the_account(client, demo) -> None:
    response = _sign_in(client, demo["users"]["firm_admin"]["username"])
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    account = client.get("/account")
    assert account.status_code == 200
    assert "hongxiang" in account.get_data(as_text=True).lower() or "红香" in account.get_data(
        as_text=True
    )


def test_wrong_password_shows_the_error_next_to_the_field(client, demo) -> None:
    response = _sign_in(client, demo["users"]["firm_admin"]["username"], "wrong-password")
    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert 'id="password-error"' in text
    # The e-mail the person typed is kept.
    assert demo["users"]["firm_admin"]["username"] in text


def test_forged_post_without_csrf_token_is_refused(client, demo) -> None:
    response = client.post(
        "/login",
        data={"email": demo["users"]["firm_admin"]["username"], "password": PASSWORD},
        headers={"Accept": "text/html"},
    )
    assert response.status_code == 403
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302  # still signed out


def test_session_api_writes_need_the_csrf_header(client, demo) -> None:
    _sign_in(client, demo["users"]["firm_admin"]["username"])
    assert client.get("/api/v1/me").status_code == 200
    refused = client.post("/api/v1/tokens", json={"name": "from-browser"})
    assert refused.status_code == 403
    assert refused.get_json()["type"].endswith("/problems/csrf-failed")
    token = _csrf(client, "/account/password")
    accepted = client.post(
        "/api/v1/tokens", json={"name": "from-browser"}, headers={"X-CSRF-Token": token}
    )
    assert accepted.status_code == 201


def test_sign_out_ends_the_session(client, demo) -> None:
    _sign_in(client, demo["users"]["firm_admin"]["username"])
    token = _csrf(client, "/account")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/api/v1/me").status_code == 401


def test_a_copy_of_the_session_cookie_stops_working_at_sign_out(app, client, demo, session) -> None:
    from sqlalchemy import func, select

    from app.activity.models import ActivityRecord
    from app.auth.models import EndedSession, User

    _sign_in(client, demo["users"]["firm_admin"]["username"])
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None
    copy = app.test_client()  # a shared computer, a stolen backup: the same signed cookie
    copy.set_cookie(name, cookie.value)
    assert copy.get("/api/v1/me").status_code == 200
    # Another session of the same person is not touched by this sign-out.
    other = app.test_client()
    _sign_in(other, demo["users"]["firm_admin"]["username"])
    assert client.post("/logout", data={"csrf_token": _csrf(client, "/account")}).status_code == 303
    assert copy.get("/api/v1/me").status_code == 401
    assert copy.get("/portal").status_code == 302
    assert other.get("/api/v1/me").status_code == 200
    assert session.scalar(select(func.count()).select_from(EndedSession)) == 1
    # The activity trail names who signed out.
    signed_out = session.scalars(
        select(ActivityRecord).where(ActivityRecord.action == "web_auth.logout")
    ).one()
    email = demo["users"]["firm_admin"]["username"]
    assert signed_out.user_id == session.scalar(select(User.id).where(User.email == email))


def test_a_session_cookie_without_its_id_is_refused(app, demo) -> None:
    # Cookies signed before sessions carried an id (or forged without one) do not sign anyone in.
    client = app.test_client()
    with client.session_transaction() as web_session:
        web_session["user_id"] = 1
        web_session["generation"] = 0
    assert client.get("/api/v1/me").status_code == 401


def test_password_change_signs_out_other_sessions(app, demo) -> None:
    first, second = app.test_client(), app.test_client()
    email = demo["users"]["firm_staff"]["username"]
    _sign_in(first, email)
    _sign_in(second, email)
    token = _csrf(first, "/account/password")
    changed = first.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "a-brand-new-password",
            "confirm_password": "a-brand-new-password",
        },
    )
    assert changed.status_code == 303
    assert first.get("/api/v1/me").status_code == 200
    assert second.get("/api/v1/me").status_code == 401
    assert _sign_in(app.test_client(), email, "a-brand-new-password").status_code == 303


def test_password_change_errors_are_shown_next_to_fields(client, demo) -> None:
    _sign_in(client, demo["users"]["firm_staff"]["username"])
    token = _csrf(client, "/account/password")
    response = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "short",
            "confirm_password": "short",
        },
    )
    assert response.status_code == 422
    assert 'id="new_password-error"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/phish",
        "/\\evil.example/phish",
        # Browsers drop tabs and line breaks: these are followed as //evil.example/phish.
        "/\t/evil.example/phish",
        "/\n/evil.example/phish",
        "/\r\n/evil.example/phish",
        "https://evil.example/phish",
    ],
)
def test_open_redirects_are_not_followed(app, demo, target) -> None:
    client = app.test_client()
    token = _csrf(client)
    response = client.post(
        "/login",
        data={
            "email": demo["users"]["firm_admin"]["username"],
            "password": PASSWORD,
            "csrf_token": token,
            "next": target,
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_sign_in_goes_on_to_the_page_asked_for(client, demo) -> None:
    token = _csrf(client)
    response = client.post(
        "/login",
        data={
            "email": demo["users"]["firm_admin"]["username"],
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/portal/products?status=active",
        },
    )
    assert response.headers["Location"] == "/portal/products?status=active"


def test_sign_in_is_rate_limited(client, demo) -> None:
    statuses = [
        _sign_in(client, demo["users"]["firm_admin"]["username"], "wrong-password").status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_sign_in_page_renders_in_both_languages(client, locale) -> None:
    text = client.get(f"/login?lang={locale}").get_data(as_text=True)
    assert ("登录" in text) == (locale == "zh-CN")


def _change_password(client, new: str = "a-brand-new-password") -> None:
    token = _csrf(client, "/account/password")
    changed = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": new,
            "confirm_password": new,
        },
    )
    assert changed.status_code == 303


def _sign_in_page_after(client, path: str = "/portal") -> str:
    response = client.get(path)
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_session_ended_by_a_password_change_elsewhere_says_so(app, demo) -> None:
    first, second = app.test_client(), app.test_client()
    second.set_cookie("lang", "zh-CN")
    email = demo["users"]["firm_staff"]["username"]
    _sign_in(first, email)
    _sign_in(second, email)
    _change_password(first)
    page = _sign_in_page_after(second)
    assert "您的密码已在另一会话中修改，请重新登录。" in page
    # Said once: reloading the sign-in page does not repeat it.
    assert "重新登录" not in second.get("/login").get_data(as_text=True)


def test_a_session_that_timed_out_says_so(app, client, demo) -> None:
    _sign_in(client, demo["users"]["firm_staff"]["username"])
    # The browser drops the session cookie when its 8 hours are up.
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    page = _sign_in_page_after(client, "/account")
    assert "Your session has ended; sign in again." in page


def test_no_session_notice_for_new_visitors_or_after_signing_out(app, client, demo) -> None:
    assert "session has ended" not in _sign_in_page_after(client)
    _sign_in(client, demo["users"]["firm_staff"]["username"])
    assert client.post("/logout", data={"csrf_token": _csrf(client, "/account")}).status_code == 303
    assert "session has ended" not in _sign_in_page_after(client)
