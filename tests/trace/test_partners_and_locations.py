"""Registered GLN locations and partner authorisations (a firm lets a logistics company or a
processor record events about its products)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.trace.models import EventOrganisation
from tests.trace.conftest import capture
from tests.trace.conftest import stored as stored_event
from tests.trace.factories import (
    CASE_URN,
    LEAF_GTIN,
    TEA_GTIN,
    document,
    harvest,
    journey_events,
    packing,
    processing,
    receiving,
    shipping,
    unit,
)

pytestmark = pytest.mark.usefixtures("trace")


def _errors(response) -> set[tuple[str, str]]:
    return {(e["field"], e["rule"]) for e in response.get_json().get("errors", [])}


def _authorise(api, **body):
    return api("firm_admin").post(
        "/api/v1/trace/partners", json={"partner": "shanyuan-tea", **body}
    )


# --- locations -----------------------------------------------------------------------------


TEST_GLNS = {"6901234561005", "6901234562002", "6901234563009", "6909998881001"}


def _ours(items: list[dict]) -> list[dict]:
    """Leave out the demo's locations."""
    return [item for item in items if item["gln"] in TEST_GLNS]


def test_locations_are_registered_per_firm(api) -> None:
    own = _ours(api("firm_admin").get("/api/v1/trace/locations").get_json())
    assert {item["gln"] for item in own} == {
        "6901234561005",
        "6901234562002",
        "6901234563009",
        "6909998881001",
    }
    garden = next(item for item in own if item["kind"] == "farm")
    assert garden["uri"] == "https://id.gs1.org/414/6901234561005"
    assert garden["organisation"] == "hongxiang-tea"
    assert api("firm2_admin").get("/api/v1/trace/locations").get_json() == []
    everyone = api("government_viewer").get("/api/v1/trace/locations").get_json()
    assert len(_ours(everyone)) == 4


def test_location_with_extension_and_bad_glns(api) -> None:
    firm = api("firm_admin")
    response = firm.post(
        "/api/v1/trace/locations",
        json={
            "gln": "6901234562002",
            "extension": "LINE-2",
            "kind": "factory",
            "name_zh": "二号线",
            "name_en": "Line 2",
        },
    )
    assert response.status_code == 201
    assert response.get_json()["uri"] == "https://id.gs1.org/414/6901234562002/254/LINE-2"
    bad = firm.post(
        "/api/v1/trace/locations",
        json={"gln": "6901234562003", "kind": "factory", "name_zh": "x", "name_en": "x"},
    )
    assert bad.status_code == 422
    assert _errors(bad) == {("gln", "check_digit")}
    duplicate = firm.post(
        "/api/v1/trace/locations",
        json={"gln": "6901234562002", "kind": "factory", "name_zh": "x", "name_en": "x"},
    )
    assert duplicate.status_code == 409
    assert duplicate.get_json()["type"].endswith("/duplicate-location")


def test_a_deactivated_location_is_refused_on_new_events(api) -> None:
    firm = api("firm_admin")
    garden = next(
        item
        for item in _ours(firm.get("/api/v1/trace/locations").get_json())
        if item["kind"] == "farm"
    )
    assert api("firm2_admin").delete(f"/api/v1/trace/locations/{garden['id']}").status_code == 404
    response = firm.delete(f"/api/v1/trace/locations/{garden['id']}")
    assert response.status_code == 200 and response.get_json()["is_active"] is False
    refused = capture(firm, document(harvest()))
    assert refused.status_code == 422
    assert ("/epcisBody/eventList/0/readPoint/id", "unregistered-location") in _errors(refused)


# --- partners ------------------------------------------------------------------------------


