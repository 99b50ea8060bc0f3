"""EPCIS 2.0 event hash ID (GS1 CBV 2.0 section 8.9, "Event Hash ID").

The hash ID identifies an event by its content, independent of its syntax (XML or JSON-LD), of
property order, of the way identifiers and vocabulary are written, and of the time zone in which
times are given. The algorithm builds a *pre-hash string*:

* ``eventType=<type>``, then the standard properties in the canonical CBV order
  (``eventTime``, ``eventTimeZoneOffset``, ``certificationInfo``, ``epcList``, ``parentID``, ...,
  ``sensorElementList``, ``ilmd``), then user extensions; each scalar as ``name=value``, each
  structure as its name followed by its children, with no separators;
* repeated children (list items, extension elements) sorted by their own pre-hash strings;
* times in UTC with exactly three decimals (``2020-03-04T10:00:30.000Z``, rounding half up);
* numbers without leading/trailing zeros; CBV bare words and legacy URNs as
  ``https://ref.gs1.org/cbv/`` URIs, sensor types as ``https://gs1.org/voc/`` URIs; EPC URNs and
  GS1 Digital Link URIs on any host as canonical ``https://id.gs1.org/`` Digital Link URIs at the
  finest granularity without query string;
* extension names as ``{namespace}localName``, the namespace taken from the JSON-LD ``@context``;
* ``eventID``, ``recordTime``, ``errorDeclaration``, ``rdfs:comment`` and ``@context`` left out.

The hash ID is ``ni:///sha-256;<lowercase hex of SHA-256(UTF-8 pre-hash)>?ver=CBV2.0`` (RFC 6920).

The published examples of the reference implementation (RalphTro/epcis-event-hash-generator) are the
arbiter where the prose is vague; ``tests/trace/test_event_hash.py`` checks every one of them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from app.gs1.identifiers import compute_check_digit
from app.trace import cbv

__all__ = [
    "EventHashError",
    "document_event_hash_ids",
    "document_events",
    "document_prehash_strings",
    "event_hash_id",
    "hash_id_from_prehash",
    "prehash_string",
]

CBV_VERSION: Final = "CBV2.0"

# Prefixes every EPCIS 2.0 document has through the standard context
# https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld (a document may redefine them).
_STANDARD_PREFIXES: Final[dict[str, str]] = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": "https://ref.gs1.org/cbv/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": "https://gs1.org/voc/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}
# Only CURIEs that stand for GS1 vocabulary are expanded inside values; user CURIEs such as
# ``example:x`` stay as written (that is what the XML binding yields for the same value).
_GS1_VOCABULARY_BASES: Final = ("https://ref.gs1.org/", "https://gs1.org/")
_RDFS_COMMENT: Final = "{http://www.w3.org/2000/01/rdf-schema#}comment"


class EventHashError(ValueError):
    """The event cannot be hashed (missing type, time without offset, malformed structure)."""


# --------------------------------------------------------------------------------------------
# Canonical property order
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prop:
    """A standard property: its name, how it is rendered and the order of its children.

    ``item`` set means a JSON array rendered as ``name`` followed by its sorted items, each item
    named ``item`` (``epcList`` -> ``epc=...``; ``""`` for unnamed items such as bizTransactions).
    Without ``item``, an array is a repeated element (``set``, ``sensorReport``, extensions).
    """

    name: str
    children: tuple[_Prop, ...] = ()
    item: str | None = None
    vocab: str | None = None
    is_time: bool = False
    is_text: bool = False  # typed xsd:string / hexBinary: no numeric canonicalisation
    names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", frozenset(c.name for c in self.children))


def _quantity_list(name: str) -> _Prop:
    element = (_Prop("epcClass"), _Prop("quantity"), _Prop("uom"))
    return _Prop(name, children=element, item="quantityElement")


def _epc_list(name: str) -> _Prop:
    return _Prop(name, item="epc")


_SENSOR_METADATA: Final = _Prop(
    "sensorMetadata",
    children=(
        _Prop("time", is_time=True),
        _Prop("startTime", is_time=True),
        _Prop("endTime", is_time=True),
        _Prop("deviceID"),
        _Prop("deviceMetadata"),
        _Prop("rawData"),
        _Prop("dataProcessingMethod"),
        _Prop("bizRules"),
    ),
)

_SENSOR_REPORT: Final = _Prop(
    "sensorReport",
    children=(
        _Prop("type", vocab="measurementType"),
        _Prop("exception", vocab="sensorAlertType"),
        _Prop("deviceID"),
        _Prop("deviceMetadata"),
        _Prop("rawData"),
        _Prop("dataProcessingMethod"),
        _Prop("time", is_time=True),
        _Prop("microorganism"),
        _Prop("chemicalSubstance"),
        _Prop("value"),
        _Prop("component", vocab="component"),
        _Prop("stringValue", is_text=True),
        _Prop("booleanValue"),
        _Prop("hexBinaryValue", is_text=True),
        _Prop("uriValue"),
        _Prop("minValue"),
        _Prop("maxValue"),
        _Prop("meanValue"),
        _Prop("sDev"),
        _Prop("percRank"),
        _Prop("percValue"),
        _Prop("uom"),
        _Prop("coordinateReferenceSystem"),
    ),
)

_EVENT: Final = _Prop(
    "event",
    children=(
        _Prop("eventTime", is_time=True),
        _Prop("eventTimeZoneOffset"),
        _Prop("certificationInfo"),
        _epc_list("epcList"),
        _Prop("parentID"),
        _epc_list("inputEPCList"),
        _epc_list("childEPCs"),
        _quantity_list("quantityList"),
        _quantity_list("childQuantityList"),
        _quantity_list("inputQuantityList"),
        _epc_list("outputEPCList"),
        _quantity_list("outputQuantityList"),
        _Prop("action"),
        _Prop("transformationID"),
        _Prop("bizStep", vocab="bizStep"),
        _Prop("disposition", vocab="disposition"),
        _Prop(
            "persistentDisposition",
            children=(_Prop("set", vocab="disposition"), _Prop("unset", vocab="disposition")),
        ),
        _Prop("readPoint", children=(_Prop("id"),)),
        _Prop("bizLocation", children=(_Prop("id"),)),
        _Prop(
            "bizTransactionList",
            children=(_Prop("type", vocab="bizTransactionType"), _Prop("bizTransaction")),
            item="",
        ),
        # destinationList before sourceList: that is the order of every published example.
        _Prop(
            "destinationList",
            children=(_Prop("type", vocab="sourceDestType"), _Prop("destination")),
            item="",
        ),
        _Prop(
            "sourceList", children=(_Prop("type", vocab="sourceDestType"), _Prop("source")), item=""
        ),
        _Prop(
            "sensorElementList",
            children=(_SENSOR_METADATA, _SENSOR_REPORT),
            item="sensorElement",
        ),
        _Prop("ilmd"),
    ),
)

# Top-level properties that never take part in the hash: the hash must not depend on the
# capturing repository (recordTime, eventID - which may itself be the hash) nor on later
# error declarations about the event.
_EVENT_IGNORED: Final = frozenset({"@context", "type", "eventID", "recordTime", "errorDeclaration"})

# Every name the EPCIS 2.0 context defines for events; such keys are never namespace-expanded.
_STANDARD_NAMES: Final = frozenset(
    {
        "id",
        "type",
        "eventID",
        "recordTime",
        "errorDeclaration",
        "declarationTime",
        "reason",
        "correctiveEventIDs",
        "epc",
        "quantityElement",
        "sensorElement",
    }
    | {p.name for p in _EVENT.children}
    | {c.name for p in _EVENT.children for c in p.children}
    | _SENSOR_METADATA.names
    | _SENSOR_REPORT.names
)

_GENERIC: Final = _Prop("")  # user extensions: no known children, arrays are repeated elements


# --------------------------------------------------------------------------------------------
# JSON-LD context: namespaces for extension names and GS1 CURIEs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    prefixes: Mapping[str, str]
    terms: Mapping[str, str]
    vocab: str | None


def _build_context(*contexts: object) -> _Context:
    prefixes = dict(_STANDARD_PREFIXES)
    terms: dict[str, str] = {}
    vocab: str | None = None
    for ctx in contexts:
        entries = ctx if isinstance(ctx, list) else [ctx]
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue  # a remote context URL: only the standard EPCIS context is known
            for key, value in entry.items():
                iri = value.get("@id") if isinstance(value, Mapping) else value
                if key == "@vocab" and isinstance(value, str):
                    vocab = value
                elif isinstance(iri, str) and not key.startswith("@"):
                    # JSON-LD 1.1: a term whose IRI ends in a gen-delim is usable as a prefix.
                    if iri.endswith(("/", "#", ":", "?", "[", "]", "@")):
                        prefixes[key] = iri
                    else:
                        terms[key] = iri
    return _Context(prefixes, terms, vocab)


def _split_iri(iri: str) -> str:
    """Render an IRI as ``{namespace}local``, split after its last ``/``, ``#`` or ``:``."""
    cut = max(iri.rfind("/"), iri.rfind("#"), iri.rfind(":")) + 1
    return "{" + iri[:cut] + "}" + iri[cut:]


