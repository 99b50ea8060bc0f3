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
