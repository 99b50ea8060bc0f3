"""Association portal pages for standards: the list of standards and versions, the draft
editor (clauses and criteria, no JavaScript needed), publication and withdrawal with a
confirmation step, and a side-by-side comparison of two versions."""

from __future__ import annotations

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
    read_rows,
    row_values,
    run,
    submit,
    validate,
)
from app.auth.models import OrgKind, Role
from app.auth.principal import Caller, allow
from app.brands import services as brands
from app.brands.models import Brand
from app.db import utcnow
from app.errors import NotFound
from app.extensions import db
from app.http.api import set_activity_target
from app.http.converters import id_param
from app.http.web import page
from app.i18n import current_locale
from app.portal.nav import nav_item
from app.portal.tables import Column, Filter, build_table, matching_text
from app.standards import services
from app.standards.evaluation import requirement_text
from app.standards.models import Comparator, Standard, StandardVersion, ValueType, VersionStatus
from app.standards.schemas import StandardCreate, VersionContent, VersionCreate, WithdrawIn

bp = Blueprint("standards_portal", __name__, url_prefix="/portal", template_folder="templates")

ASSOCIATION = allow([OrgKind.ASSOCIATION])
# Staff prepare drafts; only admins create standards, publish and withdraw.
DRAFTERS = allow([OrgKind.ASSOCIATION], [Role.ADMIN, Role.STAFF])
ADMINS = allow([OrgKind.ASSOCIATION], [Role.ADMIN])
SECTION = lazy_gettext("Association")

nav_item(SECTION, lazy_gettext("Standards"), "standards_portal.standards", ASSOCIATION, order=130)

CLAUSE_FIELDS = ("number", "title_zh", "title_en", "requirement_zh", "requirement_en")
CRITERION_FIELDS = (
    "key",
    "clause",
    "metric_zh",
    "metric_en",
    "unit",
    "method",
    "type",
    "comparator",
    "threshold",
    "threshold_max",
    "allowed_values",
)
# Selects always send a value; a row counts as filled when one of these has text.
CRITERION_TEXT = tuple(f for f in CRITERION_FIELDS if f not in ("type", "comparator"))
BLANK_CLAUSES = 2
BLANK_CRITERIA = 3

VERSION_STATUSES = {
    VersionStatus.DRAFT: lazy_gettext("Draft"),
    VersionStatus.PUBLISHED: lazy_gettext("Published, in force"),
    VersionStatus.SUPERSEDED: lazy_gettext("Superseded"),
    VersionStatus.WITHDRAWN: lazy_gettext("Withdrawn"),
}
VALUE_TYPES = {
    ValueType.NUMBER: lazy_gettext("Number with a limit"),
    ValueType.CHOICE: lazy_gettext("One of listed values"),
    ValueType.BOOLEAN: lazy_gettext("Yes/no finding"),
}
COMPARATORS = {
    Comparator.LE: lazy_gettext("at most (≤)"),
    Comparator.LT: lazy_gettext("below (<)"),
    Comparator.GE: lazy_gettext("at least (≥)"),
    Comparator.GT: lazy_gettext("above (>)"),
    Comparator.EQ: lazy_gettext("exactly (=)"),
    Comparator.BETWEEN: lazy_gettext("between (threshold to maximum)"),
}


# Field paths of the canonical document, as the comparison names them.
DIFF_FIELDS = {
    "version": lazy_gettext("Version"),
    "effective_from": lazy_gettext("Effective from"),
    "standard.code": lazy_gettext("Standard code"),
    "standard.title.zh": lazy_gettext("Title (Chinese)"),
    "standard.title.en": lazy_gettext("Title (English)"),
    "title.zh": lazy_gettext("Title (Chinese)"),
    "title.en": lazy_gettext("Title (English)"),
    "requirement.zh": lazy_gettext("Requirement (Chinese)"),
    "requirement.en": lazy_gettext("Requirement (English)"),
    "metric.zh": lazy_gettext("Criterion (Chinese)"),
    "metric.en": lazy_gettext("Criterion (English)"),
    "clause": lazy_gettext("Clause number"),
    "unit": lazy_gettext("Unit"),
    "method": lazy_gettext("Test method"),
    "type": lazy_gettext("Measured as"),
    "comparator": lazy_gettext("Limit (numbers)"),
    "threshold": lazy_gettext("Threshold"),
    "threshold_max": lazy_gettext("Maximum (between)"),
    "allowed_values": lazy_gettext("Allowed values"),
    "mandatory": lazy_gettext("mandatory"),
}


