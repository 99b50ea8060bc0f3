"""Words for the resolver's codes in the portals (alert kinds and statuses, resolutions,
report statuses, verdicts): shared by the triage screens and the observers' statistics."""

from __future__ import annotations

from flask_babel import lazy_gettext

from app.resolver.models import AlertKind, AlertResolution, AlertStatus, ReportStatus
from app.resolver.rules import RuleKind
from app.resolver.verdicts import Verdict

ALERT_KIND_LABELS = {
    AlertKind.REPEAT_SCANS: lazy_gettext("One pack scanned by too many shoppers"),
    AlertKind.MANY_CLIENTS: lazy_gettext("Many shoppers in a short time (cloned label?)"),
    AlertKind.AFTER_CONSUMED: lazy_gettext("Scanned again after it was used up"),
    AlertKind.BLACKLISTED_HIT: lazy_gettext("Blocked code scanned"),
    AlertKind.INACTIVE_HIT: lazy_gettext("Label scanned before activation (leaked label?)"),
    AlertKind.UNKNOWN_CODE: lazy_gettext("Code never issued, under a registered GTIN"),
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
# What an alert means, in words for anyone who reads it (the kind's label is the headline).
ALERT_KIND_MEANINGS = {
    AlertKind.REPEAT_SCANS: lazy_gettext(
        "More different shoppers have checked this one pack than the brand's rule allows. A "
        "genuine pack is checked by a few people; many suggest its label was copied."
    ),
    AlertKind.MANY_CLIENTS: lazy_gettext(
        "Many different phones checked this one pack within a short time, which a single pack "
        "on a shelf rarely sees: its label may have been copied onto fakes."
    ),
    AlertKind.AFTER_CONSUMED: lazy_gettext(
        "This pack was already marked as opened or used, and it was checked again by someone "
        "else: its packaging may be refilled and sold again."
    ),
    AlertKind.BLACKLISTED_HIT: lazy_gettext(
        "A label that had been blocked (reported lost, stolen or misprinted) was checked by a "
        "shopper: the label is still in circulation."
    ),
    AlertKind.INACTIVE_HIT: lazy_gettext(
        "A label that was printed but never activated for sale was checked by a shopper: it may "
        "have left the printer or the warehouse without the goods."
    ),
    AlertKind.UNKNOWN_CODE: lazy_gettext(
        "A shopper checked a code under this product's GTIN whose serial number was never "
        "issued: the label was most likely made by a counterfeiter."
    ),
}
# What the firm whose product it is can do about it.
FIRM_ALERT_ADVICE = {
    AlertKind.REPEAT_SCANS: lazy_gettext(
        "Check where this batch was sold. If the label was copied, blacklist its serial on the "
        "label order (shoppers are then warned) and tell the association."
    ),
    AlertKind.MANY_CLIENTS: lazy_gettext(
        "Check where this batch was sold. If the label was copied, blacklist its serial on the "
        "label order (shoppers are then warned) and tell the association."
    ),
    AlertKind.AFTER_CONSUMED: lazy_gettext(
        "Ask the shops that sell this batch about refilled packaging, and tell the association "
        "if it happens again."
    ),
    AlertKind.BLACKLISTED_HIT: lazy_gettext(
        "Nothing more is needed for this label: shoppers already see that it is blocked. If "
        "blocked labels keep being scanned, tell the association where."
    ),
    AlertKind.INACTIVE_HIT: lazy_gettext(
        "If the goods were sold, activate the label order; if the labels went missing, "
        "blacklist them so shoppers are warned."
    ),
    AlertKind.UNKNOWN_CODE: lazy_gettext(
        "This is a likely counterfeit of your product: tell the association and the market "
        "regulator, with where it was found if you know."
    ),
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
# The brand's anomaly rules (scan-rules screen): a name and what the numbers mean.
RULE_LABELS = {
    RuleKind.REPEAT_SCANS: lazy_gettext("Too many shoppers for one pack"),
    RuleKind.MANY_CLIENTS: lazy_gettext("Many shoppers within a short time"),
    RuleKind.AFTER_CONSUMED: lazy_gettext("Checked again after it was used"),
    RuleKind.BLACKLISTED_HIT: lazy_gettext("A blocked code is checked"),
    RuleKind.INACTIVE_HIT: lazy_gettext("A code is checked before activation"),
    RuleKind.UNKNOWN_CODE: lazy_gettext("A code never issued is checked"),
    RuleKind.CONSUME_ON_FIRST_SCAN: lazy_gettext("Mark a pack as used at its first check"),
}
RULE_HINTS = {
    RuleKind.REPEAT_SCANS: lazy_gettext(
        "Alert when more than the threshold of different shoppers have checked one pack, ever."
    ),
    RuleKind.MANY_CLIENTS: lazy_gettext(
        "Alert when the threshold of different shoppers or more checked one pack within the window."
    ),
    RuleKind.AFTER_CONSUMED: lazy_gettext(
        "Alert when someone else checks a pack already marked as opened or used."
    ),
    RuleKind.BLACKLISTED_HIT: lazy_gettext("Alert when a shopper checks a blacklisted label."),
    RuleKind.INACTIVE_HIT: lazy_gettext(
        "Alert when a shopper checks a label that was printed but never activated."
    ),
    RuleKind.UNKNOWN_CODE: lazy_gettext(
        "Alert when a shopper checks a serial never issued under a registered GTIN."
    ),
    RuleKind.CONSUME_ON_FIRST_SCAN: lazy_gettext(
        "Not an alert: for single-use packs, the first genuine check marks the pack as used, so "
        "later checks by others raise the alert above."
    ),
}
