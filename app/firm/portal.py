"""The firm's workspace pages that bring the domains together: the overview (certificates and
their label quota, brand memberships, label orders, scans and alerts about the firm's products,
traceability events, holds and recalls in effect), the scans of the firm's products, applying
to join a brand, and leaving one (a confirmation naming the certificates it cancels).

Like the resolver, these pages read from the domains (through their services and models); an
application goes through the brands domain's service (as the API's does), leaving a brand
through :mod:`app.firm.services`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from pydantic import Field
from sqlalchemy import func, or_, select

from app.association.forms import Outcome, parse, submit
from app.auth.models import Organisation, OrgKind, Role
from app.auth.principal import Caller, allow
from app.brands import services as brands
from app.brands.models import OPEN_MEMBERSHIP_STATUSES, Brand, Membership, MembershipStatus
from app.brands.portal import STATUS_LABELS as MEMBERSHIP_STATUS_LABELS
from app.brands.schemas import MembershipApply, MembershipDecision
from app.certificates import services as certificates
from app.certificates.models import LIVE_STATUSES, Certificate, CertificateStatus
from app.certificates.web import STATUS_LABELS as CERTIFICATE_STATUS_LABELS
from app.db import utcnow
from app.extensions import db
from app.firm import services
from app.http.api import set_activity_target
from app.http.web import page
from app.portal.charts import bar_chart, line_chart
from app.portal.nav import nav_item
from app.portal.tables import Column, Filter, build_table
from app.products import portal_forms
from app.products import services as products
from app.products.models import LabelOrder, LabelOrderStatus, Product
from app.products.portal import ORDER_STATUS_LABELS
from app.products.portal_forms import bilingual, choice_filter, form_token, when
from app.resolver import services as resolver
from app.resolver.labels import ALERT_KIND_LABELS, VERDICT_LABELS
from app.resolver.models import AlertStatus, Scan, ScanAlert, ScanChannel
from app.resolver.present import VERDICT_TITLES, verdict_title
from app.resolver.verdicts import Verdict
from app.trace import cbv
from app.trace.models import Event, Recall, RecallKind, RecallStatus
from app.trace.portal import UNIT_LABELS
from app.trace.present import UNIT_SYMBOLS
from app.trace.present import template_helpers as trace_helpers
from app.trace.query import visibility_condition
from app.trace.services import location_names

bp = Blueprint("firm_portal", __name__, url_prefix="/portal", template_folder="templates")

FIRM = allow([OrgKind.ENTERPRISE], [Role.ADMIN, Role.STAFF])
# Applying to and leaving a brand (and so cancelling certificates) is for the firm's admins
# only, as in the API.
FIRM_ADMINS = allow([OrgKind.ENTERPRISE], [Role.ADMIN])
SECTION = lazy_gettext("Firm")
SCAN_DAYS = 30

nav_item(SECTION, lazy_gettext("Firm overview"), "firm_portal.overview", FIRM, 100)
nav_item(SECTION, lazy_gettext("Scans of your products"), "firm_portal.scans", FIRM, 130)

STANDING_REASONS = {
    "suspended": lazy_gettext("suspended"),
    "withdrawn": lazy_gettext("withdrawn"),
    "cancelled": lazy_gettext("cancelled by its holder"),
    "superseded": lazy_gettext("superseded by a newer certificate"),
    "expired": lazy_gettext("expired"),
    "key_revoked": lazy_gettext("signed with a revoked key: the association must re-issue it"),
    "not_yet_valid": lazy_gettext("not yet valid"),
    "surveillance_overdue": lazy_gettext("surveillance audit overdue"),
    "surveillance_refused": lazy_gettext("surveillance audit refused"),
}
CHANNEL_LABELS = {
    ScanChannel.LINK: lazy_gettext("QR code or link"),
    ScanChannel.MANUAL: lazy_gettext("typed on the official site"),
}
# Short enough for a chart's labels; the scans table uses the resolver's full titles.
VERDICT_SHORT = {
    Verdict.NOT_FOUND: lazy_gettext("not found"),
    Verdict.BLOCKED: lazy_gettext("blocked"),
    Verdict.NOT_ACTIVATED: lazy_gettext("not activated"),
    Verdict.NOT_VALID: lazy_gettext("not valid"),
    Verdict.GENUINE_WITH_WARNING: lazy_gettext("genuine, warning"),
    Verdict.GENUINE: lazy_gettext("genuine"),
}
RECALL_KIND_LABELS = {
    RecallKind.HOLD: lazy_gettext("hold"),
    RecallKind.RECALL: lazy_gettext("recall"),
}


def _verdict(value: Any, reasons: Any = ()) -> str:
    """A scan's verdict as the shopper read it (a recall names the title, see the resolver)."""
    if value in VERDICT_TITLES:
        return verdict_title(Verdict(value), reasons)
    return str(value)


