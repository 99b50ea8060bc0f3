"""Issuer keys, status lists, certificates and their lifecycle events."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Organisation
from app.db import Base, BigIntId, CreatedAt, IntPK, StrEnumType, UTCDateTime


class KeyStatus(enum.StrEnum):
    ACTIVE = "active"  # the one key that signs now
    RETIRED = "retired"  # rotated out; its signatures made while it was active stay valid
    REVOKED = "revoked"  # compromised: signatures made from ``revoked_at`` on are refused


class IssuerKey(Base):
    """An association's Ed25519 signing key. The private key is kept only sealed
    (:mod:`app.keystore`) and is loaded only when a signature is made."""

    __tablename__ = "issuer_keys"
    __table_args__ = (
        UniqueConstraint("organisation_id", "fragment"),
        UniqueConstraint("public_key_multibase"),
        # At most one signing key per association, even under concurrent rotations.
        Index(
            "uq_issuer_keys_one_active",
            "organisation_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[IntPK]
    organisation_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("organisations.id"), index=True
    )
    # The verification method is ``<issuer DID>#<fragment>``.
    fragment: Mapped[str] = mapped_column(String(32))
    public_key_multibase: Mapped[str] = mapped_column(String(64))
    sealed_private_key: Mapped[str] = mapped_column(Text, deferred=True)
    status: Mapped[KeyStatus] = mapped_column(StrEnumType(KeyStatus, 16))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revocation_reason: Mapped[str | None] = mapped_column(String(500))
    revocation_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[CreatedAt]


class StatusPurpose(enum.StrEnum):
    REVOCATION = "revocation"
    SUSPENSION = "suspension"


class StatusList(Base):
    """One Bitstring Status List of an association, published as a signed credential."""

    __tablename__ = "status_lists"
    __table_args__ = (UniqueConstraint("organisation_id", "purpose", "sequence"),)

    id: Mapped[IntPK]
    organisation_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("organisations.id"), index=True
    )
    purpose: Mapped[StatusPurpose] = mapped_column(StrEnumType(StatusPurpose, 16))
    # 1, 2, ... per association and purpose; part of the list's public URL.
    sequence: Mapped[int] = mapped_column(Integer)
    size_bits: Mapped[int] = mapped_column(Integer)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    allocated: Mapped[int] = mapped_column(Integer, default=0)
    # The secret key of the permutation that orders the list's indices (see
    # app.certificates.status); None for lists made before, which take no new certificates.
    slot_key: Mapped[bytes | None] = mapped_column(LargeBinary(32), deferred=True)
    # The signed BitstringStatusListCredential exactly as served, and its ETag.
    credential_json: Mapped[str] = mapped_column(Text)
    etag: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[CreatedAt]


class CertificateStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"  # by the issuer, as a sanction
    CANCELLED = "cancelled"  # given up by the holder (voluntary)
    SUPERSEDED = "superseded"  # renewed or re-issued: a newer certificate replaces it
    EXPIRED = "expired"


# Live: not ended for good. A live certificate holds its products (one per decision) and its
# label quota, and a suspended one may come back into force.
LIVE_STATUSES = (CertificateStatus.ACTIVE, CertificateStatus.SUSPENDED)


class Certificate(Base):
    """A certificate of conformity with its mark licence: the register's record of one signed
    credential. ``credential_json`` is the credential exactly as issued."""

    __tablename__ = "certificates"
    # A status list index is never given twice: each comes from the list's keyed permutation of
    # its allocation counter (app.certificates.status), so no unique index on random keys.
    __table_args__ = (
        CheckConstraint(
            "labels_issued >= 0 AND labels_issued <= label_quota", name="label_quota_held"
        ),
        CheckConstraint("valid_from < valid_until", name="validity_ordered"),
    )

    id: Mapped[IntPK]
    number: Mapped[str] = mapped_column(String(40), unique=True)
    issuer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("organisations.id"), index=True)
    firm_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("organisations.id"), index=True)
    brand_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("brands.id"), index=True)
    # The granted audit decision the certificate rests on (its surveillance keeps it in force).
    decision_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("audit_decisions.id"), index=True)
    standard_version_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("standard_versions.id"))
    issuer_key_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("issuer_keys.id"))
    status: Mapped[CertificateStatus] = mapped_column(
        StrEnumType(CertificateStatus, 16), index=True
    )
    status_reason: Mapped[str | None] = mapped_column(String(500))
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # The holder as named in the signed credential (the register searches these).
    holder_name_zh: Mapped[str] = mapped_column(String(200))
    holder_name_en: Mapped[str] = mapped_column(String(200))
    holder_registration_number: Mapped[str | None] = mapped_column(String(64), index=True)
    standard_code: Mapped[str] = mapped_column(String(64))
    standard_version: Mapped[str] = mapped_column(String(32))
    standard_content_hash: Mapped[str] = mapped_column(String(100))
    scope_gtins: Mapped[list[str]] = mapped_column(JSON)
    scope_sites: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    mark_licence_number: Mapped[str] = mapped_column(String(48), unique=True)
    label_quota: Mapped[int] = mapped_column(Integer)
    labels_issued: Mapped[int] = mapped_column(Integer, default=0)
    revocation_list_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("status_lists.id"))
    revocation_index: Mapped[int] = mapped_column(Integer)
    suspension_list_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("status_lists.id"))
    suspension_index: Mapped[int] = mapped_column(Integer)
    previous_certificate_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("certificates.id")
    )
    credential_json: Mapped[str] = mapped_column(Text)
    # The proof value identifies the exact signed content (Ed25519 is deterministic).
    proof_value: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_by_user_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    # Index of the issuance entry in the transparency log (issue 8).
    log_index: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[CreatedAt]

    issuer: Mapped[Organisation] = relationship(foreign_keys=[issuer_id], lazy="joined")
    firm: Mapped[Organisation] = relationship(foreign_keys=[firm_id], lazy="joined")
    issuer_key: Mapped[IssuerKey] = relationship()
    events: Mapped[list[CertificateEvent]] = relationship(
        back_populates="certificate",
        foreign_keys="CertificateEvent.certificate_id",
        order_by="CertificateEvent.id",
    )


class CertificateEventKind(enum.StrEnum):
    ISSUED = "issued"
    SUSPENDED = "suspended"
    REINSTATED = "reinstated"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    RENEWED = "renewed"  # on the new certificate: it renews the previous one
    REISSUED = "reissued"  # on the new certificate: scope or quota changed


class CertificateEvent(Base):
    """One step of a certificate's lifecycle: what, why, who and when. Append-only."""

    __tablename__ = "certificate_events"

    id: Mapped[IntPK]
    certificate_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("certificates.id"), index=True)
    kind: Mapped[CertificateEventKind] = mapped_column(StrEnumType(CertificateEventKind, 16))
    reason: Mapped[str | None] = mapped_column(String(500))
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    related_certificate_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("certificates.id")
    )
    actor_user_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    actor_organisation_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("organisations.id")
    )
    occurred_at: Mapped[CreatedAt]

    certificate: Mapped[Certificate] = relationship(
        back_populates="events", foreign_keys=[certificate_id]
    )
    related_certificate: Mapped[Certificate | None] = relationship(
        foreign_keys=[related_certificate_id]
    )


class CertificateNumberSequence(Base):
    """The last certificate number handed out per association and year (locked to allocate)."""

    __tablename__ = "certificate_number_sequences"

    organisation_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("organisations.id"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)
