"""The fast JCS path gives exactly the bytes of the rfc8785 reference implementation."""

from __future__ import annotations

import enum
import random
from typing import Any

import pytest
import rfc8785

from app.certificates.dataintegrity import jcs

TRICKY_STRINGS = [
    "",
    "plain",
    'quote " and backslash \\ and slash /',
    "controls \x00\x01\x08\x09\x0a\x0b\x0c\x0d\x1f end",
    "del \x7f and line separators \u2028\u2029",
    "祁门红茶 安吉白茶",
    "private use \ue000\uffff",
    "emoji 😀 astral \U0001f375",
    "é combining e\u0301",
]
TRICKY_KEYS = [
    "a",
    "B",
    "",
    "é",
    "祁",
    "\ue000",
    "😀",
    "\U0001f375",
    "aa",
    "a\x00",
    "\x7f",
    "1",
    "€",
]


class Colour(enum.StrEnum):
    RED = "red"


@pytest.mark.parametrize("value", TRICKY_STRINGS)
def test_strings_match_reference(value: str) -> None:
    assert jcs({"k": value, value or "empty": [value]}) == rfc8785.dumps(
        {"k": value, value or "empty": [value]}
    )


def test_key_order_matches_utf16_ordering() -> None:
    document = {key: index for index, key in enumerate(TRICKY_KEYS)}
    assert jcs(document) == rfc8785.dumps(document)


@pytest.mark.parametrize(
    "value",
    [
        0,
        -0,
        2**53 - 1,
        -(2**53) + 1,
        True,
        False,
        None,
        [],
        {},
        [[], {}, [{}]],
        1.5,
        1.0,
        -0.0,
        1e21,
        Colour.RED,
        {"colour": Colour.RED},
        (1, 2),
    ],
)
def test_scalars_and_fallbacks_match_reference(value: Any) -> None:
    assert jcs(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("value", [2**53, -(2**53), float("nan"), {1: "x"}, {"a": object()}])
def test_values_json_cannot_carry_are_refused_like_the_reference(value: Any) -> None:
    with pytest.raises(rfc8785.CanonicalizationError):
        rfc8785.dumps(value)
    with pytest.raises(rfc8785.CanonicalizationError):
        jcs(value)


def _random_value(rng: random.Random, depth: int) -> Any:
    choice = rng.randrange(7 if depth < 4 else 4)
    if choice == 0:
        return rng.choice(TRICKY_STRINGS) + str(rng.randrange(100))
    if choice == 1:
        return rng.randrange(-(2**53) + 1, 2**53)
    if choice == 2:
        return rng.choice([True, False, None])
    if choice == 3:
        return "".join(chr(rng.randrange(1, 0xD7FF)) for _ in range(rng.randrange(8)))
    if choice in (4, 5):
        return {
            rng.choice(TRICKY_KEYS) + str(rng.randrange(5)): _random_value(rng, depth + 1)
            for _ in range(rng.randrange(6))
        }
    return [_random_value(rng, depth + 1) for _ in range(rng.randrange(5))]


def test_random_documents_match_reference() -> None:
    rng = random.Random(20260101)
    for _ in range(400):
        document = _random_value(rng, 0)
        assert jcs(document) == rfc8785.dumps(document), document


def test_every_character_matches_reference() -> None:
    # The fast path's string escaping, for every code point it is allowed to see (the rest is
    # sent to the reference as a whole document).
    text = "".join(chr(code) for code in range(0xD800))
    for start in range(0, len(text), 512):
        chunk = text[start : start + 512]
        assert jcs({chunk: chunk}) == rfc8785.dumps({chunk: chunk})


def test_deep_nesting_and_lone_surrogates_leave_the_fast_path_like_the_reference() -> None:
    deep: list[Any] = []
    inner = deep
    for _ in range(400):  # deeper than orjson encodes
        inner.append([])
        inner = inner[0]
    assert jcs(deep) == rfc8785.dumps(deep)
    with pytest.raises(rfc8785.CanonicalizationError):
        jcs({"k": "lone \ud800 surrogate"})
