"""The association's overview page: its to-do list and charts of the regional brand and of
consumers' scans."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext

from app.association.services import association_overview
from app.auth.models import OrgKind
from app.auth.principal import Caller, allow
from app.certificates.models import CertificateStatus
from app.extensions import db
from app.http.web import page
from app.i18n import current_locale
from app.i18n import region_name as shared_region_name
from app.portal.charts import bar_chart, line_chart
from app.portal.nav import nav_item
from app.resolver.labels import ALERT_KIND_LABELS, VERDICT_LABELS

bp = Blueprint("association_portal", __name__, url_prefix="/portal", template_folder="templates")

ASSOCIATION = allow([OrgKind.ASSOCIATION])
SECTION = lazy_gettext("Association")

nav_item(SECTION, lazy_gettext("Overview"), "association_portal.overview", ASSOCIATION, order=100)

CERTIFICATE_STATUSES = {
    CertificateStatus.ACTIVE: lazy_gettext("Active"),
    CertificateStatus.SUSPENDED: lazy_gettext("Suspended"),
    CertificateStatus.WITHDRAWN: lazy_gettext("Withdrawn"),
    CertificateStatus.CANCELLED: lazy_gettext("Cancelled"),
    CertificateStatus.SUPERSEDED: lazy_gettext("Superseded"),
    CertificateStatus.EXPIRED: lazy_gettext("Expired"),
}


def region_name(code: str | None) -> str:
    """A member region's name in the page language, or a word for unknown regions."""
    return shared_region_name(code, gettext("Region not recorded"))


@page(bp, "/overview", access=ASSOCIATION)
def overview(caller: Caller) -> ResponseReturnValue:
    """Certified firms, labels issued, certificates by status, members by region, and
    consumer scans: per day, the verdict mix and open alerts."""
    data = association_overview(db.session, caller)
    chinese = current_locale() == "zh_CN"
    names = {b.slug: (b.name_zh if chinese else b.name_en) for b in data.brands}
    firms = [(names[slug], count) for slug, count in data.firms_by_brand.items()]
    statuses = [
        (str(label), data.certificates_by_status[status])
        for status, label in CERTIFICATE_STATUSES.items()
    ]
    labels = [(use.number, use.labels_issued) for use in data.labels[:10]]
    regions = sorted(
        ((region_name(code), count) for code, count in data.members_by_region.items()),
        key=lambda item: (-item[1], item[0]),
    )
    scans = data.scans
    per_day = [(day.strftime("%m-%d"), count) for day, count in scans.per_day]
    verdicts = [(str(label), scans.verdicts[verdict]) for verdict, label in VERDICT_LABELS.items()]
    alerts = [(str(label), scans.open_alerts[kind]) for kind, label in ALERT_KIND_LABELS.items()]
    charts = {
        "scans": line_chart(
            per_day, title=gettext("Counted scans per day, last %(days)s days", days=scans.days)
        ),
        "verdicts": bar_chart(verdicts, title=gettext("Verdicts given")),
        "alerts": bar_chart(alerts, title=gettext("Open anomaly alerts by kind")),
        "firms": bar_chart(firms, title=gettext("Firms with a certificate in force, by brand")),
        "statuses": bar_chart(statuses, title=gettext("Certificates by status")),
        "labels": bar_chart(labels, title=gettext("Labels issued per certificate")),
        "regions": bar_chart(regions, title=gettext("Member firms by region")),
    }
    return render_template(
        "association/portal/overview.html",
        data=data,
        charts=charts,
        firms=firms,
        statuses=statuses,
        regions=regions,
        verdicts=verdicts,
        alerts=alerts,
    )
