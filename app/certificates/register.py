"""The public register: search, and the public description of a certificate.

The register, not a PDF, is the source of truth: a certificate absent from it is not ours,
whatever it looks like, and each entry shows its current status and full history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, literal, or_, select
from sqlalchemy.orm import Session, selectinload

from app.auth.models import Organisation
from app.auth.principal import Caller
from app.certificates import keys, status
from app.certificates.credentials import (
    certificate_url,
    credential_url,
    effective_status,
    standing,
    suspension_overdue,
)
from app.certificates.models import LIVE_STATUSES, Certificate, CertificateStatus, StatusList
from app.db import utcnow
from app.http.pagination import PageResult, paginate


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def status_now(now: datetime) -> ColumnElement[CertificateStatus]:
    """``effective_status`` in SQL: an active or suspended certificate past its validity reads
    as expired before the daily sweep records it (for grouping and counting by status)."""
    lapsed = and_(Certificate.status.in_(LIVE_STATUSES), Certificate.valid_until <= now)
    expired = literal(CertificateStatus.EXPIRED, Certificate.status.type)
    return case((lapsed, expired), else_=Certificate.status)


def has_status_now(wanted: CertificateStatus, now: datetime) -> ColumnElement[bool]:
    """Whether a certificate's status as of ``now`` is ``wanted`` (a condition that can use
    the status index: the recorded status, narrowed or widened by the validity)."""
    live = Certificate.status.in_(LIVE_STATUSES)
    if wanted == CertificateStatus.EXPIRED:
        return or_(
            Certificate.status == CertificateStatus.EXPIRED,
            and_(live, Certificate.valid_until <= now),
        )
    if wanted in LIVE_STATUSES:
        return and_(Certificate.status == wanted, Certificate.valid_until > now)
    return Certificate.status == wanted


def filter_by_status(statement: Select[Any], wanted: CertificateStatus | str | None) -> Select[Any]:
    """Filter by the status as of now (see ``effective_status``): the daily sweep records
    expiries, but the register never shows a lapsed certificate as active meanwhile."""
    if wanted is None or wanted not in set(CertificateStatus):
        return statement
    return statement.where(has_status_now(CertificateStatus(wanted), utcnow()))


def search_register(
    session: Session,
    *,
    q: str | None,
    status_filter: CertificateStatus | None,
    limit: int,
    cursor: str | None,
) -> PageResult[Certificate]:
    """Certificates matching a number or a firm name (zh or en; part of either, any case) or
    a registration number (whole), newest first."""
    statement = select(Certificate)
    if q:
        text = q.strip()
        pattern = f"%{_escape_like(text)}%"
        statement = statement.where(
            or_(
                Certificate.number.ilike(pattern, escape="\\"),
                Certificate.holder_registration_number == text.upper(),
                Certificate.holder_name_zh.ilike(pattern, escape="\\"),
                Certificate.holder_name_en.ilike(pattern, escape="\\"),
            )
        )
    statement = filter_by_status(statement, status_filter)
    return paginate(session, statement, Certificate.id, limit=limit, cursor=cursor)


def list_certificates(
    session: Session,
    caller: Caller,
    *,
    status_filter: CertificateStatus | None,
    limit: int,
    cursor: str | None,
) -> PageResult[Certificate]:
    """The certificates the caller's organisation issued (association) or holds (firm)."""
    statement = select(Certificate).where(
        or_(
            Certificate.issuer_id == caller.organisation_id,
            Certificate.firm_id == caller.organisation_id,
        )
    )
    statement = filter_by_status(statement, status_filter)
    return paginate(session, statement, Certificate.id, limit=limit, cursor=cursor)


def _party(organisation: Organisation, registration_number: str | None = None) -> dict[str, Any]:
    return {
        "slug": organisation.slug,
        "name_zh": organisation.name_zh,
        "name_en": organisation.name_en,
        "registration_number": registration_number or organisation.registration_number,
    }


def summarise(
    session: Session, certificate: Certificate, now: datetime | None = None
) -> dict[str, Any]:
    """A register line: the certificate and whether it is in force now (and why not)."""
    current = standing(session, certificate, now)
    return {
        "id": certificate.id,
        "number": certificate.number,
        "status": effective_status(certificate, now),
        "suspension_overdue": suspension_overdue(certificate, now),
        "in_force": current.in_force,
        "not_in_force_because": current.reason,
        "next_surveillance_due_on": current.next_surveillance_due_on,
        "holder": {
            "slug": certificate.firm.slug,
            "name_zh": certificate.holder_name_zh,
            "name_en": certificate.holder_name_en,
            "registration_number": certificate.holder_registration_number,
        },
        "standard": {
            "code": certificate.standard_code,
            "version": certificate.standard_version,
            "content_hash": certificate.standard_content_hash,
        },
        "valid_from": certificate.valid_from,
        "valid_until": certificate.valid_until,
        "url": certificate_url(certificate.number),
    }


