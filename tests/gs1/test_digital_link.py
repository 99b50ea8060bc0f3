"""GS1 Digital Link parsing and building, driven by the published vectors."""

import json
from datetime import date
from decimal import Decimal

import pytest

from app.gs1.digital_link import (
    AI_TABLE,
    AIRole,
    DigitalLink,
    build_digital_link,
    encode_dl_value,
    parse_digital_link,
    parse_digital_link_elements,
    validate_ai_value,
)
from app.gs1.identifiers import CS82, GS1SyntaxError
from tests.vectors import vector_path

VECTORS = json.loads(vector_path("gs1-digital-link.json").read_text("utf-8"))
TODAY = date(2025, 6, 1)

# What each published invalid case must be refused for (field, rule). Cases added to the file
# later are still tested (they must be refused with a message); this only pins the known ones.
EXPECTED_REFUSALS = {
    "https://id.gs1.org/01/09520123456789": ("gtin", "check_digit"),
    "https://id.gs1.org/01/9520123456788": ("gtin", "length"),
    "https://id.gs1.org/01/095201234567880": ("gtin", "length"),
    "https://id.gs1.org/01/0952012345678A": ("gtin", "numeric"),
    "https://id.gs1.org/01/09520123456788/21/12345/10/ABC1": ("path", "qualifier_order"),
    "https://id.gs1.org/01/09520123456788/17/261231": ("path", "data_ai_in_path"),
    "https://example.com/01/09520123456788?10=ABC123": ("query.10", "qualifier_in_query"),
    "https://example.com/01/09520123456788/10/ABCDEFGHIJKLMNOPQRSTU": ("lot", "length"),
    "https://example.com/01/09520123456788?17=261332": ("query.17", "invalid_date"),
    "https://example.com/01/09520123456788/10/": ("lot", "empty_value"),
    "https://example.com/01/09520123456788/10/AB<C": ("lot", "uri_syntax"),
    "https://example.com/01/09520123456788/10/AB%20C": ("lot", "charset82"),
    "https://example.com/01/09520123456788/10/LOT%E4%B8%80": ("lot", "charset82"),
    "https://example.com/01/09520123456788/21/12345?21=999": ("query.21", "duplicate_ai"),
    "https://example.com/01/09520123456788?99=": ("query.99", "empty_value"),
}


@pytest.mark.parametrize("case", VECTORS["valid"], ids=lambda c: c["uri"])
def test_published_valid_uris_decode_to_the_expected_ais(case: dict[str, object]) -> None:
    link = parse_digital_link(str(case["uri"]), today=TODAY)
    assert link.ais() == case["ais"]
    assert len(link.gtin) == 14


@pytest.mark.parametrize("case", VECTORS["valid"], ids=lambda c: c["uri"])
def test_published_valid_uris_round_trip_through_the_builder(case: dict[str, object]) -> None:
    link = parse_digital_link(str(case["uri"]), today=TODAY)
    rebuilt = parse_digital_link(link.to_uri("https://brand.example.cn/dl/"), today=TODAY)
    assert rebuilt == link


@pytest.mark.parametrize("case", VECTORS["invalid"], ids=lambda c: c["uri"])
def test_published_invalid_uris_are_refused_with_a_reason(case: dict[str, str]) -> None:
    with pytest.raises(GS1SyntaxError) as info:
        parse_digital_link(case["uri"], today=TODAY)
    assert info.value.message
    expected = EXPECTED_REFUSALS.get(case["uri"])
    if expected is not None:
        assert (info.value.field, info.value.rule) == expected, info.value.message


def test_every_pinned_refusal_is_still_a_published_vector() -> None:
    # guards EXPECTED_REFUSALS against typos that would silently skip the rule check
    assert set(EXPECTED_REFUSALS) <= {case["uri"] for case in VECTORS["invalid"]}


def test_decoded_fields_dates_and_other_params() -> None:
    link = parse_digital_link(
        "https://example.com/01/09520123456788/22/2A/10/LOT%2F7/21/S%2501"
        "?15=261200&3103=001250&linkType=gs1%3Apip&lang=zh-CN",
        today=TODAY,
    )
    assert (link.gtin, link.cpv, link.lot, link.serial, link.tpx) == (
        "09520123456788",
        "2A",
        "LOT/7",
        "S%01",
        None,
    )
    assert dict(link.data) == {"15": "261200", "3103": "001250"}
    assert dict(link.dates) == {"15": date(2026, 12, 31)}
    assert dict(link.measures) == {"3103": Decimal("1.250")}
    assert link.other_params == (("linkType", "gs1:pip"), ("lang", "zh-CN"))
    assert link.canonical_path() == "/01/09520123456788/22/2A/10/LOT%2F7/21/S%2501"


