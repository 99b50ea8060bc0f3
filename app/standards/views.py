"""Standards API (``/api/v1/...standards``, ``/api/v1/standard-versions``) and the public page
of a standard version (``/brands/<slug>/standards/<id>``, HTML or JSON)."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, current_app, make_response, render_template, request
from flask_babel import gettext, lazy_gettext

from app.auth.models import OrgKind, Role
from app.auth.principal import PUBLIC, Caller, allow
from app.brands import public
from app.brands import services as brands
from app.errors import NotFound
from app.extensions import db
from app.http.api import HTML_PAGE, route, set_activity_target
from app.http.negotiation import wants_json
from app.standards import canonical, services
from app.standards.evaluation import requirement_text
from app.standards.models import Standard, StandardVersion
from app.standards.schemas import (
    CanonicalVersionOut,
    DiffOut,
    StandardCreate,
    StandardOut,
    StandardUpdate,
    VersionContent,
    VersionCreate,
    VersionOut,
    WithdrawIn,
)

bp = Blueprint("standards", __name__, template_folder="templates")

ADMINS = allow([OrgKind.ASSOCIATION], [Role.ADMIN])
# Staff prepare drafts; only admins publish or withdraw.
DRAFTERS = allow([OrgKind.ASSOCIATION], [Role.ADMIN, Role.STAFF])


def _reader(caller: Caller | None) -> Caller | None:
    """Drafts are shown to insiders only, and only through a token allowed to read standards."""
    return caller if caller is not None and caller.has_scope("standards:read") else None


def _standard(standard: Standard, caller: Caller | None) -> dict[str, Any]:
    return {
        "id": standard.id,
        "brand": standard.brand.slug,
        "code": standard.code,
        "title_zh": standard.title_zh,
        "title_en": standard.title_en,
        "created_at": standard.created_at,
        "versions": [
            _summary(version) for version in services.visible_versions(db.session, caller, standard)
        ],
    }


def _summary(version: StandardVersion) -> dict[str, Any]:
    state = services.version_state(version)
    return {
        "id": version.id,
        "version": version.version,
        "status": state.status,
        "scheduled": state.scheduled,
        "effective_from": version.effective_from,
        "content_hash": version.content_hash,
        "published_at": version.published_at,
        "superseded_at": state.superseded_at,
        "withdrawn_at": version.withdrawn_at,
    }


def _version(version: StandardVersion) -> dict[str, Any]:
    standard = version.standard
    return {
        **_summary(version),
        "withdrawal_reason": version.withdrawal_reason,
        "standard_id": standard.id,
        "code": standard.code,
        "title_zh": standard.title_zh,
        "title_en": standard.title_en,
        "brand": standard.brand.slug,
        "created_at": version.created_at,
        "updated_at": version.updated_at,
        "clauses": version.clauses,
        "criteria": version.criteria,
        "canonical_url": public.absolute(f"/api/v1/standard-versions/{version.id}/canonical"),
    }


@route(bp, "/api/v1/brands/<slug>/standards", access=PUBLIC, response=list[StandardOut])
def list_standards(caller: Caller | None, slug: str) -> Any:
    """A brand's standards with their versions (drafts for the owner and co-builders only)."""
    brand = brands.get_brand(db.session, slug)
    reader = _reader(caller)
    return [_standard(s, reader) for s in services.list_standards(db.session, brand)]


@route(
    bp,
    "/api/v1/brands/<slug>/standards",
    methods=("POST",),
    access=ADMINS,
    body=StandardCreate,
    response=StandardOut,
    status=201,
)
def create_standard(caller: Caller, slug: str, body: StandardCreate) -> Any:
    """Create a standard for the brand (its versions come next)."""
    standard = services.create_standard(db.session, caller, slug, **body.model_dump())
    set_activity_target("standard", standard.id)
    return _standard(standard, caller)


@route(bp, "/api/v1/standards/<int:standard_id>", access=PUBLIC, response=StandardOut)
def get_standard(caller: Caller | None, standard_id: int) -> Any:
    """A standard with its versions."""
    return _standard(services.get_standard(db.session, standard_id), _reader(caller))


@route(
    bp,
    "/api/v1/standards/<int:standard_id>",
    methods=("PATCH",),
    access=ADMINS,
    body=StandardUpdate,
    response=StandardOut,
)
def update_standard(caller: Caller, standard_id: int, body: StandardUpdate) -> Any:
    """Correct a standard's titles (published versions keep what they were hashed with)."""
    set_activity_target("standard", standard_id)
    standard = services.update_standard(
        db.session, caller, standard_id, body.model_dump(exclude_unset=True)
    )
    return _standard(standard, caller)


@route(
    bp,
    "/api/v1/standards/<int:standard_id>/versions",
    methods=("POST",),
    access=DRAFTERS,
    body=VersionCreate,
    response=VersionOut,
    status=201,
)
def create_version(caller: Caller, standard_id: int, body: VersionCreate) -> Any:
    """Start a draft version with its clauses and criteria (admins and staff)."""
    version = services.create_version(
        db.session,
        caller,
        standard_id,
        version=body.version,
        effective_from=body.effective_from,
        clauses=body.clauses,
        criteria=body.criteria,
    )
    set_activity_target("standard_version", version.id)
    return _version(version)


