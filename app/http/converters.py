"""Ids in requests: the URL converter registered by the app factory, and ``id_param`` for
ids in a query string or a form."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter, Map

from app.db import MAX_INTEGER
from app.errors import NotFound

MAX_ID = MAX_INTEGER


class IdConverter(IntegerConverter):
    """``<int:...>`` as every route uses it: an id, so at most ``MAX_ID``.

    A larger number cannot name a row: it gives the 404 of an address that does not exist,
    where binding it would fail in the driver (SQLite raises ``OverflowError``) with a 500.
    """

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


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
