"""Base classes for request and response schemas (pydantic), shared by every domain.

The same classes validate requests and generate the OpenAPI document, so the two never drift.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError, PydanticKnownError

from app.db import MAX_INTEGER

T = TypeVar("T")

NUL = "\x00"


def contains_nul(value: Any) -> bool:
    """Whether a string anywhere in ``value`` (lists, dicts and their keys, models) holds the
    NUL character, which no text column stores (PostgreSQL refuses it outright)."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, BaseModel):
        return any(contains_nul(item) for item in value.__dict__.values())
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(contains_nul(item) for item in value)
    return False


class RequestSchema(BaseModel):
    """A JSON request body: unknown fields and wrong types are refused, not coerced, no
    integer is larger than a database column holds (ids, quantities: the driver would fail
    on it, SQLite with an ``OverflowError``) and no text holds a NUL character (PostgreSQL
    refuses it, SQLite would store it)."""

    # JSON has no NaN or Infinity; Python's parser reads them, the API refuses them.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _fits_an_integer_column(cls, value: Any) -> Any:
        if type(value) is int:
            if value > MAX_INTEGER:
                raise PydanticKnownError("less_than_equal", {"le": MAX_INTEGER})
            if value < -MAX_INTEGER - 1:
                raise PydanticKnownError("greater_than_equal", {"ge": -MAX_INTEGER - 1})
        elif contains_nul(value):
            raise PydanticCustomError("nul_character", "must not contain the NUL character")
        return value


class QuerySchema(BaseModel):
    """Query-string parameters: strings are converted (``?limit=20``); unknown names are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ResponseSchema(BaseModel):
    """A JSON response body, built from models or dicts."""

    # Every field is sent, defaults included: documented as required, so a generated client
    # does not make each defaulted field optional.
    model_config = ConfigDict(
        from_attributes=True, json_schema_serialization_defaults_required=True
    )


class PageQuery(QuerySchema):
    limit: int = Field(50, ge=1, le=200, description="Items per page.")
    cursor: str | None = Field(
        None, max_length=200, description="Opaque cursor from `next_cursor`."
    )


class Page(ResponseSchema, Generic[T]):
    """The one pagination shape of every list endpoint. ``next_cursor`` is null on the last page;
    the same link is also in the ``Link: <...>; rel="next"`` header."""

    items: list[T]
    limit: int
    next_cursor: str | None
