"""Rate limits are shared through Redis when BRANDTRACE_REDIS_URL is set, so several app
servers agree; without it they live in memory, and while it is unreachable each process counts
on its own."""

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


# The app's routes while Redis is out of reach (nothing listens on port 1). In a child process,
# as above; its changes are rolled back, like each test's here.
REDIS_DOWN = """
import json, logging, re, sys
from pathlib import Path
from sqlalchemy import func, select
from app import create_app
from app.extensions import db
from app.resolver.models import FakeReport
from tests.conftest import make_test_config

warnings = []
class Kept(logging.Handler):
    def emit(self, record):
        warnings.append(record.getMessage())
logging.getLogger("flask-limiter").addHandler(Kept(logging.WARNING))

facts = json.loads(sys.argv[3])
app = create_app(make_test_config(sys.argv[1], Path(sys.argv[2])) | {
    "REDIS_URL": "redis://127.0.0.1:1/0", "RATELIMIT_STORAGE_URI": None,
    "RESOLVER_LOCATION_LIMIT": "3 per minute",
})
with app.app_context():
    connection = db.engine.connect()
outer = connection.begin()
result = {"options": app.config.get("RATELIMIT_STORAGE_OPTIONS", {})}
with db.bound_to(app, connection):
    shopper = app.test_client()
    page = shopper.get(facts["unit"], headers={"Accept": "text/html"})
    result["scan"] = page.status_code
    scan = re.search(r'name="scan" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    result["location"] = [
        shopper.post("/scans/location", data={"scan": scan, "place": "Tunxi"},
                     headers={"Accept": "application/json"}).status_code
        for _ in range(4)
    ]
    form = shopper.post("/report", data={"description": "seal broken", "scan": scan},
                        headers={"Accept": "text/html"})
    result["report"] = [form.status_code] + [
        shopper.post("/report", data={"description": f"fake {i}"},
                     headers={"Accept": "application/json"}).status_code
        for i in range(5)
    ]
    with app.app_context():
        session = db.new_session()
        result["stored"] = session.scalar(select(func.count()).select_from(FakeReport).where(
            FakeReport.description.in_(["seal broken"] + [f"fake {i}" for i in range(5)])))
        session.close()

    def sign_in(client, password):
        token = re.search(r'name="csrf_token" value="([^"]+)"',
                          client.get("/login").get_data(as_text=True)).group(1)
        return client.post("/login", data={
            "email": facts["email"], "password": password, "csrf_token": token}).status_code
    staff, guesser = app.test_client(), app.test_client()  # from one address
    result["sign_in"] = sign_in(staff, facts["password"])
    result["account"] = staff.get("/account").status_code
    result["guesses"] = [sign_in(guesser, "wrong-password") for _ in range(10)]
outer.rollback()
connection.close()
result["warnings"] = warnings
print(json.dumps(result))
"""


def test_the_routes_keep_working_and_limited_while_redis_is_unreachable(
    demo, database_url, key_dir
) -> None:
    """A shopper's report and location, a scan and a sign-in all work while Redis is down,
    and each route's limit still refuses a flood; the outage is logged once."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    facts = {
        "unit": demo["unit"]["digital_link"].removeprefix(demo["base_url"]),
        "email": demo["users"]["firm_admin"]["username"],
        "password": "brandtrace-demo-2026",
    }
    completed = subprocess.run(
        [sys.executable, "-c", REDIS_DOWN, database_url, str(key_dir), json.dumps(facts)],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["scan"] == 200
    assert result["location"] == [204, 204, 204, 429]
    # Five reports in ten minutes (the form's, then the API's), all stored; the sixth refused.
    assert result["report"] == [201, 201, 201, 201, 201, 429]
    assert result["stored"] == 5
    assert result["sign_in"] == 303 and result["account"] == 200
    # Ten sign-in attempts a minute, the successful one included.
    assert result["guesses"] == [401] * 9 + [429]
    assert [w for w in result["warnings"] if "unreachable" in w] == result["warnings"]
    assert len(result["warnings"]) == 1
    assert result["options"]["socket_timeout"] == 0.5
