"""EPC URNs (GS1 EPC Tag Data Standard) <-> GS1 Digital Link URIs, and EPC normalisation.

EPCIS events name objects either by EPC URN (``urn:epc:id:sgtin:0614141.812345.6789``) or by
GS1 Digital Link URI. CBV 2.0 canonicalises both to a Digital Link on ``https://id.gs1.org``
holding only the finest identification level (no CPV, no query), which is what
:func:`normalize_epc` returns for storage, matching and event hashing.

In a URN the GS1 Company Prefix length is shown by the first dot, and check digits are absent:
they are computed here. URN components use TDS escaping (``%22`` for ``"``, ``%2F`` for ``/``...).
"""

from __future__ import annotations

import re

from app.gs1.digital_link import (
    AI_TABLE,
    GS1_RESOLVER,
    AIRole,
    build_path_uri,
    parse_digital_link_elements,
)
from app.gs1.identifiers import (
    CS82,
    GS1SyntaxError,
    compute_check_digit,
    normalize_gtin,
    validate_cs82,
    validate_gln,
    validate_sscc,
)

__all__ = [
    "epc_urn_to_digital_link",
    "gln_to_digital_link",
    "gtin_to_digital_link",
    "lgtin_to_digital_link",
    "lgtin_urn",
    "normalize_epc",
    "parse_lgtin_urn",
    "parse_pgln_urn",
    "parse_sgln_urn",
    "parse_sgtin_pattern_urn",
    "parse_sgtin_urn",
    "parse_sscc_urn",
    "pgln_to_digital_link",
    "sgln_urn",
    "sgtin_to_digital_link",
    "sgtin_urn",
    "sscc_to_digital_link",
    "sscc_urn",
]

# TDS: characters of a GS3A3 component that may appear unescaped in an EPC URN.
_URN_LITERAL = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!'()*+,-.:;=_"
)
_HEX = frozenset("0123456789abcdefABCDEF")


def _urn_decode(component: str, field: str, max_len: int) -> str:
    """Decode a TDS-escaped URN component (serial, lot, extension) and validate it as CS82."""
    out: list[str] = []
    index = 0
    while index < len(component):
        char = component[index]
        if char == "%":
            pair = component[index + 1 : index + 3]
            decoded = chr(int(pair, 16)) if len(pair) == 2 and set(pair) <= _HEX else ""
            if decoded not in CS82:  # also catches a malformed escape ("")
                raise GS1SyntaxError(
                    field,
                    "urn_escape",
                    f"{field}: {component[index : index + 3]!r} is not a valid EPC URN escape "
                    "(only %HH of a GS1 character set 82 character, e.g. %2F for '/')",
                )
            out.append(decoded)
            index += 3
            continue
        if char not in _URN_LITERAL:
            raise GS1SyntaxError(
                field,
                "urn_escape",
                f"{field}: character {char!r} must be escaped in an EPC URN"
                if char in CS82
                else f"{field}: character {char!r} is not allowed in an EPC URN "
                "(not in GS1 character set 82)",
            )
        out.append(char)
        index += 1
    return validate_cs82("".join(out), field, max_len)


def _urn_encode(value: str) -> str:
    """TDS-escape a CS82 value for use in an EPC URN."""
    return "".join(char if char in _URN_LITERAL else f"%{ord(char):02X}" for char in value)


def _split(urn: str, prefix: str, parts: int) -> list[str]:
    if not urn.lower().startswith(prefix):
        raise GS1SyntaxError("epc", "urn_syntax", f"expected a URN starting with {prefix}")
    fields = urn[len(prefix) :].split(".", parts - 1)
    if len(fields) != parts:
        raise GS1SyntaxError(
            "epc", "urn_syntax", f"{prefix} needs {parts} dot-separated parts: {urn!r}"
        )
    return fields


def _company_prefix_and_ref(company_prefix: str, reference: str, total: int, urn: str) -> None:
    """Check ``<company prefix>.<reference>``: digits, prefix 6..12 long, ``total`` digits."""
    for part in (company_prefix, reference):
        if part and not (part.isascii() and part.isdigit()):
            raise GS1SyntaxError("epc", "numeric", f"{part!r} must be digits in {urn!r}")
    if not 6 <= len(company_prefix) <= 12:
        raise GS1SyntaxError(
            "epc",
            "company_prefix",
            f"GS1 Company Prefix must have 6 to 12 digits, not {len(company_prefix)}: {urn!r}",
        )
    if len(company_prefix) + len(reference) != total:
        raise GS1SyntaxError(
            "epc",
            "length",
            f"company prefix and reference must have {total} digits together, not "
            f"{len(company_prefix) + len(reference)}: {urn!r}",
        )


