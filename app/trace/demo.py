"""Demo: the journey of the demo batch (and of its demo unit, when the demo has labels) from
the tea garden to a tea shop in Hefei.

Harvest of fresh leaf at the garden -> processing into the finished lot (TransformationEvent)
-> packing into a case (AggregationEvent) -> shipping by a cold-chain partner -> receiving at
the shop, with temperature readings on the way. Idempotent: events are identified by their hash
IDs, and a second run captures nothing new.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from app.auth import services as auth
from app.auth.models import Organisation, OrgKind, Role, User
from app.auth.services import caller_for
from app.demo.seed import DEMO_PASSWORD, DemoContext
from app.gs1.epc import lgtin_to_digital_link
from app.products import services as products
from app.products.models import Batch, Product
from app.trace import capture
from app.trace.event_hash import event_hash_id
from app.trace.identifiers import location_uri
from app.trace.models import Event, Location, LocationKind, PartnerAuthorisation
from app.trace.query import EPCIS_CONTEXT
from app.trace.services import authorise_partner, register_location

LEAF_GTIN = "06971234000095"
LEAF_LOT = "LEAF-2026-0318"
CASE_SSCC_URN = "urn:epc:id:sscc:6971234.0000000001"
OFFSET = "+08:00"

GARDEN = ("6931234000020", LocationKind.FARM, "红香茶业牯牛降茶园", "Guniujiang tea garden")
FACTORY = ("6931234000013", LocationKind.FACTORY, "红香茶业历口初制所", "Likou tea factory")
WAREHOUSE = ("6931234000037", LocationKind.WAREHOUSE, "红香茶业祁门仓库", "Qimen warehouse")
SHOP = ("6954321000017", LocationKind.STORE, "合肥徽茶坊（长江中路店）", "Huicha tea shop, Hefei")

PARTNER = dict(
    slug="huizhou-cold-chain",
    kind=OrgKind.ENTERPRISE,
    name_zh="徽州冷链物流有限公司",
    name_en="Huizhou Cold Chain Logistics Co., Ltd.",
    registration_number="91341000MA2R5K8L30",
    registration_scheme="uscc",
    region_code="CN-AH",
)
PARTNER_USER = ("dispatch@huizhou-cold-chain.example", "吴刚 Wu Gang")


def _organisation(ctx: DemoContext) -> Organisation:
    partner = ctx.session.scalar(select(Organisation).where(Organisation.slug == PARTNER["slug"]))
    if partner is None:
        partner = auth.create_organisation(ctx.session, **PARTNER)  # type: ignore[arg-type]
    return partner


def _partner_user(ctx: DemoContext, partner: Organisation) -> User:
    email, name = PARTNER_USER
    user = ctx.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = auth.create_user(
            ctx.session,
            organisation=partner,
            email=email,
            display_name=name,
            role=Role.STAFF,
            password=DEMO_PASSWORD,
        )
    return user


def _leaf_batch(ctx: DemoContext) -> Batch:
    firm = caller_for(ctx.users["firm_admin"])
    product = ctx.session.scalar(select(Product).where(Product.gtin == LEAF_GTIN))
    if product is None:
        product = products.register_product(
            ctx.session,
            firm,
            gtin=LEAF_GTIN,
            name_zh="祁门槠叶种鲜叶（一芽二叶）",
            name_en="Fresh Qimen Zhuye leaf (one bud, two leaves)",
        )
    batch = ctx.session.scalar(
        select(Batch).where(Batch.product_id == product.id, Batch.lot == LEAF_LOT)
    )
    if batch is None:
        batch = products.create_batch(
            ctx.session,
            firm,
            product.id,
            lot=LEAF_LOT,
            production_date=date(2026, 3, 18).isoformat(),
            quantity=180,
            production_site="牯牛降茶园 Guniujiang tea garden",
            production_site_gln=GARDEN[0],
        )
    return batch


def _locations(ctx: DemoContext) -> None:
    firm_id = ctx.organisations["firm"].id
    firm = caller_for(ctx.users["firm_admin"])
    for gln, kind, name_zh, name_en in (GARDEN, FACTORY, WAREHOUSE, SHOP):
        exists = ctx.session.scalar(
            select(Location.id).where(
                Location.organisation_id == firm_id, Location.uri == location_uri(gln)
            )
        )
        if exists is None:
            register_location(
                ctx.session,
                firm,
                gln=gln,
                extension=None,
                kind=kind,
                name_zh=name_zh,
                name_en=name_en,
            )


def _authorise(ctx: DemoContext, partner: Organisation) -> None:
    active = ctx.session.scalar(
        select(PartnerAuthorisation.id).where(
            PartnerAuthorisation.organisation_id == ctx.organisations["firm"].id,
            PartnerAuthorisation.partner_organisation_id == partner.id,
            PartnerAuthorisation.revoked_at.is_(None),
        )
    )
    if active is None:
        authorise_partner(
            ctx.session,
            caller_for(ctx.users["firm_admin"]),
            partner_slug=partner.slug,
            gtins=None,
            note="冷链运输合同 cold-chain transport contract 2026",
        )


def _event(event_type: str, time: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": event_type,
        "eventTime": f"{time}{OFFSET}",
        "eventTimeZoneOffset": OFFSET,
        **fields,
    }


def _place(gln: str) -> dict[str, str]:
    return {"id": location_uri(gln)}


def _temperatures(start: str, values: list[float], device: str) -> list[dict[str, Any]]:
    return [
        {
            "sensorMetadata": {"time": f"{start}{OFFSET}", "deviceID": device},
            "sensorReport": [
                {"type": "gs1:Temperature", "value": value, "uom": "CEL", "time": f"{t}{OFFSET}"}
                for t, value in zip(_every_hours(start, len(values), 6), values, strict=True)
            ],
        }
    ]


def _every_hours(start: str, count: int, hours: int) -> list[str]:
    first = datetime.fromisoformat(start)
    return [(first + timedelta(hours=hours * i)).isoformat() for i in range(count)]


def firm_events(finished_gtin: str, finished_lot: str, unit: str | None) -> list[dict[str, Any]]:
    """The firm's own events: harvest, processing, packing."""
    leaf = lgtin_to_digital_link(LEAF_GTIN, LEAF_LOT)
    finished = lgtin_to_digital_link(finished_gtin, finished_lot)
    packing: dict[str, Any] = {"parentID": CASE_SSCC_URN}
    if unit is not None:
        packing["childEPCs"] = [unit]
    else:
        packing["childQuantityList"] = [{"epcClass": finished, "quantity": 20, "uom": "H87"}]
    return [
        _event(
            "ObjectEvent",
            "2026-03-18T06:40:00",
            action="ADD",
            epcList=[],
            quantityList=[{"epcClass": leaf, "quantity": 180, "uom": "KGM"}],
            bizStep="commissioning",
            disposition="active",
            readPoint=_place(GARDEN[0]),
            bizLocation=_place(GARDEN[0]),
            ilmd={
                "cbvmda:harvestStartDate": "2026-03-18",
                "cbvmda:countryOfOrigin": "CN",
                "cbvmda:farmList": [{"cbvmda:farmID": location_uri(GARDEN[0])}],
            },
        ),
        _event(
            "TransformationEvent",
            "2026-03-20T17:30:00",
            inputQuantityList=[{"epcClass": leaf, "quantity": 180, "uom": "KGM"}],
            outputQuantityList=[{"epcClass": finished, "quantity": 40, "uom": "KGM"}],
            bizStep="commissioning",
            disposition="active",
            readPoint=_place(FACTORY[0]),
            bizLocation=_place(FACTORY[0]),
        ),
        _event(
            "AggregationEvent",
            "2026-03-22T10:15:00",
            action="ADD",
            **packing,
            bizStep="packing",
            disposition="in_progress",
            readPoint=_place(FACTORY[0]),
            bizLocation=_place(FACTORY[0]),
        ),
    ]


