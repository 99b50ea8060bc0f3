"""Portal pages for accounts: an organisation's people and API tokens, and the activity trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from app.activity.labels import action_choices, action_label, known_actions, same_action
from app.activity.models import ActivityRecord
from app.association.forms import parse
from app.auth import services
from app.auth.errors import TokenAlreadyRevoked
from app.auth.labels import ROLE_LABELS
from app.auth.models import ApiToken, Role, User
from app.auth.principal import Caller, allow
from app.auth.schemas import TokenCreate, UserCreate
from app.errors import AppError
from app.extensions import db
from app.http.api import set_activity_target
from app.http.web import page
from app.portal.nav import nav_item
from app.portal.tables import Column, Filter, Table, build_table, matching_text

bp = Blueprint("auth_portal", __name__, url_prefix="/portal", template_folder="templates")

ADMINS = allow(roles=[Role.ADMIN])
ANYONE = allow()
SECTION = lazy_gettext("Account and organisation")

nav_item(SECTION, lazy_gettext("People"), "auth_portal.users", ADMINS, order=900)
nav_item(SECTION, lazy_gettext("API tokens"), "auth_portal.tokens", ANYONE, order=901)
nav_item(SECTION, lazy_gettext("Activity trail"), "auth_portal.activity", ADMINS, order=902)


ACTIVE_CHOICES = [("active", lazy_gettext("Active")), ("disabled", lazy_gettext("Disabled"))]


def _people_table(caller: Caller) -> Table:
    """The organisation's people (the same rule as ``services.list_users``)."""
    return build_table(
        db.session,
        select(User).where(User.organisation_id == caller.organisation_id),
        columns=[
            Column("display_name", lazy_gettext("Full name"), sort=User.display_name),
            Column("email", lazy_gettext("E-mail"), sort=User.email),
            Column("role", lazy_gettext("Role"), sort=User.role),
            Column("is_active", lazy_gettext("Status"), sort=User.is_active),
            Column("change", lazy_gettext("Change")),
        ],
        filters=[
            Filter(
                "q", lazy_gettext("Name or e-mail"), matching_text(User.display_name, User.email)
            ),
            Filter(
                "role",
                lazy_gettext("Role"),
                lambda s, v: s.where(User.role == v),
                choices=[(str(k), str(v)) for k, v in ROLE_LABELS.items()],
            ),
            Filter(
                "status",
                lazy_gettext("Status"),
                lambda s, v: s.where(User.is_active.is_(v == "active")),
                choices=ACTIVE_CHOICES,
            ),
        ],
        args=request.args,
        default_sort="display_name",
        default_descending=False,
    )


def _token_table(caller: Caller) -> Table:
    """The caller's tokens, or an admin's organisation's with whose each one is
    (``services.list_tokens``' rule)."""
    is_admin = caller.role == Role.ADMIN
    statement = (
        select(ApiToken)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.organisation_id == caller.organisation_id)
    )
    if not is_admin:
        statement = statement.where(ApiToken.user_id == caller.user_id)
    owner = [Column("owner", lazy_gettext("Owner"), sort=User.display_name)] if is_admin else []
    owner_filter = (
        [
            Filter(
                "owner",
                lazy_gettext("Owner's name or e-mail"),
                matching_text(User.display_name, User.email),
            )
        ]
        if is_admin
        else []
    )
    return build_table(
        db.session,
        statement,
        columns=[
            Column("name", lazy_gettext("Name"), sort=ApiToken.name),
            *owner,
            Column("display_prefix", lazy_gettext("Starts with")),
            Column("scopes", lazy_gettext("Scopes")),
            Column("expires_at", lazy_gettext("Expires"), sort=ApiToken.expires_at),
            Column("status", lazy_gettext("Status"), sort=ApiToken.revoked_at),
            Column("revoke", lazy_gettext("Actions")),
        ],
        filters=[
            Filter("q", lazy_gettext("Name"), matching_text(ApiToken.name)),
            *owner_filter,
            Filter(
                "status",
                lazy_gettext("Status"),
                lambda s, v: s.where(
                    ApiToken.revoked_at.is_(None)
                    if v == "active"
                    else ApiToken.revoked_at.is_not(None)
                ),
                choices=[("active", lazy_gettext("Active")), ("revoked", lazy_gettext("Revoked"))],
            ),
        ],
        args=request.args,
        default_sort="expires_at",
    )


def _apply_errors(error: AppError, errors: dict[str, str]) -> None:
    for item in error.errors:
        errors[item.field.strip("/")] = item.message
    if not error.errors:
        errors["__all__"] = error.detail


@page(bp, "/users", access=ADMINS, methods=("GET", "POST"))
def users(caller: Caller) -> ResponseReturnValue:
    """List the organisation's people; add one."""
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = parse(UserCreate, request.form)
        values, errors = form.values, form.errors
        if form.model is not None:
            organisation = services.get_organisation(db.session, caller.organisation_slug)
            try:
                user = services.create_user(
                    db.session,
                    organisation=organisation,
                    email=form.model.email,
                    display_name=form.model.display_name,
                    role=form.model.role,
                    password=form.model.password,
                )
            except AppError as error:
                _apply_errors(error, errors)
            else:
                set_activity_target("user", user.id)
                flash(gettext("Added %(email)s.", email=user.email), "success")
                return redirect(url_for("auth_portal.users"), code=303)
        status = 422
    values.pop("password", None)  # never echo a password back into the page
    return render_template(
        "auth/portal/users.html",
        table=_people_table(caller),
        values=values,
        errors=errors,
        role_labels=ROLE_LABELS,
    ), status


