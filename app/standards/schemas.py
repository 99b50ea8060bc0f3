"""Request and response bodies of the standards API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from app.http.schemas import RequestSchema, ResponseSchema
from app.standards.models import Comparator, ValueType, VersionStatus

Title = Annotated[str, Field(min_length=1, max_length=300)]
LongText = Annotated[str, Field(min_length=1, max_length=20000)]


class StandardCreate(RequestSchema):
    code: str = Field(min_length=3, max_length=64, examples=["T/QMTA 001-2024"])
    title_zh: Title
    title_en: Title


class StandardUpdate(RequestSchema):
    title_zh: Title | None = None
    title_en: Title | None = None


class ClauseIn(RequestSchema):
    number: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$")
    title_zh: Title
    title_en: Title
    requirement_zh: LongText
    requirement_en: LongText


class CriterionIn(RequestSchema):
    key: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Stable key of the criterion within the version, e.g. 'moisture'.",
    )
    clause: str | None = Field(None, max_length=32, description="Number of the clause it tests.")
    metric_zh: Annotated[str, Field(min_length=1, max_length=200)]
    metric_en: Annotated[str, Field(min_length=1, max_length=200)]
    unit: str | None = Field(None, min_length=1, max_length=32, examples=["%", "mg/kg"])
    method: str | None = Field(None, min_length=1, max_length=200, examples=["GB 5009.3"])
    type: ValueType
    comparator: Comparator | None = None
    threshold: float | None = Field(None, allow_inf_nan=False)
    threshold_max: float | None = Field(None, allow_inf_nan=False)
    allowed_values: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        None, min_length=1, max_length=100
    )
    mandatory: bool = True


class VersionContent(RequestSchema):
    effective_from: date | None = None
    clauses: list[ClauseIn] = Field(default_factory=list, max_length=500)
    criteria: list[CriterionIn] = Field(default_factory=list, max_length=500)


class VersionCreate(VersionContent):
    version: str = Field(
        min_length=1, max_length=32, pattern=r"^[0-9A-Za-z][0-9A-Za-z.\-]*$", examples=["1.0"]
    )


class WithdrawIn(RequestSchema):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]


class ClauseOut(ResponseSchema):
    number: str
    title_zh: str
    title_en: str
    requirement_zh: str
    requirement_en: str


class CriterionOut(ResponseSchema):
    id: int
    key: str
    clause_number: str | None
    metric_zh: str
    metric_en: str
    unit: str | None
    method: str | None
    value_type: ValueType
    comparator: Comparator | None
    threshold: float | None
    threshold_max: float | None
    allowed_values: list[str] | None
    is_mandatory: bool


class VersionSummary(ResponseSchema):
    id: int
    version: str
    status: VersionStatus = Field(
        description="The status as of now: a published version reads superseded from the "
        "moment a later version takes effect."
    )
    scheduled: bool = Field(
        description="Published, but effective_from is a later day: not in force before then "
        "(audits may apply it ahead of that day; certificates under it are valid from it)."
    )
    effective_from: date | None
    content_hash: str | None = Field(description="SHA-256 of the canonical JSON; published only.")
    published_at: datetime | None
    superseded_at: datetime | None
    withdrawn_at: datetime | None


class StandardOut(ResponseSchema):
    id: int
    brand: str = Field(description="Brand slug.")
    code: str
    title_zh: str
    title_en: str
    created_at: datetime
    versions: list[VersionSummary]


class VersionOut(VersionSummary):
    standard_id: int
    code: str
    title_zh: str
    title_en: str
    brand: str
    withdrawal_reason: str | None
    created_at: datetime
    updated_at: datetime
    clauses: list[ClauseOut]
    criteria: list[CriterionOut]
    canonical_url: str = Field(description="The canonical JSON whose SHA-256 is content_hash.")


class DiffOut(ResponseSchema):
    standard: str
    from_version: VersionSummary
    to_version: VersionSummary
    header: dict[str, Any]
    clauses: dict[str, Any]
    criteria: dict[str, Any]


# --- the canonical document (app.standards.canonical), as hashed and served ------------------


class BilingualOut(ResponseSchema):
    en: str
    zh: str


class CanonicalStandardOut(ResponseSchema):
    code: str
    title: BilingualOut


class CanonicalClauseOut(ResponseSchema):
    number: str
    title: BilingualOut
    requirement: BilingualOut


class CanonicalCriterionOut(ResponseSchema):
    key: str
    clause: str | None
    metric: BilingualOut
    unit: str | None
    method: str | None
    type: ValueType
    comparator: Comparator | None
    threshold: float | None
    threshold_max: float | None
    allowed_values: list[str] | None
    mandatory: bool


class CanonicalVersionOut(ResponseSchema):
    """A version's canonical document: RFC 8785 JSON whose SHA-256 is its ``content_hash``."""

    format: Literal["brandtrace-standard-version/1"]
    standard: CanonicalStandardOut
    version: str
    effective_from: date | None
    clauses: list[CanonicalClauseOut]
    criteria: list[CanonicalCriterionOut]
