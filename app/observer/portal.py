"""The observer's portal pages: the register of brands, member firms and certificates (with
search, filters, sorting, paging and CSV export) and statistics with charts.

For government bodies and alliances (read only), and associations, over the brands their
organisation owns or co-builds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from sqlalchemy.orm import Session

from app.auth.models import OrgKind, Role
from app.auth.principal import Caller, allow
from app.brands.models import Brand, Membership, MembershipStatus
from app.certificates.credentials import effective_status, standing, status_reason_text
from app.certificates.models import Certificate, CertificateStatus
from app.certificates.register import filter_by_status
from app.db import utcnow
from app.errors import NotFound
from app.extensions import db
from app.http.streaming import streamed_response
from app.http.web import page
from app.i18n import current_locale, list_text
from app.i18n import region_name as shared_region_name
from app.observer import services
from app.portal.charts import bar_chart, line_chart
from app.portal.nav import nav_item
from app.portal.tables import Column, Filter, build_table, table_query
from app.resolver import services as resolver
from app.resolver.labels import ALERT_KIND_LABELS, RULE_HINTS, RULE_LABELS, VERDICT_LABELS
from app.resolver.rules import NUMERIC_KINDS

bp = Blueprint("observer_portal", __name__, url_prefix="/portal", template_folder="templates")

OBSERVERS = allow(kinds=[OrgKind.GOVERNMENT, OrgKind.ALLIANCE, OrgKind.ASSOCIATION])
SECTION = lazy_gettext("Oversight")

nav_item(SECTION, lazy_gettext("Brand register"), "observer_portal.register", OBSERVERS, order=500)
nav_item(SECTION, lazy_gettext("Statistics"), "observer_portal.statistics", OBSERVERS, order=510)

CERTIFICATE_STATUS_LABELS = {
    CertificateStatus.ACTIVE: lazy_gettext("Active"),
    CertificateStatus.SUSPENDED: lazy_gettext("Suspended"),
    CertificateStatus.WITHDRAWN: lazy_gettext("Withdrawn"),
    CertificateStatus.CANCELLED: lazy_gettext("Cancelled"),
    CertificateStatus.SUPERSEDED: lazy_gettext("Superseded"),
    CertificateStatus.EXPIRED: lazy_gettext("Expired"),
}
# Why a certificate is not in force (``credentials.Standing.reason``).
NOT_IN_FORCE_LABELS = {
    **{status.value: label for status, label in CERTIFICATE_STATUS_LABELS.items()},
    "key_revoked": lazy_gettext("Signed with a revoked key: the association must re-issue it"),
    "not_yet_valid": lazy_gettext("Not yet valid"),
    "surveillance_overdue": lazy_gettext("Surveillance audit overdue"),
    "surveillance_refused": lazy_gettext("Surveillance audit refused"),
}
MEMBERSHIP_STATUS_LABELS = {
    MembershipStatus.APPLIED: lazy_gettext("Application pending"),
    MembershipStatus.APPROVED: lazy_gettext("Member"),
    MembershipStatus.REJECTED: lazy_gettext("Rejected"),
    MembershipStatus.SUSPENDED: lazy_gettext("Suspended"),
    MembershipStatus.LEFT: lazy_gettext("Left"),
}


def _local(zh: str, en: str) -> str:
    return zh if current_locale() == "zh_CN" else en


def region_name(code: str) -> str:
    """An ISO 3166-2 code's name in the page language (the code itself when unknown)."""
    return shared_region_name(code, gettext("Unknown"))


def _with_query(path: str) -> str:
    """``path`` with this request's query string (an export of exactly what the table shows)."""
    query = request.query_string.decode("utf-8", "replace")
    return f"{path}?{query}" if query else path


def _brand_choices(brands: list[Brand]) -> list[tuple[str, str]]:
    return [(brand.slug, _local(brand.name_zh, brand.name_en)) for brand in brands]


# --- register ----------------------------------------------------------------------------------


@page(bp, "/register", access=OBSERVERS)
def register(caller: Caller) -> ResponseReturnValue:
    """The brands the organisation owns or co-builds, with members and certificates counted."""
    name = Brand.name_zh if current_locale() == "zh_CN" else Brand.name_en
    table = build_table(
        db.session,
        services.brands_statement(db.session, caller),
        columns=[
            Column("name", lazy_gettext("Brand"), sort=name),
            Column("region", lazy_gettext("Region"), sort=Brand.region_code),
            Column("category", lazy_gettext("Product category")),
            Column("owner", lazy_gettext("Owner")),
            Column("members", lazy_gettext("Member firms")),
            Column("certificates", lazy_gettext("Active certificates")),
        ],
        filters=[Filter("q", lazy_gettext("Search"), services.search_brands)],
        args=request.args,
        default_sort="name",
        default_descending=False,
        scalars=False,
    )
    return render_template("observer/portal/register_brands.html", table=table, tab="brands")


