"""GS1 Digital Link URIs (GS1 Digital Link standard: URI syntax 1.x): parse, validate, build.

A Digital Link URI is ``https://<any host>[/<prefix>]/<primary key AI>/<value>`` followed by the
key qualifiers of that key in their fixed order (for a GTIN: ``/22/<cpv>``, ``/10/<lot>``,
``/21/<serial>``, or the exclusive alternative ``/235/<tpx>``) and data attributes in the query
string (``?17=261231``). Other query parameters (``linkType``, ``context``, ``lang``...) are kept
for the resolver.

Pure module: standard library only. Refusals are :class:`GS1SyntaxError` with a field, a stable
rule code and a message saying exactly what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlsplit

from app.gs1.identifiers import (
    GS1SyntaxError,
    compute_check_digit,
    has_valid_check_digit,
    normalize_gtin,
    parse_gs1_date,
    validate_cs82,
)

__all__ = [
    "AI_TABLE",
    "GS1_RESOLVER",
    "AIDefinition",
    "AIRole",
    "DigitalLink",
    "DigitalLinkElements",
    "build_digital_link",
    "build_path_uri",
    "encode_dl_value",
    "parse_digital_link",
    "parse_digital_link_elements",
    "validate_ai_value",
]

#: Base of canonical GS1 Digital Link URIs (EPCIS / CBV 2.0 use this host).
GS1_RESOLVER = "https://id.gs1.org"


class AIRole(StrEnum):
    """Where an Application Identifier may appear in a Digital Link URI."""

    PRIMARY_KEY = "primary_key"  # first path element
    KEY_QUALIFIER = "key_qualifier"  # later path elements, in a fixed order
    DATA_ATTRIBUTE = "data_attribute"  # query string only


@dataclass(frozen=True)
class AIDefinition:
    """One Application Identifier: its format and its role in Digital Link URIs."""

    code: str
    title: str
    role: AIRole
    #: human field name used in errors for path elements ("gtin", "lot", ...)
    name: str
    #: "N" digits, "X" CS82 characters, or "N14+X" (GRAI: 14 digits then up to 16 CS82)
    charset: str
    min_len: int
    max_len: int
    check_digit: bool = False
    is_date: bool = False
    #: implied decimal places (AIs 310n, 330n...: n is the number of decimals)
    decimals: int | None = None
    #: for a primary key, the alternative chains of key qualifiers, each in its required order
    qualifier_chains: tuple[tuple[str, ...], ...] = ()

    @property
    def format(self) -> str:
        """The format as written in the GS1 General Specifications, e.g. ``N14`` or ``X..20``."""
        if self.charset == "N14+X":
            return f"N14+X..{self.max_len - 14}"
        if self.min_len == self.max_len:
            return f"{self.charset}{self.max_len}"
        return f"{self.charset}..{self.max_len}"


def _ai(code: str, title: str, role: AIRole, name: str, fmt: str, **kw: Any) -> AIDefinition:
    # "N14" fixed digits, "N..8" up to 8 digits, "X..20" up to 20 CS82 characters
    match = re.fullmatch(r"(N|X)(\.\.)?(\d+)", fmt)
    if match is None:
        raise ValueError(f"bad AI format {fmt}")
    charset, variable, length = match.group(1), match.group(2), int(match.group(3))
    return AIDefinition(
        code,
        title,
        role,
        name,
        charset,
        1 if variable else length,
        length,
        **kw,
    )


_P, _Q, _D = AIRole.PRIMARY_KEY, AIRole.KEY_QUALIFIER, AIRole.DATA_ATTRIBUTE

_DEFINITIONS: list[AIDefinition] = [
    _ai("00", "SSCC", _P, "sscc", "N18", check_digit=True),
    _ai(
        "01",
        "GTIN",
        _P,
        "gtin",
        "N14",
        check_digit=True,
        qualifier_chains=(("22", "10", "21"), ("235",)),
    ),
    _ai("414", "LOC No.", _P, "gln", "N13", check_digit=True, qualifier_chains=(("254",),)),
    _ai("417", "PARTY", _P, "party", "N13", check_digit=True),
    AIDefinition("8003", "GRAI", _P, "grai", "N14+X", 14, 30, check_digit=True),
    _ai("8004", "GIAI", _P, "giai", "X..30"),
    _ai("10", "BATCH/LOT", _Q, "lot", "X..20"),
    _ai("21", "SERIAL", _Q, "serial", "X..20"),
    _ai("22", "CPV", _Q, "cpv", "X..20"),
    _ai("235", "TPX", _Q, "tpx", "X..28"),
    _ai("254", "GLN EXTENSION COMPONENT", _Q, "glnExtension", "X..20"),
    _ai("11", "PROD DATE", _D, "productionDate", "N6", is_date=True),
    _ai("12", "DUE DATE", _D, "dueDate", "N6", is_date=True),
    _ai("13", "PACK DATE", _D, "packagingDate", "N6", is_date=True),
    _ai("15", "BEST BEFORE or BEST BY", _D, "bestBeforeDate", "N6", is_date=True),
    _ai("16", "SELL BY", _D, "sellByDate", "N6", is_date=True),
    _ai("17", "USE BY or EXPIRY", _D, "expirationDate", "N6", is_date=True),
    _ai("20", "VARIANT", _D, "variant", "N2"),
    _ai("30", "VAR. COUNT", _D, "variableCount", "N..8"),
    _ai("37", "COUNT", _D, "count", "N..8"),
    _ai("240", "ADDITIONAL ID", _D, "additionalId", "X..30"),
    _ai("241", "CUST. PART No.", _D, "customerPartNumber", "X..30"),
    _ai("250", "SECONDARY SERIAL", _D, "secondarySerial", "X..30"),
    _ai("400", "ORDER NUMBER", _D, "orderNumber", "X..30"),
    _ai("422", "ORIGIN", _D, "countryOfOrigin", "N3"),
    _ai("7003", "EXPIRY TIME", _D, "expiryTime", "N10"),
    _ai("8200", "PRODUCT URL", _D, "productUrl", "X..70"),
    _ai("90", "INTERNAL", _D, "internal90", "X..30"),
]
# Trade measures with an implied decimal point: the 4th digit of the AI is the number of decimals.
for _n in range(6):
    _DEFINITIONS += [
        _ai(f"310{_n}", "NET WEIGHT (kg)", _D, "netWeightKg", "N6", decimals=_n),
        _ai(f"311{_n}", "LENGTH (m)", _D, "lengthM", "N6", decimals=_n),
        _ai(f"330{_n}", "GROSS WEIGHT (kg)", _D, "grossWeightKg", "N6", decimals=_n),
    ]
for _n in range(91, 100):
    _DEFINITIONS.append(_ai(str(_n), "INTERNAL", _D, f"internal{_n}", "X..90"))

#: Application Identifiers this package understands, by code.
AI_TABLE: Mapping[str, AIDefinition] = MappingProxyType({d.code: d for d in _DEFINITIONS})

_PRIMARY_KEYS = frozenset(code for code, d in AI_TABLE.items() if d.role is AIRole.PRIMARY_KEY)


def _describe(ai: str) -> str:
    definition = AI_TABLE.get(ai)
    return f"AI {ai} ({definition.title})" if definition else f"AI {ai}"


def validate_ai_value(
    ai: str, value: str, field: str | None = None, *, today: date | None = None
) -> str:
    """Check ``value`` (already percent-decoded) against the format of ``ai``; return it.

    ``field`` defaults to the AI's name (``"lot"``, ``"gtin"``...). Dates are checked for
    existence (century per GS1 General Specifications 7.12 relative to ``today``).
    """
    definition = AI_TABLE.get(ai)
    if definition is None:
        raise GS1SyntaxError(field or f"ai.{ai}", "unknown_ai", f"AI {ai} is not a known GS1 AI")
    name = field or definition.name
    label = f"{_describe(ai)} value"
    if not value:
        raise GS1SyntaxError(name, "empty_value", f"{label} is empty")
    if definition.charset == "X":
        try:
            return validate_cs82(value, name, definition.max_len)
        except GS1SyntaxError as error:
            raise GS1SyntaxError(
                name, error.rule, f"{_describe(ai)}: {error.message}", error.params
            ) from None
    digits = value[:14] if definition.charset == "N14+X" else value
    if not (digits.isascii() and digits.isdigit()):
        raise GS1SyntaxError(name, "numeric", f"{label} must be digits 0-9: {value!r}")
    if definition.charset == "N14+X":
        if len(value) < 14:
            raise GS1SyntaxError(name, "length", f"{label} must start with 14 digits")
        if len(value) > 14:
            validate_cs82(value[14:], name, definition.max_len - 14)
    elif not definition.min_len <= len(value) <= definition.max_len:
        expected = (
            f"exactly {definition.max_len}"
            if definition.min_len == definition.max_len
            else f"1 to {definition.max_len}"
        )
        raise GS1SyntaxError(
            name,
            "length",
            f"{label} must have {expected} digits, not {len(value)}: {value!r}",
            {"min": definition.min_len, "max": definition.max_len, "found": len(value)},
        )
    if definition.check_digit and not has_valid_check_digit(digits):
        raise GS1SyntaxError(
            name,
            "check_digit",
            f"{label} {digits} has check digit {digits[-1]}, "
            f"expected {compute_check_digit(digits[:-1])}",
            {"found": digits[-1], "expected": compute_check_digit(digits[:-1])},
        )
    if definition.is_date:
        parse_gs1_date(value, name, today=today)
    return value


# --- percent-encoding -------------------------------------------------------------------------

# RFC 3986 pchar without pct-encoded: unreserved / sub-delims / ":" / "@"
_PCHAR = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@"
)
_QUERY_CHARS = _PCHAR | frozenset("/?")
_HEX = frozenset("0123456789abcdefABCDEF")


def _decode(raw: str, field: str, allowed: frozenset[str]) -> str:
    """Strictly percent-decode one URI component (UTF-8), refusing characters a URI cannot hold."""
    out = bytearray()
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "%":
            pair = raw[index + 1 : index + 3]
            if len(pair) != 2 or not set(pair) <= _HEX:
                raise GS1SyntaxError(
                    field,
                    "percent_encoding",
                    f"{field}: '%' at position {index + 1} is not followed by two hex digits",
                )
            out.append(int(pair, 16))
            index += 3
            continue
        if char not in allowed:
            encoded = quote(char, safe="")
            raise GS1SyntaxError(
                field,
                "uri_syntax",
                f"{field}: character {char!r} is not allowed in a URI; percent-encode it as "
                f"{encoded}",
                {"char": char},
            )
        out.append(ord(char))
        index += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise GS1SyntaxError(
            field, "percent_encoding", f"{field}: percent-encoded bytes are not valid UTF-8"
        ) from None


def encode_dl_value(value: str) -> str:
    """Percent-encode a Digital Link path or query value: all but ``A-Za-z0-9-._~``."""
    return quote(value, safe="")


# --- parsed forms -----------------------------------------------------------------------------


def _frozen() -> Mapping[str, Any]:
    # read-only empty mapping: the dataclasses are frozen, their mappings should be too
    return MappingProxyType({})


@dataclass(frozen=True)
class DigitalLinkElements:
    """Any GS1-keyed Digital Link URI, decoded: primary key, path qualifiers, data attributes."""

    primary_ai: str
    primary_value: str
    #: key qualifiers from the path, in URI order: ((ai, decoded value), ...)
    qualifiers: tuple[tuple[str, str], ...] = ()
    #: data attributes from the query: AI -> decoded value (query order)
    data: Mapping[str, str] = field(default_factory=_frozen)
    #: data attributes that are dates, decoded (day 00 -> last day of the month)
    dates: Mapping[str, date] = field(default_factory=_frozen)
    #: data attributes with an implied decimal point (310n...), decoded
    measures: Mapping[str, Decimal] = field(default_factory=_frozen)
    #: non-AI query parameters (linkType, context, lang...), decoded, in order
    other_params: tuple[tuple[str, str], ...] = ()
    #: True when a GTIN-8/12/13 was accepted and padded (only with ``allow_short_gtin``)
    gtin_was_padded: bool = False

    def canonical_path(self) -> str:
        """The percent-encoded path: primary key then qualifiers, e.g. ``/414/.../254/1``."""
        parts = [(self.primary_ai, self.primary_value), *self.qualifiers]
        return "".join(f"/{ai}/{encode_dl_value(value)}" for ai, value in parts)

    def ais(self) -> dict[str, str]:
        """All AIs (path then query) mapped to their decoded values."""
        return {self.primary_ai: self.primary_value, **dict(self.qualifiers), **self.data}


@dataclass(frozen=True)
class DigitalLink:
    """A GTIN-keyed GS1 Digital Link (primary key AI 01), decoded."""

    gtin: str
    cpv: str | None = None
    lot: str | None = None
    serial: str | None = None
    tpx: str | None = None
    #: data attributes from the query: AI -> decoded raw value
    data: Mapping[str, str] = field(default_factory=_frozen)
    dates: Mapping[str, date] = field(default_factory=_frozen)
    measures: Mapping[str, Decimal] = field(default_factory=_frozen)
    other_params: tuple[tuple[str, str], ...] = ()
    #: True when a GTIN-8/12/13 was accepted and padded (only with ``allow_short_gtin``)
    gtin_was_padded: bool = False

    def qualifiers(self) -> tuple[tuple[str, str], ...]:
        """The key qualifiers present, in canonical path order."""
        pairs = (("22", self.cpv), ("10", self.lot), ("21", self.serial), ("235", self.tpx))
        return tuple((ai, value) for ai, value in pairs if value is not None)

    def canonical_path(self) -> str:
        """Canonical path ``/01/<gtin14>[/22/..][/10/..][/21/..]`` (or ``/235/..``), encoded."""
        parts = [("01", self.gtin), *self.qualifiers()]
        return "".join(f"/{ai}/{encode_dl_value(value)}" for ai, value in parts)

    def ais(self) -> dict[str, str]:
        """All AIs (path then query) mapped to their decoded values."""
        return {"01": self.gtin, **dict(self.qualifiers()), **self.data}

    def to_uri(self, base_url: str = GS1_RESOLVER, *, include_data: bool = True) -> str:
        """This link on ``base_url`` (default ``https://id.gs1.org``), data attributes optional."""
        return build_digital_link(
            base_url,
            self.gtin,
            cpv=self.cpv,
            lot=self.lot,
            serial=self.serial,
            tpx=self.tpx,
            data=self.data if include_data else None,
        )


# --- parsing ----------------------------------------------------------------------------------


def _split_uri(uri_or_path: str) -> tuple[str, str]:
    """Return (raw path, raw query) of a full http(s) URI or of a bare path[?query]."""
    if re.match(r"(?i)https?://", uri_or_path):
        parts = urlsplit(uri_or_path)
        if not parts.netloc:
            raise GS1SyntaxError("uri", "uri_syntax", "the URI has no host")
        return parts.path, parts.query
    if not uri_or_path.startswith("/"):
        raise GS1SyntaxError(
            "uri",
            "uri_syntax",
            "expected an http(s) URI or a path starting with '/', e.g. /01/09520123456788",
        )
    path, _, query = uri_or_path.partition("?")
    return path, query.partition("#")[0]


def _check_qualifiers(primary: str, qualifiers: list[tuple[str, str]]) -> tuple[str, ...] | None:
    """Check the order of path qualifiers; return the qualifier chain in use (None if none)."""
    chains = AI_TABLE[primary].qualifier_chains
    allowed = " or ".join(", ".join(chain) for chain in chains) if chains else "none"
    chain: tuple[str, ...] | None = None
    last_index = -1
    previous = primary
    for ai, _ in qualifiers:
        if chain is None:
            chain = next((c for c in chains if ai in c), None)
            if chain is None:
                raise GS1SyntaxError(
                    "path",
                    "invalid_qualifier",
                    f"{_describe(ai)} is not a key qualifier of {_describe(primary)} "
                    f"(allowed: {allowed})",
                )
        if ai not in chain:
            in_other_chain = any(ai in c for c in chains)
            raise GS1SyntaxError(
                "path",
                "qualifier_order" if in_other_chain else "invalid_qualifier",
                f"{_describe(ai)} may not follow {_describe(previous)} in the path: "
                f"the key qualifiers of {_describe(primary)} are {allowed}"
                + (", and the alternatives exclude each other" if in_other_chain else ""),
            )
        index = chain.index(ai)
        if index <= last_index:
            raise GS1SyntaxError(
                "path",
                "qualifier_order",
                f"key qualifiers out of order: {_describe(ai)} may not follow "
                f"{_describe(previous)}; the order is {', '.join(chain)}",
            )
        last_index, previous = index, ai
    return chain


def parse_digital_link_elements(
    uri_or_path: str, *, today: date | None = None, allow_short_gtin: bool = False
) -> DigitalLinkElements:
    """Parse any GS1-keyed Digital Link URI (on any host, or a bare path[?query]).

    Understands the primary keys in :data:`AI_TABLE` (00, 01, 414, 417, 8003, 8004). A path
    prefix before the primary key is allowed and ignored, as is one trailing slash.
    ``allow_short_gtin`` pads GTIN-8/12/13 in AI 01 instead of refusing them (the standard
    wants 14 digits in a URI).
    """
    raw_path, raw_query = _split_uri(uri_or_path)
    segments = raw_path.split("/")[1:]
    start = next((i for i, seg in enumerate(segments) if seg in _PRIMARY_KEYS), None)
    if start is None:
        raise GS1SyntaxError(
            "path",
            "primary_key",
            "no GS1 primary key in the path (expected e.g. /01/<GTIN-14>)",
        )
    elements = segments[start:]
    if len(elements) % 2 == 1 and elements[-1] == "":
        elements = elements[:-1]  # one trailing slash is tolerated
    if len(elements) % 2 == 1:
        raise GS1SyntaxError(
            "path", "path_structure", f"{_describe(elements[-1])} in the path has no value"
        )

    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for position in range(0, len(elements), 2):
        ai, raw_value = elements[position], elements[position + 1]
        definition = AI_TABLE.get(ai)
        if definition is None:
            raise GS1SyntaxError(
                "path",
                "unknown_ai",
                f"path element {ai!r} is not a GS1 AI that may appear in a Digital Link path",
            )
        if definition.role is AIRole.DATA_ATTRIBUTE:
            raise GS1SyntaxError(
                "path",
                "data_ai_in_path",
                f"{_describe(ai)} is a data attribute: it belongs in the query string "
                f"(?{ai}=...), not in the path",
            )
        if position > 0 and definition.role is AIRole.PRIMARY_KEY:
            raise GS1SyntaxError(
                "path",
                "invalid_qualifier",
                f"{_describe(ai)} is a primary key; a Digital Link path has exactly one",
            )
        if ai in seen:
            raise GS1SyntaxError("path", "duplicate_ai", f"{_describe(ai)} appears twice")
        seen.add(ai)
        value = _decode(raw_value, definition.name, _PCHAR)
        pairs.append((ai, value))

    primary_ai, primary_value = pairs[0]
    chain = _check_qualifiers(primary_ai, pairs[1:])
    gtin_was_padded = False
    if primary_ai == "01" and allow_short_gtin:
        gtin_was_padded = len(primary_value) != 14
        primary_value = normalize_gtin(primary_value)
    elif (
        primary_ai == "01"
        and primary_value.isascii()
        and primary_value.isdigit()
        and len(primary_value) in (8, 12, 13)
    ):
        raise GS1SyntaxError(
            "gtin",
            "length",
            f"AI 01 (GTIN) must have 14 digits in a Digital Link URI, not "
            f"{len(primary_value)}: pad it with leading zeros "
            f"({primary_value.zfill(14)})",
        )
    validate_ai_value(primary_ai, primary_value)
    for ai, value in pairs[1:]:
        validate_ai_value(ai, value)

    data: dict[str, str] = {}
    dates: dict[str, date] = {}
    measures: dict[str, Decimal] = {}
    other: list[tuple[str, str]] = []
    in_use = (
        set(chain)
        if chain is not None
        else {ai for c in AI_TABLE[primary_ai].qualifier_chains for ai in c}
    )
    for part in raw_query.split("&") if raw_query else []:
        if not part:
            continue  # "a=1&&b=2": empty pairs carry nothing
        raw_key, _, raw_value = part.partition("=")
        key = _decode(raw_key, "query", _QUERY_CHARS)
        if not (key.isascii() and key.isdigit()):
            other.append((key, _decode(raw_value, f"query.{key}", _QUERY_CHARS)))
            continue
        name = f"query.{key}"
        value = _decode(raw_value, name, _QUERY_CHARS)
        if not value:
            raise GS1SyntaxError(name, "empty_value", f"{_describe(key)} in the query is empty")
        definition = AI_TABLE.get(key)
        if definition is None:
            raise GS1SyntaxError(name, "unknown_ai", f"query parameter {key} is not a known GS1 AI")
        if key in seen:
            raise GS1SyntaxError(name, "duplicate_ai", f"{_describe(key)} appears twice")
        seen.add(key)
        if definition.role is AIRole.PRIMARY_KEY:
            raise GS1SyntaxError(
                name,
                "key_in_query",
                f"{_describe(key)} is a primary key: it belongs at the start of the path",
            )
        if key in in_use:
            raise GS1SyntaxError(
                name,
                "qualifier_in_query",
                f"{_describe(key)} is a key qualifier of {_describe(primary_ai)}: it belongs in "
                f"the path (/{primary_ai}/.../{key}/...), not in the query",
            )
        validate_ai_value(key, value, name, today=today)
        data[key] = value
        if definition.is_date:
            dates[key] = parse_gs1_date(value, name, today=today)
        if definition.decimals is not None:
            measures[key] = Decimal(int(value)).scaleb(-definition.decimals)

    return DigitalLinkElements(
        primary_ai=primary_ai,
        primary_value=primary_value,
        qualifiers=tuple(pairs[1:]),
        data=MappingProxyType(data),
        dates=MappingProxyType(dates),
        measures=MappingProxyType(measures),
        other_params=tuple(other),
        gtin_was_padded=gtin_was_padded,
    )


def parse_digital_link(
    uri_or_path: str, *, today: date | None = None, allow_short_gtin: bool = False
) -> DigitalLink:
    """Parse a GTIN (AI 01) Digital Link URI on any host, or a bare path[?query].

    Refuses, with a :class:`GS1SyntaxError`, anything the GS1 Digital Link URI syntax forbids:
    qualifiers out of order, data attributes in the path, key qualifiers in the query, unknown
    AIs, duplicates, empty values, bad percent-encoding, bad check digits, impossible dates,
    characters outside GS1 character set 82 and over-long values. ``today`` fixes the reference
    date for the century of YYMMDD dates (default: today).
    """
    elements = parse_digital_link_elements(
        uri_or_path, today=today, allow_short_gtin=allow_short_gtin
    )
    if elements.primary_ai != "01":
        raise GS1SyntaxError(
            "path",
            "primary_key",
            f"expected a GTIN (AI 01) Digital Link, got {_describe(elements.primary_ai)}",
        )
    qualifiers = dict(elements.qualifiers)
    return DigitalLink(
        gtin=elements.primary_value,
        cpv=qualifiers.get("22"),
        lot=qualifiers.get("10"),
        serial=qualifiers.get("21"),
        tpx=qualifiers.get("235"),
        data=elements.data,
        dates=elements.dates,
        measures=elements.measures,
        other_params=elements.other_params,
        gtin_was_padded=elements.gtin_was_padded,
    )


# --- building ---------------------------------------------------------------------------------


def _check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise GS1SyntaxError(
            "base_url", "uri_syntax", f"base URL must be http(s)://host[/prefix]: {base_url!r}"
        )
    if parts.query or parts.fragment:
        raise GS1SyntaxError(
            "base_url", "uri_syntax", "base URL may not carry a query string or fragment"
        )
    return base_url.rstrip("/")


def build_path_uri(
    base_url: str, path_elements: list[tuple[str, str]], data: Mapping[str, str] | None = None
) -> str:
    """Join ``base_url``, encoded ``/ai/value`` path elements and an encoded data query."""
    uri = _check_base_url(base_url) + "".join(
        f"/{ai}/{encode_dl_value(value)}" for ai, value in path_elements
    )
    if data:
        uri += "?" + "&".join(f"{ai}={encode_dl_value(value)}" for ai, value in data.items())
    return uri


def build_digital_link(
    base_url: str,
    gtin: str,
    *,
    cpv: str | None = None,
    lot: str | None = None,
    serial: str | None = None,
    tpx: str | None = None,
    data: Mapping[str, str] | None = None,
    today: date | None = None,
) -> str:
    """Build a GTIN Digital Link URI on ``base_url`` (which may have a path prefix).

    The GTIN is validated and padded to 14 digits; qualifiers are validated and written in the
    order 22, 10, 21 (or 235 alone); ``data`` attributes (AI -> value) go into the query in
    ascending AI order. Everything but ``A-Za-z0-9-._~`` is percent-encoded.
    """
    path: list[tuple[str, str]] = [("01", normalize_gtin(gtin))]
    chain = [("22", cpv), ("10", lot), ("21", serial)]
    if tpx is not None:
        used = [ai for ai, value in chain if value is not None]
        if used:
            raise GS1SyntaxError(
                "tpx",
                "qualifier_order",
                f"AI 235 (TPX) is an exclusive alternative to 22/10/21 but AI {used[0]} was also "
                "given; pass it as a data attribute instead",
            )
        chain = [("235", tpx)]
    for ai, value in chain:
        if value is not None:
            path.append((ai, validate_ai_value(ai, value)))
    in_path = {ai for ai, _ in chain}
    query: dict[str, str] = {}
    for ai in sorted(data or {}):
        value = (data or {})[ai]
        name = f"query.{ai}"
        definition = AI_TABLE.get(ai)
        if definition is None:
            raise GS1SyntaxError(name, "unknown_ai", f"AI {ai} is not a known GS1 AI")
        if definition.role is AIRole.PRIMARY_KEY:
            raise GS1SyntaxError(name, "key_in_query", f"{_describe(ai)} is a primary key")
        if ai in in_path:
            raise GS1SyntaxError(
                name,
                "qualifier_in_query",
                f"{_describe(ai)} is a key qualifier of AI 01: pass it as a keyword argument",
            )
        query[ai] = validate_ai_value(ai, value, name, today=today)
    return build_path_uri(base_url, path, query)
