"""Bulk writes on the session's connection: rows as given, driver errors as SQLAlchemy's."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import BulkInsert, utcnow
from app.transparency.models import LogCheckpoint

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
