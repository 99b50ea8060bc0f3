"""The common events of the firm's form are valid EPCIS 2.0, shaped as the CBV expects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.trace.common_events import (
    Amount,
    CommonEvent,
    CommonEventKind,
    build_document,
    build_event,
)
from app.trace.event_hash import event_hash_id
from app.trace.query import EPCIS_CONTEXT
from app.trace.validation import validate_capture_document

CHINA = timezone(timedelta(hours=8))
WHEN = datetime(2026, 4, 2, 9, 30, tzinfo=CHINA)
PLACE = "https://id.gs1.org/414/6931234000013"
LEAF = Amount("https://id.gs1.org/01/06971234000095/10/LEAF-0402", 180, "KGM")
TEA = Amount("https://id.gs1.org/01/06923456789012/10/QM2026-04", 40.5, "KGM")
UNIT = "https://brand.example.test/01/06923456789012/10/QM2026-04/21/ABCDEFGH2345"
CASE = "https://id.gs1.org/00/069712340000000026"

CASES = {
    CommonEventKind.HARVEST: CommonEvent(CommonEventKind.HARVEST, WHEN, PLACE, amounts=[LEAF]),
    CommonEventKind.PROCESSING: CommonEvent(
        CommonEventKind.PROCESSING, WHEN, PLACE, amounts=[LEAF], outputs=[TEA]
    ),
    CommonEventKind.PACKING: CommonEvent(
        CommonEventKind.PACKING, WHEN, PLACE, units=[UNIT], container=CASE
    ),
    CommonEventKind.SHIPPING: CommonEvent(CommonEventKind.SHIPPING, WHEN, PLACE, container=CASE),
    CommonEventKind.RECEIVING: CommonEvent(
        CommonEventKind.RECEIVING, WHEN, PLACE, amounts=[Amount(TEA.epc_class, 12, "H87")]
    ),
}
SHAPES = {
    CommonEventKind.HARVEST: ("ObjectEvent", "ADD", "commissioning", "quantityList"),
    CommonEventKind.PROCESSING: (
        "TransformationEvent",
        None,
        "commissioning",
        "outputQuantityList",
    ),
    CommonEventKind.PACKING: ("AggregationEvent", "ADD", "packing", "childEPCs"),
    CommonEventKind.SHIPPING: ("ObjectEvent", "OBSERVE", "shipping", "epcList"),
    CommonEventKind.RECEIVING: ("ObjectEvent", "OBSERVE", "receiving", "quantityList"),
}


@pytest.mark.parametrize("kind", list(CommonEventKind))
def test_each_common_event_is_valid_epcis(kind) -> None:
    event = build_event(CASES[kind])
    event_type, action, step, subject = SHAPES[kind]
    assert event["type"] == event_type and event.get("action") == action
    assert event["bizStep"] == step and subject in event
    assert event["eventTime"] == "2026-04-02T09:30:00+08:00"
    assert event["eventTimeZoneOffset"] == "+08:00"
    assert event["readPoint"] == event["bizLocation"] == {"id": PLACE}
    assert validate_capture_document(build_document([event], WHEN)) == []


def test_quantities_keep_fractions_and_drop_needless_decimals() -> None:
    event = build_event(CASES[CommonEventKind.PROCESSING])
    assert event["inputQuantityList"][0]["quantity"] == 180
    assert isinstance(event["inputQuantityList"][0]["quantity"], int)
    assert event["outputQuantityList"][0]["quantity"] == 40.5


def test_the_same_facts_make_the_same_event() -> None:
    # Capture is idempotent by hash ID: telling the same thing twice records it once.
    first = build_event(CASES[CommonEventKind.HARVEST])
    again = build_event(CASES[CommonEventKind.HARVEST])
    assert event_hash_id(first, [EPCIS_CONTEXT]) == event_hash_id(again, [EPCIS_CONTEXT])
    later = build_event(
        CommonEvent(CommonEventKind.HARVEST, WHEN + timedelta(minutes=1), PLACE, amounts=[LEAF])
    )
    assert event_hash_id(later, [EPCIS_CONTEXT]) != event_hash_id(first, [EPCIS_CONTEXT])


def test_event_times_need_a_time_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_event(
            CommonEvent(CommonEventKind.HARVEST, datetime(2026, 4, 2), PLACE, amounts=[LEAF])
        )
    utc = build_event(
        CommonEvent(CommonEventKind.HARVEST, WHEN.astimezone(UTC), PLACE, amounts=[LEAF])
    )
    assert utc["eventTimeZoneOffset"] == "+00:00"