def status_list_urls(session: Session, certificate: Certificate) -> list[str]:
    """The URLs of the revocation and suspension lists the certificate's bits are in."""
    lists = {
        item.id: item
        for item in session.scalars(
            select(StatusList).where(
                StatusList.id.in_([certificate.revocation_list_id, certificate.suspension_list_id])
            )
        )
    }
    return [
        status.list_url(certificate.issuer.slug, lists[list_id].purpose, lists[list_id].sequence)
        for list_id in (certificate.revocation_list_id, certificate.suspension_list_id)
    ]


def _log_proof(session: Session, log_index: int | None) -> dict[str, Any] | None:
    """The issuance's inclusion proof against the latest signed checkpoint, so anyone can check
    offline that this certificate is in the public log (and so was not minted in secret)."""
    if log_index is None:
        return None
    from app.transparency import services as transparency

    try:
        return transparency.inclusion_bundle(session, log_index)
    except transparency.LogEntryNotFound:
        return None


def describe(session: Session, certificate: Certificate) -> dict[str, Any]:
    """Everything public about a certificate: facts, status, history, links."""
    now = utcnow()
    certificate = (
        session.scalar(
            select(Certificate)
            .where(Certificate.id == certificate.id)
            .options(selectinload(Certificate.events))
        )
        or certificate
    )
    # The chain of renewals and re-issues, followed to its newest certificate: someone holding
    # an old certificate wants the one that stands now, not only the next one.
    successors: list[str] = []
    seen = {certificate.id}
    last_id = certificate.id
    while True:
        step = session.execute(
            select(Certificate.id, Certificate.number).where(
                Certificate.previous_certificate_id == last_id
            )
        ).first()
        if step is None or step.id in seen:
            break
        seen.add(step.id)
        last_id = step.id
        successors.append(step.number)
    replaced_by = successors[0] if successors else None
    previous = (
        session.scalar(
            select(Certificate.number).where(Certificate.id == certificate.previous_certificate_id)
        )
        if certificate.previous_certificate_id
        else None
    )
    organisations = {
        organisation.id: organisation
        for organisation in session.scalars(
            select(Organisation).where(
                Organisation.id.in_(
                    {e.actor_organisation_id for e in certificate.events if e.actor_organisation_id}
                )
            )
        )
    }
    related = {
        row.id: row.number
        for row in session.execute(
            select(Certificate.id, Certificate.number).where(
                Certificate.id.in_(
                    {
                        e.related_certificate_id
                        for e in certificate.events
                        if e.related_certificate_id
                    }
                )
            )
        )
    }
    return {
        **summarise(session, certificate, now),
        "status_reason": certificate.status_reason,
        "issuer": _party(certificate.issuer),
        "issuer_did": keys.issuer_did(certificate.issuer),
        "gtins": certificate.scope_gtins,
        "sites": certificate.scope_sites,
        "mark_licence_number": certificate.mark_licence_number,
        "label_quota": certificate.label_quota,
        "labels_issued": certificate.labels_issued,
        "suspended_until": certificate.suspended_until,
        "issued_at": certificate.issued_at,
        "log_index": certificate.log_index,
        "transparency": _log_proof(session, certificate.log_index),
        "replaces": previous,
        "replaced_by": replaced_by,
        "latest_replacement": successors[-1] if successors else None,
        "vc_url": credential_url(certificate.number),
        "status_list_urls": status_list_urls(session, certificate),
        "events": [
            {
                "kind": event.kind,
                "reason": event.reason,
                "suspended_until": event.suspended_until,
                "related_certificate": related.get(event.related_certificate_id or 0),
                "occurred_at": event.occurred_at,
                "by": (
                    organisations[event.actor_organisation_id].name_en
                    if event.actor_organisation_id in organisations
                    else None
                ),
                "by_zh": (
                    organisations[event.actor_organisation_id].name_zh
                    if event.actor_organisation_id in organisations
                    else None
                ),
            }
            for event in certificate.events
        ],
    }
