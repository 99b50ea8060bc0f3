"""What government bodies, alliances and associations observe: the register of the brands they
own or co-build (brands, member firms, certificates), its CSV exports, and statistics.

Read only, reading across domains. The scope is the brands the caller's organisation owns or
co-builds: a market regulator sees the brands it supervises, an alliance those it co-promotes,
an association its own. Certificates are public anyway; member lists (with applications,
refusals and suspensions) are only for a brand's co-builders, as in the memberships API.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.auth.models import Organisation
from app.auth.principal import Caller
from app.brands.models import Brand, Membership, MembershipStatus
from app.brands.services import co_built_brand_ids
from app.certificates.credentials import certificate_url, effective_status, standing
from app.certificates.models import Certificate, CertificateStatus
from app.certificates.register import has_status_now, status_now
from app.db import utcnow
from app.products.models import LabelOrder, LabelOrderStatus
from app.resolver.models import AlertKind, AlertStatus, ScanAlert
from app.resolver.services import _visible as resolver_visible
from app.resolver.services import summarise_scans
from app.resolver.verdicts import Verdict

# Orders whose codes exist: labels issued (pending, rejected and cancelled orders made none).
ISSUED_ORDER_STATUSES = (
    LabelOrderStatus.ISSUED,
    LabelOrderStatus.PRINTED,
    LabelOrderStatus.ACTIVE,
    LabelOrderStatus.BLACKLISTED,
)
EXPORT_BATCH = 500


def observed_brand_ids(session: Session, caller: Caller) -> list[int]:
    """The brands the caller's organisation owns or co-builds (its window on the register)."""
    return sorted(co_built_brand_ids(session, caller))


def observed_brands(session: Session, caller: Caller) -> list[Brand]:
    """Those brands, by English name (a stable order for menus)."""
    ids = observed_brand_ids(session, caller)
    if not ids:
        return []
    return list(session.scalars(select(Brand).where(Brand.id.in_(ids)).order_by(Brand.name_en)))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(column: Any, text: str) -> Any:
    return column.ilike(f"%{_escape_like(text)}%", escape="\\")


def _in_force_now(now: datetime) -> Any:
    """Active and within validity (surveillance is checked per certificate where shown)."""
    return and_(
        Certificate.status == CertificateStatus.ACTIVE,
        Certificate.valid_from <= now,
        Certificate.valid_until > now,
    )


# --- brands ------------------------------------------------------------------------------------


def brands_statement(session: Session, caller: Caller) -> Select[Any]:
    """The observed brands with their approved members and active certificates counted (as of
    now, as the certificate list they link to shows them: a lapsed one is expired)."""
    members = (
        select(func.count(Membership.id))
        .where(Membership.brand_id == Brand.id, Membership.status == MembershipStatus.APPROVED)
        .correlate(Brand)
        .scalar_subquery()
    )
    certified = (
        select(func.count(Certificate.id))
        .where(
            Certificate.brand_id == Brand.id,
            has_status_now(CertificateStatus.ACTIVE, utcnow()),
        )
        .correlate(Brand)
        .scalar_subquery()
    )
    return select(Brand, members.label("members"), certified.label("certificates")).where(
        Brand.id.in_(observed_brand_ids(session, caller) or [0])
    )


def search_brands(statement: Select[Any], text: str) -> Select[Any]:
    return statement.where(
        or_(
            _contains(Brand.name_zh, text),
            _contains(Brand.name_en, text),
            _contains(Brand.region_name_zh, text),
            _contains(Brand.region_name_en, text),
            Brand.slug == text.lower(),
        )
    )


# --- members -----------------------------------------------------------------------------------

# The member firm, joined under its own name (sorting and searching by the firm's name).
MEMBER_FIRM = aliased(Organisation, name="member_firm")


def members_statement(session: Session, caller: Caller) -> Select[Any]:
    """Memberships of the observed brands (every status), with the firm's active certificates
    under that brand counted (as of now)."""
    certified = (
        select(func.count(Certificate.id))
        .where(
            Certificate.brand_id == Membership.brand_id,
            Certificate.firm_id == Membership.firm_id,
            has_status_now(CertificateStatus.ACTIVE, utcnow()),
        )
        .correlate(Membership)
        .scalar_subquery()
    )
    return (
        select(Membership, certified.label("certificates"))
        .join(MEMBER_FIRM, MEMBER_FIRM.id == Membership.firm_id)
        .where(Membership.brand_id.in_(observed_brand_ids(session, caller) or [0]))
    )


