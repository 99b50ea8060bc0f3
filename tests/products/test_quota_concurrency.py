"""Concurrent label orders racing for the last of a certificate's quota, with real commits.

It runs in a scratch database of its own (created and dropped here): certificates and issued
orders append to the transparency log, whose tables are append-only, so committed test data
could not otherwise be cleaned up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.certificates.models import Certificate
from app.extensions import db
from app.products import services
from app.products.models import LabelOrder, LabelOrderStatus, LabelPolicy, UnitCode
from tests.conftest import fresh_database, migrate_and_seed, other_app
from tests.products.factories import caller, certify, fresh_gtin

RACERS = 6
QUOTA = 100


@pytest.fixture
def scratch_app(tmp_path: Path, key_dir: Path) -> Iterator[Flask]:
    with fresh_database(tmp_path, "race") as url, other_app(url, key_dir) as application:
        application.config["DEMO"] = migrate_and_seed(application)
        yield application


@pytest.mark.committing
def test_concurrent_orders_never_overrun_the_quota(scratch_app: Flask) -> None:
    tokens = scratch_app.config["DEMO"]["tokens"]
    with scratch_app.app_context():
        session = db.new_session(writer=True)
        who = caller(session)
        product = services.register_product(
            session, who, gtin=fresh_gtin(), name_zh="祁门红茶", name_en="Keemun"
        )
        batch = services.create_batch(session, who, product.id, lot="RACE-1")
        certificate = certify(session, who.organisation_id, [product.gtin], quota=QUOTA)
        # Approve automatically, so each winning order also generates its codes while racing.

        session.add(LabelPolicy(brand_id=certificate.brand_id, auto_approve=True))
        # 70 of the 100 are taken: six orders of 25 race for the last 30, so exactly one wins.
        services.order_labels(session, who, batch.id, quantity=70)
        session.commit()
        batch_id, certificate_id = batch.id, certificate.id
        session.close()

    barrier = threading.Barrier(RACERS)
    statuses: list[int] = []
    lock = threading.Lock()

    def race() -> None:
        client = scratch_app.test_client()
        barrier.wait()
        response = client.post(
            f"/api/v1/batches/{batch_id}/label-orders",
            json={"quantity": 25},
            headers={
                "Authorization": f"Bearer {tokens['firm_staff']}",
                "Accept": "application/json",
            },
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=race) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(statuses) == [201] + [409] * (RACERS - 1)
    with scratch_app.app_context():
        session = db.new_session()
        certificate = session.get(Certificate, certificate_id)
        assert certificate.labels_issued == 95
        orders = session.scalars(select(LabelOrder).where(LabelOrder.batch_id == batch_id)).all()
        assert sorted(o.quantity for o in orders) == [25, 70]
        assert {o.status for o in orders} == {LabelOrderStatus.ISSUED}
        codes = session.scalar(
            select(func.count()).select_from(UnitCode).where(UnitCode.product_id == product.id)
        )
        assert codes == 95  # the refused orders left no codes behind
        session.close()
