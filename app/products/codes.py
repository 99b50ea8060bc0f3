"""The code generation engine: a million unit codes in one transaction, fast, without ORM
objects, and the streaming readers used by exports.

Rows go to the database in chunks through the driver's fastest bulk path (``COPY`` on
PostgreSQL, ``executemany`` on SQLite) on the session's own connection, so they commit or roll
back with the order. Each chunk runs in a savepoint: in the astronomically rare case that a
random serial already exists for the GTIN (70 random bits), only that chunk is drawn again.
"""

from __future__ import annotations

import hashlib
import sqlite3
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

Signer = Callable[[str], str]
"""Signs one serial (the GTIN, lot and key are bound by whoever built it)."""


def _unique_violation_types(session: Session) -> tuple[type[BaseException], ...]:
    if session.get_bind().dialect.name == "postgresql":
        import psycopg.errors

        return (psycopg.errors.UniqueViolation,)
    return (sqlite3.IntegrityError,)


def _insert_chunk(session: Session, rows: list[tuple[int, int, str, str | None]]) -> None:
    connection = session.connection()
    raw = connection.connection.driver_connection
    assert raw is not None
    if connection.dialect.name == "postgresql":
        text = "".join(
            f"{order_id}\t{product_id}\t{serial}\t{signature or COPY_NULL}\n"
            for order_id, product_id, serial, signature in rows
        )
        statement = "COPY unit_codes (order_id, product_id, serial, signature) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(text)
    else:
        cursor = raw.cursor()
        try:
            cursor.executemany(
                "INSERT INTO unit_codes (order_id, product_id, serial, signature) "
                "VALUES (?, ?, ?, ?)",
                rows,
            )
        finally:
            cursor.close()


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
    duplicate = _unique_violation_types(session)
    digest = hashlib.sha256()
    remaining = quantity
    while remaining:
        size = min(chunk_size, remaining)
        for _attempt in range(MAX_ATTEMPTS):
            serials = draw(size)
            rows = [
                (order_id, product_id, serial, signer(serial) if signer else None)
                for serial in serials
            ]
            try:
                with session.begin_nested():
                    _insert_chunk(session, rows)
            except duplicate:
                continue
            break
        else:
            raise CodeGenerationFailed(
                "Could not draw unique serials for this product; nothing was issued."
            )
        digest.update("".join(f"{serial}\n" for serial in serials).encode("ascii"))
        remaining -= size
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
