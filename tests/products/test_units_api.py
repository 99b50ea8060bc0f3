"""Unit codes through the API: order lifecycle, unit states, blacklisting, public QR images,
CSV and PDF exports; everything scoped to the firm."""

from __future__ import annotations

import csv
import hashlib
import io

import pypdfium2 as pdfium
import pytest
import resvg_py
import zxingcpp
from PIL import Image

from app.gs1.digital_link import parse_digital_link
from tests.products.factories import issued_order

BASE = "https://brand.example.test"


@pytest.fixture
def order(session):
    return issued_order(session, quantity=30, lot="2026/03(A)")


def first_unit(api, order, role="firm_admin"):
    page = api(role).get(f"/api/v1/label-orders/{order.id}/codes?limit=5")
    assert page.status_code == 200, page.get_json()
    return page.get_json()["items"][0]


def decode(data: bytes) -> list[str]:
    return [
        r.text
        for r in zxingcpp.read_barcodes(
            Image.open(io.BytesIO(data)), formats=zxingcpp.BarcodeFormat.QRCode
        )
    ]


def test_codes_have_digital_link_identity_and_start_inactive(api, order) -> None:
    body = api("firm_staff").get(f"/api/v1/label-orders/{order.id}/codes?limit=10").get_json()
    assert len(body["items"]) == 10 and body["next_cursor"]
    unit = body["items"][0]
    assert unit["state"] == "inactive"
    assert unit["digital_link"] == (
        f"{BASE}/01/{unit['gtin']}/10/2026%2F03%28A%29/21/{unit['serial']}"
    )
    link = parse_digital_link(unit["digital_link"])
    assert (link.gtin, link.lot, link.serial) == (unit["gtin"], "2026/03(A)", unit["serial"])
    assert unit["label_content"] == unit["digital_link"]
    assert unit["qr_png_url"] == f"{BASE}/qr{unit['digital_link'].removeprefix(BASE)}.png"
    rest = api("firm_staff").get(
        f"/api/v1/label-orders/{order.id}/codes?limit=200&cursor={body['next_cursor']}"
    )
    assert len(rest.get_json()["items"]) == 20 and rest.get_json()["next_cursor"] is None


def test_order_lifecycle_printed_then_active(api, order) -> None:
    firm = api("firm_admin")
    path = f"/api/v1/label-orders/{order.id}"
    early = firm.post(f"{path}/activate")
    assert early.status_code == 409
    problem = early.get_json()
    assert problem["type"].endswith("/problems/label-order-state")
    assert problem["errors"] == [
        {"field": "status", "rule": "state", "message": "must be printed, is issued"}
    ]
    printed = firm.post(f"{path}/printed")
    assert printed.status_code == 200 and printed.get_json()["status"] == "printed"
    unit = first_unit(api, order)
    assert unit["state"] == "inactive"
    active = api("firm_staff").post(f"{path}/activate")
    assert active.status_code == 200
    order_out = active.get_json()
    assert order_out["status"] == "active" and order_out["activated_at"]
    assert order_out["codes_sha256"] == order.codes_sha256
    assert first_unit(api, order)["state"] == "active"
    again = firm.post(f"{path}/printed")
    assert again.status_code == 409


def test_someone_elses_order_and_units_answer_404(api, order) -> None:
    other = api("firm2_admin")
    path = f"/api/v1/label-orders/{order.id}"
    unit = first_unit(api, order)
    for method, url in [
        ("GET", path),
        ("POST", f"{path}/printed"),
        ("POST", f"{path}/activate"),
        ("GET", f"{path}/codes"),
        ("GET", f"{path}/codes.csv"),
        ("GET", f"{path}/labels.pdf"),
        ("GET", f"/api/v1/units/{unit['gtin']}/{unit['serial']}"),
    ]:
        assert other.request(method, url).status_code == 404, url
    refused = other.post(f"{path}/blacklist", json={"reason": "mine now"})
    assert refused.status_code == 404
    assert (
        other.post(
            f"/api/v1/units/{unit['gtin']}/{unit['serial']}/blacklist", json={"reason": "x"}
        ).status_code
        == 404
    )
    assert order.id not in [o["id"] for o in other.get("/api/v1/label-orders").get_json()["items"]]
    assert first_unit(api, order)["state"] == "inactive"


