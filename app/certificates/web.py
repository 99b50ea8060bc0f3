"""Public documents and pages: DID documents, status lists, the brandtrace JSON-LD context,
signed credentials, and the register's HTML pages (search, certificate, QR code).

Documents that verifiers fetch are served byte for byte as signed, with ETags and cache
headers, so caches can hold them and nobody needs to "phone home" per credential.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import qrcode
import qrcode.image.svg
from babel.lists import format_list
from flask import Blueprint, Response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext, lazy_gettext
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from app.auth.models import Organisation, OrgKind
from app.certificates import credentials, keys, register, status
from app.certificates.context import brandtrace_context
from app.certificates.errors import (
    CertificateNotFound,
    DidDocumentNotFound,
    IssuerNotFound,
    StatusListNotFound,
)
from app.certificates.models import CertificateStatus, StatusPurpose
from app.errors import FieldError, InvalidInput
from app.extensions import db

bp = Blueprint(
    "certificates_web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/certificates",
)

JSON_TYPE = "application/json"
STATUS_LABELS = {
    "active": lazy_gettext("Active"),
    "suspended": lazy_gettext("Suspended"),
    "withdrawn": lazy_gettext("Withdrawn"),
    "cancelled": lazy_gettext("Cancelled"),
    "superseded": lazy_gettext("Superseded"),
    "expired": lazy_gettext("Expired"),
}
# Why a certificate is not in force (``credentials.Standing.reason``).
REASON_LABELS = {
    **STATUS_LABELS,
    "key_revoked": lazy_gettext("Signed with a revoked key: the association must re-issue it"),
    "not_yet_valid": lazy_gettext("Not yet valid"),
    "surveillance_overdue": lazy_gettext("Surveillance audit overdue"),
    "surveillance_refused": lazy_gettext("Surveillance audit refused"),
}
EVENT_LABELS = {
    "issued": lazy_gettext("Issued"),
    "suspended": lazy_gettext("Suspended"),
    "reinstated": lazy_gettext("Reinstated"),
    "withdrawn": lazy_gettext("Withdrawn"),
    "cancelled": lazy_gettext("Cancelled at the holder's request"),
    "expired": lazy_gettext("Expired"),
    "superseded": lazy_gettext("Replaced by a newer certificate"),
    "renewed": lazy_gettext("Issued as a renewal"),
    "reissued": lazy_gettext("Re-issued with a changed scope"),
}
# Status lists change when a certificate is suspended, withdrawn or cancelled: short freshness,
# then revalidation by ETag (cheap 304s). DID documents change on key rotation only.
STATUS_LIST_CACHE = "public, max-age=60, must-revalidate"
DID_CACHE = "public, max-age=300, must-revalidate"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "status_label": lambda value: str(STATUS_LABELS.get(value, value)),
        "event_label": lambda value: str(EVENT_LABELS.get(value, value)),
        "reason_label": lambda value: str(REASON_LABELS.get(value, value)),
        "status_reason_text": credentials.status_reason_text,
    }


def _status_choices() -> str:
    """The values the status filter takes, each with its label where that says more (zh)."""
    choices = []
    for value in CertificateStatus:
        label = str(STATUS_LABELS[value.value])
        choices.append(value.value if label.lower() == value.value else f"{value.value} ({label})")
    return format_list(choices, style="or", locale=get_locale())


def _document_response(text: str, etag: str, cache_control: str) -> BaseResponse:
    response = Response(text, mimetype=JSON_TYPE)
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache_control
    return response.make_conditional(request)


# The documents verifiers fetch, from pages of other sites too (a wallet, a checker): any
# answer, a problem included, is readable across origins, so that "unknown" can be told apart
# from a blocked request.
_DOCUMENT_ENDPOINTS = frozenset(
    f"{bp.name}.{name}" for name in ("did_document", "status_list", "context", "credential")
)


@bp.after_request
def _readable_from_anywhere(response: BaseResponse) -> BaseResponse:
    if request.endpoint in _DOCUMENT_ENDPOINTS:
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _association(slug: str) -> Organisation:
    organisation = db.session.scalar(
        select(Organisation).where(
            Organisation.slug == slug, Organisation.kind == OrgKind.ASSOCIATION
        )
    )
    if organisation is None:
        raise IssuerNotFound(
            gettext("%(slug)s is not a certificate issuer on this site.", slug=slug)
        )
    return organisation


@bp.get("/orgs/<slug>/did.json")
def did_document(slug: str) -> BaseResponse:
    """The association's DID document (did:web), listing every key it ever used."""
    document = keys.did_document(db.session, _association(slug))
    if document is None:
        raise DidDocumentNotFound(
            gettext("%(slug)s has no signing key yet, so no DID document.", slug=slug)
        )
    text = json.dumps(document, ensure_ascii=False, indent=2)
    etag = hashlib.sha256(text.encode()).hexdigest()[:32]
    return _document_response(text, etag, DID_CACHE)


