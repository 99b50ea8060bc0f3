"""Issuing and renewing certificates on granted audit decisions (issue 3's audits).

Issuance requires a granted decision of the caller's association for a standard version that
is still in use, on a firm that is an approved member of the brand, decided during its current
membership (a firm that left and joined again passes a new audit), whose surveillance is not
overdue. The certificate's scope is the audit's scope or a part of it; a decision may back
several certificates (product lines) as long as no product is covered twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audits.models import AuditDecision, AuditEvidence, DecisionOutcome
from app.audits.services import GrantedDecision, add_months, get_granted_decision
from app.auth.principal import Caller
from app.brands.models import Membership, MembershipStatus
from app.brands.services import approved_membership
from app.certificates import credentials, keys
from app.certificates.credentials import (
    AssessmentRef,
    BrandRef,
    CertificateFacts,
    Site,
    StandardRef,
)
from app.certificates.errors import (
    CertificateNotFound,
    DecisionPredatesMembership,
    InvalidCertificateRequest,
    NoGrantedDecision,
    NotAMember,
    StandardVersionNotEffective,
)
from app.certificates.models import LIVE_STATUSES, Certificate, CertificateEventKind
from app.db import utcnow
from app.errors import Conflict, FieldError
from app.gs1.identifiers import GS1SyntaxError, normalize_gtin
from app.i18n import local_text
from app.standards.models import StandardVersion, VersionStatus


def _absolute(path: str) -> str:
    return keys.base_url() + path


def _check_decision(session: Session, granted: GrantedDecision) -> None:
    if granted.standard_status not in (VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED):
        raise NoGrantedDecision(
            f"The standard version {granted.standard_code} {granted.standard_version} is "
            f"{granted.standard_status.value}; certificates rest on published versions.",
            errors=[FieldError("/decision_id", "published_version", "version not in use")],
        )
    if granted.surveillance.latest_outcome != DecisionOutcome.GRANTED:
        raise NoGrantedDecision(
            "A later surveillance decision refused this certification.",
            errors=[FieldError("/decision_id", "granted", "certification ended by surveillance")],
        )
    if granted.surveillance.overdue:
        raise NoGrantedDecision(
            "The surveillance audit of this certification is overdue; decide it first.",
            errors=[FieldError("/decision_id", "surveillance_overdue", "surveillance overdue")],
        )
    check_within_membership(
        session,
        decision_id=granted.decision_id,
        decided_at=granted.decided_at,
        brand_id=granted.brand_id,
        firm_id=granted.firm_id,
        firm_name=local_text(granted.firm_name_zh, granted.firm_name_en),
        brand_name=local_text(granted.brand_name_zh, granted.brand_name_en),
    )


def check_standard_in_effect(
    session: Session, standard_version_id: int, valid_from: datetime
) -> None:
    """Refuse a certificate under a standard version that would be valid before the version
    takes effect (``standard-version-not-effective``, 409). A version published ahead of its
    ``effective_from`` may be audited against, but certifies nothing before that day (a day
    in UTC, as every date of the register)."""
    version = session.get(StandardVersion, standard_version_id)
    assert version is not None
    effective = version.effective_from
    starts = valid_from.astimezone(UTC).date()
    if effective is None or starts >= effective:
        return
    raise StandardVersionNotEffective(
        gettext(
            "%(code)s version %(version)s takes effect on %(effective)s: a certificate under "
            "it may be valid from that day, not from %(start)s.",
            code=version.standard.code,
            version=version.version,
            effective=effective.isoformat(),
            start=starts.isoformat(),
        ),
        errors=[
            FieldError("/valid_from", "standard_effective", f"not before {effective.isoformat()}")
        ],
        extra={"effective_from": effective.isoformat()},
    )


def _predates(decided_at: datetime, membership: Membership) -> bool:
    # A membership approved before member_since was recorded has no known start: no refusal.
    return membership.member_since is not None and decided_at < membership.member_since


def may_back_certificates(
    session: Session, *, decided_at: datetime, brand_id: int, firm_id: int
) -> bool:
    """Whether a granted decision may back a certificate as far as membership goes: the firm
    is an approved member and the decision was made during that membership (the rule
    :func:`check_within_membership` enforces; pages use it to offer only such decisions)."""
    membership = approved_membership(session, brand_id, firm_id)
    return membership is not None and not _predates(decided_at, membership)


def check_within_membership(
    session: Session,
    *,
    decision_id: int,
    decided_at: datetime,
    brand_id: int,
    firm_id: int,
    firm_name: str,
    brand_name: str,
) -> None:
    """Refuse a decision of a firm that is not an approved member of the brand
    (``not-a-member``, 409), or one granted before its current membership began
    (``decision-predates-membership``, 409): leaving a brand ends its certification, and a
    firm that joins again needs a new audit."""
    membership = approved_membership(session, brand_id, firm_id)
    if membership is None:
        raise NotAMember(
            gettext(
                "%(firm)s is not an approved member of %(brand)s.",
                firm=firm_name,
                brand=brand_name,
            ),
            errors=[FieldError("/decision_id", "approved_member", "the firm is not a member")],
        )
    if _predates(decided_at, membership):
        raise _predating(decision_id, decided_at, membership, firm_name, brand_name)


def _predating(
    decision_id: int,
    decided_at: datetime,
    membership: Membership,
    firm_name: str,
    brand_name: str,
) -> DecisionPredatesMembership:
    began = membership.member_since
    assert began is not None
    return DecisionPredatesMembership(
        gettext(
            "Audit decision %(decision)s was granted on %(decided)s, before the current "
            "membership of %(firm)s in %(brand)s began on %(since)s. A firm that left the "
            "brand and joined again needs a new audit and decision.",
            decision=decision_id,
            decided=decided_at.strftime("%Y-%m-%d"),
            firm=firm_name,
            brand=brand_name,
            since=began.strftime("%Y-%m-%d"),
        ),
        errors=[
            FieldError(
                "/decision_id",
                "during_membership",
                gettext("Granted before the firm's current membership began."),
            )
        ],
        extra={"member_since": began.isoformat()},
    )


def check_reissue_within_membership(session: Session, certificate: Certificate) -> None:
    """Refuse to re-issue a certificate whose decision was granted before the holder's
    current membership of the brand began (``decision-predates-membership``): a re-issue
    rests on the certificate's decision, which no longer backs certificates. Leaving a brand
    cancels its certificates, so only records older than that rule meet this."""
    membership = session.scalar(
        select(Membership).where(
            Membership.brand_id == certificate.brand_id,
            Membership.firm_id == certificate.firm_id,
            Membership.status.in_((MembershipStatus.APPROVED, MembershipStatus.SUSPENDED)),
        )
    )
    decision = session.get(AuditDecision, certificate.decision_id)
    assert decision is not None
    if membership is not None and _predates(decision.decided_at, membership):
        raise _predating(
            decision.id,
            decision.decided_at,
            membership,
            local_text(certificate.holder_name_zh, certificate.holder_name_en),
            local_text(membership.brand.name_zh, membership.brand.name_en),
        )


def _scope(
    granted: GrantedDecision, gtins: Sequence[str] | None, sites: Sequence[Site] | None
) -> tuple[list[str], list[Site]]:
    """The requested scope, which must lie within the audited scope (default: all of it)."""
    audited_gtins = [product.gtin for product in granted.products]
    audited_sites = [Site(s.name, s.address or None, s.gln) for s in granted.sites]
    if gtins is None:
        chosen_gtins = audited_gtins
    else:
        chosen_gtins, errors = [], []
        for position, gtin in enumerate(gtins):
            try:
                normalised = normalize_gtin(gtin)
            except GS1SyntaxError as error:
                errors.append(FieldError(f"/gtins/{position}", error.rule, error.message))
                continue
            if normalised not in audited_gtins:
                errors.append(
                    FieldError(f"/gtins/{position}", "audited", f"{gtin} was not audited")
                )
            chosen_gtins.append(normalised)
        if errors:
            raise InvalidCertificateRequest(
                "The scope must lie within what was audited.", errors=errors
            )
    if sites is None:
        chosen_sites = audited_sites
    else:
        names = {site.name for site in audited_sites}
        errors = [
            FieldError(f"/sites/{position}", "audited", f"{site.name} was not audited")
            for position, site in enumerate(sites)
            if site.name not in names
        ]
        if errors:
            raise InvalidCertificateRequest(
                "The scope must lie within what was audited.", errors=errors
            )
        chosen_sites = list(sites)
    return chosen_gtins, chosen_sites


def check_within_audit(
    session: Session,
    decision_id: int,
    gtins: Sequence[str] | None,
    sites: Sequence[Site] | None,
) -> list[str]:
    """Refuse a scope (for a re-issue) beyond what the decision's audit covered; returns the
    scope's GTINs in GTIN-14 form."""
    return _scope(get_granted_decision(session, decision_id), gtins, sites)[0]