def test_the_certifying_association_sees_and_may_blacklist_but_not_activate(api, order) -> None:
    association = api("association_staff")
    path = f"/api/v1/label-orders/{order.id}"
    assert association.get(path).status_code == 200
    assert order.id in [
        o["id"] for o in association.get("/api/v1/label-orders").get_json()["items"]
    ]
    assert association.post(f"{path}/activate").status_code == 403
    blocked = association.post(f"{path}/blacklist", json={"reason": "labels stolen in transit"})
    assert blocked.status_code == 200 and blocked.get_json()["status"] == "blacklisted"


def test_blacklist_one_unit_with_reason(api, order) -> None:
    unit = first_unit(api, order)
    url = f"/api/v1/units/{unit['gtin']}/{unit['serial']}"
    missing_reason = api("firm_admin").post(f"{url}/blacklist", json={})
    assert missing_reason.status_code == 422
    blocked = api("firm_admin").post(f"{url}/blacklist", json={"reason": "label torn off"})
    assert blocked.status_code == 200
    assert blocked.get_json()["state"] == "blacklisted"
    assert blocked.get_json()["blacklist_reason"] == "label torn off"
    again = api("firm_admin").post(f"{url}/blacklist", json={"reason": "second"})
    assert again.get_json()["blacklist_reason"] == "label torn off"  # the first reason stays
    order_out = api("firm_admin").get(f"/api/v1/label-orders/{order.id}").get_json()
    assert order_out["codes_blacklisted"] == 1
    # Activation does not revive a blacklisted unit.
    api("firm_admin").post(f"/api/v1/label-orders/{order.id}/printed")
    api("firm_admin").post(f"/api/v1/label-orders/{order.id}/activate")
    assert api("firm_admin").get(url).get_json()["state"] == "blacklisted"
    assert first_unit(api, order)["state"] in ("active", "blacklisted")


def test_blacklisting_an_order_blocks_every_code(api, order) -> None:
    path = f"/api/v1/label-orders/{order.id}"
    blocked = api("firm_admin").post(f"{path}/blacklist", json={"reason": "box of labels lost"})
    assert blocked.status_code == 200
    assert blocked.get_json()["blacklist_reason"] == "box of labels lost"
    units = api("firm_admin").get(f"{path}/codes?limit=200").get_json()["items"]
    assert {u["state"] for u in units} == {"blacklisted"}
    assert api("firm_admin").post(f"{path}/activate").status_code == 409
    assert api("firm_admin").get(f"{path}/codes.csv").status_code == 409


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/units/06901234567892/NOTAREALSERIAL",
        "/api/v1/units/06901234567892/x",
        "/api/v1/units/6901234567892/0000000000000Z",
    ],
)
def test_unknown_units_answer_404(api, path) -> None:
    assert api("firm_admin").get(path).status_code == 404


def test_bad_gtin_in_unit_path_is_422(api) -> None:
    response = api("firm_admin").get("/api/v1/units/06901234567893/0000000000000Z")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["rule"] == "check_digit"


# --- public QR images -------------------------------------------------------------------------


