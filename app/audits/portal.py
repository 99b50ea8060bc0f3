"""Association portal pages for audits: the list, opening an audit, recording results per
criterion, evidence, sign-off, the decision (maker-checker shown: who audited, who signed
off, who decides) and the surveillance schedule."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from sqlalchemy import select

from app.association.forms import (
    Outcome,
    RowMap,
    local_name,
    parse,
    pointer_key,
    read_rows,
    run,
    submit,
    validate,
)
from app.audits import services
from app.audits.models import (
    Audit,
    AuditDecision,
    AuditKind,
    AuditResult,
    AuditStatus,
    DecisionOutcome,
)
from app.audits.schemas import AuditCreate, DecisionIn, MeasurementsIn, SignOffIn
from app.auth.models import Organisation, OrgKind, Role, User
from app.auth.principal import Caller, allow
from app.brands import services as brands
from app.brands.models import Brand, Membership, MembershipStatus
from app.db import utcnow
from app.errors import Conflict
from app.extensions import db
from app.http.api import set_activity_target
from app.http.web import page
from app.i18n import current_locale, list_text
from app.portal.nav import nav_item
from app.portal.tables import Column, Filter, build_table
from app.standards.evaluation import format_number, requirement_text
from app.standards.models import Criterion, Standard, StandardVersion, ValueType, VersionStatus
from app.standards.services import version_state

bp = Blueprint("audits_portal", __name__, url_prefix="/portal", template_folder="templates")

ASSOCIATION = allow([OrgKind.ASSOCIATION])
AUDITORS = allow([OrgKind.ASSOCIATION], [Role.AUDITOR])
ADMINS = allow([OrgKind.ASSOCIATION], [Role.ADMIN])
SECTION = lazy_gettext("Association")

nav_item(SECTION, lazy_gettext("Audits and decisions"), "audits_portal.audits", ASSOCIATION, 140)
nav_item(
    SECTION, lazy_gettext("Surveillance schedule"), "audits_portal.surveillance", ASSOCIATION, 145
)

STATUSES = {
    AuditStatus.OPEN: lazy_gettext("Open: results being recorded"),
    AuditStatus.SIGNED_OFF: lazy_gettext("Signed off: awaiting a decision"),
    AuditStatus.DECIDED: lazy_gettext("Decided"),
}
KINDS = {
    AuditKind.INITIAL: lazy_gettext("Initial"),
    AuditKind.SURVEILLANCE: lazy_gettext("Surveillance"),
    AuditKind.RENEWAL: lazy_gettext("Renewal"),
}
RESULTS = {AuditResult.PASS: lazy_gettext("Pass"), AuditResult.FAIL: lazy_gettext("Fail")}
OUTCOMES = {
    DecisionOutcome.GRANTED: lazy_gettext("Granted"),
    DecisionOutcome.REFUSED: lazy_gettext("Refused"),
}
PRODUCT_FIELDS = ("gtin", "name_zh", "name_en")
SITE_FIELDS = ("name", "address", "gln")
YES, NO = "yes", "no"


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "audit_status_label": lambda value: str(STATUSES.get(value, value)),
        "audit_kind_label": lambda value: str(KINDS.get(value, value)),
        "audit_result_label": lambda value: str(RESULTS.get(value, value)) if value else "",
        "outcome_label": lambda value: str(OUTCOMES.get(value, value)),
        "requirement_text": requirement_text,
    }


# ---- the list and the schedule ------------------------------------------------------------


def _brand_ids(caller: Caller) -> list[int]:
    return sorted(brands.co_built_brand_ids(db.session, caller)) or [0]


def _firm_filter(statement: Any, value: str) -> Any:
    return statement.where(
        Audit.firm.has(Organisation.name_zh.contains(value, autoescape=True))
        | Audit.firm.has(Organisation.name_en.ilike(f"%{value}%"))
    )


@page(bp, "/audits", access=ASSOCIATION)
def audits(caller: Caller) -> ResponseReturnValue:
    """Audits of the association's brands, filtered by status and kind."""
    firm = Organisation
    statement = (
        select(Audit)
        .join(firm, firm.id == Audit.firm_id)
        .where(Audit.brand_id.in_(_brand_ids(caller)))
    )
    table = build_table(
        db.session,
        statement,
        columns=[
            Column("id", lazy_gettext("Audit"), sort=Audit.id),
            Column("firm", lazy_gettext("Firm"), sort=firm.name_en),
            Column("standard", lazy_gettext("Standard")),
            Column("kind", lazy_gettext("Kind"), sort=Audit.kind),
            Column("status", lazy_gettext("Status"), sort=Audit.status),
            Column("audited_on", lazy_gettext("Audited on"), sort=Audit.audited_on),
            Column("due_on", lazy_gettext("Due"), sort=Audit.due_on),
            Column("overall_result", lazy_gettext("Result")),
        ],
        filters=[
            Filter(
                "status",
                lazy_gettext("Status"),
                lambda s, v: s.where(Audit.status == v),
                choices=[(status.value, label) for status, label in STATUSES.items()],
            ),
            Filter(
                "kind",
                lazy_gettext("Kind"),
                lambda s, v: s.where(Audit.kind == v),
                choices=[(kind.value, label) for kind, label in KINDS.items()],
            ),
            Filter("q", lazy_gettext("Firm name"), _firm_filter),
        ],
        args=request.args,
        default_sort="id",
    )
    return render_template(
        "audits/portal/audits.html",
        table=table,
        may_open=caller.role == Role.AUDITOR,
        today=services.today(),
    )


