"""China's Unified Social Credit Code (统一社会信用代码, GB 32100-2015).

18 characters: registration-authority code (1), organisation-type code (1), administrative
division code (6 digits, GB/T 2260), organisation identifier (9, GB 11714) and a check character
(mod 31). The alphabet omits I, O, Z, S and V so that they are not confused with 1, 0, 2, 5, U.
"""

from __future__ import annotations

from app.gs1.identifiers import GS1SyntaxError

__all__ = ["USCC_CHARSET", "USCC_WEIGHTS", "uscc_check_character", "validate_uscc"]

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3**i mod 31

# GB 32100-2015 Table 1 (registration authorities) with the organisation types each may issue,
# as far as they are fixed; authorities whose type list varies are checked for presence only.
_ORG_TYPES: dict[str, frozenset[str] | None] = {
    "1": frozenset("1239"),  # 机构编制: 机关, 事业单位, 群众团体, 其他
    "2": None,  # 外交
    "3": None,  # 司法行政
    "4": None,  # 文化
    "5": frozenset("1239"),  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": None,  # 旅游
    "7": None,  # 宗教
    "8": None,  # 工会
    "9": frozenset("123"),  # 工商 (市场监管): 企业, 个体工商户, 农民专业合作社
    "A": None,  # 中央军委改革和编制办公室
    "N": None,  # 农业
    "Y": None,  # 其他
}


def uscc_check_character(first17: str) -> str:
    """The check character of a USCC given its first 17 characters (upper case)."""
    total = sum(USCC_CHARSET.index(char) * w for char, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(code: str, field: str = "uscc") -> str:
    """Upper-case and validate an 18-character Unified Social Credit Code; return it.

    Rules: ``length``, ``charset``, ``registration_authority``, ``organization_type``,
    ``division_code`` and ``check_character``.
    """
    value = code.upper()
    if len(value) != 18:
        raise GS1SyntaxError(
            field, "length", f"a Unified Social Credit Code has 18 characters, not {len(value)}"
        )
    for index, char in enumerate(value):
        if char not in USCC_CHARSET:
            raise GS1SyntaxError(
                field,
                "charset",
                f"character {char!r} at position {index + 1} is not allowed "
                "(digits and A-Z without I, O, Z, S, V)",
            )
    authority, org_type = value[0], value[1]
    if authority not in _ORG_TYPES:
        raise GS1SyntaxError(
            field,
            "registration_authority",
            f"{authority!r} is not a registration-authority code (1-9, A, N or Y)",
        )
    allowed = _ORG_TYPES[authority]
    if allowed is not None and org_type not in allowed:
        raise GS1SyntaxError(
            field,
            "organization_type",
            f"organisation type {org_type!r} does not exist under registration authority "
            f"{authority!r} (allowed: {', '.join(sorted(allowed))})",
        )
    if not value[2:8].isdigit():
        raise GS1SyntaxError(
            field,
            "division_code",
            f"characters 3-8 must be a 6-digit administrative division code, not {value[2:8]!r}",
        )
    expected = uscc_check_character(value[:17])
    if value[17] != expected:
        raise GS1SyntaxError(
            field,
            "check_character",
            f"check character is {value[17]!r}, expected {expected!r}",
        )
    return value
