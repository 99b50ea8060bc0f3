"""The per-client limit on scans (``RESOLVER_SCAN_LIMIT``): counted per address and route on
GET and HEAD, told in ``X-RateLimit-*`` headers, refused with 429 and ``Retry-After`` as
problem+json for apps and as a page for people."""

from __future__ import annotations

import time

import pytest

from tests.resolver.conftest import BROWSER, path_of


@pytest.fixture
def three_a_minute(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "RESOLVER_SCAN_LIMIT", "3 per minute")


@pytest.mark.usefixtures("three_a_minute")
def test_the_limit_trips_for_one_client_and_not_for_another(new_shopper, demo) -> None:
    path = path_of(demo, "unit")
    shopper, other = new_shopper(), new_shopper()
    answers = [shopper.get(path) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers] == ["2", "1", "0"]
    for answer in answers:
        assert answer.headers["X-RateLimit-Limit"] == "3"
        assert 0 < int(answer.headers["X-RateLimit-Reset"]) - time.time() <= 61
        assert 0 <= int(answer.headers["Retry-After"]) <= 60
    refused = shopper.get(path)
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert 0 <= int(refused.headers["Retry-After"]) <= 60
    assert other.get(path).status_code == 200


@pytest.mark.usefixtures("three_a_minute")
def test_the_refusal_is_problem_json_for_apps_and_a_page_for_people(shopper, demo) -> None:
    path = path_of(demo, "unit")
    for _ in range(3):
        shopper.get(path)
    machine = shopper.get(path)
    assert machine.status_code == 429
    assert machine.mimetype == "application/problem+json"
    problem = machine.get_json()
    assert problem["type"] == demo["base_url"] + "/problems/rate-limited"
    assert problem["status"] == 429 and problem["instance"] == path
    assert machine.headers["Access-Control-Allow-Origin"] == "*"  # a web app can read it
    person = shopper.get(path, accept=BROWSER)
    assert person.status_code == 429 and person.mimetype == "text/html"
    assert "Too many requests" in person.get_data(as_text=True)
    assert person.headers["Retry-After"]


@pytest.mark.usefixtures("three_a_minute")
def test_head_counts_on_links_and_the_manual_check_counts_get_only(shopper, demo) -> None:
    path = path_of(demo, "unit")
    assert [shopper.head(path).status_code for _ in range(4)] == [200, 200, 200, 429]
    # Each route keeps its own count; the manual check counts GET, not HEAD.
    check = {"code": demo["unit"]["digital_link"]}
    heads = [shopper.client.head("/verify", query_string=check) for _ in range(4)]
    assert [head.status_code for head in heads] == [200] * 4
    assert "X-RateLimit-Limit" not in heads[0].headers
    gets = [
        shopper.client.get(
            "/verify",
            query_string=check,
            headers={"Accept": "application/json"},
            environ_base={"REMOTE_ADDR": shopper.address},
        )
        for _ in range(4)
    ]
    assert [get.status_code for get in gets] == [200, 200, 200, 429]


@pytest.mark.usefixtures("three_a_minute")
def test_bad_links_count_and_carry_the_headers(shopper, demo) -> None:
    answers = [shopper.get(f"/01/{demo['product']['gtin']}/10/{'x' * 30}") for _ in range(4)]
    assert [answer.status_code for answer in answers] == [400, 400, 400, 429]
    assert answers[0].headers["X-RateLimit-Remaining"] == "2"


def test_the_default_is_300_a_minute(shopper, demo) -> None:
    answer = shopper.get(path_of(demo, "unit"))
    assert answer.headers["X-RateLimit-Limit"] == "300"
    assert answer.headers["X-RateLimit-Remaining"] == "299"


@pytest.mark.usefixtures("three_a_minute")
def test_a_disabled_limiter_counts_nothing(shopper, demo, monkeypatch) -> None:
    from app.extensions import limiter

    # What RATELIMIT_ENABLED=False leaves (the limiter is process-wide: the app stays as built).
    monkeypatch.setattr(limiter, "enabled", False)
    answers = [shopper.get(path_of(demo, "unit")) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200] * 4
    assert "X-RateLimit-Limit" not in answers[-1].headers