def _gtin_from_urn(company_prefix: str, indicator_item: str, urn: str) -> str:
    _company_prefix_and_ref(company_prefix, indicator_item, 13, urn)
    # The indicator digit travels first in the URN's item reference but leads the GTIN.
    body = indicator_item[0] + company_prefix + indicator_item[1:]
    return body + compute_check_digit(body)


def parse_sgtin_urn(urn: str) -> tuple[str, str]:
    """``urn:epc:id:sgtin:<cp>.<indicator+item>.<serial>`` -> (GTIN-14, decoded serial)."""
    company_prefix, item, serial = _split(urn, "urn:epc:id:sgtin:", 3)
    return _gtin_from_urn(company_prefix, item, urn), _urn_decode(serial, "serial", 20)


def parse_lgtin_urn(urn: str) -> tuple[str, str]:
    """``urn:epc:class:lgtin:<cp>.<indicator+item>.<lot>`` -> (GTIN-14, decoded lot)."""
    company_prefix, item, lot = _split(urn, "urn:epc:class:lgtin:", 3)
    return _gtin_from_urn(company_prefix, item, urn), _urn_decode(lot, "lot", 20)


def parse_sgtin_pattern_urn(urn: str) -> str:
    """``urn:epc:idpat:sgtin:<cp>.<indicator+item>.*`` (all serials of a GTIN) -> GTIN-14."""
    company_prefix, item, star = _split(urn, "urn:epc:idpat:sgtin:", 3)
    if star != "*":
        raise GS1SyntaxError(
            "epc", "urn_syntax", f"only the pattern <cp>.<item>.* is supported: {urn!r}"
        )
    return _gtin_from_urn(company_prefix, item, urn)


def parse_sscc_urn(urn: str) -> str:
    """``urn:epc:id:sscc:<cp>.<extension+serial ref>`` -> SSCC-18."""
    company_prefix, reference = _split(urn, "urn:epc:id:sscc:", 2)
    _company_prefix_and_ref(company_prefix, reference, 17, urn)
    body = reference[0] + company_prefix + reference[1:]
    return body + compute_check_digit(body)


def parse_sgln_urn(urn: str) -> tuple[str, str | None]:
    """``urn:epc:id:sgln:<cp>.<location ref>.<extension>`` -> (GLN, extension or None).

    Extension ``0`` means "no extension" (TDS), so it maps to ``None`` (no AI 254).
    """
    company_prefix, location, extension = _split(urn, "urn:epc:id:sgln:", 3)
    _company_prefix_and_ref(company_prefix, location, 12, urn)
    body = company_prefix + location
    ext = _urn_decode(extension, "glnExtension", 20)
    return body + compute_check_digit(body), None if ext == "0" else ext


def parse_pgln_urn(urn: str) -> str:
    """``urn:epc:id:pgln:<cp>.<party ref>`` -> party GLN (AI 417)."""
    company_prefix, party = _split(urn, "urn:epc:id:pgln:", 2)
    _company_prefix_and_ref(company_prefix, party, 12, urn)
    body = company_prefix + party
    return body + compute_check_digit(body)


def _parse_giai_urn(urn: str) -> str:
    company_prefix, asset = _split(urn, "urn:epc:id:giai:", 2)
    _company_prefix_and_ref(company_prefix, "", len(company_prefix), urn)
    return validate_cs82(company_prefix + _urn_decode(asset, "giai", 30), "giai", 30)


def _parse_grai_urn(urn: str, pattern: bool) -> str:
    prefix = "urn:epc:idpat:grai:" if pattern else "urn:epc:id:grai:"
    company_prefix, asset_type, serial = _split(urn, prefix, 3)
    _company_prefix_and_ref(company_prefix, asset_type, 12, urn)
    # AI 8003 = "0" + 13-digit GRAI (with check digit) + optional serial
    body = "0" + company_prefix + asset_type
    grai = body + compute_check_digit(body)
    if pattern:
        if serial != "*":
            raise GS1SyntaxError("epc", "urn_syntax", f"only <cp>.<type>.* is supported: {urn!r}")
        return grai
    return grai + _urn_decode(serial, "serial", 16)


