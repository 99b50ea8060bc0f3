"""The resolver over HTTP: every demo code gives the right verdict as a page, as JSON and as a
linkset; GS1 resolver behaviour (400/404, 307, HEAD, OPTIONS, CORS, trailing slash, linkset,
Link header, description file); hostile input."""

from __future__ import annotations

import re

import pytest

from tests.resolver.conftest import BROWSER, path_of

VERDICTS = {
    "unit": "GENUINE",
    "unit_inactive": "NOT_ACTIVATED",
    "unit_blacklisted": "BLOCKED",
    "unit_suspended": "NOT_VALID",
}
GS1 = "https://gs1.org/voc/"


def unknown_path(demo) -> str:
    gtin = demo["product"]["gtin"]
    return f"/01/{gtin}/10/{demo['batch']['lot']}/21/NEVERISSUED01"


@pytest.mark.parametrize(("key", "verdict"), sorted(VERDICTS.items()))
def test_each_demo_code_gets_the_same_verdict_as_json_linkset_and_page(
    shopper, demo, key, verdict
) -> None:
    path = path_of(demo, key)
    as_json = shopper.get(path)
    assert as_json.status_code == 200 and as_json.mimetype == "application/json"
    assert as_json.get_json()["verdict"] == verdict
    linkset = shopper.get(path, accept="application/linkset+json")
    assert linkset.mimetype == "application/linkset+json"
    service = linkset.get_json()["linkset"][0][GS1 + "verificationService"][0]
    assert service["verdict"] == [verdict]
    page = shopper.get(path, accept=BROWSER)
    assert page.mimetype == "text/html"
    assert f'data-verdict="{verdict}"' in page.get_data(as_text=True)


def test_unknown_codes_are_404_with_the_not_found_verdict(shopper, demo) -> None:
    for path, reason in (
        (unknown_path(demo), "unknown_serial"),
        ("/01/09501101530003/21/ABC", "unknown_gtin"),
    ):
        response = shopper.get(path)
        assert response.status_code == 404
        body = response.get_json()
        assert body["verdict"] == "NOT_FOUND"
        assert body["reasons"][0]["code"] == reason
        assert body["links"]["report"].startswith(demo["base_url"] + "/report?code=")
        linkset = shopper.get(path + "?linkType=linkset")
        assert linkset.status_code == 404
        assert linkset.get_json()["linkset"][0][GS1 + "verificationService"][0]["verdict"] == [
            "NOT_FOUND"
        ]
        page = shopper.get(path, accept=BROWSER)
        assert page.status_code == 404 and 'data-verdict="NOT_FOUND"' in page.get_data(as_text=True)


def test_the_genuine_verdict_names_product_firm_brand_certificate_and_batch(shopper, demo) -> None:
    body = shopper.get(path_of(demo, "unit")).get_json()
    assert body["product"]["gtin"] == demo["product"]["gtin"]
    assert body["firm"]["slug"] == "hongxiang-tea"
    assert body["brand"]["url"].endswith("/brands/" + demo["brand"]["slug"])
    certificate = body["certificate"]
    assert certificate["number"] == demo["certificate"]["number"]
    assert certificate["in_force"] is True and certificate["status"] == "active"
    assert certificate["standard"]["code"] and certificate["standard"]["version"]
    assert certificate["url"] == demo["certificate"]["url"]
    assert certificate["valid_from"] < certificate["valid_until"]
    assert body["batch"]["lot"] == demo["batch"]["lot"]
    assert body["scans"]["count"] >= 1 and body["scans"]["first_scanned_at"]
    assert body["official_domain"] == "brand.example.test"
    entries = {entry["about"]: entry for entry in body["log"]["entries"]}
    assert entries["certificate"]["index"] == demo["certificate"]["log_index"]
    assert (
        entries["certificate"]["inclusion_proof"]["log_index"] == demo["certificate"]["log_index"]
    )
    assert "label_order" in entries


