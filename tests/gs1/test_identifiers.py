"""GS1 keys, CS82 and dates: published check-digit vectors plus property-style mutations."""

import json
import string
from collections.abc import Callable
from datetime import date

import pytest

from app.gs1.identifiers import (
    CS82,
    GS1SyntaxError,
    compute_check_digit,
    has_valid_check_digit,
    normalize_gtin,
    parse_gs1_date,
    validate_cpv,
    validate_cs82,
    validate_gln,
    validate_lot,
    validate_serial,
    validate_sscc,
)
from tests.vectors import vector_path

CHECK_DIGIT_CASES = json.loads(vector_path("gs1-digital-link.json").read_text("utf-8"))[
    "check_digits"
]


@pytest.mark.parametrize("case", CHECK_DIGIT_CASES, ids=lambda c: c["number"])
def test_published_check_digit_vectors(case: dict[str, object]) -> None:
    number = str(case["number"])
    assert has_valid_check_digit(number) is case["valid"]
    # the computed digit agrees with the vector's verdict, whatever the length
    assert (compute_check_digit(number[:-1]) == number[-1]) is case["valid"]


def test_check_digit_weights_start_from_the_rightmost_data_digit() -> None:
    # GS1 General Specifications worked example: GTIN-13 629104150021 -> 3
    assert compute_check_digit("629104150021") == "3"
    # the same data padded with zeros keeps its check digit (weights anchor on the right)
    assert compute_check_digit("0629104150021") == "3"
    assert compute_check_digit("0000000000000") == "0"


def test_check_digit_needs_ascii_digits() -> None:
    assert not has_valid_check_digit("")
    assert not has_valid_check_digit("4")
    assert not has_valid_check_digit("٠٢٣٤٥٦٧٣")  # Arabic-Indic digits are not GS1 digits
    with pytest.raises(GS1SyntaxError) as info:
        compute_check_digit("12a")
    assert info.value.rule == "numeric"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("02345673", "00000002345673"),  # GTIN-8
        ("416000336108", "00416000336108"),  # GTIN-12 (UPC-A)
        ("1234567890128", "01234567890128"),  # GTIN-13
        ("12345678901231", "12345678901231"),  # GTIN-14
    ],
)
def test_normalize_gtin_pads_every_gtin_length_to_14(given: str, expected: str) -> None:
    assert normalize_gtin(given) == expected


@pytest.mark.parametrize(
    ("given", "rule"),
    [
        ("", "empty_value"),
        ("1234567", "length"),
        ("123456789", "length"),
        ("123456789012345", "length"),
        ("0952012345678A", "numeric"),
        (" 9520123456788", "numeric"),
        ("０９５２０１２３４５６７８８", "numeric"),  # full-width digits
        ("09520123456789", "check_digit"),
    ],
)
def test_normalize_gtin_refusals_name_the_rule(given: str, rule: str) -> None:
    with pytest.raises(GS1SyntaxError) as info:
        normalize_gtin(given)
    assert info.value.field == "gtin"
    assert info.value.rule == rule
    assert str(info.value)  # a human message is always present


def test_check_digit_error_message_says_what_was_expected() -> None:
    with pytest.raises(GS1SyntaxError, match="has check digit 9, expected 8"):
        normalize_gtin("09520123456789")


@pytest.mark.parametrize("valid", ["09520123456788", "1234567890128", "02345673"])
def test_every_single_digit_mutation_of_a_gtin_is_refused(valid: str) -> None:
    for position in range(len(valid)):
        for digit in string.digits:
            if digit == valid[position]:
                continue
            mutated = valid[:position] + digit + valid[position + 1 :]
            with pytest.raises(GS1SyntaxError) as info:
                normalize_gtin(mutated)
            assert info.value.rule == "check_digit", mutated


def test_adjacent_transpositions_of_unequal_digits_are_mostly_caught() -> None:
    # mod 10 with weights 3/1 misses a transposition only when the digits differ by 5
    valid = "09520123456788"
    for i in range(len(valid) - 1):
        a, b = valid[i], valid[i + 1]
        if a == b:
            continue
        swapped = valid[:i] + b + a + valid[i + 2 :]
        assert has_valid_check_digit(swapped) is (abs(int(a) - int(b)) == 5)