@page(bp, "/audits/surveillance", access=ASSOCIATION)
def surveillance(caller: Caller) -> ResponseReturnValue:
    """Open audits with a due date (surveillance): overdue first, then by due date."""
    today = services.today()
    windows = {"overdue": 0, "30": 30, "90": 90}
    statement = select(Audit).where(
        Audit.brand_id.in_(_brand_ids(caller)),
        Audit.status == AuditStatus.OPEN,
        Audit.due_on.is_not(None),
    )

    def due_within(s: Any, value: str) -> Any:
        if value not in windows:
            return s
        if value == "overdue":
            return s.where(Audit.due_on < today)
        return s.where(Audit.due_on <= today + timedelta(days=windows[value]))

    table = build_table(
        db.session,
        statement,
        columns=[
            Column("due_on", lazy_gettext("Due"), sort=Audit.due_on),
            Column("state", lazy_gettext("State")),
            Column("firm", lazy_gettext("Firm")),
            Column("standard", lazy_gettext("Standard")),
            Column("kind", lazy_gettext("Kind"), sort=Audit.kind),
            Column("follows", lazy_gettext("Follows up")),
        ],
        filters=[
            Filter(
                "due",
                lazy_gettext("Due"),
                due_within,
                choices=[
                    ("overdue", lazy_gettext("Overdue")),
                    ("30", lazy_gettext("Due within 30 days (or overdue)")),
                    ("90", lazy_gettext("Due within 90 days (or overdue)")),
                ],
            )
        ],
        args=request.args,
        default_sort="due_on",
        default_descending=False,
    )
    overdue = len(services.list_overdue(db.session, caller, today))
    return render_template(
        "audits/portal/surveillance.html", table=table, today=today, overdue=overdue
    )


# ---- opening an audit ---------------------------------------------------------------------


def _owned(caller: Caller) -> list[Brand]:
    return list(
        db.session.scalars(
            select(Brand).where(Brand.owner_id == caller.organisation_id).order_by(Brand.name_en)
        )
    )


def _version_option(version: StandardVersion) -> str:
    """A version as the audit form offers it: a superseded one, and one scheduled to take
    effect later (audited ahead of that day), say so."""
    label = f"{version.standard.code} {version.version}"
    state = version_state(version)
    if state.scheduled:
        assert version.effective_from is not None
        note = gettext("takes effect on %(date)s", date=version.effective_from.isoformat())
    elif state.status is VersionStatus.SUPERSEDED:
        note = gettext("superseded")
    else:
        return label
    return f"{label} ({note})"


