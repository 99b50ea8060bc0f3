"""The code generation engine: a million unit codes in one transaction, fast, without ORM
objects, and the streaming readers used by exports.

Rows go to the database in chunks through the driver's fastest bulk path (``COPY`` on
PostgreSQL, ``executemany`` on SQLite) on the session's own connection, so they commit or roll
back with the order. In the astronomically rare case that a random serial already exists for
the GTIN (70 random bits), the database's unique constraint catches it and fresh serials are
drawn for what was not stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.products.errors import CodeGenerationFailed
from app.products.models import UnitCode
from app.products.serials import draw_serials

CHUNK_SIZE = 50_000
MAX_ATTEMPTS = 5
READ_CHUNK = 5_000
COPY_NULL = "\\N"

Row = tuple[int, int, str, str | None]
"""(order id, product id, serial, signature or None): one unit code as inserted."""

Signer = Callable[[str], str]
"""Signs one serial (the GTIN, lot and key are bound by whoever built it)."""


def _copy_chunk(session: Session, rows: list[Row]) -> list[str]:
    """PostgreSQL: COPY the chunk inside a savepoint; a duplicate serial aborts the whole
    chunk (COPY has no ON CONFLICT), which is then drawn again. Returns the serials stored."""
    import psycopg.errors

    text = "".join(
        f"{order_id}\t{product_id}\t{serial}\t{signature or COPY_NULL}\n"
        for order_id, product_id, serial, signature in rows
    )
    statement = "COPY unit_codes (order_id, product_id, serial, signature) FROM STDIN"
    try:
        with session.begin_nested():
            # Asking for the connection inside the nested transaction is what emits SAVEPOINT.
            raw = session.connection().connection.driver_connection
            assert raw is not None
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                copy.write(text)
    except psycopg.errors.UniqueViolation:
        return []
    return [row[2] for row in rows]


def _executemany_chunk(session: Session, rows: list[Row]) -> list[str]:
    """SQLite: one executemany that skips duplicates (ON CONFLICT DO NOTHING). A savepoint
    would make SQLite copy every touched page to a statement journal, halving the rate."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        before = cursor.execute("SELECT coalesce(max(id), 0) FROM unit_codes").fetchone()[0]
        cursor.executemany(
            "INSERT INTO unit_codes (order_id, product_id, serial, signature) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            rows,
        )
        if cursor.rowcount == len(rows):
            return [row[2] for row in rows]
        # Rare: some serials existed for this GTIN. Keep what was stored, in id order.
        stored = cursor.execute(
            "SELECT serial FROM unit_codes WHERE order_id = ? AND id > ? ORDER BY id",
            (rows[0][0], before),
        ).fetchall()
        return [serial for (serial,) in stored]
    finally:
        cursor.close()


def insert_rows(session: Session, rows: list[Row]) -> list[str]:
    """Bulk-insert unit code rows of one order on the session's connection through the
    driver's fastest path; returns the serials stored, in id order (duplicates skipped)."""
    if session.get_bind().dialect.name == "postgresql":
        return _copy_chunk(session, rows)
    return _executemany_chunk(session, rows)


def generate_codes(
    session: Session,
    *,
    order_id: int,
    product_id: int,
    quantity: int,
    signer: Signer | None = None,
    chunk_size: int = CHUNK_SIZE,
    draw: Callable[[int], list[str]] = draw_serials,
) -> str:
    """Insert ``quantity`` new unit codes for the order and return the codes' digest.

    The digest is the SHA-256 (hex) of ``"<serial>\\n"`` for every code in issue order (the
    order of ids, and of exports), so anyone holding the export can recompute it.
    """
    digest = hashlib.sha256()
    remaining = quantity
    fruitless = 0
    while remaining:
        serials = draw(min(chunk_size, remaining))
        rows = [
            (order_id, product_id, serial, signer(serial) if signer else None) for serial in serials
        ]
        stored = insert_rows(session, rows)
        if not stored:
            fruitless += 1
            if fruitless >= MAX_ATTEMPTS:
                raise CodeGenerationFailed(
                    "Could not draw unique serials for this product; nothing was issued."
                )
            continue
        fruitless = 0
        digest.update("".join(f"{serial}\n" for serial in stored).encode("ascii"))
        remaining -= len(stored)
    return digest.hexdigest()


@dataclass(frozen=True)
class CodeRow:
    """One code as exports and listings read it (no ORM object per code)."""

    id: int
    serial: str
    signature: str | None
    blacklisted_at: datetime | None


def iter_codes(
    session: Session, order_id: int, *, after_id: int = 0, chunk: int = READ_CHUNK
) -> Iterator[CodeRow]:
    """Every code of an order in id order, read in keyset chunks (flat memory, any size)."""
    table = UnitCode.__table__
    columns = (table.c.id, table.c.serial, table.c.signature, table.c.blacklisted_at)
    last = after_id
    while True:
        rows = session.execute(
            select(*columns)
            .where(table.c.order_id == order_id, table.c.id > last)
            .order_by(table.c.id)
            .limit(chunk)
        ).all()
        for row in rows:
            yield CodeRow(*row)
        if len(rows) < chunk:
            return
        last = rows[-1][0]
