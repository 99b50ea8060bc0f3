"""Keyset pagination: stable under inserts and fast at any depth (no OFFSET scans)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.errors import FieldError, InvalidInput

T = TypeVar("T")


@dataclass(frozen=True)
class PageResult(Generic[T]):
    """One page of rows and the cursor of the next page (None on the last)."""

    items: Sequence[T]
    limit: int
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        if prefix != "id":
            raise ValueError(prefix)
        return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput(
            "The cursor is not one this server issued.",
            errors=[FieldError("cursor", "invalid_cursor", "use next_cursor from the last page")],
        ) from None


def paginate(
    session: Session,
    statement: Select[Any],
    id_column: InstrumentedAttribute[int],
    *,
    limit: int,
    cursor: str | None,
    newest_first: bool = True,
) -> PageResult[Any]:
    """Run ``statement`` for one page ordered by ``id_column``."""
    if cursor is not None:
        last = decode_cursor(cursor)
        statement = statement.where(id_column < last if newest_first else id_column > last)
    statement = statement.order_by(id_column.desc() if newest_first else id_column.asc())
    rows = list(session.scalars(statement.limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], id_column.key)) if has_more and rows else None
    return PageResult(items=rows, limit=limit, next_cursor=next_cursor)