def _expand_key(key: str, ctx: _Context) -> str:
    if key in _STANDARD_NAMES:
        return key
    if key in ctx.terms:
        return _split_iri(ctx.terms[key])
    prefix, sep, local = key.partition(":")
    if sep:
        if prefix in ctx.prefixes:
            return "{" + ctx.prefixes[prefix] + "}" + local
        if local.startswith("//"):
            return _split_iri(key)
        return key
    if ctx.vocab:
        return "{" + ctx.vocab + "}" + key
    return key


# --------------------------------------------------------------------------------------------
# Value canonicalisation
# --------------------------------------------------------------------------------------------

_TIME_RE: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))?"
)
_NUMBER_RE: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER_RE: Final = re.compile(r"[+-]?\d+")


def _canonical_time(value: str) -> str:
    """UTC with millisecond precision, rounding the fourth decimal half up."""
    m = _TIME_RE.fullmatch(value)
    if m is None:
        raise EventHashError(f"{value!r} is not an xsd:dateTime")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction, zulu, sign, off_h, off_m = (
        m.group(7),
        m.group(8),
        m.group(9),
        m.group(10),
        m.group(11),
    )
    if not zulu and not sign:
        # Without an offset the instant is unknown; guessing the server's zone would make the
        # hash depend on where it is computed.
        raise EventHashError(f"time {value!r} has no time-zone offset")
    tz = UTC
    if sign:
        delta = timedelta(hours=int(off_h), minutes=int(off_m))
        tz = timezone(-delta if sign == "-" else delta)
    try:
        instant = datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError as exc:
        raise EventHashError(f"{value!r} is not a valid date-time: {exc}") from None
    millis = int(Decimal("0." + (fraction or "0")).quantize(Decimal("0.001"), ROUND_HALF_UP) * 1000)
    instant = instant.astimezone(UTC) + timedelta(milliseconds=millis)
    return instant.strftime("%Y-%m-%dT%H:%M:%S") + f".{instant.microsecond // 1000:03d}Z"


