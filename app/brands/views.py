"""Brands API (``/api/v1/brands``, ``/api/v1/memberships``) and the public brand pages
(``/brands``, ``/brands/<slug>``: HTML for people, the same document as JSON for machines)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, make_response, render_template, request
from flask_babel import lazy_gettext

from app.auth.models import OrgKind, Role
from app.auth.principal import PUBLIC, Caller, allow
from app.brands import public, services
from app.brands.models import Brand, Membership
from app.brands.schemas import (
    BrandCreate,
    BrandPage,
    BrandSummary,
    BrandUpdate,
    CoBuilderIn,
    CoBuilderOut,
    MembershipApply,
    MembershipDecision,
    MembershipLeft,
    MembershipOut,
    MembershipQuery,
    MembershipReason,
    PublicMember,
    TrademarkIn,
)
from app.errors import NotFound
from app.extensions import db
from app.files.services import IMAGE_TYPES, file_response, require_multipart

# Leaving cancels the firm's certificates of the brand, which this domain cannot reach
# (certificates depend on brands): the firm's cross-domain service does both.
from app.firm import services as firm
from app.http.api import HTML_PAGE, file_answers, route, set_activity_target
from app.http.negotiation import wants_json
from app.http.pagination import PageResult
from app.http.schemas import Page
from app.i18n import current_locale, local_text

bp = Blueprint("brands", __name__, template_folder="templates")

OWNER_ADMINS = allow([OrgKind.ASSOCIATION], [Role.ADMIN])
FIRM_ADMINS = allow([OrgKind.ENTERPRISE], [Role.ADMIN])
# Everyone signed in; services narrow to the caller's own firm or co-built brands.
READERS = allow(scope="brands:read")


def _summary(brand: Brand) -> dict[str, Any]:
    return {
        "slug": brand.slug,
        "name_zh": brand.name_zh,
        "name_en": brand.name_en,
        "region_code": brand.region_code,
        "region_name_zh": brand.region_name_zh,
        "region_name_en": brand.region_name_en,
        "category_zh": brand.category_zh,
        "category_en": brand.category_en,
        "owner": brand.owner,
        "url": public.brand_url(brand),
    }


def _membership(membership: Membership) -> dict[str, Any]:
    return {
        "id": membership.id,
        "brand": membership.brand.slug,
        "firm": membership.firm,
        "status": membership.status,
        "registration_scheme": membership.registration_scheme,
        "registration_number": membership.registration_number,
        "message": membership.message,
        "applied_at": membership.applied_at,
        "member_since": membership.member_since,
        "status_reason": membership.status_reason,
        "status_changed_at": membership.status_changed_at,
    }


def _negotiated(html: str) -> Response:
    response = make_response(html)
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"
    return response


# ---- public pages ----------------------------------------------------------------------


@route(bp, "/brands", access=PUBLIC, response=list[BrandSummary], also_answers=HTML_PAGE)
def brands_page() -> Any:
    """Regional brands (HTML page, or JSON with ``Accept: application/json``)."""
    found = services.list_brands(db.session)
    if not wants_json():
        return _negotiated(render_template("brands/list.html", brands=found))
    return [_summary(brand) for brand in found]


@route(bp, "/brands/<slug>", access=PUBLIC, response=BrandPage, also_answers=HTML_PAGE)
def brand_page(slug: str) -> Any:
    """The public brand page: story, mark, standards and certified members, in Chinese and
    English (HTML, or this JSON document with ``Accept: application/json``)."""
    brand = services.get_brand(db.session, slug)
    document = public.brand_document(db.session, brand)
    if not wants_json():
        return _negotiated(render_template("brands/page.html", brand=brand, doc=document))
    return document, {"Vary": "Accept, Accept-Language, Cookie"}


@route(
    bp,
    "/brands/<slug>/logo",
    access=PUBLIC,
    responses={200: "The logo (PNG, JPEG or WebP)", 304: "Not modified (ETag)"},
    also_answers=file_answers(*sorted(IMAGE_TYPES)),
)
def brand_logo(slug: str) -> Response:
    """The brand's logo image (PNG, JPEG or WebP)."""
    brand = services.get_brand(db.session, slug)
    if brand.logo is None:
        raise NotFound(f"The brand {slug!r} has no logo.")
    return file_response(brand.logo, public=True)


# ---- brands API ------------------------------------------------------------------------


@route(bp, "/api/v1/brands", access=PUBLIC, response=list[BrandSummary])
def list_brands() -> Any:
    """All regional brands."""
    return [_summary(brand) for brand in services.list_brands(db.session)]


