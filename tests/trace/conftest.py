"""Fixtures of the traceability tests: the demo firm's products, batches and locations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from tests.trace.factories import (
    LEAF_GTIN,
    LEAF_LOT,
    OTHER_GTIN,
    TEA_GTIN,
    TEA_LOT,
    register_locations,
)


@dataclass(frozen=True)
class TraceSetup:
    """Ids of what the fixture registered."""

    products: dict[str, int]
    batches: dict[str, int]


def _product(client: Any, gtin: str, name: str) -> int:
    response = client.post(
        "/api/v1/products", json={"gtin": gtin, "name_zh": name, "name_en": name}
    )
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def _batch(client: Any, product_id: int, lot: str) -> int:
    response = client.post(f"/api/v1/products/{product_id}/batches", json={"lot": lot})
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


@pytest.fixture
def trace(api) -> TraceSetup:
    """The first firm's leaf and tea products with a batch each and its four locations; the
    second firm's product and batch."""
    firm = api("firm_admin")
    firm2 = api("firm2_admin")
    products = {
        "leaf": _product(firm, LEAF_GTIN, "鲜叶 fresh leaf"),
        "tea": _product(firm, TEA_GTIN, "祁门红茶 Keemun black tea"),
        "other": _product(firm2, OTHER_GTIN, "工夫红茶 Congou"),
    }
    batches = {
        "leaf": _batch(firm, products["leaf"], LEAF_LOT),
        "tea": _batch(firm, products["tea"], TEA_LOT),
        "other": _batch(firm2, products["other"], "OT1"),
    }
    register_locations(firm)
    return TraceSetup(products, batches)


def capture(client: Any, document: dict[str, Any], **headers: str) -> Any:
    return client.post("/epcis/capture", json=document, headers=headers or None)


def register_units(session: Any, batch_id: int, serials: list[str]) -> None:
    """Serialised units of a batch as the products register holds them once a label order is
    active (written directly: ordering labels is the products domain's business)."""
    from app.auth.models import Organisation
    from app.products.models import Batch, LabelOrder, LabelOrderStatus, UnitCode
    from tests.products.factories import certify

    batch = session.get(Batch, batch_id)
    association = session.scalar(
        select(Organisation.id).where(Organisation.slug == "qimen-tea-association")
    )
    certificate = certify(session, batch.product.organisation_id, [batch.product.gtin])
    order = LabelOrder(
        organisation_id=batch.product.organisation_id,
        batch_id=batch.id,
        product_id=batch.product_id,
        certificate_id=certificate.id,
        association_id=association,
        quantity=len(serials),
        status=LabelOrderStatus.ACTIVE,
    )
    session.add(order)
    session.flush()
    session.add_all(
        UnitCode(order_id=order.id, product_id=batch.product_id, serial=serial)
        for serial in serials
    )
    session.commit()


def stored(session: Any, event: dict[str, Any], context: Any = None) -> Any:
    """The stored row of an event, found by its hash ID (the demo has events of its own)."""
    from app.trace.event_hash import event_hash_id
    from app.trace.models import Event
    from tests.trace.factories import CONTEXT

    return session.scalar(
        select(Event).where(Event.hash_id == event_hash_id(event, context or CONTEXT))
    )
