"""The app's rate limiting: the in-process storage (the library's limits, without a thread per
sweep), ``AppLimiter``'s lean path and hook, which limit as Flask-Limiter does, and counting in
this process while Redis is out of reach."""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
import time
from typing import Any

import pytest
from flask import Flask, abort, request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.http.limits import SCHEME, AppLimiter, LocalMemoryStorage, OutageProofLimiter


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


def _outages(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if "rate-limit storage unreachable" in record.getMessage()
    ]


def test_limits_count_in_process_while_the_shared_storage_is_unreachable(caplog) -> None:
    """A shopper's scan or report, or a sign-in, does not fail when Redis is down: the limits
    of both decorators still hold, counted in this process, and the outage is logged once,
    not on every request."""
    # Nothing listens on port 1: every call to the storage fails at once.
    app = _small_app(
        _limiter(), LIMIT="2 per minute", RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0"
    )
    client = app.test_client()
    with caplog.at_level("WARNING"):
        for path in ("/fast", "/slow"):
            answers = [client.get(path) for _ in range(3)]
            assert [answer.status_code for answer in answers] == [200, 200, 429]
            assert answers[0].headers["X-RateLimit-Limit"] == "2"
            assert answers[1].headers["X-RateLimit-Remaining"] == "0"
            assert "Retry-After" in answers[2].headers
            assert client.get(path, query_string={"who": "two"}).status_code == 200  # per client
    assert len(_outages(caplog)) == 1


def test_an_unanswering_storage_costs_one_request_its_timeout(caplog) -> None:
    """A Redis that accepts connections and never answers (a hung server) is an outage too:
    the socket timeout ends the wait, and the next requests count in this process at once."""
    silent = socket.create_server(("127.0.0.1", 0))  # the kernel accepts; nobody answers
    try:
        app = _small_app(
            _limiter(),
            LIMIT="2 per minute",
            RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{silent.getsockname()[1]}/0",
            RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        )
        client = app.test_client()
        with caplog.at_level("WARNING"):
            started = time.monotonic()
            assert client.get("/slow").status_code == 200
            assert time.monotonic() - started < 3
            started = time.monotonic()
            assert [client.get("/slow").status_code for _ in range(2)] == [200, 429]
            assert time.monotonic() - started < 0.5  # not waiting on Redis again
        assert len(_outages(caplog)) == 1
    finally:
        silent.close()


REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis() -> Any:
    import redis

    try:
        server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
        server.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    return server


class Gate:
    """A local port that forwards to the real Redis while open and refuses connections while
    shut: the Redis outage and its end, without touching the server others use."""

    def __init__(self) -> None:
        with socket.create_server(("127.0.0.1", 0)) as probe:
            self.port = probe.getsockname()[1]
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []

    def open(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def shut(self) -> None:
        for connection in [self._listener, *self._open]:
            if connection is not None:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
        self._listener, self._open = None, []

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # shut
            server = socket.create_connection(("127.0.0.1", 6379))
            self._open += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)


def test_limits_count_in_redis_again_once_it_answers(monkeypatch, caplog) -> None:
    redis_server = _redis()
    monkeypatch.setattr(OutageProofLimiter, "RETRY_SECONDS", 0.2)
    prefix = f"bt-test-{secrets.token_hex(4)}"
    gate = Gate()
    limiter = _limiter(key_prefix=prefix)
    app = _small_app(
        limiter, LIMIT="2 per minute", RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{gate.port}/0"
    )
    client = app.test_client()
    try:
        with caplog.at_level("INFO"):
            # Redis out of reach: both routes use up their limit in this process.
            for path in ("/fast", "/slow"):
                assert [client.get(path).status_code for _ in range(3)] == [200, 200, 429]
            gate.open()
            time.sleep(0.3)
            # Redis answers again: its counts start afresh there, not in this process.
            for path in ("/fast", "/slow"):
                answer = client.get(path)
                assert answer.status_code == 200, path
                assert answer.headers["X-RateLimit-Remaining"] == "1"
            assert len(list(redis_server.scan_iter(f"*{prefix}*"))) == 2
            assert any("answers again" in record.getMessage() for record in caplog.records)
            # Down again within the minute: counted here again (where this client's earlier
            # count still holds), and no second warning yet.
            gate.shut()
            assert [client.get("/fast").status_code for _ in range(2)] == [429, 429]
        assert len(_outages(caplog)) == 1
    finally:
        gate.shut()
        for key in redis_server.scan_iter(f"*{prefix}*"):
            redis_server.delete(key)