@page(bp, "/users/<int:user_id>", access=ADMINS, methods=("POST",))
def update_user(caller: Caller, user_id: int) -> ResponseReturnValue:
    """Change a colleague's role or enable/disable the account."""
    role = request.form.get("role")
    active = request.form.get("is_active")
    if (role is not None and role not in {r.value for r in Role}) or active not in (None, "0", "1"):
        # A forged or stale form: say so rather than "Saved." over a change that never happened.
        flash(gettext("Choose one of the options."), "error")
        return redirect(url_for("auth_portal.users"), code=303)
    try:
        services.update_user(
            db.session,
            caller,
            user_id,
            role=Role(role) if role is not None else None,
            is_active=None if active is None else active == "1",
            display_name=None,
        )
    except AppError as error:
        flash(error.detail, "error")
        return redirect(url_for("auth_portal.users"), code=303)
    flash(gettext("Saved."), "success")
    return redirect(url_for("auth_portal.users"), code=303)


@page(bp, "/tokens", access=ANYONE, methods=("GET", "POST"))
def tokens(caller: Caller) -> ResponseReturnValue:
    """The caller's API tokens (an admin sees the organisation's); create one."""
    values: dict[str, object] = {"expires_in_days": "90"}
    errors: dict[str, str] = {}
    new_secret = None
    status = 200
    if request.method == "POST":
        form = parse(TokenCreate, request.form)
        values, errors = form.values, form.errors
        if form.model is not None:
            user = db.session.get(User, caller.user_id)
            assert user is not None
            try:
                issued = services.issue_token(
                    db.session,
                    user,
                    name=form.model.name,
                    scopes=form.model.scopes or ["*:read"],
                    expires_in=timedelta(days=form.model.expires_in_days),
                )
            except AppError as error:
                _apply_errors(error, errors)
                status = 422
            else:
                # Shown once, in this response only; the page is not cached (see headers below).
                new_secret = issued.secret
                set_activity_target("token", issued.token.id)
                values = {"expires_in_days": "90"}
        else:
            status = 422
    response = render_template(
        "auth/portal/tokens.html",
        table=_token_table(caller),
        values=values,
        errors=errors,
        new_secret=new_secret,
    )
    return response, status, {"Cache-Control": "no-store"}


@page(bp, "/tokens/<int:token_id>/revoke", access=ANYONE, methods=("GET", "POST"))
def revoke_token(caller: Caller, token_id: int) -> ResponseReturnValue:
    """Confirm, then revoke a token for good (one's own; an admin's, the organisation's)."""
    token = services.get_token(db.session, caller, token_id)
    if token.revoked_at is not None:
        # Already revoked (a second click, a reload, another admin): say so, change nothing.
        status = 409 if request.method == "POST" else 200
        return render_template("auth/portal/revoke_token.html", token=token), status
    if request.method == "POST":
        try:
            services.revoke_token(db.session, caller, token_id, only_if_active=True)
        except TokenAlreadyRevoked:
            # A twin submission revoked it while this one waited.
            return render_template("auth/portal/revoke_token.html", token=token), 409
        flash(gettext("Token %(name)s is revoked.", name=token.name), "success")
        return redirect(url_for("auth_portal.tokens"), code=303)
    return render_template("auth/portal/revoke_token.html", token=token)


@page(bp, "/activity", access=ADMINS)
def activity(caller: Caller) -> ResponseReturnValue:
    """The organisation's activity trail, sortable and filterable."""
    statement = (
        select(ActivityRecord)
        .where(ActivityRecord.organisation_id == caller.organisation_id)
        .options(
            selectinload(ActivityRecord.user),
            selectinload(ActivityRecord.organisation),
            selectinload(ActivityRecord.token),
        )
    )
    table = build_table(
        db.session,
        statement,
        columns=[
            Column("occurred_at", lazy_gettext("When"), sort=ActivityRecord.id),
            Column("who", lazy_gettext("Who"), sort=ActivityRecord.user_id),
            Column("action", lazy_gettext("Action"), sort=ActivityRecord.action),
            Column("method", lazy_gettext("Method")),
            Column("path", lazy_gettext("Path")),
            Column("status", lazy_gettext("Status"), sort=ActivityRecord.status),
            Column("target", lazy_gettext("Record")),
            Column("request_id", lazy_gettext("Request id")),
        ],
        filters=[Filter("action", lazy_gettext("Action"), _with_action, choices=action_choices())],
        args=request.args,
        default_sort="occurred_at",
    )
    return render_template(
        "auth/portal/activity.html", table=table, action_label=action_label, known=known_actions()
    )


def _with_action(statement: Select[Any], action: str) -> Select[Any]:
    """Records of the chosen action, through the API or the portal; text typed into the
    address bar still matches part of an endpoint name."""
    if action in known_actions():
        return statement.where(ActivityRecord.action.in_(same_action(action)))
    return statement.where(ActivityRecord.action.contains(action, autoescape=True))


def token_is_active(token: ApiToken) -> bool:
    from app.db import utcnow

    return token.revoked_at is None and token.expires_at > utcnow()