def _member_table_spec(caller: Caller) -> dict[str, Any]:
    brands = services.observed_brands(db.session, caller)
    firm = services.MEMBER_FIRM
    return dict(
        columns=[
            Column(
                "firm",
                lazy_gettext("Firm"),
                sort=firm.name_zh if current_locale() == "zh_CN" else firm.name_en,
            ),
            Column("registration_number", lazy_gettext("Company registration number")),
            Column("brand", lazy_gettext("Brand")),
            Column("status", lazy_gettext("Status"), sort=Membership.status),
            Column("member_since", lazy_gettext("Member since"), sort=Membership.member_since),
            Column("certificates", lazy_gettext("Active certificates")),
            Column(
                "status_changed_at",
                lazy_gettext("Last change"),
                sort=Membership.status_changed_at,
            ),
        ],
        filters=[
            Filter("q", lazy_gettext("Firm or registration number"), services.search_members),
            Filter(
                "status",
                lazy_gettext("Status"),
                lambda s, v: s.where(Membership.status == v),
                choices=[(str(k), str(v)) for k, v in MEMBERSHIP_STATUS_LABELS.items()],
            ),
            Filter(
                "brand",
                lazy_gettext("Brand"),
                services.filter_by_brand(Membership),
                choices=_brand_choices(brands),
            ),
        ],
        default_sort="firm",
        default_descending=False,
    )


@page(bp, "/register/members", access=OBSERVERS)
def members(caller: Caller) -> ResponseReturnValue:
    """Member firms of the observed brands: applications, members, suspensions, refusals."""
    spec = _member_table_spec(caller)
    table = build_table(
        db.session,
        services.members_statement(db.session, caller),
        args=request.args,
        scalars=False,
        **spec,
    )
    return render_template(
        "observer/portal/register_members.html",
        table=table,
        tab="members",
        status_labels=MEMBERSHIP_STATUS_LABELS,
        export_url=_with_query(url_for("observer_portal.members_csv")),
    )


@page(bp, "/register/scan-rules", access=OBSERVERS)
def scan_rules(caller: Caller) -> ResponseReturnValue:
    """The scan alert rules in force for one observed brand, read only (the brand's owner
    changes them on its own screen)."""
    brands = services.observed_brands(db.session, caller)
    wanted = request.args.get("brand")
    brand = next((b for b in brands if b.slug == wanted), None) if wanted else None
    if wanted and brand is None:
        raise NotFound(
            gettext(
                "No brand %(slug)s among those your organisation owns or co-builds.",
                slug=wanted[:100],
            )
        )
    brand = brand or (brands[0] if brands else None)
    return render_template(
        "observer/portal/register_scan_rules.html",
        tab="scan_rules",
        brand=brand,
        brands=brands,
        rules=resolver.list_rules(db.session, caller, brand.slug) if brand else [],
        rule_labels=RULE_LABELS,
        rule_hints=RULE_HINTS,
        numeric=NUMERIC_KINDS,
        may_change=brand is not None
        and brand.owner_id == caller.organisation_id
        and caller.role == Role.ADMIN,
    )


def _certificate_table_spec(caller: Caller) -> dict[str, Any]:
    brands = services.observed_brands(db.session, caller)
    holder = (
        Certificate.holder_name_zh if current_locale() == "zh_CN" else Certificate.holder_name_en
    )
    return dict(
        columns=[
            Column("number", lazy_gettext("Number"), sort=Certificate.number),
            Column("holder", lazy_gettext("Holder"), sort=holder),
            Column("brand", lazy_gettext("Brand")),
            Column("standard", lazy_gettext("Standard")),
            Column("status", lazy_gettext("Status"), sort=Certificate.status),
            Column("in_force", lazy_gettext("In force now")),
            Column("valid_until", lazy_gettext("Valid until"), sort=Certificate.valid_until),
            Column("labels", lazy_gettext("Labels issued / quota"), sort=Certificate.labels_issued),
            Column("issued_at", lazy_gettext("Issued"), sort=Certificate.issued_at),
        ],
        filters=[
            Filter(
                "q",
                lazy_gettext("Number, holder or registration number"),
                services.search_certificates,
            ),
            Filter(
                "status",
                lazy_gettext("Status"),
                filter_by_status,
                choices=[(str(k), str(v)) for k, v in CERTIFICATE_STATUS_LABELS.items()],
            ),
            Filter(
                "brand",
                lazy_gettext("Brand"),
                services.filter_by_brand(Certificate),
                choices=_brand_choices(brands),
            ),
        ],
        default_sort="issued_at",
        default_descending=True,
    )