def test_tpx_is_the_exclusive_alternative_and_frees_lot_for_the_query() -> None:
    link = parse_digital_link("/01/09520123456788/235/XYZ?10=ABC123", today=TODAY)
    assert (link.tpx, link.lot, dict(link.data)) == ("XYZ", None, {"10": "ABC123"})
    with pytest.raises(GS1SyntaxError) as info:
        parse_digital_link("/01/09520123456788/235/XYZ/21/1")
    assert info.value.rule == "qualifier_order"
    with pytest.raises(GS1SyntaxError) as info:
        parse_digital_link("/01/09520123456788/10/A/235/XYZ")
    assert info.value.rule == "qualifier_order"


@pytest.mark.parametrize(
    ("uri", "field", "rule"),
    [
        ("/01/09520123456788/10/A/22/B", "path", "qualifier_order"),
        ("/01/09520123456788/21/A/22/B", "path", "qualifier_order"),
        ("/01/09520123456788/10/A/10/B", "path", "duplicate_ai"),
        ("/01/09520123456788/254/A", "path", "invalid_qualifier"),
        ("/01/09520123456788/00/106141412345678908", "path", "invalid_qualifier"),
        ("/01/09520123456788/99/A", "path", "data_ai_in_path"),
        ("/01/09520123456788/4321/A", "path", "unknown_ai"),
        ("/01/09520123456788/lot/A", "path", "unknown_ai"),
        ("/01/09520123456788/10", "path", "path_structure"),
        ("/products/123", "path", "primary_key"),
        ("/00/106141412345678908", "path", "primary_key"),  # valid DL, but not a GTIN
        ("/01/09520123456788?22=A", "query.22", "qualifier_in_query"),
        ("/01/09520123456788?235=A", "query.235", "qualifier_in_query"),
        ("/01/09520123456788?01=09520123456788", "query.01", "duplicate_ai"),
        ("/01/09520123456788?00=106141412345678908", "query.00", "key_in_query"),
        ("/01/09520123456788?17=261231&17=270101", "query.17", "duplicate_ai"),
        ("/01/09520123456788?4321=1", "query.4321", "unknown_ai"),
        ("/01/09520123456788?17", "query.17", "empty_value"),
        ("/01/09520123456788?17=2612", "query.17", "length"),
        ("/01/09520123456788?15=230230", "query.15", "invalid_date"),
        ("/01/09520123456788?3103=12", "query.3103", "length"),
        ("/01/09520123456788?17=26123%", "query.17", "percent_encoding"),
        ("/01/09520123456788/10/A%2", "lot", "percent_encoding"),
        ("/01/09520123456788/10/A%ZZ", "lot", "percent_encoding"),
        ("/01/09520123456788/10/A%FF", "lot", "percent_encoding"),  # not UTF-8
        ("/01/09520123456788/10/A%23B", "lot", "charset82"),  # '#' decoded
        ("/01/09520123456788/21/一", "serial", "uri_syntax"),  # raw IRI character
        ("/01/09520123456788/22/" + "C" * 21, "cpv", "length"),
        ("/01/09520123456788/235/" + "T" * 29, "tpx", "length"),
        ("01/09520123456788", "uri", "uri_syntax"),
        ("ftp://example.com/01/09520123456788", "uri", "uri_syntax"),
    ],
)
def test_refusals_name_field_and_rule(uri: str, field: str, rule: str) -> None:
    with pytest.raises(GS1SyntaxError) as info:
        parse_digital_link(uri, today=TODAY)
    assert (info.value.field, info.value.rule) == (field, rule), info.value.message


def test_error_messages_say_exactly_what_is_wrong() -> None:
    with pytest.raises(GS1SyntaxError, match=r"pad it with leading zeros \(09520123456788\)"):
        parse_digital_link("/01/9520123456788")
    with pytest.raises(GS1SyntaxError, match="may not follow AI 21"):
        parse_digital_link("/01/09520123456788/21/1/10/A")
    with pytest.raises(GS1SyntaxError, match="belongs in the query string"):
        parse_digital_link("/01/09520123456788/17/261231")
    with pytest.raises(GS1SyntaxError, match="percent-encode it as %3C"):
        parse_digital_link("/01/09520123456788/10/AB<C")


def test_hosts_prefixes_fragments_and_a_trailing_slash_are_tolerated() -> None:
    expected = parse_digital_link("/01/09520123456788/10/ABC")
    for uri in [
        "https://id.gs1.org/01/09520123456788/10/ABC",
        "HTTP://Example.COM:8080/01/09520123456788/10/ABC",
        "https://brand.example.cn/some/prefix/01/09520123456788/10/ABC",
        "https://id.gs1.org/01/09520123456788/10/ABC/",
        "https://id.gs1.org/01/09520123456788/10/ABC#section",
        "/01/09520123456788/10/ABC?",
    ]:
        assert parse_digital_link(uri) == expected, uri


def test_short_gtins_are_padded_only_when_asked() -> None:
    link = parse_digital_link("/01/9520123456788/21/1", allow_short_gtin=True)
    assert (link.gtin, link.gtin_was_padded) == ("09520123456788", True)
    assert parse_digital_link("/01/09520123456788").gtin_was_padded is False
    with pytest.raises(GS1SyntaxError) as info:
        parse_digital_link("/01/02345674", allow_short_gtin=True)
    assert info.value.rule == "check_digit"


