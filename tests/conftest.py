"""Test fixtures: a real database migrated with the real migrations, isolation per test by
savepoints, the demo loaded once, and API clients for every demo role.

The database is SQLite in a temporary folder unless ``BRANDTRACE_TEST_DATABASE_URL`` (or
``BRANDTRACE_DATABASE_URL``) names a PostgreSQL server, in which case every pytest worker
creates and later drops a fresh database of its own on that server.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import create_app
from app.extensions import db, limiter

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "test-artifacts"


def _server_url() -> str | None:
    url = os.environ.get("BRANDTRACE_TEST_DATABASE_URL") or os.environ.get(
        "BRANDTRACE_DATABASE_URL"
    )
    if url and make_url(url).get_backend_name() == "postgresql":
        return url
    return None


@contextmanager
def fresh_database(directory: Path, hint: str) -> Iterator[str]:
    """A new, empty database of the kind the suite runs on, dropped afterwards: an SQLite file
    in ``directory``, or a database of its own on the PostgreSQL server."""
    server = _server_url()
    if server is None:
        yield f"sqlite:///{directory / f'brandtrace-{hint}.sqlite3'}"
        return
    base = make_url(server).set(drivername="postgresql+psycopg")
    name = f"brandtrace_{hint}_{secrets.token_hex(4)}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        from app.db import _ENGINES

        for url, engine in list(_ENGINES.items()):
            if name in url:
                engine.dispose()
                del _ENGINES[url]
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    """A fresh, empty database for this test session (one per xdist worker)."""
    with fresh_database(tmp_path_factory.mktemp("db"), f"test_{worker_id}") as url:
        yield url


@contextmanager
def other_app(database_url: str, key_dir: Path) -> Iterator[Flask]:
    """A second application on another database (each app keeps its own engine)."""
    yield create_app(make_test_config(database_url, key_dir))


def migrate_and_seed(application: Flask) -> dict[str, Any]:
    """Bring a database to head with the real migrations and load the demo (committed)."""
    with application.app_context():
        from alembic import command

        from app.cli import alembic_config
        from app.demo.seed import seed_demo

        command.upgrade(alembic_config(), "head")
        session = db.new_session(writer=True)
        try:
            result = seed_demo(session, application.config["BASE_URL"])
            session.commit()
        finally:
            session.close()
    return result


def make_test_config(database_url: str, key_dir: Path) -> dict[str, Any]:
    return {
        "DATABASE_URL": database_url,
        "ENV_NAME": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "BASE_URL": "https://brand.example.test",
        "KEY_DIR": str(key_dir),
        "SESSION_COOKIE_SECURE": False,
        "SESSION_COOKIE_NAME": "brandtrace_session",
        # Argon2id at its minimum cost: the suite checks behaviour, not brute-force resistance.
        "PASSWORD_HASH_MEMORY_KIB": 64,
        "PASSWORD_HASH_TIME_COST": 1,
        "RATELIMIT_STORAGE_URI": "brandtrace-memory://",
    }


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def app(database_url: str, key_dir: Path) -> Iterator[Flask]:
    """The application on a database migrated to head with the real migrations, with the demo
    loaded once and committed; tests run on top of it and their changes are rolled back."""
    application = create_app(make_test_config(database_url, key_dir))
    application.config["DEMO"] = migrate_and_seed(application)
    yield application


@pytest.fixture(autouse=True)
def _isolated(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run each test inside a transaction that is rolled back at the end (savepoints for the
    commits the code under test makes). Tests marked ``committing`` run without it."""
    if "app" not in request.fixturenames or request.node.get_closest_marker("committing"):
        yield
        return
    application: Flask = request.getfixturevalue("app")
    with application.app_context():
        connection = db.engine.connect()
        limiter.reset()
    outer = connection.begin()
    try:
        with db.bound_to(application, connection):
            yield
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session inside the test's transaction, with an app context, for service tests."""
    with app.app_context():
        session = db.new_session()
        try:
            yield session
        finally:
            session.close()


@pytest.fixture
def demo(app: Flask) -> dict[str, Any]:
    """What ``demo seed --json`` printed for the test database."""
    return app.config["DEMO"]  # type: ignore[no-any-return]


class ApiClient:
    """A test client that sends a role's bearer token and JSON bodies."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client = client
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        merged = {"Accept": "application/json"}
        if self.token:
            merged["Authorization"] = f"Bearer {self.token}"
        merged.update(headers or {})
        return merged

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        return self.client.open(
            path, method=method, json=json, headers=self._headers(headers), **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def api(app: Flask, demo: dict[str, Any]) -> Any:
    """``api("firm_admin").post(...)``: a client acting as a demo role (``None``: anonymous)."""

    def for_role(role: str | None) -> ApiClient:
        return ApiClient(app.test_client(), demo["tokens"][role] if role else None)

    return for_role


@pytest.fixture
def artifacts_dir() -> Path:
    """Where tests save screenshots and other artefacts for people to look at."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "committing: runs with real commits (no savepoint isolation)"
    )
