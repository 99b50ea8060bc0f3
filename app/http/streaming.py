"""Responses whose body is read from the database while it is sent (exports of any size).

The request's session is closed when the view returns, before the server sends a streamed
body: a body that read through it would open a new transaction on it that nothing closes, and
keep its pooled connection until the garbage collector happened to find it (a few exports then
exhausted the pool). A streamed body reads on a session of its own instead, closed when the
body has been sent, when the client goes away mid-stream (the server closes the response,
which closes the generator) and when the response is closed before a line was sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Response, stream_with_context
from sqlalchemy.orm import Session

from app.extensions import db


def streamed_response(
    body: Callable[[Session], Iterable[str] | Iterable[bytes]], **response: Any
) -> Response:
    """A response streaming ``body(session)``, whose reads run on ``session``: a read-only
    session of the stream's own, closed (its connection back in the pool) however the stream
    ends. ``response`` holds the keyword arguments of :class:`flask.Response`."""
    session = db.new_session()

    def chunks() -> Iterator[Any]:
        try:
            yield from body(session)
        finally:
            session.close()

    streamed = Response(stream_with_context(chunks()), **response)
    # A response closed before its first chunk never starts the generator (and never runs
    # its ``finally``); closing a closed session again does nothing.
    streamed.call_on_close(session.close)
    return streamed
