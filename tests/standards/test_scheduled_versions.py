"""A version published ahead of its ``effective_from`` day is scheduled: the public pages say
when it takes effect, the version in force stays in force (and auditable) until that day,
audits may apply the new version at once, and on that day it takes over."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.db import utcnow
from tests.brandkit import audit_body, ok, problem, published_brand, rules, version_body
from tests.portalkit import as_role

SLUG = "huangshan-maofeng"


@pytest.fixture
def world(api) -> dict:
    return published_brand(api, SLUG)


@pytest.fixture
def effective() -> date:
    return utcnow().date() + timedelta(days=30)


def draft(api, world: dict, effective: date) -> dict:
    """A draft of version 2.0, effective from ``effective``."""
    return ok(
        api("association_admin").post(
            f"/api/v1/standards/{world['standard']['id']}/versions",
            json=version_body("2.0", effective_from=effective.isoformat()),
        ),
        201,
    )


def schedule(api, world: dict, effective: date) -> dict:
    """Version 2.0, published now, effective from ``effective``."""
    version = draft(api, world, effective)
    return ok(api("association_admin").post(f"/api/v1/standard-versions/{version['id']}/publish"))


def on(monkeypatch, day: date, hour: int = 8) -> None:
    """Move the standards' clock to ``day`` at ``hour`` UTC."""
    moment = datetime.combine(day, time(hour), UTC)
    monkeypatch.setattr("app.standards.services.utcnow", lambda: moment)


def versions(api, world: dict) -> list[tuple[str, str, bool]]:
    standard = ok(api(None).get(f"/api/v1/standards/{world['standard']['id']}"))
    return [(v["version"], v["status"], v["scheduled"]) for v in standard["versions"]]


def current_version(api) -> int | None:
    [standard] = ok(api(None).get(f"/api/v1/brands/{SLUG}"))["standards"]
    return standard["current_version"]["id"] if standard["current_version"] else None


def test_a_version_published_ahead_of_its_day_is_scheduled_and_the_one_in_force_stays(
    api, client, world, effective
) -> None:
    scheduled = schedule(api, world, effective)
    assert (scheduled["status"], scheduled["scheduled"]) == ("published", True)
    assert scheduled["effective_from"] == effective.isoformat()
    old = ok(api(None).get(f"/api/v1/standard-versions/{world['version']['id']}"))
    assert (old["status"], old["scheduled"], old["superseded_at"]) == ("published", False, None)
    assert versions(api, world) == [("1.0", "published", False), ("2.0", "published", True)]
    assert current_version(api) == world["version"]["id"]
    [standard] = ok(api(None).get(f"/api/v1/brands/{SLUG}"))["standards"]
    assert [(v["version"], v["scheduled"]) for v in standard["versions"]] == [
        ("1.0", False),
        ("2.0", True),
    ]

    day = effective.isoformat()
    page = f"/brands/{SLUG}/standards/{scheduled['id']}"
    english = client.get(f"{page}?lang=en").get_data(as_text=True)
    assert f"published, takes effect on {day}" in english
    assert "published, in force" not in english
    chinese = client.get(f"{page}?lang=zh-CN").get_data(as_text=True)
    assert f"已发布，自 {day} 起生效" in chinese
    in_force = client.get(f"/brands/{SLUG}/standards/{world['version']['id']}?lang=en")
    assert "published, in force" in in_force.get_data(as_text=True)
    brand = client.get(f"/brands/{SLUG}?lang=en").get_data(as_text=True)
    assert f"version 2.0 takes effect on {day}" in brand
    link_to_current = rf'href="[^"]*/standards/{world["version"]["id"]}"[^>]*>version 1\.0<'
    assert re.search(link_to_current, brand)


def test_on_its_day_the_scheduled_version_takes_over(api, world, effective, monkeypatch) -> None:
    scheduled = schedule(api, world, effective)
    on(monkeypatch, effective - timedelta(days=1), hour=23)
    assert current_version(api) == world["version"]["id"]

    on(monkeypatch, effective, hour=0)
    assert current_version(api) == scheduled["id"]
    assert versions(api, world) == [("1.0", "superseded", False), ("2.0", "published", False)]
    old = ok(api(None).get(f"/api/v1/standard-versions/{world['version']['id']}"))
    assert old["superseded_at"].startswith(f"{effective.isoformat()}T00:00:00")

    # Withdrawing the version that took over leaves none in force, as when a version takes
    # effect at publication: what it superseded stays superseded.
    withdrawn = api("association_admin").post(
        f"/api/v1/standard-versions/{scheduled['id']}/withdraw", json={"reason": "flawed limit"}
    )
    assert ok(withdrawn)["status"] == "withdrawn"
    assert current_version(api) is None
    assert versions(api, world) == [("1.0", "superseded", False), ("2.0", "withdrawn", False)]


def test_withdrawing_a_scheduled_version_leaves_the_one_in_force(
    api, world, effective, monkeypatch
) -> None:
    scheduled = schedule(api, world, effective)
    ok(
        api("association_admin").post(
            f"/api/v1/standard-versions/{scheduled['id']}/withdraw", json={"reason": "recalled"}
        )
    )
    on(monkeypatch, effective + timedelta(days=1))
    assert current_version(api) == world["version"]["id"]
    assert versions(api, world) == [("1.0", "published", False), ("2.0", "withdrawn", False)]


def test_audits_apply_a_scheduled_version_ahead_of_its_day_and_the_one_in_force_until_then(
    api, world, effective, monkeypatch
) -> None:
    scheduled = schedule(api, world, effective)
    auditor = api("association_auditor")
    ahead = ok(auditor.post("/api/v1/audits", json=audit_body(scheduled["id"])), 201)
    assert ahead["status"] == "open"
    ok(auditor.post("/api/v1/audits", json=audit_body(world["version"]["id"])), 201)

    on(monkeypatch, effective)
    refused = problem(
        auditor.post("/api/v1/audits", json=audit_body(world["version"]["id"])),
        409,
        "standard-version-not-published",
    )
    assert rules(refused) == {("/standard_version_id", "current_version")}
    surveillance = audit_body(world["version"]["id"], kind="surveillance")
    ok(auditor.post("/api/v1/audits", json=surveillance), 201)


def test_the_portal_says_when_a_version_takes_effect_before_and_after_publishing(
    api, app, demo, world, effective
) -> None:
    version = draft(api, world, effective)
    day = effective.isoformat()
    screen = as_role(app, demo, "association_admin")
    confirm = screen.get(f"/portal/standard-versions/{version['id']}/publish").get_data(
        as_text=True
    )
    assert f"Version 1.0 stays in force until this version takes effect on {day}" in confirm
    assert f"Audits may apply this version from now on, ahead of {day}" in confirm
    ok(api("association_admin").post(f"/api/v1/standard-versions/{version['id']}/publish"))
    listing = screen.get(f"/portal/standards/{world['standard']['id']}").get_data(as_text=True)
    assert f"Published, takes effect on {day}" in listing and "Published, in force" in listing
    auditor = as_role(app, demo, "association_auditor")
    form = auditor.get("/portal/audits/new").get_data(as_text=True)
    assert f"2.0 (takes effect on {day})" in form
