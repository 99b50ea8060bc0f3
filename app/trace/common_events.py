"""The common events of a tea firm, built as EPCIS 2.0 events from a few facts.

People record a harvest, a processing run, packing, shipping or receiving; this module turns
what they say (when, where, which batch and how much, which labelled units, which case) into the
ObjectEvent, TransformationEvent or AggregationEvent the standard expects, so the capture service
checks and stores it exactly like an uploaded document. No Flask, no database access.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.trace.query import EPCIS_CONTEXT


class CommonEventKind(enum.StrEnum):
    HARVEST = "harvest"  # fresh leaf picked: a lot comes into being (ObjectEvent ADD)
    PROCESSING = "processing"  # one lot made into another (TransformationEvent)
    PACKING = "packing"  # units or a quantity packed into a case (AggregationEvent ADD)
    SHIPPING = "shipping"  # leaving a place (ObjectEvent OBSERVE)
    RECEIVING = "receiving"  # arriving at a place (ObjectEvent OBSERVE)


@dataclass(frozen=True)
class Amount:
    """A quantity of a batch (an EPC class): its Digital Link URI, how much, UN/CEFACT unit."""

    epc_class: str
    quantity: float
    uom: str


@dataclass(frozen=True)
class CommonEvent:
    """What a person tells about one event.

    ``units`` are unit Digital Link URIs, ``container`` a case's SSCC Digital Link URI;
    ``amounts`` is what the event is about when no units are named (for processing: the input),
    ``outputs`` what processing made.
    """

    kind: CommonEventKind
    event_time: datetime  # timezone-aware
    location: str  # canonical GLN URI of a registered location
    amounts: Sequence[Amount] = ()
    outputs: Sequence[Amount] = ()
    units: Sequence[str] = ()
    container: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# (event type, action, CBV business step, CBV disposition)
SHAPES: dict[CommonEventKind, tuple[str, str | None, str, str]] = {
    CommonEventKind.HARVEST: ("ObjectEvent", "ADD", "commissioning", "active"),
    CommonEventKind.PROCESSING: ("TransformationEvent", None, "commissioning", "active"),
    CommonEventKind.PACKING: ("AggregationEvent", "ADD", "packing", "in_progress"),
    CommonEventKind.SHIPPING: ("ObjectEvent", "OBSERVE", "shipping", "in_transit"),
    CommonEventKind.RECEIVING: ("ObjectEvent", "OBSERVE", "receiving", "in_progress"),
}


def _offset(moment: datetime) -> str:
    delta = moment.utcoffset()
    if delta is None:
        raise ValueError("event times must be timezone-aware")
    minutes = int(delta.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _quantities(amounts: Sequence[Amount]) -> list[dict[str, Any]]:
    return [
        {
            "epcClass": amount.epc_class,
            # Whole numbers are written as integers: "40", not "40.0".
            "quantity": int(amount.quantity)
            if float(amount.quantity).is_integer()
            else amount.quantity,
            "uom": amount.uom,
        }
        for amount in amounts
    ]


def build_event(event: CommonEvent) -> dict[str, Any]:
    """The EPCIS 2.0 event (JSON-LD, inside a document with the standard context)."""
    event_type, action, biz_step, disposition = SHAPES[event.kind]
    built: dict[str, Any] = {
        "type": event_type,
        "eventTime": event.event_time.isoformat(timespec="seconds"),
        "eventTimeZoneOffset": _offset(event.event_time),
    }
    if action is not None:
        built["action"] = action
    if event.kind is CommonEventKind.PROCESSING:
        built["inputQuantityList"] = _quantities(event.amounts)
        built["outputQuantityList"] = _quantities(event.outputs)
    elif event.kind is CommonEventKind.PACKING:
        built["parentID"] = event.container
        if event.units:
            built["childEPCs"] = list(event.units)
        if event.amounts:
            built["childQuantityList"] = _quantities(event.amounts)
    else:
        built["epcList"] = [*([event.container] if event.container else []), *event.units]
        if event.amounts:
            built["quantityList"] = _quantities(event.amounts)
    built["bizStep"] = biz_step
    built["disposition"] = disposition
    built["readPoint"] = {"id": event.location}
    built["bizLocation"] = {"id": event.location}
    if event.kind is CommonEventKind.HARVEST:
        local_day = event.event_time.date().isoformat()
        built["ilmd"] = {"cbvmda:harvestStartDate": local_day, **event.extra}
    return built


def build_document(events: Sequence[dict[str, Any]], created: datetime) -> dict[str, Any]:
    """An EPCISDocument carrying ``events``, ready for the capture service."""
    return {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created.isoformat(timespec="seconds"),
        "epcisBody": {"eventList": list(events)},
    }
