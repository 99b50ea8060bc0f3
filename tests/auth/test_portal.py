"""Account pages in the portal: people, tokens, activity trail."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.auth.models import User
from tests.test_pages_matrix import _sign_in


def _csrf(client, path: str) -> str:
    return re.search(
        r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)
    ).group(1)


def test_admin_adds_a_person_and_errors_keep_the_form(client, demo, session) -> None:
    _sign_in(client, demo, "firm_admin")
    token = _csrf(client, "/portal/users")
    bad = client.post(
        "/portal/users",
        data={
            "csrf_token": token,
            "email": "new@hongxiang-tea.example",
            "display_name": "",
            "role": "staff",
            "password": "short",
        },
    )
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert 'id="e-display_name"' in text and 'id="e-password"' in text
    assert (
        'value="new@hongxiang-tea.example"' in text
        and "short" not in text.split("e-password")[0][-200:]
    )
    good = client.post(
        "/portal/users",
        data={
            "csrf_token": token,
            "email": "new@hongxiang-tea.example",
            "display_name": "New Person",
            "role": "staff",
            "password": "a-long-password-2",
        },
    )
    assert good.status_code == 303
    assert session.scalar(select(User).where(User.email == "new@hongxiang-tea.example")) is not None


def test_forged_form_post_without_csrf_changes_nothing(client, demo, session) -> None:
    _sign_in(client, demo, "firm_admin")
    response = client.post(
        "/portal/users",
        data={
            "email": "forged@x.example",
            "display_name": "F",
            "role": "admin",
            "password": "a-long-password-3",
        },
        headers={"Accept": "text/html"},
    )
    assert response.status_code == 403 and "CSRF" in response.get_data(as_text=True)
    assert session.scalar(select(User).where(User.email == "forged@x.example")) is None


def test_another_organisations_user_cannot_be_changed(client, demo, session) -> None:
    other = session.scalar(
        select(User).where(User.email == demo["users"]["firm2_admin"]["username"])
    )
    _sign_in(client, demo, "firm_admin")
    token = _csrf(client, "/portal/users")
    response = client.post(
        f"/portal/users/{other.id}", data={"csrf_token": token, "is_active": "0"}
    )
    assert response.status_code == 303
    session.refresh(other)
    assert other.is_active


def test_token_secret_is_shown_once_then_only_its_prefix(client, demo) -> None:
    _sign_in(client, demo, "firm_staff")
    token = _csrf(client, "/portal/tokens")
    created = client.post(
        "/portal/tokens",
        data={"csrf_token": token, "name": "laptop", "scopes": "*:read", "expires_in_days": "30"},
    )
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    secret = re.search(
        r'<code id="new-token">([^<]+)</code>', created.get_data(as_text=True)
    ).group(1)
    assert secret.startswith("bt_")
    again = client.get("/portal/tokens").get_data(as_text=True)
    assert secret not in again and secret[:10] in again


def test_activity_trail_page_lists_writes(client, demo) -> None:
    _sign_in(client, demo, "firm_admin")
    token = _csrf(client, "/portal/tokens")
    client.post(
        "/portal/tokens",
        data={"csrf_token": token, "name": "x", "scopes": "*:read", "expires_in_days": "5"},
    )
    page = client.get("/portal/activity?action=tokens").get_data(as_text=True)
    assert "auth_portal.tokens" in page
