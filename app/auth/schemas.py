from datetime import datetime

from pydantic import Field

from app.auth.models import OrgKind, Role
from app.http.schemas import RequestSchema, ResponseSchema


class OrganisationOut(ResponseSchema):
    id: int
    slug: str
    kind: OrgKind
    name_zh: str
    name_en: str
    registration_scheme: str | None
    registration_number: str | None
    region_code: str | None
    is_active: bool


class UserOut(ResponseSchema):
    id: int
    email: str
    display_name: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class MeOut(ResponseSchema):
    user: UserOut
    organisation: OrganisationOut
    token_scopes: list[str] | None = Field(
        description="Scopes of the API token used; null for a browser session."
    )


class UserCreate(RequestSchema):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    display_name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str = Field(min_length=10, max_length=256)


class UserUpdate(RequestSchema):
    role: Role | None = None
    is_active: bool | None = None
    display_name: str | None = Field(None, min_length=1, max_length=200)


class TokenCreate(RequestSchema):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(
        default_factory=lambda: ["*:read", "*:write"], min_length=1, max_length=50
    )
    expires_in_days: int = Field(90, ge=1, le=366)


class TokenOut(ResponseSchema):
    id: int
    name: str
    display_prefix: str
    scopes: list[str]
    user_id: int
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret; shown only in this response, never again.")


class PasswordChange(RequestSchema):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=10, max_length=256)
