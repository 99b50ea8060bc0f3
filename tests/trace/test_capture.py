"""POST /epcis/capture: validation, authorisation, idempotency, all-or-nothing."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.trace.event_hash import event_hash_id, prehash_string
from app.trace.models import CaptureJob, Event, EventEpc, EventOrganisation
from tests.trace.conftest import capture
from tests.trace.conftest import stored as stored_event
from tests.trace.factories import (
    CASE,
    CONTEXT,
    LEAF_GTIN,
    OTHER_GTIN,
    TEA_GTIN,
    batch,
    canonical_unit,
    document,
    harvest,
    journey_events,
    packing,
    processing,
    shipping,
)

pytestmark = pytest.mark.usefixtures("trace")


def _counts(session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(Event)),
        session.scalar(select(func.count()).select_from(EventEpc)),
        session.scalar(select(func.count()).select_from(CaptureJob)),
    )


def _problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"].endswith(f"/problems/{slug}")
    return body


def _errors(body: dict) -> set[tuple[str, str]]:
    return {(e["field"], e["rule"]) for e in body["errors"]}


def test_capture_answers_202_with_the_location_of_a_finished_job(api, session) -> None:
    before = _counts(session)
    firm = api("firm_admin")
    response = capture(firm, document(*journey_events()))
    assert response.status_code == 202, response.get_json()
    location = response.headers["Location"]
    assert location.startswith("https://brand.example.test/epcis/capture/")
    assert response.headers["GS1-EPCIS-Capture-Limit"] == "10000"
    job = firm.get(location)
    assert job.status_code == 200
    assert (job.headers["GS1-EPCIS-Version"], job.headers["GS1-CBV-Version"]) == ("2.0", "2.0")
    body = job.get_json()
    assert body == response.get_json()
    assert body["running"] is False and body["success"] is True
    assert body["status"] == "succeeded"
    assert (body["eventCount"], body["capturedCount"], body["duplicateCount"]) == (5, 5, 0)
    assert body["captureErrorBehaviour"] == "rollback"
    assert body["capturedBy"] == "hongxiang-tea"
    assert _counts(session)[0] == before[0] + 5


def test_stored_events_carry_their_cbv_hash_and_canonical_identifiers(api, session) -> None:
    event = processing()
    capture(api("firm_admin"), document(harvest(), event))
    stored = stored_event(session, event)
    assert stored.hash_id == event_hash_id(event, CONTEXT)
    assert stored.epcis_event_id == stored.hash_id  # no eventID given
    assert stored.biz_step == "https://ref.gs1.org/cbv/BizStep-commissioning"
    assert stored.read_point == "https://id.gs1.org/414/6901234562002"
    links = {(link.role.value, link.uri, link.lot) for link in stored.epcs}
    assert ("output", canonical_unit("U1"), "HT2026B") in links  # lot kept beside the URI
    assert ("input_quantity", batch("LEAF2026A", LEAF_GTIN), "LEAF2026A") in links
    assert ("output_quantity", batch("HT2026B", TEA_GTIN), "HT2026B") in links


def test_capturing_the_same_events_again_is_idempotent(api, session) -> None:
    firm = api("firm_admin")
    first = capture(firm, document(*journey_events()))
    assert first.status_code == 202
    before = _counts(session)
    again = capture(firm, document(*journey_events()))
    assert again.status_code == 202
    body = again.get_json()
    assert (body["capturedCount"], body["duplicateCount"]) == (0, 5)
    assert again.headers["Location"] != first.headers["Location"]
    after = _counts(session)
    assert after[:2] == before[:2]
    assert after[2] == before[2] + 1


def test_the_same_event_written_with_epc_urns_is_the_same_event(api, session) -> None:
    firm = api("firm_admin")
    capture(firm, document(harvest(), processing(), packing()))
    rewritten = packing()
    rewritten["childEPCs"] = [
        "urn:epc:id:sgtin:690123456.0002.U2",  # same units as EPC URNs, other order
        "urn:epc:id:sgtin:690123456.0002.U1",
    ]
    rewritten["readPoint"] = {"id": "urn:epc:id:sgln:690123456.200.0"}
    response = capture(firm, document(rewritten))
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["duplicateCount"] == 1


def test_a_document_repeating_an_event_stores_it_once(api, session) -> None:
    response = capture(api("firm_admin"), document(harvest(), harvest()))
    body = response.get_json()
    assert (body["capturedCount"], body["duplicateCount"]) == (1, 1)


def test_schema_violations_point_at_the_event_and_field_and_store_nothing(api, session) -> None:
    before = _counts(session)
    bad = shipping()
    bad["action"] = "MOVE"
    del bad["eventTimeZoneOffset"]
    bad["epcList"] = "not-a-list"
    response = capture(api("firm_admin"), document(harvest(), bad))
    body = _problem(response, 422, "epcis-document-invalid")
    errors = _errors(body)
    assert ("/epcisBody/eventList/1/action", "invalid-action") in errors
    assert ("/epcisBody/eventList/1/eventTimeZoneOffset", "missing-time-zone-offset") in errors
    assert ("/epcisBody/eventList/1/epcList", "schema-type") in errors
    assert "nothing was stored" in body["detail"]
    assert _counts(session) == before


def test_unknown_cbv_terms_are_refused(api, session) -> None:
    bad = shipping()
    bad["bizStep"] = "shiping"
    bad["disposition"] = "https://ref.gs1.org/cbv/Disp-in_transitt"
    body = _problem(capture(api("firm_admin"), document(bad)), 422, "epcis-document-invalid")
    assert _errors(body) == {
        ("/epcisBody/eventList/0/bizStep", "unknown-cbv-term"),
        ("/epcisBody/eventList/0/disposition", "unknown-cbv-term"),
    }


def test_times_without_time_zone_offsets_are_refused(api, session) -> None:
    bad = harvest(time="2026-04-02T07:30:00")
    body = _problem(capture(api("firm_admin"), document(bad)), 422, "epcis-document-invalid")
    assert ("/epcisBody/eventList/0/eventTime", "time-without-offset") in _errors(body)


def test_malformed_identifiers_are_refused_with_the_gs1_rule(api, session) -> None:
    bad = shipping()
    bad["epcList"] = ["https://id.gs1.org/01/06901234560021/21/X"]  # wrong check digit
    bad["readPoint"] = {"id": "urn:epc:id:sgln:690123456.20.0"}  # too few digits
    body = _problem(capture(api("firm_admin"), document(bad)), 422, "epcis-document-invalid")
    assert _errors(body) == {
        ("/epcisBody/eventList/0/epcList/0", "gs1-check_digit"),
        ("/epcisBody/eventList/0/readPoint/id", "gs1-length"),
    }


def test_values_longer_than_stored_or_holding_nul_are_refused_precisely(api, session) -> None:
    # PostgreSQL refused these at INSERT time (500); SQLite stored them as given.
    before = _counts(session)
    long = "x" * 600
    bad = harvest()
    bad["eventID"] = f"urn:uuid:{long}"
    bad["bizStep"] = f"https://ns.example.com/bizstep/{long}"
    bad["readPoint"] = {"id": f"https://ns.example.com/place/{long}"}
    bad["certificationInfo"] = f"https://cert.example.org/{long}"
    bad["bizTransactionList"] = [{"type": "po", "bizTransaction": f"urn:x:{long}"}]
    bad["sourceList"] = [{"type": f"https://ns.example.com/type/{long}", "source": "urn:x:s"}]
    bad["errorDeclaration"] = {"declarationTime": "2026-04-03T00:00:00Z", "reason": f"urn:x:{long}"}
    response = capture(api("firm_admin"), document(bad, shipping()))
    body = _problem(response, 422, "epcis-document-invalid")
    assert _errors(body) == {
        ("/epcisBody/eventList/0/eventID", "too-long"),
        ("/epcisBody/eventList/0/bizStep", "too-long"),
        ("/epcisBody/eventList/0/readPoint/id", "too-long"),
        ("/epcisBody/eventList/0/certificationInfo", "too-long"),
        ("/epcisBody/eventList/0/bizTransactionList/0/bizTransaction", "too-long"),
        ("/epcisBody/eventList/0/sourceList/0/type", "too-long"),
        ("/epcisBody/eventList/0/errorDeclaration/reason", "too-long"),
    }
    nul = shipping()
    nul["ex:note"] = "before\u0000after"
    nul["sensorElementList"][0]["sensorReport"][0]["stringValue"] = "\u0000"
    context = [*CONTEXT, {"ex": "https://ns.example.com/epcis/"}]
    response = capture(api("firm_admin"), document(nul, context=context))
    body = _problem(response, 422, "epcis-document-invalid")
    assert _errors(body) == {
        ("/epcisBody/eventList/0/ex:note", "nul-character"),
        ("/epcisBody/eventList/0/sensorElementList/0/sensorReport/0/stringValue", "nul-character"),
    }
    assert _counts(session) == before
    # With proceed, the refused events are listed and the valid one stored.
    response = capture(
        api("firm_admin"),
        document(bad, nul, harvest(), context=context),
        **{"GS1-Capture-Error-Behaviour": "proceed"},
    )
    assert response.status_code == 202, response.get_json()
    assert (response.get_json()["capturedCount"], response.get_json()["rejectedCount"]) == (1, 2)


def test_unregistered_products_and_locations_are_refused(api, session) -> None:
    bad = shipping()
    bad["epcList"] = [f"https://id.gs1.org/01/{'06901234560039'}/21/Z1"]
    bad["bizLocation"] = {"id": "https://id.gs1.org/414/6907654321007"}
    body = _problem(capture(api("firm_admin"), document(bad)), 422, "epcis-document-invalid")
    assert _errors(body) == {
        ("/epcisBody/eventList/0/epcList/0", "unknown-product"),
        ("/epcisBody/eventList/0/bizLocation/id", "unregistered-location"),
    }


def test_events_about_another_firms_products_are_refused(api, session) -> None:
    before = _counts(session)
    foreign = harvest()
    foreign["quantityList"] = [{"epcClass": batch("OT1", OTHER_GTIN), "quantity": 1}]
    response = capture(api("firm_admin"), document(harvest(time="2026-04-01T07:00:00Z"), foreign))
    body = _problem(response, 403, "epcis-capture-not-authorised")
    assert _errors(body) == {("/epcisBody/eventList/1/quantityList/0/epcClass", "not-your-product")}
    assert _counts(session) == before


def test_wrong_content_type_and_malformed_json(api) -> None:
    firm = api("firm_admin")
    response = firm.post(
        "/epcis/capture", data=json.dumps(document(harvest())), content_type="text/plain"
    )
    _problem(response, 415, "unsupported-media-type")
    response = firm.post("/epcis/capture", data="{not json", content_type="application/ld+json")
    _problem(response, 400, "malformed-json")
    response = firm.post("/epcis/capture", json=["an", "array"])
    _problem(response, 422, "validation-failed")


def test_json_ld_content_type_is_accepted(api) -> None:
    response = api("firm_admin").post(
        "/epcis/capture",
        data=json.dumps(document(harvest())),
        content_type="application/ld+json",
    )
    assert response.status_code == 202


def test_oversize_documents_are_refused_before_reading(app, api, session, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "EPCIS_CAPTURE_MAX_BYTES", 1000)
    before = _counts(session)
    response = capture(api("firm_admin"), document(*journey_events()))
    body = _problem(response, 413, "epcis-capture-too-large")
    assert "at most 1000 bytes" in body["detail"]
    assert _counts(session) == before


def test_documents_with_too_many_events_are_refused(app, api, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "EPCIS_CAPTURE_MAX_EVENTS", 3)
    body = _problem(
        capture(api("firm_admin"), document(*journey_events())), 422, "epcis-document-invalid"
    )
    assert _errors(body) == {("/epcisBody/eventList", "too-many-events")}


def _from_now(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat(timespec="seconds")


def test_events_dated_in_the_future_are_refused_and_nothing_is_stored(api, session) -> None:
    before = _counts(session)
    future = harvest(time="2099-04-02T07:30:00+08:00", lot="LEAF2099")
    body = _problem(
        capture(api("firm_admin"), document(harvest(), future)), 422, "epcis-document-invalid"
    )
    assert _errors(body) == {("/epcisBody/eventList/1/eventTime", "event-time-in-future")}
    message = body["errors"][0]["message"]
    assert "2099-04-02T07:30:00+08:00 is in the future" in message and "1 hour after" in message
    assert _counts(session) == before


def test_proceed_stores_the_events_that_happened_and_refuses_the_future_one(api, session) -> None:
    before = _counts(session)
    response = capture(
        api("firm_admin"),
        document(harvest(), harvest(time="2099-04-02T07:30:00+08:00")),
        **{"GS1-Capture-Error-Behaviour": "proceed"},
    )
    body = response.get_json()
    assert (body["status"], body["capturedCount"], body["rejectedCount"]) == ("partial", 1, 1)
    assert _errors(body) == {("/epcisBody/eventList/1/eventTime", "event-time-in-future")}
    assert _counts(session)[0] == before[0] + 1


def test_a_clock_running_a_little_fast_is_tolerated_as_configured(
    app, api, session, monkeypatch
) -> None:
    firm = api("firm_admin")
    fast = harvest(time=_from_now(timedelta(minutes=30)))
    assert capture(firm, document(fast)).status_code == 202
    monkeypatch.setitem(app.config, "EPCIS_FUTURE_TOLERANCE_SECONDS", 60)
    body = _problem(
        capture(firm, document(harvest(time=_from_now(timedelta(minutes=5))))),
        422,
        "epcis-document-invalid",
    )
    assert "at most 1 minute after the repository's clock" in body["errors"][0]["message"]


def test_a_document_must_be_an_epcis_document(api) -> None:
    doc = document(harvest())
    doc["type"] = "EPCISQueryDocument"
    del doc["@context"]
    body = _problem(capture(api("firm_admin"), doc), 422, "epcis-document-invalid")
    assert {("/type", "not-a-capture-document"), ("/@context", "missing-epcis-context")} <= (
        _errors(body)
    )


def test_proceed_stores_the_valid_events_and_lists_the_refused_ones(api, session) -> None:
    before = _counts(session)
    bad = shipping()
    bad["bizStep"] = "shiping"
    foreign = harvest(time="2026-04-01T07:00:00Z")
    foreign["quantityList"] = [{"epcClass": batch("OT1", OTHER_GTIN)}]
    response = capture(
        api("firm_admin"),
        document(harvest(), bad, foreign),
        **{"GS1-Capture-Error-Behaviour": "proceed"},
    )
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["status"] == "partial" and body["success"] is False
    assert (body["capturedCount"], body["rejectedCount"]) == (1, 2)
    assert {(e["field"], e["rule"]) for e in body["errors"]} == {
        ("/epcisBody/eventList/1/bizStep", "unknown-cbv-term"),
        ("/epcisBody/eventList/2/quantityList/0/epcClass", "not-your-product"),
    }
    assert _counts(session)[0] == before[0] + 1


def test_proceed_with_every_event_refused_is_a_failed_job(api, session) -> None:
    before = _counts(session)
    bad = shipping()
    bad["bizStep"] = "shiping"
    response = capture(
        api("firm_admin"), document(bad), **{"GS1-Capture-Error-Behaviour": "proceed"}
    )
    assert response.status_code == 202
    assert response.get_json()["status"] == "failed"
    assert _counts(session)[0] == before[0]


def test_an_unknown_error_behaviour_is_refused(api) -> None:
    response = capture(
        api("firm_admin"), document(harvest()), **{"GS1-Capture-Error-Behaviour": "maybe"}
    )
    body = _problem(response, 422, "validation-failed")
    assert _errors(body) == {("header.GS1-Capture-Error-Behaviour", "enum")}


def test_an_event_id_naming_other_content_conflicts(api, session) -> None:
    firm = api("firm_admin")
    first = harvest()
    first["eventID"] = "urn:uuid:5e1c2a7e-3d55-4b8f-9a51-0d2f4c1b2a10"
    assert capture(firm, document(first)).status_code == 202
    other = shipping()
    other["eventID"] = first["eventID"]
    body = _problem(capture(firm, document(other)), 409, "epcis-event-id-taken")
    assert _errors(body) == {("/epcisBody/eventList/0/eventID", "event-id-taken")}


def _declared(event: dict) -> dict:
    declared = copy.deepcopy(event)
    declared["errorDeclaration"] = {
        "declarationTime": "2026-04-03T08:00:00+08:00",
        "reason": "incorrect_data",
        "correctiveEventIDs": ["urn:uuid:7f0c8c1e-5a0b-4d4e-9c44-2b8f3d2a9e01"],
    }
    return declared


def test_recapture_with_an_error_declaration_marks_the_event(api, session) -> None:
    firm = api("firm_admin")
    capture(firm, document(harvest()))
    response = capture(firm, document(_declared(harvest())))
    body = response.get_json()
    # A declaration changes what people see: it is reported as such, not as a duplicate.
    assert (body["capturedCount"], body["duplicateCount"], body["errorDeclarationCount"]) == (
        0,
        0,
        1,
    )
    assert body["success"] is True
    stored = stored_event(session, harvest())
    session.refresh(stored)
    assert stored.document["errorDeclaration"]["reason"] == "incorrect_data"
    assert firm.get(response.headers["Location"]).get_json()["errorDeclarationCount"] == 1


def test_an_error_declaration_is_appended_to_the_transparency_log(api, session) -> None:
    from app.transparency.entry import content_digest, parse_entry
    from app.transparency.services import entries_for_record

    firm = api("firm_admin")
    capture(firm, document(harvest()))
    hash_id = event_hash_id(harvest(), CONTEXT)
    declared = _declared(harvest())
    capture(firm, document(declared))
    entries = entries_for_record(session, "epcis_event", hash_id)
    assert [entry.entry_type for entry in entries] == [
        "epcis_event.captured",
        "epcis_event.error_declared",
    ]
    entry = parse_entry(entries[1].entry)
    assert entry.organisation == "hongxiang-tea"
    # The entry commits to the declaration as stored with the event.
    assert entry.content_sha256 == content_digest(declared["errorDeclaration"])
    assert dict(entry.details) == {
        "event_hash_id": hash_id,
        "event_type": "ObjectEvent",
        "declaration_time": "2026-04-03T08:00:00+08:00",
        "reason": "incorrect_data",
        "corrective_events": 1,
    }
    # Declaring it again changes nothing: a duplicate, and no second entry.
    again = capture(firm, document(declared)).get_json()
    assert (again["duplicateCount"], again["errorDeclarationCount"]) == (1, 0)
    assert len(entries_for_record(session, "epcis_event", hash_id)) == 2


def test_an_event_and_its_error_declaration_in_one_document(api, session) -> None:
    from app.transparency.services import entries_for_record

    firm = api("firm_admin")
    response = capture(firm, document(harvest(), _declared(harvest())))
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    # The event is stored, then declared erroneous: the declaration is not lost as a repeat.
    assert (body["capturedCount"], body["duplicateCount"], body["errorDeclarationCount"]) == (
        1,
        0,
        1,
    )
    stored = stored_event(session, harvest())
    session.refresh(stored)
    assert stored.document["errorDeclaration"]["reason"] == "incorrect_data"
    entries = entries_for_record(session, "epcis_event", event_hash_id(harvest(), CONTEXT))
    assert [entry.entry_type for entry in entries] == [
        "epcis_event.captured",
        "epcis_event.error_declared",
    ]


def test_an_error_declaration_dated_in_the_future_is_refused_and_changes_nothing(
    api, session
) -> None:
    firm = api("firm_admin")
    capture(firm, document(harvest()))
    declared = _declared(harvest())
    declared["errorDeclaration"]["declarationTime"] = "2099-04-03T08:00:00+08:00"
    body = _problem(capture(firm, document(declared)), 422, "epcis-document-invalid")
    assert _errors(body) == {
        ("/epcisBody/eventList/0/errorDeclaration/declarationTime", "declaration-time-in-future")
    }
    stored = stored_event(session, harvest())
    session.refresh(stored)
    assert "errorDeclaration" not in stored.document
    # A malformed time is the schema's to refuse, not a crash.
    declared["errorDeclaration"]["declarationTime"] = "tomorrow"
    assert capture(firm, document(declared)).status_code in (400, 422)


def test_an_error_declaration_beside_new_events_in_proceed_mode(api, session) -> None:
    firm = api("firm_admin")
    capture(firm, document(harvest()))
    bad = shipping()
    bad["bizStep"] = "shiping"
    response = capture(
        firm,
        document(_declared(harvest()), processing(), bad),
        **{"GS1-Capture-Error-Behaviour": "proceed"},
    )
    body = response.get_json()
    assert body["status"] == "partial"
    assert (
        body["capturedCount"],
        body["duplicateCount"],
        body["errorDeclarationCount"],
        body["rejectedCount"],
    ) == (1, 0, 1, 1)


def test_extension_namespaces_are_kept_with_the_event(api, session) -> None:
    context = [*CONTEXT, {"qm": "https://qimen-tea.example/epcis/"}]
    event = harvest()
    event["qm:pickingMethod"] = "hand"
    response = capture(api("firm_admin"), document(event, context=context))
    assert response.status_code == 202, response.get_json()
    stored = stored_event(session, event, context)
    assert stored.document["@context"] == context
    assert stored.hash_id == event_hash_id(event, context) != event_hash_id(harvest(), CONTEXT)
    # The stored event is self-contained: its own @context gives the same hash.
    assert "{https://qimen-tea.example/epcis/}pickingMethod=hand" in prehash_string(stored.document)
    assert event_hash_id(stored.document) == stored.hash_id


def test_events_are_attributed_to_the_capturer_and_the_owners(api, session) -> None:
    capture(api("firm_admin"), document(*journey_events()))
    ids = [stored_event(session, event).id for event in journey_events()]
    relations = set(
        session.execute(
            select(EventOrganisation.relation, EventOrganisation.organisation_id)
            .where(EventOrganisation.event_id.in_(ids))
            .distinct()
        )
    )
    assert {relation.value for relation, _ in relations} == {"captured", "owner"}
    assert len({organisation for _, organisation in relations}) == 1


def test_capture_jobs_belong_to_their_organisation(api) -> None:
    response = capture(api("firm_admin"), document(harvest()))
    location = response.headers["Location"]
    assert api("firm_staff").get(location).status_code == 200
    other = api("firm2_admin").get(location)
    _problem(other, 404, "not-found")
    listing = api("firm_admin").get("/epcis/capture").get_json()
    assert listing["items"][0]["url"] == location  # newest first
    assert api("firm2_admin").get("/epcis/capture").get_json()["items"] == []


def test_containers_are_attributed_to_the_owners_of_their_content(api, session) -> None:
    firm = api("firm_admin")
    capture(firm, document(harvest(), processing(), packing()))
    # The second firm may not record events about a case holding the first firm's units.
    ship = copy.deepcopy(shipping())
    ship["readPoint"] = {"id": "https://id.gs1.org/414/6907654321007"}
    api("firm2_admin").post(
        "/api/v1/trace/locations",
        json={"gln": "6907654321007", "kind": "warehouse", "name_zh": "仓", "name_en": "W"},
    )
    body = _problem(
        capture(api("firm2_admin"), document(ship)), 403, "epcis-capture-not-authorised"
    )
    assert _errors(body) == {("/epcisBody/eventList/0/epcList/0", "not-your-container")}
    # The owner's own shipping event of the case is attributed to it.
    assert capture(firm, document(shipping())).status_code == 202
    shipped = stored_event(session, shipping())
    owners = session.scalars(
        select(EventOrganisation.organisation_id).where(
            EventOrganisation.event_id == shipped.id, EventOrganisation.relation == "owner"
        )
    ).all()
    assert len(owners) == 1
    assert CASE in {link.uri for link in shipped.epcs}


def test_every_new_event_is_appended_to_the_transparency_log(api, session) -> None:
    from app.transparency.models import LogEntry
    from app.transparency.services import entries_for_record

    before = session.scalar(select(func.count()).select_from(LogEntry))
    response = capture(api("firm_admin"), document(*journey_events()))
    assert response.status_code == 202
    hashes = session.scalars(select(Event.hash_id).order_by(Event.id)).all()
    for hash_id in hashes:
        entries = entries_for_record(session, "epcis_event", hash_id)
        assert [entry.entry_type for entry in entries] == ["epcis_event.captured"]
        # The entry commits to the hash ID, which anyone can recompute from the event.
        assert entries[0].content_sha256 == hashlib.sha256(hash_id.encode()).hexdigest()
    after = session.scalar(select(func.count()).select_from(LogEntry))
    assert after >= before + 5
    # A repeated capture stores nothing and logs nothing.
    capture(api("firm_admin"), document(*journey_events()))
    assert session.scalar(select(func.count()).select_from(LogEntry)) == after


def _certified_event(number: str) -> dict:
    from app.db import utcnow

    event = harvest(time=utcnow().isoformat(timespec="seconds"))
    event["eventTimeZoneOffset"] = "+00:00"
    event["certificationInfo"] = [f"https://brand.example.test/certificates/{number}"]
    return event


def test_certification_info_links_our_certificates(api, session, trace) -> None:
    from app.trace.models import EventCertification
    from tests.products.factories import certify

    owner = api("firm_admin").get("/api/v1/organisation").get_json()["id"]
    certificate = certify(session, owner, [LEAF_GTIN])
    session.commit()
    event = _certified_event(certificate.number)
    event["certificationInfo"].append("https://organic-cert.example/certificates/OC-77")
    response = capture(api("firm_admin"), document(event))
    assert response.status_code == 202, response.get_json()
    links = {
        (row.reference, row.certificate_id)
        for row in session.scalars(
            select(EventCertification).where(
                EventCertification.event_id == stored_event(session, event).id
            )
        )
    }
    assert links == {
        (event["certificationInfo"][0], certificate.id),
        ("https://organic-cert.example/certificates/OC-77", None),
    }


def test_certification_info_naming_no_or_the_wrong_certificate_is_refused(
    api, session, trace
) -> None:
    from tests.products.factories import certify

    other_firm = api("firm2_admin").get("/api/v1/organisation").get_json()["id"]
    others = certify(session, other_firm, [OTHER_GTIN])
    session.commit()
    unknown = _certified_event("QTA-0000-404")
    foreign = _certified_event(others.number)
    old = harvest()  # April 2026: before the certificate's validity
    own = certify(
        session, api("firm_admin").get("/api/v1/organisation").get_json()["id"], [LEAF_GTIN]
    )
    session.commit()
    old["certificationInfo"] = f"https://brand.example.test/certificates/{own.number}"
    body = _problem(
        capture(api("firm_admin"), document(unknown, foreign, old)), 422, "epcis-document-invalid"
    )
    assert _errors(body) == {
        ("/epcisBody/eventList/0/certificationInfo/0", "unknown-certificate"),
        ("/epcisBody/eventList/1/certificationInfo/0", "certificate-of-another-firm"),
        ("/epcisBody/eventList/2/certificationInfo", "certificate-not-valid-then"),
    }
