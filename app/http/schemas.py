"""Base classes for request and response schemas (pydantic), shared by every domain.

The same classes validate requests and generate the OpenAPI document, so the two never drift.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class RequestSchema(BaseModel):
    """A JSON request body: unknown fields and wrong types are refused, not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class QuerySchema(BaseModel):
    """Query-string parameters: strings are converted (``?limit=20``); unknown names are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ResponseSchema(BaseModel):
    """A JSON response body, built from models or dicts."""

    model_config = ConfigDict(from_attributes=True)


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
