"""Statements compiled once and run on the DBAPI cursor read and write values exactly as
SQLAlchemy does, and fail as SQLAlchemy does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from app.resolver.models import ScanChannel, ScanShopper
from app.resolver.prepared import Prepared
from app.resolver.verdicts import Verdict

NOW = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)


def test_values_round_trip_as_through_sqlalchemy(session) -> None:
    from app.resolver.models import Scan

    connection = session.connection()
    values = {
        "scanned_at": NOW,
        "channel": ScanChannel.LINK,
        "answer": "verdict",
        "gtin": "06923456789012",
        "lot": None,
        "serial": "X1",
        "verdict": Verdict.GENUINE_WITH_WARNING,
        "reasons": ["many_scans"],
        "is_repeat": True,
        "client_hash": "c" * 32,
    }
    stored = Prepared(insert(Scan).returning(Scan.id), connection.dialect, list(values)).first(
        connection, values
    )
    # Read back through the ORM: the same types, the same instant, the enums by value.
    scan = session.get(Scan, stored.id)
    assert scan is not None
    assert (scan.scanned_at, scan.channel, scan.verdict) == (NOW, "link", "GENUINE_WITH_WARNING")
    assert scan.reasons == ["many_scans"] and scan.is_repeat is True
    # And written through the ORM, read back through a prepared query: aware UTC, enum members.
    query = select(Scan.scanned_at, Scan.verdict, Scan.is_repeat).where(Scan.id == bindparam("id"))
    row = Prepared(query, connection.dialect).first(connection, {"id": stored.id})
    assert row.scanned_at == NOW and row.scanned_at.tzinfo is not None
    assert row.verdict is Verdict.GENUINE_WITH_WARNING and row.is_repeat is True
    assert Prepared(query, connection.dialect).first(connection, {"id": -1}) is None


def test_a_database_error_is_sqlalchemys_and_the_transaction_goes_on(session) -> None:
    connection = session.connection()
    add = Prepared(
        insert(ScanShopper).values(
            unit_key=bindparam("unit_key"),
            client_hash=bindparam("client_hash"),
            first_seen_at=bindparam("now"),
            last_counted_at=bindparam("now"),
        ),
        connection.dialect,
    )
    values = {"unit_key": "01/06923456789012/21/X1", "client_hash": "c" * 32, "now": NOW}
    add.first(connection, values)
    savepoint = connection.begin_nested()
    with pytest.raises(IntegrityError):
        add.first(connection, values)  # the same shopper of the same pack twice
    savepoint.rollback()
    stored = select(ScanShopper.first_seen_at).where(ScanShopper.unit_key == values["unit_key"])
    assert session.scalars(stored).all() == [NOW]