def partner_events() -> list[dict[str, Any]]:
    """The cold-chain partner's events: shipping from the warehouse, receiving at the shop."""
    device = "urn:epc:id:giai:6971234.TLOG-07"
    return [
        _event(
            "ObjectEvent",
            "2026-03-25T08:00:00",
            action="OBSERVE",
            epcList=[CASE_SSCC_URN],
            bizStep="shipping",
            disposition="in_transit",
            readPoint=_place(WAREHOUSE[0]),
            bizLocation=_place(WAREHOUSE[0]),
            sensorElementList=_temperatures("2026-03-25T08:00:00", [5.8, 6.1, 6.4], device),
        ),
        _event(
            "ObjectEvent",
            "2026-03-26T14:20:00",
            action="OBSERVE",
            epcList=[CASE_SSCC_URN],
            bizStep="receiving",
            disposition="sellable_accessible",
            readPoint=_place(SHOP[0]),
            bizLocation=_place(SHOP[0]),
            sensorElementList=_temperatures("2026-03-26T14:20:00", [7.2], device),
        ),
    ]


def _capture(ctx: DemoContext, user: User, events: list[dict[str, Any]]) -> None:
    hashes = [event_hash_id(event, [EPCIS_CONTEXT]) for event in events]
    known = set(ctx.session.scalars(select(Event.hash_id).where(Event.hash_id.in_(hashes))))
    if known == set(hashes):
        return
    document = {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": f"{events[-1]['eventTime']}",
        "epcisBody": {"eventList": events},
    }
    capture.capture_document(
        ctx.session,
        caller_for(user),
        document,
        raw=json.dumps(document, ensure_ascii=False).encode(),
        base_url=ctx.base_url,
    )