def _status_label(version: StandardVersion) -> str:
    """A version's status as of now; a scheduled version says the day it takes effect."""
    state = services.version_state(version)
    if state.scheduled:
        assert version.effective_from is not None
        return gettext(
            "Published, takes effect on %(date)s", date=version.effective_from.isoformat()
        )
    return str(VERSION_STATUSES[state.status])


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "diff_field_label": lambda path: str(DIFF_FIELDS.get(path, path)),
        "version_status_label": _status_label,
        "value_types": VALUE_TYPES,
        "comparators": COMPARATORS,
        "requirement_text": requirement_text,
    }


# ---- reading -------------------------------------------------------------------------------


def _insider_brands(caller: Caller) -> list[Brand]:
    ids = brands.co_built_brand_ids(db.session, caller)
    return list(db.session.scalars(select(Brand).where(Brand.id.in_(ids or {0}))))


def _standard(caller: Caller, standard_id: int) -> Standard:
    """A standard of a brand the association owns or co-builds; others are not found."""
    standard = db.session.get(Standard, standard_id)
    if standard is None or standard.brand_id not in brands.co_built_brand_ids(db.session, caller):
        raise NotFound(gettext("No standard %(id)s among your brands.", id=standard_id))
    return standard


def _version(caller: Caller, version_id: int) -> StandardVersion:
    version = db.session.get(StandardVersion, version_id)
    if version is None or version.standard.brand_id not in brands.co_built_brand_ids(
        db.session, caller
    ):
        raise NotFound(gettext("No standard version %(id)s among your brands.", id=version_id))
    return version


def _may(caller: Caller, standard: Standard, roles: tuple[Role, ...]) -> bool:
    return caller.organisation_id == standard.brand.owner_id and caller.role in roles


def _list_page(
    caller: Caller, values: dict[str, Any], errors: dict[str, str], status: int
) -> ResponseReturnValue:
    owned = [b for b in _insider_brands(caller) if b.owner_id == caller.organisation_id]
    insiders = _insider_brands(caller)
    title = Standard.title_zh if current_locale() == "zh_CN" else Standard.title_en
    table = build_table(
        db.session,
        select(Standard).where(Standard.brand_id.in_([b.id for b in insiders] or [0])),
        columns=[
            Column("code", lazy_gettext("Standard code"), sort=Standard.code),
            Column("title", lazy_gettext("Title"), sort=title),
            Column("brand", lazy_gettext("Brand"), sort=Standard.brand_id),
            Column("versions", lazy_gettext("Versions")),
        ],
        filters=[
            Filter(
                "q",
                lazy_gettext("Code or title"),
                matching_text(Standard.code, Standard.title_zh, Standard.title_en),
            ),
            *(
                [
                    Filter(
                        "brand",
                        lazy_gettext("Brand"),
                        lambda s, v: s.where(
                            Standard.brand_id.in_(select(Brand.id).where(Brand.slug == v))
                        ),
                        choices=[(b.slug, local_name(b)) for b in insiders],
                    )
                ]
                if len(insiders) > 1
                else []
            ),
        ],
        args=request.args,
        default_sort="code",
        default_descending=False,
    )
    return (
        render_template(
            "standards/portal/standards.html",
            table=table,
            brand_options=[(b.slug, b.name_zh + " · " + b.name_en) for b in owned],
            may_create=caller.role == Role.ADMIN and bool(owned),
            may_draft=caller.role in (Role.ADMIN, Role.STAFF),
            values=values,
            errors=errors,
        ),
        status,
    )


@page(bp, "/standards", access=ASSOCIATION)
def standards(caller: Caller) -> ResponseReturnValue:
    """The standards of the association's brands and their versions."""
    return _list_page(caller, {}, {}, 200)


