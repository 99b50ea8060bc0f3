"""Association portal pages for brands: the brand profile (texts, trademark, logo,
co-builders) and membership applications (approve, reject, suspend, reinstate)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from sqlalchemy import func, select

from app.association.forms import Outcome, local_name, parse, run, submit, validate
from app.auth.models import Organisation, OrgKind, Role
from app.auth.principal import Caller, allow
from app.brands import services
from app.brands.models import Brand, CoBuilderRole, MarkType, Membership
from app.brands.models import MembershipStatus as Status
from app.brands.schemas import (
    BrandUpdate,
    CoBuilderIn,
    MembershipDecision,
    MembershipReason,
    TrademarkIn,
)
from app.errors import NotFound
from app.extensions import db
from app.http.web import page
from app.portal.nav import nav_item
from app.portal.tables import Column, Filter, build_table

bp = Blueprint("brands_portal", __name__, url_prefix="/portal", template_folder="templates")

OWNER_ADMINS = allow([OrgKind.ASSOCIATION], [Role.ADMIN])
ASSOCIATION = allow([OrgKind.ASSOCIATION])
SECTION = lazy_gettext("Association")

nav_item(SECTION, lazy_gettext("Brand profile"), "brands_portal.brands", OWNER_ADMINS, order=110)
nav_item(
    SECTION,
    lazy_gettext("Membership applications"),
    "brands_portal.memberships",
    ASSOCIATION,
    order=120,
)

STATUS_LABELS = {
    Status.APPLIED: lazy_gettext("Applied, awaiting a decision"),
    Status.APPROVED: lazy_gettext("Member"),
    Status.REJECTED: lazy_gettext("Rejected"),
    Status.SUSPENDED: lazy_gettext("Suspended"),
    Status.LEFT: lazy_gettext("Left"),
}
CO_BUILDER_ROLES = {
    CoBuilderRole.SUPERVISOR: lazy_gettext("Supervising authority (government)"),
    CoBuilderRole.PROMOTER: lazy_gettext("Co-promoter (alliance or association)"),
}
MARK_TYPES = {
    MarkType.CERTIFICATION: lazy_gettext("Certification mark"),
    MarkType.COLLECTIVE: lazy_gettext("Collective mark"),
}
PROFILE_FIELDS = (
    "name_zh",
    "name_en",
    "region_code",
    "region_name_zh",
    "region_name_en",
    "category_zh",
    "category_en",
    "story_zh",
    "story_en",
)


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "membership_status_label": lambda value: str(STATUS_LABELS.get(value, value)),
        "co_builder_roles": CO_BUILDER_ROLES,
        "mark_types": MARK_TYPES,
    }


# ---- brand profile -----------------------------------------------------------------------


def _owned_brand(caller: Caller, slug: str) -> Brand:
    """A brand of the caller's association; any other brand is not found here."""
    brand = db.session.scalar(
        select(Brand).where(Brand.slug == slug, Brand.owner_id == caller.organisation_id)
    )
    if brand is None:
        raise NotFound(gettext("Your association owns no brand %(slug)s.", slug=slug))
    return brand


@page(bp, "/brands", access=OWNER_ADMINS)
def brands(caller: Caller) -> ResponseReturnValue:
    """The brands the association owns (straight to the profile when there is one)."""
    owned = list(
        db.session.scalars(
            select(Brand).where(Brand.owner_id == caller.organisation_id).order_by(Brand.name_en)
        )
    )
    if len(owned) == 1:
        return redirect(url_for("brands_portal.profile", slug=owned[0].slug))
    return render_template("brands/portal/brands.html", brands=owned)


def _profile_values(brand: Brand) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(brand, name) for name in PROFILE_FIELDS}
    if brand.mark_registration_number:
        values.update(
            registration_number=brand.mark_registration_number,
            office=brand.mark_office,
            nice_classes=", ".join(str(n) for n in brand.mark_nice_classes or []),
            mark_type=brand.mark_type,
            registered_on=brand.mark_registered_on or "",
            expires_on=brand.mark_expires_on or "",
        )
    return values


def _candidates(brand: Brand) -> list[tuple[str, str]]:
    """Organisations that may become co-builders (not already one), as select options."""
    present = {co.organisation_id for co in brand.co_builders}
    return [
        (organisation.slug, local_name(organisation))
        for organisation in db.session.scalars(
            select(Organisation)
            .where(
                Organisation.kind.in_([OrgKind.GOVERNMENT, OrgKind.ALLIANCE, OrgKind.ASSOCIATION]),
                Organisation.is_active.is_(True),
            )
            .order_by(Organisation.kind, Organisation.name_en)
        )
        if organisation.id not in present
    ]


