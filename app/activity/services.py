"""Recording and reading the activity trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.activity.models import ActivityRecord
from app.auth.principal import Caller
from app.http.pagination import PageResult, paginate


def record_activity(
    session: Session,
    caller: Caller | None,
    *,
    action: str,
    method: str,
    path: str,
    status: int,
    request_id: str | None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> ActivityRecord:
    """Append one record; it is committed with the work it describes, or not at all."""
    record = ActivityRecord(
        request_id=request_id,
        organisation_id=caller.organisation_id if caller else None,
        user_id=caller.user_id if caller else None,
        token_id=caller.token_id if caller else None,
        action=action[:100],
        method=method,
        path=path[:500],
        status=status,
        target=target,
        details=details,
    )
    session.add(record)
    session.flush()
    return record


def list_activity(
    session: Session, caller: Caller, *, limit: int, cursor: str | None, action: str | None = None
) -> PageResult[ActivityRecord]:
    """The caller's organisation's trail, newest first."""
    statement = (
        select(ActivityRecord)
        .where(ActivityRecord.organisation_id == caller.organisation_id)
        .options(selectinload(ActivityRecord.user), selectinload(ActivityRecord.organisation))
    )
    if action:
        statement = statement.where(ActivityRecord.action == action)
    return paginate(session, statement, ActivityRecord.id, limit=limit, cursor=cursor)