def _parse_upui_urn(urn: str) -> tuple[str, str]:
    company_prefix, item, tpx = _split(urn, "urn:epc:id:upui:", 3)
    return _gtin_from_urn(company_prefix, item, urn), _urn_decode(tpx, "tpx", 28)


# --- to Digital Link --------------------------------------------------------------------------


def sgtin_to_digital_link(gtin: str, serial: str, *, base_url: str = GS1_RESOLVER) -> str:
    """``<base>/01/<gtin14>/21/<serial>`` (serial percent-encoded)."""
    return build_path_uri(base_url, [("01", normalize_gtin(gtin)), ("21", _serial(serial))])


def lgtin_to_digital_link(gtin: str, lot: str, *, base_url: str = GS1_RESOLVER) -> str:
    """``<base>/01/<gtin14>/10/<lot>``: a GTIN class restricted to one lot."""
    return build_path_uri(
        base_url, [("01", normalize_gtin(gtin)), ("10", validate_cs82(lot, "lot", 20))]
    )


def gtin_to_digital_link(gtin: str, *, base_url: str = GS1_RESOLVER) -> str:
    """``<base>/01/<gtin14>``: a GTIN class (all instances)."""
    return build_path_uri(base_url, [("01", normalize_gtin(gtin))])


def sscc_to_digital_link(sscc: str, *, base_url: str = GS1_RESOLVER) -> str:
    """``<base>/00/<sscc18>``."""
    return build_path_uri(base_url, [("00", validate_sscc(sscc))])


def gln_to_digital_link(
    gln: str, extension: str | None = None, *, base_url: str = GS1_RESOLVER
) -> str:
    """``<base>/414/<gln>[/254/<extension>]``: a physical location (SGLN)."""
    path = [("414", validate_gln(gln))]
    if extension is not None and extension != "0":
        path.append(("254", validate_cs82(extension, "glnExtension", 20)))
    return build_path_uri(base_url, path)


def pgln_to_digital_link(gln: str, *, base_url: str = GS1_RESOLVER) -> str:
    """``<base>/417/<gln>``: a party."""
    return build_path_uri(base_url, [("417", validate_gln(gln, "party"))])


def _serial(serial: str) -> str:
    return validate_cs82(serial, "serial", 20)


def epc_urn_to_digital_link(urn: str, *, base_url: str = GS1_RESOLVER) -> str:
    """Convert a supported EPC URN (sgtin, lgtin, idpat:sgtin, sscc, sgln, pgln, giai, grai,
    idpat:grai, upui) to a Digital Link URI on ``base_url``."""
    match = re.match(r"(?i)urn:epc:(?:id|class|idpat):[a-z]+:", urn)
    kind = match.group(0).lower() if match else ""
    if kind == "urn:epc:id:sgtin:":
        gtin, serial = parse_sgtin_urn(urn)
        return sgtin_to_digital_link(gtin, serial, base_url=base_url)
    if kind == "urn:epc:class:lgtin:":
        gtin, lot = parse_lgtin_urn(urn)
        return lgtin_to_digital_link(gtin, lot, base_url=base_url)
    if kind == "urn:epc:idpat:sgtin:":
        return gtin_to_digital_link(parse_sgtin_pattern_urn(urn), base_url=base_url)
    if kind == "urn:epc:id:sscc:":
        return sscc_to_digital_link(parse_sscc_urn(urn), base_url=base_url)
    if kind == "urn:epc:id:sgln:":
        gln, extension = parse_sgln_urn(urn)
        return gln_to_digital_link(gln, extension, base_url=base_url)
    if kind == "urn:epc:id:pgln:":
        return pgln_to_digital_link(parse_pgln_urn(urn), base_url=base_url)
    if kind == "urn:epc:id:giai:":
        return build_path_uri(base_url, [("8004", _parse_giai_urn(urn))])
    if kind in ("urn:epc:id:grai:", "urn:epc:idpat:grai:"):
        grai = _parse_grai_urn(urn, pattern=kind == "urn:epc:idpat:grai:")
        return build_path_uri(base_url, [("8003", grai)])
    if kind == "urn:epc:id:upui:":
        gtin, tpx = _parse_upui_urn(urn)
        return build_path_uri(base_url, [("01", gtin), ("235", tpx)])
    raise GS1SyntaxError("epc", "unsupported_scheme", f"EPC URN scheme of {urn!r} is not supported")


