"""Queueing the writers of scans on SQLite, across the threads and processes of the server.

SQLite lets one writer in at a time; others wait in its busy handler, which sleeps 1, 2, 5,
10 ... up to 100 ms between tries, so under a flood of scans most of the time goes to sleeping.
Scans instead queue on an exclusive ``flock`` of a lock file next to the database (the kernel
wakes the next waiter at once), after a lock among the threads of one process (``flock``
belongs to an open file, which the threads share). PostgreSQL needs none of this: scans of
different packs touch different rows.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ScanWriterQueue:
    """One exclusive writer of scans at a time per SQLite database file."""

    def __init__(self) -> None:
        self._thread_lock = threading.Lock()
        self._files: dict[tuple[int, str], int] = {}

    def _descriptor(self, database: str) -> int:
        # Per process: a worker forked from a parent must open its own file.
        key = (os.getpid(), database)
        descriptor = self._files.get(key)
        if descriptor is None:
            descriptor = os.open(database + ".scan-lock", os.O_RDWR | os.O_CREAT, 0o600)
            self._files[key] = descriptor
        return descriptor

    @contextmanager
    def hold(self, database: str | None) -> Iterator[None]:
        with self._thread_lock:
            if not database or database == ":memory:":
                yield
                return
            descriptor = self._descriptor(database)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)


SCAN_WRITERS = ScanWriterQueue()
