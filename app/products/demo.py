"""Demo products, a batch, and labels: an activated order (with one blacklisted unit) and an
approved order not yet activated. Idempotent: a second run finds what the first made."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.auth.services import caller_for
from app.demo.seed import DemoContext
from app.products import coverage, services
from app.products.models import Batch, LabelOrder, LabelOrderStatus, Product, UnitCode

# The products the demo audit assessed, so the demo certificate's scope covers them (GS1
# China company prefix 692345678; 690-699 is GS1 China's range).
PRODUCTS = {
    "firm": [
        ("06923456789012", "祁门红茶·特茗 罐装 100 克", "Qimen Black Tea Special Grade, 100 g tin"),
        ("06923456789029", "祁门红茶·一级 袋装 250 克", "Qimen Black Tea First Grade, 250 g bag"),
    ],
    "firm2": [("06923456789043", "祁门红茶·工夫红茶 200 克", "Qimen Congou Black Tea, 200 g")],
}
LOT = "QM2026-03A"
ACTIVE_CODES = 20
INACTIVE_CODES = 5
BLACKLIST_REASON = "标签印刷损坏，已销毁 / label damaged in printing, destroyed"


def _unit(ctx: DemoContext, gtin: str, lot: str, serial: str, *, qr: bool) -> dict[str, str]:
    uri = services.unit_uri(ctx.base_url, gtin, lot, serial)
    described = {"serial": serial, "digital_link": uri}
    if qr:
        described["qr_png_url"] = services.qr_image_url(ctx.base_url, uri, ".png")
        described["qr_svg_url"] = services.qr_image_url(ctx.base_url, uri, ".svg")
    return described


def seed_products(ctx: DemoContext) -> None:
    """Products of both firms, a spring batch, and its labels when a certificate covers it."""
    products: dict[str, list[Product]] = {}
    for firm_key, specs in PRODUCTS.items():
        firm = caller_for(ctx.users[f"{firm_key}_admin"])
        for gtin, name_zh, name_en in specs:
            product = ctx.session.scalar(select(Product).where(Product.gtin == gtin))
            if product is None:
                product = services.register_product(
                    ctx.session, firm, gtin=gtin, name_zh=name_zh, name_en=name_en
                )
            products.setdefault(firm_key, []).append(product)
    product = products["firm"][0]
    firm = caller_for(ctx.users["firm_admin"])
    batch = ctx.session.scalar(
        select(Batch).where(Batch.product_id == product.id, Batch.lot == LOT)
    )
    if batch is None:
        batch = services.create_batch(
            ctx.session,
            firm,
            product.id,
            lot=LOT,
            production_date=date(2026, 3, 20).isoformat(),
            best_before_date=date(2028, 3, 19).isoformat(),
            quantity=5000,
            production_site="红香茶业历口初制所 Likou tea factory, Qimen",
            production_site_gln="6931234000013",
        )
    ctx.result["product"] = {
        "id": product.id,
        "gtin": product.gtin,
        "url": f"{ctx.base_url}/api/v1/products/{product.id}",
        "digital_link": services.product_uri(ctx.base_url, product.gtin),
    }
    ctx.result["batch"] = {
        "id": batch.id,
        "lot": batch.lot,
        "url": f"{ctx.base_url}/api/v1/batches/{batch.id}",
        "digital_link": services.batch_uri(ctx.base_url, product.gtin, batch.lot),
    }
    if coverage.find_coverage(ctx.session, firm.organisation_id, product.gtin) is None:
        return  # no demo certificate in force: no labels
    _seed_labels(ctx, batch)


def _order(ctx: DemoContext, batch: Batch, quantity: int, status: LabelOrderStatus) -> LabelOrder:
    existing = ctx.session.scalar(
        select(LabelOrder)
        .where(
            LabelOrder.batch_id == batch.id,
            LabelOrder.quantity == quantity,
            LabelOrder.status == status,
        )
        .order_by(LabelOrder.id)
    )
    if existing is not None:
        return existing
    firm = caller_for(ctx.users["firm_admin"])
    association = caller_for(ctx.users["association_staff"])
    order = services.order_labels(ctx.session, firm, batch.id, quantity=quantity)
    services.approve_order(ctx.session, association, order.id)
    if status is LabelOrderStatus.ACTIVE:
        services.mark_printed(ctx.session, firm, order.id)
        services.activate_order(ctx.session, firm, order.id)
    return order


def _serials(ctx: DemoContext, order: LabelOrder) -> list[tuple[str, bool]]:
    rows = ctx.session.execute(
        select(UnitCode.serial, UnitCode.blacklisted_at.is_not(None))
        .where(UnitCode.order_id == order.id)
        .order_by(UnitCode.id)
    ).all()
    return [(serial, bool(blacklisted)) for serial, blacklisted in rows]


def _seed_labels(ctx: DemoContext, batch: Batch) -> None:
    firm = caller_for(ctx.users["firm_admin"])
    gtin, lot = batch.product.gtin, batch.lot
    active = _order(ctx, batch, ACTIVE_CODES, LabelOrderStatus.ACTIVE)
    inactive = _order(ctx, batch, INACTIVE_CODES, LabelOrderStatus.ISSUED)
    codes = _serials(ctx, active)
    blacklisted = next((serial for serial, flag in codes if flag), None)
    if blacklisted is None:
        blacklisted = codes[-1][0]
        services.blacklist_unit(ctx.session, firm, gtin, blacklisted, reason=BLACKLIST_REASON)
    genuine = next(serial for serial, flag in codes if not flag and serial != blacklisted)
    ctx.result["label_order"] = {
        "id": active.id,
        "url": f"{ctx.base_url}/api/v1/label-orders/{active.id}",
        "quantity": active.quantity,
        "codes_sha256": active.codes_sha256,
    }
    ctx.result["unit"] = _unit(ctx, gtin, lot, genuine, qr=True)
    ctx.result["unit_inactive"] = _unit(ctx, gtin, lot, _serials(ctx, inactive)[0][0], qr=False)
    ctx.result["unit_blacklisted"] = _unit(ctx, gtin, lot, blacklisted, qr=False)
