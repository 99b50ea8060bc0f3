"""One-time form tokens: a form posted twice (a double click, a reload, a resent request) does
its work once.

Post/redirect/get makes a reload after the answer harmless, but two posts of the same form can
still both arrive (the second click lands before the first answer). Each form that creates
something carries a random token; its first submission claims the token in the same
transaction as the work, so the token's row commits or rolls back with it. A later (or
concurrent) submission finds the token claimed and is sent to what the first one made.

Concurrent twins: on PostgreSQL the second INSERT of the token waits on the unique index for the
first transaction, then fails once it commits (or succeeds if it rolled back); on SQLite writers
are serialised (``BEGIN IMMEDIATE``), so the second sees the committed row straight away.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.auth.principal import Caller
from app.db import Base, BigIntId, CreatedAt, IntPK, utcnow
from app.errors import BadRequest

TOKEN_FIELD = "form_token"  # noqa: S105 - a form field name, not a secret
"""The hidden form field that carries the token."""

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")

KEPT_FOR = timedelta(days=7)
"""How long a claimed token is remembered: far longer than any double click, resent request
or reload; after that the row is pruned (a week-old form sent again is simply a new one)."""


class FormSubmission(Base):
    """A claimed form token and where its (first) submission led."""

    __tablename__ = "form_submissions"

    id: Mapped[IntPK]
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"), index=True)
    result_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[CreatedAt]


class InvalidFormToken(BadRequest):
    """The form carries no token, a malformed one, or someone else's."""

    slug = "form-token-invalid"


def new_form_token() -> str:
    """A fresh token to embed in a form (hidden field ``form_token``)."""
    return secrets.token_urlsafe(24)


def _replay(existing: FormSubmission, caller: Caller) -> str:
    if existing.user_id != caller.user_id:
        raise InvalidFormToken("This form token belongs to another person's form.")
    return existing.result_url or ""


def claim_form_token(session: Session, caller: Caller, token: str | None) -> str | None:
    """Claim ``token`` for this submission, in the caller's transaction.

    Returns None for the form's first submission (go ahead and do the work, then call
    :func:`record_form_result`), or the URL the first submission led to ("" if it named none)
    for a repeated one, which must do nothing. Raises :class:`InvalidFormToken` for a missing or
    malformed token, or one claimed by another person.
    """
    if not token or not _TOKEN.match(token):
        raise InvalidFormToken("The form carries no valid one-time token; reload it.")
    existing = session.scalar(select(FormSubmission).where(FormSubmission.token == token))
    if existing is not None:
        return _replay(existing, caller)
    try:
        with session.begin_nested():
            session.add(FormSubmission(token=token, user_id=caller.user_id))
            session.flush()
    except IntegrityError:
        # A concurrent twin committed first; its row is visible now.
        existing = session.scalar(select(FormSubmission).where(FormSubmission.token == token))
        assert existing is not None
        return _replay(existing, caller)
    # The person's own old tokens go as they submit new forms (their rows only, by an indexed
    # column, so concurrent submissions of different people never wait on each other);
    # ``flask --app wsgi portal prune-form-tokens`` clears those of people who stopped coming.
    prune_form_tokens(session, user_id=caller.user_id)
    return None


def prune_form_tokens(
    session: Session, *, user_id: int | None = None, before: datetime | None = None
) -> int:
    """Forget tokens claimed before ``before`` (default: :data:`KEPT_FOR` ago), of one person
    or of everyone; returns how many were deleted."""
    cutoff = before or utcnow() - KEPT_FOR
    statement = delete(FormSubmission).where(FormSubmission.created_at < cutoff)
    if user_id is not None:
        statement = statement.where(FormSubmission.user_id == user_id)
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def record_form_result(session: Session, token: str, result_url: str) -> None:
    """Remember where the first submission of the form led (repeats are sent there)."""
    submission = session.scalar(select(FormSubmission).where(FormSubmission.token == token))
    if submission is not None:
        submission.result_url = result_url[:500]
        session.flush()
