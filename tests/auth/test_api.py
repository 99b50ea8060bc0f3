"""Account API: identity, users, tokens, and the precise errors of bad input."""

from __future__ import annotations

import pytest


def test_me_names_the_caller_and_organisation(api, demo) -> None:
    response = api("firm_admin").get("/api/v1/me")
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["email"] == demo["users"]["firm_admin"]["username"]
    assert body["organisation"]["slug"] == "hongxiang-tea"
    assert body["organisation"]["kind"] == "enterprise"
    assert "*:write" in body["token_scopes"]


def test_no_token_is_401_problem_json(api) -> None:
    response = api(None).get("/api/v1/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"].endswith("/problems/unauthenticated")
    assert problem["status"] == 401
    assert problem["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize(
    "header",
    ["Bearer bt_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer ", "bt_x", "Bearer nonsense"],
)
def test_bad_tokens_are_refused_precisely(client, header) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["type"].endswith("/problems/invalid-token")


def test_revoked_and_expired_tokens_stop_working(api, app, session) -> None:
    created = api("firm_admin").post("/api/v1/tokens", json={"name": "ci", "expires_in_days": 1})
    assert created.status_code == 201
    secret = created.get_json()["token"]
    assert secret.startswith("bt_")
    mine = api("firm_admin")
    mine.token = secret
    assert mine.get("/api/v1/me").status_code == 200
    revoked = api("firm_admin").delete(f"/api/v1/tokens/{created.get_json()['id']}")
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    denied = mine.get("/api/v1/me")
    assert denied.status_code == 401
    assert "revoked" in denied.get_json()["detail"]


def test_token_secret_is_shown_once_and_stored_only_as_hash(api, session) -> None:
    from sqlalchemy import select

    from app.auth.models import ApiToken

    created = api("firm_admin").post("/api/v1/tokens", json={"name": "once"}).get_json()
    listed = api("firm_admin").get("/api/v1/tokens").get_json()
    assert all("token" not in item for item in listed)
    stored = session.scalar(select(ApiToken).where(ApiToken.id == created["id"]))
    assert created["token"] not in (stored.token_hash, stored.display_prefix)
    assert len(stored.token_hash) == 64


def test_read_only_token_cannot_write(api) -> None:
    created = (
        api("firm_admin")
        .post("/api/v1/tokens", json={"name": "reader", "scopes": ["*:read"]})
        .get_json()
    )
    reader = api("firm_admin")
    reader.token = created["token"]
    assert reader.get("/api/v1/me").status_code == 200
    refused = reader.post("/api/v1/tokens", json={"name": "escalate"})
    assert refused.status_code == 403
    assert refused.get_json()["type"].endswith("/problems/insufficient-scope")


def test_unknown_fields_and_wrong_types_get_field_details(api) -> None:
    response = api("firm_admin").post(
        "/api/v1/tokens", json={"name": 5, "colour": "red", "expires_in_days": "10"}
    )
    assert response.status_code == 422
    problem = response.get_json()
    fields = {(e["field"], e["rule"]) for e in problem["errors"]}
    assert ("/name", "string_type") in fields
    assert ("/colour", "extra_forbidden") in fields
    assert ("/expires_in_days", "int_type") in fields