def _profile_page(
    brand: Brand,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    section: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    shown = _profile_values(brand)
    shown.update(values or {})
    return (
        render_template(
            "brands/portal/profile.html",
            brand=brand,
            values=shown,
            errors=errors or {},
            section=section,
            candidates=_candidates(brand),
        ),
        status,
    )


def _answer(brand: Brand, outcome: Outcome[Any], section: str, message: str) -> ResponseReturnValue:
    """After a profile form: back to the profile (post/redirect/get), or the form again."""
    if outcome.ok:
        flash(message, "success")
        return redirect(url_for("brands_portal.profile", slug=brand.slug) + f"#{section}", 303)
    return _profile_page(
        brand,
        values=outcome.values,
        errors=outcome.errors,
        section=section,
        status=outcome.status,
    )


@page(bp, "/brands/<slug>", access=OWNER_ADMINS, methods=("GET", "POST"))
def profile(caller: Caller, slug: str) -> ResponseReturnValue:
    """The brand's names, region, category and story (POST saves them)."""
    brand = _owned_brand(caller, slug)
    if request.method == "GET":
        return _profile_page(brand)
    # Every field is sent: an emptied name is an error, an emptied story is saved empty.
    values = {name: (request.form.get(name) or "").strip() for name in PROFILE_FIELDS}
    outcome = submit(
        validate(BrandUpdate, values),
        lambda body: services.update_brand(
            db.session, caller, slug, body.model_dump(exclude_unset=True)
        ),
    )
    return _answer(brand, outcome, "profile", gettext("The brand profile was saved."))


def _nice_classes(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,，;；]+", text) if part]


@page(bp, "/brands/<slug>/trademark", access=OWNER_ADMINS, methods=("POST",))
def trademark(caller: Caller, slug: str) -> ResponseReturnValue:
    """Record the brand mark's trademark registration."""
    brand = _owned_brand(caller, slug)
    names = ("registration_number", "office", "nice_classes", "mark_type")
    typed = {name: (request.form.get(name) or "").strip() for name in names}
    data: dict[str, Any] = {**typed, "nice_classes": _nice_classes(typed["nice_classes"])}
    for name in ("registered_on", "expires_on"):
        typed[name] = (request.form.get(name) or "").strip()
        if typed[name]:
            data[name] = typed[name]
    outcome = submit(
        validate(TrademarkIn, data),
        lambda body: services.set_trademark(db.session, caller, slug, **body.model_dump()),
    )
    # One text field holds every Nice class: a message about one class is shown next to it.
    outcome.errors = {key.split("-")[0]: message for key, message in outcome.errors.items()}
    outcome.values = typed
    return _answer(brand, outcome, "trademark", gettext("The trademark registration was saved."))


@page(bp, "/brands/<slug>/logo", access=OWNER_ADMINS, methods=("POST",))
def logo(caller: Caller, slug: str) -> ResponseReturnValue:
    """Replace the brand's logo (PNG, JPEG or WebP, at most 1 MiB; never SVG)."""
    brand = _owned_brand(caller, slug)
    upload = request.files.get("file")
    if upload is not None and not upload.filename:
        upload = None  # the form was sent without choosing a file
    outcome = run(lambda: services.set_logo(db.session, caller, slug, upload))
    return _answer(brand, outcome, "logo", gettext("The logo was replaced."))


@page(bp, "/brands/<slug>/co-builders", access=OWNER_ADMINS, methods=("POST",))
def add_co_builder(caller: Caller, slug: str) -> ResponseReturnValue:
    """Add a supervising government body or a co-promoting alliance or association."""
    brand = _owned_brand(caller, slug)
    outcome = submit(
        parse(CoBuilderIn, request.form),
        lambda body: services.add_co_builder(
            db.session, caller, slug, organisation_slug=body.organisation, role=body.role
        ),
    )
    return _answer(brand, outcome, "co-builders", gettext("The co-builder was added."))


@page(
    bp,
    "/brands/<slug>/co-builders/<organisation>/remove",
    access=OWNER_ADMINS,
    methods=("POST",),
)
def remove_co_builder(caller: Caller, slug: str, organisation: str) -> ResponseReturnValue:
    """Remove a co-builder (never the owning association)."""
    brand = _owned_brand(caller, slug)
    outcome = run(lambda: services.remove_co_builder(db.session, caller, slug, organisation))
    return _answer(brand, outcome, "co-builders", gettext("The co-builder was removed."))


# ---- membership applications ----------------------------------------------------------


def _visible_brands(caller: Caller) -> list[Brand]:
    ids = services.co_built_brand_ids(db.session, caller)
    return list(db.session.scalars(select(Brand).where(Brand.id.in_(ids or {0}))))


@page(bp, "/memberships", access=ASSOCIATION)
def memberships(caller: Caller) -> ResponseReturnValue:
    """Applications and members of the association's brands, filtered by status."""
    brand_list = _visible_brands(caller)
    firm = Organisation
    statement = (
        select(Membership)
        .join(firm, firm.id == Membership.firm_id)
        .where(Membership.brand_id.in_([brand.id for brand in brand_list] or [0]))
    )
    table = build_table(
        db.session,
        statement,
        columns=[
            Column("applied_at", lazy_gettext("Applied"), sort=Membership.id),
            Column("firm", lazy_gettext("Firm"), sort=firm.name_en),
            Column("registration_number", lazy_gettext("Company registration number")),
            Column("brand", lazy_gettext("Brand")),
            Column("status", lazy_gettext("Status"), sort=Membership.status),
            Column(
                "status_changed_at", lazy_gettext("Status since"), sort=Membership.status_changed_at
            ),
        ],
        filters=[
            Filter(
                "status",
                lazy_gettext("Status"),
                lambda s, v: s.where(Membership.status == v),
                choices=[(status.value, STATUS_LABELS[status]) for status in Status],
            ),
            Filter(
                "brand",
                lazy_gettext("Brand"),
                lambda s, v: s.where(Membership.brand.has(slug=v)),
                choices=[(brand.slug, brand.name_zh + " " + brand.name_en) for brand in brand_list],
            ),
            Filter(
                "q",
                lazy_gettext("Firm name"),
                lambda s, v: s.where(
                    firm.name_zh.contains(v, autoescape=True) | firm.name_en.ilike(f"%{v}%")
                ),
            ),
        ],
        args=request.args,
        default_sort="applied_at",
    )
    counts = {
        status: db.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(
                Membership.brand_id.in_([brand.id for brand in brand_list] or [0]),
                Membership.status == status,
            )
        )
        or 0
        for status in (Status.APPLIED, Status.APPROVED, Status.SUSPENDED)
    }
    return render_template("brands/portal/memberships.html", table=table, counts=counts)


