"""Domain errors, and their one translation into HTTP answers.

Services raise the categories below and know nothing of HTTP. ``register_error_handlers``
renders every error, ours and Werkzeug's, as RFC 9457 ``application/problem+json`` for machines
and as a readable page for people. Each kind has a stable ``type`` URI: ``<base>/problems/<slug>``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, json, render_template, request
from flask_babel import gettext, lazy_gettext
from werkzeug.exceptions import HTTPException

from app.http.negotiation import wants_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field: where (JSON pointer or name), which rule, and why."""

    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


class AppError(Exception):
    """Base of every error a service may raise on purpose."""

    status = 500
    slug = "internal-error"
    title: Any = lazy_gettext("Internal error")

    def __init__(
        self,
        detail: str,
        *,
        slug: str | None = None,
        errors: list[FieldError] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if slug is not None:
            self.slug = slug
        self.errors = errors or []
        self.extra = extra or {}


class BadRequest(AppError):
    status = 400
    slug = "bad-request"
    title = lazy_gettext("Bad request")


class Unauthenticated(AppError):
    status = 401
    slug = "unauthenticated"
    title = lazy_gettext("Authentication required")


class Forbidden(AppError):
    status = 403
    slug = "forbidden"
    title = lazy_gettext("Not allowed")


class NotFound(AppError):
    status = 404
    slug = "not-found"
    title = lazy_gettext("Not found")


class Conflict(AppError):
    """The request is well-formed but breaks a business rule or the current state."""

    status = 409
    slug = "conflict"
    title = lazy_gettext("Conflict with the current state")


class Gone(AppError):
    status = 410
    slug = "gone"
    title = lazy_gettext("Gone")


class PayloadTooLarge(AppError):
    status = 413
    slug = "payload-too-large"
    title = lazy_gettext("Request too large")


class UnsupportedMediaType(AppError):
    status = 415
    slug = "unsupported-media-type"
    title = lazy_gettext("Unsupported media type")


class InvalidInput(AppError):
    """Input that is well-formed but not valid: field-level details say which rule failed."""

    status = 422
    slug = "validation-failed"
    title = lazy_gettext("Invalid input")


class RateLimited(AppError):
    status = 429
    slug = "rate-limited"
    title = lazy_gettext("Too many requests")


# Werkzeug's own errors (unknown route, wrong method, body over the size limit, ...) get the
# same shape with these slugs.
_HTTP_SLUGS = {
    400: ("bad-request", lazy_gettext("Bad request")),
    401: ("unauthenticated", lazy_gettext("Authentication required")),
    403: ("forbidden", lazy_gettext("Not allowed")),
    404: ("not-found", lazy_gettext("Not found")),
    405: ("method-not-allowed", lazy_gettext("Method not allowed")),
    406: ("not-acceptable", lazy_gettext("Not acceptable")),
    409: ("conflict", lazy_gettext("Conflict with the current state")),
    413: ("payload-too-large", lazy_gettext("Request too large")),
    414: ("uri-too-long", lazy_gettext("Request URI too long")),
    415: ("unsupported-media-type", lazy_gettext("Unsupported media type")),
    422: ("validation-failed", lazy_gettext("Invalid input")),
    429: ("rate-limited", lazy_gettext("Too many requests")),
    431: ("headers-too-large", lazy_gettext("Request headers too large")),
}


def problem_type(slug: str) -> str:
    return f"{current_app.config['BASE_URL']}/problems/{slug}"


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An RFC 9457 problem document, or the same content as an HTML page for a browser."""
    body: dict[str, Any] = {
        "type": problem_type(slug),
        "title": str(title),
        "status": status,
        "detail": detail,
        "instance": request.path,
        "request_id": g.get("request_id"),
    }
    if errors:
        body["errors"] = [error.as_dict() for error in errors]
    if extra:
        body.update(extra)
    if wants_json():
        response = current_app.response_class(
            json.dumps(body, ensure_ascii=False), status=status, mimetype="application/problem+json"
        )
    else:
        html = render_template("error.html", problem=body, errors=errors or [])
        response = current_app.response_class(html, status=status, mimetype="text/html")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def http_problem(error: HTTPException) -> Response:
    """An HTTP error (404, 405, 413, 429, ...) as problem+json, or a page for browsers; a
    blueprint's own handler for one of them falls back on it."""
    status = error.code or 500
    slug, title = _HTTP_SLUGS.get(status, ("http-error", error.name))
    headers: dict[str, str] = {}
    if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(sorted(error.valid_methods))  # type: ignore[attr-defined]
    detail = {
        404: gettext("No resource at this address."),
        405: gettext("This address does not accept the %(method)s method.", method=request.method),
        413: gettext(
            "The request body exceeds the size limit of %(limit)s bytes.",
            limit=current_app.config["MAX_CONTENT_LENGTH"],
        ),
        429: gettext("Too many requests; slow down and retry later."),
    }.get(status, error.description or str(title))
    # Flask-Limiter adds Retry-After and X-RateLimit-* to this response after the fact.
    return problem_response(status, slug, str(title), detail, headers=headers)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def _app_error(error: AppError) -> Response:
        return problem_response(
            error.status,
            error.slug,
            str(error.title),
            error.detail,
            errors=error.errors,
            extra=error.extra,
        )

    app.register_error_handler(HTTPException, http_problem)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error", extra={"error_type": type(error).__name__})
        return problem_response(
            500,
            "internal-error",
            gettext("Internal error"),
            gettext(
                "Something went wrong on our side; the request changed nothing. "
                "Quote the request id when reporting it."
            ),
        )