@route(
    bp,
    "/api/v1/brands",
    methods=("POST",),
    access=OWNER_ADMINS,
    body=BrandCreate,
    response=BrandPage,
    status=201,
)
def create_brand(caller: Caller, body: BrandCreate) -> Any:
    """Create a regional brand owned by the caller's association."""
    brand = services.create_brand(db.session, caller, **body.model_dump())
    set_activity_target("brand", brand.slug)
    return public.brand_document(db.session, brand), {"Location": public.brand_url(brand)}


@route(bp, "/api/v1/brands/<slug>", access=PUBLIC, response=BrandPage)
def get_brand(slug: str) -> Any:
    """The public brand document (the JSON of ``/brands/<slug>``)."""
    return public.brand_document(db.session, services.get_brand(db.session, slug))


@route(
    bp,
    "/api/v1/brands/<slug>",
    methods=("PATCH",),
    access=OWNER_ADMINS,
    body=BrandUpdate,
    response=BrandPage,
)
def update_brand(caller: Caller, slug: str, body: BrandUpdate) -> Any:
    """Change a brand's names, region, category or story."""
    set_activity_target("brand", slug)
    brand = services.update_brand(db.session, caller, slug, body.model_dump(exclude_unset=True))
    return public.brand_document(db.session, brand)


@route(
    bp,
    "/api/v1/brands/<slug>/trademark",
    methods=("PUT",),
    access=OWNER_ADMINS,
    body=TrademarkIn,
    response=BrandPage,
)
def set_trademark(caller: Caller, slug: str, body: TrademarkIn) -> Any:
    """Record the brand mark's trademark: registration number, office, Nice classes, and
    whether it is a collective or a certification mark."""
    set_activity_target("brand", slug)
    brand = services.set_trademark(db.session, caller, slug, **body.model_dump())
    return public.brand_document(db.session, brand)


@route(
    bp,
    "/api/v1/brands/<slug>/logo",
    methods=("PUT",),
    access=OWNER_ADMINS,
    response=BrandPage,
    body_content_types=("multipart/form-data",),
    responses={
        413: "The file is over 1 MiB",
        415: "Not a PNG, JPEG or WebP image (SVG is refused)",
    },
)
def set_logo(caller: Caller, slug: str) -> Any:
    """Upload the brand's logo as multipart/form-data field ``file``: PNG, JPEG or WebP, at
    most 1 MiB; the type is sniffed from the bytes and SVG is refused."""
    require_multipart()
    set_activity_target("brand", slug)
    brand = services.set_logo(db.session, caller, slug, request.files.get("file"))
    return public.brand_document(db.session, brand)


@route(
    bp,
    "/api/v1/brands/<slug>/co-builders",
    methods=("POST",),
    access=OWNER_ADMINS,
    body=CoBuilderIn,
    response=CoBuilderOut,
    status=201,
)
def add_co_builder(caller: Caller, slug: str, body: CoBuilderIn) -> Any:
    """Add a co-builder: a supervising government body or a co-promoting alliance."""
    set_activity_target("brand", slug)
    return services.add_co_builder(
        db.session, caller, slug, organisation_slug=body.organisation, role=body.role
    )


@route(
    bp,
    "/api/v1/brands/<slug>/co-builders/<organisation>",
    methods=("DELETE",),
    access=OWNER_ADMINS,
    status=204,
)
def remove_co_builder(caller: Caller, slug: str, organisation: str) -> Any:
    """Remove a co-builder (never the owning association)."""
    set_activity_target("brand", slug)
    services.remove_co_builder(db.session, caller, slug, organisation)
    return Response(status=204)


@route(bp, "/api/v1/brands/<slug>/members", access=PUBLIC, response=list[PublicMember])
def list_members(slug: str) -> Any:
    """The brand's approved member firms, with their current certification."""
    return public.members(db.session, services.get_brand(db.session, slug))


# ---- membership ------------------------------------------------------------------------


@route(
    bp,
    "/api/v1/brands/<slug>/memberships",
    methods=("POST",),
    access=FIRM_ADMINS,
    body=MembershipApply,
    response=MembershipOut,
    status=201,
)
def apply_for_membership(caller: Caller, slug: str, body: MembershipApply) -> Any:
    """The caller's firm applies to join the brand; its registration number is validated
    (the unified social credit code's check character included)."""
    membership = services.apply_for_membership(
        db.session,
        caller,
        slug,
        registration_scheme=body.registration_scheme,
        registration_number=body.registration_number,
        message=body.message,
    )
    set_activity_target("membership", membership.id)
    return _membership(membership)


