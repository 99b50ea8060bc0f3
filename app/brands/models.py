"""Regional brands, their co-builders and member firms."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Organisation, User
from app.db import Base, BigIntId, CreatedAt, IntPK, StrEnumType, UTCDateTime, utcnow
from app.files.models import StoredFile


class MarkType(enum.StrEnum):
    """The kind of trademark protecting the brand mark (China's Trademark Law, art. 3)."""

    COLLECTIVE = "collective"
    CERTIFICATION = "certification"


class CoBuilderRole(enum.StrEnum):
    """What a co-builder does for the brand. ``owner`` is the association that owns the mark;
    ``supervisor`` a government body that supervises it; ``promoter`` an alliance or association
    that co-promotes it."""

    OWNER = "owner"
    SUPERVISOR = "supervisor"
    PROMOTER = "promoter"


class MembershipStatus(enum.StrEnum):
    APPLIED = "applied"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    LEFT = "left"


OPEN_MEMBERSHIP_STATUSES = frozenset(
    {MembershipStatus.APPLIED, MembershipStatus.APPROVED, MembershipStatus.SUSPENDED}
)


class Brand(Base):
    __tablename__ = "brands"

    id: Mapped[IntPK]
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    owner_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("organisations.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # ISO 3166-2 subdivision (CN-AH) plus the local name of the area (祁门县).
    region_code: Mapped[str] = mapped_column(String(16))
    region_name_zh: Mapped[str] = mapped_column(String(200))
    region_name_en: Mapped[str] = mapped_column(String(200))
    category_zh: Mapped[str] = mapped_column(String(100))
    category_en: Mapped[str] = mapped_column(String(100))
    story_zh: Mapped[str] = mapped_column(Text, default="")
    story_en: Mapped[str] = mapped_column(Text, default="")
    logo_file_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("stored_files.id"))
    # The brand mark's trademark registration (all null until recorded).
    mark_registration_number: Mapped[str | None] = mapped_column(String(32))
    mark_office: Mapped[str | None] = mapped_column(String(100))
    mark_nice_classes: Mapped[list[int] | None] = mapped_column(JSON)
    mark_type: Mapped[MarkType | None] = mapped_column(StrEnumType(MarkType, 16))
    mark_registered_on: Mapped[date | None] = mapped_column(Date)
    mark_expires_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    owner: Mapped[Organisation] = relationship(lazy="joined")
    logo: Mapped[StoredFile | None] = relationship()
    co_builders: Mapped[list[CoBuilder]] = relationship(
        back_populates="brand", order_by="CoBuilder.id", cascade="all, delete-orphan"
    )


class CoBuilder(Base):
    __tablename__ = "brand_co_builders"
    __table_args__ = (UniqueConstraint("brand_id", "organisation_id"),)

    id: Mapped[IntPK]
    brand_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("brands.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("organisations.id"), index=True
    )
    role: Mapped[CoBuilderRole] = mapped_column(StrEnumType(CoBuilderRole, 16))
    created_at: Mapped[CreatedAt]

    brand: Mapped[Brand] = relationship(back_populates="co_builders")
    organisation: Mapped[Organisation] = relationship(lazy="joined")


class Membership(Base):
    """A firm's application to a brand and, once approved, its membership.

    One row per application, kept as history. ``open_key`` is set while the application is
    open (applied, approved or suspended) and unique, so the database itself refuses a second
    open application of the same firm to the same brand, even under concurrent requests.
    """

    __tablename__ = "brand_memberships"

    id: Mapped[IntPK]
    brand_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("brands.id"), index=True)
    firm_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("organisations.id"), index=True)
    status: Mapped[MembershipStatus] = mapped_column(StrEnumType(MembershipStatus, 16))
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    registration_scheme: Mapped[str] = mapped_column(String(16))
    registration_number: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text, default="")
    applied_by_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"))
    applied_at: Mapped[CreatedAt]
    member_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status_changed_by_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))

    brand: Mapped[Brand] = relationship(lazy="joined")
    firm: Mapped[Organisation] = relationship(lazy="joined")
    applied_by: Mapped[User] = relationship(foreign_keys=[applied_by_id])
