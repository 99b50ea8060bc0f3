"""Test data for the products domain, created through the services (no API round trips)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Organisation, User
from app.auth.principal import Caller
from app.auth.services import caller_for
from app.gs1.identifiers import compute_check_digit
from app.products import services
from app.products.models import Batch, LabelOrder

_counter = iter(range(10_000, 99_999))


def caller(session: Session, email: str = "admin@hongxiang-tea.example") -> Caller:
    user = session.scalar(select(User).where(User.email == email))
    assert user is not None
    return caller_for(user)


def fresh_gtin() -> str:
    body = f"6909{next(_counter):05d}123"
    return "0" + body + compute_check_digit(body)


def make_batch(session: Session, who: Caller, lot: str = "LOT2026-03") -> Batch:
    product = services.register_product(
        session, who, gtin=fresh_gtin(), name_zh="祁门红茶", name_en="Keemun black tea"
    )
    return services.create_batch(session, who, product.id, lot=lot, expiry_date="2028-03-31")


def make_order(session: Session, who: Caller, batch: Batch, quantity: int) -> LabelOrder:
    """A pending order as if a certificate had accepted it (certificate id 0)."""
    association = session.scalar(
        select(Organisation).where(Organisation.slug == "qimen-tea-association")
    )
    assert association is not None
    order = LabelOrder(
        organisation_id=who.organisation_id,
        batch_id=batch.id,
        product_id=batch.product_id,
        certificate_id=0,
        association_id=association.id,
        quantity=quantity,
    )
    order.batch = batch
    session.add(order)
    session.flush()
    return order


def issued_order(
    session: Session, quantity: int = 20, lot: str = "LOT2026-03", who: Caller | None = None
) -> LabelOrder:
    who = who or caller(session)
    order = make_order(session, who, make_batch(session, who, lot), quantity)
    services.issue_order(session, order)
    session.flush()
    return order