def test_an_authorised_partner_records_events_attributed_to_it(api, session) -> None:
    firm, partner = api("firm_admin"), api("firm2_admin")
    capture(firm, document(harvest()))
    assert capture(partner, document(processing())).status_code == 403
    grant = _authorise(api, note="contract processor")
    assert grant.status_code == 201, grant.get_json()
    assert grant.get_json()["partner"] == "shanyuan-tea" and grant.get_json()["gtins"] is None
    # The partner uses the firm's registered factory.
    response = capture(partner, document(processing(), packing()))
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["capturedBy"] == "shanyuan-tea"
    processed = stored_event(session, processing())
    assert processed.organisation.slug == "shanyuan-tea"
    relations = {
        (relation.value, organisation)
        for relation, organisation in session.execute(
            select(EventOrganisation.relation, EventOrganisation.organisation_id).where(
                EventOrganisation.event_id == processed.id
            )
        )
    }
    assert {relation for relation, _ in relations} == {"captured", "owner"}
    # Both see the event; a third party does not.
    for role in ("firm_admin", "firm2_admin"):
        found = api(role).get(
            "/epcis/events",
            query_string={"eventType": "TransformationEvent", "GE_eventTime": "2026-04-01T00:00Z"},
        )
        assert len(found.get_json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 1


def test_a_partner_ships_the_firms_cases(api) -> None:
    firm, partner = api("firm_admin"), api("firm2_admin")
    capture(firm, document(harvest(), processing(), packing()))
    assert capture(partner, document(shipping())).status_code == 403
    _authorise(api)
    response = capture(partner, document(shipping(), receiving()))
    assert response.status_code == 202, response.get_json()
    journey = firm.get(
        "/api/v1/trace/journey", query_string={"epc": journey_events()[2]["childEPCs"][0]}
    )
    steps = [event["bizStep"] for event in journey.get_json()["events"]]
    assert steps == ["commissioning", "commissioning", "packing", "shipping", "receiving"]


def _declared(event: dict) -> dict:
    return {
        **event,
        "errorDeclaration": {"declarationTime": "2026-05-01T08:00:00Z", "reason": "incorrect_data"},
    }


def test_a_partner_may_not_declare_the_firms_own_events_erroneous(api, session) -> None:
    firm, partner = api("firm_admin"), api("firm2_admin")
    capture(firm, document(harvest(), processing(), packing()))
    _authorise(api)
    refused = capture(partner, document(_declared(harvest())))
    assert refused.status_code == 403
    assert _errors(refused) == {("/epcisBody/eventList/0/errorDeclaration", "not-your-event")}
    proceeding = capture(
        partner, document(_declared(harvest())), **{"GS1-Capture-Error-Behaviour": "proceed"}
    )
    assert proceeding.status_code == 202
    assert proceeding.get_json()["rejectedCount"] == 1
    harvested = stored_event(session, harvest())
    session.refresh(harvested)
    assert "errorDeclaration" not in harvested.document
    journey = firm.get(
        "/api/v1/trace/journey", query_string={"epc": journey_events()[2]["childEPCs"][0]}
    )
    steps = [event["bizStep"] for event in journey.get_json()["events"]]
    assert steps == ["commissioning", "commissioning", "packing"]
    # The partner still corrects the events it recorded itself.
    capture(partner, document(shipping()))
    assert capture(partner, document(_declared(shipping()))).status_code == 202
    shipped = stored_event(session, shipping())
    session.refresh(shipped)
    assert shipped.document["errorDeclaration"]["reason"] == "incorrect_data"


def test_authorisation_limited_to_some_products(api) -> None:
    partner = api("firm2_admin")
    response = _authorise(api, gtins=[LEAF_GTIN[1:]])  # GTIN-13 accepted, stored as 14
    assert response.get_json()["gtins"] == [LEAF_GTIN]
    assert capture(partner, document(harvest())).status_code == 202
    refused = capture(partner, document(processing()))
    assert refused.status_code == 403
    assert ("/epcisBody/eventList/0/outputEPCList/0", "not-your-product") in _errors(refused)


PALLET = "urn:epc:id:sscc:690123456.00000002"


def _palletising() -> dict:
    return {
        **packing(time="2026-04-05T11:00:00+08:00"),
        "parentID": PALLET,
        "childEPCs": [CASE_URN],
        "bizStep": "packing",
    }


def test_authorisation_limited_to_some_products_covers_only_their_containers(api) -> None:
    # The firm packs its tea into a case and the case onto a pallet; a partner authorised for
    # the fresh leaf only may not ship them (it could before: containers were checked against
    # the firm, not against the products in them).
    firm, partner = api("firm_admin"), api("firm2_admin")
    packed = capture(firm, document(harvest(), processing(), packing(), _palletising()))
    assert packed.status_code == 202, packed.get_json()
    _authorise(api, gtins=[LEAF_GTIN])
    on_pallet = {**shipping(), "epcList": [PALLET]}
    for event, pointer in ((shipping(), "epcList/0"), (on_pallet, "epcList/0")):
        refused = capture(partner, document(event))
        assert refused.status_code == 403, refused.get_json()
        assert _errors(refused) == {(f"/epcisBody/eventList/0/{pointer}", "not-your-container")}
        assert TEA_GTIN in refused.get_json()["errors"][0]["message"]
    # Packed in the same document, the case is checked the same way.
    repacked = {**packing(time="2026-04-05T12:00:00+08:00"), "childEPCs": [unit("U1")]}
    refused = capture(partner, document(repacked, shipping("2026-04-06T10:00:00+08:00")))
    assert refused.status_code == 403
    # Authorised for the tea too, the partner ships the case and the pallet.
    grants = api("firm_admin").get("/api/v1/trace/partners").get_json()
    (grant,) = [g for g in grants if g["partner"] == "shanyuan-tea" and not g["revoked_at"]]
    assert api("firm_admin").delete(f"/api/v1/trace/partners/{grant['id']}").status_code == 200
    assert _authorise(api, gtins=[LEAF_GTIN, TEA_GTIN]).status_code == 201
    response = capture(partner, document(shipping(), on_pallet))
    assert response.status_code == 202, response.get_json()


def test_revoked_authorisations_stop_new_captures(api) -> None:
    grant = _authorise(api).get_json()
    partner = api("firm2_admin")
    assert capture(partner, document(harvest())).status_code == 202
    assert partner.delete(f"/api/v1/trace/partners/{grant['id']}").status_code == 404
    revoked = api("firm_admin").delete(f"/api/v1/trace/partners/{grant['id']}")
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"] is not None
    assert capture(partner, document(harvest(time="2026-04-04T07:00:00Z"))).status_code == 403
    # A new authorisation may be given after a revocation.
    assert _authorise(api).status_code == 201


def test_partner_authorisation_refusals(api) -> None:
    assert _errors(
        api("firm_admin").post("/api/v1/trace/partners", json={"partner": "nobody"})
    ) == {("partner", "unknown_firm")}
    assert _errors(
        api("firm_admin").post("/api/v1/trace/partners", json={"partner": "qimen-tea-association"})
    ) == {("partner", "unknown_firm")}
    assert _errors(
        api("firm_admin").post("/api/v1/trace/partners", json={"partner": "hongxiang-tea"})
    ) == {("partner", "self")}
    not_ours = _authorise(api, gtins=[TEA_GTIN, "06907654320017"])
    assert not_ours.status_code == 422
    assert _errors(not_ours) == {("gtins/1", "not-your-product")}
    bad = _authorise(api, gtins=["06907654320018"])
    assert _errors(bad) == {("gtins/0", "check_digit")}
    assert _authorise(api).status_code == 201
    duplicate = _authorise(api)
    assert duplicate.status_code == 409


def test_both_firms_list_the_authorisation(api) -> None:
    _authorise(api)
    for role in ("firm_admin", "firm2_admin", "firm_staff"):
        listed = api(role).get("/api/v1/trace/partners").get_json()
        assert [
            (g["organisation"], g["partner"]) for g in listed if g["partner"] == "shanyuan-tea"
        ] == [("hongxiang-tea", "shanyuan-tea")]
