"""Audits API: record an audit, its results and evidence, sign it off, decide on it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from app.audits import services
from app.audits.models import Audit, AuditDecision, AuditEvidence, AuditMeasurement
from app.audits.schemas import (
    AuditCreate,
    AuditOut,
    AuditQuery,
    AuditSummary,
    AuditUpdate,
    DecisionIn,
    DecisionOut,
    EvidenceOut,
    MeasurementsIn,
    OverdueQuery,
    SignOffIn,
)
from app.auth.models import OrgKind, Role
from app.auth.principal import Caller, allow
from app.brands.public import absolute
from app.extensions import db
from app.files.services import DOCUMENT_TYPES, file_response, require_multipart
from app.http.api import file_answers, route, set_activity_target
from app.http.pagination import PageResult
from app.http.schemas import Page
from app.standards.evaluation import requirement_text
from app.standards.services import version_state

bp = Blueprint("audits", __name__, url_prefix="/api/v1")

AUDITORS = allow([OrgKind.ASSOCIATION], [Role.AUDITOR])
DECIDERS = allow([OrgKind.ASSOCIATION], [Role.ADMIN])
# Everyone signed in; services narrow to the caller's own firm or the brands it co-builds.
READERS = allow(scope="audits:read")


def _name(user: Any) -> str | None:
    return user.display_name if user is not None else None


def _decision(decision: AuditDecision | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {
        "id": decision.id,
        "audit_id": decision.audit_id,
        "outcome": decision.outcome,
        "reason": decision.reason,
        "decided_by": decision.decided_by.display_name,
        "decided_at": decision.decided_at,
        "surveillance_interval_months": decision.surveillance_interval_months,
        "next_surveillance_due_on": decision.next_surveillance_due_on,
        "url": absolute(f"/api/v1/audit-decisions/{decision.id}"),
    }


def _summary(audit: Audit) -> dict[str, Any]:
    version = audit.standard_version
    return {
        "id": audit.id,
        "brand": audit.brand.slug,
        "firm": audit.firm,
        "standard": {
            "version_id": version.id,
            "code": version.standard.code,
            "version": version.version,
            "content_hash": version.content_hash,
            "status": version_state(version).status.value,
        },
        "kind": audit.kind,
        "status": audit.status,
        "due_on": audit.due_on,
        "audited_on": audit.audited_on,
        "is_overdue": services.is_overdue(audit),
        "follows_audit_id": audit.follows_audit_id,
        "auditor": _name(audit.auditor),
        "overall_result": audit.overall_result,
        "signed_off_at": audit.signed_off_at,
        "decision": _decision(audit.decision),
        "url": absolute(f"/api/v1/audits/{audit.id}"),
    }


def _measurement(measurement: AuditMeasurement) -> dict[str, Any]:
    criterion = measurement.criterion
    value: Any = measurement.value_number
    if measurement.value_bool is not None:
        value = measurement.value_bool
    elif measurement.value_text is not None:
        value = measurement.value_text
    return {
        "criterion": criterion.key,
        "metric_zh": criterion.metric_zh,
        "metric_en": criterion.metric_en,
        "unit": criterion.unit,
        "requirement": requirement_text(criterion, criterion.unit),
        "mandatory": criterion.is_mandatory,
        "value": value,
        "finding": measurement.finding,
        "passed": measurement.passed,
        "recorded_at": measurement.recorded_at,
    }


def _evidence(evidence: AuditEvidence) -> dict[str, Any]:
    return {
        "id": evidence.id,
        "description": evidence.description,
        "criterion_key": evidence.criterion_key,
        "file": evidence.file,
        "url": absolute(f"/api/v1/audits/{evidence.audit_id}/evidence/{evidence.id}"),
    }


def _audit(audit: Audit) -> dict[str, Any]:
    return {
        **_summary(audit),
        "summary": audit.summary,
        "signed_off_by": _name(audit.signed_off_by),
        "products": audit.products,
        "sites": audit.sites,
        "measurements": [_measurement(m) for m in audit.measurements],
        "evidence": [_evidence(e) for e in audit.evidence],
        "missing_mandatory": services.missing_mandatory(audit),
    }


@route(
    bp,
    "/audits",
    methods=("POST",),
    access=AUDITORS,
    body=AuditCreate,
    response=AuditOut,
    status=201,
)
def create_audit(caller: Caller, body: AuditCreate) -> Any:
    """Open an audit of a member firm (products, sites) against a published standard version."""
    audit = services.create_audit(
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
    set_activity_target("audit", audit.id)
    return _audit(audit), {"Location": absolute(f"/api/v1/audits/{audit.id}")}


@route(bp, "/audits", access=READERS, query=AuditQuery, response=Page[AuditSummary])
def list_audits(caller: Caller, query: AuditQuery) -> Any:
    """Audits: a firm sees its own; the owning association and co-builders see the brand's."""
    page = services.list_audits(
        db.session,
        caller,
        brand_slug=query.brand,
        firm_slug=query.firm,
        status=query.status,
        kind=query.kind,
        limit=query.limit,
        cursor=query.cursor,
    )
    return PageResult([_summary(a) for a in page.items], page.limit, page.next_cursor)