def _canonical_number(value: int | float | str) -> str:
    """Numbers without ``+`` or leading/trailing zeros: ``452.0`` -> ``452``, ``+.5`` -> ``0.5``."""
    if isinstance(value, str) and _INTEGER_RE.fullmatch(value):
        return str(int(value))  # exact, even beyond float precision
    number = float(value)
    if number.is_integer():
        return str(int(number))
    return repr(number)


def _canonical_scalar(value: object, prop: _Prop, ctx: _Context) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _canonical_number(value)
    if not isinstance(value, str):
        raise EventHashError(f"unexpected JSON value {value!r}")
    text = value.strip()
    if not text:
        return ""
    if prop.is_time:
        return _canonical_time(text)
    if prop.vocab:
        text = cbv.expand_term(prop.vocab, text)
    text = cbv.legacy_urn_to_uri(text) or text
    text = _expand_gs1_curie(text, ctx)
    if not prop.is_text and _NUMBER_RE.fullmatch(text):
        return _canonical_number(text)
    return _canonical_gs1_id(text) or text


def _expand_gs1_curie(text: str, ctx: _Context) -> str:
    prefix, sep, local = text.partition(":")
    if sep and not local.startswith("//"):
        base = ctx.prefixes.get(prefix)
        if base is not None and base.startswith(_GS1_VOCABULARY_BASES):
            return base + local
    return text


