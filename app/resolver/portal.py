"""Scan alerts and shoppers' reports of fakes in the portal.

Who sees what follows the scans API: a firm the alerts about its own products; an association,
a government body or an alliance those about the brands it owns or co-builds (an association
also those under the certificates it issued). Firms and associations (admins and staff)
resolve alerts; reports of fakes are for the association to triage and for government bodies
and alliances to read. Another organisation's alert or report answers 404, as in the API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from sqlalchemy import Select, or_, select

from app.association.forms import parse
from app.auth.models import Organisation, OrgKind, Role, User
from app.auth.principal import Caller, allow
from app.brands.models import Brand
from app.brands.services import co_built_brand_ids
from app.errors import AppError, NotFound
from app.extensions import db
from app.files.models import StoredFile
from app.files.services import file_response
from app.http.api import set_activity_target
from app.http.web import page
from app.i18n import current_locale
from app.portal.nav import nav_item
from app.portal.tables import Column, Filter, build_table
from app.products.models import Product
from app.resolver import services
from app.resolver.errors import AlertAlreadyResolved
from app.resolver.labels import (
    ALERT_KIND_LABELS,
    ALERT_KIND_MEANINGS,
    ALERT_STATUS_LABELS,
    FIRM_ALERT_ADVICE,
    REPORT_STATUS_LABELS,
    RESOLUTION_LABELS,
    RULE_HINTS,
    RULE_LABELS,
    VERDICT_LABELS,
)
from app.resolver.models import (
    AlertKind,
    AlertStatus,
    FakeReport,
    ReportStatus,
    ScanAlert,
)
from app.resolver.rules import NUMERIC_KINDS, RuleKind
from app.resolver.schemas import AlertResolve, ReportReview, RuleUpdate

bp = Blueprint("resolver_portal", __name__, url_prefix="/portal", template_folder="templates")

ALERT_READERS = allow()
ALERT_HANDLERS = allow(
    kinds=[OrgKind.ASSOCIATION, OrgKind.ENTERPRISE], roles=[Role.ADMIN, Role.STAFF]
)
REPORT_READERS = allow(kinds=[OrgKind.ASSOCIATION, OrgKind.GOVERNMENT, OrgKind.ALLIANCE])
REPORT_HANDLERS = allow(kinds=[OrgKind.ASSOCIATION], roles=[Role.ADMIN, Role.STAFF])
RULE_READERS = allow(kinds=[OrgKind.ASSOCIATION])
RULE_WRITERS = allow(kinds=[OrgKind.ASSOCIATION], roles=[Role.ADMIN])
SECTION = lazy_gettext("Scans and counterfeits")

nav_item(SECTION, lazy_gettext("Scan alerts"), "resolver_portal.alerts", ALERT_READERS, order=400)
nav_item(
    SECTION, lazy_gettext("Reports of fakes"), "resolver_portal.reports", REPORT_READERS, order=410
)
nav_item(
    SECTION, lazy_gettext("Scan alert rules"), "resolver_portal.scan_rules", RULE_READERS, order=420
)


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "alert_kind_labels": ALERT_KIND_LABELS,
        "alert_status_labels": ALERT_STATUS_LABELS,
        "resolution_labels": RESOLUTION_LABELS,
        "report_status_labels": REPORT_STATUS_LABELS,
        "verdict_labels": VERDICT_LABELS,
    }


def _choices(labels: dict[Any, Any]) -> list[tuple[str, str]]:
    return [(str(key), str(label)) for key, label in labels.items()]


def _code_search(model: Any) -> Any:
    """A GTIN (leading zeros optional), a lot or a serial, exactly."""

    def apply(statement: Select[Any], text: str) -> Select[Any]:
        conditions = [model.lot == text, model.serial == text]
        if text.isdigit() and len(text) <= 14:
            conditions.append(model.gtin == text.zfill(14))
        return statement.where(or_(*conditions))

    return apply


def _brand_filter(caller: Caller, model: Any) -> list[Filter]:
    """A brand filter for organisations that see several brands (not for firms)."""
    if caller.org_kind is OrgKind.ENTERPRISE:
        return []
    brands = db.session.scalars(
        select(Brand).where(Brand.id.in_(co_built_brand_ids(db.session, caller) or [0]))
    ).all()
    if not brands:
        return []
    zh = _is_zh()
    return [
        Filter(
            "brand",
            lazy_gettext("Brand"),
            lambda s, v: s.where(model.brand_id.in_(select(Brand.id).where(Brand.slug == v))),
            choices=[(b.slug, b.name_zh if zh else b.name_en) for b in brands],
        )
    ]


def _is_zh() -> bool:
    return current_locale() == "zh_CN"


def _products(ids: set[int | None]) -> dict[int, Product]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(wanted)))}


# --- alerts ------------------------------------------------------------------------------------


@page(bp, "/scan-alerts", access=ALERT_READERS)
def alerts(caller: Caller) -> ResponseReturnValue:
    """Alerts raised by scan anomalies on the caller's products or brands."""
    # The scans API's own visibility rule, so the page and the API always agree.
    statement = select(ScanAlert).where(services._visible(db.session, ScanAlert, caller))
    table = build_table(
        db.session,
        statement,
        columns=[
            Column("id", lazy_gettext("Alert"), sort=ScanAlert.id),
            Column("kind", lazy_gettext("What happened"), sort=ScanAlert.kind),
            Column("status", lazy_gettext("Status"), sort=ScanAlert.status),
            Column("code", lazy_gettext("Code")),
            Column("product", lazy_gettext("Product")),
            Column("occurrences", lazy_gettext("Occurrences"), sort=ScanAlert.occurrences),
            Column("last_seen_at", lazy_gettext("Last seen"), sort=ScanAlert.last_seen_at),
        ],
        filters=[
            Filter(
                "status",
                lazy_gettext("Status"),
                lambda s, v: s.where(ScanAlert.status == v),
                choices=_choices(ALERT_STATUS_LABELS),
            ),
            Filter(
                "kind",
                lazy_gettext("What happened"),
                lambda s, v: s.where(ScanAlert.kind == v),
                choices=_choices(ALERT_KIND_LABELS),
            ),
            Filter("code", lazy_gettext("GTIN, lot or serial"), _code_search(ScanAlert)),
            *_brand_filter(caller, ScanAlert),
        ],
        args=request.args,
        default_sort="id",
    )
    return render_template(
        "resolver/portal/alerts.html",
        table=table,
        products=_products({row.product_id for row in table.rows}),
    )


