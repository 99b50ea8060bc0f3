"""Scans, their running tallies, the alerts anomalies raise, and shoppers' reports of fakes.

Shoppers stay anonymous: a scan keeps a keyed hash of the client's traits (address, browser,
languages), never the traits themselves, and a location only when the shopper chose to share
it (rounded to about a kilometre).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntId, CreatedAt, IntPK, StrEnumType, UTCDateTime, utcnow
from app.resolver.rules import RuleKind
from app.resolver.verdicts import Verdict


class ScanChannel(enum.StrEnum):
    """How the code reached us: a scanned or clicked link, or typed into the official site."""

    LINK = "link"
    MANUAL = "manual"


class AlertKind(enum.StrEnum):
    """What an alert is about (each is one configurable anomaly rule)."""

    REPEAT_SCANS = "repeat_scans"  # more distinct shoppers than one pack should see
    MANY_CLIENTS = "many_clients"  # many distinct clients in a short window (cloned label)
    AFTER_CONSUMED = "after_consumed"  # scanned by someone else after being consumed
    BLACKLISTED_HIT = "blacklisted_hit"  # a blacklisted (lost or stolen) code was scanned
    INACTIVE_HIT = "inactive_hit"  # a never-activated code was scanned (leaked label)
    UNKNOWN_CODE = "unknown_code"  # a serial or lot that does not exist under a known GTIN


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class AlertResolution(enum.StrEnum):
    CONFIRMED_COUNTERFEIT = "confirmed_counterfeit"
    FALSE_ALARM = "false_alarm"
    LABELS_BLACKLISTED = "labels_blacklisted"
    OTHER = "other"


class ReportStatus(enum.StrEnum):
    NEW = "new"
    REVIEWING = "reviewing"
    CLOSED = "closed"


class Scan(Base):
    """One verification of one code: when, through which channel, with which verdict."""

    __tablename__ = "scans"
    __table_args__ = (
        Index("ix_scans_unit_key_scanned_at", "unit_key", "scanned_at"),
        Index("ix_scans_firm_id_id", "firm_id", "id"),
        Index("ix_scans_association_id_id", "association_id", "id"),
        Index("ix_scans_brand_id_id", "brand_id", "id"),
    )

    id: Mapped[IntPK]
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    channel: Mapped[ScanChannel] = mapped_column(StrEnumType(ScanChannel, 16))
    #: the answer given: page, verdict (JSON), linkset or redirect
    answer: Mapped[str] = mapped_column(String(16))
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str | None] = mapped_column(String(20))
    serial: Mapped[str | None] = mapped_column(String(20))
    verdict: Mapped[Verdict] = mapped_column(StrEnumType(Verdict, 24))
    reasons: Mapped[list[str] | None] = mapped_column(JSON)
    unit_key: Mapped[str | None] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(BigIntId)
    product_id: Mapped[int | None] = mapped_column(BigIntId)
    brand_id: Mapped[int | None] = mapped_column(BigIntId)
    firm_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("organisations.id"))
    association_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("organisations.id"))
    #: keyed hash of the client's traits: tells shoppers apart without identifying anyone
    client_hash: Mapped[str] = mapped_column(String(32))
    #: the same client scanned the same pack moments ago (a reload): not counted again
    is_repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    place: Mapped[str | None] = mapped_column(String(200))
    located_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ScanTally(Base):
    """Running counts for one pack, updated atomically with each scan (no lost updates)."""

    __tablename__ = "scan_tallies"

    unit_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    scan_count: Mapped[int] = mapped_column(Integer, default=0)
    shopper_count: Mapped[int] = mapped_column(Integer, default=0)
    first_scanned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: the last counted scan (reloads within a minute are not counted)
    last_scanned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consumed_by: Mapped[str | None] = mapped_column(String(32))
    #: bits of the open alerts that make a genuine verdict a warning (kept with the alerts,
    #: so a scan reads them with its tally instead of querying the alerts)
    open_warnings: Mapped[int] = mapped_column(Integer, default=0)


class ScanShopper(Base):
    """Which clients have scanned which pack, and when one was last counted (so one shopper's
    repeats count once)."""

    __tablename__ = "scan_shoppers"

    unit_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_hash: Mapped[str] = mapped_column(String(32), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_counted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ScanAlert(Base):
    """An anomaly that the association and the firm should look at.

    While open, ``open_key`` (kind + pack or product) is set and unique, so concurrent scans
    add occurrences to one alert instead of raising duplicates; resolving clears it.
    """

    __tablename__ = "scan_alerts"
    __table_args__ = (
        Index("ix_scan_alerts_association_id_id", "association_id", "id"),
        Index("ix_scan_alerts_firm_id_id", "firm_id", "id"),
    )

    id: Mapped[IntPK]
    kind: Mapped[AlertKind] = mapped_column(StrEnumType(AlertKind, 32))
    status: Mapped[AlertStatus] = mapped_column(StrEnumType(AlertStatus, 16), index=True)
    open_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str | None] = mapped_column(String(20))
    serial: Mapped[str | None] = mapped_column(String(20))
    unit_key: Mapped[str | None] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("unit_codes.id"))
    product_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("products.id"))
    brand_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("brands.id"), index=True)
    firm_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("organisations.id"))
    association_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("organisations.id"))
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    resolution: Mapped[AlertResolution | None] = mapped_column(StrEnumType(AlertResolution, 32))
    resolution_note: Mapped[str | None] = mapped_column(String(1000))


class FakeReport(Base):
    """A shopper's report of a suspected fake, kept for the association. Nothing personal is
    required; a contact is stored only if the shopper chose to leave one."""

    __tablename__ = "fake_reports"
    __table_args__ = (Index("ix_fake_reports_association_id_id", "association_id", "id"),)

    id: Mapped[IntPK]
    created_at: Mapped[CreatedAt]
    #: one per form shown: a double submit returns the first report instead of a second one
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[ReportStatus] = mapped_column(StrEnumType(ReportStatus, 16), index=True)
    gtin: Mapped[str | None] = mapped_column(String(14))
    lot: Mapped[str | None] = mapped_column(String(20))
    serial: Mapped[str | None] = mapped_column(String(20))
    verdict: Mapped[Verdict | None] = mapped_column(StrEnumType(Verdict, 24))
    scan_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("scans.id"))
    product_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("products.id"))
    brand_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("brands.id"), index=True)
    firm_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("organisations.id"))
    association_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("organisations.id"))
    place: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))
    contact: Mapped[str | None] = mapped_column(String(200))
    photo_file_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("stored_files.id"))
    client_hash: Mapped[str] = mapped_column(String(32))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    review_note: Mapped[str | None] = mapped_column(String(1000))


class ScanRule(Base):
    """A brand's own setting of one anomaly rule (absent: the default applies)."""

    __tablename__ = "scan_rules"
    __table_args__ = (UniqueConstraint("brand_id", "kind"),)

    id: Mapped[IntPK]
    brand_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("brands.id"))
    kind: Mapped[RuleKind] = mapped_column(StrEnumType(RuleKind, 32))
    is_enabled: Mapped[bool] = mapped_column(Boolean)
    threshold: Mapped[int | None] = mapped_column(Integer)
    window_minutes: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
