"""Product pictures: uploaded by the firm (type sniffed, size limited), public for shoppers."""

from __future__ import annotations

import hashlib

from tests.brandkit import minimal_pdf, tea_logo, upload


def _product(api, demo) -> dict:
    return api("firm_admin").get(f"/api/v1/products/{demo['product']['id']}").get_json()


def test_a_firm_adds_and_removes_a_picture_served_publicly(api, demo, client) -> None:
    png = tea_logo(16)
    added = api("firm_admin").post(
        f"/api/v1/products/{demo['product']['id']}/images", **upload(png, "pack.png", "image/png")
    )
    assert added.status_code == 201, added.get_data(as_text=True)
    url = added.get_json()["image_urls"][-1]
    served = client.get(url.removeprefix("https://brand.example.test"))
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.data == png and served.headers["ETag"] == f'"{hashlib.sha256(png).hexdigest()}"'
    image_id = int(url.rsplit("/", 1)[1])
    removed = api("firm_admin").delete(
        f"/api/v1/products/{demo['product']['id']}/images/{image_id}"
    )
    assert removed.status_code == 200 and url not in removed.get_json()["image_urls"]
    assert client.get(url.removeprefix("https://brand.example.test")).status_code == 404


def test_wrong_types_and_other_firms_are_refused_and_change_nothing(api, demo) -> None:
    before = _product(api, demo)["image_urls"]
    pdf = api("firm_admin").post(
        f"/api/v1/products/{demo['product']['id']}/images",
        **upload(minimal_pdf("x"), "pack.png", "image/png"),
    )
    assert pdf.status_code == 415
    svg = api("firm_admin").post(
        f"/api/v1/products/{demo['product']['id']}/images",
        **upload(
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>1</script></svg>",
            "a.svg",
            "image/svg+xml",
        ),
    )
    assert svg.status_code == 415
    other = api("firm2_admin").post(
        f"/api/v1/products/{demo['product']['id']}/images",
        **upload(tea_logo(8), "p.png", "image/png"),
    )
    assert other.status_code == 404
    json_body = api("firm_admin").post(f"/api/v1/products/{demo['product']['id']}/images", json={})
    assert json_body.status_code == 415
    assert _product(api, demo)["image_urls"] == before


def test_the_upload_is_described_in_the_openapi_document(client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/products/{product_id}/images"]["post"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["file"]["format"] == "binary"
