"""The database layer: pooled and kept PostgreSQL connections survive the server closing them;
kept connections come back clean; bulk writes on the session's connection store rows as given
and raise driver errors as SQLAlchemy's."""

from __future__ import annotations

import enum
import json
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import DATETIME
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from app.db import (
    _ENGINES,
    BulkInsert,
    KeptConnections,
    UTCDateTime,
    driver_execute,
    engine_for,
    json_text,
    utcnow,
)
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


def _terminate(database_url: str, pid: int) -> None:
    """End a server process as a restart would, and wait until it is gone."""
    admin = create_engine(make_url(database_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            assert connection.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}
            ).scalar_one()
            deadline = time.monotonic() + 10
            while connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar_one():
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        admin.dispose()


def test_a_healthy_pooled_connection_is_reused(pg_engine) -> None:
    assert _backend(pg_engine) == _backend(pg_engine)


def test_a_connection_the_server_closed_is_replaced_before_use(pg_engine, database_url) -> None:
    first = _backend(pg_engine)  # back in the pool, idle
    _terminate(database_url, first)
    # As after a server restart: the next checkout gets a live connection, no error.
    second = _backend(pg_engine)
    assert second != first
    assert _backend(pg_engine) == second


@pytest.fixture
def kept(app, database_url: str):
    """Kept writers' connections of their own on the migrated test database (SQLite or
    PostgreSQL), outside the tests' rolled-back transaction (they write nothing that stays)."""
    engine = engine_for(database_url).execution_options(brandtrace_writer=True)
    connections = KeptConnections(engine, size=2)
    try:
        yield connections
    finally:
        connections.close()


def _checkpoints(connection) -> int:
    return len(driver_execute(connection, "SELECT id FROM log_checkpoints", ()))


@pytest.mark.committing
def test_a_kept_connection_is_reused_and_comes_back_with_nothing_open(kept) -> None:
    with kept.borrow() as connection:
        before = _checkpoints(connection)
    with pytest.raises(RuntimeError), kept.borrow() as again:
        assert again is connection  # the same connection, not a new checkout
        again.begin()
        insert = BulkInsert(again, _TABLE, ("tree_size", "root_hash", "note", "created_at"))
        insert.execute([(10**9, b"\x00" * 32, "left open", insert.bind("created_at", utcnow()))])
        raise RuntimeError("the request failed half-way")
    with kept.borrow() as third:
        assert third is connection
        assert not third.in_transaction()
        assert _checkpoints(third) == before  # the half-done write was rolled back


@pytest.mark.committing
def test_reads_on_the_driver_leave_no_transaction_behind(kept, database_url) -> None:
    with kept.borrow() as connection:
        driver_execute(connection, "SELECT count(*) FROM log_checkpoints", ())
        dbapi_connection = connection.connection.dbapi_connection
    if make_url(database_url).get_backend_name() == "postgresql":
        # psycopg began a transaction for the read; kept open, it would pin a snapshot.
        assert dbapi_connection.info.transaction_status == 0  # IDLE
    else:
        assert not dbapi_connection.in_transaction


@pytest.mark.committing
def test_no_more_connections_are_kept_than_asked(kept) -> None:
    with kept.borrow() as first, kept.borrow() as second, kept.borrow() as third:
        assert len({id(first), id(second), id(third)}) == 3  # busy ones are never shared
    with kept.borrow() as a, kept.borrow() as b, kept.borrow() as c:
        assert sum(x in (first, second, third) for x in (a, b, c)) == 2  # size=2 were kept
    assert third.closed or first.closed or second.closed


@pytest.mark.committing
def test_a_forked_worker_opens_its_own_connections(kept) -> None:
    with kept.borrow() as parents:
        pass
    kept._pid = -1  # as in a child process: the parent's connections are not this one's
    try:
        with kept.borrow() as childs:
            assert childs is not parents
    finally:
        parents.close()


def test_a_kept_connection_the_server_closed_is_replaced_before_use(
    database_url, pg_engine
) -> None:
    kept = KeptConnections(pg_engine, size=2)
    try:
        with kept.borrow() as connection:
            first = int(driver_execute(connection, "SELECT pg_backend_pid()", ())[0][0])
        _terminate(database_url, first)
        # As after a server restart: the next borrow gets a live connection, no error.
        with kept.borrow() as replaced:
            second = int(driver_execute(replaced, "SELECT pg_backend_pid()", ())[0][0])
        assert second != first
    finally:
        kept.close()


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


def test_text_given_as_utf8_is_stored_as_the_text_itself(session) -> None:
    insert = BulkInsert(
        session.connection(),
        _TABLE,
        ("tree_size", "root_hash", "note", "created_at"),
        utf8_columns=("note",),
    )
    when = insert.bind("created_at", utcnow())
    notes = ["祁门红茶 — note", '{"a":"\\u00e9 é 😀"}', ""]
    rows = [
        (10**9 + i, bytes([i]) * 32, insert.text(note.encode("utf-8")), when)
        for i, note in enumerate(notes)
    ]
    insert.execute(rows[:1])
    insert.execute_returning(rows[1:], ("id",))
    stored = session.execute(
        select(_TABLE.c.note, func.length(_TABLE.c.note))
        .where(_TABLE.c.tree_size >= 10**9)
        .order_by(_TABLE.c.tree_size)
    ).all()
    # Text, not bytes: compared, measured in characters and served as the string it was.
    assert [tuple(row) for row in stored] == [(note, len(note)) for note in notes]


def test_a_driver_error_is_sqlalchemys_and_the_transaction_rolls_back(session) -> None:
    insert = BulkInsert(
        session.connection(), _TABLE, ("tree_size", "root_hash", "note", "created_at")
    )
    row = (10**9, b"\x00" * 32, "note", insert.bind("created_at", utcnow()))
    with pytest.raises(IntegrityError):
        insert.execute([row, row])  # tree sizes are unique
    session.rollback()
    assert session.scalar(select(LogCheckpoint).where(LogCheckpoint.tree_size == 10**9)) is None


def test_timestamps_are_spelled_as_sqlalchemy_spells_them_on_sqlite() -> None:
    # SQLite compares stored timestamps as text: the fast spelling must be SQLAlchemy's own
    # to the character, or ranges and ordering across old and new rows would go wrong.
    dialect = sqlite.dialect()
    fast = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    reference = DATETIME().bind_processor(dialect)
    assert fast is not None and reference is not None
    eight_east = timezone(timedelta(hours=8))
    for moment in (
        datetime(2026, 11, 28, 23, 58, 21, 574327, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),  # no microseconds: still written
        datetime(2026, 3, 1, 7, 30, tzinfo=eight_east),  # another zone: stored as UTC
        datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),  # a three-digit year: padded
    ):
        assert fast(moment) == reference(moment.astimezone(UTC).replace(tzinfo=None))
    assert fast(datetime(2026, 3, 1, 7, 30, tzinfo=eight_east)) == "2026-02-28 23:30:00.000000"
    assert fast(None) is None
    with pytest.raises(ValueError, match="naive"):
        fast(datetime(2026, 1, 1))


def test_json_columns_store_what_json_would_and_refuse_what_it_refuses() -> None:
    class Colour(enum.StrEnum):
        RED = "red"

    for value in ([1, "祁门", None, True, 1.5], {"b": [{"a": 2**53}]}, {1: "int key"}, Colour.RED):
        assert json.loads(json_text(value)) == json.loads(json.dumps(value))
    with pytest.raises(TypeError):
        json_text({"when": utcnow()})  # json.dumps refuses datetimes; so do JSON columns
