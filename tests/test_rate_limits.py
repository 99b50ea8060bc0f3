"""Rate limits are shared through Redis when BRANDTRACE_REDIS_URL is set, so several app
servers agree; without it they live in memory."""

from __future__ import annotations

import secrets

import pytest

from app import create_app
from tests.conftest import make_test_config

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.exceptions.ConnectionError:
        return False


@pytest.mark.skipif(not _redis_available(), reason="no Redis server on 127.0.0.1:6379")
def test_two_app_servers_share_one_limit_through_redis(database_url, key_dir) -> None:
    prefix = f"bt-test-{secrets.token_hex(4)}"
    servers = []
    for _ in range(2):
        config = make_test_config(database_url, key_dir) | {
            "REDIS_URL": REDIS_URL,
            "RATELIMIT_STORAGE_URI": REDIS_URL,
            "RATELIMIT_KEY_PREFIX": prefix,
        }
        servers.append(create_app(config).test_client())
    statuses = []
    for attempt in range(11):
        response = servers[attempt % 2].post(
            "/login", data={"email": "x@y.example", "password": "p"}
        )
        statuses.append(response.status_code)
    # Ten attempts per minute in all, whichever server answers (CSRF refuses each with 403).
    assert statuses[:10] == [403] * 10
    assert statuses[10] == 429
    assert "Retry-After" in response.headers


def test_redis_url_selects_redis_storage(database_url, key_dir) -> None:
    app = create_app(
        make_test_config(database_url, key_dir)
        | {"REDIS_URL": REDIS_URL, "RATELIMIT_STORAGE_URI": None}
    )
    assert app.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
