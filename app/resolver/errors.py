"""Errors of the consumer scan (categories from app.errors; stable slugs)."""

from __future__ import annotations

from app.errors import BadRequest, Conflict, NotFound


class BadDigitalLink(BadRequest):
    """The request is not a valid GS1 Digital Link (field errors say what is wrong)."""

    slug = "invalid-digital-link"


class AlertNotFound(NotFound):
    slug = "alert-not-found"


class AlertAlreadyResolved(Conflict):
    slug = "alert-already-resolved"


class ReportNotFound(NotFound):
    slug = "report-not-found"


class ReportTransitionRefused(Conflict):
    """A review moves a report to being reviewed or closed, never back to new."""

    slug = "report-transition-refused"


class LocationRefused(Conflict):
    slug = "location-refused"
