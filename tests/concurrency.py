"""Forcing one interleaving of two transactions on PostgreSQL, with real connections and
commits: shared by the concurrency tests of several domains.

A lock-order bug only shows when two transactions each hold what the other is about to ask
for, so the interleaving is forced, not hoped for: statement hooks on the application's engine
pause the first transaction just before a chosen statement until the second has run one of its
own (or until it has waited ``PAUSE`` seconds, which is what happens when the second has to
wait for a lock the first holds).

SQLite's writers take turns on the whole database, so these tests run on PostgreSQL only, in a
scratch database of their own: certificates and orders append to the transparency log, whose
tables are append-only, so committed test data could not otherwise be cleaned up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.extensions import db
from tests.conftest import fresh_database, migrate_and_seed, other_app

PAUSE = 3.0  # seconds a paused transaction waits for the other one to take its lock

LOCK_ORDERS = ("FROM label_orders", "FOR UPDATE")
LOCK_CERTIFICATES = ("FROM certificates", "FOR UPDATE")
LOCK_ISSUER_KEYS = ("FROM issuer_keys", "FOR UPDATE")

#: What a contender reports: "ok", the domain error's class name, or anything else that went
#: wrong (a deadlock among them).
Attempt = Callable[[], str]


@contextmanager
def postgresql_scratch_app(directory: Path, key_dir: Path, hint: str) -> Iterator[Flask]:
    """An application on a fresh, migrated and seeded database of its own (the demo's API
    tokens in ``config["DEMO"]``), dropped afterwards; skips the test on SQLite."""
    with fresh_database(directory, hint) as url:
        if make_url(url).get_backend_name() != "postgresql":
            pytest.skip("PostgreSQL only: SQLite's writers take turns on the whole database")
        with other_app(url, key_dir) as application:
            application.config["DEMO"] = migrate_and_seed(application)
            yield application


def in_transaction(application: Flask, work: Callable[[Session], Any]) -> Attempt:
    """``work`` in a transaction of its own, committed: "ok", the domain error's class name,
    or the repr of anything else that went wrong (a deadlock among them: reported, not
    raised)."""

    def attempt() -> str:
        with application.app_context():
            session = db.new_session(writer=True)
            try:
                work(session)
                session.commit()
                return "ok"
            except Conflict as error:
                session.rollback()
                return type(error).__name__
            except Exception as error:
                session.rollback()
                return repr(error)
            finally:
                session.close()

    return attempt


class Pauses:
    """Statement hooks on the application's engine, per thread: ``pause_before`` makes a
    thread wait (at most ``PAUSE``) for ``event`` before its first statement matching the
    fragments; ``signal_after`` sets ``event`` once a thread's matching statement has run."""

    def __init__(self, application: Flask) -> None:
        with application.app_context():
            self.engine = db.engine
        self.before: dict[str, tuple[tuple[str, ...], threading.Event, threading.Event]] = {}
        self.after: dict[str, tuple[tuple[str, ...], threading.Event]] = {}
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)

    def pause_before(
        self, thread: str, fragments: tuple[str, ...], reached: threading.Event, go: threading.Event
    ) -> None:
        self.before[thread] = (fragments, reached, go)

    def signal_after(self, thread: str, fragments: tuple[str, ...], done: threading.Event) -> None:
        self.after[thread] = (fragments, done)

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        hook = self.before.get(threading.current_thread().name)
        if hook and all(fragment in statement for fragment in hook[0]):
            del self.before[threading.current_thread().name]  # the first such statement only
            hook[1].set()
            hook[2].wait(PAUSE)

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        hook = self.after.get(threading.current_thread().name)
        if hook and all(fragment in statement for fragment in hook[0]):
            hook[1].set()


def race(
    application: Flask,
    first: Attempt,
    second: Attempt,
    *,
    pause_first_before: tuple[str, ...],
    second_signals_after: tuple[str, ...],
) -> dict[str, str]:
    """Start ``first``; when it is about to run a ``pause_first_before`` statement, start
    ``second`` and let ``first`` go on once ``second`` ran a ``second_signals_after`` one (or
    after ``PAUSE`` seconds, when ``second`` is waiting for one of ``first``'s locks).
    Returns what each reported, under "first" and "second"."""
    outcomes: dict[str, str] = {}
    reached, go = threading.Event(), threading.Event()
    pauses = Pauses(application)
    pauses.pause_before("first", pause_first_before, reached, go)
    pauses.signal_after("second", second_signals_after, go)

    def contend(name: str, attempt: Attempt) -> None:
        outcomes[name] = attempt()

    threads = [
        threading.Thread(target=contend, args=(name, attempt), name=name)
        for name, attempt in (("first", first), ("second", second))
    ]
    try:
        threads[0].start()
        assert reached.wait(30), "the first transaction never reached its pause"
        threads[1].start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads), "a transaction hangs"
    finally:
        pauses.remove()
    return outcomes
