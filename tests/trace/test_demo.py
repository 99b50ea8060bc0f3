"""The demo's journey: harvest -> processing -> packing -> shipping -> receiving, read back
upstream and downstream, with the cold-chain partner's temperature readings."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import func, select

from app.demo.seed import seed_demo
from app.products.models import Batch, Product
from app.trace.models import CaptureJob, Event
from app.trace.recalls import is_recalled


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _journey(api, demo, direction: str) -> dict:
    url = _path(demo["epcis"]["journey_url"]) + f"&direction={direction}"
    response = api("firm_admin").get(url)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_demo_seed_describes_the_epcis_endpoints(demo) -> None:
    epcis = demo["epcis"]
    base = demo["base_url"]
    assert epcis["capture_url"] == f"{base}/epcis/capture"
    assert epcis["events_url"] == f"{base}/epcis/events"
    assert epcis["journey_url"].startswith(f"{base}/api/v1/trace/journey?epc=")
    assert epcis["journey_start"] in (
        demo.get("unit", {}).get("digital_link"),
        demo["batch"]["digital_link"],
    )
    assert demo["users"]["logistics_staff"]["organisation"] == "huizhou-cold-chain"


def test_the_demo_journey_reads_back_both_ways(api, demo) -> None:
    both = _journey(api, demo, "both")
    steps = [event["bizStep"] for event in both["events"]]
    assert steps == ["commissioning", "commissioning", "packing", "shipping", "receiving"]
    harvest, processing, _, shipping, receiving = both["events"]
    assert harvest["bizLocation"]["name_en"] == "Guniujiang tea garden"
    assert processing["type"] == "TransformationEvent"
    assert receiving["bizLocation"]["name_zh"] == "合肥徽茶坊（长江中路店）"
    assert {shipping["capturedBy"], receiving["capturedBy"]} == {"huizhou-cold-chain"}
    temperatures = [r["value"] for r in shipping["sensorReadings"] + receiving["sensorReadings"]]
    assert temperatures == [5.8, 6.1, 6.4, 7.2]
    assert all(r["type"] == "Temperature" and r["uom"] == "CEL" for r in shipping["sensorReadings"])

    backward = [e["bizStep"] for e in _journey(api, demo, "backward")["events"]]
    assert backward[:2] == ["commissioning", "commissioning"]
    assert "shipping" not in backward
    forward = [e["bizStep"] for e in _journey(api, demo, "forward")["events"]]
    assert forward[-3:] == ["packing", "shipping", "receiving"]


def test_the_demo_timeline_page(api, demo) -> None:
    page = api("firm_admin").get(
        _path(demo["epcis"]["timeline_url"]),
        headers={"Accept": "text/html", "Accept-Language": "zh-CN"},
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "牯牛降茶园" in html and "已收货" in html and "7.2 °C" in html


def test_a_recall_of_the_demo_leaf_reaches_the_demo_batch(api, demo, session) -> None:
    leaf = demo["epcis"]["leaf_batch"]
    leaf_batch = session.scalar(
        select(Batch.id)
        .join(Product, Product.id == Batch.product_id)
        .where(Product.gtin == leaf["gtin"], Batch.lot == leaf["lot"])
    )
    response = api("association_staff").post(
        "/api/v1/trace/recalls",
        json={"batch_id": leaf_batch, "kind": "hold", "reason": "抽检农残超标 residue test failed"},
    )
    assert response.status_code == 201, response.get_json()
    reached = {(b["gtin"], b["lot"]) for b in response.get_json()["affected"]["batches"]}
    assert (demo["product"]["gtin"], demo["batch"]["lot"]) in reached
    notice = is_recalled(session, demo["product"]["gtin"], lot=demo["batch"]["lot"])
    assert notice is not None and notice.kind == "hold" and not notice.is_own_batch


def test_seeding_again_captures_nothing_new(app, session) -> None:
    before = (
        session.scalar(select(func.count()).select_from(Event)),
        session.scalar(select(func.count()).select_from(CaptureJob)),
    )
    seed_demo(session, app.config["BASE_URL"])
    session.flush()
    after = (
        session.scalar(select(func.count()).select_from(Event)),
        session.scalar(select(func.count()).select_from(CaptureJob)),
    )
    assert after == before