def test_public_png_decodes_to_the_unit_uri_with_caching(client, api, order) -> None:
    unit = first_unit(api, order)
    response = client.get(unit["qr_png_url"].removeprefix(BASE))
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert decode(response.data) == [unit["digital_link"]]
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = response.headers["ETag"]
    again = client.get(unit["qr_png_url"].removeprefix(BASE))
    assert again.data == response.data and again.headers["ETag"] == etag
    cached = client.get(unit["qr_png_url"].removeprefix(BASE), headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.data == b""


def test_public_svg_rasterised_decodes_to_the_unit_uri(client, api, order) -> None:
    unit = first_unit(api, order)
    response = client.get(unit["qr_svg_url"].removeprefix(BASE) + "?size=300&ec=H")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert 'width="300"' in response.get_data(as_text=True)
    png = bytes(resvg_py.svg_to_bytes(svg_string=response.get_data(as_text=True)))
    assert decode(png) == [unit["digital_link"]]


def test_qr_options_change_the_image(client, api, order) -> None:
    url = first_unit(api, order)["qr_png_url"].removeprefix(BASE)
    small = Image.open(io.BytesIO(client.get(url + "?size=200&border=2").data))
    large = Image.open(io.BytesIO(client.get(url + "?size=800&ec=Q").data))
    assert small.size[0] <= 200 < large.size[0] <= 800
    results = zxingcpp.read_barcodes(large, formats=zxingcpp.BarcodeFormat.QRCode)
    assert results[0].ec_level == "Q"
    bad = client.get(url + "?ec=Z&size=5&border=99", headers={"Accept": "application/json"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {
        "query.ec",
        "query.size",
        "query.border",
    }


def test_public_qr_refuses_unknown_and_malformed_links(client, api, order) -> None:
    unit = first_unit(api, order)
    path = unit["qr_png_url"].removeprefix(BASE)
    headers = {"Accept": "application/json"}
    assert (
        client.get(path.replace(unit["serial"], "0000000000000Z"), headers=headers).status_code
        == 404
    )
    wrong_lot = path.replace("/10/2026%2F03%28A%29/", "/10/OTHER/")
    assert client.get(wrong_lot, headers=headers).status_code == 404
    assert client.get(path.removesuffix(".png") + ".gif", headers=headers).status_code == 404
    malformed = client.get(
        path.replace(f"/01/{unit['gtin']}", "/01/06901234567899"), headers=headers
    )
    assert malformed.status_code == 400
    assert malformed.get_json()["errors"][0]["rule"] == "check_digit"


# --- exports ----------------------------------------------------------------------------------


def test_csv_export_streams_every_code_with_its_uri(api, order) -> None:
    response = api("firm_staff").get(f"/api/v1/label-orders/{order.id}/codes.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 30
    assert list(rows[0]) == ["gtin", "lot", "serial", "digital_link", "label_content"]
    for row in rows:
        link = parse_digital_link(row["digital_link"])
        assert (link.gtin, link.lot, link.serial) == (row["gtin"], "2026/03(A)", row["serial"])
    # The digest of the order can be recomputed from the export.
    digest = hashlib.sha256("".join(f"{r['serial']}\n" for r in rows).encode()).hexdigest()
    assert digest == order.codes_sha256


def test_pdf_label_sheet_decodes_to_the_units(api, order) -> None:
    response = api("firm_admin").get(f"/api/v1/label-orders/{order.id}/labels.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.is_streamed
    document = pdfium.PdfDocument(response.data)
    assert len(document) == 2
    page = document[0]
    decoded = {
        r.text
        for r in zxingcpp.read_barcodes(
            page.render(scale=3).to_pil(), formats=zxingcpp.BarcodeFormat.QRCode
        )
    }
    csv_rows = list(
        csv.DictReader(
            io.StringIO(
                api("firm_admin")
                .get(f"/api/v1/label-orders/{order.id}/codes.csv")
                .get_data(as_text=True)
            )
        )
    )
    assert decoded == {row["digital_link"] for row in csv_rows[:24]}
    text = page.get_textpage().get_text_range()
    assert f"(21) {csv_rows[0]['serial']}" in text and "(10) 2026/03(A)" in text


@pytest.mark.parametrize("export", ["codes.csv", "labels.pdf"])
def test_an_export_leaves_no_transaction_open(app, api, order, export) -> None:
    # Tests run in one outer transaction; a session left open on it keeps its savepoint
    # (outside the tests, its pooled connection). However the client reads the export, the
    # stream's session is closed when the response is.
    connection = app.extensions["brandtrace.db"].bound_connection
    path = f"/api/v1/label-orders/{order.id}/{export}"
    before = connection.get_nested_transaction()  # the test's own session's
    whole = api("firm_admin").get(path)
    assert whole.status_code == 200 and whole.data
    whole.close()
    assert connection.get_nested_transaction() is before
    half_read = api("firm_admin").get(path, buffered=False)
    next(iter(half_read.response))
    next(iter(half_read.response))
    half_read.close()  # the client went away mid-stream
    assert connection.get_nested_transaction() is before