def search_members(statement: Select[Any], text: str) -> Select[Any]:
    """Part of the firm's name, or its registration number (exact, any case)."""
    return statement.where(
        or_(
            _contains(MEMBER_FIRM.name_zh, text),
            _contains(MEMBER_FIRM.name_en, text),
            Membership.registration_number == text.upper(),
        )
    )


def filter_by_brand(model: Any) -> Callable[[Select[Any], str], Select[Any]]:
    """A table filter narrowing ``model`` rows to the brand with the given slug."""

    def apply(statement: Select[Any], slug: str) -> Select[Any]:
        return statement.where(model.brand_id.in_(select(Brand.id).where(Brand.slug == slug)))

    return apply


# --- certificates ------------------------------------------------------------------------------


def certificates_statement(session: Session, caller: Caller) -> Select[Any]:
    """Certificates of the observed brands (every status)."""
    return select(Certificate).where(
        Certificate.brand_id.in_(observed_brand_ids(session, caller) or [0])
    )


def search_certificates(statement: Select[Any], text: str) -> Select[Any]:
    """Part of a number or of a holder's name, or a registration number (whole); any case."""
    return statement.where(
        or_(
            _contains(Certificate.number, text),
            Certificate.holder_registration_number == text.upper(),
            _contains(Certificate.holder_name_zh, text),
            _contains(Certificate.holder_name_en, text),
        )
    )


# --- CSV ---------------------------------------------------------------------------------------

# A cell starting with one of these is a formula to a spreadsheet: neutralise it.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """CSV text, a line at a time (for streaming), starting with a byte-order mark so
    spreadsheet programs read the Chinese names as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values: Sequence[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(value) for value in values])
        return buffer.getvalue()

    yield "\ufeff" + line(header)
    for row in rows:
        yield line(row)


CERTIFICATE_COLUMNS = (
    "number",
    "status",
    "in_force",
    "not_in_force_because",
    "holder_name_zh",
    "holder_name_en",
    "holder_registration_number",
    "brand",
    "issuer",
    "standard_code",
    "standard_version",
    "gtins",
    "valid_from",
    "valid_until",
    "next_surveillance_due_on",
    "mark_licence_number",
    "label_quota",
    "labels_issued",
    "issued_at",
    "url",
)


def certificate_rows(session: Session, statement: Select[Any]) -> Iterator[list[Any]]:
    """One CSV row per certificate of ``statement``, read in batches (constant memory)."""
    brands = dict(session.execute(select(Brand.id, Brand.slug)).all())
    now = utcnow()
    result = session.scalars(statement.execution_options(yield_per=EXPORT_BATCH))
    for batch in result.partitions():
        for certificate in batch:
            current = standing(session, certificate, now)
            yield [
                certificate.number,
                effective_status(certificate, now).value,
                current.in_force,
                current.reason,
                certificate.holder_name_zh,
                certificate.holder_name_en,
                certificate.holder_registration_number,
                brands.get(certificate.brand_id),
                certificate.issuer.slug,
                certificate.standard_code,
                certificate.standard_version,
                " ".join(certificate.scope_gtins),
                certificate.valid_from,
                certificate.valid_until,
                current.next_surveillance_due_on,
                certificate.mark_licence_number,
                certificate.label_quota,
                certificate.labels_issued,
                certificate.issued_at,
                certificate_url(certificate.number),
            ]
        session.expunge_all()  # the identity map would otherwise hold every exported row


MEMBER_COLUMNS = (
    "brand",
    "firm",
    "firm_name_zh",
    "firm_name_en",
    "registration_scheme",
    "registration_number",
    "status",
    "status_reason",
    "applied_at",
    "member_since",
    "status_changed_at",
    "active_certificates",
)


def member_rows(session: Session, statement: Select[Any]) -> Iterator[list[Any]]:
    """One CSV row per membership of ``statement``, read in batches."""
    result = session.execute(statement.execution_options(yield_per=EXPORT_BATCH))
    for batch in result.partitions():
        for row in batch:
            membership: Membership = row.Membership
            yield [
                membership.brand.slug,
                membership.firm.slug,
                membership.firm.name_zh,
                membership.firm.name_en,
                membership.registration_scheme,
                membership.registration_number,
                membership.status.value,
                membership.status_reason,
                membership.applied_at,
                membership.member_since,
                membership.status_changed_at,
                row.certificates,
            ]
        session.expunge_all()


# --- statistics --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterStatistics:
    """Counts over the observed brands, for charts (each list is ``(key, count)``)."""

    brands: list[Brand]
    certified_firms_per_brand: list[tuple[Brand, int]]
    certificates_by_status: list[tuple[CertificateStatus, int]]
    certified_firms_per_region: list[tuple[str, int]]
    labels_issued_per_firm: list[tuple[Organisation, int]]
    labels_issued_per_month: list[tuple[str, int]]
    labels_issued_total: int


