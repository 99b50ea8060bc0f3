"""A signed label order approved at once while its certificate is suspended, withdrawn or
cancelled, on PostgreSQL with real connections and commits.

Issuing signed codes takes the association's signing lock, and every certificate lifecycle
change takes that lock before the certificate's. An order reserving its quota (the
certificate's lock) before signing would wait for the key while the change waits for the
certificate: PostgreSQL aborts one with a deadlock error. The order pauses just before it
takes the signing lock until the change holds the key. PostgreSQL only, in a scratch database
(tests.concurrency).
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
from app.certificates import credentials
from app.certificates.models import Certificate, CertificateStatus
from app.extensions import db
from app.products import services
from app.products.models import LabelOrder
from tests.concurrency import LOCK_ISSUER_KEYS, in_transaction, postgresql_scratch_app, race
from tests.products.factories import caller, certify, fresh_gtin

ISSUED = 20  # labels of an order issued before the race: they stay counted
ENDED = {
    "suspend": CertificateStatus.SUSPENDED,
    "withdraw": CertificateStatus.WITHDRAWN,
    "cancel": CertificateStatus.CANCELLED,
}


@pytest.fixture(scope="module")
def scratch_app(tmp_path_factory: pytest.TempPathFactory, key_dir) -> Iterator[Flask]:
    directory = tmp_path_factory.mktemp("order-race")
    with postgresql_scratch_app(directory, key_dir, "order") as application:
        yield application


@dataclass(frozen=True)
class Scene:
    firm: Caller
    association: Caller
    certificate_id: int
    certificate_number: str
    batch_id: int


def _scene(application: Flask) -> Scene:
    """A certificate of the demo brand, whose orders are approved at once, with a batch and
    one issued order of ``ISSUED`` labels, committed."""
    with application.app_context():
        session = db.new_session(writer=True)
        try:
            firm = caller(session)
            admin = caller(session, "admin@qimen-tea.example")
            product = services.register_product(
                session, firm, gtin=fresh_gtin(), name_zh="祁门红茶", name_en="Keemun black tea"
            )
            certificate = certify(session, firm.organisation_id, [product.gtin], quota=100)
            services.set_label_policy(
                session, admin, "qimen-black-tea", auto_approve=True, auto_approve_max=None
            )
            batch = services.create_batch(session, firm, product.id, lot="RACE-01")
            services.order_labels(session, firm, batch.id, quantity=ISSUED, signed=True)
            session.commit()
            return Scene(firm, admin, certificate.id, certificate.number, batch.id)
        finally:
            session.close()


def _state(application: Flask, scene: Scene) -> tuple[Any, ...]:
    with application.app_context():
        session = db.new_session()
        try:
            certificate = session.get(Certificate, scene.certificate_id)
            orders = session.scalar(
                select(func.count())
                .select_from(LabelOrder)
                .where(LabelOrder.certificate_id == scene.certificate_id)
            )
            return certificate.status, certificate.labels_issued, orders
        finally:
            session.close()


@pytest.mark.committing
@pytest.mark.parametrize("change", sorted(ENDED))
def test_a_signed_order_approved_at_once_while_its_certificate_changes_does_not_deadlock(
    scratch_app: Flask, change: str
) -> None:
    scene = _scene(scratch_app)

    def order(session: Session) -> None:
        services.order_labels(session, scene.firm, scene.batch_id, quantity=30, signed=True)

    def end(session: Session) -> None:
        number, why = scene.certificate_number, "race"
        if change == "suspend":
            credentials.suspend_certificate(session, scene.association, number, reason=why)
        elif change == "withdraw":
            credentials.withdraw_certificate(session, scene.association, number, reason=why)
        else:
            credentials.cancel_certificate(session, scene.firm, number, reason=why)

    outcomes = race(
        scratch_app,
        in_transaction(scratch_app, order),
        in_transaction(scratch_app, end),
        pause_first_before=LOCK_ISSUER_KEYS,
        second_signals_after=LOCK_ISSUER_KEYS,
    )

    # The change holds the key when the order asks for it, before the order has locked
    # anything: the order waits, then finds the certificate no longer in force.
    assert outcomes == {"first": "NotCovered", "second": "ok"}
    assert _state(scratch_app, scene) == (ENDED[change], ISSUED, 1)
