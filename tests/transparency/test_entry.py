"""The log entry format: canonical bytes, strict parsing, content digests."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
import rfc8785

from app.transparency.entry import (
    MAX_ENTRY_BYTES,
    EntryFormatError,
    EntryType,
    content_digest,
    make_entry,
    make_sibling_entry,
    parse_entry,
)

WHEN = datetime(2026, 11, 28, 13, 43, 8, 662689, tzinfo=UTC)


def _entry(**change):
    fields = {
        "entry_type": EntryType.CERTIFICATE_SUSPENDED,
        "record_type": "certificate",
        "record_id": 42,
        "content": {"b": 2, "a": "祁门"},
        "occurred_at": WHEN,
        "organisation": "qimen-tea-association",
        "details": {"reason": "audit overdue", "grace_days": 30, "final": False, "note": None},
    } | change
    return make_entry(**fields)


def test_an_entry_is_jcs_of_its_fields() -> None:
    entry = _entry()
    assert entry.canonical == (
        b'{"content_sha256":"'
        + hashlib.sha256(rfc8785.dumps({"a": "祁门", "b": 2})).hexdigest().encode()
        + b'","details":{"final":false,"grace_days":30,"note":null,"reason":"audit overdue"},'
        b'"occurred_at":"2026-11-28T13:43:08.662689Z","organisation":"qimen-tea-association",'
        b'"record":{"id":"42","type":"certificate"},"type":"certificate.suspended","v":1}'
    )
    assert entry.leaf_hash == hashlib.sha256(b"\x00" + entry.canonical).digest()
    assert parse_entry(entry.canonical) == entry


def test_times_are_normalised_to_utc_and_empty_details_left_out() -> None:
    shanghai = timezone(timedelta(hours=8))
    entry = _entry(occurred_at=WHEN.astimezone(shanghai), details=None, organisation=None)
    document = json.loads(entry.canonical)
    assert document["occurred_at"] == "2026-11-28T13:43:08.662689Z"
    assert "details" not in document
    assert document["organisation"] is None
    assert json.loads(_entry(occurred_at=WHEN.replace(microsecond=0)).canonical)["occurred_at"] == (
        "2026-11-28T13:43:08.000000Z"
    )


def test_content_digests() -> None:
    assert content_digest(b"abc") == hashlib.sha256(b"abc").hexdigest()
    assert content_digest(bytearray(b"abc")) == content_digest(b"abc")
    # Key order and tuples do not change a JSON object's digest: it is taken over JCS.
    assert content_digest({"x": (1, 2), "a": {"z": 1, "y": 2}}) == content_digest(
        {"a": {"y": 2, "z": 1}, "x": [1, 2]}
    )
    with pytest.raises(EntryFormatError, match="not JSON"):
        content_digest({"when": WHEN})
    with pytest.raises(EntryFormatError):
        content_digest("a string")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"entry_type": "certificate.lost"}, "entry_type", "unknown"),
        ({"record_type": "2certificates"}, "record_type", "pattern"),
        ({"record_type": "x" * 41}, "record_type", "pattern"),
        ({"record_id": True}, "record_id", "type"),
        ({"record_id": "a\nb"}, "record_id", "length"),
        ({"occurred_at": WHEN.replace(tzinfo=None)}, "occurred_at", "naive_datetime"),
        ({"details": {f"k{i}": i for i in range(17)}}, "details", "too_many"),
        ({"details": {"x": "y" * 501}}, "details.x", "too_long"),
        ({"details": {"x": 2**60}}, "details.x", "range"),
        ({"details": {"x": 1.5}}, "details.x", "type"),
        ({"organisation": 7}, "organisation", "type"),
    ],
)
def test_fields_outside_the_format_are_refused(change, field, rule) -> None:
    with pytest.raises(EntryFormatError) as raised:
        _entry(**change)
    assert (raised.value.field, raised.value.rule) == (field, rule)


def test_the_largest_entry_the_limits_allow_fits_an_entry_bundle() -> None:
    # Bundles length-prefix entries with a uint16; the field limits keep every entry below it.
    details = {f"k{i:02d}" + "x" * 36: "界" * 500 for i in range(16)}
    entry = _entry(record_id="r" * 200, record_type="x" * 40, details=details)
    assert len(entry.canonical) < MAX_ENTRY_BYTES


@pytest.mark.parametrize(
    "mutate",
    [
        lambda text: text.replace('"v":1', '"v":2'),
        lambda text: text.replace(",", ", ", 1),  # not canonical: whitespace
        lambda text: text.replace('{"content_sha256"', '{"extra":1,"content_sha256"'),
        lambda text: text.replace("13:43:08.662689Z", "13:43:08.662689+00:00"),
        lambda text: text.replace("13:43:08.662689Z", "13:43:08.66Z"),
        lambda text: text.replace('"record":{"id":"42"', '"record":{"id":42'),
        lambda text: text.replace('"type":"certificate"}', '"type":"certificate","x":1}'),
        lambda text: text[:-1],
        lambda text: "[]",
    ],
)
def test_parsing_is_strict(mutate) -> None:
    text = _entry().canonical.decode()
    with pytest.raises(EntryFormatError):
        parse_entry(mutate(text).encode())
    with pytest.raises(EntryFormatError):
        parse_entry(b"\xff")


@pytest.mark.parametrize(
    "details",
    [
        None,
        {"reason": '祁门 \u2028 \U0001f375 \x00 \x1f " \\ /'},
        {"largest": 2**53 - 1, "smallest": -(2**53 - 1), "flag": True, "none": None},
        {"edge": 2**53},  # beyond JCS's integers: the reference implementation decides
    ],
)
def test_entry_bytes_are_the_reference_jcs(details) -> None:
    try:
        expected = rfc8785.dumps(
            _entry(details=None).as_json() | ({"details": details} if details else {})
        )
    except rfc8785.CanonicalizationError:
        with pytest.raises(rfc8785.CanonicalizationError):
            _ = _entry(details=details).canonical
        return
    assert _entry(details=details).canonical == expected


def test_a_sibling_entry_is_the_entry_made_alone() -> None:
    first = _entry()
    sibling = make_sibling_entry(first, record_id="QTA-2026-000002", content=b"other", details=None)
    assert sibling == _entry(record_id="QTA-2026-000002", content=b"other", details=None)
    assert sibling.canonical == rfc8785.dumps(json.loads(sibling.canonical))
    with pytest.raises(EntryFormatError) as raised:
        make_sibling_entry(first, record_id="", content=b"x")
    assert raised.value.field == "record_id"
    with pytest.raises(EntryFormatError) as raised:
        make_sibling_entry(first, record_id="x", content=b"x", details={"Bad": 1})
    assert raised.value.field == "details.Bad"


@pytest.mark.parametrize(
    "record_ids",
    [
        ["QTA-2026-000001", "QTA-2026-000002", 7],
        ['say "hi"', "back\\slash", "祁门-红茶", "tab\u007fdel", "😀"],
    ],
)
@pytest.mark.parametrize(
    "details",
    [None, {"reason": "audit overdue", "record": '"record":{"id":"x"}'}],
)
def test_sibling_entries_have_the_bytes_of_entries_made_alone(record_ids, details) -> None:
    # Siblings are written from their first entry's bytes: they must be the very bytes that
    # making each entry alone gives, also for record ids JSON escapes or orjson refuses.
    first = _entry(record_id=record_ids[0], details=details)
    for position, record_id in enumerate(record_ids[1:]):
        content = f"content {position}".encode()
        for sibling_details in (details, {"other": position}):
            sibling = make_sibling_entry(
                first, record_id=record_id, content=content, details=sibling_details
            )
            alone = _entry(record_id=record_id, content=content, details=sibling_details)
            assert sibling.canonical == rfc8785.dumps(alone.as_json())
            assert sibling.leaf_hash == alone.leaf_hash


def test_a_sibling_entry_with_a_lone_surrogate_is_refused_as_one_made_alone() -> None:
    first = _entry(details=None)
    with pytest.raises((TypeError, rfc8785.CanonicalizationError)):
        _ = _entry(record_id="lone \ud800", details=None).canonical
    with pytest.raises((TypeError, rfc8785.CanonicalizationError)):
        make_sibling_entry(first, record_id="lone \ud800", content=b"x", details=None)