# --------------------------------------------------------------------------------------------
# GS1 identifiers -> canonical GS1 Digital Link URI on id.gs1.org
# Deliberately not app.gs1.epc.normalize_epc, which stores and matches identifiers: the hash
# must reproduce the reference implementation byte for byte, and the two canonical forms differ
# on purpose where the reference does (it keeps URN characters such as "'" unescaped, reads
# the legacy short names /gtin/ and /ser/, and converts EPC schemes - GDTI, GSRN, CPI, SGCN,
# GINC, GSIN, ITIP - that app.gs1.epc does not). Where both convert, they agree:
# tests/trace/test_identifier_forms.py checks it on every identifier of the published examples.
# --------------------------------------------------------------------------------------------

_DL_BASE: Final = "https://id.gs1.org/"
# Characters allowed unescaped in an EPC URN component that GS1 Digital Link percent-encodes;
# the URN's own %-escapes are kept as they are.
_DL_ESCAPES: Final = str.maketrans(
    {"!": "%21", "(": "%28", ")": "%29", "*": "%2A", "+": "%2B", ",": "%2C", ":": "%3A"}
)
_DL_SHORT_NAMES: Final = {
    "gtin": "01",
    "itip": "8006",
    "cpid": "8010",
    "gln": "414",
    "party": "417",
    "gsrnp": "8017",
    "gsrn": "8018",
    "gcn": "255",
    "sscc": "00",
    "gdti": "253",
    "ginc": "401",
    "gsin": "402",
    "grai": "8003",
    "giai": "8004",
    "cpv": "22",
    "lot": "10",
    "ser": "21",
}
# Primary key AI -> the key qualifiers it may carry, in Digital Link order.
_DL_QUALIFIERS: Final[dict[str, tuple[str, ...]]] = {
    "01": ("22", "10", "21", "235"),
    "8006": ("22", "10", "21"),
    "8010": ("8011",),
    "414": ("254",),
    "8017": ("8019",),
    "8018": ("8019",),
    "00": (),
    "253": (),
    "255": (),
    "401": (),
    "402": (),
    "417": (),
    "8003": (),
    "8004": (),
}
_DL_KEY_RE: Final[dict[str, re.Pattern[str]]] = {
    "01": re.compile(r"\d{8}|\d{12,14}"),
    "8006": re.compile(r"\d{18}"),
    "00": re.compile(r"\d{18}"),
    "414": re.compile(r"\d{13}"),
    "417": re.compile(r"\d{13}"),
    "402": re.compile(r"\d{17}"),
    "8017": re.compile(r"\d{18}"),
    "8018": re.compile(r"\d{18}"),
    "253": re.compile(r"\d{13}.{0,17}"),
    "255": re.compile(r"\d{13}\d{0,12}"),
    "8003": re.compile(r"\d{14}.{0,16}"),
    "8004": re.compile(r".{1,30}"),
    "401": re.compile(r".{1,30}"),
    "8010": re.compile(r".{1,30}"),
}


def _gtin(company_prefix: str, item_ref: str) -> str:
    body = item_ref[:1] + company_prefix + item_ref[1:]
    return body + compute_check_digit(body)


def _with_check(body: str) -> str:
    return body + compute_check_digit(body)