def _alert_facts(alert: ScanAlert) -> list[str]:
    """What the scans that raised ``alert`` showed, as sentences (its ``details`` are codes and
    numbers for machines)."""
    details = alert.details or {}
    facts: list[str] = []
    if alert.kind is AlertKind.REPEAT_SCANS and "shoppers" in details:
        facts.append(
            gettext(
                "%(shoppers)s different shoppers have checked this pack; the rule alerts above "
                "%(threshold)s.",
                shoppers=details["shoppers"],
                threshold=details.get("threshold", "?"),
            )
        )
    elif alert.kind is AlertKind.MANY_CLIENTS and "clients" in details:
        facts.append(
            gettext(
                "%(clients)s different phones checked this pack within %(minutes)s minutes; the "
                "rule alerts at %(threshold)s.",
                clients=details["clients"],
                minutes=details.get("window_minutes", "?"),
                threshold=details.get("threshold", "?"),
            )
        )
    elif alert.kind is AlertKind.AFTER_CONSUMED and details.get("consumed_at"):
        facts.append(
            gettext(
                "The pack was marked as opened or used on %(when)s UTC.",
                when=str(details["consumed_at"])[:16].replace("T", " "),
            )
        )
    elif alert.kind is AlertKind.UNKNOWN_CODE and details.get("recorded_lot"):
        facts.append(
            gettext(
                "The label names serial %(serial)s with batch %(printed)s, but that serial was "
                "issued under batch %(recorded)s: the label is probably copied.",
                serial=details.get("serial") or alert.serial or "—",
                printed=details.get("lot") or alert.lot or "—",
                recorded=details["recorded_lot"],
            )
        )
    elif alert.kind is AlertKind.UNKNOWN_CODE and "signature_mismatch" in (
        details.get("reasons") or ()
    ):
        facts.append(
            gettext(
                "The label names serial %(serial)s, but its printed signature is not the one "
                "issued with it: the label is probably copied.",
                serial=details.get("serial") or alert.serial or "—",
            )
        )
    elif alert.kind is AlertKind.UNKNOWN_CODE:
        facts.append(
            gettext(
                "No label with serial %(serial)s was ever issued for this product.",
                serial=details.get("serial") or alert.serial or "—",
            )
        )
    return facts


