"""The association's overview: counts and series for its dashboard, read from every domain.

Everything is scoped to the brands the association owns and the certificates it issued.
Read-only; services take the session and never commit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.audits.models import Audit, AuditStatus
from app.auth.models import Organisation
from app.auth.principal import Caller
from app.brands.models import Brand, Membership, MembershipStatus
from app.brands.services import co_built_brand_ids
from app.certificates.credentials import standing
from app.certificates.models import LIVE_STATUSES, Certificate, CertificateStatus
from app.db import utcnow
from app.resolver.models import AlertKind, AlertStatus, FakeReport, ReportStatus, ScanAlert
from app.resolver.services import summarise_scans
from app.resolver.verdicts import Verdict


@dataclass(frozen=True)
class LabelUse:
    """One certificate's mark licence: labels issued against its quota."""

    number: str
    holder_zh: str
    holder_en: str
    labels_issued: int
    label_quota: int


@dataclass(frozen=True)
class Overview:
    """What the association's dashboard shows.

    ``certified_firms``: firms holding a certificate in force now; ``firms_by_brand``: the same
    per brand (brand slug -> count); ``certificates_by_status``: every certificate the
    association issued, by stored status; ``in_force``: how many of them are in force now
    (active, within validity, surveillance not overdue); ``labels``: label use per live
    certificate, most used first; ``members_by_region``: approved member firms by their
    region code (None when unknown); the ``*_waiting`` counts are the association's to-do list.
    """

    brands: list[Brand]
    certified_firms: int
    firms_by_brand: dict[str, int]
    certificates_by_status: dict[CertificateStatus, int]
    in_force: int
    labels: list[LabelUse]
    labels_issued: int
    label_quota: int
    members_by_region: dict[str | None, int]
    members: int
    applications_waiting: int
    decisions_waiting: int
    surveillance_overdue: int
    surveillance_due_soon: int
    scans: ScanFigures


@dataclass(frozen=True)
class ScanFigures:
    """Consumer scans of the association's brands over the last ``days`` days: counted scans
    per UTC day (every day present, zero included), the verdict mix, and the alerts still open
    by kind (with how many fake reports await review)."""

    days: int
    per_day: list[tuple[date, int]]
    verdicts: dict[Verdict, int]
    open_alerts: dict[AlertKind, int]
    new_reports: int

    @property
    def total(self) -> int:
        return sum(count for _, count in self.per_day)


def owned_brands(session: Session, caller: Caller) -> list[Brand]:
    """The brands the caller's association owns, by English name."""
    return list(
        session.scalars(
            select(Brand).where(Brand.owner_id == caller.organisation_id).order_by(Brand.name_en)
        )
    )