def _months_back(today: date, count: int) -> list[str]:
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def register_statistics(
    session: Session, caller: Caller, *, months: int = 12
) -> RegisterStatistics:
    """Certified firms per brand and region, certificates by status as of now, labels issued
    per firm and per month (the last ``months`` calendar months, UTC)."""
    now = utcnow()
    brands = observed_brands(session, caller)
    ids = [brand.id for brand in brands] or [0]
    in_force = _in_force_now(now)

    per_brand = dict(
        session.execute(
            select(Certificate.brand_id, func.count(func.distinct(Certificate.firm_id)))
            .where(Certificate.brand_id.in_(ids), in_force)
            .group_by(Certificate.brand_id)
        ).all()
    )
    current = status_now(now).label("current")
    by_status = dict(
        session.execute(
            select(current, func.count(Certificate.id))
            .where(Certificate.brand_id.in_(ids))
            .group_by(current)
        ).all()
    )
    per_region: dict[str, int] = defaultdict(int)
    for region, count in session.execute(
        select(Organisation.region_code, func.count(func.distinct(Certificate.firm_id)))
        .join(Organisation, Organisation.id == Certificate.firm_id)
        .where(Certificate.brand_id.in_(ids), in_force)
        .group_by(Organisation.region_code)
    ):
        per_region[region or ""] += count

    issued = (
        select(LabelOrder.organisation_id, LabelOrder.quantity, LabelOrder.issued_at)
        .join(Certificate, Certificate.id == LabelOrder.certificate_id)
        .where(Certificate.brand_id.in_(ids), LabelOrder.status.in_(ISSUED_ORDER_STATUSES))
    )
    per_firm: dict[int, int] = defaultdict(int)
    window = _months_back(now.date(), months)
    per_month = dict.fromkeys(window, 0)
    total = 0
    for firm_id, quantity, issued_at in session.execute(issued):
        per_firm[firm_id] += quantity
        total += quantity
        if issued_at is not None:
            month = f"{issued_at.year:04d}-{issued_at.month:02d}"
            if month in per_month:
                per_month[month] += quantity
    firms = {
        firm.id: firm
        for firm in session.scalars(
            select(Organisation).where(Organisation.id.in_(list(per_firm) or [0]))
        )
    }
    return RegisterStatistics(
        brands=brands,
        certified_firms_per_brand=[(brand, per_brand.get(brand.id, 0)) for brand in brands],
        certificates_by_status=[(status, by_status.get(status, 0)) for status in CertificateStatus],
        certified_firms_per_region=sorted(per_region.items(), key=lambda item: (-item[1], item[0])),
        labels_issued_per_firm=sorted(
            ((firms[firm_id], count) for firm_id, count in per_firm.items()),
            key=lambda item: (-item[1], item[0].slug),
        ),
        labels_issued_per_month=list(per_month.items()),
        labels_issued_total=total,
    )


@dataclass(frozen=True)
class ScanStatistics:
    """Consumers' scans over the last ``days`` days and the alerts open now, for charts."""

    days: int
    total: int
    per_day: list[tuple[str, int]]
    by_verdict: list[tuple[Verdict, int]]
    open_alerts_by_kind: list[tuple[AlertKind, int]]


def scan_statistics(session: Session, caller: Caller, *, days: int = 30) -> ScanStatistics:
    """Scans per UTC day (every day, empty ones included) and the verdict mix, reloads
    excluded, from the resolver's summary; open alerts by kind. Scoped like the scans API."""
    summary = summarise_scans(session, caller, days=days)
    counted = {row["day"]: row["total"] for row in summary.by_day}
    per_day = [
        (day.isoformat(), counted.get(day.isoformat(), 0))
        for day in (summary.since + timedelta(days=offset) for offset in range(days))
    ]
    open_alerts = dict(
        session.execute(
            select(ScanAlert.kind, func.count(ScanAlert.id))
            .where(alerts_visible_to(session, caller), ScanAlert.status == AlertStatus.OPEN)
            .group_by(ScanAlert.kind)
        ).all()
    )
    return ScanStatistics(
        days=days,
        total=summary.total,
        per_day=per_day,
        by_verdict=[(verdict, summary.by_verdict.get(verdict.value, 0)) for verdict in Verdict],
        open_alerts_by_kind=[(kind, open_alerts.get(kind, 0)) for kind in AlertKind],
    )


def alerts_visible_to(session: Session, caller: Caller) -> Any:
    """The scans API's rule for which alerts an organisation sees."""
    return resolver_visible(session, ScanAlert, caller)