def test_malformed_json_is_400(api) -> None:
    response = api("firm_admin").post(
        "/api/v1/tokens", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.get_json()["type"].endswith("/problems/malformed-json")


def test_wrong_content_type_is_415(api) -> None:
    response = api("firm_admin").post(
        "/api/v1/tokens",
        data="name=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415


def test_oversize_body_is_413(api, app) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = api("firm_admin").post(
        "/api/v1/tokens", data=b"x" * (limit + 1), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_unknown_route_and_method_are_problem_json(api) -> None:
    assert api("firm_admin").get("/api/v1/nothing-here").status_code == 404
    response = api("firm_admin").put("/api/v1/me", json={})
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_admin_manages_users_of_own_organisation_only(api, demo) -> None:
    created = api("firm_admin").post(
        "/api/v1/users",
        json={
            "email": "qa@hongxiang-tea.example",
            "display_name": "QA",
            "role": "staff",
            "password": "a-long-password-1",
        },
    )
    assert created.status_code == 201
    user_id = created.get_json()["id"]
    # Another firm's admin cannot see or change this user.
    other = api("firm2_admin").patch(f"/api/v1/users/{user_id}", json={"role": "admin"})
    assert other.status_code == 404
    emails = [u["email"] for u in api("firm2_admin").get("/api/v1/users").get_json()]
    assert "qa@hongxiang-tea.example" not in emails


def test_duplicate_email_is_409_naming_the_field(api, demo) -> None:
    response = api("firm_admin").post(
        "/api/v1/users",
        json={
            "email": demo["users"]["firm2_admin"]["username"],
            "display_name": "X",
            "role": "staff",
            "password": "a-long-password-1",
        },
    )
    assert response.status_code == 409
    assert response.get_json()["errors"][0]["field"] == "email"


def test_disabling_a_user_revokes_their_tokens(api, demo) -> None:
    me = api("firm_admin").get("/api/v1/users").get_json()
    staff = next(u for u in me if u["email"] == demo["users"]["firm_staff"]["username"])
    assert api("firm_staff").get("/api/v1/me").status_code == 200
    response = api("firm_admin").patch(f"/api/v1/users/{staff['id']}", json={"is_active": False})
    assert response.status_code == 200
    assert api("firm_staff").get("/api/v1/me").status_code == 401


def test_admin_cannot_demote_themselves(api) -> None:
    me = api("firm_admin").get("/api/v1/me").get_json()
    response = api("firm_admin").patch(f"/api/v1/users/{me['user']['id']}", json={"role": "viewer"})
    assert response.status_code == 409


def test_problem_titles_follow_accept_language(api) -> None:
    response = api(None).get("/api/v1/me", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert response.get_json()["title"] == "需要身份验证"


def test_problem_details_follow_the_callers_language(api) -> None:
    response = api(None).get("/api/v1/me", headers={"Accept-Language": "zh-CN"})
    assert response.get_json()["detail"] == "请先登录或发送 API 令牌后再调用此接口。"
    english = api(None).get("/api/v1/me", headers={"Accept-Language": "en"})
    assert english.get_json()["detail"] == "Sign in or send an API token to use this endpoint."


def test_a_token_cannot_create_a_token_that_outlives_it(api, session) -> None:
    from sqlalchemy import func, select

    from app.auth.models import ApiToken

    short = api("firm_staff").post(
        "/api/v1/tokens",
        json={"name": "ci", "scopes": ["*:read", "accounts:write"], "expires_in_days": 7},
    )
    assert short.status_code == 201
    minting = api("firm_staff")
    minting.token = short.get_json()["token"]
    before = session.scalar(select(func.count()).select_from(ApiToken))

    refused = minting.post(
        "/api/v1/tokens", json={"name": "forever", "scopes": ["*:read"], "expires_in_days": 366}
    )
    assert refused.status_code == 403, refused.get_data(as_text=True)
    problem = refused.get_json()
    assert problem["type"].endswith("/problems/token-outlives-caller")
    assert problem["errors"][0]["field"] == "/expires_in_days"
    assert session.scalar(select(func.count()).select_from(ApiToken)) == before

    within = minting.post(
        "/api/v1/tokens", json={"name": "shorter", "scopes": ["*:read"], "expires_in_days": 6}
    )
    assert within.status_code == 201
    assert within.get_json()["expires_at"] < short.get_json()["expires_at"]


def test_guessing_the_current_password_through_the_api_is_rate_limited(api) -> None:
    """Changing the password proves the current one: a stolen token may not guess it without
    limit, and the count is the account's, whichever address the guesses come from."""
    guesser = api("alliance_viewer")
    statuses = []
    for attempt in range(11):
        statuses.append(
            guesser.post(
                "/api/v1/me/password",
                json={"current_password": f"guess-{attempt}", "new_password": "a-long-password-9"},
                environ_overrides={"REMOTE_ADDR": f"203.0.113.{attempt}"},
            ).status_code
        )
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    # Another account is not held up.
    other = api("government_viewer").post(
        "/api/v1/me/password",
        json={"current_password": "guess", "new_password": "a-long-password-9"},
    )
    assert other.status_code == 401


def test_a_token_made_by_a_token_without_a_lifetime_ends_with_it(api) -> None:
    short = api("firm_staff").post(
        "/api/v1/tokens", json={"name": "ci", "scopes": ["*:read", "*:write"], "expires_in_days": 3}
    )
    minting = api("firm_staff")
    minting.token = short.get_json()["token"]
    made = minting.post("/api/v1/tokens", json={"name": "child"})
    assert made.status_code == 201, made.get_data(as_text=True)
    assert made.get_json()["expires_at"] == short.get_json()["expires_at"]