def _alert_page(
    caller: Caller, alert: ScanAlert, *, values: dict[str, Any], errors: dict[str, str]
) -> str:
    return render_template(
        "resolver/portal/alert.html",
        alert=alert,
        product=db.session.get(Product, alert.product_id) if alert.product_id else None,
        brand=db.session.get(Brand, alert.brand_id) if alert.brand_id else None,
        firm=db.session.get(Organisation, alert.firm_id) if alert.firm_id else None,
        resolved_by=db.session.get(User, alert.resolved_by_id) if alert.resolved_by_id else None,
        may_resolve=ALERT_HANDLERS.allows(caller) and alert.status is AlertStatus.OPEN,
        facts=_alert_facts(alert),
        meaning=ALERT_KIND_MEANINGS.get(alert.kind),
        advice=FIRM_ALERT_ADVICE.get(alert.kind) if caller.org_kind is OrgKind.ENTERPRISE else None,
        values=values,
        errors=errors,
    )


@page(bp, "/scan-alerts/<int:alert_id>", access=ALERT_READERS)
def alert(caller: Caller, alert_id: int) -> ResponseReturnValue:
    """One alert with what is known about it, and (for handlers) the form to resolve it."""
    found = services.get_alert(db.session, caller, alert_id)
    return _alert_page(caller, found, values={}, errors={})


@page(bp, "/scan-alerts/<int:alert_id>/resolve", access=ALERT_HANDLERS, methods=("POST",))
def resolve_alert(caller: Caller, alert_id: int) -> ResponseReturnValue:
    """Resolve an open alert with what was found and a note."""
    # Lock the alert's row first: of two concurrent submissions (a double click, two people),
    # the second waits here and then finds the alert resolved, so it is recorded once.
    db.session.execute(select(ScanAlert.id).where(ScanAlert.id == alert_id).with_for_update())
    found = services.get_alert(db.session, caller, alert_id)
    form = parse(AlertResolve, request.form)
    errors = dict(form.errors)
    if form.model is not None:
        set_activity_target("scan_alert", alert_id)
        try:
            services.resolve_alert(
                db.session,
                caller,
                alert_id,
                resolution=form.model.resolution,
                note=form.model.note,
            )
        except AlertAlreadyResolved as error:
            # A double submit, or a colleague was quicker: say so, change nothing.
            errors["__all__"] = error.detail
            return _alert_page(caller, found, values=form.values, errors=errors), 409
        except AppError as error:
            errors["__all__"] = error.detail
        else:
            flash(gettext("Alert %(id)s resolved.", id=alert_id), "success")
            return redirect(url_for("resolver_portal.alert", alert_id=alert_id), code=303)
    return _alert_page(caller, found, values=form.values, errors=errors), 422


# --- reports of fakes --------------------------------------------------------------------------


def _report_statement(caller: Caller) -> Select[Any]:
    # The fake-reports API's own visibility rule (see ``alerts``).
    return select(FakeReport).where(services._report_visible(db.session, caller))


