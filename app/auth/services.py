"""Organisations, users and API tokens: creation, sign-in and authentication.

Services take the session, flush and never commit; callers commit once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.auth.errors import (
    DuplicateAccount,
    InvalidCredentials,
    InvalidToken,
    TokenAlreadyRevoked,
    WeakPassword,
)
from app.auth.models import ApiToken, EndedSession, Organisation, OrgKind, Role, User
from app.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, Passwords
from app.auth.principal import DEFAULT_TOKEN_SCOPES, Caller
from app.db import utcnow
from app.errors import Conflict, FieldError, InvalidInput, NotFound

TOKEN_PREFIX = "bt_"  # noqa: S105 - a public marker, not a secret
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
SCOPE_RE = re.compile(r"^(\*|[a-z][a-z0-9_-]*):(read|write)$")
MAX_TOKEN_DAYS = 366


def passwords() -> Passwords:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cached: Passwords | None = app.extensions.get("brandtrace.passwords")
    if cached is None:
        cached = Passwords(
            app.config["PASSWORD_HASH_MEMORY_KIB"], app.config["PASSWORD_HASH_TIME_COST"]
        )
        app.extensions["brandtrace.passwords"] = cached
    return cached


def caller_for(user: User, token: ApiToken | None = None) -> Caller:
    return Caller(
        user_id=user.id,
        organisation_id=user.organisation_id,
        organisation_slug=user.organisation.slug,
        org_kind=user.organisation.kind,
        role=user.role,
        email=user.email,
        token_id=token.id if token else None,
        token_scopes=frozenset(token.scopes) if token else None,
    )


def check_password_strength(password: str, *, field: str = "password") -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise WeakPassword(
            gettext(
                "Passwords must have %(low)s to %(high)s characters.",
                low=MIN_PASSWORD_LENGTH,
                high=MAX_PASSWORD_LENGTH,
            ),
            errors=[
                FieldError(
                    field,
                    "length",
                    gettext(
                        "use %(low)s to %(high)s characters",
                        low=MIN_PASSWORD_LENGTH,
                        high=MAX_PASSWORD_LENGTH,
                    ),
                )
            ],
        )


def create_organisation(
    session: Session,
    *,
    slug: str,
    kind: OrgKind,
    name_zh: str,
    name_en: str,
    registration_number: str | None = None,
    registration_scheme: str | None = None,
    region_code: str | None = None,
) -> Organisation:
    """Register an organisation; the slug is its stable public name (URLs, DIDs)."""
    if not SLUG_RE.match(slug):
        raise InvalidInput(
            "The slug must be lower-case letters, digits and dashes.",
            errors=[FieldError("slug", "pattern", "1-64 of a-z, 0-9 and '-', not at the ends")],
        )
    if session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
        raise Conflict(f"An organisation with slug {slug!r} already exists.", slug="duplicate-slug")
    organisation = Organisation(
        slug=slug,
        kind=kind,
        name_zh=name_zh,
        name_en=name_en,
        registration_number=registration_number,
        registration_scheme=registration_scheme,
        region_code=region_code,
    )
    session.add(organisation)
    session.flush()
    return organisation


def get_organisation(session: Session, slug: str) -> Organisation:
    organisation = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        raise NotFound(f"No organisation {slug!r}.")
    return organisation


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    session: Session,
    *,
    organisation: Organisation,
    email: str,
    display_name: str,
    role: Role,
    password: str,
) -> User:
    """Create a person in an organisation with one role; the password is stored as Argon2id."""
    check_password_strength(password)
    email = normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise DuplicateAccount(
            gettext("A user with e-mail %(email)s already exists.", email=email),
            errors=[FieldError("email", "unique", gettext("already registered"))],
        )
    user = User(
        organisation=organisation,
        email=email,
        display_name=display_name,
        role=role,
        password_hash=passwords().hash(password),
    )
    session.add(user)
    session.flush()
    return user


def authenticate_password(session: Session, email: str, password: str) -> User:
    """The active user with this e-mail and password, or ``InvalidCredentials`` (same answer
    and similar timing whether the account exists or not)."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    hasher = passwords()
    ok = hasher.verify(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active or not user.organisation.is_active:
        raise InvalidCredentials(gettext("Wrong e-mail or password."))
    if hasher.needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_login_at = utcnow()
    session.flush()
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Change a password; every other session and nothing else is signed out."""
    if not passwords().verify(user.password_hash, current):
        raise InvalidCredentials(
            gettext("The current password is wrong."),
            errors=[
                FieldError("current_password", "mismatch", gettext("the current password is wrong"))
            ],
        )
    check_password_strength(new, field="new_password")
    user.password_hash = passwords().hash(new)
    user.session_generation += 1
    session.flush()


def _hash_token(secret: str) -> str:
    # Tokens carry 256 random bits, so a plain SHA-256 is enough (no KDF needed, unlike passwords).
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A newly created token: ``secret`` is shown once and never stored."""

    token: ApiToken
    secret: str


def validate_scopes(scopes: Iterable[str]) -> list[str]:
    cleaned = sorted(set(scopes))
    bad = [scope for scope in cleaned if not SCOPE_RE.match(scope)]
    if bad or not cleaned:
        raise InvalidInput(
            gettext("Scopes look like 'brands:read', 'certificates:write', '*:read' or '*:write'."),
            errors=[
                FieldError("scopes", "pattern", gettext("invalid scope '%(scope)s'", scope=scope))
                for scope in bad
            ]
            or [FieldError("scopes", "min_items", gettext("give at least one scope"))],
        )
    return cleaned


def issue_token(
    session: Session,
    user: User,
    *,
    name: str,
    scopes: Iterable[str] = DEFAULT_TOKEN_SCOPES,
    expires_in: timedelta = timedelta(days=90),
    now: datetime | None = None,
) -> IssuedToken:
    """Create an API token for ``user`` acting in its organisation."""
    if not timedelta(minutes=1) <= expires_in <= timedelta(days=MAX_TOKEN_DAYS):
        raise InvalidInput(
            gettext("Tokens expire after 1 minute to %(days)s days.", days=MAX_TOKEN_DAYS),
            errors=[
                FieldError(
                    "expires_in_days", "range", gettext("1 to %(days)s days", days=MAX_TOKEN_DAYS)
                )
            ],
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = now or utcnow()
    token = ApiToken(
        user_id=user.id,
        organisation_id=user.organisation_id,
        name=name,
        token_hash=_hash_token(secret),
        display_prefix=secret[:10],
        scopes=validate_scopes(scopes),
        created_at=now,
        expires_at=now + expires_in,
    )
    session.add(token)
    session.flush()
    return IssuedToken(token=token, secret=secret)


def authenticate_token(session: Session, secret: str) -> tuple[User, ApiToken]:
    """The user and token behind a bearer secret; refuses unknown, revoked, expired tokens."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 128:
        raise InvalidToken(gettext("The bearer token is malformed."))
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(secret)))
    if token is None:
        raise InvalidToken(gettext("The bearer token is not known."))
    if token.revoked_at is not None:
        raise InvalidToken(gettext("The bearer token has been revoked."))
    if token.expires_at <= utcnow():
        raise InvalidToken(gettext("The bearer token has expired."))
    user = token.user
    if not user.is_active or not user.organisation.is_active:
        raise InvalidToken(gettext("The account behind this token is disabled."))
    return user, token


def list_tokens(session: Session, caller: Caller) -> list[ApiToken]:
    """The caller's own tokens; an organisation admin sees every token of the organisation."""
    query = select(ApiToken).where(ApiToken.organisation_id == caller.organisation_id)
    if caller.role != Role.ADMIN:
        query = query.where(ApiToken.user_id == caller.user_id)
    return list(session.scalars(query.order_by(ApiToken.id)))


def get_token(session: Session, caller: Caller, token_id: int) -> ApiToken:
    """A token the caller may see and revoke: one's own (or, for an admin, one of the
    organisation's); any other id is answered as unknown."""
    token = session.get(ApiToken, token_id)
    if (
        token is None
        or token.organisation_id != caller.organisation_id
        or (caller.role != Role.ADMIN and token.user_id != caller.user_id)
    ):
        raise NotFound(gettext("No token %(id)s.", id=token_id))
    return token


def revoke_token(
    session: Session, caller: Caller, token_id: int, *, only_if_active: bool = False
) -> ApiToken:
    """Revoke a token of one's own (or, for an admin, of one's organisation).

    Revoking a revoked token changes nothing; with ``only_if_active`` it is refused with
    :class:`TokenAlreadyRevoked`. The update is conditional, so of two concurrent revocations
    exactly one does it (on PostgreSQL the second waits for the first and then finds none).
    """
    token = get_token(session, caller, token_id)
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.refresh(token)
    if only_if_active and not getattr(result, "rowcount", 0):
        raise TokenAlreadyRevoked(gettext("Token %(name)s was already revoked.", name=token.name))
    return token


def list_users(session: Session, caller: Caller) -> list[User]:
    return list(
        session.scalars(
            select(User).where(User.organisation_id == caller.organisation_id).order_by(User.id)
        )
    )


def get_user_in_org(session: Session, caller: Caller, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.organisation_id != caller.organisation_id:
        raise NotFound(gettext("No user %(id)s.", id=user_id))
    return user


def update_user(
    session: Session,
    caller: Caller,
    user_id: int,
    *,
    role: Role | None,
    is_active: bool | None,
    display_name: str | None,
) -> User:
    """An admin changes a colleague's role or disables the account (not their own: an
    organisation must never lock out its last admin by accident)."""
    user = get_user_in_org(session, caller, user_id)
    if user.id == caller.user_id and (role not in (None, Role.ADMIN) or is_active is False):
        raise Conflict(gettext("Admins cannot demote or disable themselves."), slug="self-demotion")
    if role is not None:
        user.role = role
    if is_active is not None:
        user.is_active = is_active
        if not is_active:
            user.session_generation += 1
            for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
                token.revoked_at = token.revoked_at or utcnow()
    if display_name is not None:
        user.display_name = display_name
    session.flush()
    return user


def new_session_id() -> str:
    """A browser session's random id (``session["sid"]``), what signing out records."""
    return secrets.token_urlsafe(32)


def end_session(session: Session, session_id: object, lifetime: timedelta) -> None:
    """Record a signed-out browser session, so that copies of its cookie stop working; kept
    until the cookie would have expired (``lifetime`` from now). Records whose cookies have
    expired go at the same time: the table holds only sessions that could still be replayed."""
    now = utcnow()
    session.execute(delete(EndedSession).where(EndedSession.expires_at < now))
    if not isinstance(session_id, str) or not session_id:
        return
    if session.get(EndedSession, session_id) is None:
        session.add(EndedSession(session_id=session_id, expires_at=now + lifetime))
        session.flush()


def _session_data(web_session: dict[str, object] | object) -> dict[str, object]:
    return web_session if isinstance(web_session, dict) else dict(web_session)  # type: ignore[call-overload]


def _active_user(session: Session, data: dict[str, object]) -> User | None:
    """The session's user, if that person and their organisation are still active."""
    user_id = data.get("user_id")
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active or not user.organisation.is_active:
        return None
    return user


def session_user(session: Session, web_session: dict[str, object] | object) -> User | None:
    """The user of a signed browser session, if it is still valid: not signed out (its id is
    not among the ended sessions), the user and organisation active, same generation."""
    data = _session_data(web_session)
    session_id = data.get("sid")
    if not isinstance(session_id, str) or session.get(EndedSession, session_id) is not None:
        return None
    user = _active_user(session, data)
    if user is None or data.get("generation") != user.session_generation:
        return None
    return user


def session_end_reason(session: Session, web_session: dict[str, object] | object) -> str:
    """Why a signed browser session is no longer valid: ``password-changed`` when the password
    was changed since (in another session), else ``ended``."""
    data = _session_data(web_session)
    user = _active_user(session, data)
    if user is not None and data.get("generation") != user.session_generation:
        return "password-changed"
    return "ended"
