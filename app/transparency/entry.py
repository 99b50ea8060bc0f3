"""The log entry format: what each leaf of the transparency log holds, byte for byte.

Pure module: standard library, ``rfc8785`` and ``orjson`` only, no Flask, no database, no
network, so offline verifiers can rebuild and check entries exactly as the service does.

An entry is the RFC 8785 (JCS) canonical JSON of one object, UTF-8 encoded, with these members
(JCS sorts them; ``details`` is left out when empty)::

    {
      "content_sha256": "<64 lowercase hex: SHA-256 of the record's content>",
      "details": {"<name>": <string | integer | boolean | null>, ...},
      "occurred_at": "2026-11-28T13:43:08.662689Z",
      "organisation": "<slug of the acting organisation>" | null,
      "record": {"id": "<record id>", "type": "<record type>"},
      "type": "<entry type, e.g. certificate.issued>",
      "v": 1
    }

The leaf hash is RFC 6962's SHA-256(0x00 || entry bytes). The record's content is hashed as
SHA-256 of the bytes given, or of the JCS form of a JSON object (see :func:`content_digest`),
so anyone holding the record can recompute ``content_sha256`` and find the record's entry.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import rfc8785

from app.transparency.merkle import leaf_hash

ENTRY_VERSION = 1
MAX_ENTRY_BYTES = 0xFFFF  # c2sp.org/tlog-tiles entry bundles length-prefix entries with a uint16
MAX_RECORD_ID_LENGTH = 200
MAX_DETAILS = 16
MAX_DETAIL_LENGTH = 500
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f]")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_MEMBERS = {"content_sha256", "details", "occurred_at", "organisation", "record", "type", "v"}

DetailValue = str | int | bool | None


class EntryType(enum.StrEnum):
    """What happened to the record. Values are stable: they are part of signed history."""

    STANDARD_VERSION_PUBLISHED = "standard_version.published"
    CERTIFICATE_ISSUED = "certificate.issued"
    CERTIFICATE_SUSPENDED = "certificate.suspended"
    CERTIFICATE_REINSTATED = "certificate.reinstated"
    CERTIFICATE_WITHDRAWN = "certificate.withdrawn"
    CERTIFICATE_RENEWED = "certificate.renewed"
    CERTIFICATE_CANCELLED = "certificate.cancelled"
    LABEL_ORDER_ISSUED = "label_order.issued"
    EPCIS_EVENT_CAPTURED = "epcis_event.captured"
    EPCIS_EVENT_ERROR_DECLARED = "epcis_event.error_declared"
    KEY_ADDED = "key.added"
    KEY_ROTATED = "key.rotated"
    KEY_REVOKED = "key.revoked"


class EntryFormatError(ValueError):
    """An entry's fields, or an entry's bytes, are not in the log's entry format."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.rule = rule
        self.message = message


@dataclass(frozen=True)
class Entry:
    """One log entry's fields; :attr:`canonical` is what the log hashes."""

    entry_type: EntryType
    record_type: str
    record_id: str
    content_sha256: str
    occurred_at: datetime
    organisation: str | None
    details: Mapping[str, DetailValue] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The entry as a JSON object (before canonicalisation)."""
        document: dict[str, Any] = {
            "content_sha256": self.content_sha256,
            "occurred_at": format_time(self.occurred_at),
            "organisation": self.organisation,
            "record": {"id": self.record_id, "type": self.record_type},
            "type": self.entry_type.value,
            "v": ENTRY_VERSION,
        }
        if self.details:
            document["details"] = dict(self.details)
        return document

    @functools.cached_property
    def canonical(self) -> bytes:
        """The entry's bytes: RFC 8785 canonical JSON, UTF-8."""
        document = self.as_json()
        try:
            # The members are checked (ASCII names, strings, integers within +-(2**53 - 1),
            # booleans, null): orjson with sorted keys writes them exactly as JCS does, many
            # times faster than the reference implementation, which takes anything else (a
            # lone surrogate, 2**53 itself).
            return orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER)
        except orjson.JSONEncodeError:
            return rfc8785.dumps(document)

    @property
    def leaf_hash(self) -> bytes:
        """RFC 6962 leaf hash of :attr:`canonical`."""
        return leaf_hash(self.canonical)


def format_time(value: datetime) -> str:
    """RFC 3339 UTC with microseconds and ``Z``: one spelling per instant."""
    if value.tzinfo is None:
        raise EntryFormatError("occurred_at", "naive_datetime", "must be timezone-aware")
    return _format_utc(value)


