"""Audits of member firms against published standard versions, and decisions on them."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
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

from app.auth.models import Organisation, User
from app.brands.models import Brand
from app.db import Base, BigIntId, CreatedAt, IntPK, StrEnumType, UTCDateTime, utcnow
from app.files.models import StoredFile
from app.standards.models import Criterion, StandardVersion


class AuditKind(enum.StrEnum):
    INITIAL = "initial"
    SURVEILLANCE = "surveillance"
    RENEWAL = "renewal"


class AuditStatus(enum.StrEnum):
    """``open`` while results are recorded (or, for a scheduled surveillance audit, before it
    starts); ``signed_off`` by the auditor, awaiting a decision; ``decided``."""

    OPEN = "open"
    SIGNED_OFF = "signed_off"
    DECIDED = "decided"


class AuditResult(enum.StrEnum):
    PASS = "pass"  # noqa: S105 - an audit result, not a password
    FAIL = "fail"


class DecisionOutcome(enum.StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"


class Audit(Base):
    __tablename__ = "audits"

    id: Mapped[IntPK]
    brand_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("brands.id"), index=True)
    firm_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("organisations.id"), index=True)
    standard_version_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("standard_versions.id"), index=True
    )
    kind: Mapped[AuditKind] = mapped_column(StrEnumType(AuditKind, 16))
    status: Mapped[AuditStatus] = mapped_column(StrEnumType(AuditStatus, 16), index=True)
    # Surveillance audits are due by a date; overdue ones are listed for the association.
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    audited_on: Mapped[date | None] = mapped_column(Date)
    # The audit whose granted decision this (surveillance) audit follows up.
    follows_audit_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("audits.id"), index=True
    )
    auditor_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    summary: Mapped[str] = mapped_column(Text, default="")
    overall_result: Mapped[AuditResult | None] = mapped_column(StrEnumType(AuditResult, 8))
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_off_by_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    brand: Mapped[Brand] = relationship(lazy="joined")
    firm: Mapped[Organisation] = relationship(lazy="joined")
    standard_version: Mapped[StandardVersion] = relationship(lazy="joined")
    auditor: Mapped[User | None] = relationship(foreign_keys=[auditor_id])
    signed_off_by: Mapped[User | None] = relationship(foreign_keys=[signed_off_by_id])
    products: Mapped[list[AuditProduct]] = relationship(
        order_by="AuditProduct.id", cascade="all, delete-orphan"
    )
    sites: Mapped[list[AuditSite]] = relationship(
        order_by="AuditSite.id", cascade="all, delete-orphan"
    )
    measurements: Mapped[list[AuditMeasurement]] = relationship(
        order_by="AuditMeasurement.id", cascade="all, delete-orphan"
    )
    evidence: Mapped[list[AuditEvidence]] = relationship(
        order_by="AuditEvidence.id", cascade="all, delete-orphan"
    )
    decision: Mapped[AuditDecision | None] = relationship(back_populates="audit")


class AuditProduct(Base):
    """A product in the audit's scope, identified by its GTIN (stored as 14 digits)."""

    __tablename__ = "audit_products"
    __table_args__ = (UniqueConstraint("audit_id", "gtin"),)

    id: Mapped[IntPK]
    audit_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("audits.id"), index=True)
    gtin: Mapped[str] = mapped_column(String(14))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))


class AuditSite(Base):
    """A production site in the audit's scope."""

    __tablename__ = "audit_sites"

    id: Mapped[IntPK]
    audit_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("audits.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500))
    gln: Mapped[str | None] = mapped_column(String(13))


class AuditMeasurement(Base):
    """The measured value (or finding) for one criterion, and whether it passes."""

    __tablename__ = "audit_measurements"
    __table_args__ = (UniqueConstraint("audit_id", "criterion_id"),)

    id: Mapped[IntPK]
    audit_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("audits.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("standard_criteria.id"))
    value_number: Mapped[float | None] = mapped_column(Double)
    value_text: Mapped[str | None] = mapped_column(String(200))
    value_bool: Mapped[bool | None] = mapped_column(Boolean)
    finding: Mapped[str] = mapped_column(Text, default="")
    passed: Mapped[bool] = mapped_column(Boolean)
    recorded_by_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    criterion: Mapped[Criterion] = relationship(lazy="joined")


class AuditEvidence(Base):
    """A file supporting the audit (lab report, photo), stored with its SHA-256 digest."""

    __tablename__ = "audit_evidence_files"

    id: Mapped[IntPK]
    audit_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("audits.id"), index=True)
    file_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("stored_files.id"))
    description: Mapped[str] = mapped_column(String(500), default="")
    criterion_key: Mapped[str | None] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"))
    created_at: Mapped[CreatedAt]

    file: Mapped[StoredFile] = relationship(lazy="joined")


class AuditDecision(Base):
    """The certification decision on a signed-off audit, taken by someone who did not audit.

    ``next_surveillance_due_on`` is when the surveillance audit scheduled by a granted decision
    is due; certificates read it (see ``app.audits.services.get_granted_decision``)."""

    __tablename__ = "audit_decisions"

    id: Mapped[IntPK]
    audit_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("audits.id"), unique=True)
    outcome: Mapped[DecisionOutcome] = mapped_column(StrEnumType(DecisionOutcome, 16))
    reason: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    surveillance_interval_months: Mapped[int | None] = mapped_column(Integer)
    next_surveillance_due_on: Mapped[date | None] = mapped_column(Date)

    audit: Mapped[Audit] = relationship(back_populates="decision")
    decided_by: Mapped[User] = relationship()
