"""From a request or a typed-in code to a validated GS1 Digital Link.

The Digital Link parser must see the path *as sent*, still percent-encoded: a lot ``A/B`` is
sent as ``A%2FB``, and the WSGI ``PATH_INFO`` has already decoded it into two path segments.
Gunicorn and Werkzeug keep the raw target in ``RAW_URI`` (and ``REQUEST_URI``); without them
``PATH_INFO`` is re-encoded, which is exact for everything but an encoded ``/``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, urlsplit

from app.gs1.digital_link import (
    AI_TABLE,
    DigitalLink,
    build_digital_link,
    parse_digital_link,
)
from app.gs1.identifiers import GS1SyntaxError
from app.products.serials import SERIAL_ALPHABET, SERIAL_LENGTH

#: Longest query string we read; longer ones are refused before parsing (hostile input).
MAX_QUERY_LENGTH = 1024
#: Most query parameters we read.
MAX_QUERY_PARAMETERS = 24
#: Longest typed-in code on the manual check form.
MAX_ENTRY_LENGTH = 300
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
# A Chinese input method in full-width mode types （０１）, ０-９, Ａ-Ｚ, ／ and ： and the
# ideographic space: map them to their ASCII forms (GS1 codes are ASCII). Chinese characters
# themselves are left as typed, so a Chinese lot is still refused as such.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# The serials this platform issues are Crockford base-32, which people read in any case with
# I and L for 1 and O for 0: a serial typed on a keyboard that did not capitalise is still
# found (a scanned link is taken exactly as printed).
_CROCKFORD_READING = str.maketrans("ILO", "110")
# A link typed without its scheme: ``brand.example/01/...`` or ``host:port/01/...``.
_SCHEMELESS_LINK = re.compile(r"(?i)[a-z0-9.-]+\.[a-z0-9-]+(?::\d+)?/01/|[a-z0-9.-]+:\d+/01/")


def _wsgi_to_text(value: str) -> str:
    """WSGI strings are bytes decoded as Latin-1; undo that so a raw UTF-8 character sent
    without percent-encoding is reported as itself, not as mojibake."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def raw_request_target(environ: Mapping[str, Any]) -> tuple[str, str]:
    """The request's path and query string exactly as the client sent them."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        if re.match(r"(?i)https?://", raw):
            parts = urlsplit(raw)  # absolute-form request target (sent to proxies)
            path = parts.path
        else:
            path = raw.partition("?")[0]
    else:
        path = quote(
            _wsgi_to_text(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")),
            safe=_PATH_SAFE,
        )
    return _wsgi_to_text(path.partition("#")[0]), _wsgi_to_text(environ.get("QUERY_STRING", ""))


def check_query_size(raw_query: str) -> None:
    """Refuse oversized or parameter-stuffed query strings before any work."""
    if len(raw_query) > MAX_QUERY_LENGTH:
        raise GS1SyntaxError(
            "query",
            "query_too_long",
            f"the query string has {len(raw_query)} characters; at most {MAX_QUERY_LENGTH} "
            "are accepted",
        )
    if raw_query.count("&") + 1 > MAX_QUERY_PARAMETERS:
        raise GS1SyntaxError(
            "query",
            "too_many_parameters",
            f"the query string has more than {MAX_QUERY_PARAMETERS} parameters",
        )


def parse_request_link(raw_path: str, raw_query: str) -> DigitalLink:
    """Validate a resolver request (path and query as sent) as a GTIN Digital Link."""
    check_query_size(raw_query)
    link = parse_digital_link(f"{raw_path}?{raw_query}" if raw_query else raw_path)
    if link.cpv is not None or link.tpx is not None:
        which = "22 (CPV)" if link.cpv is not None else "235 (TPX)"
        raise GS1SyntaxError(
            "path",
            "unsupported_qualifier",
            f"AI {which} is valid GS1 syntax but this resolver issues no such links; use "
            "/01/<gtin>[/10/<lot>][/21/<serial>]",
        )
    return link


@dataclass(frozen=True)
class ManualEntry:
    """A code typed in by a shopper, understood as a Digital Link, and where it pointed."""

    link: DigitalLink
    #: the host of a typed-in URL, when it is not the official one (a fake verification site)
    foreign_host: str | None = None


_HRI_ELEMENT = re.compile(r"\((\d{2,4})\)([^()]*)")


def _from_hri(text: str) -> DigitalLink:
    """``(01)09520123456788(10)LOT(21)SERIAL`` as printed under a barcode."""
    compact = text.strip()
    elements = _HRI_ELEMENT.findall(compact)
    if not elements or "".join(f"({ai}){value}" for ai, value in elements) != compact:
        raise GS1SyntaxError(
            "code",
            "hri_syntax",
            "write the code as printed, e.g. (01)09520123456788(10)LOT(21)SERIAL",
        )
    values: dict[str, str] = {}
    for ai, value in elements:
        if ai in values:
            raise GS1SyntaxError("code", "duplicate_ai", f"AI {ai} appears twice")
        if ai not in AI_TABLE:
            raise GS1SyntaxError("code", "unknown_ai", f"({ai}) is not a known GS1 AI")
        values[ai] = value.strip()
    return _from_fields(
        values.pop("01", ""),
        values.pop("10", None),
        values.pop("21", None),
        data=values,
    )


def _from_fields(
    gtin: str, lot: str | None, serial: str | None, data: Mapping[str, str] | None = None
) -> DigitalLink:
    gtin = re.sub(r"[\s-]", "", gtin or "")
    if not gtin:
        raise GS1SyntaxError("gtin", "required", "enter the GTIN (the 8 to 14 digits after (01))")
    uri = build_digital_link(
        "https://placeholder.invalid",
        gtin,
        lot=lot or None,
        serial=serial or None,
        data=data or None,
    )
    return parse_digital_link(uri)


def _as_issued(entry: ManualEntry) -> ManualEntry:
    serial = entry.link.serial
    if serial is None:
        return entry
    read = serial.upper().translate(_CROCKFORD_READING)
    if read == serial or len(read) != SERIAL_LENGTH or not set(read) <= set(SERIAL_ALPHABET):
        return entry
    return replace(entry, link=replace(entry.link, serial=read))


def parse_manual_entry(
    code: str | None,
    official_host: str,
    *,
    gtin: str | None = None,
    lot: str | None = None,
    serial: str | None = None,
) -> ManualEntry:
    """Understand what a shopper typed: a full link (its scheme may be left out), a path, the
    printed ``(01)...(21)...`` text, a bare GTIN, or the GTIN, lot and serial in separate
    fields; full-width characters from a Chinese input method count as their ASCII forms, and
    a serial of ours may be typed in lower case."""
    return _as_issued(_understand(code, official_host, gtin=gtin, lot=lot, serial=serial))


def _understand(
    code: str | None,
    official_host: str,
    *,
    gtin: str | None = None,
    lot: str | None = None,
    serial: str | None = None,
) -> ManualEntry:
    code, gtin, lot, serial = (
        None if part is None else part.translate(_FULL_WIDTH) for part in (code, gtin, lot, serial)
    )
    text = (code or "").strip()
    if len(text) > MAX_ENTRY_LENGTH:
        raise GS1SyntaxError(
            "code", "too_long", f"the code has more than {MAX_ENTRY_LENGTH} characters"
        )
    if not text and not any((part or "").strip() for part in (gtin, lot, serial)):
        raise GS1SyntaxError("code", "required", "enter the code printed under the QR code")
    if not text:
        return ManualEntry(_from_fields(gtin or "", (lot or "").strip(), (serial or "").strip()))
    if _SCHEMELESS_LINK.match(text):
        text = "https://" + text
    if re.match(r"(?i)https?://", text):
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        link = parse_request_link(parts.path, parts.query)
        return ManualEntry(link, foreign_host=None if host == official_host.lower() else host)
    if text.startswith("("):
        return ManualEntry(_from_hri(text))
    if text.startswith(("/01/", "01/")):
        path, _, query = ("/" + text.lstrip("/")).partition("?")
        return ManualEntry(parse_request_link(path, query))
    if re.fullmatch(r"[\d\s-]{8,20}", text):
        return ManualEntry(_from_fields(text, None, None))
    raise GS1SyntaxError(
        "code",
        "unrecognised",
        "enter the link under the QR code, or the text printed as (01)...(10)...(21)...",
    )
