"""The app's rate limiting: the in-process storage (the library's limits, without a thread per
sweep), and ``AppLimiter``'s lean path and hook, which limit as Flask-Limiter does."""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask, abort, request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.http.limits import SCHEME, AppLimiter, LocalMemoryStorage


def test_the_scheme_names_the_storage() -> None:
    assert isinstance(storage_from_string(f"{SCHEME}://"), LocalMemoryStorage)


def test_limits_hold_and_expired_entries_are_swept_without_threads(monkeypatch) -> None:
    monkeypatch.setattr(LocalMemoryStorage, "SWEEP_SECONDS", 0.05)
    storage = LocalMemoryStorage()
    limiter = MovingWindowRateLimiter(storage)
    limit = parse("2 per second")
    threads = threading.active_count()
    assert limiter.hit(limit, "client")
    assert limiter.hit(limit, "client")
    assert not limiter.hit(limit, "client")  # the third within the second is refused
    assert limiter.hit(limit, "other")  # per key
    assert threading.active_count() <= threads
    time.sleep(1.1)
    assert limiter.hit(limit, "client")  # the window moved on
    # That hit swept the expired entries: only the new one is kept.
    assert len(storage.events[limit.key_for("client")]) == 1
    assert not storage.events.get(limit.key_for("other"))
    assert threading.active_count() <= threads


def _small_app(limiter: AppLimiter, **config: object) -> Flask:
    """A bare app with one route limited through ``fast_limit`` and one through ``limit``."""
    app = Flask(__name__)
    app.config.update(RATELIMIT_STORAGE_URI=f"{SCHEME}://", RATELIMIT_STRATEGY="moving-window")
    app.config.update(config)

    @app.get("/fast")
    @limiter.fast_limit(lambda: app.config["LIMIT"], methods=("GET",))
    def fast() -> str:
        if request.args.get("missing"):
            abort(404)
        return "fast"

    @app.get("/slow")
    @limiter.limit(lambda: app.config["LIMIT"], methods=["GET"])
    def slow() -> str:
        return "slow"

    @app.get("/open")
    def open_route() -> str:
        return "open"

    limiter.init_app(app)
    return app


def _limiter(**options: Any) -> AppLimiter:
    return AppLimiter(
        key_func=lambda: request.args.get("who", "one"), headers_enabled=True, **options
    )


RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After")


def test_fast_limit_counts_like_limit_under_the_same_keys() -> None:
    limiter = _limiter()
    client = _small_app(limiter, LIMIT="2 per minute").test_client()
    for path in ("/fast", "/slow"):
        answers = [client.get(path) for _ in range(3)]
        assert [answer.status_code for answer in answers] == [200, 200, 429]
        assert [answer.headers["X-RateLimit-Remaining"] for answer in answers] == ["1", "0", "0"]
        for answer in answers:
            assert all(name in answer.headers for name in RATE_HEADERS)
        assert client.get(path, query_string={"who": "two"}).status_code == 200
    assert set(limiter.storage.events) == {  # type: ignore[attr-defined]
        f"LIMITER/{who}/{endpoint}/2/1/minute"
        for who in ("one", "two")
        for endpoint in ("fast", "slow")
    }


def test_fast_limit_checks_the_shortest_window_first_and_reports_it() -> None:
    client = _small_app(_limiter(), LIMIT="3 per day; 2 per second").test_client()
    answers = [client.get("/fast") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "2"
    time.sleep(1.1)
    assert client.get("/fast").status_code == 200  # the third of the day
    refused = client.get("/fast")
    assert refused.status_code == 429 and refused.headers["X-RateLimit-Limit"] == "3"


def test_fast_limit_headers_reach_error_answers() -> None:
    client = _small_app(_limiter(), LIMIT="2 per minute").test_client()
    missing = client.get("/fast", query_string={"missing": "1"})
    assert missing.status_code == 404 and missing.headers["X-RateLimit-Remaining"] == "1"


def test_a_disabled_limiter_limits_nothing() -> None:
    limiter = _limiter()
    client = _small_app(limiter, LIMIT="1 per minute", RATELIMIT_ENABLED=False).test_client()
    for path in ("/fast", "/slow"):
        answers = [client.get(path) for _ in range(3)]
        assert [answer.status_code for answer in answers] == [200] * 3
        assert "X-RateLimit-Limit" not in answers[-1].headers


def test_default_limits_still_apply_to_every_route() -> None:
    # The before_request hook is skipped only when no such limits exist.
    client = _small_app(
        _limiter(default_limits=["1 per minute"]), LIMIT="5 per minute"
    ).test_client()
    assert [client.get("/open").status_code for _ in range(2)] == [200, 429]
    # A view with its own limit keeps it instead of the default, with either decorator.
    assert [client.get("/fast").status_code for _ in range(2)] == [200, 200]
    assert [client.get("/slow").status_code for _ in range(2)] == [200, 200]


def test_routes_without_limits_answer_without_headers() -> None:
    answer = _small_app(_limiter(), LIMIT="1 per minute").test_client().get("/open")
    assert answer.status_code == 200
    assert not any(name in answer.headers for name in RATE_HEADERS)


def test_fast_limit_counts_in_process_while_the_shared_storage_is_unreachable(caplog) -> None:
    """A shopper's scan does not fail when Redis is down: the limit still holds, counted in
    this process, and the outage is logged once, not on every request."""
    limiter = _limiter()
    # Nothing listens on port 1: every call to the storage fails at once.
    app = _small_app(limiter, LIMIT="2 per minute", RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    client = app.test_client()
    with caplog.at_level("WARNING"):
        answers = [client.get("/fast") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "2"
    assert answers[1].headers["X-RateLimit-Remaining"] == "0"
    assert "Retry-After" in answers[2].headers
    assert client.get("/fast?who=two").status_code == 200  # still per client
    outages = [r for r in caplog.records if "rate-limit storage unreachable" in r.getMessage()]
    assert len(outages) == 1
