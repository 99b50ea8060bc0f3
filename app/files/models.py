"""A stored upload: its bytes, SHA-256 digest, sniffed content type and size."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.db import Base, BigIntId, CreatedAt, IntPK


class StoredFile(Base):
    """One uploaded file. Owned by the record that references it (a brand's logo, an audit's
    evidence); the bytes are loaded only when asked for."""

    __tablename__ = "stored_files"

    id: Mapped[IntPK]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str | None] = mapped_column(String(255))
    organisation_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("organisations.id"), index=True
    )
    uploaded_by_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    created_at: Mapped[CreatedAt]
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