def _epc_urn_to_dl(urn: str) -> str | None:
    """EPC pure identity / class / pattern URN -> Digital Link path, or None if not convertible."""
    parts = urn.split(":")
    if len(parts) != 5 or parts[:2] != ["urn", "epc"]:
        return None
    _, _, kind, scheme, body = parts
    fields = body.split(".")
    cp = fields[0]
    if not (cp.isdigit() and 6 <= len(cp) <= 12):
        return None
    try:
        if kind == "id":
            return _epc_id_to_dl(scheme, cp, fields)
        if kind == "class" and scheme == "lgtin":
            return _lgtin_to_dl(cp, fields)
        if kind == "idpat":
            return _epc_pattern_to_dl(scheme, cp, fields)
    except (IndexError, ValueError):
        return None
    return None


def _digits(value: str, length: int) -> str:
    if len(value) != length or (value and not value.isdigit()):
        raise ValueError(value)
    return value


def _epc_id_to_dl(scheme: str, cp: str, f: list[str]) -> str | None:
    n = len(cp)
    esc = _DL_ESCAPES
    if scheme == "sgtin" and len(f) == 3:
        return f"01/{_gtin(cp, _digits(f[1], 13 - n))}/21/{f[2].translate(esc)}"
    if scheme == "sscc" and len(f) == 2:
        return f"00/{_gtin(cp, _digits(f[1], 17 - n))}"
    if scheme == "sgln" and len(f) == 3:
        gln = _with_check(cp + _digits(f[1], 12 - n))
        return f"414/{gln}" if f[2] == "0" else f"414/{gln}/254/{f[2].translate(esc)}"
    if scheme == "grai" and len(f) == 3:
        return f"8003/{_with_check('0' + cp + _digits(f[1], 12 - n))}{f[2].translate(esc)}"
    if scheme == "giai" and len(f) == 2:
        return f"8004/{cp}{f[1].translate(esc)}"
    if scheme in ("gsrn", "gsrnp") and len(f) == 2:
        ai = "8018" if scheme == "gsrn" else "8017"
        return f"{ai}/{_with_check(cp + _digits(f[1], 17 - n))}"
    if scheme == "gdti" and len(f) == 3:
        return f"253/{_with_check(cp + _digits(f[1], 12 - n))}{f[2].translate(esc)}"
    if scheme == "cpi" and len(f) == 3:
        return f"8010/{cp}{f[1].translate(esc)}/8011/{f[2]}"
    if scheme == "sgcn" and len(f) == 3:
        return f"255/{_with_check(cp + _digits(f[1], 12 - n))}{f[2]}"
    if scheme == "ginc" and len(f) == 2:
        return f"401/{cp}{f[1].translate(esc)}"
    if scheme == "gsin" and len(f) == 2:
        return f"402/{_with_check(cp + _digits(f[1], 16 - n))}"
    if scheme == "itip" and len(f) == 5:
        gtin = _gtin(cp, _digits(f[1], 13 - n))
        return f"8006/{gtin}{_digits(f[2], 2)}{_digits(f[3], 2)}/21/{f[4].translate(esc)}"
    if scheme == "upui" and len(f) == 3:
        return f"01/{_gtin(cp, _digits(f[1], 13 - n))}/235/{f[2].translate(esc)}"
    if scheme == "pgln" and len(f) == 2:
        return f"417/{_with_check(cp + _digits(f[1], 12 - n))}"
    return None


def _lgtin_to_dl(cp: str, f: list[str]) -> str | None:
    if len(f) != 3:
        return None
    return f"01/{_gtin(cp, _digits(f[1], 13 - len(cp)))}/10/{f[2].translate(_DL_ESCAPES)}"


