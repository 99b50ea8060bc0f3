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

from flask import Blueprint, make_response, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from app.auth.principal import Access, Caller
from app.errors import Forbidden
from app.http.api import SAFE_METHODS, check_csrf, commit_request, resolve_caller


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
                    return redirect(url_for("web_auth.login", next=request.full_path.rstrip("?")))
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
                commit_request(caller, response.status_code)
            return response

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=list(methods))
        return wrapper

    return decorator


def caller_or_none() -> Caller | None:
    """The signed-in caller for templates; a bad credential shows as signed out."""
    from app.errors import AppError

    try:
        return resolve_caller()
    except AppError:
        return None
