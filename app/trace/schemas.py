"""Request and response schemas of the traceability API (EPCIS names where the standard has
them)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BeforeValidator,
    Field,
    RootModel,
    StringConstraints,
)

from app.http.schemas import PageQuery, QuerySchema, RequestSchema, ResponseSchema
from app.trace.journeys import Direction
from app.trace.models import LocationKind, RecallKind, RecallStatus

ListParameter = str | list[str] | None
_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")


def _iso_timestamp(value: object) -> object:
    # EPCIS query times are ISO 8601 timestamps; pydantic would also read a bare number as
    # seconds since 1970 (LT_recordTime=0.5), which no EPCIS client means.
    if isinstance(value, str | int | float) and _NUMBER.match(str(value)):
        raise ValueError("must be an ISO 8601 timestamp with an offset, e.g. 2026-04-02T07:30Z")
    return value


QueryTime = Annotated[AwareDatetime, BeforeValidator(_iso_timestamp)]
_LIST = " Several values: repeat the parameter or separate values with `|`."


def _list(description: str) -> Any:
    return Field(None, description=description + _LIST)


class EPCISDocumentIn(RootModel[dict[str, Any]]):
    """An EPCIS 2.0 JSON-LD EPCISDocument (validated against the official JSON Schema and the
    CBV rules by the capture service)."""


class CaptureErrorOut(ResponseSchema):
    field: str = Field(description="JSON pointer into the captured document")
    rule: str
    message: str


class EventListOut(ResponseSchema):
    eventList: list[dict[str, Any]] = Field(
        description="EPCIS 2.0 events as JSON-LD (ObjectEvent, AggregationEvent, ...), each "
        "valid against the EPCIS 2.0 JSON Schema, with its eventID and recordTime."
    )


class QueryResultsOut(ResponseSchema):
    queryName: Literal["SimpleEventQuery"]
    resultsBody: EventListOut


class QueryBodyOut(ResponseSchema):
    queryResults: QueryResultsOut


class EPCISQueryDocumentOut(ResponseSchema):
    """An EPCIS 2.0 EPCISQueryDocument (the REST binding's answer to an event query)."""

    context: list[Any] = Field(alias="@context")
    type: Literal["EPCISQueryDocument"]
    schemaVersion: Literal["2.0"]
    creationDate: datetime
    epcisBody: QueryBodyOut


class CaptureJobOut(ResponseSchema):
    """An EPCIS capture job. Capture runs while the request waits, so a job is finished when
    its URL is first given out."""

    captureID: str
    createdAt: datetime
    finishedAt: datetime
    running: bool
    success: bool
    captureErrorBehaviour: Literal["rollback", "proceed"]
    errors: list[CaptureErrorOut]
    status: Literal["succeeded", "partial", "failed"]
    eventCount: int
    capturedCount: int = Field(description="Events stored by this capture")
    duplicateCount: int = Field(
        description="Events already stored, changing nothing (capture is idempotent)"
    )
    errorDeclarationCount: int = Field(
        description="Stored events this capture declared erroneous (an event sent again with "
        "an errorDeclaration by the organisation that recorded it); each declaration is "
        "logged in the transparency log as epcis_event.error_declared"
    )
    rejectedCount: int
    documentSha256: str
    capturedBy: str = Field(description="Slug of the capturing organisation")
    url: str


class EventQuery(QuerySchema):
    """SimpleEventQuery parameters of the EPCIS 2.0 REST binding."""

    eventType: ListParameter = _list("ObjectEvent, AggregationEvent, TransformationEvent, ...")
    GE_eventTime: QueryTime | None = Field(None, description="eventTime >= this (with offset)")
    LT_eventTime: QueryTime | None = Field(None, description="eventTime < this (with offset)")
    GE_recordTime: QueryTime | None = Field(None, description="recordTime >= this")
    LT_recordTime: QueryTime | None = Field(None, description="recordTime < this")
    EQ_action: ListParameter = _list("ADD, OBSERVE or DELETE.")
    EQ_bizStep: ListParameter = _list("CBV term (`shipping`) or URI.")
    EQ_disposition: ListParameter = _list("CBV term (`in_transit`) or URI.")
    EQ_readPoint: ListParameter = _list("Location identifier (SGLN URN or GLN Digital Link).")
    EQ_bizLocation: ListParameter = _list("Location identifier (SGLN URN or GLN Digital Link).")
    EQ_eventID: ListParameter = _list("eventID or event hash ID.")
    MATCH_epc: ListParameter = _list("EPC in epcList or childEPCs (URN, Digital Link, pattern).")
    MATCH_parentID: ListParameter = _list("parentID.")
    MATCH_inputEPC: ListParameter = _list("EPC in inputEPCList.")
    MATCH_outputEPC: ListParameter = _list("EPC in outputEPCList.")
    MATCH_anyEPC: ListParameter = _list(
        "EPC anywhere: epcList, childEPCs, inputs, outputs, parent."
    )
    MATCH_epcClass: ListParameter = _list("Class in quantityList or childQuantityList.")
    MATCH_inputEPCClass: ListParameter = _list("Class in inputQuantityList.")
    MATCH_outputEPCClass: ListParameter = _list("Class in outputQuantityList.")
    MATCH_anyEPCClass: ListParameter = _list("Class in any quantity list.")
    perPage: int = Field(30, ge=1, le=1000, description="Events per page.")
    nextPageToken: str | None = Field(
        None, max_length=300, description='From the `Link: <...>; rel="next"` header.'
    )
    orderDirection: Literal["ASC", "DESC"] = Field("ASC", description="By eventTime.")


class LocationCreate(RequestSchema):
    gln: str = Field(min_length=1, max_length=20, description="13-digit GLN with check digit")
    extension: str | None = Field(
        None, min_length=1, max_length=20, description="GLN extension (AI 254), if any"
    )
    kind: LocationKind
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    address: str | None = Field(None, max_length=300)


class LocationOut(ResponseSchema):
    id: int
    organisation: str = Field(validation_alias="organisation_slug")
    gln: str
    extension: str | None
    uri: str = Field(description="Canonical identifier, as events store readPoint/bizLocation")
    kind: LocationKind
    name_zh: str
    name_en: str
    address: str | None
    is_active: bool
    created_at: datetime


class PartnerCreate(RequestSchema):
    partner: str = Field(min_length=1, max_length=64, description="Slug of the partner firm")
    gtins: list[str] | None = Field(
        None, min_length=1, max_length=1000, description="Only these products (default: all)"
    )
    note: str | None = Field(None, max_length=500)


class PartnerOut(ResponseSchema):
    id: int
    organisation: str = Field(validation_alias="organisation_slug")
    partner: str = Field(validation_alias="partner_slug")
    gtins: list[str] | None
    note: str | None
    created_at: datetime
    revoked_at: datetime | None


class JourneyQuery(QuerySchema):
    epc: str = Field(
        min_length=1,
        max_length=500,
        description="A unit, batch or container: Digital Link URI (ours or id.gs1.org) or EPC URN",
    )
    direction: Direction = Field(
        Direction.BOTH, description="backward (what went into it), forward (where it went), both"
    )


class PlaceOut(ResponseSchema):
    id: str
    name_zh: str | None = None
    name_en: str | None = None


class SensorReadingOut(ResponseSchema):
    type: str | None
    value: float | None = None
    uom: str | None = None
    time: str | None = None
    deviceID: str | None = None


class QuantityOut(ResponseSchema):
    role: str
    uri: str
    quantity: float | None = None
    uom: str | None = None


class JourneyEventOut(ResponseSchema):
    eventID: str
    hashID: str
    type: str
    eventTime: datetime
    eventTimeZoneOffset: str
    action: str | None
    bizStep: str | None = Field(description="CBV term, or the URI of a custom step")
    disposition: str | None
    readPoint: PlaceOut | None
    bizLocation: PlaceOut | None
    identifiers: list[QuantityOut]
    sensorReadings: list[SensorReadingOut]
    certificationInfo: list[str]
    capturedBy: str
    relation: Literal["self", "backward", "forward"] = Field(
        description="Names the start itself, upstream of it, or downstream of it"
    )
    via: list[str]


class JourneyStartOut(ResponseSchema):
    uri: str
    gtin: str | None
    lot: str | None
    serial: str | None


class RecallNoticeOut(ResponseSchema):
    recall_id: int
    kind: RecallKind
    gtin: str
    lot: str
    reason: str
    placed_at: datetime
    placed_by: str
    is_own_batch: bool = Field(
        description="The item's own batch (true) or a batch that went into it upstream (false)"
    )


class JourneyOut(ResponseSchema):
    start: JourneyStartOut
    direction: Direction
    events: list[JourneyEventOut]
    identifiers: list[str] = Field(description="Every identifier the journey passed through")
    truncated: bool
    recalls: list[RecallNoticeOut] = Field(
        description="Active holds and recalls on the start or on anything upstream of it"
    )


class RecallCreate(RequestSchema):
    batch_id: int = Field(ge=1)
    kind: RecallKind
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class RecallLift(RequestSchema):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class RecallQuery(PageQuery):
    status: RecallStatus | None = None


class RecallOut(ResponseSchema):
    id: int
    batch_id: int
    gtin: str
    lot: str
    kind: RecallKind
    status: RecallStatus
    reason: str
    placed_by: str = Field(validation_alias=AliasChoices("placed_by_slug", "placed_by"))
    created_at: datetime
    lifted_at: datetime | None
    lift_reason: str | None


class AffectedBatchOut(ResponseSchema):
    gtin: str
    lot: str
    uri: str
    registered_units: int = Field(description="Serialised units of this batch in the register")


class AffectedOut(ResponseSchema):
    batches: list[AffectedBatchOut]
    units: list[str] = Field(description="Units named by events downstream")
    containers: list[str] = Field(description="Cases, pallets and other containers downstream")
    registered_units: int
    truncated: bool


class RecallDetailOut(RecallOut):
    affected: AffectedOut
