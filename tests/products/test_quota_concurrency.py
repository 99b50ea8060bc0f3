"""Concurrent label orders racing for the last of a certificate's quota, with real commits.

It runs in a scratch database of its own (created and dropped here): certificates and issued
orders append to the transparency log, whose tables are append-only, so committed test data
could not otherwise be cleaned up.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.certificates.models import Certificate
from app.extensions import db
from app.products import services
from app.products.models import LabelOrder, LabelOrderStatus, LabelPolicy, UnitCode
from tests.conftest import _server_url, make_test_config
from tests.products.factories import caller, certify, fresh_gtin

RACERS = 6
QUOTA = 100


@pytest.fixture
def scratch_app(tmp_path: Path, key_dir: Path) -> Iterator[Flask]:
    server = _server_url()
    admin = None
    if server is None:
        url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    else:
        name = f"brandtrace_race_{secrets.token_hex(4)}"
        base = make_url(server).set(drivername="postgresql+psycopg")
        admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
    # create_app rebinds the shared ``db`` extension to the scratch database: put the test
    # session's engine back afterwards, or every later test in this worker would use it.
    saved = (db.engine, db._sessionmaker)
    application = create_app(make_test_config(url, key_dir))
    try:
        with application.app_context():
            from alembic import command

            from app.cli import alembic_config
            from app.demo.seed import seed_demo

            command.upgrade(alembic_config(), "head")
            session = db.new_session(writer=True)
            application.config["DEMO"] = seed_demo(session, application.config["BASE_URL"])
            session.commit()
            session.close()
        yield application
    finally:
        db.engine, db._sessionmaker = saved
        from app.db import _ENGINES

        engine = _ENGINES.pop(url, None)
        if engine is not None:
            engine.dispose()
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


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