@page(bp, "/register/certificates", access=OBSERVERS)
def certificates(caller: Caller) -> ResponseReturnValue:
    """Certificates of the observed brands, each with whether it is in force now and why not."""
    spec = _certificate_table_spec(caller)
    table = build_table(
        db.session,
        services.certificates_statement(db.session, caller),
        args=request.args,
        **spec,
    )
    now = utcnow()
    standings = {row.id: standing(db.session, row, now) for row in table.rows}
    statuses = {row.id: effective_status(row, now) for row in table.rows}
    brands = {brand.id: brand for brand in services.observed_brands(db.session, caller)}
    return render_template(
        "observer/portal/register_certificates.html",
        table=table,
        tab="certificates",
        standings=standings,
        statuses=statuses,
        brands=brands,
        status_labels=CERTIFICATE_STATUS_LABELS,
        reason_labels=NOT_IN_FORCE_LABELS,
        status_reason_text=status_reason_text,
        export_url=_with_query(url_for("observer_portal.certificates_csv")),
    )


def _csv_response(
    stem: str, header: Sequence[str], rows: Callable[[Session], Iterable[Sequence[Any]]]
) -> Response:
    """Stream CSV lines as a download (one batch of rows in memory at a time), read on a
    session of the stream's own: the request's is closed before the body is sent."""
    response = streamed_response(
        lambda session: services.csv_lines(header, rows(session)), mimetype="text/csv"
    )
    filename = f"{stem}-{utcnow():%Y%m%d}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@page(bp, "/register/certificates.csv", access=OBSERVERS)
def certificates_csv(caller: Caller) -> ResponseReturnValue:
    """The certificate register as CSV: every certificate the filters select, in table order."""
    spec = _certificate_table_spec(caller)
    query = table_query(
        services.certificates_statement(db.session, caller), args=request.args, **spec
    )
    statement = query.statement
    return _csv_response(
        "certificates",
        services.CERTIFICATE_COLUMNS,
        lambda session: services.certificate_rows(session, statement),
    )


@page(bp, "/register/members.csv", access=OBSERVERS)
def members_csv(caller: Caller) -> ResponseReturnValue:
    """Member firms as CSV: every membership the filters select, in table order."""
    spec = _member_table_spec(caller)
    query = table_query(services.members_statement(db.session, caller), args=request.args, **spec)
    statement = query.statement
    return _csv_response(
        "members",
        services.MEMBER_COLUMNS,
        lambda session: services.member_rows(session, statement),
    )


# --- statistics --------------------------------------------------------------------------------


@page(bp, "/statistics", access=OBSERVERS)
def statistics(caller: Caller) -> ResponseReturnValue:
    """Charts over the observed brands, each with its numbers as a table."""
    found = services.register_statistics(db.session, caller)
    scans = services.scan_statistics(db.session, caller)
    charts = [
        _chart(
            "certified-firms",
            gettext("Certified firms per brand"),
            [(_local(b.name_zh, b.name_en), n) for b, n in found.certified_firms_per_brand],
            gettext("Brand"),
        ),
        _chart(
            "certificates-by-status",
            gettext("Certificates by status"),
            [(str(CERTIFICATE_STATUS_LABELS[s]), n) for s, n in found.certificates_by_status],
            gettext("Status"),
        ),
        _chart(
            "certified-firms-by-region",
            gettext("Certified firms by region"),
            [(region_name(code), n) for code, n in found.certified_firms_per_region],
            gettext("Region"),
        ),
        _chart(
            "labels-per-firm",
            gettext("Labels issued per firm"),
            [(_local(f.name_zh, f.name_en), n) for f, n in found.labels_issued_per_firm],
            gettext("Firm"),
        ),
        _chart(
            "labels-per-month",
            gettext("Labels issued per month"),
            found.labels_issued_per_month,
            gettext("Month"),
            line=True,
        ),
        _chart(
            "scans-per-day",
            gettext("Scans per day (last %(days)s days)", days=scans.days),
            scans.per_day,
            gettext("Day"),
            line=True,
        ),
        _chart(
            "verdict-mix",
            gettext("Verdicts given (last %(days)s days)", days=scans.days),
            [(str(VERDICT_LABELS[v]), n) for v, n in scans.by_verdict],
            gettext("Verdict"),
        ),
        _chart(
            "open-alerts",
            gettext("Open scan alerts by kind"),
            [(str(ALERT_KIND_LABELS[k]), n) for k, n in scans.open_alerts_by_kind],
            gettext("Alert"),
        ),
    ]
    return render_template(
        "observer/portal/statistics.html",
        charts=charts,
        brands=found.brands,
        brand_list=list_text(_local(b.name_zh, b.name_en) for b in found.brands),
        labels_total=found.labels_issued_total,
        scans_total=scans.total,
        scan_days=scans.days,
    )


def _chart(
    key: str, title: str, items: list[tuple[str, int]], label: str, *, line: bool = False
) -> dict[str, Any]:
    svg = line_chart(items, title=title) if line else bar_chart(items, title=title)
    return {"key": key, "title": title, "svg": svg, "items": items, "label": label}
