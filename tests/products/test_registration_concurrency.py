"""Two firms registering one GTIN at the same moment: one product, and the loser refused as a
duplicate (PostgreSQL, with a forced interleaving)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.products import services
from app.products.errors import DuplicateGTIN
from app.products.models import Product
from tests.concurrency import in_transaction, postgresql_scratch_app, race
from tests.products.factories import caller, fresh_gtin


@pytest.fixture(scope="module")
def scratch_app(tmp_path_factory: pytest.TempPathFactory, key_dir) -> Iterator[Flask]:
    directory = tmp_path_factory.mktemp("gtin-race")
    with postgresql_scratch_app(directory, key_dir, "gtin") as application:
        yield application


@pytest.mark.committing
def test_a_registration_that_loses_the_race_for_a_gtin_is_refused(scratch_app: Flask) -> None:
    """Both find the GTIN free; the second to insert is refused as a duplicate, not failed
    with its whole transaction rolled back (begin_nested() flushed the pending product
    outside its savepoint)."""
    gtin = fresh_gtin()

    def register(email: str):  # type: ignore[no-untyped-def]
        def work(session: Session) -> None:
            try:
                services.register_product(
                    session, caller(session, email), gtin=gtin, name_zh="竞速茶", name_en="Race tea"
                )
            except DuplicateGTIN:
                # The refusal leaves the caller's transaction usable: the request goes on in
                # it (its activity record, its answer).
                session.scalar(select(func.count()).select_from(Product))
                raise

        return work

    insert = ("INSERT INTO products",)
    outcomes = race(
        scratch_app,
        in_transaction(scratch_app, register("admin@hongxiang-tea.example")),
        in_transaction(scratch_app, register("admin@shanyuan-tea.example")),
        pause_first_before=insert,
        second_signals_after=insert,
    )
    assert outcomes == {"first": "DuplicateGTIN", "second": "ok"}
    with scratch_app.app_context():
        session = db.new_session()
        try:
            stored = session.scalar(
                select(func.count()).select_from(Product).where(Product.gtin == gtin)
            )
        finally:
            session.close()
    assert stored == 1
