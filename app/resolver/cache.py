"""A small per-process cache with expiry, for facts that change rarely and cost much to
gather (a brand's name, a certificate's surveillance standing, a batch's journey, an
inclusion proof, a brand's rules).

Everything a verdict turns on at once is read fresh on every scan: the code's state, its
order, its certificate's status, active recalls. What is cached here may lag by at most its
``ttl`` (seconds), and each key carries what would make it stale (a certificate's key includes
its status change time and its signing key's revocation instant), so most changes take effect
at once anyway.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

T = TypeVar("T")


class TTLCache:
    """Least-recently-used entries with a time to live; safe across a worker's threads."""

    def __init__(self, maxsize: int, ttl: float) -> None:
        self.maxsize = maxsize
        self.ttl = ttl
        self._data: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_set(self, key: Hashable, compute: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            found = self._data.get(key)
            if found is not None and found[0] > now:
                self._data.move_to_end(key)
                return found[1]
        value = compute()
        with self._lock:
            self._data[key] = (now + self.ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return value

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def scope(session: Session) -> Hashable:
    """Cache namespace: the database behind ``session`` (tests and tools may run several apps,
    on different databases, in one process). Its connection pool stands for it: one per
    database per process, shared by the engine's option variants (writers), and cheap to hash
    (a URL renders itself as a string to hash, a dozen times per verification)."""
    return session.get_bind().engine.pool


BRANDS = TTLCache(256, 60)
STANDINGS = TTLCache(4096, 60)
JOURNEYS = TTLCache(4096, 30)
PROOFS = TTLCache(4096, 30)
RULES = TTLCache(256, 30)
RECALLS = TTLCache(16384, 30)
LINKS = TTLCache(4096, 60)


def clear_all() -> None:
    """Forget everything (tests that change what is cached behind the resolver's back)."""
    for cache in (BRANDS, STANDINGS, JOURNEYS, PROOFS, RULES, RECALLS, LINKS):
        cache.clear()
