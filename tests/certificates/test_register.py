"""The public register: search by number, firm name or registration number, the printable
bilingual certificate page and its QR code."""

from __future__ import annotations

import re

import pytest
import zxingcpp
from PIL import Image


def test_search_by_number_name_and_registration_number(api, demo) -> None:
    client = api(None)
    number = demo["certificate"]["number"]
    for query in (
        number,
        number.lower(),
        "红香",
        "hongxiang",
        "HONGXIANG TEA",
        "91341024MA2N7B4C3P",
    ):
        items = client.get("/api/v1/register/certificates", query_string={"q": query}).get_json()[
            "items"
        ]
        assert number in {item["number"] for item in items}, query
    both = client.get("/api/v1/register/certificates", query_string={"q": "红香茶业"}).get_json()
    assert {demo["certificate"]["number"], demo["certificate_suspended"]["number"]} <= {
        item["number"] for item in both["items"]
    }
    none = client.get("/api/v1/register/certificates", query_string={"q": "山源"}).get_json()
    assert none["items"] == []
    nothing = client.get("/api/v1/register/certificates", query_string={"q": "100%_"}).get_json()
    assert nothing["items"] == []
    wildcard = client.get("/api/v1/register/certificates", query_string={"q": "%"}).get_json()
    assert wildcard["items"] == []


def test_search_by_part_of_a_number(api, client, demo) -> None:
    number = demo["certificate"]["number"]  # QTA-<year>-<sequence>
    prefix, sequence = number.split("-")[0], number.split("-")[-1]
    for query in (prefix, prefix.lower(), sequence, number[2:-1]):
        items = api(None).get("/api/v1/register/certificates", query_string={"q": query})
        assert number in {item["number"] for item in items.get_json()["items"]}, query
        page = client.get("/certificates", query_string={"q": query, "lang": "en"})
        assert number in page.get_data(as_text=True), query


def test_register_lines_show_current_status(api, demo) -> None:
    items = {
        item["number"]: item
        for item in api(None).get("/api/v1/register/certificates").get_json()["items"]
    }
    in_force = items[demo["certificate"]["number"]]
    assert in_force["in_force"] is True and in_force["status"] == "active"
    assert in_force["next_surveillance_due_on"] is not None
    suspended = items[demo["certificate_suspended"]["number"]]
    assert suspended["status"] == "suspended"
    assert suspended["not_in_force_because"] == "suspended"
    only = api(None).get("/api/v1/register/certificates", query_string={"status": "suspended"})
    assert {item["status"] for item in only.get_json()["items"]} == {"suspended"}


def test_register_pages_with_the_shared_page_shape(api, issue) -> None:
    issue()
    client = api(None)
    first = client.get("/api/v1/register/certificates", query_string={"limit": 1})
    body = first.get_json()
    assert set(body) == {"items", "limit", "next_cursor"} and body["limit"] == 1
    assert body["next_cursor"] and 'rel="next"' in first.headers["Link"]
    second = client.get(
        "/api/v1/register/certificates", query_string={"limit": 1, "cursor": body["next_cursor"]}
    ).get_json()
    assert second["items"][0]["id"] < body["items"][0]["id"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "lost"}, "query.status"),
        ({"limit": "0"}, "query.limit"),
        ({"cursor": "!!"}, "cursor"),
        ({"q": "x" * 101}, "query.q"),
        ({"colour": "red"}, "query.colour"),
    ],
)
def test_bad_register_queries_are_precise(api, query, field) -> None:
    response = api(None).get("/api/v1/register/certificates", query_string=query)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == field


def test_an_empty_search_is_no_filter_as_on_the_page(api, client) -> None:
    """The page's search form sends ``q=`` and ``status=`` when nothing is chosen: the API reads
    them the same way."""
    api_client = api(None)
    everything = api_client.get("/api/v1/register/certificates").get_json()["items"]
    assert everything
    for blank in ("", "   "):
        response = api_client.get("/api/v1/register/certificates", query_string={"q": blank})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["items"] == everything
        page = client.get("/certificates", query_string={"q": blank, "lang": "en"})
        assert page.status_code == 200
        assert all(item["number"] in page.get_data(as_text=True) for item in everything[:25])
    # The status box's "any" sends ``status=``: any status, as on the page.
    for query in ({"status": ""}, {"status": " ", "q": ""}):
        response = api_client.get("/api/v1/register/certificates", query_string=query)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["items"] == everything
    bogus = api_client.get("/api/v1/register/certificates", query_string={"status": "bogus"})
    assert bogus.status_code == 422
    spec = api_client.get("/api/v1/openapi.json").get_json()
    parameters = spec["paths"]["/api/v1/register/certificates"]["get"]["parameters"]
    q = next(p for p in parameters if p["name"] == "q")
    assert "minLength" not in str(q)


