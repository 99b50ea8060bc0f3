"""Account API: who am I, colleagues, API tokens."""

from datetime import timedelta

from flask import Blueprint
from flask_babel import gettext

from app.auth import services
from app.auth.models import ApiToken, Role, User
from app.auth.principal import Caller, allow
from app.auth.schemas import (
    MeOut,
    OrganisationOut,
    PasswordChange,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from app.db import utcnow
from app.errors import FieldError, Forbidden
from app.extensions import db, limiter
from app.http.api import route, set_activity_target
from app.http.client import account_or_address

bp = Blueprint("auth", __name__, url_prefix="/api/v1")

ADMINS = allow(roles=[Role.ADMIN], scope="accounts:write")
ANYONE = allow(scope="accounts:read")
# Changing a password proves the current one: as many guesses as signing in allows.
PASSWORD_TRIES = "10 per minute"  # noqa: S105 - a rate limit, not a password


@route(bp, "/me", access=ANYONE, response=MeOut, area="accounts")
def me(caller: Caller) -> dict[str, object]:
    """The caller's account, organisation and token scopes."""
    user = db.session.get(User, caller.user_id)
    assert user is not None
    return {
        "user": user,
        "organisation": user.organisation,
        "token_scopes": sorted(caller.token_scopes) if caller.token_scopes is not None else None,
    }


@route(
    bp,
    "/me/password",
    methods=("POST",),
    access=allow(scope="accounts:write"),
    body=PasswordChange,
    status=204,
    area="accounts",
)
@limiter.limit(PASSWORD_TRIES, key_func=account_or_address)
def change_password(caller: Caller, body: PasswordChange) -> tuple[str, dict[str, str]]:
    """Change one's own password; other browser sessions are signed out."""
    user = db.session.get(User, caller.user_id)
    assert user is not None
    services.change_password(db.session, user, body.current_password, body.new_password)
    return "", {}


@route(bp, "/organisation", access=ANYONE, response=OrganisationOut, area="accounts")
def my_organisation(caller: Caller) -> object:
    """The caller's organisation."""
    return services.get_organisation(db.session, caller.organisation_slug)


@route(
    bp,
    "/users",
    access=allow(roles=[Role.ADMIN], scope="accounts:read"),
    response=list[UserOut],
    area="accounts",
)
def list_users(caller: Caller) -> object:
    """The people of the caller's organisation (admins only)."""
    return services.list_users(db.session, caller)


@route(
    bp,
    "/users",
    methods=("POST",),
    access=ADMINS,
    body=UserCreate,
    response=UserOut,
    status=201,
    area="accounts",
)
def create_user(caller: Caller, body: UserCreate) -> object:
    """Add a person to the caller's organisation with one role."""
    organisation = services.get_organisation(db.session, caller.organisation_slug)
    user = services.create_user(
        db.session,
        organisation=organisation,
        email=body.email,
        display_name=body.display_name,
        role=body.role,
        password=body.password,
    )
    set_activity_target("user", user.id)
    return user


@route(
    bp,
    "/users/<int:user_id>",
    methods=("PATCH",),
    access=ADMINS,
    body=UserUpdate,
    response=UserOut,
    area="accounts",
)
def update_user(caller: Caller, user_id: int, body: UserUpdate) -> object:
    """Change a colleague's role or disable the account (which revokes its tokens)."""
    set_activity_target("user", user_id)
    return services.update_user(
        db.session,
        caller,
        user_id,
        role=body.role,
        is_active=body.is_active,
        display_name=body.display_name,
    )


@route(bp, "/tokens", access=ANYONE, response=list[TokenOut], area="accounts")
def list_tokens(caller: Caller) -> object:
    """The caller's API tokens (an admin sees the organisation's); secrets are never shown."""
    return services.list_tokens(db.session, caller)


@route(
    bp,
    "/tokens",
    methods=("POST",),
    access=allow(scope="accounts:write"),
    body=TokenCreate,
    response=TokenCreated,
    status=201,
    area="accounts",
)
def create_token(caller: Caller, body: TokenCreate) -> object:
    """Create an API token for oneself; the secret is in this response only.

    Created with a token, the new one holds none of the scopes the calling token lacks and
    ends no later than it: without ``expires_in_days`` it ends with the calling token, and
    asking for longer is refused (``token-outlives-caller``)."""
    user = db.session.get(User, caller.user_id)
    assert user is not None
    if caller.token_scopes is not None:
        # A token may only mint tokens with scopes it holds itself.
        for scope in body.scopes:
            if not caller.has_scope(scope):
                raise Forbidden(
                    f"Cannot grant scope {scope!r} that the calling token lacks.",
                    slug="insufficient-scope",
                )
    expires_in = timedelta(days=body.expires_in_days)
    now = utcnow()
    if caller.token_id is not None:
        # Nor may it outlive itself: a stolen short-lived token must not buy a year's access.
        # Without a lifetime asked for, the new token ends with the calling one.
        calling = db.session.get(ApiToken, caller.token_id)
        assert calling is not None
        if now + expires_in > calling.expires_at:
            if "expires_in_days" not in body.model_fields_set:
                expires_in = calling.expires_at - now
            else:
                raise Forbidden(
                    gettext(
                        "A token cannot create a token that outlives it; the calling token "
                        "expires at %(expires_at)s.",
                        expires_at=calling.expires_at.isoformat(timespec="seconds"),
                    ),
                    slug="token-outlives-caller",
                    errors=[
                        FieldError(
                            "/expires_in_days",
                            "caller_expiry",
                            gettext("must end before the calling token expires"),
                        )
                    ],
                )
    issued = services.issue_token(
        db.session, user, name=body.name, scopes=body.scopes, expires_in=expires_in, now=now
    )
    set_activity_target("token", issued.token.id)
    return {**TokenOut.model_validate(issued.token).model_dump(), "token": issued.secret}


@route(
    bp,
    "/tokens/<int:token_id>",
    methods=("DELETE",),
    access=allow(scope="accounts:write"),
    response=TokenOut,
    area="accounts",
)
def revoke_token(caller: Caller, token_id: int) -> object:
    """Revoke an API token at once."""
    set_activity_target("token", token_id)
    return services.revoke_token(db.session, caller, token_id)
