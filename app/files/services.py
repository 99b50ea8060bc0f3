"""Storing uploads: size limit, content sniffing, SHA-256 digest, and serving them back.

Reuse from any domain::

    stored = store_upload(session, request.files.get("file"),
                          allowed_types=IMAGE_TYPES, max_bytes=1 << 20, field="file")

The type is decided by the file's first bytes, never by the name or the client's
``Content-Type``: a PDF renamed ``logo.png`` is a PDF. SVG is never accepted (it can carry
scripts that would run on our origin).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import IO, Protocol

from flask import Response, current_app, request
from sqlalchemy.orm import Session

from app.errors import FieldError
from app.files.errors import FileMissing, FileTooLarge, FileTypeRefused
from app.files.models import StoredFile

PNG = "image/png"
JPEG = "image/jpeg"
WEBP = "image/webp"
PDF = "application/pdf"
IMAGE_TYPES = frozenset({PNG, JPEG, WEBP})
DOCUMENT_TYPES = frozenset({PNG, JPEG, WEBP, PDF})
# Types a client may claim without contradicting what we sniff.
_GENERIC_CLAIMS = frozenset({"", "application/octet-stream", "binary/octet-stream"})


class Upload(Protocol):
    """What we need of an uploaded file (werkzeug's ``FileStorage`` fits)."""

    @property
    def filename(self) -> str | None: ...

    @property
    def mimetype(self) -> str: ...

    @property
    def stream(self) -> IO[bytes]: ...


def sniff_content_type(data: bytes) -> str | None:
    """The content type told by ``data``'s magic bytes (PNG, JPEG, WebP, PDF), else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"%PDF-"):
        return PDF
    return None


def _looks_like_svg(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<") and b"<svg" in head


def store_bytes(
    session: Session,
    data: bytes,
    *,
    allowed_types: Iterable[str],
    max_bytes: int,
    field: str = "file",
    original_name: str | None = None,
    claimed_type: str | None = None,
    organisation_id: int | None = None,
    uploaded_by_id: int | None = None,
) -> StoredFile:
    """Check and store ``data``; the record is flushed, not committed.

    Refusals: ``FileMissing`` (rule ``required``: empty), ``FileTooLarge`` (413, rule
    ``max_size``), ``FileTypeRefused`` (415, rule ``svg_refused``, ``content_type`` for an
    unrecognised or disallowed type, ``claimed_type_mismatch`` when the client's declared type
    contradicts the bytes).
    """
    allowed = frozenset(allowed_types)
    if not data:
        raise FileMissing(
            "The uploaded file is empty.",
            errors=[FieldError(field, "required", "send a non-empty file")],
        )
    if len(data) > max_bytes:
        raise FileTooLarge(
            f"The file has more than {max_bytes} bytes.",
            errors=[FieldError(field, "max_size", f"at most {max_bytes} bytes")],
            extra={"max_bytes": max_bytes},
        )
    sniffed = sniff_content_type(data)
    allowed_text = ", ".join(sorted(allowed))
    if sniffed is None and _looks_like_svg(data):
        raise FileTypeRefused(
            "SVG files are not accepted: they can carry scripts.",
            errors=[FieldError(field, "svg_refused", f"send one of: {allowed_text}")],
        )
    if sniffed is None or sniffed not in allowed:
        what = sniffed or "an unrecognised type"
        raise FileTypeRefused(
            f"The file is {what}; accepted types are {allowed_text}.",
            errors=[FieldError(field, "content_type", f"send one of: {allowed_text}")],
        )
    claimed = (claimed_type or "").split(";")[0].strip().lower()
    if claimed not in _GENERIC_CLAIMS and claimed != sniffed:
        raise FileTypeRefused(
            f"The file was sent as {claimed} but its content is {sniffed}.",
            errors=[
                FieldError(
                    field, "claimed_type_mismatch", f"the content is {sniffed}, not {claimed}"
                )
            ],
        )
    stored = StoredFile(
        sha256=hashlib.sha256(data).hexdigest(),
        content_type=sniffed,
        size=len(data),
        original_name=(original_name or None) and original_name[-255:],
        organisation_id=organisation_id,
        uploaded_by_id=uploaded_by_id,
        data=data,
    )
    session.add(stored)
    session.flush()
    return stored


def store_upload(
    session: Session,
    file_storage: Upload | None,
    *,
    allowed_types: Iterable[str],
    max_bytes: int,
    field: str = "file",
    organisation_id: int | None = None,
    uploaded_by_id: int | None = None,
) -> StoredFile:
    """Store one multipart upload (see :func:`store_bytes` for the checks).

    Reads at most ``max_bytes + 1`` bytes, so an oversize file is refused without holding it
    whole in memory.
    """
    if file_storage is None:
        raise FileMissing(
            f"Send the file as multipart/form-data in the field {field!r}.",
            errors=[FieldError(field, "required", "no file in the request")],
        )
    data = file_storage.stream.read(max_bytes + 1)
    return store_bytes(
        session,
        data,
        allowed_types=allowed_types,
        max_bytes=max_bytes,
        field=field,
        original_name=file_storage.filename,
        claimed_type=file_storage.mimetype,
        organisation_id=organisation_id,
        uploaded_by_id=uploaded_by_id,
    )


def require_multipart() -> None:
    """Refuse (415) a request that is not ``multipart/form-data`` before reading its files."""
    if request.mimetype != "multipart/form-data":
        raise FileTypeRefused(
            f"Send the upload as multipart/form-data, not {request.mimetype or 'nothing'}.",
            slug="unsupported-media-type",
        )


def file_response(stored: StoredFile, *, public: bool = False, download: bool = False) -> Response:
    """The file's bytes with its sniffed type, an ETag of its digest and safe headers.

    ``nosniff`` and a sandboxing CSP stop a browser from treating the bytes as a page.
    """
    response = current_app.response_class(stored.data, mimetype=stored.content_type)
    response.set_etag(stored.sha256)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Digest"] = f"sha-256={_base64_digest(stored.sha256)}"
    response.headers["Cache-Control"] = "public, max-age=300" if public else "private, no-store"
    if download:
        name = stored.original_name or f"file-{stored.id}"
        response.headers["Content-Disposition"] = _attachment(name)
    response.make_conditional(request)
    return response


def _base64_digest(hex_digest: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def _attachment(name: str) -> str:
    from urllib.parse import quote

    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
