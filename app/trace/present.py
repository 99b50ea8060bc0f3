"""How capture jobs and journeys are shown: the JSON shapes of the API and the data of the
timeline page (one shape for both, so people and machines see the same journey)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from typing import Any

from flask_babel import gettext, lazy_gettext
from sqlalchemy.orm import Session

from app.i18n import current_locale
from app.trace import cbv
from app.trace.journeys import Journey
from app.trace.models import CaptureJob, CaptureStatus, Event
from app.trace.recalls import journey_notices
from app.trace.services import location_names

_GS1_VOC = ("gs1:", cbv.GS1_VOC_BASE)


def capture_job_json(job: CaptureJob, base_url: str) -> dict[str, Any]:
    """A capture job in the EPCIS 2.0 shape (captureID, running, success, errors...)."""
    return {
        "captureID": job.capture_id,
        "createdAt": job.created_at,
        "finishedAt": job.finished_at,
        "running": False,
        "success": job.status == CaptureStatus.SUCCEEDED,
        "captureErrorBehaviour": job.error_behaviour.value,
        "errors": job.errors,
        "status": job.status.value,
        "eventCount": job.event_count,
        "capturedCount": job.captured_count,
        "duplicateCount": job.duplicate_count,
        "errorDeclarationCount": job.declared_count,
        "rejectedCount": job.rejected_count,
        "documentSha256": job.document_sha256,
        "capturedBy": job.organisation.slug,
        "url": capture_job_url(job, base_url),
    }


def capture_job_url(job: CaptureJob, base_url: str) -> str:
    return f"{base_url}/epcis/capture/{job.capture_id}"


def _term(kind: str, value: str | None) -> str | None:
    if value is None:
        return None
    return cbv.standard_term(kind, value) or value


def _measurement(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    for prefix in _GS1_VOC:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def sensor_readings(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Sensor reports of an event, flattened (type without the gs1: prefix, value, unit)."""
    readings = []
    for element in document.get("sensorElementList") or []:
        if not isinstance(element, Mapping):
            continue
        metadata = element.get("sensorMetadata") or {}
        for report in element.get("sensorReport") or []:
            if not isinstance(report, Mapping):
                continue
            value = report.get("value", report.get("meanValue"))
            readings.append(
                {
                    "type": _measurement(report.get("type")),
                    "value": float(value) if isinstance(value, int | float) else None,
                    "uom": report.get("uom"),
                    "time": report.get("time") or metadata.get("time"),
                    "deviceID": report.get("deviceID") or metadata.get("deviceID"),
                }
            )
    return readings


def _certifications(document: Mapping[str, Any]) -> list[str]:
    value = document.get("certificationInfo")
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _event(
    event: Event, relation: str, via: tuple[str, ...], places: Mapping[str, Any]
) -> dict[str, Any]:
    def place(uri: str | None) -> dict[str, Any] | None:
        if uri is None:
            return None
        location = places.get(uri)
        if location is None:
            return {"id": uri}
        return {"id": uri, "name_zh": location.name_zh, "name_en": location.name_en}

    return {
        "eventID": event.epcis_event_id,
        "hashID": event.hash_id,
        "type": event.event_type,
        "eventTime": event.event_time,
        "eventTimeZoneOffset": event.time_zone_offset,
        "action": event.action,
        "bizStep": _term("bizStep", event.biz_step),
        "disposition": _term("disposition", event.disposition),
        "readPoint": place(event.read_point),
        "bizLocation": place(event.biz_location),
        "identifiers": [
            {"role": link.role.value, "uri": link.uri, "quantity": link.quantity, "uom": link.uom}
            for link in event.epcs
        ],
        "sensorReadings": sensor_readings(event.document),
        "certificationInfo": _certifications(event.document),
        "capturedBy": event.organisation.slug,
        "relation": relation,
        "via": list(via),
    }


