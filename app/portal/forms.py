"""HTML forms validated by the same pydantic schemas as the API."""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

M = TypeVar("M", bound=BaseModel)


@dataclass
class FormResult(Generic[M]):
    """A parsed form: the model when valid, else the errors per field; ``values`` keeps what
    the person typed so the form can be shown again unchanged."""

    model: M | None
    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.model is not None


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    return any(_is_list(arg) for arg in typing.get_args(annotation) if arg is not type(None))


def parse_form(schema: type[M], form: MultiDict[str, str]) -> FormResult[M]:
    """Validate ``form`` against ``schema`` (lax: form fields are strings); empty optional
    fields are treated as absent."""
    values: dict[str, Any] = {}
    for name, info in schema.model_fields.items():
        if _is_list(info.annotation):
            items = [item.strip() for item in form.getlist(name) for item in item.splitlines()]
            values[name] = [item for item in items if item]
        elif name in form:
            raw = form.get(name, "")
            if raw.strip() == "" and not info.is_required():
                continue
            values[name] = raw
        elif info.annotation is bool or info.annotation == bool | None:
            values[name] = False  # an unchecked checkbox sends nothing
    try:
        return FormResult(model=schema.model_validate(values, strict=False), values=values)
    except ValidationError as error:
        errors: dict[str, str] = {}
        for item in error.errors(include_url=False):
            key = str(item["loc"][0]) if item["loc"] else "__all__"
            errors.setdefault(key, item["msg"])
        return FormResult(model=None, values=values, errors=errors)
