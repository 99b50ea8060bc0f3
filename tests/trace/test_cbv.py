"""CBV 2.0 vocabularies: term lists, expansion to web URIs, validation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.trace import cbv
from tests.vectors import vector_path

SCHEMA_DEFINITIONS: dict[str, Any] = json.loads(
    vector_path("epcis", "schema", "EPCIS-JSON-Schema.json").read_text("utf-8")
)["definitions"]

# vocabulary kind -> the schema definition that enumerates its bare words
SCHEMA_ENUMS = {
    "bizStep": "bizStep",
    "disposition": "disposition",
    "bizTransactionType": "bizTransaction-type",
    "sourceDestType": "source-dest-type",
    "errorReason": "error-reason",
    "component": "component",
    "measurementType": "measurementType",
    "sensorAlertType": "sensorAlertType",
}


def _schema_enum(definition: str) -> set[str]:
    (enum,) = [alt["enum"] for alt in SCHEMA_DEFINITIONS[definition]["anyOf"] if "enum" in alt]
    return set(enum)


@pytest.mark.parametrize(("kind", "definition"), sorted(SCHEMA_ENUMS.items()))
def test_term_lists_match_the_official_schema(kind: str, definition: str) -> None:
    assert cbv.VOCABULARIES[kind].terms == _schema_enum(definition)  # type: ignore[index]


def test_well_known_counts() -> None:
    assert len(cbv.BIZ_STEPS) == 41
    assert len(cbv.DISPOSITIONS) == 33
    assert "non_conformant" in cbv.DISPOSITIONS
    assert "sensor_reporting" in cbv.BIZ_STEPS


@pytest.mark.parametrize(
    ("kind", "value", "uri"),
    [
        ("bizStep", "shipping", "https://ref.gs1.org/cbv/BizStep-shipping"),
        (
            "bizStep",
            "urn:epcglobal:cbv:bizstep:shipping",
            "https://ref.gs1.org/cbv/BizStep-shipping",
        ),
        ("disposition", "in_transit", "https://ref.gs1.org/cbv/Disp-in_transit"),
        ("disposition", "urn:epcglobal:cbv:disp:recalled", "https://ref.gs1.org/cbv/Disp-recalled"),
        ("bizTransactionType", "po", "https://ref.gs1.org/cbv/BTT-po"),
        ("sourceDestType", "owning_party", "https://ref.gs1.org/cbv/SDT-owning_party"),
        ("errorReason", "did_not_occur", "https://ref.gs1.org/cbv/ER-did_not_occur"),
        ("component", "latitude", "https://ref.gs1.org/cbv/Comp-latitude"),
        ("measurementType", "Temperature", "https://gs1.org/voc/Temperature"),
        ("sensorAlertType", "ALARM_CONDITION", "https://gs1.org/voc/ALARM_CONDITION"),
        ("bizStep", "https://example.com/steps/roasting", "https://example.com/steps/roasting"),
    ],
)
def test_expand_term(kind: str, value: str, uri: str) -> None:
    assert cbv.expand_term(kind, value) == uri


def test_expand_term_does_not_judge() -> None:
    assert cbv.expand_term("bizStep", "roasting") == "https://ref.gs1.org/cbv/BizStep-roasting"


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="vocabulary kind"):
        cbv.expand_term("bizstep", "shipping")


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("bizStep", "shipping"),
        ("bizStep", "https://ref.gs1.org/cbv/BizStep-shipping"),
        ("bizStep", "urn:epcglobal:cbv:bizstep:void_shipping"),
        ("bizStep", "https://vocab.example.com/bizstep/roasting"),
        ("bizStep", "urn:example:bizstep:roasting"),
        ("disposition", "non_conformant"),
        ("measurementType", "gs1:Angle"),  # a CURIE is an absolute URI by syntax
    ],
)
def test_validate_term_accepts(kind: str, value: str) -> None:
    assert cbv.validate_term(kind, value) == cbv.expand_term(kind, value)


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        ("bizStep", "shiping", "not a CBV 2.0 bizStep term"),
        ("disposition", "nonconformant", "not a CBV 2.0 disposition term"),
        ("bizStep", "https://ref.gs1.org/cbv/BizStep-shiping", "standard namespace"),
        ("bizStep", "urn:epcglobal:cbv:bizstep:shiping", "standard namespace"),
        ("disposition", "https://ref.gs1.org/cbv/Disp-shipping", "standard namespace"),
        ("bizStep", "http://exa mple.com/x", "absolute URI"),
    ],
)
def test_validate_term_rejects(kind: str, value: str, reason: str) -> None:
    with pytest.raises(cbv.UnknownTermError, match=reason) as info:
        cbv.validate_term(kind, value)
    assert info.value.kind == kind
    assert info.value.value == value


def test_legacy_urn_to_uri_leaves_transaction_ids_alone() -> None:
    assert cbv.legacy_urn_to_uri("urn:epcglobal:cbv:btt:po") == "https://ref.gs1.org/cbv/BTT-po"
    assert cbv.legacy_urn_to_uri("urn:epcglobal:cbv:bt:0614141073467:1152") is None


def test_standard_term() -> None:
    assert (
        cbv.standard_term("disposition", "https://ref.gs1.org/cbv/Disp-in_transit") == "in_transit"
    )
    assert cbv.standard_term("disposition", "https://example.com/in_transit") is None


def test_every_standard_step_and_disposition_has_words_for_people() -> None:
    from app.trace.present import BIZ_STEP_LABELS, DISPOSITION_LABELS

    assert set(BIZ_STEP_LABELS) == cbv.BIZ_STEPS
    assert set(DISPOSITION_LABELS) == cbv.DISPOSITIONS
