"""The code generation engine: unguessable, unique per GTIN, all-or-nothing, digest."""

from __future__ import annotations

import hashlib
import math
import re

import pytest
from sqlalchemy import func, select

from app.gs1.identifiers import validate_serial
from app.products import codes
from app.products.errors import CodeGenerationFailed
from app.products.models import LabelOrderStatus, UnitCode
from app.products.serials import SERIAL_ALPHABET, SERIAL_BITS, SERIAL_LENGTH, draw_serials
from tests.products.factories import caller, issued_order, make_batch, make_order


def test_serials_carry_at_least_64_bits_in_at_most_20_cs82_characters() -> None:
    assert SERIAL_BITS >= 64
    assert SERIAL_LENGTH <= 20
    assert math.floor(SERIAL_LENGTH * math.log2(len(SERIAL_ALPHABET))) == SERIAL_BITS
    serials = draw_serials(5000)
    assert len(set(serials)) == 5000
    for serial in serials[:200]:
        validate_serial(serial)  # GS1 AI 21: CS82, 1-20 characters
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{14}", serial)


def test_serial_characters_are_uniform() -> None:
    # 32 symbols x 14 positions over 20,000 serials: each symbol ~8,750 times. A chi-square
    # with 31 degrees of freedom above 80 would happen by chance about once in 100,000 runs.
    text = "".join(draw_serials(20_000))
    expected = len(text) / 32
    chi2 = sum((text.count(symbol) - expected) ** 2 / expected for symbol in SERIAL_ALPHABET)
    assert chi2 < 80


def test_issuing_creates_exactly_the_ordered_codes_with_their_digest(session) -> None:
    order = issued_order(session, quantity=257)
    assert order.status is LabelOrderStatus.ISSUED and order.issued_at is not None
    serials = [row.serial for row in codes.iter_codes(session, order.id, chunk=50)]
    assert len(serials) == 257 == len(set(serials))
    expected = hashlib.sha256("".join(f"{s}\n" for s in serials).encode()).hexdigest()
    assert order.codes_sha256 == expected


def test_chunks_and_collisions_are_retried_transparently(session) -> None:
    who = caller(session)
    first = issued_order(session, quantity=3, who=who)
    taken = session.scalars(select(UnitCode.serial).where(UnitCode.order_id == first.id)).all()
    order = make_order(session, who, first.batch, 10)
    draws: list[list[str]] = []

    def colliding(count: int) -> list[str]:
        # The second chunk's first draw reuses a serial of the same GTIN: the database's
        # unique constraint refuses it and only that chunk is drawn again.
        fresh = draw_serials(count)
        if len(draws) == 1:
            fresh[0] = taken[0]
        draws.append(fresh)
        return fresh

    digest = codes.generate_codes(
        session,
        order_id=order.id,
        product_id=order.product_id,
        quantity=10,
        chunk_size=4,
        draw=colliding,
    )
    stored = [row.serial for row in codes.iter_codes(session, order.id)]
    drawn = [serial for chunk in draws for serial in chunk]
    assert len(stored) == 10 == len(set(stored))
    assert taken[0] not in stored
    assert len(drawn) > 10  # the colliding serial (at least) was drawn in vain
    # What is stored is what was drawn, in draw order, minus what could not be stored.
    assert [serial for serial in drawn if serial in set(stored)] == stored
    assert digest == hashlib.sha256("".join(f"{s}\n" for s in stored).encode()).hexdigest()


def test_endless_collisions_give_up_cleanly(session) -> None:
    who = caller(session)
    first = issued_order(session, quantity=1, who=who)
    taken = session.scalar(select(UnitCode.serial).where(UnitCode.order_id == first.id))
    order = make_order(session, who, make_batch(session, who, "OTHER"), 1)
    with pytest.raises(CodeGenerationFailed):
        codes.generate_codes(
            session,
            order_id=order.id,
            product_id=first.product_id,
            quantity=1,
            draw=lambda count: [taken] * count,
        )
    count = session.scalar(
        select(func.count()).select_from(UnitCode).where(UnitCode.order_id == order.id)
    )
    assert count == 0


def test_same_serial_may_exist_under_another_gtin(session) -> None:
    who = caller(session)
    first = issued_order(session, quantity=1, who=who)
    serial = session.scalar(select(UnitCode.serial).where(UnitCode.order_id == first.id))
    other = make_order(session, who, make_batch(session, who), 1)
    codes.generate_codes(
        session, order_id=other.id, product_id=other.product_id, quantity=1, draw=lambda n: [serial]
    )
    assert [row.serial for row in codes.iter_codes(session, other.id)] == [serial]
