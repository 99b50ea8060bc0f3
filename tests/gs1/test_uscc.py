"""Unified Social Credit Code (GB 32100-2015): real published codes and mutations."""

import pytest

from app.gs1.identifiers import GS1SyntaxError
from app.gs1.uscc import USCC_CHARSET, USCC_WEIGHTS, uscc_check_character, validate_uscc

# Well-known companies' codes as publicly disclosed (annual reports, licence pages). They were
# written down from public sources, not generated: each also passes the mod-31 check, which a
# mistyped code does only with probability 1/31.
PUBLISHED = {
    "91330100716105852F": "阿里巴巴（中国）有限公司",
    "91440300708461136T": "深圳市腾讯计算机系统有限公司",
    "914403001922038216": "华为技术有限公司",
    "91110000710926094P": "中国石油化工股份有限公司",
    "91520000214434146R": "贵州茅台酒股份有限公司",
    "91110108551385082Q": "小米科技有限责任公司",
    "91110000802100433B": "百度在线网络技术（北京）有限公司",
}


@pytest.mark.parametrize("code", sorted(PUBLISHED))
def test_published_codes_are_valid(code: str) -> None:
    assert validate_uscc(code) == code
    assert validate_uscc(code.lower()) == code  # upper-cased on the way in


def test_weights_are_powers_of_three_mod_31() -> None:
    assert tuple(pow(3, i, 31) for i in range(17)) == USCC_WEIGHTS
    assert len(USCC_CHARSET) == 31
    assert not set("IOZSV") & set(USCC_CHARSET)


@pytest.mark.parametrize("code", sorted(PUBLISHED))
def test_every_single_character_substitution_is_refused(code: str) -> None:
    # 31 is prime and no weight is 0 mod 31, so any one substitution changes the check sum
    for position in range(18):
        for char in USCC_CHARSET:
            if char == code[position]:
                continue
            mutated = code[:position] + char + code[position + 1 :]
            with pytest.raises(GS1SyntaxError) as info:
                validate_uscc(mutated)
            assert info.value.rule in {
                "check_character",
                "registration_authority",
                "organization_type",
                "division_code",
            }, mutated


def test_check_character_error_names_the_expected_character() -> None:
    with pytest.raises(GS1SyntaxError) as info:
        validate_uscc("91330100716105852E")
    assert (info.value.field, info.value.rule) == ("uscc", "check_character")
    assert "expected 'F'" in info.value.message
    assert uscc_check_character("91330100716105852") == "F"


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("", "length"),
        ("91330100716105852", "length"),
        ("91330100716105852FF", "length"),
        (" 91330100716105852F", "length"),
        ("91330100716105852I", "charset"),  # I, O, Z, S, V are not used
        ("9133010071610585OF", "charset"),
        ("91330100716105852-", "charset"),
        ("913301007161058５2F", "charset"),  # full-width digit
        ("B1330100716105852F", "registration_authority"),
        ("94330100716105852F", "organization_type"),  # authority 9 issues types 1, 2, 3
        ("913301A0716105852F", "division_code"),
    ],
)
def test_malformed_codes_name_the_rule(code: str, rule: str) -> None:
    with pytest.raises(GS1SyntaxError) as info:
        validate_uscc(code)
    assert info.value.rule == rule, info.value.message


def test_the_check_character_can_be_any_charset_character() -> None:
    # build a code for each possible check character by varying the serial part
    seen = set()
    for n in range(2000):
        body = f"91330100{n:09d}"
        code = body + uscc_check_character(body)
        assert validate_uscc(code) == code
        seen.add(code[-1])
    assert seen == set(USCC_CHARSET)
