"""From raw requests and typed-in codes to validated Digital Links."""

from __future__ import annotations

import pytest

from app.gs1.identifiers import GS1SyntaxError
from app.resolver.links import (
    MAX_QUERY_LENGTH,
    parse_manual_entry,
    parse_request_link,
    raw_request_target,
)

GTIN = "09501101530003"


def test_the_raw_target_keeps_an_encoded_slash() -> None:
    environ = {
        "RAW_URI": f"/01/{GTIN}/10/A%2FB/21/X?17=261231",
        "PATH_INFO": "/ignored",
        "QUERY_STRING": "17=261231",
    }
    path, query = raw_request_target(environ)
    assert path == f"/01/{GTIN}/10/A%2FB/21/X"
    assert parse_request_link(path, query).lot == "A/B"


def test_request_uri_and_absolute_form_targets() -> None:
    assert raw_request_target({"REQUEST_URI": "/01/x%2Fy", "QUERY_STRING": ""})[0] == "/01/x%2Fy"
    absolute = {"RAW_URI": "http://host.example/01/a%2Fb?x=1", "QUERY_STRING": "x=1"}
    assert raw_request_target(absolute) == ("/01/a%2Fb", "x=1")


def test_without_a_raw_target_path_info_is_re_encoded() -> None:
    # WSGI gives text as Latin-1 decoded bytes: a raw UTF-8 character is recovered, then encoded.
    environ = {"PATH_INFO": "/01/ab c/\u00e8\u008c\u00b6", "SCRIPT_NAME": "", "QUERY_STRING": ""}
    assert raw_request_target(environ)[0] == "/01/ab%20c/%E8%8C%B6"


def test_an_unencoded_chinese_lot_is_reported_as_itself() -> None:
    raw = f"/01/{GTIN}/10/茶".encode().decode("latin-1")
    path, query = raw_request_target({"RAW_URI": raw, "QUERY_STRING": ""})
    with pytest.raises(GS1SyntaxError) as caught:
        parse_request_link(path, query)
    assert "'茶'" in caught.value.message


def test_hostile_query_strings_are_refused_before_parsing() -> None:
    with pytest.raises(GS1SyntaxError) as long_query:
        parse_request_link(f"/01/{GTIN}", "x=" + "a" * MAX_QUERY_LENGTH)
    assert long_query.value.rule == "query_too_long"
    with pytest.raises(GS1SyntaxError) as many:
        parse_request_link(f"/01/{GTIN}", "&".join(f"p{i}=1" for i in range(40)))
    assert many.value.rule == "too_many_parameters"


def test_qualifiers_this_resolver_never_issues_are_refused() -> None:
    with pytest.raises(GS1SyntaxError) as caught:
        parse_request_link(f"/01/{GTIN}/22/V1", "")
    assert caught.value.rule == "unsupported_qualifier"


@pytest.mark.parametrize(
    "typed",
    [
        f"https://brand.example.test/01/{GTIN}/10/L1/21/S1",
        f"/01/{GTIN}/10/L1/21/S1",
        f"01/{GTIN}/10/L1/21/S1",
        f"(01){GTIN}(10)L1(21)S1",
        f"  (01){GTIN}(10)L1(21)S1  ",
        # Typed with a Chinese input method in full-width mode.
        f"（０１）{GTIN}（１０）Ｌ１（２１）Ｓ１",
        f"\u3000(01){GTIN}(10)L1(21)S1",
        # A link typed without its scheme.
        f"brand.example.test/01/{GTIN}/10/L1/21/S1",
        f"ｂｒａｎｄ．ｅｘａｍｐｌｅ．ｔｅｓｔ／01／{GTIN}／10／L1／21／S1",
    ],
)
def test_manual_entry_understands_links_paths_and_printed_text(typed) -> None:
    entry = parse_manual_entry(typed, "brand.example.test")
    assert (entry.link.gtin, entry.link.lot, entry.link.serial) == (GTIN, "L1", "S1")
    assert entry.foreign_host is None


def test_manual_entry_from_separate_fields_pads_a_gtin_13() -> None:
    entry = parse_manual_entry("", "brand.example.test", gtin=GTIN[1:], lot="L1", serial="S1")
    assert entry.link.gtin == GTIN and entry.link.serial == "S1"
    assert parse_manual_entry(GTIN[1:], "x").link.gtin == GTIN


def test_a_link_to_another_host_is_flagged() -> None:
    entry = parse_manual_entry(
        f"https://verify-brand.example/01/{GTIN}/21/S1", "brand.example.test"
    )
    assert entry.foreign_host == "verify-brand.example"
    assert entry.link.serial == "S1"


def test_full_width_digits_in_separate_fields_are_read_as_digits() -> None:
    entry = parse_manual_entry(
        None, "brand.example.test", gtin="０６９２３４５６７８９０１２", lot="Ｌ１", serial="Ｓ１"
    )
    assert (entry.link.gtin, entry.link.lot, entry.link.serial) == ("06923456789012", "L1", "S1")


def test_a_link_typed_without_its_scheme_to_another_host_is_flagged() -> None:
    entry = parse_manual_entry(f"verify-brand.example:8443/01/{GTIN}/21/S1", "brand.example.test")
    assert entry.foreign_host == "verify-brand.example" and entry.link.serial == "S1"


@pytest.mark.parametrize(
    ("typed", "fields", "rule"),
    [
        ("hello", {}, "unrecognised"),
        (f"(01){GTIN}(21)S1(21)S2", {}, "duplicate_ai"),
        (f"(01){GTIN}x(21)S1", {}, "numeric"),
        (f"(01){GTIN[:-1]}9(21)S1", {}, "check_digit"),
        ("(01)123", {}, "length"),
        ("", {"gtin": ""}, "required"),
        ("", {"gtin": GTIN, "lot": "批次"}, "charset82"),
        ("x" * 400, {}, "too_long"),
    ],
)
def test_manual_entry_mistakes_are_explained(typed, fields, rule) -> None:
    with pytest.raises(GS1SyntaxError) as caught:
        parse_manual_entry(typed, "brand.example.test", **fields)
    assert caught.value.rule == rule, caught.value.message


@pytest.mark.parametrize("serial", ["ABC123", "A/B", "x%y", "Z-._"])
def test_unit_uris_match_the_traceability_canonical_form(serial) -> None:
    from app.gs1.epc import sgtin_to_digital_link
    from app.resolver.sources import unit_uri

    assert unit_uri(GTIN, serial) == sgtin_to_digital_link(GTIN, serial)


@pytest.mark.parametrize(
    ("typed", "fields"),
    [
        (f"(01){GTIN}(21)w121abc1xwgt2c", {}),
        ("", {"gtin": GTIN, "serial": "w121abc1xwgt2c"}),
        # Crockford's reading: O is 0, I and L are 1.
        ("", {"gtin": GTIN, "serial": "WI2IABCLXWGT2C"}),
    ],
)
def test_a_serial_of_ours_typed_in_lower_case_is_read_as_issued(typed, fields) -> None:
    entry = parse_manual_entry(typed, "brand.example.test", **fields)
    assert entry.link.serial == "W121ABC1XWGT2C"


def test_other_serials_are_taken_as_typed() -> None:
    # Not of the issued form (length, alphabet): case matters in GS1 serials.
    for serial in ("abc", "NoSuchSerial1", "w121abc1xwgt2cu"):
        assert parse_manual_entry(f"(01){GTIN}(21){serial}", "x").link.serial == serial
