"""URL converters registered by the app factory."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

from app.db import MAX_INTEGER

MAX_ID = MAX_INTEGER


class IdConverter(IntegerConverter):
    """``<int:...>`` as every route uses it: an id, so at most ``MAX_ID``.

    A larger number cannot name a row: it gives the 404 of an address that does not exist,
    where binding it would fail in the driver (SQLite raises ``OverflowError``) with a 500.
    """

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