@page(bp, "/memberships/<int:membership_id>", access=ASSOCIATION)
def membership(caller: Caller, membership_id: int) -> ResponseReturnValue:
    """One application or membership, with the actions its status allows."""
    item = services.get_membership(db.session, caller, membership_id)
    return render_template(
        "brands/portal/membership.html",
        membership=item,
        may_decide=caller.role == Role.ADMIN and services.is_owner(caller, item.brand),
        actions=_actions_for(item),
    )


# action -> (schema of the form, label of the button, the statuses it applies to)
ACTIONS: dict[str, tuple[Any, Any, frozenset[Status]]] = {
    "approve": (MembershipDecision, lazy_gettext("Approve"), frozenset({Status.APPLIED})),
    "reject": (MembershipReason, lazy_gettext("Reject"), frozenset({Status.APPLIED})),
    "suspend": (MembershipReason, lazy_gettext("Suspend"), frozenset({Status.APPROVED})),
    "reinstate": (MembershipDecision, lazy_gettext("Reinstate"), frozenset({Status.SUSPENDED})),
}
ACTION_HINTS = {
    "approve": lazy_gettext("The firm becomes a member of the brand and may be audited."),
    "reject": lazy_gettext(
        "The application is closed for good; the firm sees your reason and may apply again."
    ),
    "suspend": lazy_gettext(
        "The firm leaves the public member list and cannot be audited or certified until "
        "it is reinstated."
    ),
    "reinstate": lazy_gettext("The firm is a member again."),
}


def _actions_for(item: Membership) -> list[tuple[str, Any]]:
    return [(name, spec[1]) for name, spec in ACTIONS.items() if item.status in spec[2]]


@page(
    bp,
    "/memberships/<int:membership_id>/<action>",
    access=OWNER_ADMINS,
    methods=("GET", "POST"),
)
def change_membership(caller: Caller, membership_id: int, action: str) -> ResponseReturnValue:
    """Confirm and carry out a decision on an application or membership (with a reason)."""
    if action not in ACTIONS:
        abort(404)
    schema, label, _ = ACTIONS[action]
    item = services.get_membership(db.session, caller, membership_id)
    outcome = Outcome.blank()
    if request.method == "POST":
        outcome = submit(
            parse(schema, request.form),
            lambda body: services.change_membership(
                db.session, caller, membership_id, action, body.reason
            ),
        )
        if outcome.ok:
            flash(_DONE[action](item), "success")
            return redirect(
                url_for("brands_portal.membership", membership_id=membership_id), code=303
            )
    return (
        render_template(
            "brands/portal/membership_action.html",
            membership=item,
            action=action,
            label=label,
            hint=ACTION_HINTS[action],
            reason_required=schema is MembershipReason,
            values=outcome.values,
            errors=outcome.errors,
        ),
        outcome.status,
    )


def _firm_name(item: Membership) -> str:
    return local_name(item.firm)


_DONE = {
    "approve": lambda m: gettext("%(firm)s is now a member.", firm=_firm_name(m)),
    "reject": lambda m: gettext("The application of %(firm)s was rejected.", firm=_firm_name(m)),
    "suspend": lambda m: gettext("%(firm)s was suspended.", firm=_firm_name(m)),
    "reinstate": lambda m: gettext("%(firm)s was reinstated.", firm=_firm_name(m)),
}
