"""The firm's main journey in a real browser: register a product, record a batch, order labels,
the association approves them, mark printed, activate, download the CSV, record an event; plus
the overview, orders and scans on a phone in Chinese. Screenshots of each main screen go to
test-artifacts/."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from app.auth.models import Organisation
from app.extensions import db
from tests.browser import DESKTOP, LiveServer, sign_in
from tests.products.factories import certify, fresh_gtin

pytestmark = pytest.mark.browser


def _certify(server: LiveServer, gtin: str) -> None:
    """The association certifies the new product (its own screens belong to the association
    portal): a certificate in force covering the GTIN, with a label quota."""
    with server.app.app_context():
        session = db.new_session(writer=True)
        try:
            firm = session.scalar(select(Organisation).where(Organisation.slug == "hongxiang-tea"))
            certify(session, firm.id, [gtin], quota=500)
            session.commit()
        finally:
            session.close()


def test_firm_registers_orders_activates_downloads_and_records(
    live_server, browser, desktop_page, artifacts_dir
) -> None:
    page, url = desktop_page, live_server.url
    sign_in(page, live_server, "firm_admin")

    # Register a product: a wrong check digit first, explained next to the field.
    gtin = fresh_gtin()
    wrong = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    page.goto(f"{url}/portal/products/new")
    page.fill("#f-gtin", wrong)
    page.fill("#f-name_zh", "祁门红茶·浏览器测试装")
    page.fill("#f-name_en", "Keemun browser test pack")
    page.click("button.primary")
    assert "check digit" in page.inner_text("#e-gtin")
    assert page.input_value("#f-name_en") == "Keemun browser test pack"
    page.screenshot(path=str(artifacts_dir / "firm-product-error.png"), full_page=True)
    page.fill("#f-gtin", gtin)
    page.click("button.primary")
    page.wait_for_url(re.compile(r"/portal/products/\d+$"))
    page.screenshot(path=str(artifacts_dir / "firm-product.png"), full_page=True)
    _certify(live_server, gtin)

    # Record a batch.
    page.click("text=Record a batch")
    page.fill("#f-lot", "BROWSER-01")
    page.fill("#f-production_date", "2026-04-02")
    page.fill("#f-quantity", "1200")
    page.fill("#f-production_site_gln", "6931234000013")
    page.click("button.primary")
    page.wait_for_url(re.compile(r"/portal/batches/\d+$"))
    batch_url = page.url
    page.screenshot(path=str(artifacts_dir / "firm-batch.png"), full_page=True)

    # Order labels: beyond the quota is refused next to the quantity, then 24 are ordered.
    page.click("text=Order labels")
    page.fill("#f-quantity", "501")
    page.click("button.primary")
    assert "500" in page.inner_text("#e-quantity")
    page.fill("#f-quantity", "24")
    page.screenshot(path=str(artifacts_dir / "firm-order-form.png"), full_page=True)
    page.click("button.primary")
    page.wait_for_url(re.compile(r"/portal/label-orders/\d+$"))
    order_url = page.url
    order_id = order_url.rsplit("/", 1)[1]
    assert "waiting" in page.inner_text("#order-status")

    # The association approves it in its own session.
    association = browser.new_context(viewport=DESKTOP, locale="en-GB").new_page()
    try:
        sign_in(association, live_server, "association_staff")
        association.goto(f"{url}/portal/label-approvals")
        association.screenshot(
            path=str(artifacts_dir / "association-label-queue.png"), full_page=True
        )
        association.click(f"text=Approve order {order_id}")
        association.wait_for_load_state("networkidle")
        assert "approved" in association.content()
    finally:
        association.context.close()

    # Mark printed, activate after the confirmation page, download the CSV.
    page.goto(order_url)
    assert "not yet valid" in page.inner_text("#order-status")
    with page.expect_download() as download:
        page.click("text=Codes as CSV")
    with open(download.value.path(), encoding="utf-8") as handle:
        rows = list(csv.reader(io.StringIO(handle.read())))
    assert rows[0] == ["gtin", "lot", "serial", "digital_link", "label_content"]
    assert len(rows) == 25 and all(row[0] == gtin for row in rows[1:])
    with page.expect_navigation():
        page.click("button:has-text('Mark as printed')")
    assert "printed" in page.inner_text("#order-status")
    page.click("a.button.primary")  # "Activate the labels…"
    page.wait_for_url(re.compile(r"/activate$"))
    page.screenshot(path=str(artifacts_dir / "firm-activate-confirm.png"), full_page=True)
    with page.expect_navigation():
        page.click("button.primary")
    assert "genuine" in page.inner_text("#order-status")
    page.screenshot(path=str(artifacts_dir / "firm-order-active.png"), full_page=True)

    # Record an event: shipping 24 pieces of the batch from the factory.
    page.goto(batch_url)
    page.click("text=Record an event")
    page.click("text=Shipping")
    page.select_option("#f-location_id", label="Likou tea factory")
    page.select_option("#f-batch_id", label="BROWSER-01 · Keemun browser test pack")
    page.fill("#f-quantity", "24")
    page.select_option("#f-uom", "H87")
    page.screenshot(path=str(artifacts_dir / "firm-event-form.png"), full_page=True)
    page.click("button.primary")
    page.wait_for_url(re.compile(r"/portal/trace/captures/"))
    assert "Succeeded" in page.inner_text("#capture-status")
    page.screenshot(path=str(artifacts_dir / "firm-event-captured.png"), full_page=True)

    page.goto(batch_url)
    page.click("text=Journey")
    # The click only starts the navigation; read the journey once it has loaded.
    page.wait_for_url(re.compile(r"/portal/trace/journey\?"))
    page.wait_for_load_state()
    assert "Shipped" in page.content()
    page.screenshot(path=str(artifacts_dir / "firm-journey.png"), full_page=True)


def test_firm_overview_on_a_phone_in_chinese(live_server, phone_page, artifacts_dir) -> None:
    page = phone_page
    sign_in(page, live_server, "firm_staff")
    page.goto(f"{live_server.url}/portal/firm")
    assert "企业概览" in page.content() and "证书" in page.content()
    page.screenshot(path=str(artifacts_dir / "firm-overview-zh-phone.png"), full_page=True)
    page.goto(f"{live_server.url}/portal/label-orders")
    assert "标签订单" in page.content()
    page.screenshot(path=str(artifacts_dir / "firm-orders-zh-phone.png"), full_page=True)
    page.goto(f"{live_server.url}/portal/firm/scans")
    assert "扫码" in page.content()
    page.screenshot(path=str(artifacts_dir / "firm-scans-zh-phone.png"), full_page=True)
