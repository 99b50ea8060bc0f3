"""The database layer: pooled PostgreSQL connections survive the server closing them; bulk
writes on the session's connection store rows as given and raise driver errors as SQLAlchemy's."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from app.db import _ENGINES, BulkInsert, engine_for, utcnow
from app.transparency.models import LogCheckpoint


@pytest.fixture
def pg_engine(database_url: str):
    """A pool of its own on the test database, configured as the app's engines are."""
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("PostgreSQL only")
    url = make_url(database_url).update_query_dict({"application_name": "bt-pool-test"})
    key = url.render_as_string(hide_password=False)
    engine = engine_for(key)
    try:
        yield engine
    finally:
        engine.dispose()
        _ENGINES.pop(key, None)


def _backend(engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_healthy_pooled_connection_is_reused(pg_engine) -> None:
    assert _backend(pg_engine) == _backend(pg_engine)


def test_a_connection_the_server_closed_is_replaced_before_use(pg_engine, database_url) -> None:
    first = _backend(pg_engine)  # back in the pool, idle
    admin = create_engine(make_url(database_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            assert connection.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": first}
            ).scalar_one()
            deadline = time.monotonic() + 10
            while connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": first}
            ).scalar_one():
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        admin.dispose()
    # As after a server restart: the next checkout gets a live connection, no error.
    second = _backend(pg_engine)
    assert second != first
    assert _backend(pg_engine) == second


_TABLE = LogCheckpoint.__table__


def test_bulk_rows_read_back_as_the_orm_would_have_written_them(session) -> None:
    insert = BulkInsert(
        session.connection(), _TABLE, ("tree_size", "root_hash", "note", "created_at")
    )
    when = utcnow()
    rows = [
        (10**9 + i, bytes([i]) * 32, f"note {i} 祁门", insert.bind("created_at", when))
        for i in range(3)
    ]
    insert.execute(rows[:1])
    returned = insert.execute_returning(rows[1:], ("tree_size", "id"))
    assert sorted(size for size, _ in returned) == [10**9 + 1, 10**9 + 2]
    stored = session.scalars(
        select(LogCheckpoint)
        .where(LogCheckpoint.tree_size >= 10**9)
        .order_by(LogCheckpoint.tree_size)
    ).all()
    assert [(c.tree_size, c.root_hash, c.note, c.created_at) for c in stored] == [
        (10**9 + i, bytes([i]) * 32, f"note {i} 祁门", when) for i in range(3)
    ]
    assert {c.id for c in stored[1:]} == {identifier for _, identifier in returned}


def test_a_driver_error_is_sqlalchemys_and_the_transaction_rolls_back(session) -> None:
    insert = BulkInsert(
        session.connection(), _TABLE, ("tree_size", "root_hash", "note", "created_at")
    )
    row = (10**9, b"\x00" * 32, "note", insert.bind("created_at", utcnow()))
    with pytest.raises(IntegrityError):
        insert.execute([row, row])  # tree sizes are unique
    session.rollback()
    assert session.scalar(select(LogCheckpoint).where(LogCheckpoint.tree_size == 10**9)) is None
