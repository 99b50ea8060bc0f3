"""EPCIS documents for tests: a tea firm's harvest, processing, packing, shipping, receiving."""

from __future__ import annotations

import copy
from typing import Any

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]

LEAF_GTIN = "06901234560015"  # fresh tea leaf (raw material)
TEA_GTIN = "06901234560022"  # packed black tea
OTHER_GTIN = "06907654320017"  # a product of the second firm
GARDEN_GLN = "6901234561005"
FACTORY_GLN = "6901234562002"
WAREHOUSE_GLN = "6901234563009"
STORE_GLN = "6909998881001"
CASE_SSCC = "069012345600000015"

LEAF_LOT = "LEAF2026A"
TEA_LOT = "HT2026B"


def dl(path: str) -> str:
    return f"https://brand.example.test{path}"


def unit(serial: str, *, lot: str = TEA_LOT, gtin: str = TEA_GTIN) -> str:
    """Our label's Digital Link of a unit (lot and serial)."""
    return dl(f"/01/{gtin}/10/{lot}/21/{serial}")


def canonical_unit(serial: str, gtin: str = TEA_GTIN) -> str:
    return f"https://id.gs1.org/01/{gtin}/21/{serial}"


def batch(lot: str, gtin: str) -> str:
    return f"https://id.gs1.org/01/{gtin}/10/{lot}"


def gln(number: str) -> str:
    return f"https://id.gs1.org/414/{number}"


CASE = f"https://id.gs1.org/00/{CASE_SSCC}"
CASE_URN = "urn:epc:id:sscc:690123456.00000001"  # the same case, as an EPC URN


def document(*events: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return {
        "@context": copy.deepcopy(context or CONTEXT),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-05-20T08:00:00+08:00",
        "epcisBody": {"eventList": [copy.deepcopy(e) for e in events]},
    }


def _base(event_type: str, time: str, **fields: Any) -> dict[str, Any]:
    event = {"type": event_type, "eventTime": time, "eventTimeZoneOffset": "+08:00"}
    event.update(fields)
    return event


def harvest(time: str = "2026-04-02T07:30:00+08:00", lot: str = LEAF_LOT) -> dict[str, Any]:
    return _base(
        "ObjectEvent",
        time,
        action="ADD",
        epcList=[],
        quantityList=[{"epcClass": batch(lot, LEAF_GTIN), "quantity": 120.5, "uom": "KGM"}],
        bizStep="commissioning",
        disposition="active",
        readPoint={"id": gln(GARDEN_GLN)},
        bizLocation={"id": gln(GARDEN_GLN)},
        ilmd={"cbvmda:harvestStartDate": "2026-04-02", "cbvmda:countryOfOrigin": "CN"},
    )


def processing(
    time: str = "2026-04-03T15:00:00+08:00",
    *,
    leaf_lot: str = LEAF_LOT,
    tea_lot: str = TEA_LOT,
    serials: tuple[str, ...] = ("U1", "U2"),
) -> dict[str, Any]:
    return _base(
        "TransformationEvent",
        time,
        inputQuantityList=[
            {"epcClass": batch(leaf_lot, LEAF_GTIN), "quantity": 120.5, "uom": "KGM"}
        ],
        outputQuantityList=[{"epcClass": batch(tea_lot, TEA_GTIN), "quantity": 24, "uom": "KGM"}],
        outputEPCList=[unit(s, lot=tea_lot) for s in serials],
        bizStep="commissioning",
        disposition="active",
        readPoint={"id": gln(FACTORY_GLN)},
        bizLocation={"id": gln(FACTORY_GLN)},
    )


def packing(
    time: str = "2026-04-05T10:00:00+08:00", serials: tuple[str, ...] = ("U1", "U2")
) -> dict[str, Any]:
    return _base(
        "AggregationEvent",
        time,
        action="ADD",
        parentID=CASE_URN,
        childEPCs=[unit(s) for s in serials],
        bizStep="packing",
        disposition="in_progress",
        readPoint={"id": gln(FACTORY_GLN)},
    )


def shipping(time: str = "2026-04-06T09:00:00+08:00") -> dict[str, Any]:
    return _base(
        "ObjectEvent",
        time,
        action="OBSERVE",
        epcList=[CASE],
        bizStep="shipping",
        disposition="in_transit",
        readPoint={"id": gln(WAREHOUSE_GLN)},
        sensorElementList=[
            {
                "sensorMetadata": {"time": time, "deviceID": "urn:epc:id:giai:6901234560.T1"},
                "sensorReport": [{"type": "gs1:Temperature", "value": 6.5, "uom": "CEL"}],
            }
        ],
    )


def receiving(time: str = "2026-04-08T16:20:00+08:00") -> dict[str, Any]:
    return _base(
        "ObjectEvent",
        time,
        action="OBSERVE",
        epcList=[CASE],
        bizStep="receiving",
        disposition="sellable_accessible",
        readPoint={"id": gln(STORE_GLN)},
        bizLocation={"id": gln(STORE_GLN)},
        sensorElementList=[
            {
                "sensorMetadata": {"time": time},
                "sensorReport": [{"type": "gs1:Temperature", "value": 8.0, "uom": "CEL"}],
            }
        ],
    )


def journey_events() -> list[dict[str, Any]]:
    return [harvest(), processing(), packing(), shipping(), receiving()]


LOCATIONS = [
    (GARDEN_GLN, "farm", "祁门红香茶园", "Hongxiang tea garden"),
    (FACTORY_GLN, "factory", "红香茶厂", "Hongxiang tea factory"),
    (WAREHOUSE_GLN, "warehouse", "红香仓库", "Hongxiang warehouse"),
    (STORE_GLN, "store", "合肥茶叶店", "Hefei tea shop"),
]


def register_locations(client: Any) -> None:
    for number, kind, name_zh, name_en in LOCATIONS:
        response = client.post(
            "/api/v1/trace/locations",
            json={"gln": number, "kind": kind, "name_zh": name_zh, "name_en": name_en},
        )
        assert response.status_code == 201, response.get_json()
