"""The one way to declare a server-rendered page (the portals' counterpart of ``route``).

``@page(bp, "/path", access=..., methods=("GET", "POST"))`` signs people in when needed
(redirect to /login), refuses callers outside the access rule with a readable 403 page,
checks the CSRF token of every form post, and commits the request's work once (recording it in
the activity trail) when the view answers without error. Pages are registered in ``PAGES`` so
tests can walk them all, and navigation is built from the same access rules, so a menu never
offers what the person may not do.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, flash, g, make_response, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from werkzeug.wrappers import Response

from app.auth.principal import Access, Caller
from app.errors import Forbidden
from app.http.api import (
    SAFE_METHODS,
    check_csrf,
    commit_request,
    resolve_caller,
    set_activity_target,
)


@dataclass(frozen=True)
class Page:
    """What the app knows about one declared page."""

    blueprint: str
    rule: str
    methods: tuple[str, ...]
    name: str
    access: Access

    @property
    def endpoint_id(self) -> str:
        return f"{self.blueprint}.{self.name}"


PAGES: list[Page] = []


def page(
    bp: Blueprint,
    rule: str,
    *,
    access: Access,
    methods: tuple[str, ...] = ("GET",),
) -> Callable[[Callable[..., ResponseReturnValue]], Callable[..., ResponseReturnValue]]:
    """Declare a page; the view receives its path arguments and, if it names it, ``caller``."""

    def decorator(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
        PAGES.append(Page(bp.name, rule, methods, view.__name__, access))
        wants_caller = "caller" in inspect.signature(view).parameters

        @functools.wraps(view)
        def wrapper(**path_args: Any) -> ResponseReturnValue:
            caller = resolve_caller()
            if not access.public:
                if caller is None:
                    return sign_in_redirect(request.full_path.rstrip("?"))
                if not access.allows(caller):
                    raise Forbidden(
                        gettext("Your organisation and role do not give access to this page.")
                    )
            if request.method not in SAFE_METHODS:
                check_csrf()
            if wants_caller:
                path_args["caller"] = caller
            response = make_response(view(**path_args))
            if request.method not in SAFE_METHODS and response.status_code < 400:
                target = target_from_path(path_args)
                if g.get("activity_target") is None and target is not None:
                    set_activity_target(*target)
                commit_request(caller, response.status_code)
            return response

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=list(methods))
        return wrapper

    return decorator


# Set at sign-in, removed at sign-out: a request without a session but with this cookie comes
# from a browser whose session ended by itself (the 8-hour lifetime), which deserves a word.
SIGNED_IN_COOKIE = "signed_in"
SIGNED_IN_COOKIE_DAYS = 30


def remember_sign_in(response: Response) -> Response:
    response.set_cookie(
        SIGNED_IN_COOKIE,
        "1",
        max_age=SIGNED_IN_COOKIE_DAYS * 86400,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


def forget_sign_in(response: Response) -> Response:
    response.delete_cookie(
        SIGNED_IN_COOKIE, secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True
    )
    return response


def sign_in_redirect(next_path: str) -> Response:
    """Send a signed-out visitor to the sign-in page, saying why when their session ended."""
    reason = g.get("session_ended")
    if reason is None and request.cookies.get(SIGNED_IN_COOKIE):
        reason = "ended"
    if reason == "password-changed":
        flash(gettext("Your password was changed in another session; sign in again."), "info")
    elif reason is not None:
        flash(gettext("Your session has ended; sign in again."), "info")
    return forget_sign_in(redirect(url_for("web_auth.login", next=next_path)))


# Path arguments that name a record, and the kind the API's activity targets call it.
PATH_TARGETS = {
    "audit_id": "audit",
    "membership_id": "membership",
    "token_id": "token",
    "user_id": "user",
    "order_id": "label_order",
    "product_id": "product",
    "batch_id": "batch",
    "standard_id": "standard",
    "version_id": "standard_version",
    "alert_id": "scan_alert",
    "report_id": "fake_report",
    "recall_id": "recall",
    "location_id": "location",
    "authorisation_id": "partner_authorisation",
    "number": "certificate",
    "fragment": "issuer_key",
    "slug": "brand",
}


def target_from_path(path_args: dict[str, Any]) -> tuple[str, Any] | None:
    """The record a page acts on, named as the API names it: the first path argument that names
    one (``/audits/3/sign-off`` acts on ``audit:3``). Views that create a record, or act on one
    their URL does not name, call ``set_activity_target`` themselves (which wins)."""
    for name, value in path_args.items():
        if name in PATH_TARGETS:
            return PATH_TARGETS[name], value
    return None


def caller_or_none() -> Caller | None:
    """The signed-in caller for templates; a bad credential shows as signed out."""
    from app.errors import AppError

    try:
        return resolve_caller()
    except AppError:
        return None
