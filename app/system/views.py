"""Service-level endpoints: health, liveness, the API description and the home page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, send_from_directory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.http.api import ENDPOINTS
from app.http.openapi import build_openapi

bp = Blueprint("system", __name__)


@bp.get("/livez")
def livez() -> Response:
    """Alive: answers without touching the database (the floor of the stack in benchmarks)."""
    return jsonify(status="ok")


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site icon at the address browsers ask for on their own (pages also link the SVG)."""
    assert current_app.static_folder is not None
    return send_from_directory(
        current_app.static_folder,
        "favicon.ico",
        mimetype="image/vnd.microsoft.icon",
        max_age=86400,
    )


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Healthy: the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        current_app.logger.warning("health check: database unavailable", exc_info=True)
        return jsonify(status="unavailable", checks={"database": "fail"}), 503
    return jsonify(status="ok", checks={"database": "ok"}), 200


def _openapi() -> dict[str, Any]:
    cache = current_app.extensions.setdefault("brandtrace.openapi", {})
    if "document" not in cache:
        cache["document"] = build_openapi(current_app)
    return cache["document"]


@bp.get("/api/v1/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of the API."""
    response = jsonify(_openapi())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/api/v1/docs")
def api_docs() -> str:
    """A human-readable reference of the API, rendered on the server (no external scripts)."""
    document = _openapi()
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            groups.setdefault(operation["tags"][0], []).append(
                {"method": method.upper(), "path": path, **operation}
            )
    return render_template(
        "docs.html", groups=sorted(groups.items()), document=document, endpoint_count=len(ENDPOINTS)
    )


@bp.get("/")
def home() -> str:
    return render_template("home.html")