def test_public_entry_and_unknown_numbers(api, demo) -> None:
    client = api(None)
    entry = client.get(f"/api/v1/register/certificates/{demo['certificate']['number']}")
    assert entry.status_code == 200
    body = entry.get_json()
    assert body["vc_url"] == demo["certificate"]["vc_url"]
    assert body["status_list_urls"] == demo["certificate"]["status_list_urls"]
    missing = client.get("/api/v1/register/certificates/QTA-1999-000001")
    assert missing.status_code == 404
    assert missing.get_json()["type"].endswith("/problems/certificate-not-found")


def test_the_certificate_page_is_bilingual_and_printable(client, demo) -> None:
    path = f"/certificates/{demo['certificate']['number']}"
    english = client.get(path + "?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "Certificate of conformity" in english and "In force" in english
    assert "祁门红香茶业有限公司" in english and "Qimen Hongxiang Tea Co., Ltd." in english
    assert "certificates.css" in english
    chinese = client.get(path + "?lang=zh-CN").get_data(as_text=True)
    assert '<html lang="zh-CN">' in chinese and "合格证书" in chinese and "有效" in chinese
    suspended = client.get(f"/certificates/{demo['certificate_suspended']['number']}?lang=en")
    text = suspended.get_data(as_text=True)
    assert "Not in force" in text and "Suspended" in text and "re-tested" in text
    with client.get("/static/certificates/certificates.css") as css:
        assert "@media print" in css.get_data(as_text=True)


def test_unknown_certificate_pages_say_so(client) -> None:
    response = client.get("/certificates/QTA-1999-000009?lang=en")
    assert response.status_code == 404
    assert "was not issued by us" in response.get_data(as_text=True)


def test_the_register_page_searches(client, demo) -> None:
    number = demo["certificate_suspended"]["number"]
    page = client.get(f"/certificates?lang=en&q={number}").get_data(as_text=True)
    assert number in page and "Suspended" in page
    assert demo["certificate"]["number"] not in page
    bad = client.get("/certificates?status=lost", headers={"Accept": "application/json"})
    assert bad.status_code == 422


def test_an_unknown_status_filter_is_explained_in_the_readers_language(client) -> None:
    english = client.get("/certificates?status=bogus&lang=en")
    assert english.status_code == 422 and english.mimetype == "text/html"
    text = english.get_data(as_text=True)
    assert "bogus is not a certificate status." in text
    assert (
        "The status must be active, suspended, withdrawn, cancelled, superseded, or expired."
        in (text)
    )
    chinese = client.get("/certificates?status=bogus&lang=zh-CN").get_data(as_text=True)
    assert "“bogus”不是有效的证书状态。" in chinese
    assert "状态须为 active (有效)、suspended (暂停)" in chinese
    assert "Unknown status" not in chinese and "one of" not in chinese


def _rasterise(svg: str) -> Image.Image:
    """Draw the SVG's module squares (``Mx,yH..V..H..z``) as pixels."""
    size = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', svg)[1])
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    pixels = image.load()
    for x, y in re.findall(r"M(\d+),(\d+)H", svg):
        for dx in range(scale):
            for dy in range(scale):
                pixels[int(x) * scale + dx, int(y) * scale + dy] = 0
    return image


def test_the_qr_code_links_to_the_page(client, demo) -> None:
    number = demo["certificate"]["number"]
    response = client.get(f"/certificates/{number}/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert "immutable" in response.headers["Cache-Control"]
    decoded = zxingcpp.read_barcodes(
        _rasterise(response.get_data(as_text=True)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    assert [result.text for result in decoded] == [demo["certificate"]["url"]]
    assert client.get("/certificates/QTA-1999-000009/qr.svg").status_code == 404
