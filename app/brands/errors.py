"""Errors of the brands domain; each has a stable slug (``<base>/problems/<slug>``)."""

from app.errors import Conflict, Forbidden, InvalidInput


class DuplicateBrand(Conflict):
    slug = "duplicate-brand"


class NotBrandOwner(Forbidden):
    """Only people of the association that owns the brand may change it."""

    slug = "not-brand-owner"


class InvalidBrand(InvalidInput):
    slug = "invalid-brand"


class CoBuilderRefused(Conflict):
    slug = "co-builder-refused"


class InvalidRegistration(InvalidInput):
    """A firm's registration number breaks its scheme's rules (for the unified social credit
    code: length, alphabet, authority, type, division or check character)."""

    slug = "invalid-registration-number"


class OpenMembershipExists(Conflict):
    slug = "membership-exists"


class MembershipTransitionRefused(Conflict):
    slug = "membership-transition-refused"
