"""Journeys: upstream (what went into it) and downstream (where it went), through aggregation
and transformation, as JSON and as a timeline page."""

from __future__ import annotations

import re

import pytest

from app.trace.identifiers import identify
from app.trace.journeys import Direction, trace_journey
from tests.trace.conftest import capture, register_units
from tests.trace.factories import (
    CASE,
    CASE_URN,
    LEAF_GTIN,
    LEAF_LOT,
    TEA_GTIN,
    TEA_LOT,
    batch,
    canonical_unit,
    document,
    journey_events,
    processing,
    shipping,
    unit,
)


@pytest.fixture
def captured(api, trace) -> None:
    response = capture(api("firm_admin"), document(*journey_events()))
    assert response.status_code == 202, response.get_json()


def _journey(client, epc: str, direction: str = "both") -> dict:
    response = client.get(
        "/api/v1/trace/journey", query_string={"epc": epc, "direction": direction}
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _steps(journey: dict) -> list[tuple[str, str]]:
    return [(event["bizStep"], event["relation"]) for event in journey["events"]]


pytestmark = pytest.mark.usefixtures("captured")


def test_a_unit_reads_back_upstream_to_the_harvest(api) -> None:
    journey = _journey(api("firm_admin"), unit("U1"), "backward")
    assert _steps(journey) == [
        ("commissioning", "backward"),  # the harvest of the leaf lot
        ("commissioning", "self"),  # the processing that made the unit
        ("packing", "self"),
    ]
    harvest_event = journey["events"][0]
    assert harvest_event["bizLocation"]["name_en"] == "Hongxiang tea garden"
    assert harvest_event["identifiers"] == [
        {"role": "quantity", "uri": batch(LEAF_LOT, LEAF_GTIN), "quantity": 120.5, "uom": "KGM"}
    ]
    assert journey["start"] == {
        "uri": canonical_unit("U1"),
        "gtin": TEA_GTIN,
        "lot": TEA_LOT,
        "serial": "U1",
    }


def test_a_lot_reads_forward_to_the_retailer(api) -> None:
    journey = _journey(api("firm_admin"), batch(LEAF_LOT, LEAF_GTIN), "forward")
    assert _steps(journey) == [
        ("commissioning", "self"),
        ("commissioning", "self"),
        ("packing", "forward"),
        ("shipping", "forward"),
        ("receiving", "forward"),
    ]
    assert journey["events"][-1]["bizLocation"]["name_zh"] == "合肥茶叶店"
    assert set(journey["identifiers"]) >= {
        batch(TEA_LOT, TEA_GTIN),
        canonical_unit("U1"),
        canonical_unit("U2"),
        CASE,
    }


def test_both_directions_in_time_order_with_sensor_readings(api) -> None:
    journey = _journey(api("firm_admin"), unit("U1"))
    assert _steps(journey) == [
        ("commissioning", "backward"),
        ("commissioning", "self"),
        ("packing", "self"),
        ("shipping", "forward"),
        ("receiving", "forward"),
    ]
    times = [event["eventTime"] for event in journey["events"]]
    assert times == sorted(times)
    shipped = journey["events"][3]
    assert shipped["sensorReadings"] == [
        {
            "type": "Temperature",
            "value": 6.5,
            "uom": "CEL",
            "time": "2026-04-06T09:00:00+08:00",
            "deviceID": "urn:epc:id:giai:6901234560.T1",
        }
    ]
    assert shipped["via"] == [CASE]
    assert journey["recalls"] == []


def test_a_case_goes_back_to_what_was_packed_into_it(api) -> None:
    journey = _journey(api("firm_admin"), CASE_URN, "backward")
    assert _steps(journey) == [
        ("commissioning", "backward"),
        ("commissioning", "backward"),
        ("packing", "self"),
        ("shipping", "self"),
        ("receiving", "self"),
    ]


def test_taking_a_unit_out_of_its_case_ends_its_ride(api) -> None:
    unpack = {
        "type": "AggregationEvent",
        "eventTime": "2026-04-05T18:00:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "action": "DELETE",
        "parentID": CASE_URN,
        "childEPCs": [unit("U1")],
        "bizStep": "unpacking",
    }
    assert capture(api("firm_admin"), document(unpack)).status_code == 202
    u1 = _steps(_journey(api("firm_admin"), unit("U1"), "forward"))
    assert [step for step, _ in u1] == ["commissioning", "packing", "unpacking"]
    u2 = _steps(_journey(api("firm_admin"), unit("U2"), "forward"))
    # U2 stays in the case: the case's events, its opening included, remain U2's.
    assert [step for step, _ in u2] == [
        "commissioning",
        "packing",
        "unpacking",
        "shipping",
        "receiving",
    ]


def test_emptying_a_case_ends_every_units_ride(api) -> None:
    empty = {
        "type": "AggregationEvent",
        "eventTime": "2026-04-07T08:00:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "action": "DELETE",
        "parentID": CASE_URN,
        "childEPCs": [],
        "bizStep": "unpacking",
    }
    assert capture(api("firm_admin"), document(empty)).status_code == 202
    steps = [s for s, _ in _steps(_journey(api("firm_admin"), unit("U2"), "forward"))]
    assert steps == ["commissioning", "packing", "shipping", "unpacking"]


def test_events_before_packing_are_not_the_units(api) -> None:
    early = shipping(time="2026-03-01T09:00:00+08:00")  # the case travelled before
    early["sensorElementList"][0]["sensorReport"][0]["value"] = 30.0
    assert capture(api("firm_admin"), document(early)).status_code == 202
    forward = [s for s, _ in _steps(_journey(api("firm_admin"), unit("U1"), "forward"))]
    assert forward == ["commissioning", "packing", "shipping", "receiving"]
    assert len(_journey(api("firm_admin"), CASE)["events"]) == 6


def test_events_declared_erroneous_are_left_out(api) -> None:
    declared = shipping()
    declared["errorDeclaration"] = {
        "declarationTime": "2026-04-09T08:00:00+08:00",
        "reason": "did_not_occur",
    }
    assert capture(api("firm_admin"), document(declared)).status_code == 202
    steps = [s for s, _ in _steps(_journey(api("firm_admin"), unit("U1")))]
    assert "shipping" not in steps and "receiving" in steps


def test_units_named_without_their_lot_find_it_in_the_register(api, session, trace) -> None:
    register_units(session, trace.batches["tea"], ["U7"])
    made = processing(time="2026-04-04T10:00:00+08:00", serials=())
    made["outputEPCList"] = ["urn:epc:id:sgtin:690123456.0002.U7"]  # no lot in an SGTIN
    del made["outputQuantityList"]
    made["inputQuantityList"][0]["quantity"] = 1
    assert capture(api("firm_admin"), document(made)).status_code == 202
    journey = _journey(api("firm_admin"), "urn:epc:id:sgtin:690123456.0002.U7", "backward")
    assert journey["start"]["lot"] == TEA_LOT
    steps = [(e["type"], e["relation"]) for e in journey["events"]]
    # its own processing, then (through its batch) the lot's processing and the harvest
    assert ("ObjectEvent", "backward") in steps
    assert steps.count(("TransformationEvent", "self")) == 1
    # a unit whose lot the register holds is stored with it
    lot_mismatch = processing(time="2026-04-04T11:00:00+08:00", tea_lot="OTHERLOT", serials=("U7",))
    refused = capture(api("firm_admin"), document(lot_mismatch))
    assert refused.status_code == 422
    assert ("/epcisBody/eventList/0/outputEPCList/0", "lot-mismatch") in {
        (e["field"], e["rule"]) for e in refused.get_json()["errors"]
    }


def test_journeys_show_only_what_the_caller_may_see(api) -> None:
    assert _journey(api("firm2_admin"), unit("U1"))["events"] == []
    assert len(_journey(api("government_viewer"), unit("U1"))["events"]) == 5


def test_long_journeys_are_cut_and_say_so(session) -> None:
    start = identify(batch(LEAF_LOT, LEAF_GTIN))
    journey = trace_journey(session, start, Direction.FORWARD, max_events=1)
    assert journey.truncated
    assert not trace_journey(session, start, Direction.FORWARD).truncated


def test_a_bad_identifier_is_refused(api) -> None:
    response = api("firm_admin").get(
        "/api/v1/trace/journey", query_string={"epc": "https://id.gs1.org/01/06901234560021"}
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {
            "field": "query.epc",
            "rule": "gs1-check_digit",
            "message": "GTIN 06901234560021 has check digit 1, expected 2",
        }
    ]


def test_the_timeline_page(api, client) -> None:
    page = api("firm_admin").get(
        "/trace/journey",
        query_string={"epc": unit("U1")},
        headers={"Accept": "text/html", "Accept-Language": "zh-CN"},
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    for text in ("红香茶园", "合肥茶叶店", "6.5 °C", "已发货", "已收货", "2026-04-06 09:00"):
        assert text in html, text
    english = api("firm_admin").get(
        "/trace/journey",
        query_string={"epc": unit("U1"), "lang": "en"},
        headers={"Accept": "text/html"},
    )
    assert "Hefei tea shop" in english.get_data(as_text=True)
    anonymous = client.get("/trace/journey", query_string={"epc": unit("U1")})
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    empty = api("firm_admin").get("/trace/journey", headers={"Accept": "text/html"})
    assert empty.status_code == 200
    bad = api("firm_admin").get(
        "/trace/journey",
        query_string={"epc": "urn:epc:id:sgtin:1.2.3"},
        headers={"Accept": "text/html"},
    )
    assert bad.status_code == 422 and bad.mimetype == "text/html"


def test_text_that_is_no_uri_is_refused_any_uri_is_an_identifier(api) -> None:
    firm = api("firm_admin")
    response = firm.get("/api/v1/trace/journey", query_string={"epc": "garbage"})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert [(e["field"], e["rule"]) for e in response.get_json()["errors"]] == [
        ("query.epc", "gs1-not_a_uri")
    ]
    for text in ("garbage here", "/01/123", "urn no colon"):
        refused = firm.get("/api/v1/trace/journey", query_string={"epc": text})
        assert refused.status_code == 422, text
    # EPCIS allows any URI: one we do not read is an identifier without events.
    for uri in ("urn:uuid:5e1c2a7e-3d55-4b8f-9a51-0d2f4c1b2a10", "https://example.com/things/1"):
        assert _journey(firm, uri)["events"] == [], uri
    page = firm.get(
        "/trace/journey", query_string={"epc": "garbage"}, headers={"Accept": "text/html"}
    )
    assert page.status_code == 422 and page.mimetype == "text/html"
    query = firm.get("/epcis/events", query_string={"MATCH_epc": "garbage"})
    assert query.status_code == 422


def test_the_timeline_says_steps_dispositions_and_actions_in_the_page_language(api) -> None:
    page = api("firm_admin").get(
        "/trace/journey",
        query_string={"epc": unit("U1"), "lang": "zh-CN"},
        headers={"Accept": "text/html"},
    )
    html = page.get_data(as_text=True)
    # Words for people, the CBV terms still there for whoever needs them.
    assert '<span class="term" title="in_transit">在途</span>' in html
    assert '<span class="term" title="sellable_accessible">可销售，已上架</span>' in html
    assert '<span class="term" title="OBSERVE">观察到</span>' in html
    assert '<h2 class="timeline-step" title="shipping">已发货' in html
    text = html.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    visible = re.sub(r"<[^>]+>", " ", re.sub(r'title="[^"]*"', "", text))
    for raw in ("in_transit", "sellable_accessible", "OBSERVE", "ADD", "Disposition"):
        assert raw not in visible, raw
