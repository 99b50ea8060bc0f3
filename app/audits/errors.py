"""Errors of the audits domain; each has a stable slug (``<base>/problems/<slug>``)."""

from app.errors import Conflict, Forbidden, InvalidInput


class VersionNotAuditable(Conflict):
    """Audits apply published standards only: never a draft, never a withdrawn version."""

    slug = "standard-version-not-published"


class NotAMember(Conflict):
    slug = "firm-not-a-member"


class AuditLocked(Conflict):
    """A signed-off audit no longer changes: its results are what the decision is based on."""

    slug = "audit-locked"


class AuditIncomplete(InvalidInput):
    slug = "audit-incomplete"


class InvalidMeasurement(InvalidInput):
    """A value outside its criterion's type (text for a number, a number for a yes/no...)."""

    slug = "invalid-measurement"


class InvalidScope(InvalidInput):
    slug = "invalid-audit-scope"


class OwnAuditDecision(Forbidden):
    """Maker-checker: nobody decides on an audit they conducted, recorded or signed off."""

    slug = "own-audit-decision"


class DecisionRefused(Conflict):
    slug = "decision-refused"


class DecisionNotGranted(Conflict):
    slug = "decision-not-granted"
