"""Products and batches through the API: GS1 validation, identity, organisation scoping."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from app.gs1.digital_link import parse_digital_link
from app.gs1.identifiers import GS1SyntaxError, compute_check_digit
from tests.vectors import vector_path

VECTORS = json.loads(vector_path("gs1-digital-link.json").read_text())
BASE = "https://brand.example.test"


def gtin(body: str) -> str:
    """A GTIN with a valid check digit after ``body``."""
    return body + compute_check_digit(body)


def new_product(api, role="firm_admin", **fields):
    payload = {"gtin": gtin("690999000001"), "name_zh": "祁门红茶", "name_en": "Keemun black tea"}
    return api(role).post("/api/v1/products", json=payload | fields)


def field_errors(response) -> set[tuple[str, str]]:
    return {(error["field"], error["rule"]) for error in response.get_json().get("errors", [])}


def test_register_product_stores_gtin14_and_says_whether_it_may_bear_the_mark(api) -> None:
    response = new_product(api, gtin=gtin("690999000001"), description_en="Grade 1")
    assert response.status_code == 201, response.get_json()
    product = response.get_json()
    assert product["gtin"] == "0" + gtin("690999000001")
    assert product["digital_link"] == f"{BASE}/01/{product['gtin']}"
    assert product["mark"]["may_bear_mark"] is False  # no certificate covers it
    assert product["status"] == "active"
    again = api("firm_staff").get(f"/api/v1/products/{product['id']}")
    assert again.status_code == 200 and again.get_json()["name_zh"] == "祁门红茶"


@pytest.mark.parametrize(
    "case", [c for c in VECTORS["check_digits"] if len(c["number"]) in (8, 12, 13, 14)]
)
def test_published_check_digit_cases(api, case) -> None:
    response = new_product(api, gtin=case["number"])
    if case["valid"]:
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["gtin"] == case["number"].zfill(14)
    else:
        assert response.status_code == 422
        problem = response.get_json()
        assert problem["type"].endswith("/problems/invalid-gs1-value")
        assert field_errors(response) == {("/gtin", "check_digit")}


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("6901234", "length"),  # 7 digits
        ("69012345678901", "check_digit"),
        ("690123456789012", "length"),  # 15 digits
        ("69012345678A", "numeric"),
        ("６９０１２３４５６７８９２", "numeric"),  # full-width digits are not ASCII digits
        ("", "string_too_short"),
    ],
)
def test_bad_gtins_are_refused_with_field_and_rule(api, value, rule) -> None:
    response = new_product(api, gtin=value)
    assert response.status_code == 422
    assert field_errors(response) == {("/gtin", rule)}


def test_a_gtin_belongs_to_one_firm(api) -> None:
    assert new_product(api).status_code == 201
    for role in ("firm_admin", "firm2_admin"):
        duplicate = new_product(api, role=role)
        assert duplicate.status_code == 409
        assert duplicate.get_json()["type"].endswith("/problems/duplicate-gtin")
        assert field_errors(duplicate) == {("/gtin", "unique")}


def test_another_firms_product_and_batches_answer_404(api) -> None:
    product = new_product(api).get_json()
    batch = api("firm_admin").post(f"/api/v1/products/{product['id']}/batches", json={"lot": "A1"})
    other = api("firm2_admin")
    assert other.get(f"/api/v1/products/{product['id']}").status_code == 404
    assert (
        other.patch(f"/api/v1/products/{product['id']}", json={"name_en": "x"}).status_code == 404
    )
    assert (
        other.post(f"/api/v1/products/{product['id']}/batches", json={"lot": "B1"}).status_code
        == 404
    )
    assert other.get(f"/api/v1/batches/{batch.get_json()['id']}").status_code == 404
    assert product["id"] not in [p["id"] for p in other.get("/api/v1/products").get_json()["items"]]


def test_list_and_filter_products(api) -> None:
    first = new_product(api, gtin=gtin("690999000011")).get_json()
    second = new_product(api, gtin=gtin("690999000012")).get_json()
    listed = api("firm_admin").get("/api/v1/products?limit=1")
    assert listed.status_code == 200
    body = listed.get_json()
    assert [p["id"] for p in body["items"]] == [second["id"]]
    assert body["next_cursor"] and 'rel="next"' in listed.headers["Link"]
    only = api("firm_admin").get(f"/api/v1/products?gtin={gtin('690999000011')}").get_json()
    assert [p["id"] for p in only["items"]] == [first["id"]]
    bad = api("firm_admin").get("/api/v1/products?gtin=123")
    assert bad.status_code == 422 and field_errors(bad) == {("query.gtin", "length")}


def test_update_product_but_never_its_gtin(api) -> None:
    product = new_product(api).get_json()
    path = f"/api/v1/products/{product['id']}"
    changed = api("firm_staff").patch(path, json={"name_en": "Keemun", "status": "discontinued"})
    assert changed.status_code == 200
    assert changed.get_json()["name_en"] == "Keemun"
    assert changed.get_json()["status"] == "discontinued"
    refused = api("firm_admin").patch(path, json={"gtin": gtin("690999000099")})
    assert refused.status_code == 422 and field_errors(refused) == {("/gtin", "extra_forbidden")}


# --- batches ----------------------------------------------------------------------------------


def new_batch(api, product_id, role="firm_admin", **fields):
    return api(role).post(
        f"/api/v1/products/{product_id}/batches", json={"lot": "LOT2026-03"} | fields
    )


def test_create_batch_with_dates_site_and_identity(api) -> None:
    product = new_product(api).get_json()
    response = new_batch(
        api,
        product["id"],
        lot="2026/03-A",
        production_date="2026-03-15",
        best_before_date="280300",  # GS1 YYMMDD, day 00: the end of the month
        expiry_date="2028-03-31",
        quantity=5000,
        production_site="祁门县历口镇茶厂",
        production_site_gln=gtin("690123400000"),
    )
    assert response.status_code == 201, response.get_json()
    batch = response.get_json()
    assert batch["best_before_date"] == "2028-03-31"
    assert batch["production_date"] == "2026-03-15"
    assert batch["digital_link"] == f"{BASE}/01/{product['gtin']}/10/2026%2F03-A"
    parsed = parse_digital_link(batch["digital_link"])
    assert (parsed.gtin, parsed.lot) == (product["gtin"], "2026/03-A")
    listed = api("firm_staff").get(f"/api/v1/products/{product['id']}/batches").get_json()
    assert [b["id"] for b in listed["items"]] == [batch["id"]]


BATCH_LINKS = [
    case
    for case in VECTORS["valid"]
    if "10" in case["ais"] and not {"22", "235"} & set(case["ais"])
]


@pytest.mark.parametrize("case", BATCH_LINKS, ids=lambda case: case["uri"])
def test_published_valid_links_rebuild_on_our_host(api, case) -> None:
    ais = case["ais"]
    product = new_product(api, gtin=ais["01"])
    assert product.status_code == 201
    batch = new_batch(api, product.get_json()["id"], lot=ais["10"]).get_json()
    expected = case["uri"].split("?")[0].split("/01/")[1].split("/21/")[0]
    assert batch["digital_link"] == f"{BASE}/01/{expected}"


def _lot_cases() -> list[tuple[str, str]]:
    cases = []
    for case in VECTORS["invalid"]:
        try:
            parse_digital_link(case["uri"])
        except GS1SyntaxError as error:
            if error.field == "lot" and error.rule in ("length", "charset82"):
                lot = unquote(case["uri"].split("/10/")[1].split("/")[0].split("?")[0])
                cases.append((lot, error.rule))
    return cases


@pytest.mark.parametrize(
    ("lot", "rule"), [*_lot_cases(), ("A B", "charset82"), ("批次1", "charset82")]
)
def test_bad_lots_are_refused_like_the_published_vectors(api, lot, rule) -> None:
    product = new_product(api).get_json()
    response = new_batch(api, product["id"], lot=lot)
    assert response.status_code == 422
    assert response.get_json()["type"].endswith("/problems/invalid-gs1-value")
    assert field_errors(response) == {("/lot", rule)}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"production_date": "2026-02-30"}, ("/production_date", "invalid_date")),
        ({"expiry_date": "261332"}, ("/expiry_date", "invalid_date")),
        ({"best_before_date": "2026-13-01"}, ("/best_before_date", "invalid_date")),
        ({"best_before_date": "26-01-01"}, ("/best_before_date", "numeric")),
        (
            {"production_date": "2026-03-10", "expiry_date": "2026-03-09"},
            ("/expiry_date", "date_order"),
        ),
        ({"production_site_gln": "6901234000004"}, ("/production_site_gln", "check_digit")),
        ({"quantity": 0}, ("/quantity", "greater_than_equal")),
    ],
)
def test_bad_batch_fields_name_field_and_rule(api, fields, expected) -> None:
    product = new_product(api).get_json()
    response = new_batch(api, product["id"], **fields)
    assert response.status_code == 422, response.get_json()
    assert expected in field_errors(response)


def test_duplicate_lot_of_a_product_is_a_conflict(api) -> None:
    product = new_product(api).get_json()
    assert new_batch(api, product["id"]).status_code == 201
    duplicate = new_batch(api, product["id"])
    assert duplicate.status_code == 409
    assert field_errors(duplicate) == {("/lot", "unique")}