def check_not_covered(
    session: Session, decision_id: int, gtins: Sequence[str], *, replacing: str | None = None
) -> None:
    """Refuse GTINs (GTIN-14) that a live certificate of the decision already covers, the
    certificate being replaced (``replacing``, by number) aside: a product is covered by at
    most one live certificate of a decision, so that one is re-issued to change it.

    Raises :class:`~app.errors.Conflict` ``decision-already-certified`` (409), naming each
    GTIN and the certificate that covers it.
    """
    covered = {
        gtin: number
        for gtin, number in covered_products(session, decision_id, replacing=replacing).items()
        if gtin in gtins
    }
    if covered:
        raise Conflict(
            gettext(
                "Decision %(decision)s already has a live certificate for %(products)s; "
                "re-issue that certificate to change its scope or quota.",
                decision=decision_id,
                products=", ".join(
                    f"{gtin} ({number})" for gtin, number in sorted(covered.items())
                ),
            ),
            slug="decision-already-certified",
            errors=[
                FieldError("/gtins", "already_certified", f"{gtin} is in {number}")
                for gtin, number in sorted(covered.items())
            ],
            extra={"certificates": sorted(set(covered.values()))},
        )


def facts_from_decision(
    session: Session,
    granted: GrantedDecision,
    *,
    label_quota: int,
    valid_from: datetime,
    valid_until: datetime,
    gtins: Sequence[str] | None = None,
    sites: Sequence[Site] | None = None,
    previous: Certificate | None = None,
    event: CertificateEventKind = CertificateEventKind.ISSUED,
    reason: str | None = None,
) -> CertificateFacts:
    """What a certificate on ``granted`` states: firm, brand, standard, audited scope and the
    audit with its evidence digests."""
    chosen_gtins, chosen_sites = _scope(granted, gtins, sites)
    evidence = session.scalars(
        select(AuditEvidence)
        .where(AuditEvidence.audit_id == granted.audit_id)
        .order_by(AuditEvidence.id)
    ).all()
    return CertificateFacts(
        firm_id=granted.firm_id,
        brand_id=granted.brand_id,
        decision_id=granted.decision_id,
        standard_version_id=granted.standard_version_id,
        standard=StandardRef(
            code=granted.standard_code,
            version=granted.standard_version,
            content_hash=granted.standard_content_hash,
            url=_absolute(f"/api/v1/standard-versions/{granted.standard_version_id}"),
        ),
        gtins=chosen_gtins,
        sites=chosen_sites,
        label_quota=label_quota,
        valid_from=valid_from,
        valid_until=valid_until,
        brand=BrandRef(
            granted.brand_name_zh, granted.brand_name_en, _absolute(f"/brands/{granted.brand_slug}")
        ),
        assessment=AssessmentRef(
            audit_url=_absolute(f"/api/v1/audits/{granted.audit_id}"),
            assessment_date=granted.audited_on or granted.decided_at.date(),
            decision_url=_absolute(f"/api/v1/audit-decisions/{granted.decision_id}"),
            decided_on=granted.decided_at.date(),
            evidence=tuple(
                (
                    _absolute(f"/api/v1/audits/{granted.audit_id}/evidence/{item.id}"),
                    item.description,
                    item.file.sha256,
                )
                for item in evidence
            ),
        ),
        previous=previous,
        event=event,
        reason=reason,
    )


