"""Rate-limit counters kept in this process, when no Redis server shares them.

The ``limits`` library's memory storage starts a new thread a hundredth of a second after
each change to drop expired entries, so under a steady stream of requests it starts a thread
every few requests, and the request that starts it waits for it. This storage drops expired
entries at most once per ``SWEEP_SECONDS`` instead, from the request that finds a sweep due.
Counting, and so every limit, is the library's own (expired entries never count anyway).
"""

from __future__ import annotations

import time
from typing import Any

from limits.storage import MemoryStorage

SCHEME = "brandtrace-memory"


class LocalMemoryStorage(MemoryStorage):
    """``memory://`` without its clean-up threads (``brandtrace-memory://``)."""

    STORAGE_SCHEME: list[str] = [SCHEME]  # noqa: RUF012 (an instance attribute in the base class)
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()  # the one the base class starts
        self.timer.join()
        self._next_sweep = 0.0

    # The base class calls this (name-mangled) hook on every change to schedule its clean-up.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