@page(bp, "/standards/new", access=ADMINS, methods=("POST",))
def create_standard(caller: Caller) -> ResponseReturnValue:
    """Create a standard (its first version is drafted next)."""
    brand_slug = (request.form.get("brand") or "").strip()
    form = parse(StandardCreate, request.form)
    form.values["brand"] = brand_slug
    if not brand_slug:
        form.errors["brand"] = gettext("Required.")
        form.model = None
    outcome = submit(
        form,
        lambda body: services.create_standard(db.session, caller, brand_slug, **body.model_dump()),
    )
    if outcome.result is None:
        return _list_page(caller, outcome.values, outcome.errors, outcome.status)
    set_activity_target("standard", outcome.result.id)
    flash(gettext("Standard %(code)s created; draft its first version.", code=outcome.result.code))
    return redirect(
        url_for("standards_portal.new_version", standard_id=outcome.result.id), code=303
    )


@page(bp, "/standards/<int:standard_id>", access=ASSOCIATION)
def standard(caller: Caller, standard_id: int) -> ResponseReturnValue:
    """A standard's versions, with what each version's status allows."""
    found = _standard(caller, standard_id)
    return render_template(
        "standards/portal/standard.html",
        standard=found,
        versions=list(reversed(found.versions)),
        may_draft=_may(caller, found, (Role.ADMIN, Role.STAFF)),
        may_publish=_may(caller, found, (Role.ADMIN,)),
    )


@page(bp, "/standard-versions/<int:version_id>", access=ASSOCIATION)
def version(caller: Caller, version_id: int) -> ResponseReturnValue:
    """One version's clauses and criteria (drafts included)."""
    found = _version(caller, version_id)
    standard = found.standard
    others = [v for v in standard.versions if v.id != found.id]
    return render_template(
        "standards/portal/version.html",
        version=found,
        standard=standard,
        others=others,
        may_draft=_may(caller, standard, (Role.ADMIN, Role.STAFF)),
        may_publish=_may(caller, standard, (Role.ADMIN,)),
        published_by=_user_name(found.published_by_id),
        created_by=_user_name(found.created_by_id),
    )


def _user_name(user_id: int | None) -> str | None:
    from app.auth.models import User

    user = db.session.get(User, user_id) if user_id else None
    return user.display_name if user else None


# ---- the draft editor ----------------------------------------------------------------------


def _content_values(version: StandardVersion) -> dict[str, str]:
    """Form values showing a version's content (to edit it, or to start from it)."""
    values = {
        "effective_from": version.effective_from.isoformat() if version.effective_from else ""
    }
    values.update(
        row_values(
            "clauses",
            CLAUSE_FIELDS,
            [{name: getattr(c, name) for name in CLAUSE_FIELDS} for c in version.clauses],
        )
    )
    values.update(
        row_values(
            "criteria",
            (*CRITERION_FIELDS, "mandatory"),
            [
                {
                    "key": c.key,
                    "clause": c.clause_number,
                    "metric_zh": c.metric_zh,
                    "metric_en": c.metric_en,
                    "unit": c.unit,
                    "method": c.method,
                    "type": c.value_type.value,
                    "comparator": c.comparator.value if c.comparator else None,
                    "threshold": c.threshold,
                    "threshold_max": c.threshold_max,
                    "allowed_values": c.allowed_values,
                    "mandatory": c.is_mandatory,
                }
                for c in version.criteria
            ],
        )
    )
    values["clauses-count"] = str(len(version.clauses) + BLANK_CLAUSES)
    values["criteria-count"] = str(len(version.criteria) + BLANK_CRITERIA)
    for index in range(len(version.criteria), len(version.criteria) + BLANK_CRITERIA):
        values[f"criteria-{index}-mandatory"] = "1"
    return values


def _blank_values() -> dict[str, str]:
    values = {"clauses-count": "3", "criteria-count": "5"}
    for index in range(5):
        values[f"criteria-{index}-mandatory"] = "1"
    return values


