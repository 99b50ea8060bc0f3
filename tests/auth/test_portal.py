"""Account pages in the portal: people, tokens, activity trail."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from app.auth import services
from app.auth.errors import TokenAlreadyRevoked
from app.auth.models import ApiToken, User
from app.auth.services import caller_for
from tests.portalkit import HTML, as_role, post, text
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
    assert "Created an API token" in page and "/portal/tokens" in page


# ---- revoking an API token: a confirmation page, then once only ---------------------------


def _user(session, demo, role: str) -> User:
    email = demo["users"][role]["username"]
    return session.scalar(select(User).where(User.email == email))


def _new_token(session, demo, role: str, name: str) -> ApiToken:
    issued = services.issue_token(session, _user(session, demo, role), name=name)
    session.commit()
    return issued.token


def test_revoking_a_token_asks_first_then_revokes_it_once(app, demo, session) -> None:
    token = _new_token(session, demo, "firm_staff", "build server")
    staff = as_role(app, demo, "firm_staff")
    listing = text(staff.get("/portal/tokens"))
    path = f"/portal/tokens/{token.id}/revoke"
    # The list only links to the confirmation: no form there revokes anything.
    assert f'href="{path}"' in listing and f'action="{path}"' not in listing

    asked = staff.get(path)
    page = text(asked)
    assert asked.status_code == 200 and "Revoke token build server?" in page
    assert "This cannot be undone." in page and token.display_prefix in page
    session.refresh(token)
    assert token.revoked_at is None  # showing the question changes nothing

    forged = staff.post(path, headers=HTML)  # no CSRF token
    assert forged.status_code == 403
    session.refresh(token)
    assert token.revoked_at is None

    done = post(staff, path)
    assert done.status_code == 303 and done.headers["Location"].endswith("/portal/tokens")
    session.refresh(token)
    revoked_at = token.revoked_at
    assert revoked_at is not None
    assert "Token build server is revoked." in text(staff.get("/portal/tokens"))

    again = post(staff, path)  # a double click or a resent form
    assert again.status_code == 409
    assert "already revoked" in text(again) and "nothing changed" in text(again)
    assert 'type="submit"' not in text(again).split("already-revoked")[1]
    session.refresh(token)
    assert token.revoked_at == revoked_at


def test_tokens_of_others_cannot_be_seen_or_revoked(app, demo, session) -> None:
    colleague = _new_token(session, demo, "firm_admin", "admin's own")
    elsewhere = _new_token(session, demo, "firm2_admin", "other firm's")
    staff = as_role(app, demo, "firm_staff")
    for token in (colleague, elsewhere):  # a colleague's (staff see their own only), another firm's
        path = f"/portal/tokens/{token.id}/revoke"
        assert staff.get(path, headers=HTML).status_code == 404
        assert post(staff, path).status_code == 404
    admin = as_role(app, demo, "firm_admin")
    assert post(admin, f"/portal/tokens/{elsewhere.id}/revoke").status_code == 404
    for token in (colleague, elsewhere):
        session.refresh(token)
        assert token.revoked_at is None


def test_an_admin_revokes_a_colleagues_token_and_sees_whose_it_is(app, demo, session) -> None:
    token = _new_token(session, demo, "firm_staff", "staff laptop")
    staff_user = _user(session, demo, "firm_staff")
    admin = as_role(app, demo, "firm_admin")
    page = text(admin.get(f"/portal/tokens/{token.id}/revoke"))
    assert staff_user.display_name in page and staff_user.email in page
    chinese = text(admin.get(f"/portal/tokens/{token.id}/revoke?lang=zh-CN"))
    assert "要吊销令牌 staff laptop 吗？" in chinese and "此操作无法撤回。" in chinese
    assert post(admin, f"/portal/tokens/{token.id}/revoke").status_code == 303
    session.refresh(token)
    assert token.revoked_at is not None


def _owners_in_order(html: str) -> list[str]:
    body = re.split(r"<tbody[^>]*>", html)[1].split("</tbody>")[0]
    return re.findall(r'<tr[^>]*><td[^>]*>[^<]*</td><td[^>]*>([^<]*?) <span class="muted">', body)


def test_an_admins_token_list_shows_owners_sortable_and_filterable(app, demo, session) -> None:
    _new_token(session, demo, "firm_staff", "staff token")
    _new_token(session, demo, "firm_admin", "admin token")
    staff_user = _user(session, demo, "firm_staff")
    admin_user = _user(session, demo, "firm_admin")
    admin = as_role(app, demo, "firm_admin")

    listing = text(admin.get("/portal/tokens?sort=owner&dir=asc&per_page=100"))
    assert "Owner" in listing and staff_user.email in listing and admin_user.email in listing
    owners = _owners_in_order(listing)
    assert owners and owners == sorted(owners)
    descending = _owners_in_order(
        text(admin.get("/portal/tokens?sort=owner&dir=desc&per_page=100"))
    )
    assert descending == sorted(owners, reverse=True)

    only_staff = text(admin.get(f"/portal/tokens?owner={staff_user.email}&per_page=100"))
    assert set(_owners_in_order(only_staff)) == {staff_user.display_name}
    assert "admin token" not in only_staff and "staff token" in only_staff

    # Staff see their own tokens only, so no owner column or filter.
    mine = text(as_role(app, demo, "firm_staff").get("/portal/tokens"))
    assert 'name="owner"' not in mine and "admin token" not in mine


def test_of_two_revocations_at_once_only_one_revokes(session, demo) -> None:
    """The twin's revocation lands between this one's reading the token and revoking it: the
    conditional update finds nothing to do, and the first revocation's time stands."""
    token = _new_token(session, demo, "firm_staff", "twin")
    staff = caller_for(_user(session, demo, "firm_staff"))
    assert services.get_token(session, staff, token.id).revoked_at is None  # read, still active
    earlier = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id)
        .values(revoked_at=earlier)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(TokenAlreadyRevoked):
        services.revoke_token(session, staff, token.id, only_if_active=True)
    assert token.revoked_at == earlier
    # The API's revocation stays idempotent: no error, nothing changed.
    assert services.revoke_token(session, staff, token.id).revoked_at == earlier


