"""The compiled fast path of schema validation agrees with the reference (jsonschema) on
valid and invalid documents, formats included."""

from __future__ import annotations

import copy
import json

import pytest

from app.trace.validation import _default_validator, _fast_validator
from tests.trace.factories import document, journey_events
from tests.vectors import vector_path

EXAMPLES = sorted(vector_path("epcis", "hash-examples").glob("*.jsonld"))


def _mutations() -> list[dict]:
    base = document(*journey_events())
    cases = [base]

    def mutate(path: list, value: object) -> None:
        doc = copy.deepcopy(base)
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        cases.append(doc)

    events = ["epcisBody", "eventList"]
    mutate([*events, 0, "readPoint", "id"], "not a uri")
    mutate([*events, 0, "readPoint", "id"], "urn:")
    mutate([*events, 0, "eventTime"], "yesterday")
    mutate([*events, 0, "eventTime"], "2026-02-30T10:00:00Z")
    mutate([*events, 0, "action"], 7)
    mutate([*events, 1, "outputEPCList"], "x")
    mutate([*events, 2, "childEPCs", 0], "has space")
    mutate([*events, 3, "unknownField"], 1)
    mutate([*events, 3, "sensorElementList", 0, "sensorReport", 0, "value"], "warm")
    mutate([*events, 0, "quantityList", 0, "quantity"], "many")
    mutate(["schemaVersion"], 2)
    mutate(["epcisBody"], [])
    return cases


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_published_examples_get_the_same_verdict(path) -> None:
    doc = json.loads(path.read_text("utf-8"))
    reference = not list(_default_validator().iter_errors(doc))
    assert _fast_validator().is_valid(doc) == reference


@pytest.mark.parametrize("index", range(len(_mutations())))
def test_mutated_documents_get_the_same_verdict(index) -> None:
    doc = _mutations()[index]
    reference = not list(_default_validator().iter_errors(doc))
    assert _fast_validator().is_valid(doc) == reference