def test_a_packs_journey_shows_where_its_case_travelled_with_the_readings(shopper, demo) -> None:
    journey = shopper.get(path_of(demo, "unit")).get_json()["journey"]
    steps = [step["step"] for step in journey]
    assert steps == ["commissioning", "commissioning", "packing", "shipping", "receiving"]
    shipped, received = journey[3], journey[4]
    assert shipped["place"] == "Qimen warehouse" and "5.8" in shipped["detail"]
    assert received["place"] == "Huicha tea shop, Hefei" and "7.2" in received["detail"]
    # A batch-level code stands for every pack of the lot: it shows where the lot came from,
    # not where each of its cases went.
    gtin, lot = demo["product"]["gtin"], demo["batch"]["lot"]
    batch = shopper.get(f"/01/{gtin}/10/{lot}").get_json()["journey"]
    assert [step["step"] for step in batch] == ["commissioning", "commissioning"]


def test_the_suspended_certificate_explains_the_not_valid_verdict(shopper, demo) -> None:
    body = shopper.get(path_of(demo, "unit_suspended")).get_json()
    assert body["verdict"] == "NOT_VALID"
    reason = body["reasons"][0]
    assert reason["code"] == "certificate_suspended"
    assert reason["number"] == demo["certificate_suspended"]["number"]
    from app.certificates.demo import SUSPENSION_REASON

    assert reason["reason"] == SUSPENSION_REASON and SUSPENSION_REASON in reason["message"]
    assert body["certificate"]["in_force"] is False


def test_a_certificate_cancelled_by_its_holder_makes_its_labels_not_valid(
    shopper, demo, api
) -> None:
    number = demo["certificate"]["number"]
    cancelled = api("firm_admin").post(
        f"/api/v1/certificates/{number}/cancel", json={"reason": "production stopped"}
    )
    assert cancelled.status_code == 200, cancelled.get_data(as_text=True)
    body = shopper.get(path_of(demo, "unit")).get_json()
    assert body["verdict"] == "NOT_VALID"
    reason = body["reasons"][0]
    assert (reason["code"], reason["number"], reason["reason"]) == (
        "certificate_cancelled",
        number,
        "production stopped",
    )
    assert reason["message"] == (
        f"Certificate {number} was cancelled by its holder: production stopped"
    )
    assert body["certificate"]["in_force"] is False
    assert body["certificate"]["status"] == "cancelled"
    page = shopper.get(path_of(demo, "unit") + "?lang=zh-CN", accept=BROWSER)
    words = page.get_data(as_text=True)
    assert 'data-verdict="NOT_VALID"' in words
    assert f"证书 {number} 已由持证方申请注销：production stopped" in words


def test_a_pack_labelled_before_a_re_issue_is_checked_against_the_number_it_carries(
    shopper, demo, api
) -> None:
    old = demo["certificate"]["number"]
    reissued = api("association_staff").post(
        f"/api/v1/certificates/{old}/reissue", json={"label_quota": 60000, "reason": "more labels"}
    )
    assert reissued.status_code in (200, 201), reissued.get_data(as_text=True)
    new = reissued.get_json()["number"]
    body = shopper.get(path_of(demo, "unit")).get_json()
    assert body["verdict"] == "GENUINE"
    # The verdict follows the successor; the pack still carries the number it was labelled under.
    assert body["certificate"]["number"] == new
    assert body["certificate"]["labels_issued_under"] == old
    page = shopper.get(path_of(demo, "unit") + "?lang=zh-CN", accept=BROWSER)
    checks = page.get_data(as_text=True).split('id="check-title"', 1)[1].split("</ul>", 1)[0]
    assert f"证书编号 {old}" in checks and f"证书编号 {new}" not in checks
    # A pack labelled under the certificate in force names no earlier number.
    plain = shopper.get(path_of(demo, "unit_suspended")).get_json()
    assert "labels_issued_under" not in plain["certificate"]