@route(
    bp,
    "/audits/overdue",
    access=allow([OrgKind.ASSOCIATION, OrgKind.GOVERNMENT], scope="audits:read"),
    query=OverdueQuery,
    response=list[AuditSummary],
)
def list_overdue(caller: Caller, query: OverdueQuery) -> Any:
    """Audits still open after their due date (surveillance audits first of all)."""
    return [_summary(a) for a in services.list_overdue(db.session, caller, query.as_of)]


@route(bp, "/audits/<int:audit_id>", access=READERS, response=AuditOut)
def get_audit(caller: Caller, audit_id: int) -> Any:
    """One audit with its scope, results, evidence and decision."""
    return _audit(services.get_audit(db.session, caller, audit_id))


@route(
    bp,
    "/audits/<int:audit_id>",
    methods=("PATCH",),
    access=AUDITORS,
    body=AuditUpdate,
    response=AuditOut,
)
def update_audit(caller: Caller, audit_id: int, body: AuditUpdate) -> Any:
    """Change an open audit's date, summary or scope."""
    set_activity_target("audit", audit_id)
    audit = services.update_audit(
        db.session,
        caller,
        audit_id,
        audited_on=body.audited_on,
        summary=body.summary,
        products=body.products,
        sites=body.sites,
    )
    return _audit(audit)


@route(
    bp,
    "/audits/<int:audit_id>/results",
    methods=("PUT",),
    access=AUDITORS,
    body=MeasurementsIn,
    response=AuditOut,
)
def record_results(caller: Caller, audit_id: int, body: MeasurementsIn) -> Any:
    """Record or correct measured values and findings; pass/fail is computed per criterion."""
    set_activity_target("audit", audit_id)
    return _audit(services.record_measurements(db.session, caller, audit_id, body.results))


@route(
    bp,
    "/audits/<int:audit_id>/evidence",
    methods=("POST",),
    access=AUDITORS,
    response=EvidenceOut,
    status=201,
    body_content_types=("multipart/form-data",),
    responses={413: "The file is over 10 MiB", 415: "Not a PDF, PNG, JPEG or WebP file"},
)
def add_evidence(caller: Caller, audit_id: int) -> Any:
    """Attach an evidence file as multipart/form-data (``file``, optional ``description`` and
    ``criterion``): PDF, PNG, JPEG or WebP, at most 10 MiB, stored with its SHA-256."""
    require_multipart()
    set_activity_target("audit", audit_id)
    evidence = services.add_evidence(
        db.session,
        caller,
        audit_id,
        request.files.get("file"),
        description=request.form.get("description", ""),
        criterion_key=request.form.get("criterion") or None,
    )
    return _evidence(evidence)


@route(
    bp,
    "/audits/<int:audit_id>/evidence/<int:evidence_id>",
    access=READERS,
    responses={
        200: "The evidence file (PDF, PNG, JPEG or WebP), as an attachment",
        304: "Not modified (ETag)",
    },
    also_answers=file_answers(*sorted(DOCUMENT_TYPES)),
)
def get_evidence(caller: Caller, audit_id: int, evidence_id: int) -> Any:
    """Download an evidence file (its ETag is its SHA-256)."""
    evidence = services.get_evidence(db.session, caller, audit_id, evidence_id)
    return file_response(evidence.file, download=True)


@route(
    bp,
    "/audits/<int:audit_id>/sign-off",
    methods=("POST",),
    access=AUDITORS,
    body=SignOffIn,
    response=AuditOut,
)
def sign_off(caller: Caller, audit_id: int, body: SignOffIn) -> Any:
    """The auditor signs the audit off: the overall result is computed and the record locked."""
    set_activity_target("audit", audit_id)
    audit = services.sign_off(
        db.session, caller, audit_id, audited_on=body.audited_on, summary=body.summary
    )
    return _audit(audit)


@route(
    bp,
    "/audits/<int:audit_id>/decision",
    methods=("POST",),
    access=DECIDERS,
    body=DecisionIn,
    response=DecisionOut,
    status=201,
)
def decide(caller: Caller, audit_id: int, body: DecisionIn) -> Any:
    """Grant or refuse certification on a signed-off audit, with a reason. Someone who took
    part in the audit cannot decide on it (403 own-audit-decision)."""
    set_activity_target("audit", audit_id)
    decision = services.decide(
        db.session,
        caller,
        audit_id,
        outcome=body.outcome,
        reason=body.reason,
        surveillance_interval_months=body.surveillance_interval_months,
    )
    return _decision(decision)


@route(bp, "/audit-decisions/<int:decision_id>", access=READERS, response=DecisionOut)
def get_decision(caller: Caller, decision_id: int) -> Any:
    """One certification decision."""
    return _decision(services.get_decision(db.session, caller, decision_id))
