"""Scans are stored once each, counted once per shopper visit, and anomalies raise alerts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.resolver.models import AlertKind, AlertStatus, Scan, ScanAlert, ScanTally
from tests.resolver.conftest import BROWSER, path_of


def _scans(session, unit_key: str) -> list[Scan]:
    return list(session.scalars(select(Scan).where(Scan.unit_key == unit_key).order_by(Scan.id)))


def _unit_key(demo, key: str = "unit") -> str:
    path = path_of(demo, key)
    gtin = path.split("/")[2]
    return f"01/{gtin}/21/{path.rsplit('/', 1)[1]}"


def _alerts(session, kind: AlertKind) -> list[ScanAlert]:
    return list(session.scalars(select(ScanAlert).where(ScanAlert.kind == kind)))


def test_a_scan_is_stored_with_time_verdict_and_a_hash_of_the_client(
    session, new_shopper, demo
) -> None:
    shopper = new_shopper("alice")
    before = len(_scans(session, _unit_key(demo)))
    shopper.get(path_of(demo, "unit"), accept=BROWSER)
    scans = _scans(session, _unit_key(demo))
    assert len(scans) == before + 1
    scan = scans[-1]
    assert (
        scan.verdict.value == "GENUINE" and scan.channel.value == "link" and scan.answer == "page"
    )
    assert len(scan.client_hash) == 32
    # Nothing about the client is stored in the clear.
    for value in vars(scan).values():
        assert shopper.address not in str(value) and "test shopper" not in str(value)


def test_a_reload_counts_once_another_shopper_counts_again(session, new_shopper, demo) -> None:
    path = path_of(demo, "unit")
    first, second = new_shopper(), new_shopper()
    counts = [first.get(path).get_json()["scans"]["count"]]
    counts.append(first.get(path, accept=BROWSER) and first.get(path).get_json()["scans"]["count"])
    counts.append(second.get(path).get_json()["scans"]["count"])
    assert counts[1] == counts[0]  # the same shopper reloading, switching language, ...
    assert counts[2] == counts[0] + 1
    scans = _scans(session, _unit_key(demo))[-4:]
    assert [scan.is_repeat for scan in scans] == [False, True, True, False]
    tally = session.get(ScanTally, _unit_key(demo))
    assert tally.scan_count == counts[2]


def test_the_page_says_how_often_and_since_when(new_shopper, demo) -> None:
    path = path_of(demo, "unit_suspended")
    text = (
        new_shopper().get(path, accept=BROWSER, **{"Accept-Language": "en"}).get_data(as_text=True)
    )
    assert 'id="scan-count"' in text
    other = new_shopper().get(path, accept=BROWSER, **{"Accept-Language": "en"})
    assert "times, first on" in other.get_data(as_text=True)


def test_head_options_and_redirects_store_no_scan(session, shopper, demo) -> None:
    path = path_of(demo, "unit")
    before = len(_scans(session, _unit_key(demo)))
    shopper.head(path)
    shopper.client.options(path)
    shopper.get(path + "?linkType=gs1:certificationInfo")
    assert len(_scans(session, _unit_key(demo))) == before


def test_hits_on_blacklisted_and_inactive_codes_raise_one_alert_each(
    session, new_shopper, demo
) -> None:
    for _ in range(3):
        new_shopper().get(path_of(demo, "unit_blacklisted"))
    new_shopper().get(path_of(demo, "unit_inactive"))
    blacklisted = [
        a for a in _alerts(session, AlertKind.BLACKLISTED_HIT) if a.status is AlertStatus.OPEN
    ]
    assert len(blacklisted) == 1 and blacklisted[0].occurrences >= 3
    assert blacklisted[0].serial == path_of(demo, "unit_blacklisted").rsplit("/", 1)[1]
    inactive = _alerts(session, AlertKind.INACTIVE_HIT)
    assert len(inactive) == 1 and inactive[0].firm_id is not None and inactive[0].brand_id


def test_unknown_serials_of_a_registered_product_raise_a_product_alert(
    session, new_shopper, demo
) -> None:
    gtin, lot = demo["product"]["gtin"], demo["batch"]["lot"]
    for serial in ("CLONE000001", "CLONE000002"):
        assert new_shopper().get(f"/01/{gtin}/10/{lot}/21/{serial}").status_code == 404
    alerts = _alerts(session, AlertKind.UNKNOWN_CODE)
    assert len(alerts) == 1
    assert alerts[0].occurrences == 2 and alerts[0].details["serial"] == "CLONE000002"
    # A GTIN nobody registered alerts nobody.
    new_shopper().get("/01/09501101530003/21/X1")
    assert len(_alerts(session, AlertKind.UNKNOWN_CODE)) == 1


def test_a_copied_serial_under_another_lot_is_a_scan_and_an_alert_not_a_count(
    session, new_shopper, demo
) -> None:
    unit_key = _unit_key(demo)
    path = path_of(demo, "unit").replace(demo["batch"]["lot"], "FAKELOT1")
    new_shopper().get(path_of(demo, "unit"))
    tally_before = session.get(ScanTally, unit_key).scan_count
    genuine_scans = len(_scans(session, unit_key))
    for _ in range(2):
        assert new_shopper().get(path, accept=BROWSER).status_code == 404
    session.expire_all()
    assert session.get(ScanTally, unit_key).scan_count == tally_before
    assert len(_scans(session, unit_key)) == genuine_scans
    copies = list(session.scalars(select(Scan).where(Scan.lot == "FAKELOT1")))
    assert len(copies) == 2
    assert all(scan.verdict.value == "NOT_FOUND" for scan in copies)
    assert all(scan.reasons == ["lot_mismatch"] and scan.brand_id for scan in copies)
    assert all(scan.firm_id and scan.association_id for scan in copies)
    (alert,) = _alerts(session, AlertKind.UNKNOWN_CODE)
    assert alert.occurrences == 2 and alert.lot == "FAKELOT1"
    assert alert.details["reasons"] == ["lot_mismatch"]
    assert alert.details["recorded_lot"] == demo["batch"]["lot"]


def test_too_many_shoppers_on_one_pack_warn_until_the_alert_is_resolved(
    api, new_shopper, demo
) -> None:
    slug = demo["brand"]["slug"]
    admin = api("association_admin")
    assert (
        admin.put(
            f"/api/v1/brands/{slug}/scan-rules/repeat_scans",
            json={"is_enabled": True, "threshold": 3},
        ).status_code
        == 200
    )
    path = path_of(demo, "unit")
    verdicts = [new_shopper().get(path).get_json()["verdict"] for _ in range(5)]
    assert verdicts[-1] == "GENUINE_WITH_WARNING"
    one = new_shopper()
    body = one.get(path).get_json()
    assert "many_scans" in [reason["code"] for reason in body["reasons"]]
    # The same shopper reloading does not add to the count of shoppers.
    shoppers = body["scans"]["shoppers"]
    assert one.get(path).get_json()["scans"]["shoppers"] == shoppers
    alerts = admin.get("/api/v1/scan-alerts?kind=repeat_scans&status=open").get_json()["items"]
    assert len(alerts) == 1 and alerts[0]["details"]["threshold"] == 3
    assert alerts[0]["details"]["shoppers"] > 3
    # Six shoppers within minutes also tripped the default many_clients rule.
    serial = path.rsplit("/", 1)[1]
    for alert in admin.get("/api/v1/scan-alerts?status=open").get_json()["items"]:
        if alert["serial"] == serial:
            resolved = admin.post(
                f"/api/v1/scan-alerts/{alert['id']}/resolve",
                json={"resolution": "false_alarm", "note": "a tasting event"},
            )
            assert resolved.status_code == 200 and resolved.get_json()["status"] == "resolved"
    assert one.get(path).get_json()["verdict"] == "GENUINE"


def test_many_clients_in_a_short_window_warn(api, new_shopper, demo) -> None:
    slug = demo["brand"]["slug"]
    api("association_admin").put(
        f"/api/v1/brands/{slug}/scan-rules/many_clients",
        json={"is_enabled": True, "threshold": 3, "window_minutes": 10},
    )
    path = path_of(demo, "unit")
    bodies = [new_shopper().get(path).get_json() for _ in range(3)]
    assert bodies[-1]["verdict"] == "GENUINE_WITH_WARNING"
    assert bodies[-1]["reasons"][0]["code"] == "many_clients"


def _fresh_serial(session, demo) -> str:
    """A serial of the demo's active order that nobody has scanned yet."""
    from app.products.models import UnitCode

    gtin = demo["product"]["gtin"]
    blacklisted = path_of(demo, "unit_blacklisted").rsplit("/", 1)[1]
    serials = session.scalars(
        select(UnitCode.serial)
        .where(UnitCode.order_id == demo["label_order"]["id"])
        .order_by(UnitCode.id.desc())
    )
    return next(
        serial
        for serial in serials
        if serial != blacklisted and session.get(ScanTally, f"01/{gtin}/21/{serial}") is None
    )