def _epc_pattern_to_dl(scheme: str, cp: str, f: list[str]) -> str | None:
    n = len(cp)
    if f[-1] != "*":
        return None  # only class-level patterns (serial = *) denote one class
    if scheme in ("sgtin", "upui") and len(f) == 3:
        return f"01/{_gtin(cp, _digits(f[1], 13 - n))}"
    if scheme == "grai" and len(f) == 3:
        return f"8003/{_with_check('0' + cp + _digits(f[1], 12 - n))}"
    if scheme == "gdti" and len(f) == 3:
        return f"253/{_with_check(cp + _digits(f[1], 12 - n))}"
    if scheme == "sgcn" and len(f) == 3:
        return f"255/{_with_check(cp + _digits(f[1], 12 - n))}"
    if scheme == "cpi" and len(f) == 3:
        return f"8010/{cp}{f[1].translate(_DL_ESCAPES)}"
    if scheme == "itip" and len(f) == 5:
        return f"8006/{_gtin(cp, _digits(f[1], 13 - n))}{_digits(f[2], 2)}{_digits(f[3], 2)}"
    return None


def _dl_to_canonical(uri: str) -> str | None:
    """GS1 Digital Link URI on any host -> canonical path, finest granularity, no query/fragment."""
    rest = uri.split("://", 1)[1]
    path = rest.split("?", 1)[0].split("#", 1)[0]
    segments = path.split("/")[1:]
    if segments and segments[-1] == "":
        segments.pop()
    for start in range(len(segments) - 1):
        ai = _DL_SHORT_NAMES.get(segments[start], segments[start])
        tail = segments[start + 2 :]
        if ai in _DL_QUALIFIERS and len(tail) % 2 == 0:
            return _canonical_dl_path(ai, segments[start + 1], tail)
    return None


def _canonical_dl_path(ai: str, key: str, tail: list[str]) -> str | None:
    if not _DL_KEY_RE[ai].fullmatch(key):
        return None
    if ai == "01":
        key = key.zfill(14)
    qualifiers: dict[str, str] = {}
    for i in range(0, len(tail), 2):
        q = _DL_SHORT_NAMES.get(tail[i], tail[i])
        if q not in _DL_QUALIFIERS[ai] or not tail[i + 1]:
            return None
        qualifiers[q] = tail[i + 1]
    # Only the finest level of identification counts: a serial makes the lot (and the
    # consumer product variant) redundant.
    qualifiers.pop("22", None)
    if "21" in qualifiers or "235" in qualifiers:
        qualifiers.pop("10", None)
    path = f"{ai}/{key}"
    for q in _DL_QUALIFIERS[ai]:
        if q in qualifiers:
            path += f"/{q}/{qualifiers[q]}"
    return path


def _canonical_gs1_id(text: str) -> str | None:
    if text.startswith("urn:epc:"):
        path = _epc_urn_to_dl(text)
    elif text.startswith(("https://", "http://")):
        path = _dl_to_canonical(text)
    else:
        return None
    return _DL_BASE + path if path else None


# --------------------------------------------------------------------------------------------
# Pre-hash string
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Renderer:
    ctx: _Context
    ignored: frozenset[str]

    def nodes(self, name: str, value: object, prop: _Prop) -> list[str]:
        """Pre-hash strings of one property (several for a repeated element), unsorted."""
        if isinstance(value, list):
            if prop.item is not None:
                items = [s for v in value for s in self.nodes(prop.item, v, prop)]
                return [name + "".join(sorted(items))] if items else []
            return [s for v in value for s in self.nodes(name, v, prop)]
        if isinstance(value, Mapping):
            body = self.body(value, prop)
            return [name + body] if body else []
        text = _canonical_scalar(value, prop, self.ctx)
        return [f"{name}={text}"] if text else []

    def body(self, obj: Mapping[str, Any], prop: _Prop, skip: frozenset[str] = frozenset()) -> str:
        """Known children in canonical order, then every other child sorted."""
        parts: list[str] = []
        for child in prop.children:
            if child.name in obj:
                parts.extend(sorted(self.nodes(child.name, obj[child.name], child)))
        extensions: list[str] = []
        for key, value in obj.items():
            if key in prop.names or key in skip:
                continue
            name = _expand_key(key, self.ctx)
            if name in self.ignored:
                continue
            extensions.extend(self.nodes(name, value, _GENERIC))
        parts.extend(sorted(extensions))
        return "".join(parts)


