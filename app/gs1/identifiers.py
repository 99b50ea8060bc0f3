"""GS1 identification keys and element values (GS1 General Specifications).

Pure functions, standard library only: check digits (GTIN, GLN, SSCC), GS1 AI encodable
character set 82, lot / serial / CPV values and YYMMDD dates. Every refusal is a
:class:`GS1SyntaxError` naming the offending ``field`` and a stable ``rule`` code, so the HTTP
layer can turn it into a problem+json field error without parsing messages.
"""

from __future__ import annotations

import calendar
import string
from collections.abc import Mapping
from datetime import date
from typing import Any

__all__ = [
    "CS82",
    "GS1SyntaxError",
    "compute_check_digit",
    "has_valid_check_digit",
    "normalize_gtin",
    "parse_gs1_date",
    "validate_cpv",
    "validate_cs82",
    "validate_gln",
    "validate_lot",
    "validate_serial",
    "validate_sscc",
]


class GS1SyntaxError(ValueError):
    """A GS1 identifier, element value or URI is malformed.

    ``field`` names what is wrong (``"gtin"``, ``"lot"``, ``"path"``, ``"query.15"``...),
    ``rule`` is a stable machine code (``"check_digit"``, ``"length"``, ``"charset82"``...) and
    ``message`` a sentence for humans saying exactly what is wrong (in English, for developers
    and the API); ``params`` the values in it (``found``, ``expected``, ``min``, ``max``,
    ``char``, ``position``...), so that a page for people can say it in their own language
    from ``rule`` and ``params``.
    """

    def __init__(
        self, field: str, rule: str, message: str, params: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule
        self.message = message
        self.params: Mapping[str, Any] = dict(params or {})

    def __repr__(self) -> str:
        return f"GS1SyntaxError(field={self.field!r}, rule={self.rule!r}, message={self.message!r})"


# GS1 General Specifications Figure 7.11-1: the 82 characters allowed in alphanumeric AIs.
# Deliberately excluded (printable ASCII that is NOT in the set): space # $ @ [ \ ] ^ ` { | } ~
CS82: frozenset[str] = frozenset(
    "!\"%&'()*+,-./"
    + string.digits
    + ":;<=>?"
    + string.ascii_uppercase
    + "_"
    + string.ascii_lowercase
)

_GTIN_LENGTHS = (8, 12, 13, 14)


def _is_ascii_digits(value: str) -> bool:
    # str.isdigit() accepts e.g. Arabic-Indic and full-width digits; GS1 keys are ASCII only.
    return value.isascii() and value.isdigit()


def compute_check_digit(data_digits: str) -> str:
    """Return the GS1 mod-10 check digit for ``data_digits`` (the key without its check digit).

    Weights are 3, 1, 3, ... starting from the rightmost data digit, so the same function serves
    GTIN-8/12/13/14, GLN, SSCC, GSIN, GDTI, GRAI, ...
    """
    if not data_digits or not _is_ascii_digits(data_digits):
        raise GS1SyntaxError("number", "numeric", "a check digit needs at least one digit 0-9")
    # Every other digit from the right weighs 3, the others 1.
    total = 3 * sum(map(int, data_digits[::-2])) + sum(map(int, data_digits[-2::-2]))
    return str(-total % 10)


def has_valid_check_digit(number: str) -> bool:
    """True when the last digit of ``number`` is the GS1 check digit of the digits before it."""
    if len(number) < 2 or not _is_ascii_digits(number):
        return False
    return compute_check_digit(number[:-1]) == number[-1]


def _check_key(value: str, field: str, label: str, lengths: tuple[int, ...]) -> None:
    if not value:
        raise GS1SyntaxError(field, "empty_value", f"{label} is empty")
    if not _is_ascii_digits(value):
        raise GS1SyntaxError(field, "numeric", f"{label} must contain only digits 0-9: {value!r}")
    if len(value) not in lengths:
        allowed = ", ".join(str(n) for n in lengths)
        raise GS1SyntaxError(
            field,
            "length",
            f"{label} must have {allowed} digits, not {len(value)}: {value!r}",
            {"allowed": allowed, "found": len(value)},
        )
    if not has_valid_check_digit(value):
        expected = compute_check_digit(value[:-1])
        raise GS1SyntaxError(
            field,
            "check_digit",
            f"{label} {value} has check digit {value[-1]}, expected {expected}",
            {"found": value[-1], "expected": expected},
        )


def normalize_gtin(value: str, field: str = "gtin") -> str:
    """Validate a GTIN-8, -12, -13 or -14 and return it as 14 digits (left-padded with zeros)."""
    _check_key(value, field, "GTIN", _GTIN_LENGTHS)
    return value.zfill(14)


def validate_gln(value: str, field: str = "gln") -> str:
    """Validate a 13-digit Global Location Number (check digit included) and return it."""
    _check_key(value, field, "GLN", (13,))
    return value


def validate_sscc(value: str, field: str = "sscc") -> str:
    """Validate an 18-digit Serial Shipping Container Code (check digit included) and return it."""
    _check_key(value, field, "SSCC", (18,))
    return value


def validate_cs82(value: str, field: str, max_len: int = 20, *, min_len: int = 1) -> str:
    """Validate an alphanumeric AI value: ``min_len``..``max_len`` characters of GS1 CS82.

    Lengths count characters of the decoded value (not percent-encoded bytes).
    """
    if not value:
        raise GS1SyntaxError(field, "empty_value", f"{field} is empty")
    for index, char in enumerate(value):
        if char not in CS82:
            shown = "a space" if char == " " else repr(char)
            raise GS1SyntaxError(
                field,
                "charset82",
                f"{field} contains {shown} at position {index + 1}, which is not in GS1 "
                "character set 82 (printable ASCII without space and #$@[\\]^`{|}~)",
                {"char": char, "position": index + 1},
            )
    if not min_len <= len(value) <= max_len:
        raise GS1SyntaxError(
            field,
            "length",
            f"{field} must be {min_len} to {max_len} characters long, not {len(value)}",
            {"min": min_len, "max": max_len, "found": len(value)},
        )
    return value


def validate_lot(value: str, field: str = "lot") -> str:
    """Validate a batch/lot number (AI 10): 1 to 20 CS82 characters."""
    return validate_cs82(value, field, 20)


def validate_serial(value: str, field: str = "serial") -> str:
    """Validate a serial number (AI 21): 1 to 20 CS82 characters."""
    return validate_cs82(value, field, 20)


def validate_cpv(value: str, field: str = "cpv") -> str:
    """Validate a consumer product variant (AI 22): 1 to 20 CS82 characters."""
    return validate_cs82(value, field, 20)


def _resolve_century(yy: int, today: date) -> int:
    # GS1 General Specifications 7.12: the year lies within -49..+50 years of the current year.
    current_yy = today.year % 100
    century = today.year - current_yy
    difference = yy - current_yy
    if difference > 50:
        return century - 100 + yy
    if difference < -49:
        return century + 100 + yy
    return century + yy


def parse_gs1_date(
    value: str, field: str = "date", *, allow_day_zero: bool = True, today: date | None = None
) -> date:
    """Decode a GS1 YYMMDD date (AIs 11, 12, 13, 15, 16, 17) into a :class:`datetime.date`.

    The century follows GS1 General Specifications 7.12 relative to ``today`` (default: the
    current date). Day ``00`` means "the last day of that month" when ``allow_day_zero``.
    """
    if not _is_ascii_digits(value):
        raise GS1SyntaxError(
            field, "numeric", f"{field} must be a date YYMMDD of digits: {value!r}"
        )
    if len(value) != 6:
        raise GS1SyntaxError(
            field, "length", f"{field} must be a date YYMMDD of 6 digits, not {len(value)}"
        )
    yy, mm, dd = int(value[:2]), int(value[2:4]), int(value[4:])
    if not 1 <= mm <= 12:
        raise GS1SyntaxError(
            field, "invalid_date", f"{field} {value}: month {mm:02d} does not exist"
        )
    year = _resolve_century(yy, today or date.today())
    last_day = calendar.monthrange(year, mm)[1]
    if dd == 0:
        if not allow_day_zero:
            raise GS1SyntaxError(field, "invalid_date", f"{field} {value}: day 00 is not allowed")
        return date(year, mm, last_day)
    if dd > last_day:
        raise GS1SyntaxError(
            field,
            "invalid_date",
            f"{field} {value}: {year}-{mm:02d} has {last_day} days, there is no day {dd:02d}",
        )
    return date(year, mm, dd)
