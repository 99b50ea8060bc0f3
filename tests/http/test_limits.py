"""The in-process rate-limit storage: the library's limits, without a thread per sweep."""

from __future__ import annotations

import threading
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.http.limits import SCHEME, LocalMemoryStorage


def test_the_scheme_names_the_storage() -> None:
    assert isinstance(storage_from_string(f"{SCHEME}://"), LocalMemoryStorage)


def test_limits_hold_and_expired_entries_are_swept_without_threads(monkeypatch) -> None:
    monkeypatch.setattr(LocalMemoryStorage, "SWEEP_SECONDS", 0.05)
    storage = LocalMemoryStorage()
    limiter = MovingWindowRateLimiter(storage)
    limit = parse("2 per second")
    threads = threading.active_count()
    assert limiter.hit(limit, "client")
    assert limiter.hit(limit, "client")
    assert not limiter.hit(limit, "client")  # the third within the second is refused
    assert limiter.hit(limit, "other")  # per key
    assert threading.active_count() <= threads
    time.sleep(1.1)
    assert limiter.hit(limit, "client")  # the window moved on
    # That hit swept the expired entries: only the new one is kept.
    assert len(storage.events[limit.key_for("client")]) == 1
    assert not storage.events.get(limit.key_for("other"))
    assert threading.active_count() <= threads
