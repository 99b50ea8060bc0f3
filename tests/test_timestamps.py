"""Timestamps written by table lookups are the text ``isoformat`` writes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy.dialects import sqlite

from app.certificates.dataintegrity import format_created
from app.db import UTCDateTime
from app.timestamps import utc_seconds


def _moments() -> list[datetime]:
    draw = random.Random(20261129)
    edges = [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    span = int((datetime(9999, 12, 30, tzinfo=UTC) - edges[0]).total_seconds())
    drawn = [
        (
            edges[0] + timedelta(seconds=draw.randrange(span), microseconds=draw.randrange(10**6))
        ).astimezone(timezone(timedelta(minutes=draw.randint(-14 * 60, 14 * 60))))
        for _ in range(20_000)
    ]
    return edges + drawn


def test_utc_text_is_what_isoformat_writes() -> None:
    to_text = UTCDateTime().bind_processor(sqlite.dialect())
    assert to_text is not None
    for moment in _moments():
        utc = moment.astimezone(UTC)
        assert utc_seconds(utc, "T") == utc.isoformat(timespec="seconds")[:19]
        # SQLite's stored form: naive UTC with microseconds.
        assert to_text(moment) == utc.isoformat(" ", "microseconds")[:26]
        if utc.year >= 1000:
            assert format_created(moment) == utc.isoformat(timespec="seconds")[:19] + "Z"
        else:
            assert format_created(moment) == utc.strftime("%Y-%m-%dT%H:%M:%SZ")
