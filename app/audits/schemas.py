"""Request and response bodies of the audits API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from app.audits.models import AuditKind, AuditResult, AuditStatus, DecisionOutcome
from app.brands.schemas import FirmRef
from app.files.schemas import StoredFileOut
from app.http.schemas import PageQuery, QuerySchema, RequestSchema, ResponseSchema

Name = Annotated[str, Field(min_length=1, max_length=200)]


class ProductIn(RequestSchema):
    gtin: str = Field(min_length=1, max_length=14, description="GTIN-8, -12, -13 or -14.")
    name_zh: Name
    name_en: Name


class SiteIn(RequestSchema):
    name: Name
    address: str = Field(min_length=1, max_length=500)
    gln: str | None = Field(None, description="The site's Global Location Number, if it has one.")


class AuditCreate(RequestSchema):
    brand: str = Field(min_length=1, max_length=64, description="Brand slug.")
    firm: str = Field(min_length=1, max_length=64, description="The member firm's slug.")
    standard_version_id: int = Field(description="A published version of the brand's standard.")
    kind: AuditKind = AuditKind.INITIAL
    due_on: date | None = None
    audited_on: date | None = None
    summary: str = Field("", max_length=20000)
    products: list[ProductIn] = Field(min_length=1, max_length=200)
    sites: list[SiteIn] = Field(min_length=1, max_length=50)


class AuditUpdate(RequestSchema):
    audited_on: date | None = None
    summary: str | None = Field(None, max_length=20000)
    products: list[ProductIn] | None = Field(None, min_length=1, max_length=200)
    sites: list[SiteIn] | None = Field(None, min_length=1, max_length=50)


class MeasurementIn(RequestSchema):
    criterion: str = Field(min_length=1, max_length=64, description="The criterion's key.")
    value: bool | int | float | str = Field(
        description="A number, one of the allowed values, or true/false, as the criterion says."
    )
    finding: str = Field("", max_length=5000)


class MeasurementsIn(RequestSchema):
    results: list[MeasurementIn] = Field(min_length=1, max_length=500)


class SignOffIn(RequestSchema):
    audited_on: date | None = None
    summary: str | None = Field(None, max_length=20000)


class DecisionIn(RequestSchema):
    outcome: DecisionOutcome
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=5000)]
    surveillance_interval_months: int = Field(
        12, ge=1, le=36, description="When the first surveillance audit is due after a grant."
    )


class AuditQuery(PageQuery):
    brand: str | None = Field(None, max_length=64)
    firm: str | None = Field(None, max_length=64)
    status: AuditStatus | None = None
    kind: AuditKind | None = None


class OverdueQuery(QuerySchema):
    as_of: date | None = Field(None, description="Default: today (UTC).")


class StandardRef(ResponseSchema):
    version_id: int
    code: str
    version: str
    content_hash: str | None
    status: str


class ProductOut(ResponseSchema):
    gtin: str
    name_zh: str
    name_en: str


class SiteOut(ResponseSchema):
    name: str
    address: str
    gln: str | None


class MeasurementOut(ResponseSchema):
    criterion: str
    metric_zh: str
    metric_en: str
    unit: str | None
    requirement: str
    mandatory: bool
    value: bool | float | str | None
    finding: str
    passed: bool
    recorded_at: datetime


class EvidenceOut(ResponseSchema):
    id: int
    description: str
    criterion_key: str | None
    file: StoredFileOut
    url: str


class DecisionOut(ResponseSchema):
    id: int
    audit_id: int
    outcome: DecisionOutcome
    reason: str
    decided_by: str
    decided_at: datetime
    surveillance_interval_months: int | None
    next_surveillance_due_on: date | None
    url: str


class AuditSummary(ResponseSchema):
    id: int
    brand: str
    firm: FirmRef
    standard: StandardRef
    kind: AuditKind
    status: AuditStatus
    due_on: date | None
    audited_on: date | None
    is_overdue: bool
    follows_audit_id: int | None
    auditor: str | None
    overall_result: AuditResult | None
    signed_off_at: datetime | None
    decision: DecisionOut | None
    url: str


class AuditOut(AuditSummary):
    summary: str
    signed_off_by: str | None
    products: list[ProductOut]
    sites: list[SiteOut]
    measurements: list[MeasurementOut]
    evidence: list[EvidenceOut]
    missing_mandatory: list[str] = Field(description="Mandatory criteria without a result yet.")