@page(bp, "/fake-reports", access=REPORT_READERS)
def reports(caller: Caller) -> ResponseReturnValue:
    """Shoppers' reports of suspected fakes, newest first."""
    table = build_table(
        db.session,
        _report_statement(caller),
        columns=[
            Column("id", lazy_gettext("Report"), sort=FakeReport.id),
            Column("created_at", lazy_gettext("Received on"), sort=FakeReport.created_at),
            Column("status", lazy_gettext("Status"), sort=FakeReport.status),
            Column("code", lazy_gettext("Code")),
            Column("verdict", lazy_gettext("Verdict when scanned"), sort=FakeReport.verdict),
            Column("place", lazy_gettext("Where")),
            Column("description", lazy_gettext("What the shopper says")),
        ],
        filters=[
            Filter(
                "status",
                lazy_gettext("Status"),
                lambda s, v: s.where(FakeReport.status == v),
                choices=_choices(REPORT_STATUS_LABELS),
            ),
            Filter("code", lazy_gettext("GTIN, lot or serial"), _code_search(FakeReport)),
            *_brand_filter(caller, FakeReport),
        ],
        args=request.args,
        default_sort="id",
    )
    return render_template("resolver/portal/reports.html", table=table)


def _report_page(
    caller: Caller, report: FakeReport, *, values: dict[str, Any], errors: dict[str, str]
) -> str:
    return render_template(
        "resolver/portal/report.html",
        report=report,
        contact=services.contact_for(caller, report),
        product=db.session.get(Product, report.product_id) if report.product_id else None,
        brand=db.session.get(Brand, report.brand_id) if report.brand_id else None,
        firm=db.session.get(Organisation, report.firm_id) if report.firm_id else None,
        reviewed_by=db.session.get(User, report.reviewed_by_id) if report.reviewed_by_id else None,
        may_review=REPORT_HANDLERS.allows(caller),
        values=values or {"status": report.status.value, "note": report.review_note or ""},
        errors=errors,
        review_choices=_choices(
            {k: v for k, v in REPORT_STATUS_LABELS.items() if k is not ReportStatus.NEW}
        ),
    )


@page(bp, "/fake-reports/<int:report_id>", access=REPORT_READERS)
def report(caller: Caller, report_id: int) -> ResponseReturnValue:
    """One report with its photo, and (for the association) the form to triage it."""
    found = services.get_report(db.session, caller, report_id)
    return _report_page(caller, found, values={}, errors={})


@page(bp, "/fake-reports/<int:report_id>/photo", access=REPORT_READERS)
def report_photo(caller: Caller, report_id: int) -> ResponseReturnValue:
    """The photo the shopper attached (only to those who may read the report)."""
    found = services.get_report(db.session, caller, report_id)
    stored = db.session.get(StoredFile, found.photo_file_id) if found.photo_file_id else None
    if stored is None:
        raise NotFound(gettext("This report has no photo."), slug="photo-not-found")
    return file_response(stored)


@page(bp, "/fake-reports/<int:report_id>/review", access=REPORT_HANDLERS, methods=("POST",))
def review_report(caller: Caller, report_id: int) -> ResponseReturnValue:
    """Move a report to reviewing or closed, with a note."""
    found = services.get_report(db.session, caller, report_id)
    form = parse(ReportReview, request.form)
    errors = dict(form.errors)
    if form.model is not None and form.model.status is ReportStatus.NEW:
        errors["status"] = gettext("Choose being reviewed or closed.")
    elif form.model is not None:
        set_activity_target("fake_report", report_id)
        services.review_report(
            db.session, caller, report_id, status=form.model.status, note=form.model.note
        )
        flash(
            gettext(
                "Report %(id)s is now: %(status)s.",
                id=report_id,
                status=REPORT_STATUS_LABELS[form.model.status],
            ),
            "success",
        )
        return redirect(url_for("resolver_portal.report", report_id=report_id), code=303)
    return _report_page(caller, found, values=form.values, errors=errors), 422


# --- the brand's anomaly rules -----------------------------------------------------------------