def test_other_primary_keys_parse_as_elements() -> None:
    sgln = parse_digital_link_elements("https://x.example/414/4012345000115/254/98%2F7?lang=en")
    assert (sgln.primary_ai, sgln.primary_value, sgln.qualifiers) == (
        "414",
        "4012345000115",
        (("254", "98/7"),),
    )
    assert sgln.canonical_path() == "/414/4012345000115/254/98%2F7"
    assert sgln.other_params == (("lang", "en"),)
    sscc = parse_digital_link_elements("/00/106141412345678908?10=LOT1")
    assert sscc.ais() == {"00": "106141412345678908", "10": "LOT1"}  # 10 is data for an SSCC
    with pytest.raises(GS1SyntaxError) as info:
        parse_digital_link_elements("/414/4012345000115/21/1")
    assert info.value.rule == "invalid_qualifier"


def test_builder_orders_qualifiers_and_encodes_everything_but_unreserved() -> None:
    uri = build_digital_link(
        "https://brand.example.cn/dl/",
        "9520123456788",
        serial="S/1'",
        lot="L(1)",
        cpv="2A",
        data={"17": "261231", "11": "240115"},
    )
    assert uri == (
        "https://brand.example.cn/dl/01/09520123456788/22/2A/10/L%281%29/21/S%2F1%27"
        "?11=240115&17=261231"
    )


def test_encoding_leaves_only_unreserved_characters() -> None:
    for char in sorted(CS82):
        encoded = encode_dl_value(char)
        if char.isalnum() or char in "-._":
            assert encoded == char
        else:
            assert encoded == f"%{ord(char):02X}"


@pytest.mark.parametrize(
    ("kwargs", "field", "rule"),
    [
        ({"gtin": "09520123456789"}, "gtin", "check_digit"),
        ({"gtin": "09520123456788", "lot": "批次1"}, "lot", "charset82"),
        ({"gtin": "09520123456788", "serial": ""}, "serial", "empty_value"),
        ({"gtin": "09520123456788", "tpx": "T", "serial": "1"}, "tpx", "qualifier_order"),
        ({"gtin": "09520123456788", "data": {"10": "A"}}, "query.10", "qualifier_in_query"),
        ({"gtin": "09520123456788", "data": {"00": "1"}}, "query.00", "key_in_query"),
        ({"gtin": "09520123456788", "data": {"4321": "1"}}, "query.4321", "unknown_ai"),
        ({"gtin": "09520123456788", "data": {"17": "230230"}}, "query.17", "invalid_date"),
        ({"gtin": "09520123456788", "base_url": "ftp://x"}, "base_url", "uri_syntax"),
        ({"gtin": "09520123456788", "base_url": "https://x/?a=1"}, "base_url", "uri_syntax"),
    ],
)
def test_builder_refuses_what_the_parser_would_refuse(
    kwargs: dict[str, object], field: str, rule: str
) -> None:
    arguments = {"base_url": "https://id.gs1.org", **kwargs}
    with pytest.raises(GS1SyntaxError) as info:
        build_digital_link(**arguments)  # type: ignore[arg-type]
    assert (info.value.field, info.value.rule) == (field, rule), info.value.message


def test_builder_with_tpx_may_carry_the_lot_as_data() -> None:
    uri = build_digital_link("https://id.gs1.org", "09520123456788", tpx="XYZ", data={"10": "A"})
    assert uri == "https://id.gs1.org/01/09520123456788/235/XYZ?10=A"


def test_every_cs82_value_round_trips_through_build_and_parse() -> None:
    everything = "".join(sorted(CS82))
    for start in range(0, len(everything), 20):
        chunk = everything[start : start + 20]
        uri = build_digital_link("https://id.gs1.org", "09520123456788", lot=chunk, serial=chunk)
        link = parse_digital_link(uri)
        assert (link.lot, link.serial) == (chunk, chunk)
        assert DigitalLink(gtin=link.gtin, lot=chunk, serial=chunk).canonical_path() in uri


def test_ai_table_roles_and_formats() -> None:
    assert AI_TABLE["01"].role is AIRole.PRIMARY_KEY
    assert AI_TABLE["01"].qualifier_chains == (("22", "10", "21"), ("235",))
    assert AI_TABLE["10"].role is AIRole.KEY_QUALIFIER
    assert AI_TABLE["17"].role is AIRole.DATA_ATTRIBUTE
    assert AI_TABLE["17"].is_date
    assert [AI_TABLE[ai].format for ai in ("01", "10", "30", "8003")] == [
        "N14",
        "X..20",
        "N..8",
        "N14+X..16",
    ]
    assert AI_TABLE["3103"].decimals == 3
    assert validate_ai_value("8003", "04012345000221334455") == "04012345000221334455"
    with pytest.raises(GS1SyntaxError) as info:
        validate_ai_value("8003", "04012345000222334455")
    assert info.value.rule == "check_digit"
