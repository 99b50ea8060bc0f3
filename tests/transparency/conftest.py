"""Helpers for the transparency log's database, API and CLI tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.cli import alembic_config
from app.transparency.client import MonitorError
from app.transparency.entry import EntryType
from app.transparency.models import LogEntry, LogState
from app.transparency.services import append_entry
from tests.conftest import fresh_database, other_app


def log_size(session: Session) -> int:
    """Entries appended so far (the demo has already logged some)."""
    return session.scalar(select(LogState.next_index)) or 0


def append(session: Session, count: int, *, organisation_id: int | None = None) -> list[LogEntry]:
    """Append ``count`` test entries (certificate events with distinct content)."""
    return [
        append_entry(
            session,
            entry_type=EntryType.CERTIFICATE_ISSUED,
            record_type="certificate",
            record_id=f"test-{i}",
            content={"certificate": i, "text": "祁门红茶"},
            organisation_id=organisation_id,
        )
        for i in range(count)
    ]


def _trigger_sql(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
    )


def tamper(session: Session, table: str, statement: str, **params: Any) -> None:
    """Run an UPDATE as an attacker with database access would: switch the append-only trigger
    off, change the row, switch it back on (so only the data betrays the change)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
        session.execute(text(statement), params)
        session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"))
    else:
        session.execute(text(f"DROP TRIGGER {table}_no_update"))
        session.execute(text(statement), params)
        session.execute(text(_trigger_sql(table)))
    session.flush()


def flask_fetcher(client: FlaskClient) -> Callable[[str], bytes]:
    """The monitor's fetch function over the Flask test client (same transaction as the test)."""

    def fetch(path: str) -> bytes:
        response = client.get(f"/log/{path}")
        if response.status_code != 200:
            raise MonitorError(f"/log/{path}: HTTP {response.status_code}")
        return response.get_data()

    return fetch


@pytest.fixture
def deployment(tmp_path: Path, key_dir: Path) -> Iterator[Flask]:
    """A separate deployment on a fresh, migrated database whose commits are real (for tests
    with several connections or a real HTTP server); its database is dropped afterwards."""
    with fresh_database(tmp_path, "deployment") as url, other_app(url, key_dir) as application:
        with application.app_context():
            command.upgrade(alembic_config(), "head")
        yield application