def covered_products(
    session: Session, decision_id: int, *, replacing: str | None = None
) -> dict[str, str]:
    """GTIN-14 -> number of the live certificate of the decision (other than ``replacing``)
    that covers it."""
    statement = select(Certificate.number, Certificate.scope_gtins).where(
        Certificate.decision_id == decision_id, Certificate.status.in_(LIVE_STATUSES)
    )
    if replacing is not None:
        statement = statement.where(Certificate.number != replacing)
    return {gtin: number for number, gtins in session.execute(statement) for gtin in gtins}


def _validity(valid_from: datetime | None, months: int) -> tuple[datetime, datetime]:
    start = valid_from or utcnow()
    end_date = add_months(start.date(), months)
    end = start + timedelta(days=(end_date - start.date()).days)
    return start, end


def issue_certificate(
    session: Session,
    caller: Caller,
    decision_id: int,
    *,
    label_quota: int,
    gtins: Sequence[str] | None = None,
    sites: Sequence[Site] | None = None,
    valid_from: datetime | None = None,
    validity_months: int = 36,
) -> Certificate:
    """Issue a certificate on a granted decision of the caller's association (all or nothing).

    Refused: decisions of other associations (404), refused decisions, withdrawn or draft
    standard versions, a ``valid_from`` before the standard version takes effect (409
    ``standard-version-not-effective``), firms that are not members, overdue surveillance, a
    product that a live certificate of the decision already covers (re-issue that one
    instead), a scope beyond the audit.
    """
    issuer = keys.require_issuer(session, caller.organisation_id)
    granted = get_granted_decision(session, decision_id, owner_organisation_id=issuer.id)
    _check_decision(session, granted)
    start, end = _validity(valid_from, validity_months)
    check_standard_in_effect(session, granted.standard_version_id, start)
    facts = facts_from_decision(
        session,
        granted,
        label_quota=label_quota,
        valid_from=start,
        valid_until=end,
        gtins=gtins,
        sites=sites,
    )
    # One decision may back several certificates (one per product line), but a product is
    # covered by at most one live certificate of it: re-issue that one to change it.
    check_not_covered(session, decision_id, facts.gtins)
    issued = credentials.issue_certificates(session, issuer, [facts], actor=caller)[0]
    certificate = session.get(Certificate, issued.id)
    assert certificate is not None
    return certificate