_RULE_FIELD_WORDS = {
    "required": lazy_gettext("Required for this rule."),
    "not_allowed": lazy_gettext("Leave this empty for this rule."),
}


def _own_brands(caller: Caller) -> list[Brand]:
    return list(
        db.session.scalars(
            select(Brand).where(Brand.owner_id == caller.organisation_id).order_by(Brand.id)
        )
    )


def _rules_page(
    caller: Caller,
    brand: Brand | None,
    brands: list[Brand],
    *,
    values: dict[str, dict[str, Any]] | None = None,
    errors: dict[str, dict[str, str]] | None = None,
) -> str:
    rules = services.list_rules(db.session, caller, brand.slug) if brand else []
    shown: dict[str, dict[str, Any]] = {
        rule.kind.value: {
            "is_enabled": rule.is_enabled,
            "threshold": "" if rule.threshold is None else rule.threshold,
            "window_minutes": "" if rule.window_minutes is None else rule.window_minutes,
        }
        for rule in rules
    }
    shown.update(values or {})
    return render_template(
        "resolver/portal/scan_rules.html",
        brand=brand,
        brands=brands,
        rules=rules,
        rule_labels=RULE_LABELS,
        rule_hints=RULE_HINTS,
        numeric=NUMERIC_KINDS,
        values=shown,
        errors=errors or {},
        may_edit=brand is not None and RULE_WRITERS.allows(caller),
    )


@page(bp, "/scan-rules", access=RULE_READERS)
def scan_rules(caller: Caller) -> ResponseReturnValue:
    """The anomaly rules in force for one of the association's brands (defaults until set)."""
    brands = _own_brands(caller)
    wanted = request.args.get("brand")
    brand = next((b for b in brands if b.slug == wanted), brands[0] if brands else None)
    return _rules_page(caller, brand, brands)


@page(bp, "/scan-rules/<slug>/<kind>", access=RULE_WRITERS, methods=("POST",))
def set_scan_rule(caller: Caller, slug: str, kind: str) -> ResponseReturnValue:
    """Change one rule of a brand the association owns (the API's own service and checks)."""
    try:
        rule_kind = RuleKind(kind)
    except ValueError:
        raise NotFound(gettext("No such rule."), slug="scan-rule-not-found") from None
    brand = next((b for b in _own_brands(caller) if b.slug == slug), None)
    if brand is None:
        raise NotFound(gettext("No brand %(slug)s of your association.", slug=slug))
    form = request.form.copy()
    if rule_kind not in NUMERIC_KINDS:
        # These rules take no numbers: an on/off switch only.
        form.pop("threshold", None)
        form.pop("window_minutes", None)
    parsed = parse(RuleUpdate, form)
    field_errors = dict(parsed.errors)
    if parsed.model is not None:
        set_activity_target("scan_rule", f"{slug}:{kind}")
        try:
            services.set_rule(
                db.session,
                caller,
                slug,
                rule_kind,
                is_enabled=parsed.model.is_enabled,
                threshold=parsed.model.threshold,
                window_minutes=parsed.model.window_minutes,
            )
        except AppError as error:
            db.session.rollback()
            for item in error.errors:
                field_errors.setdefault(
                    item.field.strip("/"), str(_RULE_FIELD_WORDS.get(item.rule, item.message))
                )
            field_errors.setdefault("__all__", error.detail)
        else:
            flash(
                gettext("Rule saved: %(rule)s.", rule=RULE_LABELS[rule_kind]),
                "success",
            )
            return redirect(
                url_for("resolver_portal.scan_rules", brand=slug) + f"#rule-{kind}", code=303
            )
    typed = {
        "is_enabled": parsed.values.get("is_enabled") not in (False, None, "", "false"),
        "threshold": parsed.values.get("threshold", ""),
        "window_minutes": parsed.values.get("window_minutes", ""),
    }
    return _rules_page(
        caller,
        brand,
        _own_brands(caller),
        values={kind: typed},
        errors={kind: field_errors},
    ), 422
