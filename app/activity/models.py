"""The activity trail: who did what, when, through which request. Append-only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, BigIntId, CreatedAt, IntPK

if TYPE_CHECKING:
    from app.auth.models import ApiToken, Organisation, User


class ActivityRecord(Base):
    __tablename__ = "activity_records"
    __table_args__ = (Index("ix_activity_records_org_id_desc", "organisation_id", "id"),)

    id: Mapped[IntPK]
    occurred_at: Mapped[CreatedAt]
    request_id: Mapped[str | None] = mapped_column(String(64))
    organisation_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("organisations.id"))
    user_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    token_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("api_tokens.id"))
    action: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[int]
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    # Who acted, for people reading the trail (load them with the page: selectinload).
    organisation: Mapped[Organisation | None] = relationship(viewonly=True)
    user: Mapped[User | None] = relationship(viewonly=True)
    token: Mapped[ApiToken | None] = relationship(viewonly=True)

    @property
    def action_label(self) -> str:
        from app.activity.labels import action_label

        return action_label(self.action)
