"""Errors of the traceability domain."""

from flask_babel import lazy_gettext

from app.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge


class DocumentInvalid(InvalidInput):
    """An EPCIS document breaks the schema, the CBV rules or our identifier rules."""

    slug = "epcis-document-invalid"
    title = lazy_gettext("Invalid EPCIS document")


class CaptureNotAuthorised(Forbidden):
    """An event names products of a firm that neither is the caller nor authorised it."""

    slug = "epcis-capture-not-authorised"
    title = lazy_gettext("Not allowed to record events about these products")


class EventIdTaken(Conflict):
    slug = "epcis-event-id-taken"


class CaptureTooLarge(PayloadTooLarge):
    slug = "epcis-capture-too-large"


class EventNotFound(NotFound):
    slug = "epcis-event-not-found"


class DuplicateLocation(Conflict):
    slug = "duplicate-location"


class DuplicatePartner(Conflict):
    slug = "duplicate-partner-authorisation"


class RecallConflict(Conflict):
    slug = "recall-conflict"


class VersionNotSupported(AppError):
    """The client asked for EPCIS or CBV versions this repository does not speak (2.0 only)."""

    status = 406
    slug = "epcis-version-not-supported"
    title = lazy_gettext("EPCIS or CBV version not supported")
