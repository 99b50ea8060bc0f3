"""Traceability records: EPCIS 2.0 events, their identifiers, capture jobs, registered
locations and partner authorisations.

An event is stored once (its CBV 2.0 hash ID is unique) with its JSON-LD as captured plus the
columns the standard queries filter on. Every identifier an event names (EPCs, parent, children,
inputs, outputs, quantity classes) gets a row in ``epcis_event_epcs`` in its canonical GS1 Digital
Link form on id.gs1.org, with its role: that table is what makes ``MATCH_*`` queries and journeys
index lookups rather than JSON scans.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Organisation
from app.db import Base, BigIntId, CreatedAt, IntPK, JsonDocument, StrEnumType, UTCDateTime


class CaptureErrorBehaviour(enum.StrEnum):
    """``GS1-Capture-Error-Behaviour``: refuse the whole document, or keep the valid events."""

    ROLLBACK = "rollback"
    PROCEED = "proceed"


class CaptureStatus(enum.StrEnum):
    SUCCEEDED = "succeeded"
    # proceed mode only: some events were refused, the others captured
    PARTIAL = "partial"
    # proceed mode only: every event was refused (rollback refuses before anything is stored)
    FAILED = "failed"


class EpcRole(enum.StrEnum):
    """Where an identifier appears in an event."""

    EPC = "epc"  # epcList
    PARENT = "parent"  # parentID
    CHILD = "child"  # childEPCs
    INPUT = "input"  # inputEPCList
    OUTPUT = "output"  # outputEPCList
    QUANTITY = "quantity"  # quantityList epcClass
    CHILD_QUANTITY = "child_quantity"  # childQuantityList epcClass
    INPUT_QUANTITY = "input_quantity"  # inputQuantityList epcClass
    OUTPUT_QUANTITY = "output_quantity"  # outputQuantityList epcClass


class ReferenceKind(enum.StrEnum):
    """Typed references of an event that EQ_<kind>_<type> queries filter on."""

    BIZ_TRANSACTION = "bizTransaction"  # bizTransactionList
    SOURCE = "source"  # sourceList
    DESTINATION = "destination"  # destinationList


class EventRelation(enum.StrEnum):
    """Why an organisation may see an event."""

    CAPTURED = "captured"
    OWNER = "owner"  # the event names one of the organisation's products


class LocationKind(enum.StrEnum):
    FARM = "farm"
    FACTORY = "factory"
    WAREHOUSE = "warehouse"
    STORE = "store"
    OTHER = "other"


class CaptureJob(Base):
    """One ``POST /epcis/capture``: who sent which document and what became of it."""

    __tablename__ = "epcis_capture_jobs"
    __table_args__ = (Index("ix_epcis_capture_jobs_org_id", "organisation_id", "id"),)

    id: Mapped[IntPK]
    # Public identifier (in the Location header): random, so job numbers reveal no volumes.
    capture_id: Mapped[str] = mapped_column(String(36), unique=True)
    organisation_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("organisations.id"))
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"))
    error_behaviour: Mapped[CaptureErrorBehaviour] = mapped_column(
        StrEnumType(CaptureErrorBehaviour, 16)
    )
    status: Mapped[CaptureStatus] = mapped_column(StrEnumType(CaptureStatus, 16))
    event_count: Mapped[int] = mapped_column(Integer)
    captured_count: Mapped[int] = mapped_column(Integer)
    duplicate_count: Mapped[int] = mapped_column(Integer)
    # stored events this capture declared erroneous (errorDeclaration by their recorder)
    declared_count: Mapped[int] = mapped_column(Integer, server_default="0")
    rejected_count: Mapped[int] = mapped_column(Integer)
    # [{"field": JSON pointer, "rule": code, "message": text}] for refused events (proceed mode)
    errors: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    document_sha256: Mapped[str] = mapped_column(String(64))
    document_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[CreatedAt]
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship(lazy="joined")


class Event(Base):
    """One EPCIS event, stored once whatever the number of captures."""

    __tablename__ = "epcis_events"
    __table_args__ = (
        Index("ix_epcis_events_event_time_id", "event_time", "id"),
        Index("ix_epcis_events_record_time_id", "record_time", "id"),
        Index("ix_epcis_events_org_id", "organisation_id", "id"),
        Index("ix_epcis_events_error_declaration_time", "error_declaration_time"),
    )

    id: Mapped[IntPK]
    # CBV 2.0 event hash ID (ni:///sha-256;...?ver=CBV2.0): the identity of the content.
    hash_id: Mapped[str] = mapped_column(String(100), unique=True)
    # The eventID as captured, or the hash ID when the capturer gave none.
    epcis_event_id: Mapped[str] = mapped_column(String(512), unique=True)
    event_type: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str | None] = mapped_column(String(8))
    event_time: Mapped[datetime] = mapped_column(UTCDateTime())
    time_zone_offset: Mapped[str] = mapped_column(String(6))
    record_time: Mapped[datetime] = mapped_column(UTCDateTime())
    # CBV terms as full URIs (https://ref.gs1.org/cbv/BizStep-shipping), whatever the input form.
    biz_step: Mapped[str | None] = mapped_column(String(500), index=True)
    disposition: Mapped[str | None] = mapped_column(String(500), index=True)
    # Canonical identifiers (GLNs as https://id.gs1.org/414/<gln>[/254/<ext>]).
    read_point: Mapped[str | None] = mapped_column(String(500), index=True)
    biz_location: Mapped[str | None] = mapped_column(String(500), index=True)
    capture_job_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("epcis_capture_jobs.id"), index=True
    )
    # Who captured it: events are attributed to their capturer.
    organisation_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("organisations.id"))
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"))
    # The event as captured (JSON-LD), with the document's extra @context entries folded in.
    document: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    # Its errorDeclaration, if declared erroneous: when, and why (CBV term as a full URI), for
    # the EXISTS_errorDeclaration, GE_/LT_errorDeclarationTime and EQ_errorReason queries.
    error_declaration_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error_reason: Mapped[str | None] = mapped_column(String(500))

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    epcs: Mapped[list[EventEpc]] = relationship(
        back_populates="event", order_by="EventEpc.id", viewonly=True
    )


class EventEpc(Base):
    """An identifier named by an event, in canonical form, with its role."""

    __tablename__ = "epcis_event_epcs"
    __table_args__ = (
        # MATCH_* queries and every journey step look identifiers up here.
        Index("ix_epcis_event_epcs_uri_event_id", "uri", "event_id"),
        # A batch's units: products carry GTIN + lot, the journey and recalls reach them by it.
        Index("ix_epcis_event_epcs_gtin_lot", "gtin", "lot"),
    )

    id: Mapped[IntPK]
    event_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("epcis_events.id"), index=True)
    role: Mapped[EpcRole] = mapped_column(StrEnumType(EpcRole, 16))
    uri: Mapped[str] = mapped_column(String(500))
    gtin: Mapped[str | None] = mapped_column(String(14))
    lot: Mapped[str | None] = mapped_column(String(20))
    serial: Mapped[str | None] = mapped_column(String(30))
    quantity: Mapped[float | None] = mapped_column(Float)
    uom: Mapped[str | None] = mapped_column(String(8))
    # The firm whose product this is (GTIN-based identifiers of registered products).
    owner_organisation_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("organisations.id")
    )

    event: Mapped[Event] = relationship(back_populates="epcs")


class EventReference(Base):
    """A business transaction, source or destination of an event: its type as a full URI
    (``https://ref.gs1.org/cbv/BTT-po``; None for an untyped business transaction) and its
    value, in canonical Digital Link form when it is a GS1 identifier. Makes
    ``EQ_bizTransaction_<type>``, ``EQ_source_<type>`` and ``EQ_destination_<type>`` queries
    index lookups."""

    __tablename__ = "epcis_event_references"
    __table_args__ = (Index("ix_epcis_event_references_lookup", "kind", "value", "event_id"),)

    id: Mapped[IntPK]
    event_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("epcis_events.id"), index=True)
    kind: Mapped[ReferenceKind] = mapped_column(StrEnumType(ReferenceKind, 16))
    type: Mapped[str | None] = mapped_column(String(500))
    value: Mapped[str] = mapped_column(String(500))


class EventOrganisation(Base):
    """Which organisations an event concerns: its capturer and the owners of its products.
    Visibility checks are one indexed lookup here."""

    __tablename__ = "epcis_event_organisations"
    __table_args__ = (
        Index("ix_epcis_event_organisations_org_event", "organisation_id", "event_id"),
    )

    event_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("epcis_events.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("organisations.id"), primary_key=True
    )
    relation: Mapped[EventRelation] = mapped_column(
        StrEnumType(EventRelation, 16), primary_key=True
    )


class EventCertification(Base):
    """A ``certificationInfo`` reference of an event (a certificate URL or URN), linked to our
    certificate when it names one."""

    __tablename__ = "epcis_event_certifications"

    id: Mapped[IntPK]
    event_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("epcis_events.id"), index=True)
    reference: Mapped[str] = mapped_column(String(500), index=True)
    certificate_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("certificates.id"), index=True
    )


class Location(Base):
    """A GLN-based read point or business location a firm registered (farm, factory, store)."""

    __tablename__ = "epcis_locations"
    __table_args__ = (UniqueConstraint("organisation_id", "uri"),)

    id: Mapped[IntPK]
    organisation_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("organisations.id"))
    gln: Mapped[str] = mapped_column(String(13))
    extension: Mapped[str | None] = mapped_column(String(20))
    # Canonical form, as stored on events: https://id.gs1.org/414/<gln>[/254/<extension>]
    uri: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[LocationKind] = mapped_column(StrEnumType(LocationKind, 16))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[CreatedAt]

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    @property
    def organisation_slug(self) -> str:
        return self.organisation.slug


class PartnerAuthorisation(Base):
    """A firm lets a partner (logistics company, processor) capture events about its products."""

    __tablename__ = "epcis_partner_authorisations"
    __table_args__ = (
        Index("ix_epcis_partner_authorisations_partner", "partner_organisation_id"),
        Index("ix_epcis_partner_authorisations_org", "organisation_id"),
    )

    id: Mapped[IntPK]
    organisation_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("organisations.id"))
    partner_organisation_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("organisations.id"))
    # GTIN-14s the partner may capture about; null means every product of the firm.
    gtins: Mapped[list[str] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"))
    created_at: Mapped[CreatedAt]
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id], lazy="joined")
    partner: Mapped[Organisation] = relationship(
        foreign_keys=[partner_organisation_id], lazy="joined"
    )

    @property
    def organisation_slug(self) -> str:
        return self.organisation.slug

    @property
    def partner_slug(self) -> str:
        return self.partner.slug


class RecallKind(enum.StrEnum):
    HOLD = "hold"  # stop selling while the firm or the association investigates
    RECALL = "recall"  # take back from the market


class RecallStatus(enum.StrEnum):
    ACTIVE = "active"
    LIFTED = "lifted"


class Recall(Base):
    """A hold or recall of a batch. It affects every unit of the batch and everything made
    or packed from it downstream (computed from the events when asked, so events recorded
    later are covered too)."""

    __tablename__ = "recalls"
    __table_args__ = (Index("ix_recalls_gtin_lot_status", "gtin", "lot", "status"),)

    id: Mapped[IntPK]
    batch_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("batches.id"), index=True)
    # The batch's identity, copied so that matching against events needs no join.
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str] = mapped_column(String(20))
    owner_organisation_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("organisations.id"), index=True
    )
    kind: Mapped[RecallKind] = mapped_column(StrEnumType(RecallKind, 16))
    status: Mapped[RecallStatus] = mapped_column(StrEnumType(RecallStatus, 16))
    reason: Mapped[str] = mapped_column(Text)
    placed_by_organisation_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("organisations.id"))
    placed_by_user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"))
    created_at: Mapped[CreatedAt]
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lifted_by_user_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    lift_reason: Mapped[str | None] = mapped_column(Text)

    placed_by: Mapped[Organisation] = relationship(
        foreign_keys=[placed_by_organisation_id], lazy="joined"
    )

    @property
    def placed_by_slug(self) -> str:
        return self.placed_by.slug
