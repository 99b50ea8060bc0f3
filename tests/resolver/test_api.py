"""The association's and firms' side: alerts, scans, reports and rules through the API, each
organisation seeing only its own."""

from __future__ import annotations

import pytest

from tests.resolver.conftest import path_of


@pytest.fixture
def blacklisted_alert(api, new_shopper, demo) -> dict:
    new_shopper().get(path_of(demo, "unit_blacklisted"))
    items = api("association_admin").get("/api/v1/scan-alerts?kind=blacklisted_hit").get_json()
    return items["items"][0]


def test_the_firm_the_association_and_co_builders_see_the_alert(api, blacklisted_alert) -> None:
    alert_id = blacklisted_alert["id"]
    for role in (
        "association_admin",
        "association_auditor",
        "firm_admin",
        "firm_staff",
        "government_viewer",
        "alliance_viewer",
    ):
        response = api(role).get(f"/api/v1/scan-alerts/{alert_id}")
        assert response.status_code == 200, role
        assert response.get_json()["kind"] == "blacklisted_hit"
    # Another firm does not even learn that it exists.
    other = api("firm2_admin").get(f"/api/v1/scan-alerts/{alert_id}")
    assert other.status_code == 404
    assert other.get_json()["type"].endswith("/problems/alert-not-found")
    listed = api("firm2_admin").get("/api/v1/scan-alerts").get_json()["items"]
    assert all(item["id"] != alert_id for item in listed)


def test_resolving_an_alert_records_who_what_and_when(api, blacklisted_alert) -> None:
    alert_id = blacklisted_alert["id"]
    resolved = api("firm_staff").post(
        f"/api/v1/scan-alerts/{alert_id}/resolve",
        json={"resolution": "labels_blacklisted", "note": "label was destroyed"},
    )
    assert resolved.status_code == 200
    body = resolved.get_json()
    assert body["status"] == "resolved" and body["resolution"] == "labels_blacklisted"
    assert body["resolved_at"] and body["resolved_by_id"]
    again = api("association_admin").post(
        f"/api/v1/scan-alerts/{alert_id}/resolve", json={"resolution": "other"}
    )
    assert again.status_code == 409
    assert again.get_json()["type"].endswith("/problems/alert-already-resolved")
    open_ = api("firm_admin").get("/api/v1/scan-alerts?status=open&kind=blacklisted_hit").get_json()
    assert all(item["id"] != alert_id for item in open_["items"])


def test_a_recurrence_after_resolution_opens_a_new_alert(
    api, new_shopper, demo, blacklisted_alert
) -> None:
    api("firm_admin").post(
        f"/api/v1/scan-alerts/{blacklisted_alert['id']}/resolve", json={"resolution": "other"}
    )
    new_shopper().get(path_of(demo, "unit_blacklisted"))
    items = api("firm_admin").get("/api/v1/scan-alerts?kind=blacklisted_hit").get_json()["items"]
    assert [item["status"] for item in items[:2]] == ["open", "resolved"]


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"resolution": "solved"}, "/resolution", "enum"),
        ({}, "/resolution", "missing"),
        ({"resolution": "other", "note": "x" * 1001}, "/note", "string_too_long"),
        ({"resolution": "other", "extra": 1}, "/extra", "extra_forbidden"),
    ],
)
def test_bad_resolutions_are_refused_precisely(api, blacklisted_alert, body, field, rule) -> None:
    response = api("firm_admin").post(
        f"/api/v1/scan-alerts/{blacklisted_alert['id']}/resolve", json=body
    )
    assert response.status_code == 422
    error = response.get_json()["errors"][0]
    assert (error["field"], error["rule"]) == (field, rule)


def test_bad_alert_filters_are_refused(api) -> None:
    response = api("firm_admin").get("/api/v1/scan-alerts?status=closed&gtin=123")
    assert response.status_code == 422
    fields = {error["field"] for error in response.get_json()["errors"]}
    assert fields == {"query.status", "query.gtin"}