def _read_editor(new: bool) -> tuple[dict[str, Any], dict[str, str], RowMap]:
    """The editor's form as (data to validate, typed values with room for more rows, the
    form row of each submitted item)."""
    form = request.form
    clauses = read_rows(form, "clauses", CLAUSE_FIELDS, default_count=3)
    criteria = read_rows(
        form,
        "criteria",
        CRITERION_FIELDS,
        default_count=5,
        text_fields=CRITERION_TEXT,
        checkboxes=("mandatory",),
        lists=("allowed_values",),
    )
    for item in criteria.items:
        if item.get("type") != ValueType.NUMBER:
            item.pop("comparator", None)  # the select keeps its last choice when hidden
    values: dict[str, str] = {**clauses.values, **criteria.values}
    data: dict[str, Any] = {"clauses": clauses.items, "criteria": criteria.items}
    for name in ("version", "effective_from") if new else ("effective_from",):
        values[name] = (form.get(name) or "").strip()
        if values[name]:
            data[name] = values[name]
    if new and "version" not in data:
        data["version"] = ""
    # Shown again, the form keeps a few empty rows to add more.
    if len(clauses.positions) >= clauses.count - 1:
        values["clauses-count"] = str(clauses.count + BLANK_CLAUSES)
    if len(criteria.positions) >= criteria.count - 1:
        values["criteria-count"] = str(criteria.count + BLANK_CRITERIA)
        for index in range(criteria.count, criteria.count + BLANK_CRITERIA):
            values[f"criteria-{index}-mandatory"] = "1"
    rows = RowMap({"clauses": clauses.positions, "criteria": criteria.positions})
    return data, values, rows


