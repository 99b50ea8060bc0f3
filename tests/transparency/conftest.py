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
from app.keystore import open_private_key
from app.transparency.client import MonitorError
from app.transparency.entry import EntryType
from app.transparency.models import LogEntry, LogKey, LogState
from app.transparency.note import Checkpoint, NoteSigner, sign_checkpoint
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


def log_signer(app: Flask, session: Session) -> NoteSigner:
    """The log's own signing key, opened as an insider holding the secret key could."""
    key = session.scalar(select(LogKey))
    assert key is not None
    private_key = open_private_key(
        key.sealed_private_key,
        label=f"transparency-log:{key.origin}",
        secret_key=app.config["SECRET_KEY"],
    )
    return NoteSigner.from_private_key(key.origin, private_key)


def fork_checkpoint(app: Flask, session: Session, size: int) -> str:
    """Replace the stored checkpoint of ``size`` by another one of the same size, validly signed
    with the log's key over a different root (a fork); returns the forged note."""
    signer = log_signer(app, session)
    note = sign_checkpoint(Checkpoint(signer.name, size, bytes(32)), signer)
    tamper(
        session,
        "log_checkpoints",
        "UPDATE log_checkpoints SET note = :n, root_hash = :r WHERE tree_size = :s",
        n=note,
        r=bytes(32),
        s=size,
    )
    return note


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
