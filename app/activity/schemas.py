from datetime import datetime

from pydantic import Field

from app.http.schemas import PageQuery, ResponseSchema


class ActivityQuery(PageQuery):
    action: str | None = Field(None, max_length=100, description="Only records of this action.")


class ActorOut(ResponseSchema):
    """Who acted, readable."""

    id: int
    display_name: str
    email: str


class ActingOrganisationOut(ResponseSchema):
    slug: str
    name_zh: str
    name_en: str


class ActivityOut(ResponseSchema):
    id: int
    occurred_at: datetime
    request_id: str | None
    user_id: int | None
    token_id: int | None
    user: ActorOut | None = Field(None, description="The person who acted.")
    organisation: ActingOrganisationOut | None = Field(
        None, description="The organisation in whose name they acted."
    )
    action: str = Field(description="The endpoint that served the request.")
    action_label: str = Field(description="The action in words, in the response language.")
    method: str
    path: str
    status: int
    target: str | None