def test_a_pack_whose_product_a_re_issue_took_out_of_scope_is_not_valid(shopper, demo, api) -> None:
    def ok(response, status=200):
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    firm, association = api("firm_admin"), api("association_staff")
    kept, dropped = demo["product"]["gtin"], demo["certificate_suspended"]["gtins"][0]
    ok(
        firm.post(
            f"/api/v1/certificates/{demo['certificate_suspended']['number']}/cancel",
            json={"reason": "grade discontinued"},
        )
    )
    both = ok(
        association.post(
            f"/api/v1/certificates/{demo['certificate']['number']}/reissue",
            json={"gtins": [kept, dropped], "reason": "wider scope"},
        ),
        201,
    )["number"]
    lot = path_of(demo, "unit_suspended").split("/10/")[1].split("/")[0]
    batch = next(
        o["batch_id"]
        for o in ok(firm.get("/api/v1/label-orders?limit=100"))["items"]
        if o["gtin"] == dropped and o["lot"] == lot
    )
    order = ok(firm.post(f"/api/v1/batches/{batch}/label-orders", json={"quantity": 1}), 201)
    ok(association.post(f"/api/v1/label-orders/{order['id']}/approve", json={}))
    ok(firm.post(f"/api/v1/label-orders/{order['id']}/printed", json={}))
    ok(firm.post(f"/api/v1/label-orders/{order['id']}/activate", json={}))
    [code] = ok(firm.get(f"/api/v1/label-orders/{order['id']}/codes"))["items"]
    pack = code["digital_link"].removeprefix(demo["base_url"])
    assert shopper.get(pack).get_json()["verdict"] == "GENUINE"

    narrowed = ok(
        association.post(
            f"/api/v1/certificates/{both}/reissue",
            json={"gtins": [kept], "reason": "grade no longer certified"},
        ),
        201,
    )
    body = shopper.get(pack).get_json()
    assert body["verdict"] == "NOT_VALID"
    assert body["reasons"][0]["code"] == "certificate_scope_excludes"
    assert body["reasons"][0]["number"] == narrowed["number"]
    assert body["certificate"]["in_force"] is False
    batch_link = shopper.get(f"/01/{dropped}/10/{lot}").get_json()
    assert batch_link["verdict"] == "NOT_VALID"
    page = shopper.get(pack + "?lang=zh-CN", accept=BROWSER).get_data(as_text=True)
    assert f"证书 {narrowed['number']} 已不再覆盖该产品" in page
    # The product kept in scope stays genuine.
    assert shopper.get(path_of(demo, "unit")).get_json()["verdict"] == "GENUINE"


def test_the_certificate_status_is_said_once_in_chinese(shopper, demo) -> None:
    # "In force" and "active" are both 有效: the page said "有效 (有效)".
    page = shopper.get(path_of(demo, "unit") + "?lang=zh-CN", accept=BROWSER)
    status = re.search(r'class="rv-status-ok">([^<]*)<', page.get_data(as_text=True))
    assert status is not None and status.group(1) == "有效"
    suspended = shopper.get(path_of(demo, "unit_suspended") + "?lang=zh-CN", accept=BROWSER)
    assert 'class="rv-status-bad">无效 (已暂停)<' in suspended.get_data(as_text=True)


def test_inclusion_proofs_in_the_verdict_verify_offline(shopper, demo) -> None:
    from app.transparency.client import verify_inclusion_bundle

    body = shopper.get(path_of(demo, "unit")).get_json()
    for entry in body["log"]["entries"]:
        verify_inclusion_bundle(entry["inclusion_proof"], demo["log"]["vkey"])