def _unit(code: str | None) -> str:
    if code in UNIT_LABELS:
        return str(UNIT_LABELS[code])
    return UNIT_SYMBOLS.get(code or "", code or "")


def _step(biz_step: str | None) -> str:
    if biz_step is None:
        return ""
    term = cbv.standard_term("bizStep", biz_step) or biz_step
    return str(trace_helpers()["step_label"](term))


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "order_status": lambda status: str(ORDER_STATUS_LABELS.get(status, status)),
        "standing_reason": lambda reason: str(STANDING_REASONS.get(reason, reason)),
        "alert_kind": lambda kind: str(ALERT_KIND_LABELS.get(kind, kind)),
        "channel": lambda value: str(CHANNEL_LABELS.get(value, value)),
        "recall_kind": lambda kind: str(RECALL_KIND_LABELS.get(kind, kind)),
        "membership_status": lambda value: str(MEMBERSHIP_STATUS_LABELS.get(value, value)),
        "certificate_status": lambda value: str(CERTIFICATE_STATUS_LABELS.get(value, value)),
        "status_reason_text": certificates.status_reason_text,
        "verdict": _verdict,
        "step": _step,
        "unit": _unit,
        "bilingual": bilingual,
        "when": when,
        "has_page": lambda endpoint: endpoint in current_app.view_functions,
    }


# --- the overview -----------------------------------------------------------------------------


def _certificate_rows(caller: Caller) -> list[dict[str, Any]]:
    held = db.session.scalars(
        select(Certificate)
        .where(
            Certificate.firm_id == caller.organisation_id,
            Certificate.status != CertificateStatus.SUPERSEDED,
        )
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        .limit(50)
    ).all()
    gtins = {gtin for certificate in held for gtin in certificate.scope_gtins}
    names = {
        product.gtin: product
        for product in db.session.scalars(
            select(Product).where(
                Product.organisation_id == caller.organisation_id, Product.gtin.in_(gtins)
            )
        )
    }
    return [
        {
            "certificate": certificate,
            "standing": certificates.standing(db.session, certificate),
            "cancellable": certificates.effective_status(certificate) in LIVE_STATUSES,
            "products": [(gtin, names.get(gtin)) for gtin in certificate.scope_gtins],
            "left": certificate.label_quota - certificate.labels_issued,
            "url": url_for("certificates_web.certificate_page", number=certificate.number),
        }
        for certificate in held
    ]


def _memberships(caller: Caller) -> list[Membership]:
    """The firm's open memberships and applications, then its closed ones, newest first."""
    found = db.session.scalars(
        select(Membership)
        .where(Membership.firm_id == caller.organisation_id)
        .order_by(Membership.id.desc())
        .limit(20)
    ).all()
    return sorted(found, key=lambda m: m.status not in OPEN_MEMBERSHIP_STATUSES)


def _order_counts(caller: Caller) -> dict[LabelOrderStatus, int]:
    rows = db.session.execute(
        select(LabelOrder.status, func.count())
        .where(LabelOrder.organisation_id == caller.organisation_id)
        .group_by(LabelOrder.status)
    )
    return {status: count for status, count in rows}


def _trace(caller: Caller) -> dict[str, Any]:
    statement = select(Event).order_by(Event.event_time.desc(), Event.id.desc()).limit(5)
    visible = visibility_condition(db.session, caller)
    if visible is not None:
        statement = statement.where(visible)
    events = list(db.session.scalars(statement))
    uris = {uri for event in events for uri in (event.read_point, event.biz_location) if uri}
    recalls = db.session.scalars(
        select(Recall)
        .where(
            or_(
                Recall.owner_organisation_id == caller.organisation_id,
                Recall.placed_by_organisation_id == caller.organisation_id,
            ),
            Recall.status == RecallStatus.ACTIVE,
        )
        .order_by(Recall.id.desc())
        .limit(10)
    ).all()
    return {"events": events, "places": location_names(db.session, uris), "recalls": recalls}


