"""Leaving a brand while a label order on its certificate is decided, and leaving twice at
once, on PostgreSQL with real connections and commits.

Leaving locks the firm's certificates of the brand and then their pending orders; an order
decision (the firm's cancellation, the association's approval) must take the same locks in
the same order, or each waits for the other and PostgreSQL aborts one with a deadlock error.
The interleaving that deadlocks when the order differs is forced, not hoped for: the leaving
transaction pauses just before it locks the orders until the decision holds its order's lock
(or until it has waited ``PAUSE`` seconds, which is what happens when the decision has to
wait for the certificate first).

SQLite's writers take turns on the whole database, so these tests run on PostgreSQL only, in a
scratch database of their own: certificates and orders append to the transparency log, whose
tables are append-only, so committed test data could not otherwise be cleaned up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.auth.principal import Caller
from app.brands import services as brands
from app.brands.models import Membership, MembershipStatus
from app.certificates.models import (
    Certificate,
    CertificateEvent,
    CertificateEventKind,
    CertificateStatus,
)
from app.errors import Conflict
from app.extensions import db
from app.firm import services
from app.products import services as products
from app.products.models import LabelOrder, LabelOrderStatus
from tests.brandkit import brand_body
from tests.conftest import fresh_database, migrate_and_seed, other_app
from tests.products.factories import caller, certify, fresh_gtin, make_order

PAUSE = 3.0  # seconds a paused transaction waits for the other one to take its lock
ISSUED = 20  # labels of an order approved before the race: they stay counted
PENDING = 30  # labels of the pending order the race is about: given back exactly once
_slugs = iter(f"race-leave-{n}" for n in range(1000))


@pytest.fixture(scope="module")
def scratch_app(tmp_path_factory: pytest.TempPathFactory, key_dir) -> Iterator[Flask]:
    directory = tmp_path_factory.mktemp("leave-race")
    with fresh_database(directory, "leave") as url:
        if make_url(url).get_backend_name() != "postgresql":
            pytest.skip("PostgreSQL only: SQLite's writers take turns on the whole database")
        with other_app(url, key_dir) as application:
            migrate_and_seed(application)
            yield application


@dataclass(frozen=True)
class Scene:
    firm: Caller
    association: Caller
    membership_id: int
    certificate_id: int
    order_id: int


def _scene(application: Flask, *, signed: bool = False) -> Scene:
    """A brand of its own the demo firm is a member of, a certificate of that brand with an
    issued order of ``ISSUED`` labels and a pending one of ``PENDING`` (``signed``: of
    offline-verifiable labels), committed."""
    with application.app_context():
        session = db.new_session(writer=True)
        try:
            firm = caller(session)
            admin = caller(session, "admin@qimen-tea.example")
            staff = caller(session, "staff@qimen-tea.example")
            slug = next(_slugs)
            brands.create_brand(session, admin, **brand_body(slug))
            membership = brands.apply_for_membership(
                session, firm, slug, registration_scheme=None, registration_number=None
            )
            brands.change_membership(session, admin, membership.id, "approve")
            product = products.register_product(
                session, firm, gtin=fresh_gtin(), name_zh="祁门红茶", name_en="Keemun black tea"
            )
            certificate = certify(
                session, firm.organisation_id, [product.gtin], quota=100, brand_slug=slug
            )
            batch = products.create_batch(session, firm, product.id, lot="RACE-01")
            products.approve_order(session, staff, make_order(session, firm, batch, ISSUED).id)
            pending = products.order_labels(
                session, firm, batch.id, quantity=PENDING, signed=signed
            )
            session.commit()
            return Scene(firm, staff, membership.id, certificate.id, pending.id)
        finally:
            session.close()


def _run(application: Flask, work: Callable[[Session], Any], outcomes: dict[str, str]) -> None:
    """Run ``work`` in a transaction of its own and commit; record "ok", the domain error's
    class name, or anything else that went wrong (a deadlock among them)."""
    name = threading.current_thread().name
    with application.app_context():
        session = db.new_session(writer=True)
        try:
            work(session)
            session.commit()
            outcomes[name] = "ok"
        except Conflict as error:
            session.rollback()
            outcomes[name] = type(error).__name__
        except Exception as error:  # a deadlock among them: reported, not raised
            session.rollback()
            outcomes[name] = repr(error)
        finally:
            session.close()


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


LOCK_ORDERS = ("FROM label_orders", "FOR UPDATE")
LOCK_CERTIFICATES = ("FROM certificates", "FOR UPDATE")


def _race(
    application: Flask,
    first: Callable[[Session], Any],
    second: Callable[[Session], Any],
    *,
    pause_first_before: tuple[str, ...],
    second_signals_after: tuple[str, ...],
) -> dict[str, str]:
    """Start ``first``; when it is about to run a ``pause_first_before`` statement, start
    ``second`` and let ``first`` go on once ``second`` ran a ``second_signals_after`` one (or
    after ``PAUSE`` seconds, when ``second`` is waiting for one of ``first``'s locks)."""
    outcomes: dict[str, str] = {}
    reached, go = threading.Event(), threading.Event()
    pauses = Pauses(application)
    pauses.pause_before("first", pause_first_before, reached, go)
    pauses.signal_after("second", second_signals_after, go)
    threads = [
        threading.Thread(target=_run, args=(application, work, outcomes), name=name)
        for name, work in (("first", first), ("second", second))
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


def _state(application: Flask, scene: Scene) -> tuple[Any, ...]:
    with application.app_context():
        session = db.new_session()
        try:
            certificate = session.get(Certificate, scene.certificate_id)
            order = session.get(LabelOrder, scene.order_id)
            membership = session.get(Membership, scene.membership_id)
            cancellations = session.scalar(
                select(func.count())
                .select_from(CertificateEvent)
                .where(
                    CertificateEvent.certificate_id == scene.certificate_id,
                    CertificateEvent.kind == CertificateEventKind.CANCELLED,
                )
            )
            return (
                membership.status,
                certificate.status,
                cancellations,
                certificate.labels_issued,
                order.status,
            )
        finally:
            session.close()


LEFT_AND_CANCELLED = (
    MembershipStatus.LEFT,
    CertificateStatus.CANCELLED,
    1,  # cancelled once
    ISSUED,  # the pending order's labels given back once, the issued ones still counted
    LabelOrderStatus.CANCELLED,
)


@pytest.mark.committing
@pytest.mark.parametrize("decision", ["cancel", "approve", "approve-signed"])
def test_an_order_decided_while_the_firm_leaves_neither_deadlocks_nor_counts_twice(
    scratch_app: Flask, decision: str
) -> None:
    scene = _scene(scratch_app, signed=decision == "approve-signed")

    def leave(session: Session) -> None:
        services.leave_brand(session, scene.firm, scene.membership_id, "closing the line")

    def decide(session: Session) -> None:
        if decision == "cancel":
            products.cancel_order(session, scene.firm, scene.order_id)
        else:
            products.approve_order(session, scene.association, scene.order_id)

    outcomes = _race(
        scratch_app,
        leave,
        decide,
        pause_first_before=LOCK_ORDERS,
        second_signals_after=LOCK_ORDERS,
    )

    # Leaving holds the certificate when the decision comes, so the decision waits for it and
    # then finds the order cancelled with the certificate.
    assert outcomes == {"first": "ok", "second": "OrderStateConflict"}
    assert _state(scratch_app, scene) == LEFT_AND_CANCELLED


@pytest.mark.committing
def test_leaving_twice_at_once_leaves_once(scratch_app: Flask) -> None:
    scene = _scene(scratch_app)

    def leave(session: Session) -> None:
        services.leave_brand(session, scene.firm, scene.membership_id)

    # The first pauses before it locks the certificates until the second has read the
    # membership (at once when that read takes no lock: both would then see it approved).
    outcomes = _race(
        scratch_app,
        leave,
        leave,
        pause_first_before=LOCK_CERTIFICATES,
        second_signals_after=("FROM memberships",),
    )

    assert outcomes == {"first": "ok", "second": "MembershipTransitionRefused"}
    assert _state(scratch_app, scene) == LEFT_AND_CANCELLED