def seed_epcis(ctx: DemoContext) -> None:
    """Locations, a cold-chain partner, and the demo batch's (or unit's) journey."""
    batch_info = ctx.result.get("batch")
    product_info = ctx.result.get("product")
    if not batch_info or not product_info:
        return  # the products demo did not run: nothing to trace
    unit = (ctx.result.get("unit") or {}).get("digital_link")
    partner = _organisation(ctx)
    partner_user = _partner_user(ctx, partner)
    _leaf_batch(ctx)
    _locations(ctx)
    _authorise(ctx, partner)
    _capture(
        ctx,
        ctx.users["firm_admin"],
        firm_events(product_info["gtin"], batch_info["lot"], unit),
    )
    _capture(ctx, partner_user, partner_events())

    start = unit or products.batch_uri(ctx.base_url, product_info["gtin"], batch_info["lot"])
    issued = auth.issue_token(ctx.session, partner_user, name="demo", expires_in=timedelta(days=30))
    ctx.result.setdefault("tokens", {})["logistics_staff"] = issued.secret
    ctx.result.setdefault("users", {})["logistics_staff"] = {
        "username": partner_user.email,
        "password": DEMO_PASSWORD,
        "organisation": partner.slug,
        "role": Role.STAFF.value,
    }
    ctx.result["epcis"] = {
        "capture_url": f"{ctx.base_url}/epcis/capture",
        "events_url": f"{ctx.base_url}/epcis/events",
        "journey_url": f"{ctx.base_url}/api/v1/trace/journey?epc={quote(start, safe='')}",
        "timeline_url": f"{ctx.base_url}/trace/journey?epc={quote(start, safe='')}",
        "journey_start": start,
        "partner": partner.slug,
        "leaf_batch": {
            "gtin": LEAF_GTIN,
            "lot": LEAF_LOT,
            "digital_link": products.batch_uri(ctx.base_url, LEAF_GTIN, LEAF_LOT),
        },
        "case": CASE_SSCC_URN,
    }
