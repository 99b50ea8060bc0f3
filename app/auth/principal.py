"""Who is calling, and the one authorisation rule every endpoint states."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.auth.models import OrgKind, Role


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of a request or CLI command."""

    user_id: int
    organisation_id: int
    organisation_slug: str
    org_kind: OrgKind
    role: Role
    email: str
    token_id: int | None = None
    # None means a signed-in browser session, which carries every scope of its role.
    token_scopes: frozenset[str] | None = None

    def has_scope(self, scope: str | None) -> bool:
        """Scopes are ``<area>:read`` or ``<area>:write``; ``*:read`` and ``*:write`` cover
        every area."""
        if scope is None or self.token_scopes is None:
            return True
        action = scope.rpartition(":")[2]
        return scope in self.token_scopes or f"*:{action}" in self.token_scopes


ALL_KINDS = frozenset(OrgKind)
ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class Access:
    """Which organisation kinds and roles may call an endpoint, with which token scope.

    ``public`` endpoints need no caller at all. Everything else requires an authenticated
    caller whose organisation kind and role are listed and, for API tokens, the scope; data is
    then scoped to the caller's organisation by the services. ``scope`` None means the route
    derives it from its area and method (``<area>:read`` for GET, ``<area>:write`` otherwise).
    """

    kinds: frozenset[OrgKind] = ALL_KINDS
    roles: frozenset[Role] = ALL_ROLES
    scope: str | None = None
    public: bool = False

    def allows(self, caller: Caller | None) -> bool:
        if self.public:
            return True
        if caller is None or caller.org_kind not in self.kinds:
            return False
        return caller.role in self.roles

    def describe(self) -> str:
        if self.public:
            return "public"
        kinds = ", ".join(sorted(self.kinds))
        roles = ", ".join(sorted(self.roles))
        return f"organisations: {kinds}; roles: {roles}" + (
            f"; scope: {self.scope}" if self.scope else ""
        )


PUBLIC = Access(public=True)


def allow(
    kinds: Iterable[OrgKind] = ALL_KINDS,
    roles: Iterable[Role] = ALL_ROLES,
    scope: str | None = None,
) -> Access:
    """Build an :class:`Access` rule.

    Example: ``allow([OrgKind.ASSOCIATION], [Role.ADMIN], "brands:write")``.
    """
    return Access(kinds=frozenset(kinds), roles=frozenset(roles), scope=scope)


DEFAULT_TOKEN_SCOPES = ("*:read", "*:write")
