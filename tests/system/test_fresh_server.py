"""The product as a newcomer starts it: migrate and seed with the ``flask`` commands, then serve
with gunicorn in worker processes that have opened nothing yet, and use it over HTTP.

The rest of the suite runs in the process that seeded the demo, with every per-process cache
(opened signing keys, prepared statements, log signers) already warm; a path only a cold
worker takes went unseen there (every signing change answered 500 on a fresh server).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fresh_database

ROOT = Path(__file__).resolve().parents[2]
SECRET = "fresh-server-secret-" + "x" * 32


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(url: str, folder: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANDTRACE_")}
    env.update(
        BRANDTRACE_DATABASE_URL=url,
        BRANDTRACE_SECRET_KEY=SECRET,
        BRANDTRACE_KEY_DIR=str(folder / "keys"),
        BRANDTRACE_BASE_URL=f"http://127.0.0.1:{port}",
        BRANDTRACE_LOG_LEVEL="WARNING",
    )
    return env


class Server:
    def __init__(self, base: str, demo: dict[str, Any]) -> None:
        self.base = base
        self.demo = demo

    def call(
        self, method: str, path: str, *, role: str | None = None, body: Any = None
    ) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if role:
            headers["Authorization"] = f"Bearer {self.demo['tokens'][role]}"
        # The server this module started, on loopback over http.
        request = urllib.request.Request(  # noqa: S310
            self.base + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def verdict(self, digital_link: str) -> str:
        status, body = self.call("GET", digital_link.removeprefix(self.demo["base_url"]))
        assert status == 200, body
        return str(body["verdict"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("fresh-server")
    port = _free_port()
    with fresh_database(folder, "fresh") as url:
        env = _environment(url, folder, port)
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, timeout=120)
        seeded = subprocess.run(
            [*flask, "demo", "seed", "--json"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
            capture_output=True,
            text=True,
        )
        demo = json.loads(seeded.stdout)
        log = (folder / "gunicorn.log").open("w")
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "2"),
                *("--bind", f"127.0.0.1:{port}", "wsgi:app"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(base + "/livez", timeout=1):  # noqa: S310
                        break
                except OSError:
                    assert process.poll() is None, (folder / "gunicorn.log").read_text()
                    assert time.monotonic() < deadline, "gunicorn did not start"
                    time.sleep(0.2)
            yield Server(base, demo)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def test_a_fresh_server_signs_status_changes_and_the_scan_follows(server: Server) -> None:
    number = server.demo["certificate"]["number"]
    unit = server.demo["unit"]["digital_link"]
    assert server.verdict(unit).startswith("GENUINE")
    # Two changes, so that each of the two workers likely meets a signing for the first time.
    for _ in range(2):
        status, body = server.call(
            "POST",
            f"/api/v1/certificates/{number}/suspend",
            role="association_admin",
            body={"reason": "surveillance audit overdue"},
        )
        assert status == 200, body
        assert server.verdict(unit) == "NOT_VALID"
        status, body = server.call(
            "POST",
            f"/api/v1/certificates/{number}/reinstate",
            role="association_admin",
            body={"reason": "audit passed"},
        )
        assert status == 200, body
        assert server.verdict(unit).startswith("GENUINE")


def test_a_fresh_server_verifies_the_credentials_it_serves(server: Server) -> None:
    vc_path = server.demo["certificate"]["vc_url"].removeprefix(server.demo["base_url"])
    status, credential = server.call("GET", vc_path)
    assert status == 200
    status, result = server.call(
        "POST", "/api/v1/verify/credential", body={"verifiableCredential": credential}
    )
    assert status == 200, result
    assert result["verdict"] == "valid", result