def test_a_consumed_pack_scanned_by_someone_else_warns(session, api, new_shopper, demo) -> None:
    api("association_admin").put(
        f"/api/v1/brands/{demo['brand']['slug']}/scan-rules/consume_on_first_scan",
        json={"is_enabled": True},
    )
    path = path_of(demo, "unit").rsplit("/", 1)[0] + "/" + _fresh_serial(session, demo)
    buyer = new_shopper("buyer")
    assert buyer.get(path).get_json()["verdict"] == "GENUINE"
    assert buyer.get(path).get_json()["verdict"] == "GENUINE"  # the buyer again: fine
    reused = new_shopper("reuser").get(path).get_json()
    assert reused["verdict"] == "GENUINE_WITH_WARNING"
    assert reused["reasons"][0]["code"] == "scanned_after_consumed"


def test_a_recall_makes_the_verdict_not_valid(session, new_shopper, demo, users) -> None:
    from app.trace.models import RecallKind
    from app.trace.recalls import place_recall

    place_recall(
        session,
        users("firm_admin"),
        batch_id=demo["batch"]["id"],
        kind=RecallKind.RECALL,
        reason="mould found",
    )
    session.commit()
    body = new_shopper().get(path_of(demo, "unit")).get_json()
    assert body["verdict"] == "NOT_VALID"
    assert body["reasons"][0]["code"] == "product_recalled"
    assert "mould" in body["reasons"][0]["message"]
    # The title says what happened: the certification itself is in force.
    assert body["title"] == "Not valid: this product is recalled"
    assert "do not eat or use it" in body["summary"]
    assert "certification" not in body["title"] and body["certificate"]["in_force"] is True
    page = new_shopper().get(path_of(demo, "unit"), accept=BROWSER, **{"Accept-Language": "zh-CN"})
    title = re.search(r'<h1 id="verdict-title"[^>]*>([^<]*)</h1>', page.get_data(as_text=True))
    assert title and title.group(1) == "无效：该产品已被召回"