@pytest.mark.parametrize(
    ("path", "field", "rule"),
    [
        ("/01/09501101530004", "gtin", "check_digit"),
        ("/01/9501101530003", "gtin", "length"),
        ("/01/09501101530003/21/S/10/L", "path", "qualifier_order"),
        ("/01/09501101530003/17/261231", "path", "data_ai_in_path"),
        ("/01/09501101530003/foo", "path", "path_structure"),
        ("/01/09501101530003?10=L1", "query.10", "qualifier_in_query"),
        ("/01/09501101530003?17=261399", "query.17", "invalid_date"),
        ("/01/09501101530003?17=261231&17=261231", "query.17", "duplicate_ai"),
        ("/01/09501101530003/10/%E8%8C%B6", "lot", "charset82"),
        ("/01/09501101530003/10/A%2", "lot", "percent_encoding"),
        ("/01/", "gtin", "required"),
    ],
)
def test_bad_syntax_is_400_saying_what_is_wrong(shopper, path, field, rule) -> None:
    response = shopper.get(path)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"].endswith("/problems/invalid-digital-link")
    assert problem["errors"][0]["field"] == field
    assert problem["errors"][0]["rule"] == rule, problem
    page = shopper.get(path, accept=BROWSER)
    assert page.status_code == 400 and page.mimetype == "text/html"
    # People read what is wrong in their words, not the parser's message for developers.
    html = page.get_data(as_text=True)
    assert "What is wrong" in html and problem["errors"][0]["message"] not in html


def test_a_bad_link_page_says_what_is_wrong_in_chinese(shopper) -> None:
    page = shopper.get("/01/09501101530004?lang=zh-CN", accept=BROWSER)
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "最后一位（校验位）是 4，应为 3" in html and "check digit" not in html


def test_rule_names_of_the_gs1_parser_match_the_tests() -> None:
    # Guard against silently renamed rules in the shared parser.
    from app.gs1.digital_link import parse_digital_link
    from app.gs1.identifiers import GS1SyntaxError

    with pytest.raises(GS1SyntaxError) as caught:
        parse_digital_link("/01/09501101530003?17=261399")
    assert caught.value.rule == "invalid_date"


def test_script_in_a_bad_link_is_escaped_on_the_page(shopper) -> None:
    response = shopper.get("/01/09501101530003/10/%3Cscript%3E%7B", accept=BROWSER)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "<script>" not in text and "“{”" in text


def test_oversized_and_stuffed_query_strings_are_refused(shopper, demo) -> None:
    path = path_of(demo, "unit")
    long_query = shopper.get(path + "?x=" + "a" * 2000)
    assert long_query.status_code == 400
    assert long_query.get_json()["errors"][0]["rule"] == "query_too_long"
    stuffed = shopper.get(path + "?" + "&".join(f"p{i}=1" for i in range(50)))
    assert stuffed.get_json()["errors"][0]["rule"] == "too_many_parameters"


def test_a_trailing_slash_is_tolerated(shopper, demo) -> None:
    path = path_of(demo, "unit")
    plain, slashed = shopper.get(path), shopper.get(path + "/")
    assert slashed.status_code == plain.status_code == 200
    assert slashed.get_json()["verdict"] == "GENUINE"
    assert slashed.headers["Link"] == plain.headers["Link"]


def test_an_encoded_slash_stays_inside_the_lot(shopper, demo) -> None:
    gtin = demo["product"]["gtin"]
    response = shopper.get(f"/01/{gtin}/10/A%2FB")
    assert response.status_code == 404
    body = response.get_json()
    assert body["code"]["lot"] == "A/B"
    assert body["reasons"][0]["code"] == "unknown_batch"
    assert body["code"]["digital_link"].endswith("/10/A%2FB")


def test_head_answers_like_get_without_a_body_or_a_scan(app, shopper, demo) -> None:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.resolver.models import Scan

    def scans() -> int:
        with app.app_context():
            return db.new_session().scalar(select(func.count()).select_from(Scan))

    before = scans()
    found = shopper.head(path_of(demo, "unit"))
    missing = shopper.head(unknown_path(demo))
    assert (found.status_code, missing.status_code) == (200, 404)
    assert found.data == b"" and "linkset" in found.headers["Link"]
    assert scans() == before