@route(bp, "/api/v1/standard-versions/<int:version_id>", access=PUBLIC, response=VersionOut)
def get_version(caller: Caller | None, version_id: int) -> Any:
    """A version with its clauses and criteria (drafts: owner and co-builders only)."""
    return _version(services.get_version(db.session, _reader(caller), version_id))


@route(
    bp,
    "/api/v1/standard-versions/<int:version_id>",
    methods=("PUT",),
    access=DRAFTERS,
    body=VersionContent,
    response=VersionOut,
)
def replace_draft(caller: Caller, version_id: int, body: VersionContent) -> Any:
    """Replace a draft's content. Published versions are immutable (409 version-immutable)."""
    set_activity_target("standard_version", version_id)
    version = services.replace_draft(
        db.session,
        caller,
        version_id,
        effective_from=body.effective_from,
        clauses=body.clauses,
        criteria=body.criteria,
    )
    return _version(version)


@route(
    bp,
    "/api/v1/standard-versions/<int:version_id>",
    methods=("DELETE",),
    access=DRAFTERS,
    status=204,
)
def delete_draft(caller: Caller, version_id: int) -> Any:
    """Discard a draft version."""
    set_activity_target("standard_version", version_id)
    services.delete_draft(db.session, caller, version_id)
    return Response(status=204)


@route(
    bp,
    "/api/v1/standard-versions/<int:version_id>/publish",
    methods=("POST",),
    access=ADMINS,
    response=VersionOut,
)
def publish_version(caller: Caller, version_id: int) -> Any:
    """Publish a draft: it becomes immutable, gets its SHA-256 content hash, and supersedes
    the version published before it."""
    set_activity_target("standard_version", version_id)
    return _version(services.publish_version(db.session, caller, version_id))


@route(
    bp,
    "/api/v1/standard-versions/<int:version_id>/withdraw",
    methods=("POST",),
    access=ADMINS,
    body=WithdrawIn,
    response=VersionOut,
)
def withdraw_version(caller: Caller, version_id: int, body: WithdrawIn) -> Any:
    """Withdraw a published or superseded version, with a reason."""
    set_activity_target("standard_version", version_id)
    return _version(services.withdraw_version(db.session, caller, version_id, body.reason))


@route(
    bp,
    "/api/v1/standard-versions/<int:version_id>/canonical",
    access=PUBLIC,
    response=CanonicalVersionOut,
    responses={304: "Not modified (ETag)"},
)
def canonical_version(caller: Caller | None, version_id: int) -> Response:
    """The version's canonical JSON (RFC 8785) exactly as hashed: ``content_hash`` is the
    SHA-256 of this response body."""
    version = services.get_version(db.session, _reader(caller), version_id)
    data = canonical.canonical_bytes(services.version_document(version))
    digest = hashlib.sha256(data).hexdigest()
    response = current_app.response_class(data, mimetype="application/json")
    response.set_etag(digest)
    response.headers["X-Content-SHA256"] = digest
    if version.content_hash is not None:
        response.headers["Cache-Control"] = "public, max-age=86400"
    # A client revalidating with the ETag it holds gets 304, not the whole document again.
    response.make_conditional(request)
    return response


@route(
    bp,
    "/api/v1/standard-versions/<int:version_id>/diff/<int:other_id>",
    access=PUBLIC,
    response=DiffOut,
)
def diff_versions(caller: Caller | None, version_id: int, other_id: int) -> Any:
    """What changed from this version to another version of the same standard: clauses by
    number and criteria by key, each added, removed or changed (field, from, to)."""
    diff = services.diff_versions(db.session, _reader(caller), version_id, other_id)
    return {
        **diff,
        "from_version": _summary(diff["from_version"]),
        "to_version": _summary(diff["to_version"]),
    }


@route(
    bp,
    "/brands/<slug>/standards/<int:version_id>",
    access=PUBLIC,
    response=VersionOut,
    also_answers=HTML_PAGE,
)
def version_page(caller: Caller | None, slug: str, version_id: int) -> Any:
    """A standard version's public page (HTML, or the version as JSON)."""
    version = services.get_version(db.session, _reader(caller), version_id)
    if version.standard.brand.slug != slug:
        raise NotFound(f"No standard version {version_id} of brand {slug!r}.")
    if wants_json():
        return _version(version), {"Vary": "Accept, Accept-Language, Cookie"}
    response = make_response(
        render_template(
            "standards/version.html",
            version=version,
            brand=version.standard.brand,
            requirement_text=requirement_text,
        )
    )
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"
    return response


STATUS_LABELS = {
    "draft": lazy_gettext("draft"),
    "published": lazy_gettext("published, in force"),
    "superseded": lazy_gettext("superseded by a newer version"),
    "withdrawn": lazy_gettext("withdrawn"),
}


def version_status_text(version: StandardVersion) -> str:
    """A version's status as of now, for the public pages: a scheduled version says the day
    it takes effect."""
    state = services.version_state(version)
    if state.scheduled:
        assert version.effective_from is not None
        return gettext(
            "published, takes effect on %(date)s", date=version.effective_from.isoformat()
        )
    return str(STATUS_LABELS[state.status.value])


@bp.app_context_processor
def _standard_helpers() -> dict[str, Any]:
    return {"version_status_text": version_status_text}
