"""Request and response bodies of the brands API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from app.auth.models import OrgKind
from app.brands.models import CoBuilderRole, MarkType, MembershipStatus
from app.http.schemas import PageQuery, RequestSchema, ResponseSchema

Text200 = Annotated[str, Field(min_length=1, max_length=200)]
Text100 = Annotated[str, Field(min_length=1, max_length=100)]
Story = Annotated[str, Field(max_length=20000)]
Reason = Annotated[str, Field(min_length=3, max_length=2000)]


class BrandCreate(RequestSchema):
    slug: str = Field(min_length=1, max_length=64, description="Stable public name in URLs.")
    name_zh: Text200
    name_en: Text200
    region_code: str = Field(
        min_length=4, max_length=16, description="ISO 3166-2 subdivision code, e.g. CN-AH."
    )
    region_name_zh: Text200 = Field(description="Local name of the area, e.g. 安徽省祁门县.")
    region_name_en: Text200
    category_zh: Text100
    category_en: Text100
    story_zh: Story = ""
    story_en: Story = ""


class BrandUpdate(RequestSchema):
    name_zh: Text200 | None = None
    name_en: Text200 | None = None
    region_code: str | None = Field(None, min_length=4, max_length=16)
    region_name_zh: Text200 | None = None
    region_name_en: Text200 | None = None
    category_zh: Text100 | None = None
    category_en: Text100 | None = None
    story_zh: Story | None = None
    story_en: Story | None = None


class TrademarkIn(RequestSchema):
    registration_number: str = Field(
        min_length=1, max_length=32, pattern=r"^[0-9A-Za-z-]+$", examples=["12345678"]
    )
    office: Text100 = Field(description="Registering office, e.g. CNIPA.")
    nice_classes: list[int] = Field(
        min_length=1, max_length=45, description="Nice classification classes, 1 to 45."
    )
    mark_type: MarkType
    registered_on: date | None = None
    expires_on: date | None = None


class CoBuilderIn(RequestSchema):
    organisation: str = Field(min_length=1, max_length=64, description="Organisation slug.")
    role: CoBuilderRole


class OrganisationRef(ResponseSchema):
    slug: str
    kind: OrgKind
    name_zh: str
    name_en: str


class FirmRef(OrganisationRef):
    registration_scheme: str | None
    registration_number: str | None


class CoBuilderOut(ResponseSchema):
    organisation: OrganisationRef
    role: CoBuilderRole
    created_at: datetime


class TrademarkOut(ResponseSchema):
    registration_number: str
    office: str
    nice_classes: list[int]
    mark_type: MarkType
    registered_on: date | None
    expires_on: date | None


class BrandSummary(ResponseSchema):
    slug: str
    name_zh: str
    name_en: str
    region_code: str
    region_name_zh: str
    region_name_en: str
    category_zh: str
    category_en: str
    owner: OrganisationRef
    url: str


class MembershipApply(RequestSchema):
    registration_scheme: str | None = Field(
        None,
        pattern=r"^(uscc|other)$",
        description="'uscc' (China's 18-character unified social credit code) or 'other'; "
        "defaults to the organisation's.",
    )
    registration_number: str | None = Field(None, min_length=1, max_length=64)
    message: str = Field("", max_length=2000)


class MembershipDecision(RequestSchema):
    reason: str | None = Field(None, max_length=2000)


class MembershipReason(RequestSchema):
    reason: Reason


class MembershipOut(ResponseSchema):
    id: int
    brand: str = Field(description="Brand slug.")
    firm: FirmRef
    status: MembershipStatus
    registration_scheme: str
    registration_number: str
    message: str
    applied_at: datetime
    member_since: datetime | None
    status_reason: str | None
    status_changed_at: datetime


class MembershipLeft(MembershipOut):
    cancelled_certificates: list[str] = Field(
        description="Numbers of the firm's certificates of the brand that leaving cancelled, "
        "for good (empty when an application was withdrawn).",
    )
    cancelled_label_orders: list[int] = Field(
        description="Ids of the pending label orders on them that were cancelled; their labels "
        "went back to the quota.",
    )


class MembershipQuery(PageQuery):
    brand: str | None = Field(None, max_length=64, description="Only this brand (slug).")
    status: MembershipStatus | None = None


class Bilingual(ResponseSchema):
    zh: str
    en: str


class RegionOut(ResponseSchema):
    code: str
    name: Bilingual


class LogoOut(ResponseSchema):
    url: str
    sha256: str
    content_type: str
    size: int


class PublicVersion(ResponseSchema):
    id: int
    version: str
    status: str
    scheduled: bool = Field(
        description="Published, taking effect on effective_from (a later day): not yet in force."
    )
    content_hash: str | None
    effective_from: date | None
    published_at: datetime | None
    url: str


class PublicStandard(ResponseSchema):
    id: int
    code: str
    title: Bilingual
    current_version: PublicVersion | None
    versions: list[PublicVersion]


class CertificationOut(ResponseSchema):
    decision_id: int
    standard_code: str
    standard_version: str
    content_hash: str | None
    decided_at: datetime
    next_surveillance_due_on: date | None
    surveillance_overdue: bool


class PublicMember(ResponseSchema):
    firm: FirmRef
    member_since: datetime | None
    certified: bool
    certification: CertificationOut | None


class BrandPage(ResponseSchema):
    """The public brand document: what ``/brands/<slug>`` shows, as JSON."""

    slug: str
    url: str
    name: Bilingual
    region: RegionOut
    category: Bilingual
    story: Bilingual
    logo: LogoOut | None
    mark: TrademarkOut | None
    owner: OrganisationRef
    co_builders: list[CoBuilderOut]
    standards: list[PublicStandard]
    members: list[PublicMember]
