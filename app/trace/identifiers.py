"""Identifiers of traced things in the one form they are stored and matched in.

EPC URNs and GS1 Digital Link URIs on any host (ours included) become the canonical Digital Link
on id.gs1.org that :func:`app.gs1.epc.normalize_epc` defines (finest identification level: a
unit is ``/01/<gtin>/21/<serial>``, a batch ``/01/<gtin>/10/<lot>``). The lot of a unit is not
part of its canonical URI, so it is kept aside when the input carried it (our own labels do:
``/01/<gtin>/10/<lot>/21/<serial>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rfc3986_validator import validate_rfc3986

from app.gs1.digital_link import GS1_RESOLVER, parse_digital_link
from app.gs1.epc import gln_to_digital_link, lgtin_to_digital_link, normalize_epc
from app.gs1.identifiers import GS1SyntaxError

GTIN_PREFIX = f"{GS1_RESOLVER}/01/"
GLN_PREFIX = f"{GS1_RESOLVER}/414/"


@dataclass(frozen=True)
class Identifier:
    """A traced thing: its canonical URI and, for GTIN-based ones, GTIN, lot and serial."""

    uri: str
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None

    @property
    def is_batch(self) -> bool:
        """A lot of a product (a class), not one unit."""
        return self.gtin is not None and self.lot is not None and self.serial is None

    @property
    def is_unit(self) -> bool:
        return self.gtin is not None and self.serial is not None

    @property
    def batch_uri(self) -> str | None:
        """The canonical URI of this thing's batch, when its lot is known."""
        if self.gtin is None or self.lot is None:
            return None
        return lgtin_to_digital_link(self.gtin, self.lot)


@lru_cache(maxsize=65536)
def identify(raw: str) -> Identifier:
    """Canonical form of an EPC, class or location identifier as written in an event.

    URIs that are neither EPC URNs nor Digital Links (``urn:uuid:...``, a web page) and EPC URN
    schemes without a Digital Link conversion here stay as written: EPCIS allows any absolute
    URI as an identifier, but nothing else, so text that is no URI at all (``garbage``) raises
    :class:`GS1SyntaxError` (rule ``not_a_uri``), as does a malformed EPC URN or Digital Link
    (wrong check digit, bad lot). Pure, and asked about the same lots, units and places again
    and again: cached.
    """
    text = raw.strip()
    try:
        canonical = normalize_epc(text)
    except GS1SyntaxError as error:
        if error.rule == "unsupported_scheme":
            return _opaque(text)
        raise
    if canonical == text and not canonical.startswith(GS1_RESOLVER):
        return _opaque(text)
    if not canonical.startswith(GTIN_PREFIX):
        return Identifier(uri=canonical)
    link = parse_digital_link(canonical)
    lot = link.lot
    if lot is None and link.serial is not None and text.lower().startswith(("http:", "https:")):
        # The written form may carry the lot that the canonical form leaves out.
        lot = parse_digital_link(text, allow_short_gtin=True).lot
    return Identifier(uri=canonical, gtin=link.gtin, lot=lot, serial=link.serial)


def _opaque(text: str) -> Identifier:
    """An identifier we do not read (``urn:uuid:...``, a web page): any absolute URI."""
    if not validate_rfc3986(text, rule="URI"):
        raise GS1SyntaxError(
            "epc",
            "not_a_uri",
            f"{text[:100]!r} is neither an EPC URN, a GS1 Digital Link nor any other absolute "
            "URI (such as urn:uuid:...)",
        )
    return Identifier(uri=text)


def batch_identifier(gtin: str, lot: str) -> Identifier:
    """The canonical identifier of a batch (GTIN + lot)."""
    return Identifier(uri=lgtin_to_digital_link(gtin, lot), gtin=gtin, lot=lot)


def location_uri(gln: str, extension: str | None = None) -> str:
    """Canonical URI of a GLN-based location, as events store readPoint and bizLocation."""
    return gln_to_digital_link(gln, extension)


def is_gln_location(uri: str) -> bool:
    return uri.startswith(GLN_PREFIX)
