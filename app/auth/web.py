"""Browser sign-in, sign-out and password change (server-rendered, CSRF-protected)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from app.auth import services
from app.auth.models import User
from app.auth.views import PASSWORD_TRIES
from app.errors import AppError, Unauthenticated
from app.extensions import db, limiter
from app.http.api import check_csrf, commit_request, resolve_caller
from app.http.client import account_or_address
from app.http.web import forget_sign_in, remember_sign_in, sign_in_redirect

bp = Blueprint("web_auth", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, else the home page.

    An open redirect would help phishing pages. Browsers drop tabs and line breaks from a URL
    (``/<TAB>/evil.example`` is followed as ``//evil.example``, another site) and read ``\\``
    as ``/``, and a line break cannot go into the Location header at all (a 500), so a target
    with any control character, backslash or a host of its own is refused.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ord(character) < 0x20 or ord(character) == 0x7F for character in target)
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("system.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login() -> ResponseReturnValue:
    errors: dict[str, str] = {}
    email = request.form.get("email", "")
    if request.method == "POST":
        check_csrf()
        try:
            user = services.authenticate_password(
                db.session, email, request.form.get("password", "")
            )
        except Unauthenticated:
            errors["password"] = gettext("Wrong e-mail or password.")
            return render_template(
                "auth/login.html", email=email, errors=errors, next=request.form.get("next")
            ), 401
        session.clear()
        session.permanent = True
        session["user_id"] = user.id
        session["sid"] = services.new_session_id()
        session["generation"] = user.session_generation
        g.caller = services.caller_for(user)
        commit_request(g.caller, 303)
        return remember_sign_in(redirect(_safe_next(request.form.get("next")), code=303))
    return render_template(
        "auth/login.html", email=email, errors=errors, next=request.args.get("next")
    )


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    check_csrf()
    # Who signs out, for the activity trail: asked before the session ends, after which the
    # session names nobody.
    caller = resolve_caller()
    # The cookie may have been copied: its session id is refused from now on.
    services.end_session(db.session, session.get("sid"), current_app.permanent_session_lifetime)
    commit_request(caller, 303)
    session.clear()
    return forget_sign_in(redirect(url_for("system.home"), code=303))


def _require_user() -> User:
    caller = resolve_caller()
    if caller is None:
        raise Unauthenticated(gettext("Sign in to see this page."))
    user = db.session.get(User, caller.user_id)
    assert user is not None
    return user


@bp.get("/account")
def account() -> ResponseReturnValue:
    if resolve_caller() is None:
        return sign_in_redirect(request.path)
    return render_template("auth/account.html", user=_require_user())


@bp.route("/account/password", methods=["GET", "POST"])
@limiter.limit(PASSWORD_TRIES, methods=["POST"], key_func=account_or_address)
def change_password() -> ResponseReturnValue:
    if resolve_caller() is None:
        return sign_in_redirect(request.path)
    user = _require_user()
    errors: dict[str, str] = {}
    if request.method == "POST":
        check_csrf()
        new = request.form.get("new_password", "")
        if new != request.form.get("confirm_password", ""):
            errors["confirm_password"] = gettext("The two new passwords differ.")
        else:
            try:
                services.change_password(
                    db.session, user, request.form.get("current_password", ""), new
                )
            except AppError as error:
                errors.update(
                    {item.field: item.message for item in error.errors}
                    or {"current_password": error.detail}
                )
        if errors:
            return render_template("auth/password.html", errors=errors), 422
        session["generation"] = user.session_generation
        commit_request(g.get("caller"), 303)
        flash(gettext("Your password was changed."), "success")
        return redirect(url_for("web_auth.account"), code=303)
    return render_template("auth/password.html", errors=errors)
