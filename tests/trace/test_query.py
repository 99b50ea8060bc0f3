"""GET /epcis/events (SimpleEventQuery over the REST binding) and GET /epcis/events/<id>."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from app.trace.validation import validate_document
from tests.trace.conftest import capture
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
    shipping,
    unit,
)


@pytest.fixture
def captured(api, trace) -> None:
    response = capture(api("firm_admin"), document(*journey_events()))
    assert response.status_code == 202, response.get_json()


def _events(response) -> list[dict]:
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["type"] == "EPCISQueryDocument"
    return body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


# The demo's events happened in March 2026; the tests' in April.
SINCE = {"GE_eventTime": "2026-04-01T00:00:00Z"}


def _steps(client, **params) -> list[str]:
    response = client.get("/epcis/events", query_string={**SINCE, **params})
    return [event.get("bizStep") for event in _events(response)]


pytestmark = pytest.mark.usefixtures("captured")


def test_answers_are_valid_epcis_query_documents(api) -> None:
    response = api("firm_admin").get("/epcis/events", query_string=SINCE)
    assert response.headers["GS1-EPCIS-Version"] == "2.0"
    body = response.get_json()
    assert validate_document(body) == []
    events = body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["bizStep"] for e in events] == [
        "commissioning",
        "commissioning",
        "packing",
        "shipping",
        "receiving",
    ]
    first = events[0]
    assert first["eventID"].startswith("ni:///sha-256;")
    assert first["recordTime"].endswith("Z")
    assert first["eventTime"] == "2026-04-02T07:30:00+08:00"  # as captured


def test_filters_on_type_time_step_disposition_and_location(api) -> None:
    firm = api("firm_admin")
    assert _steps(firm, eventType="AggregationEvent") == ["packing"]
    assert _steps(firm, eventType="AggregationEvent|TransformationEvent") == [
        "commissioning",
        "packing",
    ]
    assert _steps(firm, GE_eventTime="2026-04-06T01:00:00Z") == ["shipping", "receiving"]
    assert _steps(firm, LT_eventTime="2026-04-06T09:00:00+08:00") == [
        "commissioning",
        "commissioning",
        "packing",
    ]
    assert _steps(firm, EQ_bizStep="shipping") == ["shipping"]
    assert _steps(firm, EQ_bizStep="https://ref.gs1.org/cbv/BizStep-receiving") == ["receiving"]
    assert _steps(firm, EQ_bizStep="urn:epcglobal:cbv:bizstep:packing") == ["packing"]
    assert _steps(firm, EQ_disposition="in_transit") == ["shipping"]
    assert _steps(firm, EQ_bizLocation="urn:epc:id:sgln:690999888.100.0") == ["receiving"]
    assert _steps(firm, EQ_readPoint="https://id.gs1.org/414/6901234563009") == ["shipping"]
    assert _steps(firm, EQ_action="ADD") == ["commissioning", "packing"]
    assert _steps(firm, EQ_bizStep="shipping", EQ_disposition="active") == []


def test_times_with_an_unencoded_plus_offset(api) -> None:
    # "+08:00" written unencoded in a URL arrives as " 08:00"; it was refused.
    firm = api("firm_admin")
    response = firm.get(
        "/epcis/events?GE_eventTime=2026-04-06T09:00:00+08:00&LT_eventTime=2026-04-08T16:20:00+08:00"
    )
    assert [e["bizStep"] for e in _events(response)] == ["shipping"]


def test_match_parameters_use_canonical_identifiers(api) -> None:
    firm = api("firm_admin")
    # The same unit as our Digital Link, as a canonical id.gs1.org link and as an EPC URN.
    for written in (unit("U1"), canonical_unit("U1"), "urn:epc:id:sgtin:690123456.0002.U1"):
        assert _steps(firm, MATCH_epc=written) == ["packing"]
        assert _steps(firm, MATCH_anyEPC=written) == ["commissioning", "packing"]
    assert _steps(firm, MATCH_outputEPC=unit("U2")) == ["commissioning"]
    assert _steps(firm, MATCH_parentID=CASE_URN) == ["packing"]
    assert _steps(firm, MATCH_epc=CASE) == ["shipping", "receiving"]
    assert _steps(firm, MATCH_anyEPC=CASE) == ["packing", "shipping", "receiving"]
    # Class patterns: every serial of a GTIN, every unit of a lot.
    assert _steps(firm, MATCH_epc="urn:epc:idpat:sgtin:690123456.0002.*") == ["packing"]
    assert _steps(firm, MATCH_anyEPC=f"https://id.gs1.org/01/{TEA_GTIN}/10/{TEA_LOT}") == [
        "commissioning",
        "packing",
    ]
    assert _steps(firm, MATCH_epcClass=batch(LEAF_LOT, LEAF_GTIN)) == ["commissioning"]
    assert _steps(firm, MATCH_epcClass=f"urn:epc:class:lgtin:690123456.0001.{LEAF_LOT}") == [
        "commissioning"
    ]
    assert _steps(firm, MATCH_inputEPCClass=batch(LEAF_LOT, LEAF_GTIN)) == ["commissioning"]
    assert _steps(firm, MATCH_outputEPCClass=batch(TEA_LOT, TEA_GTIN)) == ["commissioning"]
    assert len(_steps(firm, MATCH_anyEPCClass=batch(LEAF_LOT, LEAF_GTIN))) == 2
    # Repeated parameters are alternatives.
    response = firm.get(f"/epcis/events?MATCH_epc={quote(CASE)}&MATCH_epc={quote(unit('U1'))}")
    assert len(_events(response)) == 3


def test_pages_follow_the_link_header(api) -> None:
    firm = api("firm_admin")
    seen = []
    url = "/epcis/events?perPage=2&EQ_action=ADD|OBSERVE&GE_eventTime=2026-04-01T00:00:00Z"
    pages = 0
    while url:
        response = firm.get(url)
        seen += [event["eventID"] for event in _events(response)]
        pages += 1
        link = response.headers.get("Link")
        if link is None:
            break
        target = link.split(">")[0].lstrip("<")
        assert link.endswith('rel="next"') and "perPage=2" in target
        parts = urlsplit(target)
        url = f"{parts.path}?{parts.query}"
    assert pages == 2
    assert len(seen) == len(set(seen)) == 4  # the transformation has no action
    descending = _events(
        firm.get("/epcis/events", query_string={"orderDirection": "DESC", "perPage": 1, **SINCE})
    )
    assert descending[0]["bizStep"] == "receiving"


def _walk(client, **params) -> list[dict]:
    """Every event of a query, page by page through the Link header."""
    events: list[dict] = []
    response = client.get("/epcis/events", query_string=params)
    while True:
        events += _events(response)
        link = response.headers.get("Link")
        if link is None:
            return events
        parts = urlsplit(link.split(">")[0].lstrip("<"))
        response = client.get(f"{parts.path}?{parts.query}")


def test_order_by_event_time_or_record_time(api, session) -> None:
    # EPCIS 2.0 orderBy (eventTime, recordTime) was refused as an unknown parameter.
    firm = api("firm_admin")
    late = shipping("2026-04-04T09:00:00+08:00")  # happened before, recorded after the others
    late["epcList"] = [CASE_URN]
    late["bizStep"] = "departing"
    assert capture(firm, document(late)).status_code == 202
    by_event_time = ["commissioning", "commissioning", "departing", "packing", "shipping"]
    by_event_time.append("receiving")
    steps = [e["bizStep"] for e in _walk(firm, orderBy="eventTime", perPage=2, **SINCE)]
    assert steps == list(reversed(by_event_time))  # orderDirection defaults to DESC
    steps = [
        e["bizStep"]
        for e in _walk(firm, orderBy="eventTime", orderDirection="ASC", perPage=2, **SINCE)
    ]
    assert steps == by_event_time
    recorded = _walk(firm, orderBy="recordTime", orderDirection="ASC", perPage=4, **SINCE)
    assert recorded[-1]["bizStep"] == "departing"
    assert [e["recordTime"] for e in recorded] == sorted(e["recordTime"] for e in recorded)
    assert _walk(firm, orderBy="recordTime", perPage=4, **SINCE)[0]["bizStep"] == "departing"
    # A token of one order is not one of the other.
    response = firm.get(
        "/epcis/events", query_string={"orderBy": "recordTime", "perPage": 1, **SINCE}
    )
    token = response.headers["Link"].split("nextPageToken=")[1].split(">")[0]
    refused = firm.get(
        "/epcis/events", query_string={"orderBy": "eventTime", "nextPageToken": token}
    )
    assert refused.status_code == 422
    unknown = firm.get("/epcis/events", query_string={"orderBy": "bizStep"})
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"][0]["field"] == "query.orderBy"


def test_business_transaction_source_and_destination_parameters(api) -> None:
    # EQ_bizTransaction_<type>, EQ_source_<type>, EQ_destination_<type> were refused as
    # unknown parameters.
    firm = api("firm_admin")
    dispatched = shipping("2026-04-06T12:00:00+08:00")
    dispatched["bizStep"] = "departing"
    dispatched["bizTransactionList"] = [
        {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:6901234560015:PO-7"},
        {"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:6901234560015:ASN-7"},
    ]
    dispatched["sourceList"] = [
        {"type": "owning_party", "source": "urn:epc:id:pgln:690123456.000"},
        {"type": "location", "source": "urn:epc:id:sgln:690123456.300.0"},
    ]
    dispatched["destinationList"] = [
        {"type": "location", "destination": "https://id.gs1.org/414/6909998881001"}
    ]
    assert capture(firm, document(dispatched)).status_code == 202
    po = "urn:epcglobal:cbv:bt:6901234560015:PO-7"
    assert _steps(firm, EQ_bizTransaction_po=po) == ["departing"]
    assert _steps(firm, **{"EQ_bizTransaction_https://ref.gs1.org/cbv/BTT-po": po}) == ["departing"]
    assert _steps(firm, EQ_bizTransaction_desadv=po) == []  # the type must match too
    assert _steps(firm, EQ_bizTransaction_po=f"urn:x:other|{po}") == ["departing"]
    # GS1 identifiers match in any form: the SGLN URN and the GLN's Digital Link.
    assert _steps(firm, EQ_source_location="https://id.gs1.org/414/6901234563009") == ["departing"]
    assert _steps(firm, EQ_source_owning_party="https://id.gs1.org/417/6901234560008") == [
        "departing"
    ]
    assert _steps(firm, EQ_destination_location="urn:epc:id:sgln:690999888.100.0") == ["departing"]
    assert _steps(firm, EQ_destination_location="urn:epc:id:sgln:690123456.300.0") == []
    # Combined with the others (AND), and invisible to other firms.
    assert _steps(firm, EQ_bizTransaction_po=po, EQ_bizStep="shipping") == []
    assert _steps(api("firm2_admin"), EQ_bizTransaction_po=po) == []


def test_error_declaration_parameters(api) -> None:
    # EXISTS_errorDeclaration, GE_/LT_errorDeclarationTime and EQ_errorReason were refused as
    # unknown parameters: a client could not find the corrections to apply.
    firm = api("firm_admin")
    declared = {
        **shipping(),
        "errorDeclaration": {
            "declarationTime": "2026-04-07T10:00:00+08:00",
            "reason": "incorrect_data",
            "correctiveEventIDs": ["urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8"],
        },
    }
    assert capture(firm, document(declared)).status_code == 202
    assert _steps(firm, EXISTS_errorDeclaration="") == ["shipping"]
    assert _steps(firm, EQ_errorReason="incorrect_data") == ["shipping"]
    assert _steps(firm, EQ_errorReason="https://ref.gs1.org/cbv/ER-incorrect_data") == ["shipping"]
    assert _steps(firm, EQ_errorReason="did_not_occur") == []
    # An event captured with its declaration already in it.
    never = {
        **shipping("2026-04-09T09:00:00+08:00"),
        "bizStep": "departing",
        "errorDeclaration": {"declarationTime": "2026-04-10T00:00:00Z", "reason": "did_not_occur"},
    }
    assert capture(firm, document(never)).status_code == 202
    assert _steps(firm, EQ_errorReason="did_not_occur") == ["departing"]
    assert _steps(firm, EXISTS_errorDeclaration="") == ["shipping", "departing"]
    assert _steps(firm, GE_errorDeclarationTime="2026-04-07T02:00:00Z") == ["shipping", "departing"]
    assert _steps(firm, GE_errorDeclarationTime="2026-04-07T02:00:01Z") == ["departing"]
    assert _steps(firm, LT_errorDeclarationTime="2026-04-07T02:00:01Z") == ["shipping"]
    refused = firm.get("/epcis/events", query_string={"EQ_errorReason": "wrong"})
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["rule"] == "unknown-cbv-term"


def test_visibility_follows_ownership(api) -> None:
    assert _steps(api("firm2_admin")) == []
    assert len(_steps(api("government_viewer"))) == 5
    assert len(_steps(api("alliance_viewer"))) == 5
    assert len(_steps(api("association_auditor"))) == 5
    assert len(_steps(api("firm_staff"))) == 5


def test_one_event_by_event_id_or_hash(api) -> None:
    firm = api("firm_admin")
    first = _events(firm.get("/epcis/events", query_string={"perPage": 1, **SINCE}))[0]
    path = f"/epcis/events/{quote(first['eventID'], safe='')}"
    assert _events(firm.get(path)) == [first]
    assert api("government_viewer").get(path).status_code == 200
    hidden = api("firm2_admin").get(path)
    assert hidden.status_code == 404
    assert hidden.get_json()["type"].endswith("/epcis-event-not-found")
    assert firm.get("/epcis/events/urn:uuid:nothing").status_code == 404


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ({"GE_eventTime": "2026-04-06T01:00:00"}, "query.GE_eventTime", "timezone_aware"),
        ({"GE_eventTime": "yesterday"}, "query.GE_eventTime", "datetime_from_date_parsing"),
        # A bare number is not an EPCIS time (pydantic would read it as seconds since 1970).
        ({"LT_recordTime": "0.5"}, "query.LT_recordTime", "value_error"),
        ({"GE_eventTime": "1775000000"}, "query.GE_eventTime", "value_error"),
        ({"EQ_bizStep": "shiping"}, "query.EQ_bizStep", "unknown-cbv-term"),
        ({"EQ_action": "MOVE"}, "query.EQ_action", "enum"),
        ({"MATCH_epc": "urn:epc:id:sgtin:690123456.02.U1"}, "query.MATCH_epc", "gs1-length"),
        ({"perPage": "0"}, "query.perPage", "greater_than_equal"),
        ({"nextPageToken": "garbage"}, "query.nextPageToken", "invalid_token"),
        ({"EQ_whatever": "x"}, "query.EQ_whatever", "extra_forbidden"),
    ],
)
def test_bad_parameters_are_refused_precisely(api, params, field, rule) -> None:
    response = api("firm_admin").get("/epcis/events", query_string=params)
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert (field, rule) in {(e["field"], e["rule"]) for e in response.get_json()["errors"]}


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"GS1-EPCIS-Version": "2.0"}, 200),
        ({"GS1-EPCIS-Min": "1.2", "GS1-EPCIS-Max": "2.1", "GS1-CBV-Min": "2.0.0"}, 200),
        ({"GS1-EPCIS-Version": "1.2"}, 406),
        ({"GS1-EPCIS-Min": "2.1"}, 406),
        ({"GS1-EPCIS-Max": "1.2"}, 406),
        ({"GS1-CBV-Version": "1.2"}, 406),
        ({"GS1-EPCIS-Version": "two"}, 406),
    ],
)
def test_clients_speaking_other_versions_get_406(api, headers, status) -> None:
    # A client asking for EPCIS 1.2 got a 2.0 document it could not read, with a 200.
    firm = api("firm_admin")
    for response in (
        firm.get("/epcis/events", headers=headers),
        firm.post("/epcis/capture", json=document(), headers=headers),
    ):
        if status == 200:
            assert response.status_code in (200, 202), response.get_json()
            continue
        assert response.status_code == 406, response.get_json()
        assert response.headers["GS1-EPCIS-Version"] == "2.0"
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["type"].endswith("/epcis-version-not-supported")
        fields = {e["field"] for e in response.get_json()["errors"]}
        assert fields == {f"header.{name}" for name in headers}


def test_anonymous_callers_get_problem_json(client) -> None:
    response = client.get("/epcis/events")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_another_association_sees_none_of_these_members_events(app, session) -> None:
    from app.auth import services as auth
    from app.auth.models import OrgKind, Role
    from tests.conftest import ApiClient

    other = auth.create_organisation(
        session, slug="other-association", kind=OrgKind.ASSOCIATION, name_zh="别的协会", name_en="O"
    )
    user = auth.create_user(
        session,
        organisation=other,
        email="admin@other-association.example",
        display_name="O",
        role=Role.ADMIN,
        password="other-password-123",
    )
    token = auth.issue_token(session, user, name="t").secret
    session.commit()
    client = ApiClient(app.test_client(), token)
    assert _steps(client) == []
    recalls = client.get("/api/v1/trace/recalls")
    assert recalls.status_code == 200 and recalls.get_json()["items"] == []
