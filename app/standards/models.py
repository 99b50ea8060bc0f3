"""Standards, their versions, clauses and measurable criteria.

A published version is immutable: its canonical JSON and SHA-256 content hash are stored at
publication (see ``app.standards.canonical``), and no service edits it afterwards.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Double,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.brands.models import Brand
from app.db import Base, BigIntId, CreatedAt, IntPK, StrEnumType, UTCDateTime, utcnow


class VersionStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


class ValueType(enum.StrEnum):
    """How a criterion is measured: a number against a threshold, one of a set of allowed
    values, or a yes/no finding (true passes)."""

    NUMBER = "number"
    CHOICE = "choice"
    BOOLEAN = "boolean"


class Comparator(enum.StrEnum):
    LT = "lt"
    LE = "le"
    EQ = "eq"
    GE = "ge"
    GT = "gt"
    BETWEEN = "between"  # threshold <= value <= threshold_max


class Standard(Base):
    __tablename__ = "standards"

    id: Mapped[IntPK]
    brand_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("brands.id"), index=True)
    # Codes such as "T/QMTA 001-2024" name a standard nationally: unique across the service.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title_zh: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[CreatedAt]

    brand: Mapped[Brand] = relationship(lazy="joined")
    versions: Mapped[list[StandardVersion]] = relationship(
        back_populates="standard", order_by="StandardVersion.id"
    )


class StandardVersion(Base):
    __tablename__ = "standard_versions"
    __table_args__ = (UniqueConstraint("standard_id", "version"),)

    id: Mapped[IntPK]
    standard_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("standards.id"), index=True)
    version: Mapped[str] = mapped_column(String(32))
    status: Mapped[VersionStatus] = mapped_column(StrEnumType(VersionStatus, 16))
    effective_from: Mapped[date | None] = mapped_column(Date)
    # Set at publication and never changed: the exact bytes hashed and their SHA-256 (hex).
    canonical_json: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[CreatedAt]
    created_by_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    standard: Mapped[Standard] = relationship(back_populates="versions", lazy="joined")
    clauses: Mapped[list[Clause]] = relationship(
        order_by="Clause.position", cascade="all, delete-orphan"
    )
    criteria: Mapped[list[Criterion]] = relationship(
        order_by="Criterion.position", cascade="all, delete-orphan"
    )


class Clause(Base):
    __tablename__ = "standard_clauses"
    __table_args__ = (UniqueConstraint("version_id", "number"),)

    id: Mapped[IntPK]
    version_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("standard_versions.id"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(32))
    title_zh: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    requirement_zh: Mapped[str] = mapped_column(Text)
    requirement_en: Mapped[str] = mapped_column(Text)


class Criterion(Base):
    __tablename__ = "standard_criteria"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Mapped[IntPK]
    version_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("standard_versions.id"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(64))
    clause_number: Mapped[str | None] = mapped_column(String(32))
    metric_zh: Mapped[str] = mapped_column(String(200))
    metric_en: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(32))
    method: Mapped[str | None] = mapped_column(String(200))
    value_type: Mapped[ValueType] = mapped_column(StrEnumType(ValueType, 16))
    comparator: Mapped[Comparator | None] = mapped_column(StrEnumType(Comparator, 16))
    threshold: Mapped[float | None] = mapped_column(Double)
    threshold_max: Mapped[float | None] = mapped_column(Double)
    allowed_values: Mapped[list[str] | None] = mapped_column(JSON)
    is_mandatory: Mapped[bool] = mapped_column(Boolean, default=True)
