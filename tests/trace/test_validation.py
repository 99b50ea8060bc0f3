"""EPCIS 2.0 document validation: official JSON Schema with URI formats, plus CBV rules."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft7Validator

from app.trace.validation import (
    Problem,
    compile_validator,
    load_schema,
    validate_capture_document,
    validate_document,
)
from tests.vectors import vector_path

EXAMPLES = vector_path("epcis", "hash-examples")
# The two query documents are EPCISQueryDocuments (query results), valid as documents but not
# acceptable for capture; every other example is a capture document.
QUERY_DOCUMENTS = {"epcisQueryDocument", "epcisQueryDocHavingEventWithIgnoreFields"}
ALL_EXAMPLES = sorted(p.stem for p in EXAMPLES.glob("*.jsonld"))


def _load(stem: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((EXAMPLES / f"{stem}.jsonld").read_text("utf-8"))
    return result


def _single() -> dict[str, Any]:
    return _load("epcisDocWithSingleEvent")


def _event(doc: dict[str, Any], index: int = 0) -> dict[str, Any]:
    event: dict[str, Any] = doc["epcisBody"]["eventList"][index]
    return event


def _by_pointer(problems: list[Problem]) -> dict[str, Problem]:
    return {p.pointer: p for p in problems}


def test_packaged_schema_is_the_published_schema() -> None:
    published = json.loads(vector_path("epcis", "schema", "EPCIS-JSON-Schema.json").read_text())
    assert load_schema() == published


def test_uri_format_checking_is_active() -> None:
    # Without rfc3986-validator jsonschema would accept any string for format: uri.
    validator = compile_validator(load_schema())
    assert validator.format_checker is not None
    assert "uri" in validator.format_checker.checkers


@pytest.mark.parametrize("stem", ALL_EXAMPLES)
def test_published_examples_are_valid(stem: str) -> None:
    document = _load(stem)
    assert validate_document(document) == []
    capture_problems = validate_capture_document(document)
    if stem in QUERY_DOCUMENTS:
        assert document["type"] == "EPCISQueryDocument"
        assert [p.code for p in capture_problems] == ["not-a-capture-document"]
    else:
        assert capture_problems == []


def test_non_uri_in_uri_field_is_rejected() -> None:
    doc = _single()
    _event(doc)["readPoint"]["id"] = "not a uri"
    problems = validate_document(doc)
    assert problems == [
        Problem(
            "/epcisBody/eventList/0/readPoint/id", "schema-format", "'not a uri' is not a 'uri'"
        )
    ]


def test_unknown_field_is_rejected_at_its_own_pointer() -> None:
    doc = _single()
    _event(doc)["myField"] = "x"  # not a standard name and not an extension URI (no prefix)
    (problem,) = validate_document(doc)
    assert problem.pointer == "/epcisBody/eventList/0/myField"
    assert problem.code == "schema-unknown-property"


def test_prefixed_extension_field_is_accepted() -> None:
    doc = _single()
    _event(doc)["gs1:myField"] = "x"
    assert validate_document(doc) == []


def test_additional_property_in_closed_object_is_rejected() -> None:
    doc = _single()
    _event(doc)["bizTransactionList"][0]["note"] = "x"
    (problem,) = validate_document(doc)
    assert problem.pointer == "/epcisBody/eventList/0/bizTransactionList/0/note"
    assert problem.code == "schema-unknown-property"


def test_missing_event_time() -> None:
    doc = _load("epcisDocWithVariousEventTypes")
    del _event(doc, 3)["eventTime"]
    problems = validate_document(doc)
    assert [(p.pointer, p.code) for p in problems] == [
        ("/epcisBody/eventList/3/eventTime", "missing-event-time")
    ]


def test_missing_time_zone_offset_and_bad_offset() -> None:
    doc = _load("epcisDocWithVariousEventTypes")
    del _event(doc, 0)["eventTimeZoneOffset"]
    _event(doc, 1)["eventTimeZoneOffset"] = "+1:00"
    problems = _by_pointer(validate_document(doc))
    assert problems["/epcisBody/eventList/0/eventTimeZoneOffset"].code == "missing-time-zone-offset"
    assert problems["/epcisBody/eventList/1/eventTimeZoneOffset"].code == "invalid-time-zone-offset"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("eventTime", "2022-02-16T20:33:31.116", "time-without-offset"),
        ("eventTime", "16/02/2022 20:33", "invalid-time"),
        ("eventTime", "2022-13-16T20:33:31Z", "invalid-time"),
        ("eventTime", "2022-02-16T20:33:31.1234567+01:00", None),
        ("recordTime", "2022-02-16T20:33:31", "time-without-offset"),
    ],
)
def test_time_values(field: str, value: str, code: str | None) -> None:
    doc = _single()
    _event(doc)[field] = value
    if code is None:
        assert validate_document(doc) == []
        return
    (problem,) = validate_document(doc)
    assert (problem.pointer, problem.code) == (f"/epcisBody/eventList/0/{field}", code)


def test_sensor_time_without_offset_is_pointed_at() -> None:
    doc = _load("epcisDocWithSensorDataObjectEvent")
    _event(doc)["sensorElementList"][2]["sensorMetadata"]["time"] = "2022-02-16T14:55:00"
    (problem,) = validate_document(doc)
    assert problem.pointer == "/epcisBody/eventList/0/sensorElementList/2/sensorMetadata/time"
    assert problem.code == "time-without-offset"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("bizStep",), "shiping"),
        (("disposition",), "in_transito"),
        (("bizTransactionList", 0, "type"), "purchase_order"),
        (("bizStep",), "https://ref.gs1.org/cbv/BizStep-shiping"),
    ],
)
def test_unknown_cbv_term_is_rejected(path: tuple[str | int, ...], value: str) -> None:
    doc = _single()
    target: Any = _event(doc)
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    problems = validate_document(doc)
    pointer = "/epcisBody/eventList/0/" + "/".join(str(p) for p in path)
    assert [(p.pointer, p.code) for p in problems] == [(pointer, "unknown-cbv-term")]
    assert value in problems[0].message


def test_custom_vocabulary_uri_is_accepted() -> None:
    doc = _single()
    _event(doc)["bizStep"] = "https://vocab.example.com/bizstep/roasting"
    assert validate_document(doc) == []


def test_legacy_cbv_urn_is_rejected_by_the_json_schema() -> None:
    # The JSON binding forbids urn:epcglobal:cbv URNs for CBV terms (bare words instead).
    doc = _single()
    _event(doc)["bizStep"] = "urn:epcglobal:cbv:bizstep:shipping"
    (problem,) = validate_document(doc)
    assert (problem.pointer, problem.code) == ("/epcisBody/eventList/0/bizStep", "schema-anyOf")


@pytest.mark.parametrize("event_type", ["ObjectEvent", "AggregationEvent", "TransactionEvent"])
def test_action_is_required(event_type: str) -> None:
    doc = _load("epcisDocWithVariousEventTypes")
    index = next(i for i, e in enumerate(doc["epcisBody"]["eventList"]) if e["type"] == event_type)
    del _event(doc, index)["action"]
    problems = _by_pointer(validate_document(doc))
    assert problems[f"/epcisBody/eventList/{index}/action"].code == "missing-action"


def test_transformation_event_needs_no_action() -> None:
    doc = _load("epcisDocWithXMLstartTagAndErrorDeclaration")
    assert "action" not in _event(doc)
    assert validate_document(doc) == []


def test_event_count_limit() -> None:
    doc = _single()
    doc["epcisBody"]["eventList"] = [_event(doc)] * 3
    assert validate_document(doc, max_events=3) == []
    (problem,) = validate_document(doc, max_events=2)
    assert (problem.pointer, problem.code) == ("/epcisBody/eventList", "too-many-events")


def test_missing_epcis_context() -> None:
    doc = _single()
    doc["@context"] = [{"gs1": "https://gs1.org/voc/"}]
    (problem,) = validate_document(doc)
    assert (problem.pointer, problem.code) == ("/@context", "missing-epcis-context")


def test_not_an_object() -> None:
    assert [p.code for p in validate_document([1, 2])] == ["not-an-object"]


def test_problems_are_in_document_order() -> None:
    doc = _load("epcisDocWithVariousEventTypes")
    _event(doc, 10)["bizStep"] = "nope"
    _event(doc, 2)["bizStep"] = "nope"
    _event(doc, 9)["readPoint"]["id"] = "no uri"
    pointers = [p.pointer for p in validate_document(doc)]
    assert pointers == [
        "/epcisBody/eventList/2/bizStep",
        "/epcisBody/eventList/9/readPoint/id",
        "/epcisBody/eventList/10/bizStep",
    ]


def test_query_document_events_are_checked() -> None:
    doc = _load("epcisQueryDocument")
    doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"][1]["disposition"] = "lost"
    (problem,) = validate_document(doc)
    assert problem.pointer == "/epcisBody/queryResults/resultsBody/eventList/1/disposition"
    assert problem.code == "unknown-cbv-term"


def test_caller_supplied_validator_is_used() -> None:
    schema = copy.deepcopy(load_schema())
    schema["definitions"]["epcisDocument"]["required"].append("sender")
    validator = compile_validator(schema)
    assert isinstance(validator, Draft7Validator)
    problems = validate_document(_single(), validator=validator)
    assert [(p.pointer, p.code) for p in problems] == [("/sender", "schema-required")]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_number_json_has_not_is_pointed_at(value: float) -> None:
    # Python's parser reads NaN and Infinity; RFC 8259 JSON has neither, nor has a quantity.
    doc = _load("epcisDocWithVariousEventTypes")
    event = next(e for e in doc["epcisBody"]["eventList"] if e.get("quantityList"))
    event["quantityList"][0]["quantity"] = value
    index = doc["epcisBody"]["eventList"].index(event)
    problems = _by_pointer(validate_document(json.loads(json.dumps(doc))))
    problem = problems[f"/epcisBody/eventList/{index}/quantityList/0/quantity"]
    assert problem.code == "not-a-number"