def journey_json(session: Session, journey: Journey) -> dict[str, Any]:
    """A journey for the API and the timeline page, with registered location names."""
    uris = {
        uri
        for step in journey.steps
        for uri in (step.event.read_point, step.event.biz_location)
        if uri
    }
    places = location_names(session, uris)
    start = journey.start
    return {
        "start": {"uri": start.uri, "gtin": start.gtin, "lot": start.lot, "serial": start.serial},
        "direction": journey.direction.value,
        "events": [_event(step.event, step.relation, step.via, places) for step in journey.steps],
        "identifiers": list(journey.identifiers),
        "truncated": journey.truncated,
        "recalls": [asdict(notice) for notice in journey_notices(session, journey)],
    }


# ---------------------------------------------------------------------------------------------
# Timeline labels (people read words, not CBV URIs)
# ---------------------------------------------------------------------------------------------

# Every CBV 2.0 business step and disposition, in words; the raw term goes in a title beside.
BIZ_STEP_LABELS = {
    "accepting": lazy_gettext("Accepted"),
    "arriving": lazy_gettext("Arrived"),
    "assembling": lazy_gettext("Assembled"),
    "collecting": lazy_gettext("Collected"),
    "commissioning": lazy_gettext("Produced"),
    "consigning": lazy_gettext("Consigned"),
    "creating_class_instance": lazy_gettext("Produced"),
    "cycle_counting": lazy_gettext("Counted in a cycle count"),
    "decommissioning": lazy_gettext("Taken out of use"),
    "departing": lazy_gettext("Departed"),
    "destroying": lazy_gettext("Destroyed"),
    "disassembling": lazy_gettext("Disassembled"),
    "dispensing": lazy_gettext("Dispensed"),
    "encoding": lazy_gettext("Code written"),
    "entering_exiting": lazy_gettext("Entered or left a place"),
    "holding": lazy_gettext("Put on hold"),
    "inspecting": lazy_gettext("Inspected"),
    "installing": lazy_gettext("Installed"),
    "killing": lazy_gettext("Slaughtered"),
    "loading": lazy_gettext("Loaded"),
    "other": lazy_gettext("Other step"),
    "packing": lazy_gettext("Packed"),
    "picking": lazy_gettext("Picked for an order"),
    "receiving": lazy_gettext("Received"),
    "removing": lazy_gettext("Taken out"),
    "repackaging": lazy_gettext("Repackaged"),
    "repairing": lazy_gettext("Repaired"),
    "replacing": lazy_gettext("Replaced"),
    "reserving": lazy_gettext("Set aside (reserved)"),
    "retail_selling": lazy_gettext("Sold"),
    "sampling": lazy_gettext("Sampled"),
    "sensor_reporting": lazy_gettext("Sensor report"),
    "shipping": lazy_gettext("Shipped"),
    "staging_outbound": lazy_gettext("Made ready for shipping"),
    "stock_taking": lazy_gettext("Counted in a stocktake"),
    "stocking": lazy_gettext("Put on the shelves"),
    "storing": lazy_gettext("Stored"),
    "transporting": lazy_gettext("In transport"),
    "unloading": lazy_gettext("Unloaded"),
    "unpacking": lazy_gettext("Unpacked"),
    "void_shipping": lazy_gettext("Shipping cancelled"),
}
DISPOSITION_LABELS = {
    "active": lazy_gettext("in use (commissioned)"),
    "available": lazy_gettext("available again"),
    "completeness_inferred": lazy_gettext("contents assumed complete"),
    "completeness_verified": lazy_gettext("contents checked complete"),
    "conformant": lazy_gettext("conforms to requirements"),
    "container_closed": lazy_gettext("container closed"),
    "container_open": lazy_gettext("container open"),
    "damaged": lazy_gettext("damaged"),
    "destroyed": lazy_gettext("destroyed"),
    "dispensed": lazy_gettext("dispensed in full"),
    "disposed": lazy_gettext("disposed of"),
    "encoded": lazy_gettext("code written"),
    "expired": lazy_gettext("past its expiry date"),
    "in_progress": lazy_gettext("in progress"),
    "in_transit": lazy_gettext("in transit"),
    "inactive": lazy_gettext("not in use (inactive)"),
    "mismatch_class": lazy_gettext("wrong product received"),
    "mismatch_instance": lazy_gettext("wrong item received"),
    "mismatch_quantity": lazy_gettext("wrong quantity received"),
    "needs_replacement": lazy_gettext("needs replacing"),
    "no_pedigree_match": lazy_gettext("no matching pedigree"),
    "non_conformant": lazy_gettext("does not conform to requirements"),
    "non_sellable_other": lazy_gettext("not for sale"),
    "partially_dispensed": lazy_gettext("partly dispensed"),
    "recalled": lazy_gettext("recalled"),
    "reserved": lazy_gettext("set aside (reserved)"),
    "retail_sold": lazy_gettext("sold to a consumer"),
    "returned": lazy_gettext("returned"),
    "sellable_accessible": lazy_gettext("for sale, on the shelf"),
    "sellable_not_accessible": lazy_gettext("for sale, not yet on the shelf"),
    "stolen": lazy_gettext("stolen"),
    "unavailable": lazy_gettext("unavailable"),
    "unknown": lazy_gettext("state unknown"),
}
ACTION_LABELS = {
    "ADD": lazy_gettext("came into being or was added"),
    "OBSERVE": lazy_gettext("observed"),
    "DELETE": lazy_gettext("ceased to exist or was taken apart"),
}
EVENT_TYPE_LABELS = {
    "ObjectEvent": lazy_gettext("Object event"),
    "AggregationEvent": lazy_gettext("Aggregation event"),
    "TransformationEvent": lazy_gettext("Transformation event"),
    "TransactionEvent": lazy_gettext("Transaction event"),
    "AssociationEvent": lazy_gettext("Association event"),
}
RELATION_LABELS = {
    "self": lazy_gettext("this item"),
    "backward": lazy_gettext("upstream"),
    "forward": lazy_gettext("downstream"),
}
ROLE_LABELS = {
    "epc": lazy_gettext("item"),
    "parent": lazy_gettext("container"),
    "child": lazy_gettext("packed item"),
    "input": lazy_gettext("input"),
    "output": lazy_gettext("output"),
    "quantity": lazy_gettext("quantity"),
    "child_quantity": lazy_gettext("packed quantity"),
    "input_quantity": lazy_gettext("input quantity"),
    "output_quantity": lazy_gettext("output quantity"),
}
MEASUREMENT_LABELS = {
    "Temperature": lazy_gettext("Temperature"),
    "RelativeHumidity": lazy_gettext("Relative humidity"),
    "AbsoluteHumidity": lazy_gettext("Absolute humidity"),
    "Mass": lazy_gettext("Mass"),
}
UNIT_SYMBOLS = {"CEL": "°C", "FAH": "°F", "P1": "%", "KGM": "kg", "GRM": "g"}


