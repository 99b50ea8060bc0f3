"""Leaving a brand while a label order on its certificate is decided, and leaving twice at
once, on PostgreSQL with real connections and commits.

Leaving locks the firm's certificates of the brand and then their pending orders; an order
decision (the firm's cancellation, the association's approval) must take the same locks in
the same order, or each waits for the other and PostgreSQL aborts one with a deadlock error.
The interleaving that deadlocks when the order differs is forced, not hoped for: the leaving
transaction pauses just before it locks the orders until the decision holds its order's lock
(or until it has waited ``PAUSE`` seconds, which is what happens when the decision has to
wait for the certificate first). PostgreSQL only, in a scratch database (tests.concurrency).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
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
from app.extensions import db
from app.firm import services
from app.products import services as products
from app.products.models import LabelOrder, LabelOrderStatus
from tests.brandkit import brand_body
from tests.concurrency import (
    LOCK_CERTIFICATES,
    LOCK_ORDERS,
    in_transaction,
    postgresql_scratch_app,
    race,
)
from tests.products.factories import caller, certify, fresh_gtin, make_order

ISSUED = 20  # labels of an order approved before the race: they stay counted
PENDING = 30  # labels of the pending order the race is about: given back exactly once
_slugs = iter(f"race-leave-{n}" for n in range(1000))


@pytest.fixture(scope="module")
def scratch_app(tmp_path_factory: pytest.TempPathFactory, key_dir) -> Iterator[Flask]:
    directory = tmp_path_factory.mktemp("leave-race")
    with postgresql_scratch_app(directory, key_dir, "leave") as application:
        yield application


@dataclass(frozen=True)
class Scene:
    firm: Caller
    association: Caller
    membership_id: int
    certificate_id: int
    order_id: int
    issued_id: int


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
            issued = products.approve_order(
                session, staff, make_order(session, firm, batch, ISSUED).id
            )
            pending = products.order_labels(
                session, firm, batch.id, quantity=PENDING, signed=signed
            )
            session.commit()
            return Scene(firm, staff, membership.id, certificate.id, pending.id, issued.id)
        finally:
            session.close()


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

    outcomes = race(
        scratch_app,
        in_transaction(scratch_app, leave),
        in_transaction(scratch_app, decide),
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
    outcomes = race(
        scratch_app,
        in_transaction(scratch_app, leave),
        in_transaction(scratch_app, leave),
        pause_first_before=LOCK_CERTIFICATES,
        second_signals_after=("FROM brand_memberships",),
    )

    assert outcomes == {"first": "ok", "second": "MembershipTransitionRefused"}
    assert _state(scratch_app, scene) == LEFT_AND_CANCELLED


@pytest.mark.committing
def test_labels_activated_while_the_firm_leaves_wait_and_are_refused(scratch_app: Flask) -> None:
    scene = _scene(scratch_app)
    with scratch_app.app_context():
        session = db.new_session(writer=True)
        try:
            products.mark_printed(session, scene.firm, scene.issued_id)
            session.commit()
        finally:
            session.close()

    def leave(session: Session) -> None:
        services.leave_brand(session, scene.firm, scene.membership_id)

    def activate(session: Session) -> None:
        products.activate_order(session, scene.firm, scene.issued_id)

    # Leaving holds the certificate when the activation comes: the activation waits for it,
    # then finds it cancelled (without the certificate's lock it would activate labels of a
    # certificate that is being cancelled).
    outcomes = race(
        scratch_app,
        in_transaction(scratch_app, leave),
        in_transaction(scratch_app, activate),
        pause_first_before=LOCK_ORDERS,
        second_signals_after=LOCK_ORDERS,
    )

    assert outcomes == {"first": "ok", "second": "CertificateNotInForce"}
    assert _state(scratch_app, scene) == LEFT_AND_CANCELLED
    with scratch_app.app_context():
        session = db.new_session()
        try:
            printed = session.get(LabelOrder, scene.issued_id)
            assert (printed.status, printed.activated_at) == (LabelOrderStatus.PRINTED, None)
        finally:
            session.close()