@bp.get("/orgs/<slug>/status/<purpose>/<int:sequence>")
def status_list(slug: str, purpose: str, sequence: int) -> BaseResponse:
    """A signed BitstringStatusListCredential, byte for byte as signed."""
    association = _association(slug)
    purposes = [p.value for p in StatusPurpose]
    if purpose not in purposes:
        raise StatusListNotFound(
            gettext(
                "No status purpose %(purpose)s: status lists are for %(purposes)s.",
                purpose=purpose,
                purposes=", ".join(purposes),
            )
        )
    found = status.find_list(db.session, association, purpose, sequence)
    if found is None:
        raise StatusListNotFound(
            gettext(
                "%(slug)s has published no %(purpose)s status list %(sequence)s.",
                slug=slug,
                purpose=purpose,
                sequence=sequence,
            )
        )
    return _document_response(found.credential_json, found.etag, STATUS_LIST_CACHE)


@bp.get(keys.CONTEXT_PATH)
def context() -> BaseResponse:
    """The brandtrace JSON-LD context that credentials and DID documents refer to."""
    text = json.dumps(brandtrace_context(), ensure_ascii=False, indent=2)
    response = _document_response(
        text, hashlib.sha256(text.encode()).hexdigest()[:32], "public, max-age=86400"
    )
    response.mimetype = "application/ld+json"
    return response


@bp.get("/certificates/<number>/credential.json")
def credential(number: str) -> BaseResponse:
    """The signed credential exactly as issued (it never changes; its status is in the lists)."""
    certificate = credentials.get_certificate(db.session, number)
    text = certificate.credential_json
    etag = hashlib.sha256(text.encode()).hexdigest()[:32]
    response = _document_response(text, etag, IMMUTABLE_CACHE)
    response.headers["Content-Disposition"] = f'inline; filename="{number}.json"'
    return response


@bp.get("/certificates/<number>/qr.svg")
def certificate_qr(number: str) -> BaseResponse:
    """A QR code (SVG) linking to the certificate's public page."""
    certificate = credentials.get_certificate(db.session, number)
    image = qrcode.make(
        credentials.certificate_url(certificate.number),
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=4,
    )
    text = image.to_string(encoding="unicode")
    response = Response(text, mimetype="image/svg+xml")
    response.set_etag(hashlib.sha256(text.encode()).hexdigest()[:32])
    response.headers["Cache-Control"] = IMMUTABLE_CACHE
    return response.make_conditional(request)


@bp.get("/certificates")
def register_page() -> ResponseReturnValue:
    """The public register: search by number, firm name or registration number."""
    q = request.args.get("q", "").strip()[:100] or None
    raw_status = request.args.get("status") or None
    cursor = request.args.get("cursor") or None
    if raw_status is not None and raw_status not in {s.value for s in CertificateStatus}:
        raise InvalidInput(
            gettext("%(status)s is not a certificate status.", status=raw_status),
            errors=[
                FieldError(
                    "status",
                    "enum",
                    gettext("The status must be %(statuses)s.", statuses=_status_choices()),
                )
            ],
        )
    page = register.search_register(
        db.session,
        q=q,
        status_filter=CertificateStatus(raw_status) if raw_status else None,
        limit=25,
        cursor=cursor,
    )
    return render_template(
        "certificates/register.html",
        items=[register.summarise(db.session, item) for item in page.items],
        next_cursor=page.next_cursor,
        q=q or "",
        status=raw_status or "",
        statuses=list(CertificateStatus),
    )


@bp.get("/certificates/<number>")
def certificate_page(number: str) -> ResponseReturnValue:
    """A certificate's public page: bilingual, printable, with its QR code and history."""
    try:
        certificate = credentials.get_certificate(db.session, number)
    except CertificateNotFound:
        return render_template("certificates/not_found.html", number=number), 404
    details: dict[str, Any] = register.describe(db.session, certificate)
    details["issuer_did_url"] = url_for(
        "certificates_web.did_document", slug=details["issuer"]["slug"]
    )
    credential = json.loads(certificate.credential_json)
    return render_template(
        "certificates/certificate.html",
        c=details,
        credential_json=json.dumps(credential, ensure_ascii=False, indent=2),
        subject=credential["credentialSubject"],
    )
