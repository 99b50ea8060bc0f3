"""Every write is recorded (who, what, when, which request); admins read the trail."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from app.activity.models import ActivityRecord


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
