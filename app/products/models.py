"""Products (GTINs), batches (lots), label orders and unit codes."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, BigIntId, CreatedAt, IntPK, StrEnumType, UTCDateTime, utcnow


class ProductStatus(enum.StrEnum):
    ACTIVE = "active"
    DISCONTINUED = "discontinued"


class Product(Base):
    """A trade item of a firm, identified worldwide by its GTIN (stored as 14 digits)."""

    __tablename__ = "products"

    id: Mapped[IntPK]
    organisation_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("organisations.id"), index=True
    )
    # A GTIN names one trade item worldwide, so it is unique across firms, not per firm.
    gtin: Mapped[str] = mapped_column(String(14), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_zh: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ProductStatus] = mapped_column(
        StrEnumType(ProductStatus, 16), default=ProductStatus.ACTIVE
    )
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ProductImage(Base):
    """A picture of a product (shown on the consumer page); the bytes live in ``stored_files``."""

    __tablename__ = "product_images"

    id: Mapped[IntPK]
    product_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("products.id"), index=True)
    file_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("stored_files.id"))
    created_at: Mapped[CreatedAt]


class Batch(Base):
    """A production lot of a product (GS1 AI 10), with its dates (AIs 11, 15, 17)."""

    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("product_id", "lot"),)

    id: Mapped[IntPK]
    product_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("products.id"), index=True)
    lot: Mapped[str] = mapped_column(String(20))
    production_date: Mapped[date | None] = mapped_column(Date)
    best_before_date: Mapped[date | None] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[int | None] = mapped_column(Integer)
    production_site: Mapped[str | None] = mapped_column(String(200))
    production_site_gln: Mapped[str | None] = mapped_column(String(13))
    created_at: Mapped[CreatedAt]

    product: Mapped[Product] = relationship(lazy="joined")


class LabelOrderStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the association; its quantity is reserved
    REJECTED = "rejected"  # final; the reservation is released
    CANCELLED = "cancelled"  # withdrawn by the firm while pending; released
    ISSUED = "issued"  # codes generated, not yet valid on products
    PRINTED = "printed"  # the firm says the labels are printed
    ACTIVE = "active"  # the codes verify as genuine
    BLACKLISTED = "blacklisted"  # every code of the order is blocked (lost or stolen labels)


class LabelOrder(Base):
    """A firm's order of serialised codes for one batch, counted against a label quota."""

    __tablename__ = "label_orders"

    id: Mapped[IntPK]
    organisation_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("organisations.id"), index=True
    )
    batch_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("batches.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("products.id"), index=True)
    # The certificate whose label quota the order counts against, and its association, which
    # approves the order.
    certificate_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("certificates.id"), index=True)
    association_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("organisations.id"), index=True
    )
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[LabelOrderStatus] = mapped_column(
        StrEnumType(LabelOrderStatus, 16), default=LabelOrderStatus.PENDING, index=True
    )
    # Offline-verifiable labels: each code's URI carries a compact signature by the
    # association's key (app.certificates.compact), checkable without network.
    is_signed: Mapped[bool] = mapped_column(Boolean, default=False)
    signing_key_id: Mapped[str | None] = mapped_column(String(300))
    # SHA-256 over "<serial>\n" of every code in issue order: what the transparency log records.
    codes_sha256: Mapped[str | None] = mapped_column(String(64))
    requested_by_user_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    decided_by_user_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    is_auto_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[CreatedAt]
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    blacklisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    blacklist_reason: Mapped[str | None] = mapped_column(String(500))

    batch: Mapped[Batch] = relationship(lazy="joined")


class UnitCode(Base):
    """One serialised unit: GTIN (via product) + lot (via order's batch) + serial.

    Deliberately narrow, and without a per-row status: an order of a million codes is
    activated or blacklisted by changing the order, not a million rows. A unit's state is
    blacklisted (its own mark or its order's), else active when its order is, else inactive.
    """

    __tablename__ = "unit_codes"
    __table_args__ = (
        UniqueConstraint("product_id", "serial"),
        Index("ix_unit_codes_order_id_id", "order_id", "id"),
    )

    id: Mapped[IntPK]
    order_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("label_orders.id"))
    product_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("products.id"))
    serial: Mapped[str] = mapped_column(String(20))
    signature: Mapped[str | None] = mapped_column(String(86))
    blacklisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    blacklist_reason: Mapped[str | None] = mapped_column(String(500))


class LabelPolicy(Base):
    """How a brand's association handles label orders of its member firms.

    Absent means every order waits for approval. With ``auto_approve``, orders within the
    certificate's quota (and at most ``auto_approve_max`` codes, when set) are approved and
    issued at once.
    """

    __tablename__ = "label_policies"

    id: Mapped[IntPK]
    brand_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("brands.id"), unique=True)
    auto_approve: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_approve_max: Mapped[int | None] = mapped_column(Integer)
    updated_by_user_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
