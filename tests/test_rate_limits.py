"""Rate limits are shared through Redis when BRANDTRACE_REDIS_URL is set, so several app
servers agree; without it they live in memory."""

from __future__ import annotations

import secrets

import pytest

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.exceptions.ConnectionError:
        return False


# Flask-Limiter keeps one storage per Limiter object, and the app's limiter is process-wide:
# the two "servers" run in a child process so the rest of the suite keeps its memory storage.
TWO_SERVERS = """
import json, sys
from pathlib import Path
from app import create_app
from tests.conftest import make_test_config
statuses = []
servers = [
    create_app(make_test_config(sys.argv[1], Path(sys.argv[2])) | {
        "REDIS_URL": sys.argv[3], "RATELIMIT_STORAGE_URI": sys.argv[3],
        "RATELIMIT_KEY_PREFIX": sys.argv[4],
    }).test_client()
    for _ in range(2)
]
for attempt in range(11):
    response = servers[attempt % 2].post("/login", data={"email": "x@y.example", "password": "p"})
    statuses.append(response.status_code)
print(json.dumps({"statuses": statuses, "retry_after": response.headers.get("Retry-After")}))
"""


@pytest.mark.skipif(not _redis_available(), reason="no Redis server on 127.0.0.1:6379")
def test_two_app_servers_share_one_limit_through_redis(database_url, key_dir) -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    prefix = f"bt-test-{secrets.token_hex(4)}"
    root = Path(__file__).resolve().parent.parent
    completed = subprocess.run(
        [sys.executable, "-c", TWO_SERVERS, database_url, str(key_dir), REDIS_URL, prefix],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    # Ten attempts per minute in all, whichever server answers (CSRF refuses each with 403).
    assert result["statuses"][:10] == [403] * 10
    assert result["statuses"][10] == 429
    assert result["retry_after"]


# One app server per process here, so nothing but Redis can carry the count from one to the other.
SCANNING_SERVER = """
import json, sys
from pathlib import Path
from app import create_app
from tests.conftest import make_test_config
server = create_app(make_test_config(sys.argv[1], Path(sys.argv[2])) | {
    "REDIS_URL": sys.argv[3], "RATELIMIT_STORAGE_URI": sys.argv[3],
    "RATELIMIT_KEY_PREFIX": sys.argv[4], "RESOLVER_SCAN_LIMIT": "3 per minute",
}).test_client()
answers = [server.head(sys.argv[5]) for _ in range(2)]
print(json.dumps([[a.status_code, a.headers.get("X-RateLimit-Remaining")] for a in answers]))
"""


@pytest.mark.skipif(not _redis_available(), reason="no Redis server on 127.0.0.1:6379")
def test_two_app_servers_share_one_scan_limit_through_redis(
    app, demo, database_url, key_dir
) -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    path = demo["unit"]["digital_link"].removeprefix(demo["base_url"])
    prefix = f"bt-test-{secrets.token_hex(4)}"
    answers = []
    for _ in range(2):
        completed = subprocess.run(
            [
                sys.executable,
                "-c",
                SCANNING_SERVER,
                database_url,
                str(key_dir),
                REDIS_URL,
                prefix,
                path,
            ],
            cwd=Path(__file__).resolve().parent.parent,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        answers += json.loads(completed.stdout.strip().splitlines()[-1])
    # HEAD counts as a scan request (and stores no scan): three a minute, whichever server.
    assert answers == [[200, "2"], [200, "1"], [200, "0"], [429, "0"]]


def test_redis_url_selects_redis_storage(database_url, key_dir) -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import sys; from pathlib import Path; from app import create_app; "
        "from tests.conftest import make_test_config; "
        "app = create_app(make_test_config(sys.argv[1], Path(sys.argv[2])) | "
        "{'REDIS_URL': sys.argv[3], 'RATELIMIT_STORAGE_URI': None}); "
        "print(app.config['RATELIMIT_STORAGE_URI'])"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, database_url, str(key_dir), REDIS_URL],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert completed.stdout.strip().splitlines()[-1] == REDIS_URL