def renew_certificate(
    session: Session,
    caller: Caller,
    number: str,
    decision_id: int,
    *,
    label_quota: int | None = None,
    validity_months: int = 36,
    reason: str | None = None,
) -> Certificate:
    """Renew a certificate on the granted decision of a re-certification audit of the same
    firm and brand: a new certificate that references and replaces the previous one."""
    issuer = keys.require_issuer(session, caller.organisation_id)
    previous = credentials.get_certificate_for(session, caller, number)
    if previous.issuer_id != issuer.id:
        raise CertificateNotFound(f"No certificate {number} issued by your association.")
    granted = get_granted_decision(session, decision_id, owner_organisation_id=issuer.id)
    if granted.firm_id != previous.firm_id or granted.brand_id != previous.brand_id:
        raise InvalidCertificateRequest(
            "A renewal rests on a decision about the same firm and brand.",
            errors=[FieldError("/decision_id", "same_holder", "another firm or brand")],
        )
    if granted.decision_id == previous.decision_id:
        raise InvalidCertificateRequest(
            "A renewal needs a new decision (a re-certification audit).",
            errors=[FieldError("/decision_id", "new_decision", "the certificate's own decision")],
        )
    _check_decision(session, granted)
    start, end = _validity(None, validity_months)
    check_standard_in_effect(session, granted.standard_version_id, start)
    facts = facts_from_decision(
        session,
        granted,
        label_quota=label_quota if label_quota is not None else previous.label_quota,
        valid_from=start,
        valid_until=end,
        previous=previous,
        event=CertificateEventKind.RENEWED,
        reason=reason,
    )
    credentials.check_replaceable(previous)
    check_not_covered(session, granted.decision_id, facts.gtins, replacing=previous.number)
    issued = credentials.issue_certificates(session, issuer, [facts], actor=caller)[0]
    certificate = session.get(Certificate, issued.id)
    assert certificate is not None
    return certificate
