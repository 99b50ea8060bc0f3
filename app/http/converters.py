"""Ids in requests: the URL converter registered by the app factory, and ``id_param`` for
ids in a query string or a form."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug.routing import IntegerConverter, Map

from app.db import MAX_INTEGER
from app.errors import NotFound

MAX_ID = MAX_INTEGER


class TooLarge(int):
    """A path number beyond the route's ``max``: it names nothing (see :class:`IdConverter`)."""


class IdConverter(IntegerConverter):
    """``<int:...>`` as every route uses it: an id, so at most ``MAX_ID`` (``int(max=None)``
    for a route that answers any number itself).

    A larger number cannot name a row: binding it would fail in the driver (SQLite raises
    ``OverflowError``) with a 500. The converter still matches it, as :class:`TooLarge`, and
    :func:`refuse_ids_out_of_range` answers the 404 of an address that does not exist before
    any view runs. Refusing it here instead would make the router try the address's other
    rules: where one path has a rule per method (GET and PATCH ``/api/v1/audits/<id>``), a
    PATCH was then told 405, that the address accepts only GET.
    """

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> Any:
        number = self.num_convert(value)
        if self.max is not None and number > self.max:
            return TooLarge(number)
        return super().to_python(value)


def refuse_ids_out_of_range(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A URL value preprocessor: a path id beyond its route's ``max`` is not found (404)."""
    if any(isinstance(value, TooLarge) for value in (values or {}).values()):
        raise HTTPNotFound()


def id_param(values: MultiDict[str, str], name: str) -> int | None:
    """``values.get(name, type=int)`` for an id the page looks up (``request.args``,
    ``request.values`` or ``request.form``): None when absent or not a whole number.

    A number beyond any id names no row: it raises the 404 an unknown id gets, where binding
    it would fail in the driver (SQLite raises ``OverflowError``) with a 500.
    """
    number = values.get(name, type=int)
    if number is not None and not -MAX_ID - 1 <= number <= MAX_ID:
        raise NotFound(gettext("There is nothing with the number %(id)s.", id=number))
    return number