def test_scans_are_listed_for_the_firm_and_summarised(api, new_shopper, demo) -> None:
    new_shopper().get(path_of(demo, "unit"))
    new_shopper().get(path_of(demo, "unit_inactive"))
    firm = api("firm_admin").get("/api/v1/scans?limit=5").get_json()
    assert firm["items"] and all(item["gtin"] == demo["product"]["gtin"] for item in firm["items"])
    assert "client_hash" not in firm["items"][0]
    inactive = api("firm_admin").get("/api/v1/scans?verdict=NOT_ACTIVATED").get_json()["items"]
    assert inactive and {item["verdict"] for item in inactive} == {"NOT_ACTIVATED"}
    summary = api("association_admin").get("/api/v1/scans/summary?days=7").get_json()
    assert summary["total"] >= 2 and summary["by_verdict"]["GENUINE"] >= 1
    assert summary["by_day"][-1]["total"] >= 2
    # Shanyuan Tea sees its own product's scans only.
    others = api("firm2_admin").get("/api/v1/scans").get_json()["items"]
    assert all(item["gtin"] != demo["product"]["gtin"] for item in others)
    assert api("government_viewer").get("/api/v1/scans/summary").status_code == 200
    assert api("firm_admin").get("/api/v1/scans/summary?days=0").status_code == 422


def test_rules_default_until_the_association_sets_them(api, demo) -> None:
    slug = demo["brand"]["slug"]
    rules = {
        rule["kind"]: rule
        for rule in api("government_viewer").get(f"/api/v1/brands/{slug}/scan-rules").get_json()
    }
    assert rules["repeat_scans"]["is_default"] and rules["repeat_scans"]["threshold"] == 20
    assert rules["consume_on_first_scan"]["is_enabled"] is False
    changed = api("association_admin").put(
        f"/api/v1/brands/{slug}/scan-rules/many_clients",
        json={"is_enabled": True, "threshold": 8, "window_minutes": 30},
    )
    assert changed.status_code == 200
    assert changed.get_json() == {
        "kind": "many_clients",
        "is_enabled": True,
        "threshold": 8,
        "window_minutes": 30,
        "is_default": False,
    }
    after = {
        r["kind"]: r
        for r in api("association_staff").get(f"/api/v1/brands/{slug}/scan-rules").get_json()
    }
    assert after["many_clients"]["threshold"] == 8 and not after["many_clients"]["is_default"]


@pytest.mark.parametrize(
    ("kind", "body", "status", "field", "rule"),
    [
        ("repeat_scans", {"is_enabled": True}, 422, "/threshold", "required"),
        ("many_clients", {"is_enabled": True, "threshold": 3}, 422, "/window_minutes", "required"),
        ("blacklisted_hit", {"is_enabled": True, "threshold": 3}, 422, "/threshold", "not_allowed"),
        (
            "repeat_scans",
            {"is_enabled": True, "threshold": 0},
            422,
            "/threshold",
            "greater_than_equal",
        ),
        ("nonsense", {"is_enabled": True}, 404, None, None),
    ],
)
def test_rule_settings_must_fit_the_rule(api, demo, kind, body, status, field, rule) -> None:
    response = api("association_admin").put(
        f"/api/v1/brands/{demo['brand']['slug']}/scan-rules/{kind}", json=body
    )
    assert response.status_code == status
    if field:
        error = response.get_json()["errors"][0]
        assert (error["field"], error["rule"]) == (field, rule)


def test_an_association_that_does_not_own_the_brand_is_refused(api, session, demo) -> None:
    from app.auth.models import OrgKind, Role
    from app.auth.services import create_organisation, create_user, issue_token

    other = create_organisation(
        session,
        slug="other-association",
        kind=OrgKind.ASSOCIATION,
        name_zh="他县茶业协会",
        name_en="Other County Tea Association",
    )
    user = create_user(
        session,
        organisation=other,
        email="admin@other-tea.example",
        display_name="Other Admin",
        role=Role.ADMIN,
        password="brandtrace-demo-2026",
    )
    client = api(None)
    client.token = issue_token(session, user, name="test").secret
    session.commit()
    slug = demo["brand"]["slug"]
    assert client.get(f"/api/v1/brands/{slug}/scan-rules").status_code == 403
    refused = client.put(
        f"/api/v1/brands/{slug}/scan-rules/repeat_scans", json={"is_enabled": False}
    )
    assert refused.status_code == 403
    assert client.get("/api/v1/scan-alerts").get_json()["items"] == []
    assert client.get("/api/v1/scans").get_json()["items"] == []