# --- back to URNs -----------------------------------------------------------------------------


def _cp_split(key_body: str, company_prefix_length: int) -> tuple[str, str]:
    if not 6 <= company_prefix_length <= 12:
        raise GS1SyntaxError(
            "company_prefix_length",
            "company_prefix",
            f"GS1 Company Prefix length must be 6 to 12, not {company_prefix_length}",
        )
    return key_body[:company_prefix_length], key_body[company_prefix_length:]


def sgtin_urn(gtin: str, serial: str, company_prefix_length: int) -> str:
    """GTIN + serial -> ``urn:epc:id:sgtin:...`` (the prefix length is not in the GTIN)."""
    gtin14 = normalize_gtin(gtin)
    cp, item = _cp_split(gtin14[1:13], company_prefix_length)
    return f"urn:epc:id:sgtin:{cp}.{gtin14[0]}{item}.{_urn_encode(_serial(serial))}"


def lgtin_urn(gtin: str, lot: str, company_prefix_length: int) -> str:
    """GTIN + lot -> ``urn:epc:class:lgtin:...``."""
    gtin14 = normalize_gtin(gtin)
    cp, item = _cp_split(gtin14[1:13], company_prefix_length)
    return f"urn:epc:class:lgtin:{cp}.{gtin14[0]}{item}.{_urn_encode(validate_cs82(lot, 'lot'))}"


def sscc_urn(sscc: str, company_prefix_length: int) -> str:
    """SSCC-18 -> ``urn:epc:id:sscc:...``."""
    validate_sscc(sscc)
    cp, serial_ref = _cp_split(sscc[1:17], company_prefix_length)
    return f"urn:epc:id:sscc:{cp}.{sscc[0]}{serial_ref}"


def sgln_urn(gln: str, company_prefix_length: int, extension: str | None = None) -> str:
    """GLN [+ extension] -> ``urn:epc:id:sgln:...`` (extension ``0`` when there is none)."""
    validate_gln(gln)
    cp, location = _cp_split(gln[:12], company_prefix_length)
    ext = "0" if extension is None else validate_cs82(extension, "glnExtension")
    return f"urn:epc:id:sgln:{cp}.{location}.{_urn_encode(ext)}"


# --- normalisation ----------------------------------------------------------------------------


def normalize_epc(uri: str, *, base_url: str | None = None) -> str:
    """Canonical form of an EPC for storage and matching.

    * EPC URNs and GS1 Digital Link URIs (any host, any path prefix) become a Digital Link on
      ``base_url`` (default ``https://id.gs1.org``) with only the finest identification level,
      as CBV 2.0 prescribes: serial wins over lot, CPV and query data attributes are dropped,
      GTINs are 14 digits and values are percent-encoded (all but ``A-Za-z0-9-._~``).
    * Any other URI (``urn:uuid:...``, ``https://example.com/things/1``) is returned unchanged.

    Raises :class:`GS1SyntaxError` for an EPC URN or Digital Link URI that is malformed, and
    for EPC URN schemes this module does not convert.
    """
    base = base_url or GS1_RESOLVER
    lowered = uri.lower()
    if lowered.startswith(("urn:epc:id:", "urn:epc:class:", "urn:epc:idpat:")):
        return epc_urn_to_digital_link(uri, base_url=base)
    if not lowered.startswith(("http://", "https://")):
        return uri
    try:
        # Lenient about GTIN-8/12/13: EPCIS data in the wild carries them; the result is padded.
        elements = parse_digital_link_elements(uri, allow_short_gtin=True)
    except GS1SyntaxError as error:
        if error.rule == "primary_key":
            return uri  # an ordinary web URI, not a Digital Link
        raise
    path = [(elements.primary_ai, elements.primary_value)]
    qualifiers = dict(elements.qualifiers)
    if elements.primary_ai == "01":
        # finest level only: serial (21) > TPX (235) > lot (10); CPV (22) never identifies
        for ai in ("21", "235", "10"):
            if ai in qualifiers:
                path.append((ai, qualifiers[ai]))
                break
    else:
        path += [
            (ai, value)
            for ai, value in elements.qualifiers
            if AI_TABLE[ai].role is AIRole.KEY_QUALIFIER
        ]
    return build_path_uri(base, path)
