from datetime import datetime

from pydantic import Field

from app.http.schemas import PageQuery, ResponseSchema


class ActivityQuery(PageQuery):
    action: str | None = Field(None, max_length=100, description="Only records of this action.")


class ActivityOut(ResponseSchema):
    id: int
    occurred_at: datetime
    request_id: str | None
    user_id: int | None
    token_id: int | None
    action: str
    method: str
    path: str
    status: int
    target: str | None
