"""Errors of the standards domain; each has a stable slug (``<base>/problems/<slug>``)."""

from app.errors import Conflict, InvalidInput


class DuplicateStandardCode(Conflict):
    slug = "duplicate-standard-code"


class DuplicateVersion(Conflict):
    slug = "duplicate-version"


class VersionImmutable(Conflict):
    """A published (or superseded, or withdrawn) version never changes: make a new version."""

    slug = "version-immutable"


class VersionTransitionRefused(Conflict):
    slug = "version-transition-refused"


class InvalidStandardContent(InvalidInput):
    slug = "invalid-standard-content"
