from datetime import datetime

from pydantic import Field

from app.http.schemas import ResponseSchema


class StoredFileOut(ResponseSchema):
    """An uploaded file's metadata; the bytes are served by the record that owns the file."""

    id: int
    sha256: str = Field(description="SHA-256 of the bytes, lower-case hex.")
    content_type: str = Field(description="The type sniffed from the file's magic bytes.")
    size: int
    original_name: str | None
    created_at: datetime