def association_overview(
    session: Session, caller: Caller, *, now: datetime | None = None, due_within_days: int = 60
) -> Overview:
    """Counts and series for the caller's association (see :class:`Overview`)."""
    now = now or utcnow()
    brands = owned_brands(session, caller)
    brand_ids = [brand.id for brand in brands] or [0]
    certificates = list(
        session.scalars(
            select(Certificate)
            .where(Certificate.issuer_id == caller.organisation_id)
            .order_by(Certificate.id)
        )
    )
    by_status = Counter(certificate.status for certificate in certificates)
    live = [
        c
        for c in certificates
        if c.status == CertificateStatus.ACTIVE and c.valid_from <= now < c.valid_until
    ]
    # Only the active ones need the surveillance check; the rest are not in force anyway.
    in_force = [c for c in live if standing(session, c, now).in_force]
    slugs = {brand.id: brand.slug for brand in brands}
    firms_by_brand: dict[str, set[int]] = {brand.slug: set() for brand in brands}
    for certificate in in_force:
        if certificate.brand_id in slugs:
            firms_by_brand[slugs[certificate.brand_id]].add(certificate.firm_id)
    labelled = [c for c in certificates if c.status in LIVE_STATUSES]
    labels = sorted(
        (
            LabelUse(c.number, c.holder_name_zh, c.holder_name_en, c.labels_issued, c.label_quota)
            for c in labelled
        ),
        key=lambda use: (-use.labels_issued, use.number),
    )
    regions: dict[str | None, int] = {
        code: count
        for code, count in session.execute(
            select(Organisation.region_code, func.count(func.distinct(Membership.firm_id)))
            .join(Organisation, Organisation.id == Membership.firm_id)
            .where(
                Membership.brand_id.in_(brand_ids),
                Membership.status == MembershipStatus.APPROVED,
            )
            .group_by(Organisation.region_code)
        )
    }
    applications = session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.brand_id.in_(brand_ids), Membership.status == MembershipStatus.APPLIED)
    )
    decisions = session.scalar(
        select(func.count())
        .select_from(Audit)
        .where(Audit.brand_id.in_(brand_ids), Audit.status == AuditStatus.SIGNED_OFF)
    )
    today = now.date()
    overdue, due_soon = surveillance_counts(session, brand_ids, today, due_within_days)
    scans = scan_figures(session, caller, today=today)
    return Overview(
        brands=brands,
        certified_firms=len({c.firm_id for c in in_force}),
        firms_by_brand={slug: len(firms) for slug, firms in firms_by_brand.items()},
        certificates_by_status={status: by_status.get(status, 0) for status in CertificateStatus},
        in_force=len(in_force),
        labels=labels,
        labels_issued=sum(use.labels_issued for use in labels),
        label_quota=sum(use.label_quota for use in labels),
        members_by_region=regions,
        members=sum(regions.values()),
        applications_waiting=applications or 0,
        decisions_waiting=decisions or 0,
        surveillance_overdue=overdue,
        surveillance_due_soon=due_soon,
        scans=scans,
    )


def surveillance_counts(
    session: Session, brand_ids: list[int], today: date, due_within_days: int
) -> tuple[int, int]:
    """Open audits with a due date: how many are overdue, and how many fall due soon."""
    due = (
        select(func.count())
        .select_from(Audit)
        .where(Audit.brand_id.in_(brand_ids), Audit.status == AuditStatus.OPEN)
    )
    overdue = session.scalar(due.where(Audit.due_on < today)) or 0
    soon = (
        session.scalar(
            due.where(
                Audit.due_on >= today, Audit.due_on <= today + timedelta(days=due_within_days)
            )
        )
        or 0
    )
    return overdue, soon


def _consumer_facing(session: Session, caller: Caller, model: Any) -> Any:
    """Scans, alerts or reports about the brands the association owns or co-builds, or under
    the certificates it issued (the resolver's own rule for associations)."""
    brands = co_built_brand_ids(session, caller)
    return or_(
        model.brand_id.in_(sorted(brands) or [0]), model.association_id == caller.organisation_id
    )


def scan_figures(session: Session, caller: Caller, *, today: date, days: int = 30) -> ScanFigures:
    """Counted scans per day and by verdict (repeats of one shopper excluded), open alerts by
    kind and fake reports awaiting review, for the association's dashboard."""
    summary = summarise_scans(session, caller, days=days)
    counted = {item["day"]: item["total"] for item in summary.by_day}
    first = today - timedelta(days=days - 1)
    per_day = [
        (
            first + timedelta(days=offset),
            counted.get((first + timedelta(days=offset)).isoformat(), 0),
        )
        for offset in range(days)
    ]
    verdicts = {verdict: summary.by_verdict.get(verdict.value, 0) for verdict in Verdict}
    open_alerts = {kind: 0 for kind in AlertKind}
    for kind, count in session.execute(
        select(ScanAlert.kind, func.count())
        .where(_consumer_facing(session, caller, ScanAlert), ScanAlert.status == AlertStatus.OPEN)
        .group_by(ScanAlert.kind)
    ):
        open_alerts[kind] = count
    new_reports = session.scalar(
        select(func.count())
        .select_from(FakeReport)
        .where(_consumer_facing(session, caller, FakeReport), FakeReport.status == ReportStatus.NEW)
    )
    return ScanFigures(days, per_day, verdicts, open_alerts, new_reports or 0)