def _label(labels: Mapping[str, Any], value: str | None) -> str:
    if value is None:
        return ""
    return str(labels.get(value, value))


def local_time(event: Mapping[str, Any]) -> str:
    """An event's time as people at the place saw the clock (its eventTimeZoneOffset)."""
    offset = event["eventTimeZoneOffset"]
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = offset[1:].split(":")
    zone = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    moment: datetime = event["eventTime"]
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def template_helpers() -> dict[str, Any]:
    """Functions the timeline template calls."""
    zh = current_locale() == "zh_CN"
    return {
        "local_time": local_time,
        "step_label": lambda value: _label(BIZ_STEP_LABELS, value) or gettext("Event"),
        "disposition_label": lambda value: _label(DISPOSITION_LABELS, value),
        "action_label": lambda value: _label(ACTION_LABELS, value),
        "type_label": lambda value: _label(EVENT_TYPE_LABELS, value),
        "relation_label": lambda value: _label(RELATION_LABELS, value),
        "role_label": lambda value: _label(ROLE_LABELS, value),
        "measurement_label": lambda value: _label(MEASUREMENT_LABELS, value),
        "unit_label": lambda value: UNIT_SYMBOLS.get(value, value or ""),
        "number": lambda value: "" if value is None else f"{value:g}",
        "place_name": lambda place: place["name_zh"] if zh else place["name_en"],
    }
