"""Request ids, structured access logs and security headers for every response."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, current_app, g, request
from flask_babel import gettext

from app.errors import BadRequest, FieldError
from app.http.api import csrf_token
from app.http.schemas import NUL

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access_log = logging.getLogger("brandtrace.access")

# Strict by default: our own scripts and styles only, no inline code, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _refuse_nul_characters() -> None:
    """Refuse a NUL character (``%00``) in the path, the query or a form field: it names
    nothing and no text column stores it (PostgreSQL refuses it with a driver error), so it
    is bad input, answered before any view runs. JSON bodies are checked by their schemas."""
    found: list[FieldError] = []
    if NUL in request.path:
        found.append(FieldError("path", "nul_character", gettext("contains a NUL character")))
    sources = [("query", request.args)]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(("form", request.form))
    for where, values in sources:
        for key, value in values.items(multi=True):
            name = key or ""  # a multipart part without a name has the key None
            if NUL in name or NUL in value:
                label = name.replace(NUL, "\\0")
                found.append(
                    FieldError(
                        f"{where}.{label}", "nul_character", gettext("contains a NUL character")
                    )
                )
    if found:
        raise BadRequest(
            gettext("The request contains a NUL character (byte 0), which no field accepts."),
            slug="nul-character",
            errors=found,
        )


def register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        # Flask-Babel caches the locale on the app context; several requests may share one
        # (CLI code, tests), and each must choose its own language.
        from flask_babel import refresh

        refresh()
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        # Keep a caller's id for correlation only when it is harmless to log.
        g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started_at = time.perf_counter()
        _refuse_nul_characters()

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers[REQUEST_ID_HEADER] = request_id
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
        if current_app.config["BASE_URL"].startswith("https://"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.path.startswith("/api/") and "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        started = g.get("started_at")
        access_log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2)
                if started
                else None,
            },
        )
        return response

    @app.teardown_request
    def _forget_caller(_exc: BaseException | None) -> None:
        for name in ("caller", "activity_target"):
            g.pop(name, None)

    from app.http.web import caller_or_none

    # Globals (not context processors) so that imported macros can use them too.
    app.jinja_env.globals.update(csrf_token=csrf_token, current_caller=caller_or_none)
