"""Request and response bodies of the products API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.http.schemas import PageQuery, QuerySchema, RequestSchema, ResponseSchema
from app.products.models import LabelOrderStatus, ProductStatus
from app.products.services import UnitState

# Generous length limits: the GS1 rules (with their precise rule codes) do the real checking.
GS1_INPUT = Field(min_length=1, max_length=100)
DATE_INPUT = Field(
    None,
    min_length=1,
    max_length=20,
    description="YYYY-MM-DD, or GS1 YYMMDD (day 00 means the end of the month).",
)


class ProductCreate(RequestSchema):
    gtin: str = Field(
        min_length=1,
        max_length=100,
        description="GTIN-8, -12, -13 or -14 with its check digit; stored as 14 digits.",
    )
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    description_zh: str | None = Field(None, max_length=5000)
    description_en: str | None = Field(None, max_length=5000)


class ProductUpdate(RequestSchema):
    name_zh: str | None = Field(None, min_length=1, max_length=200)
    name_en: str | None = Field(None, min_length=1, max_length=200)
    description_zh: str | None = Field(None, max_length=5000)
    description_en: str | None = Field(None, max_length=5000)
    status: ProductStatus | None = None


class MarkOut(ResponseSchema):
    may_bear_mark: bool = Field(
        description="True while a certificate in force held by the firm covers this GTIN."
    )
    certificate_id: int | None
    certificate_number: str | None
    label_quota: int | None
    labels_used: int | None


class ProductOut(ResponseSchema):
    id: int
    gtin: str
    name_zh: str
    name_en: str
    description_zh: str | None
    description_en: str | None
    status: ProductStatus
    digital_link: str
    mark: MarkOut
    image_urls: list[str] = Field(default_factory=list, description="Public product pictures.")
    created_at: datetime
    updated_at: datetime


class ProductQuery(PageQuery):
    gtin: str | None = Field(None, max_length=100, description="Only the product with this GTIN.")


class BatchCreate(RequestSchema):
    lot: str = Field(
        min_length=1,
        max_length=100,
        description="1 to 20 characters of GS1 character set 82 (no spaces, ASCII only).",
    )
    production_date: str | None = DATE_INPUT
    best_before_date: str | None = DATE_INPUT
    expiry_date: str | None = DATE_INPUT
    quantity: int | None = Field(None, ge=1, le=1_000_000_000)
    production_site: str | None = Field(None, min_length=1, max_length=200)
    production_site_gln: str | None = Field(None, min_length=1, max_length=100)


class BatchOut(ResponseSchema):
    id: int
    product_id: int
    gtin: str
    lot: str
    production_date: date | None
    best_before_date: date | None
    expiry_date: date | None
    quantity: int | None
    production_site: str | None
    production_site_gln: str | None
    digital_link: str
    created_at: datetime


class LabelOrderCreate(RequestSchema):
    quantity: int = Field(ge=1, le=10_000_000, description="Number of serialised codes.")
    signed: bool = Field(
        False,
        description="Offline-verifiable labels: each URI carries a compact signature "
        "(?sig=...) by the association's key.",
    )


class ReasonBody(RequestSchema):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class LabelOrderOut(ResponseSchema):
    id: int
    organisation_id: int
    batch_id: int
    product_id: int
    certificate_id: int
    gtin: str
    lot: str
    quantity: int
    status: LabelOrderStatus
    is_signed: bool
    is_auto_approved: bool
    codes_sha256: str | None = Field(
        description='SHA-256 (hex) of "<serial>\\n" for every code in issue (export) order.'
    )
    codes_blacklisted: int | None = Field(
        description="Codes of the order blacklisted one by one (null before issue)."
    )
    decision_reason: str | None
    blacklist_reason: str | None
    created_at: datetime
    decided_at: datetime | None
    issued_at: datetime | None
    printed_at: datetime | None
    activated_at: datetime | None
    blacklisted_at: datetime | None
    codes_url: str | None
    csv_url: str | None
    sheet_url: str | None


class LabelOrderQuery(PageQuery):
    status: LabelOrderStatus | None = None


class UnitOut(ResponseSchema):
    gtin: str
    lot: str
    serial: str
    state: UnitState
    order_id: int
    digital_link: str = Field(description="The unit's identity: its GS1 Digital Link URI.")
    label_content: str = Field(description="What the QR code carries (URI, plus ?sig= if signed).")
    qr_png_url: str
    qr_svg_url: str
    blacklisted_at: datetime | None
    blacklist_reason: str | None


class QROptions(QuerySchema):
    ec: Literal["L", "M", "Q", "H"] = Field("M", description="Error-correction level.")
    size: int | None = Field(
        None, ge=21, le=4096, description="Image width in pixels (at most; whole pixels/module)."
    )
    border: int = Field(4, ge=0, le=16, description="Quiet zone in modules (4 per ISO 18004).")


class SheetQuery(QuerySchema):
    ec: Literal["L", "M", "Q", "H"] = "M"


class LabelPolicyIn(RequestSchema):
    auto_approve: bool = Field(
        description="Approve member firms' orders within the certificate's quota at once."
    )
    auto_approve_max: int | None = Field(
        None, ge=1, le=10_000_000, description="Larger orders still wait for approval."
    )


class LabelPolicyOut(ResponseSchema):
    brand_slug: str
    auto_approve: bool
    auto_approve_max: int | None
    updated_at: datetime | None