@page(bp, "/firm", access=FIRM)
def overview(caller: Caller) -> ResponseReturnValue:
    """The firm's dashboard: certificates and label quota, label orders, scans and alerts about
    its products, traceability."""
    rows = _certificate_rows(caller)
    summary = resolver.summarise_scans(db.session, caller, days=SCAN_DAYS)
    verdicts = [(str(VERDICT_SHORT[v]), summary.by_verdict.get(v.value, 0)) for v in Verdict]
    alerts = db.session.scalars(
        select(ScanAlert)
        .where(ScanAlert.firm_id == caller.organisation_id, ScanAlert.status == AlertStatus.OPEN)
        .order_by(ScanAlert.last_seen_at.desc(), ScanAlert.id.desc())
        .limit(5)
    ).all()
    open_alerts = db.session.scalar(
        select(func.count())
        .select_from(ScanAlert)
        .where(ScanAlert.firm_id == caller.organisation_id, ScanAlert.status == AlertStatus.OPEN)
    )
    product_count = db.session.scalar(
        select(func.count())
        .select_from(Product)
        .where(Product.organisation_id == caller.organisation_id)
    )
    return render_template(
        "firm/portal/overview.html",
        certificates=rows,
        quota_chart=bar_chart(
            [(row["certificate"].number, row["certificate"].labels_issued) for row in rows],
            title=gettext("Labels used per certificate"),
        ),
        recent_orders=products.list_orders(db.session, caller, limit=5, cursor=None).items,
        counts=_order_counts(caller),
        product_count=product_count or 0,
        scans=summary,
        verdicts=verdicts,
        verdict_chart=bar_chart(
            verdicts,
            title=gettext(
                "Scans of your products in the last %(days)s days, by verdict", days=SCAN_DAYS
            ),
        ),
        alerts=alerts,
        open_alerts=open_alerts or 0,
        trace=_trace(caller),
        memberships=_memberships(caller),
        open_memberships=OPEN_MEMBERSHIP_STATUSES,
        # The firm's admins may give up a certificate (the certificates domain's page), apply
        # to or leave a brand.
        may_cancel=caller.role == Role.ADMIN,
        may_apply=FIRM_ADMINS.allows(caller),
    )


# --- applying to join a brand -----------------------------------------------------------------


class BrandApplication(MembershipApply):
    """The API's application, plus the brand chosen on the page (the API names it in the path)."""

    brand: str = Field(min_length=1, max_length=64)


APPLICATION_FIELDS = ("brand", "registration_scheme", "registration_number", "message")
REGISTRATION_SCHEMES = {
    brands.USCC: lazy_gettext("Unified social credit code (18 characters)"),
    brands.OTHER: lazy_gettext("Other registration number"),
}


@page(bp, "/firm/brands/apply", access=FIRM_ADMINS, methods=("GET", "POST"))
def apply_to_brand(caller: Caller) -> ResponseReturnValue:
    """The brands the firm may apply to, and the application form (the API's fields)."""
    values: dict[str, Any] = {"brand": request.args.get("brand", "")}
    errors: dict[str, str] = {}
    if request.method == "POST":

        def apply(model: BrandApplication) -> tuple[str, str]:
            membership = brands.apply_for_membership(
                db.session,
                caller,
                model.brand,
                registration_scheme=model.registration_scheme,
                registration_number=model.registration_number,
                message=model.message,
            )
            set_activity_target("membership", membership.id)
            name = bilingual(membership.brand.name_zh, membership.brand.name_en)
            return (
                url_for("firm_portal.overview"),
                gettext(
                    "Your firm applied to join %(brand)s; the association will decide.",
                    brand=name,
                ),
            )

        # The firm's one-time form token: a double click applies once.
        done = portal_forms.submit(BrandApplication, APPLICATION_FIELDS, apply, once=caller)
        if done.response is not None:
            return done.response
        values, errors = done.values, done.errors
        # A refusal changes nothing (not even the registration number recorded on the way).
        db.session.rollback()
    firm = db.session.get(Organisation, caller.organisation_id)
    open_brands = brands.brands_open_to(db.session, caller)
    return (
        render_template(
            "firm/portal/apply.html",
            brands=open_brands,
            brand_options=[(b.slug, bilingual(b.name_zh, b.name_en)) for b in open_brands],
            firm=firm,
            schemes=list(REGISTRATION_SCHEMES.items()),
            values=values,
            errors=errors,
            token=form_token(),
        ),
        422 if errors else 200,
    )


