"""Audits, decisions and the surveillance schedule.

Who may do what: auditors of the association that owns the brand record audits (scope,
results, evidence, sign-off); its admins decide, and never on an audit they took part in
(maker-checker); a firm reads its own audits; co-building government bodies and alliances read
the brand's audits. Services take the session, flush and never commit.

For certificates, :func:`get_granted_decision` returns everything a certificate states about
the decision it rests on, and :func:`surveillance_status` the surveillance schedule that keeps
it in force.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audits.errors import (
    AuditIncomplete,
    AuditLocked,
    DecisionNotGranted,
    DecisionRefused,
    InvalidMeasurement,
    InvalidScope,
    NotAMember,
    OwnAuditDecision,
    VersionNotAuditable,
)
from app.audits.models import (
    Audit,
    AuditDecision,
    AuditEvidence,
    AuditKind,
    AuditMeasurement,
    AuditProduct,
    AuditResult,
    AuditSite,
    AuditStatus,
    DecisionOutcome,
)
from app.audits.schemas import MeasurementIn, ProductIn, SiteIn
from app.auth.models import Organisation, OrgKind, Role
from app.auth.principal import Caller
from app.brands import services as brands
from app.db import utcnow
from app.errors import FieldError, NotFound
from app.files.services import DOCUMENT_TYPES, Upload, store_upload
from app.gs1.identifiers import GS1SyntaxError, normalize_gtin, validate_gln
from app.http.pagination import PageResult, paginate
from app.standards.evaluation import passes, value_type_error
from app.standards.models import StandardVersion, VersionStatus
from app.standards.services import version_state

EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
AUDITORS = (Role.AUDITOR,)


def today() -> date:
    return utcnow().date()


def add_months(start: date, months: int) -> date:
    """``start`` plus whole months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


# ---- reading ---------------------------------------------------------------------------


def _audit_query(session: Session, caller: Caller) -> Any:
    statement = select(Audit)
    if caller.org_kind == OrgKind.ENTERPRISE:
        return statement.where(Audit.firm_id == caller.organisation_id)
    return statement.where(Audit.brand_id.in_(brands.co_built_brand_ids(session, caller) or {0}))


def get_audit(session: Session, caller: Caller, audit_id: int) -> Audit:
    """An audit the caller may see: its own firm's, or of a brand it owns or co-builds."""
    audit = session.scalar(_audit_query(session, caller).where(Audit.id == audit_id))
    if audit is None:
        raise NotFound(f"No audit {audit_id}.", slug="audit-not-found")
    return audit


