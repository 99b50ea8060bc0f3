"""Organisations, their people, and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, BigIntId, CreatedAt, IntPK, StrEnumType, UTCDateTime


class OrgKind(enum.StrEnum):
    ASSOCIATION = "association"
    ENTERPRISE = "enterprise"
    GOVERNMENT = "government"
    ALLIANCE = "alliance"


class Role(enum.StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    AUDITOR = "auditor"
    VIEWER = "viewer"


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[IntPK]
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[OrgKind] = mapped_column(StrEnumType(OrgKind, 16), index=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # Legal registration number; in China the 18-character unified social credit code.
    registration_scheme: Mapped[str | None] = mapped_column(String(16))
    registration_number: Mapped[str | None] = mapped_column(String(64))
    region_code: Mapped[str | None] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[CreatedAt]

    users: Mapped[list[User]] = relationship(back_populates="organisation")


class User(Base):
    __tablename__ = "users"

    id: Mapped[IntPK]
    organisation_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("organisations.id"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(StrEnumType(Role, 16))
    password_hash: Mapped[str] = mapped_column(String(255))
    preferred_locale: Mapped[str | None] = mapped_column(String(8))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change; sessions carry it, so a change signs out every other session.
    session_generation: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[CreatedAt]
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship(back_populates="users", lazy="joined")


class EndedSession(Base):
    """A browser session signed out before its cookie expired.

    Sessions live in signed cookies, which the server cannot take back: a copy of the cookie
    (a shared computer, a stolen backup) would work until it expires. Each session carries a
    random id; signing out records it here until the cookie would have expired anyway, and a
    session whose id is here is refused."""

    __tablename__ = "ended_sessions"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ApiToken(Base):
    """A bearer token. Only the SHA-256 of its secret is stored: a database leak leaks no token."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[IntPK]
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("organisations.id"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64))
    # The first characters, shown in listings so people can tell their tokens apart.
    display_prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[CreatedAt]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")
