"""Demo products, a batch and (with a certificate in force) an activated label order."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.auth.services import caller_for
from app.demo.seed import DemoContext
from app.gs1.identifiers import compute_check_digit
from app.products import services
from app.products.models import Batch, Product

# Hongxiang Tea's GS1 China company prefix 6971234 (690-699 is GS1 China's range).
PRODUCTS = {
    "firm": [
        ("697123400001", "祁门红茶·特级 250克", "Keemun Black Tea, Special Grade, 250 g"),
        ("697123400002", "祁门红茶·一级 100克", "Keemun Black Tea, First Grade, 100 g"),
    ],
    "firm2": [("697654300001", "祁门红茶·工夫红茶 200克", "Keemun Congou Black Tea, 200 g")],
}
LOT = "QM2026-03A"


def _gtin14(body: str) -> str:
    return ("0" + body + compute_check_digit(body))[-14:]


def seed_products(ctx: DemoContext) -> None:
    """Products of both firms and a spring batch of the first one's special grade."""
    products: dict[str, list[Product]] = {}
    for firm_key, specs in PRODUCTS.items():
        caller = caller_for(ctx.users[f"{firm_key}_admin"])
        for body, name_zh, name_en in specs:
            gtin = _gtin14(body)
            product = ctx.session.scalar(select(Product).where(Product.gtin == gtin))
            if product is None:
                product = services.register_product(
                    ctx.session, caller, gtin=gtin, name_zh=name_zh, name_en=name_en
                )
            products.setdefault(firm_key, []).append(product)
    product = products["firm"][0]
    batch = ctx.session.scalar(
        select(Batch).where(Batch.product_id == product.id, Batch.lot == LOT)
    )
    if batch is None:
        batch = services.create_batch(
            ctx.session,
            caller_for(ctx.users["firm_admin"]),
            product.id,
            lot=LOT,
            production_date=date(2026, 3, 20).isoformat(),
            best_before_date=date(2028, 3, 19).isoformat(),
            quantity=5000,
            production_site="祁门县历口镇红香茶厂 Likou Town tea factory, Qimen",
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