def test_gln_and_sscc() -> None:
    assert validate_gln("4012345000054") == "4012345000054"
    assert validate_sscc("106141412345678908") == "106141412345678908"
    with pytest.raises(GS1SyntaxError) as info:
        validate_gln("4012345000055")
    assert (info.value.field, info.value.rule) == ("gln", "check_digit")
    with pytest.raises(GS1SyntaxError) as info:
        validate_gln("09520123456788")  # a GTIN-14 is not a GLN
    assert info.value.rule == "length"
    with pytest.raises(GS1SyntaxError) as info:
        validate_sscc("06141412345678908")
    assert (info.value.field, info.value.rule) == ("sscc", "length")


def test_cs82_is_exactly_the_gs1_figure_7_11_1_set() -> None:
    assert len(CS82) == 82
    printable_ascii = {chr(c) for c in range(0x20, 0x7F)}
    assert printable_ascii - CS82 == set(" #$@[\\]^`{|}~")
    assert CS82.issubset(printable_ascii)


@pytest.mark.parametrize("char", sorted(set(" #$@[\\]^`{|}~") | {"一", "é", "\t", "\x00"}))
def test_characters_outside_cs82_are_refused(char: str) -> None:
    with pytest.raises(GS1SyntaxError) as info:
        validate_cs82(f"AB{char}C", "lot")
    assert (info.value.field, info.value.rule) == ("lot", "charset82")
    assert "position 3" in info.value.message


def test_every_cs82_character_is_accepted() -> None:
    everything = "".join(sorted(CS82))
    for start in range(0, len(everything), 20):
        chunk = everything[start : start + 20]
        assert validate_cs82(chunk, "serial") == chunk


@pytest.mark.parametrize("validator", [validate_lot, validate_serial, validate_cpv])
def test_lot_serial_cpv_are_1_to_20_characters(validator: Callable[[str], str]) -> None:
    assert validator("A") == "A"
    assert validator("X" * 20) == "X" * 20
    with pytest.raises(GS1SyntaxError) as info:
        validator("X" * 21)
    assert info.value.rule == "length"
    with pytest.raises(GS1SyntaxError) as info:
        validator("")
    assert info.value.rule == "empty_value"


def test_dates_use_the_gs1_century_rule() -> None:
    today = date(2025, 6, 1)
    assert parse_gs1_date("250601", today=today) == date(2025, 6, 1)
    assert parse_gs1_date("750101", today=today) == date(2075, 1, 1)  # +50: this century
    assert parse_gs1_date("760101", today=today) == date(1976, 1, 1)  # +51: previous century
    assert parse_gs1_date("000101", today=date(2060, 1, 1)) == date(2100, 1, 1)  # -60: next
    assert parse_gs1_date("110101", today=date(2060, 1, 1)) == date(2011, 1, 1)  # -49: this


def test_day_00_means_the_last_day_of_the_month() -> None:
    today = date(2025, 1, 1)
    assert parse_gs1_date("261200", today=today) == date(2026, 12, 31)
    assert parse_gs1_date("240200", today=today) == date(2024, 2, 29)  # leap year
    assert parse_gs1_date("250200", today=today) == date(2025, 2, 28)
    with pytest.raises(GS1SyntaxError) as info:
        parse_gs1_date("261200", "expiry", allow_day_zero=False, today=today)
    assert (info.value.field, info.value.rule) == ("expiry", "invalid_date")


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("230230", "invalid_date"),  # 30 February
        ("250229", "invalid_date"),  # 2025 is not a leap year
        ("251301", "invalid_date"),
        ("250001", "invalid_date"),
        ("250431", "invalid_date"),
        ("25011", "length"),
        ("2501011", "length"),
        ("25O101", "numeric"),
    ],
)
def test_impossible_dates_are_refused(value: str, rule: str) -> None:
    with pytest.raises(GS1SyntaxError) as info:
        parse_gs1_date(value, "bestBefore", today=date(2025, 1, 1))
    assert (info.value.field, info.value.rule) == ("bestBefore", rule)


def test_error_is_a_value_error_with_field_rule_and_message() -> None:
    error = GS1SyntaxError("lot", "length", "lot is too long")
    assert isinstance(error, ValueError)
    assert (error.field, error.rule, str(error)) == ("lot", "length", "lot is too long")
    assert "rule='length'" in repr(error)