def test_options_and_cors(shopper, demo) -> None:
    path = path_of(demo, "unit")
    preflight = shopper.client.options(
        path,
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert set(preflight.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "OPTIONS" in preflight.headers["Access-Control-Allow-Methods"]
    response = shopper.get(path, Origin="https://shop.example")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Link" in response.headers["Access-Control-Expose-Headers"]
    assert "Accept" in response.headers["Vary"]
    assert response.headers["Cache-Control"] == "no-store"


def test_the_link_header_lists_the_linkset_and_typed_links_with_titles(shopper, demo) -> None:
    response = shopper.get(path_of(demo, "unit"), **{"Accept-Language": "en"})
    header = response.headers["Link"]
    links = [part.strip() for part in re.split(r",\s*(?=<)", header)]
    assert links[0].endswith('rel="linkset"; type="application/linkset+json"')
    for link in links[1:]:
        assert re.match(r'<https?://[^>]+>; rel="https://gs1\.org/voc/\w+"; title', link), link
    assert f'rel="{GS1}verificationService"' in header
    chinese = shopper.get(path_of(demo, "unit"), **{"Accept-Language": "zh-CN"})
    assert "title*=UTF-8''" in chinese.headers["Link"]


def test_the_linkset_has_every_level_up_to_the_product(shopper, demo) -> None:
    path = path_of(demo, "unit")
    document = shopper.get(path + "?linkType=linkset", accept=BROWSER).get_json()
    unit, batch, product = document["linkset"]
    base = demo["base_url"]
    assert unit["anchor"] == base + path
    assert batch["anchor"] == base + f"/01/{demo['product']['gtin']}/10/{demo['batch']['lot']}"
    assert product["anchor"] == base + f"/01/{demo['product']['gtin']}"
    assert unit["itemDescription"]
    for context in document["linkset"]:
        for relation, targets in context.items():
            if relation in ("anchor", "itemDescription"):
                continue
            assert relation.startswith(GS1)
            for target in targets:
                assert target["href"].startswith("http") and target["title"] and target["type"]
    assert product[GS1 + "certificationInfo"][0]["href"] == demo["certificate"]["url"]
    assert GS1 + "pip" in product and GS1 + "homepage" in product
    assert GS1 + "traceability" in unit
    # Plain JSON clients get the same linkset as application/json.
    as_json = shopper.get(path + "?linkType=all")
    assert as_json.mimetype == "application/json" and "linkset" in as_json.get_json()


def test_link_types_redirect_307_passing_the_query_on(shopper, demo) -> None:
    path = path_of(demo, "unit")
    for link_type in ("gs1:certificationInfo", "https://gs1.org/voc/certificationInfo"):
        response = shopper.get(f"{path}?linkType={link_type}&15=280319", accept=BROWSER)
        assert response.status_code == 307
        assert response.headers["Location"] == demo["certificate"]["url"] + "?15=280319"
        assert "Link" in response.headers
    default = shopper.get(path + "?linkType=gs1:somethingElse", accept=BROWSER)
    assert default.status_code == 307
    assert default.headers["Location"] == demo["base_url"] + "/verify" + path
    unknown = shopper.get(unknown_path(demo) + "?linkType=gs1:pip")
    assert unknown.status_code == 404 and unknown.get_json()["verdict"] == "NOT_FOUND"


def test_the_verification_page_alias_answers_the_same(shopper, demo) -> None:
    response = shopper.get("/verify" + path_of(demo, "unit_blacklisted"))
    assert response.get_json()["verdict"] == "BLOCKED"


def test_nothing_acceptable_is_406(shopper, demo) -> None:
    response = shopper.get(path_of(demo, "unit"), accept="image/png")
    assert response.status_code == 406
    assert response.mimetype == "application/problem+json"


def test_the_resolver_describes_itself(client) -> None:
    response = client.get("/.well-known/gs1resolver")
    body = response.get_json()
    assert body["resolverRoot"] == "https://brand.example.test"
    assert body["supportedPrimaryKeys"] == ["01"]
    assert body["supportedLinkType"][0]["prefix"] == "gs1:"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_dates_printed_in_the_link_are_checked_against_the_batch(shopper, demo) -> None:
    path = path_of(demo, "unit")
    same = shopper.get(path + "?11=260320&15=280319").get_json()
    assert same["verdict"] == "GENUINE"
    assert same["code"]["data"] == {"11": "260320", "15": "280319"}
    other = shopper.get(path + "?15=300101").get_json()
    assert other["verdict"] == "GENUINE_WITH_WARNING"
    assert other["reasons"][0]["code"] == "label_data_mismatch"


def test_a_serial_under_another_lot_is_not_ours_and_tells_nothing_of_the_genuine_pack(
    shopper, new_shopper, demo
) -> None:
    genuine = path_of(demo, "unit")
    real_lot = demo["batch"]["lot"]
    counted = new_shopper().get(genuine).get_json()["scans"]["count"]
    path = genuine.replace(real_lot, "OTHERLOT")
    response = shopper.get(path)
    assert response.status_code == 404
    body = response.get_json()
    assert body["verdict"] == "NOT_FOUND"
    assert body["reasons"] == [
        {"code": "lot_mismatch", "message": body["reasons"][0]["message"], "printed": "OTHERLOT"}
    ]
    # Neither the lot a counterfeiter should print nor the genuine pack's history or count.
    assert real_lot not in response.get_data(as_text=True)
    assert body["batch"] is None and body["scans"] is None and body["journey"] is None
    assert body["log"] is None or all(e["about"] != "label_order" for e in body["log"]["entries"])
    linkset = shopper.get(path, accept="application/linkset+json")
    assert linkset.status_code == 404 and real_lot not in linkset.get_data(as_text=True)
    assert real_lot not in linkset.headers["Link"]
    page = shopper.get(path, accept=BROWSER)
    html = page.get_data(as_text=True)
    assert page.status_code == 404 and 'data-verdict="NOT_FOUND"' in html
    assert real_lot not in html and 'id="scan-count"' not in html and 'id="journey"' not in html
    # The copies were not counted against the genuine pack.
    assert new_shopper().get(genuine).get_json()["scans"]["count"] == counted + 1


def test_product_and_batch_links_warn_that_they_prove_no_single_pack(shopper, demo) -> None:
    gtin, lot = demo["product"]["gtin"], demo["batch"]["lot"]
    product = shopper.get(f"/01/{gtin}").get_json()
    assert product["verdict"] == "GENUINE_WITH_WARNING"
    assert product["reasons"][0]["code"] == "product_level_code"
    assert product["scans"] is None
    batch = shopper.get(f"/01/{gtin}/10/{lot}").get_json()
    assert [r["code"] for r in batch["reasons"]] == ["batch_level_code"]
    assert batch["batch"]["production_date"] == "2026-03-20"


def test_the_page_is_bilingual_and_keeps_the_query_in_the_language_switch(shopper, demo) -> None:
    path = path_of(demo, "unit") + "?15=280319"
    chinese = shopper.get(path, accept=BROWSER, **{"Accept-Language": "zh-CN,zh;q=0.9"})
    text = chinese.get_data(as_text=True)
    assert '<html lang="zh-CN">' in text and "正品" in text
    assert f'href="{path_of(demo, "unit")}?15=280319&amp;lang=en"' in text
    english = shopper.get(path + "&lang=en", accept=BROWSER)
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert english.headers["Content-Language"] == "en"


def test_the_page_is_small_self_contained_and_accessible(shopper, demo) -> None:
    response = shopper.get(path_of(demo, "unit"), accept=BROWSER)
    text = response.get_data(as_text=True)
    assert len(response.data) < 30_000
    # Nothing from other origins: every src and stylesheet is ours.
    for url in re.findall(r'(?:src|href)="([^"]+)"', text):
        assert not url.startswith("//") and (
            not url.startswith("http") or url.startswith("https://brand.example.test")
        ), url
    assert 'aria-hidden="true"' in text  # the icon is decoration; the words carry the verdict
    assert "brand.example.test" in text  # the official domain is shown
    assert 'class="skip"' in text
