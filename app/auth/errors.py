"""Errors of the auth domain."""

from app.errors import Conflict, InvalidInput, Unauthenticated


class InvalidCredentials(Unauthenticated):
    slug = "invalid-credentials"


class InvalidToken(Unauthenticated):
    slug = "invalid-token"


class DuplicateAccount(Conflict):
    slug = "duplicate-account"


class WeakPassword(InvalidInput):
    slug = "weak-password"


class TokenAlreadyRevoked(Conflict):
    """A token revoked before (a form sent twice, or two people at once)."""

    slug = "token-already-revoked"
