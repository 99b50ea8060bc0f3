"""The same label order form posted several times at once (a nervous double click, a resent
request) makes exactly one order, with real commits racing on the one-time form token.

It runs in a scratch database of its own: issued orders append to the append-only transparency
log, so committed test data could not otherwise be cleaned up.
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
from app.portal.submissions import FormSubmission
from app.products import services
from app.products.models import LabelOrder, LabelPolicy
from tests.conftest import fresh_database, migrate_and_seed, other_app
from tests.products.factories import caller, certify, fresh_gtin
from tests.products.test_portal import form_fields
from tests.test_pages_matrix import _sign_in

TWINS = 5
COOKIE = "brandtrace_session"


@pytest.fixture
def scratch_app(tmp_path: Path, key_dir: Path) -> Iterator[Flask]:
    with fresh_database(tmp_path, "twins") as url, other_app(url, key_dir) as application:
        application.config["DEMO"] = migrate_and_seed(application)
        yield application


@pytest.mark.committing
def test_simultaneous_posts_of_one_order_form_make_one_order(scratch_app: Flask) -> None:
    with scratch_app.app_context():
        session = db.new_session(writer=True)
        who = caller(session)
        product = services.register_product(
            session, who, gtin=fresh_gtin(), name_zh="祁门红茶", name_en="Keemun"
        )
        batch = services.create_batch(session, who, product.id, lot="TWINS-1")
        certificate = certify(session, who.organisation_id, [product.gtin], quota=1000)
        # Approved at once, so the winner also generates its codes while the twins wait.
        session.add(LabelPolicy(brand_id=certificate.brand_id, auto_approve=True))
        session.commit()
        batch_id, certificate_id = batch.id, certificate.id
        session.close()

    first = scratch_app.test_client()
    _sign_in(first, scratch_app.config["DEMO"], "firm_admin")
    path = f"/portal/batches/{batch_id}/label-orders/new"
    data = {**form_fields(first, path), "quantity": "60"}
    cookie = first.get_cookie(COOKIE)
    assert cookie is not None

    barrier = threading.Barrier(TWINS)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def post() -> None:
        client = scratch_app.test_client()
        client.set_cookie(COOKIE, cookie.value)  # the same browser session, the same form
        barrier.wait()
        response = client.post(path, data=data)
        with lock:
            answers.append((response.status_code, response.headers.get("Location", "")))

    threads = [threading.Thread(target=post) for _ in range(TWINS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(answers) == TWINS
    assert {status for status, _ in answers} == {303}
    locations = {location for _, location in answers}
    assert len(locations) == 1 and locations.pop().startswith("/portal/label-orders/")
    with scratch_app.app_context():
        session = db.new_session()
        orders = session.scalars(select(LabelOrder).where(LabelOrder.batch_id == batch_id)).all()
        assert [order.quantity for order in orders] == [60]
        assert session.get(Certificate, certificate_id).labels_issued == 60
        tokens = session.scalar(
            select(func.count())
            .select_from(FormSubmission)
            .where(FormSubmission.token == data["form_token"])
        )
        assert tokens == 1
        session.close()
