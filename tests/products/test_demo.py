"""The demo's products, batch and units, as `demo seed --json` describes them."""

from __future__ import annotations

from app.gs1.digital_link import parse_digital_link
from app.gs1.identifiers import normalize_gtin

BASE = "https://brand.example.test"


def test_demo_product_and_batch_are_real_looking_and_reachable(api, demo) -> None:
    product, batch = demo["product"], demo["batch"]
    assert normalize_gtin(product["gtin"]) == product["gtin"]  # valid check digit, 14 digits
    assert product["gtin"].startswith("069")  # GS1 China prefix range 690-699
    got = api("firm_admin").get(product["url"].removeprefix(BASE))
    assert got.status_code == 200 and got.get_json()["gtin"] == product["gtin"]
    got_batch = api("firm_staff").get(batch["url"].removeprefix(BASE)).get_json()
    assert got_batch["lot"] == batch["lot"]
    link = parse_digital_link(batch["digital_link"])
    assert (link.gtin, link.lot) == (product["gtin"], batch["lot"])


def _state(api, unit) -> str:
    link = parse_digital_link(unit["digital_link"])
    response = api("firm_admin").get(f"/api/v1/units/{link.gtin}/{link.serial}")
    assert response.status_code == 200
    return str(response.get_json()["state"])


def test_demo_units_active_inactive_and_blacklisted(api, client, demo) -> None:
    import io

    import zxingcpp
    from PIL import Image

    unit = demo["unit"]
    assert _state(api, unit) == "active"
    assert _state(api, demo["unit_inactive"]) == "inactive"
    assert _state(api, demo["unit_blacklisted"]) == "blacklisted"
    png = client.get(unit["qr_png_url"].removeprefix(BASE))
    assert png.status_code == 200
    decoded = [
        r.text
        for r in zxingcpp.read_barcodes(
            Image.open(io.BytesIO(png.data)), formats=zxingcpp.BarcodeFormat.QRCode
        )
    ]
    assert decoded == [unit["digital_link"]]
    svg = client.get(unit["qr_svg_url"].removeprefix(BASE))
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    link = parse_digital_link(unit["digital_link"])
    assert (link.gtin, link.lot) == (demo["product"]["gtin"], demo["batch"]["lot"])