def _audit_form_options(caller: Caller) -> dict[str, Any]:
    owned = _owned(caller)
    ids = [b.id for b in owned] or [0]
    members = db.session.scalars(
        select(Membership)
        .where(Membership.brand_id.in_(ids), Membership.status == MembershipStatus.APPROVED)
        .order_by(Membership.id)
    )
    firms: dict[str, str] = {}
    for membership in members:
        firms.setdefault(membership.firm.slug, local_name(membership.firm))
    versions = db.session.scalars(
        select(StandardVersion)
        .join(Standard, Standard.id == StandardVersion.standard_id)
        .where(
            Standard.brand_id.in_(ids),
            StandardVersion.status.in_([VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED]),
        )
        .order_by(Standard.code, StandardVersion.id)
    )
    return {
        "brand_options": [(b.slug, local_name(b)) for b in owned],
        "firm_options": sorted(firms.items(), key=lambda item: item[1]),
        "version_options": [(v.id, _version_option(v)) for v in versions],
        "kind_options": list(KINDS.items()),
    }


def _new_audit_page(
    caller: Caller, values: dict[str, Any], errors: dict[str, str], status: int
) -> ResponseReturnValue:
    return (
        render_template(
            "audits/portal/new.html",
            values=values,
            errors=errors,
            product_rows=int(values.get("products-count", 3)),
            site_rows=int(values.get("sites-count", 2)),
            **_audit_form_options(caller),
        ),
        status,
    )


def _recent_duplicate(caller: Caller, body: AuditCreate) -> Audit | None:
    """An open audit the caller opened in the last minutes with the same firm, version, kind
    and products: the same form sent twice."""
    since = utcnow() - timedelta(minutes=10)
    gtins = sorted(p.gtin.strip().zfill(14) for p in body.products)
    for candidate in db.session.scalars(
        select(Audit).where(
            Audit.auditor_id == caller.user_id,
            Audit.status == AuditStatus.OPEN,
            Audit.standard_version_id == body.standard_version_id,
            Audit.kind == body.kind,
            Audit.created_at >= since,
            Audit.firm.has(slug=body.firm),
        )
    ):
        if sorted(p.gtin for p in candidate.products) == gtins:
            return candidate
    return None


@page(bp, "/audits/new", access=AUDITORS, methods=("GET", "POST"))
def new_audit(caller: Caller) -> ResponseReturnValue:
    """Open an audit of a member firm against a published standard version."""
    if request.method == "GET":
        defaults = {
            "kind": AuditKind.INITIAL.value,
            "audited_on": services.today().isoformat(),
            "products-count": "3",
            "sites-count": "2",
        }
        return _new_audit_page(caller, defaults, {}, 200)
    form = request.form
    products = read_rows(form, "products", PRODUCT_FIELDS, default_count=3)
    sites = read_rows(form, "sites", SITE_FIELDS, default_count=2)
    values: dict[str, Any] = {**products.values, **sites.values}
    data: dict[str, Any] = {"products": products.items, "sites": sites.items}
    for name in ("brand", "firm", "standard_version_id", "kind", "due_on", "audited_on"):
        values[name] = (form.get(name) or "").strip()
        if values[name]:
            data[name] = values[name]
    values["summary"] = form.get("summary") or ""
    data["summary"] = values["summary"]
    data.setdefault("brand", "")
    data.setdefault("firm", "")
    rows = RowMap({"products": products.positions, "sites": sites.positions})
    outcome = submit(validate(AuditCreate, data), lambda body: _open(caller, body), rows=rows)
    if outcome.result is None:
        return _new_audit_page(caller, values, outcome.errors, outcome.status)
    set_activity_target("audit", outcome.result.id)
    flash(gettext("Audit %(id)s opened; record its results.", id=outcome.result.id), "success")
    return redirect(url_for("audits_portal.audit", audit_id=outcome.result.id), code=303)


