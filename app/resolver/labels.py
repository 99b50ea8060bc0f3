"""Words for the resolver's codes in the portals (alert kinds and statuses, resolutions,
report statuses, verdicts): shared by the triage screens and the observers' statistics."""

from __future__ import annotations

from flask_babel import lazy_gettext

from app.resolver.models import AlertKind, AlertResolution, AlertStatus, ReportStatus
from app.resolver.verdicts import Verdict

ALERT_KIND_LABELS = {
    AlertKind.REPEAT_SCANS: lazy_gettext("Scanned by too many shoppers"),
    AlertKind.MANY_CLIENTS: lazy_gettext("Many shoppers in a short time (cloned label?)"),
    AlertKind.AFTER_CONSUMED: lazy_gettext("Scanned after it was consumed"),
    AlertKind.BLACKLISTED_HIT: lazy_gettext("Blocked code scanned"),
    AlertKind.INACTIVE_HIT: lazy_gettext("Code scanned before activation (leaked label?)"),
    AlertKind.UNKNOWN_CODE: lazy_gettext("Unknown code under one of our GTINs"),
}
ALERT_STATUS_LABELS = {
    AlertStatus.OPEN: lazy_gettext("Open"),
    AlertStatus.RESOLVED: lazy_gettext("Resolved"),
}
RESOLUTION_LABELS = {
    AlertResolution.CONFIRMED_COUNTERFEIT: lazy_gettext("Confirmed counterfeit"),
    AlertResolution.FALSE_ALARM: lazy_gettext("False alarm"),
    AlertResolution.LABELS_BLACKLISTED: lazy_gettext("Labels blacklisted"),
    AlertResolution.OTHER: lazy_gettext("Other (see the note)"),
}
REPORT_STATUS_LABELS = {
    ReportStatus.NEW: lazy_gettext("New"),
    ReportStatus.REVIEWING: lazy_gettext("Being reviewed"),
    ReportStatus.CLOSED: lazy_gettext("Closed"),
}
VERDICT_LABELS = {
    Verdict.GENUINE: lazy_gettext("Genuine"),
    Verdict.GENUINE_WITH_WARNING: lazy_gettext("Genuine, with a warning"),
    Verdict.NOT_VALID: lazy_gettext("Not valid"),
    Verdict.NOT_ACTIVATED: lazy_gettext("Not activated"),
    Verdict.BLOCKED: lazy_gettext("Blocked"),
    Verdict.NOT_FOUND: lazy_gettext("Not found"),
}