def list_audits(
    session: Session,
    caller: Caller,
    *,
    brand_slug: str | None = None,
    firm_slug: str | None = None,
    status: AuditStatus | None = None,
    kind: AuditKind | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> PageResult[Audit]:
    """Audits the caller may see, newest first."""
    statement = _audit_query(session, caller)
    if brand_slug is not None:
        statement = statement.where(Audit.brand.has(slug=brand_slug))
    if firm_slug is not None:
        statement = statement.where(Audit.firm.has(slug=firm_slug))
    if status is not None:
        statement = statement.where(Audit.status == status)
    if kind is not None:
        statement = statement.where(Audit.kind == kind)
    return paginate(session, statement, Audit.id, limit=limit, cursor=cursor)


def is_overdue(audit: Audit, as_of: date | None = None) -> bool:
    """An audit not yet carried out (still open) after its due date."""
    return (
        audit.status == AuditStatus.OPEN
        and audit.due_on is not None
        and audit.due_on < (as_of or today())
    )


def list_overdue(session: Session, caller: Caller, as_of: date | None = None) -> list[Audit]:
    """Open audits past their due date for the brands the caller owns or co-builds, most
    overdue first."""
    as_of = as_of or today()
    return list(
        session.scalars(
            _audit_query(session, caller)
            .where(Audit.status == AuditStatus.OPEN, Audit.due_on < as_of)
            .order_by(Audit.due_on, Audit.id)
        )
    )


def missing_mandatory(audit: Audit) -> list[str]:
    measured = {m.criterion_id for m in audit.measurements}
    return [
        c.key for c in audit.standard_version.criteria if c.is_mandatory and c.id not in measured
    ]


# ---- recording -------------------------------------------------------------------------


def _scope(
    products: Sequence[ProductIn], sites: Sequence[SiteIn]
) -> tuple[list[AuditProduct], list[AuditSite]]:
    errors: list[FieldError] = []
    seen: set[str] = set()
    scoped_products = []
    for index, product in enumerate(products):
        try:
            gtin = normalize_gtin(product.gtin.strip(), f"/products/{index}/gtin")
        except GS1SyntaxError as error:
            errors.append(FieldError(error.field, error.rule, error.message))
            continue
        if gtin in seen:
            errors.append(FieldError(f"/products/{index}/gtin", "unique", f"GTIN {gtin} twice"))
        seen.add(gtin)
        scoped_products.append(
            AuditProduct(gtin=gtin, name_zh=product.name_zh, name_en=product.name_en)
        )
    scoped_sites = []
    for index, site in enumerate(sites):
        gln = None
        if site.gln:
            try:
                gln = validate_gln(site.gln.strip(), f"/sites/{index}/gln")
            except GS1SyntaxError as error:
                errors.append(FieldError(error.field, error.rule, error.message))
        scoped_sites.append(AuditSite(name=site.name, address=site.address, gln=gln))
    if errors:
        raise InvalidScope("The audit's scope is not valid.", errors=errors)
    return scoped_products, scoped_sites


def _check_auditable(version: StandardVersion, kind: AuditKind) -> None:
    """Audits apply a published standard. A surveillance audit may still apply the superseded
    version the firm was certified against; new certifications use the version in force, or
    a version scheduled to take effect later (firms are audited ahead of a new standard)."""
    allowed = {VersionStatus.PUBLISHED}
    if kind == AuditKind.SURVEILLANCE:
        allowed.add(VersionStatus.SUPERSEDED)
    status = version_state(version).status
    if status not in allowed:
        rule = (
            "published_only"
            if status in (VersionStatus.DRAFT, VersionStatus.WITHDRAWN)
            else "current_version"
        )
        raise VersionNotAuditable(
            f"Version {version.version} of {version.standard.code} is {status}; "
            f"{kind} audits apply a {' or '.join(sorted(allowed))} version.",
            errors=[FieldError("/standard_version_id", rule, f"the version is {status}")],
        )


def create_audit(
    session: Session,
    caller: Caller,
    *,
    brand_slug: str,
    firm_slug: str,
    standard_version_id: int,
    kind: AuditKind,
    products: Sequence[ProductIn],
    sites: Sequence[SiteIn],
    due_on: date | None = None,
    audited_on: date | None = None,
    summary: str = "",
) -> Audit:
    """An auditor of the owning association opens an audit of a member firm against a
    published version of one of the brand's standards."""
    brand = brands.get_brand(session, brand_slug)
    brands.require_owner(caller, brand, roles=AUDITORS)
    firm = brands.find_firm(session, firm_slug)
    if firm is None:
        raise NotFound(
            f"No firm {firm_slug!r}.",
            errors=[FieldError("/firm", "exists", "no enterprise with this slug")],
        )
    if brands.approved_membership(session, brand.id, firm.id) is None:
        raise NotAMember(
            f"{firm.slug} is not an approved member of {brand.slug}; only members are audited.",
            errors=[FieldError("/firm", "approved_member", "the firm is not a current member")],
        )
    version = session.get(StandardVersion, standard_version_id)
    if version is None or version.standard.brand_id != brand.id:
        raise NotFound(
            f"No standard version {standard_version_id} of brand {brand.slug!r}.",
            errors=[FieldError("/standard_version_id", "exists", "not a version of this brand")],
        )
    _check_auditable(version, kind)
    scoped_products, scoped_sites = _scope(products, sites)
    audit = Audit(
        brand_id=brand.id,
        firm_id=firm.id,
        standard_version_id=version.id,
        kind=kind,
        status=AuditStatus.OPEN,
        due_on=due_on,
        audited_on=audited_on,
        auditor_id=caller.user_id,
        summary=summary,
        products=scoped_products,
        sites=scoped_sites,
    )
    session.add(audit)
    session.flush()
    return audit


def _open_for_recording(session: Session, caller: Caller, audit_id: int) -> Audit:
    audit = get_audit(session, caller, audit_id)
    brands.require_owner(caller, audit.brand, roles=AUDITORS)
    if audit.status != AuditStatus.OPEN:
        raise AuditLocked(
            f"Audit {audit.id} is {audit.status}; its record no longer changes.",
            errors=[FieldError("status", "open_only", f"the audit is {audit.status}")],
        )
    if audit.auditor_id is None:
        # A scheduled surveillance audit belongs to whoever starts it.
        audit.auditor_id = caller.user_id
    return audit


def update_audit(
    session: Session,
    caller: Caller,
    audit_id: int,
    *,
    audited_on: date | None = None,
    summary: str | None = None,
    products: Sequence[ProductIn] | None = None,
    sites: Sequence[SiteIn] | None = None,
) -> Audit:
    """Change an open audit's date, summary or scope."""
    audit = _open_for_recording(session, caller, audit_id)
    if audited_on is not None:
        audit.audited_on = audited_on
    if summary is not None:
        audit.summary = summary
    if products is not None or sites is not None:
        new_products, new_sites = _scope(products or [], sites or [])
        if products is not None:
            audit.products = []
            session.flush()
            audit.products = new_products
        if sites is not None:
            audit.sites = new_sites
    session.flush()
    return audit


def record_measurements(
    session: Session, caller: Caller, audit_id: int, results: Sequence[MeasurementIn]
) -> Audit:
    """Record (or correct) measured values and findings; pass/fail is computed from each
    criterion's comparator and threshold, or its allowed values. All or nothing: one value of
    the wrong type refuses the whole request (``invalid-measurement``)."""
    audit = _open_for_recording(session, caller, audit_id)
    criteria = {c.key: c for c in audit.standard_version.criteria}
    existing = {m.criterion_id: m for m in audit.measurements}
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, item in enumerate(results):
        criterion = criteria.get(item.criterion)
        if criterion is None:
            errors.append(
                FieldError(
                    f"/results/{index}/criterion",
                    "criterion_exists",
                    f"no criterion {item.criterion!r} in {audit.standard_version.standard.code} "
                    f"version {audit.standard_version.version}",
                )
            )
            continue
        if item.criterion in seen:
            errors.append(FieldError(f"/results/{index}/criterion", "unique", "given twice"))
        seen.add(item.criterion)
        problem = value_type_error(criterion, item.value)
        if problem is not None:
            errors.append(
                FieldError(f"/results/{index}/value", f"value_type_{criterion.value_type}", problem)
            )
    if errors:
        raise InvalidMeasurement("Some results do not fit their criteria.", errors=errors)
    now = utcnow()
    for item in results:
        criterion = criteria[item.criterion]
        measurement = existing.get(criterion.id)
        if measurement is None:
            measurement = AuditMeasurement(criterion=criterion, criterion_id=criterion.id)
            audit.measurements.append(measurement)
        value = item.value
        measurement.value_number = float(value) if criterion.value_type == "number" else None
        measurement.value_text = value.strip() if isinstance(value, str) else None
        measurement.value_bool = value if isinstance(value, bool) else None
        measurement.finding = item.finding
        measurement.passed = passes(criterion, value)
        measurement.recorded_by_id = caller.user_id
        measurement.recorded_at = now
    session.flush()
    return audit


def add_evidence(
    session: Session,
    caller: Caller,
    audit_id: int,
    upload: Upload | None,
    *,
    description: str = "",
    criterion_key: str | None = None,
) -> AuditEvidence:
    """Attach an evidence file (PDF, PNG, JPEG or WebP, at most 10 MiB) to an open audit; it
    is stored with its SHA-256 digest."""
    audit = _open_for_recording(session, caller, audit_id)
    if criterion_key and criterion_key not in {c.key for c in audit.standard_version.criteria}:
        raise InvalidMeasurement(
            f"No criterion {criterion_key!r} in this audit's standard version.",
            errors=[FieldError("criterion", "criterion_exists", "unknown criterion key")],
        )
    if len(description) > 500:
        raise InvalidMeasurement(
            "The description is too long.",
            errors=[FieldError("description", "max_length", "at most 500 characters")],
        )
    stored = store_upload(
        session,
        upload,
        allowed_types=DOCUMENT_TYPES,
        max_bytes=EVIDENCE_MAX_BYTES,
        organisation_id=caller.organisation_id,
        uploaded_by_id=caller.user_id,
    )
    evidence = AuditEvidence(
        file_id=stored.id,
        description=description,
        criterion_key=criterion_key or None,
        uploaded_by_id=caller.user_id,
    )
    audit.evidence.append(evidence)
    session.flush()
    return evidence


def get_evidence(
    session: Session, caller: Caller, audit_id: int, evidence_id: int
) -> AuditEvidence:
    audit = get_audit(session, caller, audit_id)
    for evidence in audit.evidence:
        if evidence.id == evidence_id:
            return evidence
    raise NotFound(f"No evidence {evidence_id} in audit {audit_id}.")


def sign_off(
    session: Session,
    caller: Caller,
    audit_id: int,
    *,
    audited_on: date | None = None,
    summary: str | None = None,
) -> Audit:
    """The auditor signs the audit off: every mandatory criterion must have a result and the
    audit a date. The overall result is ``pass`` when every mandatory criterion passes (failed
    optional criteria are observations). The record is then locked."""
    audit = _open_for_recording(session, caller, audit_id)
    if audited_on is not None:
        audit.audited_on = audited_on
    if summary is not None:
        audit.summary = summary
    errors = [
        FieldError("/results", "mandatory_result", f"no result for mandatory criterion {key!r}")
        for key in missing_mandatory(audit)
    ]
    if audit.audited_on is None:
        errors.append(FieldError("/audited_on", "required", "give the date of the audit"))
    elif audit.audited_on > today():
        errors.append(
            FieldError("/audited_on", "not_in_future", "an audit is signed off after it took place")
        )
    if errors:
        raise AuditIncomplete("The audit cannot be signed off yet.", errors=errors)
    mandatory_ok = all(m.passed for m in audit.measurements if m.criterion.is_mandatory)
    audit.overall_result = AuditResult.PASS if mandatory_ok else AuditResult.FAIL
    audit.status = AuditStatus.SIGNED_OFF
    audit.signed_off_at = utcnow()
    audit.signed_off_by_id = caller.user_id
    session.flush()
    return audit


# ---- deciding --------------------------------------------------------------------------


def participants(audit: Audit) -> set[int]:
    """Everyone who took part in the audit: its auditor, whoever signed it off, recorded a
    result or uploaded evidence."""
    people = {audit.auditor_id, audit.signed_off_by_id}
    people.update(m.recorded_by_id for m in audit.measurements)
    people.update(e.uploaded_by_id for e in audit.evidence)
    return {person for person in people if person is not None}


def decide(
    session: Session,
    caller: Caller,
    audit_id: int,
    *,
    outcome: DecisionOutcome,
    reason: str,
    surveillance_interval_months: int = 12,
) -> AuditDecision:
    """An admin of the owning association decides on a signed-off audit.

    Maker-checker: someone who took part in the audit may not decide on it
    (``own-audit-decision``). Only a passed audit of a current member against a version that is
    not withdrawn can be granted. A grant schedules the first surveillance audit, due
    ``surveillance_interval_months`` after the decision.
    """
    audit = get_audit(session, caller, audit_id)
    brands.require_owner(caller, audit.brand)
    if caller.user_id in participants(audit):
        raise OwnAuditDecision(
            "You took part in this audit, so someone else must decide on it "
            "(maker-checker: nobody decides on their own audit).",
            errors=[
                FieldError("decided_by", "maker_checker", "the decider took part in the audit")
            ],
        )
    if audit.status != AuditStatus.SIGNED_OFF:
        raise DecisionRefused(
            f"Audit {audit.id} is {audit.status}; only signed-off audits are decided.",
            errors=[FieldError("status", "signed_off_only", f"the audit is {audit.status}")],
        )
    if outcome == DecisionOutcome.GRANTED:
        errors = []
        if audit.overall_result != AuditResult.PASS:
            errors.append(
                FieldError("/outcome", "failed_audit", "the audit's overall result is fail")
            )
        if audit.standard_version.status == VersionStatus.WITHDRAWN:
            errors.append(
                FieldError("/outcome", "withdrawn_version", "the standard version was withdrawn")
            )
        if brands.approved_membership(session, audit.brand_id, audit.firm_id) is None:
            errors.append(
                FieldError("/outcome", "approved_member", "the firm is no longer a member")
            )
        if errors:
            raise DecisionRefused("This audit cannot be granted.", errors=errors)
    now = utcnow()
    decision = AuditDecision(
        audit=audit,
        outcome=outcome,
        reason=reason.strip(),
        decided_by_id=caller.user_id,
        decided_at=now,
    )
    session.add(decision)
    audit.status = AuditStatus.DECIDED
    if outcome == DecisionOutcome.GRANTED:
        due = add_months(now.date(), surveillance_interval_months)
        decision.surveillance_interval_months = surveillance_interval_months
        decision.next_surveillance_due_on = due
        session.add(
            Audit(
                brand_id=audit.brand_id,
                firm_id=audit.firm_id,
                standard_version_id=audit.standard_version_id,
                kind=AuditKind.SURVEILLANCE,
                status=AuditStatus.OPEN,
                due_on=due,
                follows_audit_id=audit.id,
                products=[
                    AuditProduct(gtin=p.gtin, name_zh=p.name_zh, name_en=p.name_en)
                    for p in audit.products
                ],
                sites=[AuditSite(name=s.name, address=s.address, gln=s.gln) for s in audit.sites],
            )
        )
    session.flush()
    return decision


def get_decision(session: Session, caller: Caller, decision_id: int) -> AuditDecision:
    """A decision the caller may see (same visibility as its audit). One the caller may not see
    answers like one that does not exist, about the decision rather than its audit."""
    decision = session.scalar(
        select(AuditDecision).where(
            AuditDecision.id == decision_id,
            AuditDecision.audit_id.in_(_audit_query(session, caller).with_only_columns(Audit.id)),
        )
    )
    if decision is None:
        raise _decision_not_found(decision_id)
    return decision


def _decision_not_found(decision_id: int) -> NotFound:
    # "decision-not-found" is the problem type issuance has always answered: kept, not renamed.
    return NotFound(f"No audit decision {decision_id}.", slug="decision-not-found")


# ---- what certificates read ------------------------------------------------------------


@dataclass(frozen=True)
class SurveillanceStatus:
    """Where a certification stands in its surveillance cycle.

    ``next_due_on`` is the due date of the next surveillance audit not yet decided;
    ``overdue`` is true when that audit is still open after its due date (a certificate is not
    in force then); ``latest_decision_id`` and ``latest_outcome`` are of the last decision in
    the chain (a refused surveillance audit ends it)."""

    interval_months: int | None
    next_due_on: date | None
    follow_up_audit_id: int | None
    overdue: bool
    latest_decision_id: int
    latest_outcome: DecisionOutcome
    last_audited_on: date | None


def surveillance_status(
    session: Session, decision: AuditDecision, as_of: date | None = None
) -> SurveillanceStatus:
    """Follow the surveillance audits scheduled after ``decision`` to the current one."""
    current = decision
    follow_up: Audit | None = None
    while current.outcome == DecisionOutcome.GRANTED:
        follow_up = session.scalar(
            select(Audit)
            .where(Audit.follows_audit_id == current.audit_id)
            .order_by(Audit.id)
            .limit(1)
        )
        if follow_up is None or follow_up.decision is None:
            break
        current, follow_up = follow_up.decision, None
    granted = current.outcome == DecisionOutcome.GRANTED
    return SurveillanceStatus(
        interval_months=current.surveillance_interval_months,
        next_due_on=(follow_up.due_on if follow_up else current.next_surveillance_due_on)
        if granted
        else None,
        follow_up_audit_id=follow_up.id if follow_up else None,
        overdue=follow_up is not None and is_overdue(follow_up, as_of),
        latest_decision_id=current.id,
        latest_outcome=current.outcome,
        last_audited_on=current.audit.audited_on,
    )


@dataclass(frozen=True)
class ScopeProduct:
    gtin: str  # 14 digits
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class ScopeSite:
    name: str
    address: str
    gln: str | None


@dataclass(frozen=True)
class GrantedDecision:
    """A granted certification decision with everything a certificate states about it.

    ``firm_*``: the certified firm (enterprise) and its registration; ``brand_*`` and
    ``owner_*``: the brand and the association that owns it (the issuer); ``standard_*``: the
    standard version applied, with its SHA-256 ``standard_content_hash`` and the day it takes
    effect (certificates under it are valid from that day at the earliest); ``products`` and
    ``sites``: the certified scope; ``surveillance``: the schedule that keeps it in force.
    """

    decision_id: int
    audit_id: int
    audit_kind: AuditKind
    audited_on: date | None
    decided_at: datetime
    decided_by_id: int
    reason: str
    firm_id: int
    firm_slug: str
    firm_name_zh: str
    firm_name_en: str
    firm_registration_scheme: str | None
    firm_registration_number: str | None
    brand_id: int
    brand_slug: str
    brand_name_zh: str
    brand_name_en: str
    owner_id: int
    owner_slug: str
    standard_version_id: int
    standard_code: str
    standard_version: str
    standard_content_hash: str
    standard_status: VersionStatus
    standard_effective_from: date | None
    products: tuple[ScopeProduct, ...]
    sites: tuple[ScopeSite, ...]
    surveillance: SurveillanceStatus


def get_granted_decision(
    session: Session,
    decision_id: int,
    *,
    owner_organisation_id: int | None = None,
    as_of: date | None = None,
) -> GrantedDecision:
    """The granted decision ``decision_id`` with its firm, brand, standard version, scope and
    surveillance schedule: what issuing a certificate needs.

    ``owner_organisation_id`` (the issuing association) makes another association's decision
    answer NotFound. A refused decision raises ``DecisionNotGranted``.
    """
    decision = session.get(AuditDecision, decision_id)
    if decision is None or (
        owner_organisation_id is not None and decision.audit.brand.owner_id != owner_organisation_id
    ):
        raise _decision_not_found(decision_id)
    if decision.outcome != DecisionOutcome.GRANTED:
        raise DecisionNotGranted(
            f"Audit decision {decision_id} refused certification.",
            errors=[FieldError("decision_id", "granted", "the decision is refused")],
        )
    audit = decision.audit
    firm: Organisation = audit.firm
    version = audit.standard_version
    assert version.content_hash is not None  # audits apply published versions only
    return GrantedDecision(
        decision_id=decision.id,
        audit_id=audit.id,
        audit_kind=audit.kind,
        audited_on=audit.audited_on,
        decided_at=decision.decided_at,
        decided_by_id=decision.decided_by_id,
        reason=decision.reason,
        firm_id=firm.id,
        firm_slug=firm.slug,
        firm_name_zh=firm.name_zh,
        firm_name_en=firm.name_en,
        firm_registration_scheme=firm.registration_scheme,
        firm_registration_number=firm.registration_number,
        brand_id=audit.brand.id,
        brand_slug=audit.brand.slug,
        brand_name_zh=audit.brand.name_zh,
        brand_name_en=audit.brand.name_en,
        owner_id=audit.brand.owner_id,
        owner_slug=audit.brand.owner.slug,
        standard_version_id=version.id,
        standard_code=version.standard.code,
        standard_version=version.version,
        standard_content_hash=version.content_hash,
        standard_status=version.status,
        standard_effective_from=version.effective_from,
        products=tuple(ScopeProduct(p.gtin, p.name_zh, p.name_en) for p in audit.products),
        sites=tuple(ScopeSite(s.name, s.address, s.gln) for s in audit.sites),
        surveillance=surveillance_status(session, decision, as_of),
    )


def latest_decision(session: Session, brand_id: int, firm_id: int) -> AuditDecision | None:
    """The firm's most recent certification decision for the brand (initial or renewal audits;
    surveillance outcomes are followed by :func:`surveillance_status`)."""
    return session.scalar(
        select(AuditDecision)
        .join(Audit, Audit.id == AuditDecision.audit_id)
        .where(
            Audit.brand_id == brand_id,
            Audit.firm_id == firm_id,
            Audit.kind != AuditKind.SURVEILLANCE,
        )
        .order_by(AuditDecision.decided_at.desc(), AuditDecision.id.desc())
        .limit(1)
    )