def _ignored_names(ignore_fields: Iterable[str], ctx: _Context) -> frozenset[str]:
    return frozenset({_RDFS_COMMENT} | {_expand_key(f, ctx) for f in ignore_fields})


def prehash_string(
    event: Mapping[str, Any],
    context: list[Any] | Mapping[str, Any] | str | None = None,
    *,
    ignore_fields: Iterable[str] = (),
) -> str:
    """Canonical CBV 2.0 pre-hash string of one EPCIS 2.0 JSON-LD event.

    ``context`` is the document's ``@context`` (an event's own ``@context`` is added to it); it
    supplies the namespaces of extension properties. ``ignore_fields`` names further properties
    (compact or full IRIs) to leave out, e.g. those a document lists under ``ignoreFields``.
    Raises :class:`EventHashError` when the event has no type or a time has no offset.
    """
    event_type = event.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise EventHashError("event has no type")
    if "eventTime" not in event:
        raise EventHashError("event has no eventTime")
    ctx = _build_context(context, event.get("@context"))
    renderer = _Renderer(ctx, _ignored_names(ignore_fields, ctx))
    return f"eventType={event_type}" + renderer.body(event, _EVENT, skip=_EVENT_IGNORED)


def hash_id_from_prehash(prehash: str) -> str:
    """RFC 6920 ``ni`` URI of the SHA-256 of a pre-hash string, tagged with the CBV version."""
    digest = hashlib.sha256(prehash.encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver={CBV_VERSION}"


def event_hash_id(
    event: Mapping[str, Any],
    context: list[Any] | Mapping[str, Any] | str | None = None,
    *,
    ignore_fields: Iterable[str] = (),
) -> str:
    """CBV 2.0 event hash ID ``ni:///sha-256;<hex>?ver=CBV2.0`` of one EPCIS 2.0 JSON-LD event."""
    return hash_id_from_prehash(prehash_string(event, context, ignore_fields=ignore_fields))


# --------------------------------------------------------------------------------------------
# Whole documents
# --------------------------------------------------------------------------------------------


def document_events(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Events of an EPCISDocument or EPCISQueryDocument, in document order."""
    body = document.get("epcisBody")
    if not isinstance(body, Mapping):
        raise EventHashError("document has no epcisBody")
    if "eventList" in body:
        events = body["eventList"]
    elif isinstance(body.get("queryResults"), Mapping):
        events = body["queryResults"].get("resultsBody", {}).get("eventList", [])
    elif "event" in body:
        events = [body["event"]]
    else:
        events = []
    if not isinstance(events, list):
        raise EventHashError("eventList is not an array")
    return events


def _document_ignore_fields(document: Mapping[str, Any]) -> list[str]:
    """Fields a document declares as not part of the hash (``<prefix>:ignoreFields``).

    This is the convention of the reference implementation: the list sits on the document or on
    ``queryResults`` and names repository-added properties such as a stored hash.
    """
    holders: list[Mapping[str, Any]] = [document]
    body = document.get("epcisBody")
    if isinstance(body, Mapping) and isinstance(body.get("queryResults"), Mapping):
        holders.append(body["queryResults"])
    found: list[str] = []
    for holder in holders:
        for key, value in holder.items():
            if (key == "ignoreFields" or key.endswith(":ignoreFields")) and isinstance(value, list):
                found.extend(v for v in value if isinstance(v, str))
    return found


def document_prehash_strings(document: Mapping[str, Any]) -> list[str]:
    """Pre-hash strings of every event of an EPCIS (query) document, in document order."""
    context = document.get("@context")
    ignore = _document_ignore_fields(document)
    return [prehash_string(e, context, ignore_fields=ignore) for e in document_events(document)]


def document_event_hash_ids(document: Mapping[str, Any]) -> list[str]:
    """Event hash IDs of every event of an EPCIS (query) document, in document order."""
    return [hash_id_from_prehash(p) for p in document_prehash_strings(document)]