def test_a_hold_names_the_hold_in_the_title(session, new_shopper, demo, users) -> None:
    from app.trace.models import RecallKind
    from app.trace.recalls import place_recall

    place_recall(
        session, users("firm_admin"), batch_id=demo["batch"]["id"], kind=RecallKind.HOLD, reason="x"
    )
    session.commit()
    body = new_shopper().get(path_of(demo, "unit")).get_json()
    assert body["reasons"][0]["code"] == "product_on_hold"
    assert body["title"] == "Not valid: this product is on hold"


def test_location_is_attached_only_by_the_scanning_shopper(session, new_shopper, demo) -> None:
    import re

    shopper = new_shopper()
    page = shopper.get(path_of(demo, "unit"), accept=BROWSER).get_data(as_text=True)
    ref = re.search(r'name="scan" value="([^"]+)"', page).group(1)
    stranger = new_shopper().post(
        "/scans/location", data={"scan": ref, "place": "Hefei"}, accept="application/json"
    )
    assert stranger.status_code == 409
    assert stranger.get_json()["type"].endswith("/problems/scan-not-found")
    bad = shopper.post(
        "/scans/location",
        data={"scan": ref, "latitude": "99", "longitude": "1"},
        accept="application/json",
    )
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "latitude"
    saved = shopper.post(
        "/scans/location",
        data={"scan": ref, "latitude": "29.857312", "longitude": "117.717891", "place": "祁门"},
    )
    assert saved.status_code == 200 and "text/html" in saved.content_type
    scan = _scans(session, _unit_key(demo))[-1]
    assert (scan.latitude, scan.longitude, scan.place) == (29.86, 117.72, "祁门")
    forged = shopper.post(
        "/scans/location", data={"scan": ref + "x", "place": "x"}, accept="application/json"
    )
    assert forged.status_code == 422


def test_a_location_comes_within_an_hour(session, new_shopper, demo) -> None:
    from app.resolver.errors import LocationRefused
    from app.resolver.services import add_scan_location

    shopper = new_shopper()
    shopper.get(path_of(demo, "unit"))
    scan = _scans(session, _unit_key(demo))[-1]
    late = scan.scanned_at + timedelta(hours=2)
    try:
        add_scan_location(
            session, scan.id, scan.client_hash, latitude=None, longitude=None, place="x", now=late
        )
    except LocationRefused as error:
        assert error.slug == "scan-too-old"
    else:
        raise AssertionError("a late location was accepted")


@pytest.mark.parametrize(
    ("who", "data", "words"),
    [
        ("stranger", {"place": "黄山"}, "请重新扫描二维码"),
        ("shopper", {"place": ""}, "请填写购买的城镇或店铺"),
    ],
)
def test_a_location_not_saved_is_explained_in_the_shoppers_language(
    new_shopper, demo, who, data, words
) -> None:
    shopper = new_shopper()
    page = shopper.get(path_of(demo, "unit") + "?lang=zh-CN", accept=BROWSER)
    ref = re.search(r'name="scan" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    # Another connection (mobile data instead of Wi-Fi) is another client to the scan's hash.
    poster = shopper if who == "shopper" else new_shopper()
    answer = poster.client.post(
        "/scans/location?lang=zh-CN",
        data={"scan": ref, **data},
        headers={"Accept": BROWSER, "User-Agent": poster.agent},
        environ_base={"REMOTE_ADDR": poster.address},
    )
    text = answer.get_data(as_text=True)
    assert answer.status_code in (409, 422) and "位置未保存" in text
    message = re.search(r"<h1>[^<]*</h1><p>([^<]*)</p>", text).group(1)
    assert words in message and not re.search(r"[A-Za-z]{3,}", message), message
