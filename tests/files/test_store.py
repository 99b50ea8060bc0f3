"""Uploads: real types sniffed from magic bytes, size limits, SVG refused, SHA-256 digests."""

from __future__ import annotations

import hashlib
from io import BytesIO

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app.errors import AppError
from app.files.demo_images import minimal_pdf, tea_logo
from app.files.models import StoredFile
from app.files.services import (
    DOCUMENT_TYPES,
    IMAGE_TYPES,
    sniff_content_type,
    store_bytes,
    store_upload,
)

PNG = tea_logo(8)
PDF = minimal_pdf()
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (WEBP, "image/webp"),
        (PDF, "application/pdf"),
        (SVG, None),
        (b"GIF89a....", None),
        (b"RIFF\x00\x00\x00\x00WAVE", None),
    ],
)
def test_types_are_sniffed_from_magic_bytes(data, expected) -> None:
    assert sniff_content_type(data) == expected


def test_stored_file_keeps_bytes_digest_and_sniffed_type(session) -> None:
    stored = store_bytes(
        session, PNG, allowed_types=IMAGE_TYPES, max_bytes=1024 * 1024, original_name="logo.png"
    )
    assert stored.sha256 == hashlib.sha256(PNG).hexdigest()
    assert (stored.content_type, stored.size) == ("image/png", len(PNG))
    session.expire(stored)
    assert stored.data == PNG


def _refusal(session, data, **kwargs) -> AppError:
    with pytest.raises(AppError) as caught:
        store_bytes(session, data, **{"allowed_types": IMAGE_TYPES, "max_bytes": 4096, **kwargs})
    return caught.value


def test_svg_is_refused_by_name_of_the_rule(session) -> None:
    error = _refusal(session, SVG)
    assert (error.status, error.slug) == (415, "file-type-refused")
    assert error.errors[0].rule == "svg_refused"


def test_wrong_type_oversize_empty_and_contradicted_claims_are_refused(session) -> None:
    wrong = _refusal(session, PDF)
    assert (wrong.status, wrong.errors[0].rule) == (415, "content_type")
    big = _refusal(session, PNG + b"\x00" * 5000)
    assert (big.status, big.slug, big.errors[0].rule) == (413, "file-too-large", "max_size")
    empty = _refusal(session, b"")
    assert (empty.status, empty.errors[0].rule) == (422, "required")
    lying = _refusal(session, PNG, claimed_type="image/jpeg")
    assert lying.errors[0].rule == "claimed_type_mismatch"
    assert (
        session.scalar(select(func.count()).select_from(StoredFile).where(StoredFile.size == 0))
        == 0
    )


def test_store_upload_reads_no_more_than_the_limit_plus_one(session) -> None:
    class CountingStream(BytesIO):
        def __init__(self, data: bytes) -> None:
            super().__init__(data)
            self.asked: list[int] = []

        def read(self, size: int | None = -1) -> bytes:
            self.asked.append(size if size is not None else -1)
            return super().read(size)

    stream = CountingStream(PDF + b"\x00" * 100_000)
    with pytest.raises(AppError):
        store_upload(
            session,
            FileStorage(stream=stream, filename="r.pdf", content_type="application/pdf"),
            allowed_types=DOCUMENT_TYPES,
            max_bytes=1000,
        )
    assert stream.asked == [1001]


def test_missing_upload_names_the_field(session) -> None:
    with pytest.raises(AppError) as caught:
        store_upload(session, None, allowed_types=IMAGE_TYPES, max_bytes=10, field="logo")
    assert (caught.value.errors[0].field, caught.value.errors[0].rule) == ("logo", "required")