@route(
    bp, "/api/v1/memberships", access=READERS, query=MembershipQuery, response=Page[MembershipOut]
)
def list_memberships(caller: Caller, query: MembershipQuery) -> Any:
    """Applications and memberships: a firm sees its own; the owning association and the
    brand's co-builders see the brand's."""
    page = services.list_memberships(
        db.session,
        caller,
        brand_slug=query.brand,
        status=query.status,
        limit=query.limit,
        cursor=query.cursor,
    )
    return PageResult([_membership(m) for m in page.items], page.limit, page.next_cursor)


@route(bp, "/api/v1/memberships/<int:membership_id>", access=READERS, response=MembershipOut)
def get_membership(caller: Caller, membership_id: int) -> Any:
    """One application or membership."""
    return _membership(services.get_membership(db.session, caller, membership_id))


def _transition(caller: Caller, membership_id: int, action: str, reason: str | None) -> Any:
    set_activity_target("membership", membership_id)
    return _membership(
        services.change_membership(db.session, caller, membership_id, action, reason)
    )


@route(
    bp,
    "/api/v1/memberships/<int:membership_id>/approve",
    methods=("POST",),
    access=OWNER_ADMINS,
    body=MembershipDecision,
    response=MembershipOut,
)
def approve_membership(caller: Caller, membership_id: int, body: MembershipDecision) -> Any:
    """Approve an application: the firm becomes a member."""
    return _transition(caller, membership_id, "approve", body.reason)


@route(
    bp,
    "/api/v1/memberships/<int:membership_id>/reject",
    methods=("POST",),
    access=OWNER_ADMINS,
    body=MembershipReason,
    response=MembershipOut,
)
def reject_membership(caller: Caller, membership_id: int, body: MembershipReason) -> Any:
    """Reject an application, with a reason."""
    return _transition(caller, membership_id, "reject", body.reason)


@route(
    bp,
    "/api/v1/memberships/<int:membership_id>/suspend",
    methods=("POST",),
    access=OWNER_ADMINS,
    body=MembershipReason,
    response=MembershipOut,
)
def suspend_membership(caller: Caller, membership_id: int, body: MembershipReason) -> Any:
    """Suspend a member, with a reason (it leaves the public member list)."""
    return _transition(caller, membership_id, "suspend", body.reason)


@route(
    bp,
    "/api/v1/memberships/<int:membership_id>/reinstate",
    methods=("POST",),
    access=OWNER_ADMINS,
    body=MembershipDecision,
    response=MembershipOut,
)
def reinstate_membership(caller: Caller, membership_id: int, body: MembershipDecision) -> Any:
    """Reinstate a suspended member."""
    return _transition(caller, membership_id, "reinstate", body.reason)


@route(
    bp,
    "/api/v1/memberships/<int:membership_id>/leave",
    methods=("POST",),
    access=FIRM_ADMINS,
    body=MembershipDecision,
    response=MembershipLeft,
)
def leave_membership(caller: Caller, membership_id: int, body: MembershipDecision) -> Any:
    """The firm leaves the brand (or withdraws its application).

    Leaving also cancels, for good and in the same transaction, every certificate the firm
    holds for the brand that is still active or suspended: each one's revocation bit is set,
    the register and the transparency log record the cancellation with the reason (the
    holder left the brand, plus the reason given here), no more labels can be ordered on it
    and its labels scan as not valid. Its pending label orders on them are cancelled and
    their labels go back to the quota. The response lists both. Withdrawing an application
    cancels nothing. If anything fails, nothing changes, the membership included."""
    set_activity_target("membership", membership_id)
    left = firm.leave_brand(db.session, caller, membership_id, body.reason)
    return {
        **_membership(left.membership),
        "cancelled_certificates": [certificate.number for certificate in left.certificates],
        "cancelled_label_orders": [order.id for order in left.orders],
    }


# ---- template helpers ------------------------------------------------------------------

ROLE_LABELS = {
    "owner": lazy_gettext("owner of the brand and its mark"),
    "supervisor": lazy_gettext("supervising authority"),
    "promoter": lazy_gettext("co-promoter"),
}


@bp.app_context_processor
def _bilingual_helpers() -> dict[str, Any]:
    """``local(zh, en)`` picks the page language's text, ``other(zh, en)`` the other one."""

    def other(zh: str, en: str) -> str:
        return en if current_locale() == "zh_CN" else zh

    def other_lang() -> str:
        return "en" if current_locale() == "zh_CN" else "zh-CN"

    def role_label(role: str) -> str:
        return str(ROLE_LABELS.get(str(role), role))

    return {"local": local_text, "other": other, "other_lang": other_lang, "role_label": role_label}