# --- leaving a brand --------------------------------------------------------------------------


@page(
    bp,
    "/firm/memberships/<int:membership_id>/leave",
    access=FIRM_ADMINS,
    methods=("GET", "POST"),
)
def leave(caller: Caller, membership_id: int) -> ResponseReturnValue:
    """Confirm, then leave a brand (or withdraw the application). The page names every
    certificate of the brand that leaving cancels, for good, before the firm confirms."""
    plan = services.leaving_plan(db.session, caller, membership_id)
    brand = plan.membership.brand
    is_application = plan.membership.status == MembershipStatus.APPLIED
    outcome = Outcome.blank()
    if request.method == "POST":
        outcome = submit(
            parse(MembershipDecision, request.form),
            lambda body: services.leave_brand(db.session, caller, membership_id, body.reason),
        )
        if outcome.ok and outcome.result is not None:
            flash(_left_message(outcome.result, brand, is_application), "success")
            return redirect(url_for("firm_portal.overview"), code=303)
    return (
        render_template(
            "firm/portal/leave.html",
            plan=plan,
            brand=brand,
            is_open=plan.membership.status in OPEN_MEMBERSHIP_STATUSES,
            is_application=is_application,
            labels=sum(order.quantity for order in plan.orders),
            values=outcome.values,
            errors=outcome.errors,
        ),
        outcome.status,
    )


def _left_message(left: services.Leaving, brand: Brand, was_application: bool) -> str:
    name = bilingual(brand.name_zh, brand.name_en)
    if was_application:
        return gettext("Your application to %(brand)s was withdrawn.", brand=name)
    if not left.certificates:
        return gettext("Your firm left %(brand)s.", brand=name)
    return gettext(
        "Your firm left %(brand)s. Certificates cancelled: %(numbers)s.",
        brand=name,
        numbers=", ".join(certificate.number for certificate in left.certificates),
    )


# --- scans ------------------------------------------------------------------------------------


@page(bp, "/firm/scans", access=FIRM)
def scans(caller: Caller) -> ResponseReturnValue:
    """Every scan of the firm's products (shoppers stay anonymous), with verdict and place."""
    statement = select(Scan).where(Scan.firm_id == caller.organisation_id)
    table = build_table(
        db.session,
        statement,
        columns=[
            Column("scanned_at", lazy_gettext("When"), sort=Scan.id),
            Column("product", lazy_gettext("Product"), sort=Scan.gtin),
            Column("lot", lazy_gettext("Lot"), sort=Scan.lot),
            Column("serial", lazy_gettext("Serial")),
            Column("verdict", lazy_gettext("Verdict"), sort=Scan.verdict),
            Column("channel", lazy_gettext("How")),
            Column("place", lazy_gettext("Where (if the shopper shared it)")),
        ],
        filters=[
            choice_filter(
                # Filter choices name the verdict only (a "not valid" scan may be a recall, a
                # suspended certificate or a revoked key): the rows say which.
                "verdict",
                lazy_gettext("Verdict"),
                Scan.verdict,
                {v: VERDICT_LABELS[v] for v in Verdict},
            ),
            Filter(
                "gtin",
                lazy_gettext("GTIN"),
                lambda s, value: s.where(Scan.gtin.contains(value, autoescape=True)),
            ),
        ],
        args=request.args,
        default_sort="scanned_at",
    )
    names = {
        product.gtin: product
        for product in db.session.scalars(
            select(Product).where(
                Product.organisation_id == caller.organisation_id,
                Product.gtin.in_({row.gtin for row in table.rows}),
            )
        )
    }
    summary = resolver.summarise_scans(db.session, caller, days=SCAN_DAYS)
    by_day = {item["day"]: item["total"] for item in summary.by_day}
    start = datetime.combine(summary.since, datetime.min.time(), tzinfo=UTC)
    days = [(start + timedelta(days=offset)).date().isoformat() for offset in range(SCAN_DAYS)]
    points = [
        (day[5:], float(by_day.get(day, 0))) for day in days if day <= utcnow().date().isoformat()
    ]
    return render_template(
        "firm/portal/scans.html",
        table=table,
        names=names,
        summary=summary,
        day_chart=line_chart(
            points, title=gettext("Scans per day, last %(days)s days", days=SCAN_DAYS)
        ),
        per_day=[(day, by_day[day]) for day in sorted(by_day)],
    )