def _open(caller: Caller, body: AuditCreate) -> Audit:
    """Open the audit the form describes, unless the same form was just sent."""
    duplicate = _recent_duplicate(caller, body)
    if duplicate is not None:
        raise Conflict(
            gettext(
                "You opened the same audit moments ago (audit %(id)s); nothing changed.",
                id=duplicate.id,
            ),
            slug="audit-opened-twice",
        )
    return services.create_audit(
        db.session,
        caller,
        brand_slug=body.brand,
        firm_slug=body.firm,
        standard_version_id=body.standard_version_id,
        kind=body.kind,
        products=body.products,
        sites=body.sites,
        due_on=body.due_on,
        audited_on=body.audited_on,
        summary=body.summary,
    )


# ---- one audit -------------------------------------------------------------------------------


def _names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {
        user.id: user.display_name
        for user in db.session.scalars(select(User).where(User.id.in_(ids)))
    }


def _involvement(audit: Audit) -> dict[int, list[str]]:
    """Who took part in the audit, and how (the maker-checker record)."""
    parts: dict[int, list[str]] = {}

    def add(user_id: int | None, what: str) -> None:
        if user_id is not None and what not in parts.setdefault(user_id, []):
            parts[user_id].append(what)

    add(audit.auditor_id, gettext("conducted the audit"))
    for measurement in audit.measurements:
        add(measurement.recorded_by_id, gettext("recorded results"))
    for evidence in audit.evidence:
        add(evidence.uploaded_by_id, gettext("uploaded evidence"))
    add(audit.signed_off_by_id, gettext("signed it off"))
    return parts


def _shown_value(measurement: Any) -> str:
    if measurement.value_bool is not None:
        return gettext("yes") if measurement.value_bool else gettext("no")
    if measurement.value_number is not None:
        return format_number(measurement.value_number)
    return measurement.value_text or ""


def _typed_value(measurement: Any) -> str:
    if measurement.value_bool is not None:
        return YES if measurement.value_bool else NO
    if measurement.value_number is not None:
        return format_number(measurement.value_number)
    return measurement.value_text or ""


def _audit_context(caller: Caller, audit: Audit) -> dict[str, Any]:
    involvement = _involvement(audit)
    decision = audit.decision
    names = _names(set(involvement) | ({decision.decided_by_id} if decision else set()))
    owner = caller.organisation_id == audit.brand.owner_id
    measurements = {m.criterion_id: m for m in audit.measurements}
    return {
        "audit": audit,
        "criteria": audit.standard_version.criteria,
        "measurements": measurements,
        "shown_value": _shown_value,
        "involvement": [(names.get(uid, "?"), parts) for uid, parts in involvement.items()],
        # The rule itself is the service's (participants); the words say how they took part.
        "took_part": caller.user_id in services.participants(audit),
        "my_part": involvement.get(caller.user_id, []),
        "decided_by": names.get(decision.decided_by_id) if decision else None,
        "missing": _criterion_names(audit, services.missing_mandatory(audit)),
        "is_auditor": owner and caller.role == Role.AUDITOR,
        "is_admin": owner and caller.role == Role.ADMIN,
        "may_issue": owner and caller.role in (Role.ADMIN, Role.STAFF),
        "overdue": services.is_overdue(audit),
    }


def _criterion_names(audit: Audit, keys: list[str]) -> str:
    """Criteria by the standard's names in the page language, as one list text."""
    zh = current_locale() == "zh_CN"
    names = {
        c.key: (c.metric_zh if zh else c.metric_en) or c.metric_zh or c.metric_en or c.key
        for c in audit.standard_version.criteria
    }
    return list_text(names.get(key, key) for key in keys)