def _editor(
    standard: Standard,
    *,
    version: StandardVersion | None,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> ResponseReturnValue:
    return (
        render_template(
            "standards/portal/editor.html",
            standard=standard,
            version=version,
            values=values,
            errors=errors,
            clause_rows=int(values.get("clauses-count", "3")),
            criterion_rows=int(values.get("criteria-count", "5")),
        ),
        status,
    )


@page(bp, "/standards/<int:standard_id>/versions/new", access=DRAFTERS, methods=("GET", "POST"))
def new_version(caller: Caller, standard_id: int) -> ResponseReturnValue:
    """Draft a new version; ``?from=<version id>`` starts from an existing version's content."""
    found = _standard(caller, standard_id)
    if request.method == "GET":
        source_id = id_param(request.args, "from")
        values = _content_values(_version(caller, source_id)) if source_id else _blank_values()
        values["effective_from"] = "" if source_id else values.get("effective_from", "")
        return _editor(found, version=None, values=values, errors={})
    data, values, rows = _read_editor(new=True)
    outcome = submit(
        validate(VersionCreate, data),
        lambda body: services.create_version(
            db.session,
            caller,
            standard_id,
            version=body.version,
            effective_from=body.effective_from,
            clauses=body.clauses,
            criteria=body.criteria,
        ),
        rows=rows,
    )
    if outcome.result is None:
        return _editor(
            found, version=None, values=values, errors=outcome.errors, status=outcome.status
        )
    set_activity_target("standard_version", outcome.result.id)
    flash(gettext("Draft %(version)s saved.", version=outcome.result.version), "success")
    return redirect(
        url_for("standards_portal.edit_version", version_id=outcome.result.id), code=303
    )


@page(bp, "/standard-versions/<int:version_id>/edit", access=DRAFTERS, methods=("GET", "POST"))
def edit_version(caller: Caller, version_id: int) -> ResponseReturnValue:
    """Edit a draft's clauses and criteria (published versions never change)."""
    found = _version(caller, version_id)
    if found.status != VersionStatus.DRAFT:
        flash(
            gettext(
                "Version %(version)s is %(status)s and can no longer change; start a new draft "
                "from it instead.",
                version=found.version,
                status=VERSION_STATUSES[found.status],
            ),
            "error",
        )
        return redirect(url_for("standards_portal.version", version_id=version_id), code=303)
    if request.method == "GET":
        return _editor(found.standard, version=found, values=_content_values(found), errors={})
    data, values, rows = _read_editor(new=False)
    outcome = submit(
        validate(VersionContent, data),
        lambda body: services.replace_draft(
            db.session,
            caller,
            version_id,
            effective_from=body.effective_from,
            clauses=body.clauses,
            criteria=body.criteria,
        ),
        rows=rows,
    )
    if not outcome.ok:
        return _editor(
            found.standard,
            version=found,
            values=values,
            errors=outcome.errors,
            status=outcome.status,
        )
    flash(gettext("Draft %(version)s saved.", version=found.version), "success")
    return redirect(url_for("standards_portal.edit_version", version_id=version_id), code=303)


# ---- publication, withdrawal, discarding -----------------------------------------------------


def _confirmation(
    template: str, version: StandardVersion, outcome: Outcome[Any], **context: Any
) -> ResponseReturnValue:
    return (
        render_template(
            template,
            version=version,
            standard=version.standard,
            values=outcome.values,
            errors=outcome.errors,
            **context,
        ),
        outcome.status,
    )


@page(bp, "/standard-versions/<int:version_id>/publish", access=ADMINS, methods=("GET", "POST"))
def publish_version(caller: Caller, version_id: int) -> ResponseReturnValue:
    """Confirm, then publish a draft: it freezes, gets its content hash and supersedes the
    version in force."""
    found = _version(caller, version_id)
    outcome = Outcome.blank()
    if request.method == "POST":
        outcome = run(lambda: services.publish_version(db.session, caller, version_id))
        if outcome.result is not None:
            flash(
                gettext(
                    "Version %(version)s is published. Content hash: %(hash)s",
                    version=outcome.result.version,
                    hash=outcome.result.content_hash,
                ),
                "success",
            )
            return redirect(url_for("standards_portal.version", version_id=version_id), code=303)
    effective = found.effective_from
    return _confirmation(
        "standards/portal/publish.html",
        found,
        outcome,
        current=services.current_version(db.session, found.standard),
        # A version whose effective_from is a later day is scheduled: it takes effect then.
        takes_effect_on=effective if effective and effective > utcnow().date() else None,
    )


@page(bp, "/standard-versions/<int:version_id>/withdraw", access=ADMINS, methods=("GET", "POST"))
def withdraw_version(caller: Caller, version_id: int) -> ResponseReturnValue:
    """Confirm, then withdraw a published or superseded version, with a reason (final)."""
    found = _version(caller, version_id)
    outcome = Outcome.blank()
    if request.method == "POST":
        outcome = submit(
            parse(WithdrawIn, request.form),
            lambda body: services.withdraw_version(db.session, caller, version_id, body.reason),
        )
        if outcome.ok:
            flash(gettext("Version %(version)s was withdrawn.", version=found.version), "success")
            return redirect(url_for("standards_portal.version", version_id=version_id), code=303)
    return _confirmation("standards/portal/withdraw.html", found, outcome)


@page(bp, "/standard-versions/<int:version_id>/discard", access=DRAFTERS, methods=("GET", "POST"))
def discard_version(caller: Caller, version_id: int) -> ResponseReturnValue:
    """Confirm, then delete a draft (published versions stay for ever)."""
    found = _version(caller, version_id)
    standard_id, label = found.standard_id, found.version
    outcome = Outcome.blank()
    if request.method == "POST":
        outcome = run(lambda: services.delete_draft(db.session, caller, version_id))
        if outcome.ok:
            flash(gettext("Draft %(version)s was discarded.", version=label), "success")
            return redirect(url_for("standards_portal.standard", standard_id=standard_id), code=303)
    return _confirmation("standards/portal/discard.html", found, outcome)


# ---- comparing versions ------------------------------------------------------------------


@page(bp, "/standards/<int:standard_id>/compare", access=ASSOCIATION)
def compare(caller: Caller, standard_id: int) -> ResponseReturnValue:
    """Two versions side by side: what was added, removed and changed."""
    found = _standard(caller, standard_id)
    versions = found.versions
    ids = [v.id for v in versions]
    # Not looked up: a number that is no version of this standard picks the default.
    first = request.args.get("from", type=int)
    second = request.args.get("to", type=int)
    if first not in ids:
        first = ids[-2] if len(ids) > 1 else (ids[0] if ids else None)
    if second not in ids:
        second = ids[-1] if ids else None
    diff = None
    if first is not None and second is not None:
        diff = services.diff_versions(db.session, caller, first, second)
    return render_template(
        "standards/portal/compare.html",
        standard=found,
        versions=versions,
        first=first,
        second=second,
        diff=diff,
    )