def test_form_errors_on_the_account_pages_are_in_the_pages_language(app, demo) -> None:
    """A Chinese page says what is wrong in Chinese, not in the validator's English."""
    admin = as_role(app, demo, "firm_admin", lang="zh_CN")
    people = post(
        admin,
        "/portal/users",
        {"email": "bad", "display_name": "", "role": "staff", "password": "short"},
    )
    assert people.status_code == 422
    page = text(people)
    assert "should" not in page
    assert "格式不正确。" in page and "必填。" in page and "至少 10 个字符。" in page

    staff = as_role(app, demo, "firm_staff", lang="zh_CN")
    for fields, words in (
        ({"name": "ci", "scopes": "*:read", "expires_in_days": "999"}, "不得大于 366。"),
        ({"name": "ci", "scopes": "*:read", "expires_in_days": "abc"}, "请填写整数。"),
        ({"name": "ci", "scopes": "bogus", "expires_in_days": "90"}, "无效的权限范围"),
    ):
        tokens = post(staff, "/portal/tokens", fields)
        assert tokens.status_code == 422
        page = text(tokens)
        assert "should" not in page and "invalid scope" not in page
        assert words in page, fields


@pytest.mark.parametrize("fields", [{"role": "superuser"}, {"is_active": "yes"}])
def test_a_forged_change_of_a_colleague_is_refused_not_saved(app, demo, session, fields) -> None:
    staff = session.scalar(
        select(User).where(User.email == demo["users"]["firm_staff"]["username"])
    )
    client = as_role(app, demo, "firm_admin")
    response = post(client, f"/portal/users/{staff.id}", fields)
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"], headers=HTML))
    assert "Choose one of the options." in page and "Saved." not in page
    session.refresh(staff)
    assert staff.role == "staff" and staff.is_active
