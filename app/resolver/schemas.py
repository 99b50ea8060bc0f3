"""Request and response schemas of the scan, alert and report API (and the verdict JSON)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import ConfigDict, Field

from app.http.schemas import PageQuery, QuerySchema, RequestSchema, ResponseSchema
from app.resolver.models import AlertKind, AlertResolution, AlertStatus, ReportStatus, ScanChannel
from app.resolver.rules import RuleKind
from app.resolver.verdicts import Verdict
from app.transparency.schemas import InclusionProofOut


class ReasonOut(ResponseSchema):
    """Why the verdict was reached, with the values that explain it beside ``code`` and
    ``message`` (a certificate's ``number``, ``status`` and ``reason``, a recall's ...)."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Stable reason code, e.g. certificate_suspended.")
    message: str = Field(description="The reason in the request's language.")


class CodeOut(ResponseSchema):
    gtin: str
    lot: str | None
    serial: str | None
    data: dict[str, str] = Field(description="Data attributes from the query (AI -> value).")
    digital_link: str


class ScanCountsOut(ResponseSchema):
    count: int = Field(
        description="Verifications of this pack (a reload within a minute counts once)."
    )
    shoppers: int = Field(description="Distinct clients that verified this pack.")
    first_scanned_at: datetime
    last_scanned_at: datetime


class VerdictPart(ResponseSchema):
    """Part of the verdict JSON, which ``app.resolver.present`` builds (not this model): a
    field with a default is one the verdict leaves out when it has no value."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=False)


class LocalisedNameOut(VerdictPart):
    zh_CN: str = Field(alias="zh-CN")
    en: str


class VerdictPartyOut(VerdictPart):
    """The firm or the brand; the brand adds its trademark registration as ``mark``."""

    model_config = ConfigDict(extra="allow", json_schema_serialization_defaults_required=False)

    slug: str
    name: LocalisedNameOut
    url: str | None
    registration_number: str | None = None
    mark: str | None = None


class VerdictProductOut(VerdictPart):
    gtin: str
    name: LocalisedNameOut
    url: str | None
    image_url: str | None


class VerdictStandardOut(VerdictPart):
    code: str | None
    version: str | None


class VerdictCertificateOut(VerdictPart):
    model_config = ConfigDict(extra="allow", json_schema_serialization_defaults_required=False)

    number: str
    status: str
    status_label: str = Field(description="The status in the request's language.")
    status_reason: str | None
    in_force: bool
    standard: VerdictStandardOut
    valid_from: date | None
    valid_until: date | None
    next_surveillance_due: date | None
    url: str | None
    vc_url: str | None = None
    mark_licence_number: str | None = None
    labels_issued_under: str | None = Field(
        None,
        description="The number the pack was labelled under, when a renewal or re-issue has "
        "since replaced that certificate (absent otherwise).",
    )


class VerdictBatchOut(VerdictPart):
    lot: str
    production_date: date | None
    best_before_date: date | None
    expiry_date: date | None
    site: str | None
    restriction: str | None = Field(description="recalled, on_hold or null.")


class JourneyStepOut(VerdictPart):
    time: datetime
    local_time: str = Field(description="The time as the clock read at the place.")
    step: str | None = Field(description="The CBV business step.")
    label: str
    place: str | None
    detail: str | None = Field(description="Sensor readings, in words.")


class LogProofEntryOut(VerdictPart):
    about: str = Field(description="certificate or label_order")
    index: int
    entry_type: str
    inclusion_proof: InclusionProofOut | None = Field(
        description="Null while the entry awaits a checkpoint."
    )


class VerdictLogOut(VerdictPart):
    entries: list[LogProofEntryOut]
    checkpoint_url: str


class VerdictLinksOut(VerdictPart):
    verification_page: str
    linkset: str
    report: str
    by_type: dict[str, str] = Field(description="GS1 link type URI -> target.")


class VerdictOut(ResponseSchema):
    """The verdict on a scanned code, as ``Accept: application/json`` returns it."""

    verdict: Verdict
    title: str
    summary: str
    reasons: list[ReasonOut]
    level: str = Field(description="product, batch or unit: what the link identifies.")
    code: CodeOut
    product: VerdictProductOut | None
    firm: VerdictPartyOut | None
    brand: VerdictPartyOut | None
    certificate: VerdictCertificateOut | None
    batch: VerdictBatchOut | None
    scans: ScanCountsOut | None
    journey: list[JourneyStepOut] | None
    log: VerdictLogOut | None = Field(
        description="Transparency-log entries of the certificate and the label order, each "
        "with an inclusion proof."
    )
    links: VerdictLinksOut
    official_domain: str
    checked_at: datetime


class AlertQuery(PageQuery):
    status: AlertStatus | None = None
    kind: AlertKind | None = None
    gtin: str | None = Field(None, pattern=r"^\d{14}$")


class AlertOut(ResponseSchema):
    id: int
    kind: AlertKind
    status: AlertStatus
    gtin: str
    lot: str | None
    serial: str | None
    occurrences: int
    details: dict[str, Any] | None
    raised_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    resolved_by_id: int | None
    resolution: AlertResolution | None
    resolution_note: str | None


class AlertResolve(RequestSchema):
    resolution: AlertResolution
    note: str | None = Field(None, max_length=1000)


class ScanQuery(PageQuery):
    verdict: Verdict | None = None
    gtin: str | None = Field(None, pattern=r"^\d{14}$")


class ScanOut(ResponseSchema):
    id: int
    scanned_at: datetime
    channel: ScanChannel
    answer: str
    gtin: str
    lot: str | None
    serial: str | None
    verdict: Verdict
    reasons: list[str] | None
    is_repeat: bool
    latitude: float | None
    longitude: float | None
    place: str | None


class ScanSummaryQuery(QuerySchema):
    days: int = Field(30, ge=1, le=366, description="How many days back, today included.")


class DayCount(ResponseSchema):
    day: date
    total: int
    by_verdict: dict[str, int]


class ScanSummaryOut(ResponseSchema):
    since: date
    total: int
    by_verdict: dict[str, int]
    by_day: list[DayCount]


class ReportQuery(PageQuery):
    status: ReportStatus | None = None


class ReportOut(ResponseSchema):
    id: int
    created_at: datetime
    status: ReportStatus
    gtin: str | None
    lot: str | None
    serial: str | None
    verdict: Verdict | None
    scan_id: int | None
    place: str | None
    description: str | None
    contact: str | None
    photo_url: str | None = None
    reviewed_at: datetime | None
    review_note: str | None


class ReportReview(RequestSchema):
    status: ReportStatus
    note: str | None = Field(None, max_length=1000)


class ReportCreated(ResponseSchema):
    id: int
    status: ReportStatus
    created_at: datetime


class RuleOut(ResponseSchema):
    kind: RuleKind
    is_enabled: bool
    threshold: int | None = Field(
        description="repeat_scans: alert above this many shoppers; many_clients: at this many."
    )
    window_minutes: int | None = Field(description="many_clients: the time window.")
    is_default: bool = Field(description="True when the brand has not set this rule itself.")


class RuleUpdate(RequestSchema):
    is_enabled: bool
    threshold: int | None = Field(None, ge=1, le=1_000_000)
    window_minutes: int | None = Field(None, ge=1, le=7 * 24 * 60)