@functools.lru_cache(maxsize=256)
def _format_utc(value: datetime) -> str:
    # Entries appended together usually share their time: it is spelled once.
    return value.astimezone(UTC).strftime(_TIME_FORMAT)


def content_digest(content: bytes | Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a record's content: raw bytes as given, a JSON object in JCS form."""
    if type(content) is bytes or isinstance(content, bytearray | memoryview):
        return hashlib.sha256(content).hexdigest()
    if isinstance(content, Mapping):
        try:
            return hashlib.sha256(rfc8785.dumps(_plain(content))).hexdigest()
        except rfc8785.CanonicalizationError as exc:
            raise EntryFormatError(
                "content", "not_json", f"is not JSON-serialisable: {exc}"
            ) from exc
    raise EntryFormatError("content", "type", "must be bytes or a JSON object (a mapping)")


def _plain(value: Any) -> Any:
    # rfc8785 only knows dict and list; records often hand us other mappings and tuples.
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def _check_name(field_name: str, value: object) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise EntryFormatError(
            field_name, "pattern", "must be 1-40 characters: a-z, then a-z, 0-9 or _"
        )
    return value


def _check_details(details: Mapping[str, Any] | None) -> dict[str, DetailValue]:
    if not details:
        return {}
    if len(details) > MAX_DETAILS:
        raise EntryFormatError("details", "too_many", f"at most {MAX_DETAILS} details")
    checked: dict[str, DetailValue] = {}
    for name, value in details.items():
        _check_name(f"details.{name}", name)
        if isinstance(value, str):
            if len(value) > MAX_DETAIL_LENGTH:
                raise EntryFormatError(
                    f"details.{name}", "too_long", f"at most {MAX_DETAIL_LENGTH} characters"
                )
        elif not (value is None or isinstance(value, bool | int)):
            raise EntryFormatError(
                f"details.{name}", "type", "must be a string, an integer, a boolean or null"
            )
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
            raise EntryFormatError(f"details.{name}", "range", "integers must fit in +-2^53")
        checked[name] = value
    return checked


def make_entry(
    *,
    entry_type: EntryType | str,
    record_type: str,
    record_id: str | int,
    content: bytes | Mapping[str, Any],
    occurred_at: datetime,
    organisation: str | None,
    details: Mapping[str, Any] | None = None,
) -> Entry:
    """Check the fields and build an :class:`Entry`; raises :class:`EntryFormatError`."""
    return _build(
        entry_type=entry_type,
        record_type=record_type,
        record_id=record_id,
        content_sha256=content_digest(content),
        occurred_at=occurred_at,
        organisation=organisation,
        details=details,
    )


def _build(
    *,
    entry_type: object,
    record_type: object,
    record_id: object,
    content_sha256: object,
    occurred_at: datetime,
    organisation: object,
    details: Mapping[str, Any] | None,
) -> Entry:
    try:
        kind = entry_type if type(entry_type) is EntryType else EntryType(str(entry_type))
    except ValueError:
        raise EntryFormatError(
            "entry_type", "unknown", f"{entry_type!r} is not one of {[t.value for t in EntryType]}"
        ) from None
    _check_name("record_type", record_type)
    rid = _check_record_id(record_id)
    if not isinstance(content_sha256, str) or not _HEX64_RE.match(content_sha256):
        raise EntryFormatError("content_sha256", "pattern", "must be 64 lowercase hex digits")
    if organisation is not None and not isinstance(organisation, str):
        raise EntryFormatError("organisation", "type", "must be a string or null")
    format_time(occurred_at)  # rejects naive times before anything is hashed
    entry = Entry(
        entry_type=kind,
        record_type=str(record_type),
        record_id=rid,
        content_sha256=content_sha256,
        occurred_at=occurred_at.astimezone(UTC),
        organisation=organisation,
        details=_check_details(details),
    )
    return _check_size(entry)


def _check_record_id(record_id: object) -> str:
    if (
        type(record_id) is str
        and 0 < len(record_id) <= MAX_RECORD_ID_LENGTH
        and not _CONTROL_RE.search(record_id)
    ):
        return record_id
    if isinstance(record_id, bool) or not isinstance(record_id, str | int):
        raise EntryFormatError("record_id", "type", "must be a string or an integer")
    rid = str(record_id)
    if not rid or len(rid) > MAX_RECORD_ID_LENGTH or _CONTROL_RE.search(rid):
        raise EntryFormatError(
            "record_id",
            "length",
            f"must be 1-{MAX_RECORD_ID_LENGTH} characters without control characters",
        )
    return rid


def _check_size(entry: Entry) -> Entry:
    if len(entry.canonical) > MAX_ENTRY_BYTES:
        raise EntryFormatError(
            "entry", "too_large", f"entries are limited to {MAX_ENTRY_BYTES} bytes"
        )
    return entry


def make_sibling_entry(
    entry: Entry,
    *,
    record_id: str | int,
    content: bytes | Mapping[str, Any],
    details: Mapping[str, Any] | None = None,
) -> Entry:
    """:func:`make_entry` for another record of the same type, at the same time, by the same
    organisation as ``entry`` (already checked): only what differs is checked. For appenders
    of many records at once."""
    sibling = Entry(
        entry_type=entry.entry_type,
        record_type=entry.record_type,
        record_id=_check_record_id(record_id),
        content_sha256=content_digest(content),
        occurred_at=entry.occurred_at,
        organisation=entry.organisation,
        details=_check_details(details),
    )
    if sibling.details == entry.details:
        canonical = _sibling_canonical(entry, sibling)
        if canonical is not None:
            sibling.__dict__["canonical"] = canonical  # what the cached property would hold
    return _check_size(sibling)


_HEAD = b'{"content_sha256":"'
_RECORD_ID_AT = b'"record":{"id":'


def _sibling_canonical(entry: Entry, sibling: Entry) -> bytes | None:
    """The canonical bytes of ``sibling``, which differs from ``entry`` only in its record id
    and content hash: ``entry``'s bytes with those two values replaced (JCS puts
    ``content_sha256`` first and writes the record id where ``"record":{"id":`` stands, which
    no string value can hold unescaped). None when the record id is not one orjson writes as
    JCS does (a lone surrogate): then the whole entry is written."""
    parts = entry.__dict__.get("_sibling_parts")
    try:
        if parts is None:
            base = entry.canonical
            old_id = orjson.dumps(entry.record_id)
            at = base.find(_RECORD_ID_AT) + len(_RECORD_ID_AT)
            after_hash = len(_HEAD) + 64
            if not (
                base.startswith(_HEAD)
                and base[after_hash : after_hash + 2] == b'",'
                and at > after_hash
                and base.startswith(old_id + b',"type":', at)
            ):
                return None
            parts = entry.__dict__["_sibling_parts"] = (
                base[after_hash:at],
                base[at + len(old_id) :],
            )
        record_id = orjson.dumps(sibling.record_id)
    except orjson.JSONEncodeError:
        return None
    middle, tail = parts
    return b"".join((_HEAD, sibling.content_sha256.encode("ascii"), middle, record_id, tail))


def parse_entry(data: bytes) -> Entry:
    """Parse entry bytes strictly: the known members, valid values, canonical JCS form.

    Raises :class:`EntryFormatError`. ``parse_entry(e.canonical) == e`` for every valid entry.
    """
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise EntryFormatError("entry", "json", f"is not UTF-8 JSON: {exc}") from exc
    if not isinstance(document, dict) or not _MEMBERS.issuperset(document):
        raise EntryFormatError("entry", "members", f"must be an object with members {_MEMBERS}")
    if document.get("v") != ENTRY_VERSION:
        raise EntryFormatError("v", "version", f"unsupported entry version {document.get('v')!r}")
    record = document.get("record")
    if not isinstance(record, dict) or set(record) != {"id", "type"}:
        raise EntryFormatError("record", "members", "must be an object {id, type}")
    if not isinstance(record["id"], str):
        raise EntryFormatError("record_id", "type", "must be a string")
    try:
        occurred_at = datetime.strptime(str(document.get("occurred_at")), _TIME_FORMAT)
    except ValueError:
        raise EntryFormatError("occurred_at", "format", "must be RFC 3339 UTC") from None
    details = document.get("details")
    if "details" in document and (not isinstance(details, dict) or not details):
        raise EntryFormatError("details", "type", "must be a non-empty object when present")
    entry = _build(
        entry_type=document.get("type"),
        record_type=record["type"],
        record_id=record["id"],
        content_sha256=document.get("content_sha256"),
        occurred_at=occurred_at.replace(tzinfo=UTC),
        organisation=document.get("organisation"),
        details=details,
    )
    if entry.canonical != data:
        raise EntryFormatError("entry", "canonical", "is not in RFC 8785 canonical form")
    return entry