def _audit_page(
    caller: Caller,
    audit: Audit,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    section: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    shown: dict[str, Any] = {}
    for measurement in audit.measurements:
        shown[f"value-{measurement.criterion.key}"] = _typed_value(measurement)
        shown[f"finding-{measurement.criterion.key}"] = measurement.finding
    shown.update(values or {})
    return (
        render_template(
            "audits/portal/audit.html",
            values=shown,
            errors=errors or {},
            section=section,
            **_audit_context(caller, audit),
        ),
        status,
    )


@page(bp, "/audits/<int:audit_id>", access=ASSOCIATION)
def audit(caller: Caller, audit_id: int) -> ResponseReturnValue:
    """One audit: scope, results, evidence, who did what, and the decision."""
    return _audit_page(caller, services.get_audit(db.session, caller, audit_id))


_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def _measured(criterion: Criterion, raw: str) -> tuple[Any, str | None]:
    """The typed value of a form entry for ``criterion``, or why it cannot be one."""
    if criterion.value_type == ValueType.NUMBER:
        if not _NUMBER.match(raw):
            return None, gettext("Enter a number.")
        return float(raw.replace(",", ".")), None
    if criterion.value_type == ValueType.BOOLEAN:
        if raw not in (YES, NO):
            return None, gettext("Choose yes or no.")
        return raw == YES, None
    return raw, None


@page(bp, "/audits/<int:audit_id>/results", access=AUDITORS, methods=("POST",))
def record_results(caller: Caller, audit_id: int) -> ResponseReturnValue:
    """Record (or correct) the measured value and finding of each criterion given."""
    found = services.get_audit(db.session, caller, audit_id)
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    results: list[dict[str, Any]] = []
    keys: list[str] = []
    for criterion in found.standard_version.criteria:
        raw = (request.form.get(f"value-{criterion.key}") or "").strip()
        finding = request.form.get(f"finding-{criterion.key}") or ""
        values[f"value-{criterion.key}"], values[f"finding-{criterion.key}"] = raw, finding
        if not raw:
            if finding.strip():
                errors[f"value-{criterion.key}"] = gettext("Give the value of this finding.")
            continue
        value, problem = _measured(criterion, raw)
        if problem:
            errors[f"value-{criterion.key}"] = problem
            continue
        results.append({"criterion": criterion.key, "value": value, "finding": finding})
        keys.append(criterion.key)
    form = validate(MeasurementsIn, {"results": results})

    def key_of(field: str) -> str:
        parts = pointer_key(field).split("-")
        if len(parts) == 3 and parts[0] == "results" and parts[1].isdigit():
            return f"{'finding' if parts[2] == 'finding' else 'value'}-{keys[int(parts[1])]}"
        return field

    for field, message in form.errors.items():
        if field == "results" and not results and not errors:
            errors["__all__"] = gettext("Enter at least one result.")
        else:
            errors.setdefault(key_of(field), message)
    if form.model is not None and not errors:
        model = form.model
        outcome = run(
            lambda: services.record_measurements(db.session, caller, audit_id, model.results)
        )
        if outcome.ok:
            flash(gettext("%(count)s results saved.", count=len(results)), "success")
            return redirect(
                url_for("audits_portal.audit", audit_id=audit_id) + "#results", code=303
            )
        errors = {key_of(key): message for key, message in outcome.errors.items()}
        return _audit_page(
            caller, found, values=values, errors=errors, section="results", status=outcome.status
        )
    return _audit_page(caller, found, values=values, errors=errors, section="results", status=422)


def _already_attached(audit: Audit, upload: Any) -> bool:
    """Whether a file with the same bytes is already evidence of the audit."""
    digest = hashlib.sha256(upload.stream.read(services.EVIDENCE_MAX_BYTES + 1)).hexdigest()
    upload.stream.seek(0)
    return any(evidence.file.sha256 == digest for evidence in audit.evidence)


@page(bp, "/audits/<int:audit_id>/evidence", access=AUDITORS, methods=("POST",))
def add_evidence(caller: Caller, audit_id: int) -> ResponseReturnValue:
    """Attach an evidence file (PDF, PNG, JPEG or WebP, at most 10 MiB)."""
    found = services.get_audit(db.session, caller, audit_id)
    upload = request.files.get("file")
    if upload is not None and not upload.filename:
        upload = None
    values = {
        "description": request.form.get("description") or "",
        "criterion": request.form.get("criterion") or "",
    }
    if upload is not None and _already_attached(found, upload):
        # The same file sent twice (a double click, a resent form): keep one copy.
        refusal = {"file": gettext("This file is already attached to the audit; nothing changed.")}
        return _audit_page(
            caller, found, values=values, errors=refusal, section="evidence", status=409
        )
    outcome = run(
        lambda: services.add_evidence(
            db.session,
            caller,
            audit_id,
            upload,
            description=values["description"],
            criterion_key=values["criterion"] or None,
        ),
        values=values,
    )
    if not outcome.ok:
        return _audit_page(
            caller,
            found,
            values=values,
            errors=outcome.errors,
            section="evidence",
            status=outcome.status,
        )
    flash(gettext("The evidence file was attached."), "success")
    return redirect(url_for("audits_portal.audit", audit_id=audit_id) + "#evidence", code=303)


@page(bp, "/audits/<int:audit_id>/sign-off", access=AUDITORS, methods=("GET", "POST"))
def sign_off(caller: Caller, audit_id: int) -> ResponseReturnValue:
    """Confirm, then sign the audit off: the record is locked and goes to a decision."""
    found = services.get_audit(db.session, caller, audit_id)
    outcome = Outcome.blank()
    outcome.values = {
        "audited_on": found.audited_on.isoformat() if found.audited_on else "",
        "summary": found.summary,
    }
    if request.method == "POST":
        outcome = submit(
            parse(SignOffIn, request.form),
            lambda body: services.sign_off(
                db.session, caller, audit_id, audited_on=body.audited_on, summary=body.summary
            ),
        )
        if outcome.ok:
            flash(
                gettext("Audit %(id)s is signed off and awaits a decision.", id=audit_id),
                "success",
            )
            return redirect(url_for("audits_portal.audit", audit_id=audit_id), code=303)
    passing = all(m.passed for m in found.measurements if m.criterion.is_mandatory)
    return (
        render_template(
            "audits/portal/sign_off.html",
            values=outcome.values,
            errors=outcome.errors,
            expected=RESULTS[AuditResult.PASS if passing else AuditResult.FAIL],
            **_audit_context(caller, found),
        ),
        outcome.status,
    )


@page(bp, "/audits/<int:audit_id>/decision", access=ADMINS, methods=("GET", "POST"))
def decide(caller: Caller, audit_id: int) -> ResponseReturnValue:
    """An administrator who took no part in the audit decides: granted or refused."""
    found = services.get_audit(db.session, caller, audit_id)
    outcome = Outcome.blank()
    outcome.values = {"surveillance_interval_months": "12"}
    if request.method == "POST":
        outcome = submit(
            parse(DecisionIn, request.form),
            lambda body: services.decide(
                db.session,
                caller,
                audit_id,
                outcome=body.outcome,
                reason=body.reason,
                surveillance_interval_months=body.surveillance_interval_months,
            ),
        )
        if outcome.result is not None:
            flash(_decided(outcome.result), "success")
            return redirect(url_for("audits_portal.audit", audit_id=audit_id), code=303)
    return (
        render_template(
            "audits/portal/decide.html",
            values=outcome.values,
            errors=outcome.errors,
            outcomes=list(OUTCOMES.items()),
            **_audit_context(caller, found),
        ),
        outcome.status,
    )


def _decided(decision: AuditDecision) -> str:
    if (
        decision.outcome == DecisionOutcome.GRANTED
        and decision.audit.kind == AuditKind.SURVEILLANCE
    ):
        # The firm already holds its certificate: surveillance keeps it, nothing is issued.
        return gettext(
            "Surveillance audit passed; the next surveillance audit is due on %(due)s.",
            due=decision.next_surveillance_due_on,
        )
    if decision.outcome == DecisionOutcome.GRANTED:
        return gettext(
            "Certification granted; the first surveillance audit is due on %(due)s. A "
            "certificate can now be issued.",
            due=decision.next_surveillance_due_on,
        )
    return gettext("Certification refused.")
