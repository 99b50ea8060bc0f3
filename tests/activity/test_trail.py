"""Every write is recorded (who, what, when, which request); admins read the trail."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from app.activity.models import ActivityRecord
from app.auth.models import User
from tests.portalkit import as_role, post
from tests.portalkit import text as page_text


def test_a_write_records_user_organisation_token_and_request_id(api, demo) -> None:
    response = api("firm_admin").post("/api/v1/tokens", json={"name": "trail"})
    assert response.status_code == 201
    trail = api("firm_admin").get("/api/v1/activity").get_json()
    newest = trail["items"][0]
    assert newest["action"] == "auth.create_token"
    assert newest["method"] == "POST" and newest["status"] == 201
    assert newest["request_id"] == response.headers["X-Request-ID"]
    assert newest["target"] == f"token:{response.get_json()['id']}"
    assert newest["user_id"] is not None and newest["token_id"] is not None


def test_failed_writes_leave_no_trail(api) -> None:
    before = api("firm_admin").get("/api/v1/activity").get_json()["items"]
    api("firm_admin").post("/api/v1/tokens", json={"name": ""})  # 422
    after = api("firm_admin").get("/api/v1/activity").get_json()["items"]
    assert [r["id"] for r in after] == [r["id"] for r in before]


def test_trail_is_scoped_to_the_callers_organisation_and_admins(api) -> None:
    api("firm_admin").post("/api/v1/tokens", json={"name": "firm one"})
    other = api("firm2_admin").get("/api/v1/activity").get_json()["items"]
    assert (
        all(item["action"] != "auth.create_token" or item["user_id"] is None for item in other)
        or other == []
    )
    assert api("firm_staff").get("/api/v1/activity").status_code == 403


def test_trail_pages_with_cursor_and_link_header(api) -> None:
    for index in range(3):
        api("firm_admin").post("/api/v1/tokens", json={"name": f"p{index}"})
    first = api("firm_admin").get("/api/v1/activity?limit=2")
    body = first.get_json()
    assert len(body["items"]) == 2 and body["limit"] == 2 and body["next_cursor"]
    assert 'rel="next"' in first.headers["Link"]
    second = (
        api("firm_admin").get(f"/api/v1/activity?limit=2&cursor={body['next_cursor']}").get_json()
    )
    assert {r["id"] for r in second["items"]}.isdisjoint({r["id"] for r in body["items"]})
    bad = api("firm_admin").get("/api/v1/activity?cursor=%%%")
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "cursor"
    unknown = api("firm_admin").get("/api/v1/activity?colour=red")
    assert (
        unknown.status_code == 422 and unknown.get_json()["errors"][0]["rule"] == "extra_forbidden"
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE activity_records SET action = 'forged'",
        "DELETE FROM activity_records",
    ],
)
def test_the_trail_is_append_only_in_the_database(api, session, statement) -> None:
    api("firm_admin").post("/api/v1/tokens", json={"name": "recorded"})
    assert session.query(ActivityRecord).count() > 0
    with pytest.raises(DatabaseError, match="append-only"), session.begin_nested():
        session.execute(text(statement))


def test_timestamps_are_timezone_aware_utc(api, session) -> None:
    api("firm_admin").post("/api/v1/tokens", json={"name": "utc"})
    record = session.query(ActivityRecord).order_by(ActivityRecord.id.desc()).first()
    assert record.occurred_at.utcoffset().total_seconds() == 0


def test_the_api_names_who_acted_and_the_action_in_words(api, demo) -> None:
    api("firm_admin").post("/api/v1/tokens", json={"name": "words"})
    newest = api("firm_admin").get("/api/v1/activity").get_json()["items"][0]
    assert newest["action_label"] == "Created an API token"
    assert newest["user"]["email"] == demo["users"]["firm_admin"]["username"]
    assert newest["user"]["display_name"]
    assert newest["organisation"]["slug"] and newest["organisation"]["name_zh"]


def test_the_portal_trail_shows_who_when_and_what_readably(app, demo, session) -> None:
    client = as_role(app, demo, "firm_admin")
    post(client, "/portal/tokens", {"name": "trail", "scopes": "*:read", "expires_in_days": "5"})
    page = page_text(client.get("/portal/activity"))
    user = session.scalar(select(User).where(User.email == demo["users"]["firm_admin"]["username"]))
    assert user.display_name in page and user.organisation.name_en in page
    assert "Signed in" in page and "Created an API token" in page
    assert not re.search(r"<td[^>]*>web_auth\.login", page) and "auth_portal.tokens" not in page
    assert not re.search(r">[^<]*\+00:00", page) and re.search(
        r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", page
    )
    zh = page_text(as_role(app, demo, "firm_admin", lang="zh-CN").get("/portal/activity"))
    assert "创建了 API 令牌" in zh and "操作人" in zh and user.organisation.name_zh in zh


def test_the_action_filter_offers_labels_and_covers_api_and_portal(app, api, demo) -> None:
    api("firm_admin").post("/api/v1/tokens", json={"name": "from the api"})
    client = as_role(app, demo, "firm_admin")
    created = post(
        client,
        "/portal/tokens",
        {"name": "from the portal", "scopes": "*:read", "expires_in_days": "5"},
    )
    assert created.status_code == 200
    # The portal names the token it created, as the API does.
    items = api("firm_admin").get("/api/v1/activity").get_json()["items"]
    targets = {r["action"]: r["target"] for r in reversed(items)}
    assert targets["auth_portal.tokens"].startswith("token:")
    assert targets["auth.create_token"].startswith("token:")
    assert targets["auth_portal.tokens"] != targets["auth.create_token"]
    page = page_text(client.get("/portal/activity?action=auth.create_token"))
    assert '<option value="auth.create_token" selected>Created an API token</option>' in page
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", page)
    assert "/api/v1/tokens" in cells and "/portal/tokens" in cells
    assert "/login" not in cells


def test_unknown_actions_keep_their_endpoint_name() -> None:
    from app.activity.labels import action_label

    assert action_label("audits_portal.sign_off") == "Signed an audit off"
    assert action_label("cli:brandtrace demo seed") == "Command-line task"
    assert action_label("somewhere.new") == "Other change"


def test_every_write_endpoint_has_a_label(app) -> None:
    from app.activity.labels import known_actions

    writes = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if set(rule.methods or ()) - {"GET", "HEAD", "OPTIONS"}
    }
    # Public posts by consumers record no organisation, so they never show in a trail.
    public = {"resolver.report_fake", "resolver.share_location", "certificates.verify_credential"}
    assert writes - public - {"web_auth.logout"} <= known_actions()
