"""The firm's traceability pages: the common-event form (built as EPCIS and captured), EPCIS
uploads with the capture result, the event list, journeys, locations, holds and recalls."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.trace.common_events import (
    Amount,
    CommonEvent,
    CommonEventKind,
    build_document,
    build_event,
)
from app.trace.models import CaptureJob, Event, Location, LocationKind, Recall, RecallStatus
from app.trace.services import register_location
from tests.products.factories import caller, make_batch
from tests.products.test_portal import count, error_of, form_fields, hidden, signed_in

BASE = "https://brand.example.test"
FACTORY_GLN = "6931234000013"  # a demo location of Hongxiang Tea
CHINA = timedelta(hours=8)


def factory_id(session) -> int:
    return session.scalar(
        select(Location.id).where(
            Location.gln == FACTORY_GLN, Location.organisation_id == caller(session).organisation_id
        )
    )


def event_form(client, kind: str, **fields: str) -> dict[str, str]:
    path = f"/portal/trace/events/new?kind={kind}"
    return {**form_fields(client, path), "time_zone": "+08:00", **fields}


def an_hour_ago() -> str:
    return (datetime.now(UTC) + CHINA - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")


# --- the common-event form --------------------------------------------------------------------


def test_record_a_harvest_once_even_when_the_form_is_posted_twice(app, demo, session) -> None:
    batch = make_batch(session, caller(session), "LEAF-0402", quota=None)
    client = signed_in(app, demo)
    chooser = client.get(f"/portal/trace/events/new?batch={batch.id}&lang=en").get_data(
        as_text=True
    )
    assert "Harvest" in chooser and "Processing" in chooser and f"batch={batch.id}" in chooser
    page = client.get(f"/portal/trace/events/new?kind=harvest&batch={batch.id}").get_data(
        as_text=True
    )
    assert f'<option value="{batch.id}" selected' in page
    data = event_form(
        client,
        "harvest",
        event_time=an_hour_ago(),
        location_id=str(factory_id(session)),
        batch_id=str(batch.id),
        quantity="180",
        uom="KGM",
    )
    first = client.post("/portal/trace/events/new?kind=harvest", data=data)
    assert first.status_code == 303 and first.headers["Location"].startswith(
        "/portal/trace/captures/"
    )
    again = client.post("/portal/trace/events/new?kind=harvest", data=data)
    assert again.headers["Location"] == first.headers["Location"]
    capture_id = first.headers["Location"].rsplit("/", 1)[1]
    job = session.scalar(select(CaptureJob).where(CaptureJob.capture_id == capture_id))
    assert job.captured_count == 1 and count(session, CaptureJob, CaptureJob.id >= job.id) == 1
    event = session.scalar(select(Event).where(Event.capture_job_id == job.id))
    assert event.event_type == "ObjectEvent" and event.biz_step.endswith("commissioning")
    assert event.document["quantityList"][0] == {
        "epcClass": f"{BASE}/01/{batch.product.gtin}/10/LEAF-0402",
        "quantity": 180,
        "uom": "KGM",
    }
    result = client.get(first.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "Succeeded: every event was accepted." in result and "Likou tea factory" in result


def test_event_form_errors_stay_next_to_their_fields(app, demo, session) -> None:
    client = signed_in(app, demo)
    future = (datetime.now(UTC) + CHINA + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    before = count(session, Event)
    data = event_form(
        client, "harvest", event_time=future, location_id=str(factory_id(session)), quantity="-3"
    )
    response = client.post("/portal/trace/events/new?kind=harvest&lang=en", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert error_of(page, "quantity") == "More than 0."
    assert f'value="{future}"' in page
    data["quantity"] = "5"
    page = client.post("/portal/trace/events/new?kind=harvest&lang=en", data=data).get_data(
        as_text=True
    )
    assert error_of(page, "event_time") == "This time is in the future."
    assert error_of(page, "batch_id") == "Choose a batch."
    chinese = client.post("/portal/trace/events/new?kind=harvest&lang=zh-CN", data=data).get_data(
        as_text=True
    )
    assert error_of(chinese, "event_time") == "这个时间在将来。"
    assert count(session, Event) == before


@pytest.mark.parametrize("quantity", ["NaN", "nan", "inf", "-Infinity"])
def test_a_quantity_that_is_no_number_is_refused_as_such(app, demo, session, quantity) -> None:
    client = signed_in(app, demo)
    before = count(session, Event)
    data = event_form(client, "harvest", location_id=str(factory_id(session)), quantity=quantity)
    response = client.post("/portal/trace/events/new?kind=harvest&lang=en", data=data)
    assert response.status_code == 422
    assert error_of(response.get_data(as_text=True), "quantity") == "Enter a number."
    chinese = client.post("/portal/trace/events/new?kind=harvest&lang=zh-CN", data=data)
    assert "数字" in error_of(chinese.get_data(as_text=True), "quantity")
    assert count(session, Event) == before


def test_packing_names_the_case_and_the_labelled_units(app, demo, session) -> None:
    client = signed_in(app, demo)
    batch_id = demo["batch"]["id"]
    data = event_form(
        client,
        "packing",
        event_time=an_hour_ago(),
        location_id=str(factory_id(session)),
        batch_id=str(batch_id),
        container="069712340000000027",
        serials=f"{demo['unit']['serial']}\nNOTASERIAL1",
    )
    page = client.post("/portal/trace/events/new?kind=packing&lang=en", data=data).get_data(
        as_text=True
    )
    assert error_of(page, "container") == (
        "The check digit (the last digit) is 7; for these digits it must be 6."
    )
    assert error_of(page, "serials") == "No label of batch QM2026-03A has the serial NOTASERIAL1."
    assert "NOTASERIAL1" in page  # what was typed is kept
    data.update(container="069712340000000026", serials=demo["unit"]["serial"])
    done = client.post("/portal/trace/events/new?kind=packing", data=data)
    assert done.status_code == 303
    capture_id = done.headers["Location"].rsplit("/", 1)[1]
    event = session.scalar(
        select(Event).join(CaptureJob).where(CaptureJob.capture_id == capture_id)
    )
    assert event.event_type == "AggregationEvent"
    assert event.document["parentID"] == "https://id.gs1.org/00/069712340000000026"
    assert event.document["childEPCs"] == [demo["unit"]["digital_link"]]
    journey = client.get(
        "/portal/trace/journey?lang=en&epc=" + demo["unit"]["digital_link"]
    ).get_data(as_text=True)
    assert journey.count("Packed") >= 2 and "069712340000000026" in journey


def test_another_firms_location_or_batch_in_the_form_answers_404(app, demo, session) -> None:
    other = caller(session, "admin@shanyuan-tea.example")
    location = register_location(
        session,
        other,
        gln="6954321000024",
        extension=None,
        kind=LocationKind.FACTORY,
        name_zh="山源茶厂",
        name_en="Shanyuan factory",
    )
    other_batch = make_batch(session, other, quota=None)
    client = signed_in(app, demo)
    before = count(session, Event)
    data = event_form(
        client,
        "harvest",
        event_time=an_hour_ago(),
        location_id=str(location.id),
        batch_id=str(demo["batch"]["id"]),
        quantity="5",
    )
    assert client.post("/portal/trace/events/new?kind=harvest", data=data).status_code == 404
    data.update(location_id=str(factory_id(session)), batch_id=str(other_batch.id))
    assert client.post("/portal/trace/events/new?kind=harvest", data=data).status_code == 404
    assert count(session, Event) == before


# --- uploads and capture jobs -----------------------------------------------------------------


def _document(gtin: str, lot: str, *, bad_second: bool = False) -> str:
    moment = datetime(2026, 4, 2, 9, 30, tzinfo=UTC)
    good = build_event(
        CommonEvent(
            CommonEventKind.SHIPPING,
            moment,
            f"https://id.gs1.org/414/{FACTORY_GLN}",
            amounts=[Amount(f"{BASE}/01/{gtin}/10/{lot}", 12, "H87")],
        )
    )
    events = [good]
    if bad_second:
        events.append({**good, "eventTime": "2026-04-02T10:00:00Z", "bizStep": "not a step at all"})
    return json.dumps(build_document(events, moment))


def test_upload_a_document_and_see_the_capture_result(app, demo, session) -> None:
    client = signed_in(app, demo)
    fields = form_fields(client, "/portal/trace/upload")
    document = _document(demo["product"]["gtin"], demo["batch"]["lot"])
    done = client.post(
        "/portal/trace/upload",
        data={**fields, "document": document, "error_behaviour": "rollback"},
    )
    assert done.status_code == 303
    page = client.get(done.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "Succeeded" in page and "Shipped" in page
    again = client.post(
        "/portal/trace/upload",
        data={**form_fields(client, "/portal/trace/upload"), "document": document},
    )
    shown = client.get(again.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "Recorded before (not stored twice)</dt><dd>1" in shown


def test_a_refused_upload_points_at_the_event_and_field(app, demo, session) -> None:
    client = signed_in(app, demo)
    fields = form_fields(client, "/portal/trace/upload")
    document = _document(demo["product"]["gtin"], demo["batch"]["lot"], bad_second=True)
    before = count(session, Event)
    refused = client.post(
        "/portal/trace/upload?lang=en",
        data={**fields, "document": document, "error_behaviour": "rollback"},
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "nothing was stored" in page
    assert "event 2" in page and "<code>/bizStep</code>" in page
    assert count(session, Event) == before
    assert "not a step at all" in page  # the pasted document is kept in the form
    proceed = client.post(
        "/portal/trace/upload",
        data={**fields, "document": document, "error_behaviour": "proceed"},
    )
    assert proceed.status_code == 303
    result = client.get(proceed.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "Partly succeeded" in result and "event 2" in result
    assert count(session, Event) == before + 1


def test_upload_input_errors_and_forged_posts(app, demo, session) -> None:
    client = signed_in(app, demo)
    fields = form_fields(client, "/portal/trace/upload")
    not_json = client.post(
        "/portal/trace/upload?lang=en",
        data={**fields, "document": "{not json", "error_behaviour": "rollback"},
    )
    assert not_json.status_code == 422
    assert error_of(not_json.get_data(as_text=True), "document").startswith("This is not JSON")
    empty = client.post("/portal/trace/upload?lang=zh-CN", data={**fields, "document": " "})
    assert error_of(empty.get_data(as_text=True), "document") == "请选择文件或粘贴文档。"
    forged = client.post(
        "/portal/trace/upload",
        data={"document": _document(demo["product"]["gtin"], demo["batch"]["lot"])},
        headers={"Accept": "text/html"},
    )
    assert forged.status_code == 403


def test_text_that_is_not_json_is_explained_in_the_page_language(app, demo) -> None:
    client = signed_in(app, demo)
    fields = form_fields(client, "/portal/trace/upload")
    for lang, expected in (
        ("en", "This is not JSON: a name in double quotes is expected (line 1, column 2)."),
        ("zh-CN", "这不是 JSON：此处应为带双引号的名称（第 1 行，第 2 列）。"),
    ):
        response = client.post(
            f"/portal/trace/upload?lang={lang}",
            data={**fields, "document": "{not json", "error_behaviour": "rollback"},
        )
        assert response.status_code == 422
        assert error_of(response.get_data(as_text=True), "document") == expected
    trailing = client.post(
        "/portal/trace/upload?lang=zh-CN",
        data={**fields, "document": '{"a": 1}\n{"b": 2}', "error_behaviour": "rollback"},
    )
    message = error_of(trailing.get_data(as_text=True), "document")
    assert message.startswith("这不是 JSON：") and "第 2 行" in message
    assert "Extra data" not in message and "Expecting" not in message
    huge = client.post(
        "/portal/trace/upload?lang=en",
        data={**fields, "document": '{"n": ' + "9" * 5000 + "}", "error_behaviour": "rollback"},
    )
    assert huge.status_code == 422
    assert error_of(huge.get_data(as_text=True), "document") == (
        "This is not JSON we can read: a number is too long."
    )


def test_an_uploaded_event_dated_in_the_future_is_refused_readably(app, demo, session) -> None:
    client = signed_in(app, demo)
    fields = form_fields(client, "/portal/trace/upload")
    document = json.loads(_document(demo["product"]["gtin"], demo["batch"]["lot"]))
    document["epcisBody"]["eventList"][0]["eventTime"] = "2099-04-02T09:30:00Z"
    before = count(session, Event)
    refused = client.post(
        "/portal/trace/upload?lang=zh-CN",
        data={**fields, "document": json.dumps(document), "error_behaviour": "rollback"},
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "<code>/eventTime</code>" in page
    assert "该事件的时间在将来：请在事件发生后再记录。" in page
    assert count(session, Event) == before


def test_an_unknown_kind_of_event_is_not_found_readably(app, demo, session) -> None:
    client = signed_in(app, demo)
    before = count(session, Event)
    page = client.get("/portal/trace/events/new?kind=bogus&lang=zh-CN")
    assert page.status_code == 404 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "没有“bogus”这种事件：请从下列事件中选择。" in text
    assert "/portal/trace/events/new?kind=harvest" in text  # the kinds there are
    data = event_form(
        client,
        "harvest",
        event_time=an_hour_ago(),
        location_id=str(factory_id(session)),
        batch_id=str(demo["batch"]["id"]),
        quantity="5",
    )
    posted = client.post("/portal/trace/events/new?kind=bogus&lang=en", data=data)
    assert posted.status_code == 404
    assert "There is no kind of event “bogus”" in posted.get_data(as_text=True)
    assert count(session, Event) == before
    assert client.get("/portal/trace/events/new").status_code == 200  # the chooser itself


def test_the_capture_result_counts_error_declarations_apart(app, demo, session) -> None:
    client = signed_in(app, demo)
    document = json.loads(_document(demo["product"]["gtin"], demo["batch"]["lot"]))
    first = client.post(
        "/portal/trace/upload",
        data={**form_fields(client, "/portal/trace/upload"), "document": json.dumps(document)},
    )
    assert first.status_code == 303
    document["epcisBody"]["eventList"][0]["errorDeclaration"] = {
        "declarationTime": "2026-04-03T08:00:00Z",
        "reason": "did_not_occur",
    }
    declared = client.post(
        "/portal/trace/upload",
        data={**form_fields(client, "/portal/trace/upload"), "document": json.dumps(document)},
    )
    shown = client.get(declared.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "Recorded before (not stored twice)</dt><dd>0" in shown
    assert "Declared erroneous (hidden from journeys)</dt><dd>1" in shown


def test_capture_jobs_of_another_firm_answer_404(app, demo, session) -> None:
    job = session.scalar(select(CaptureJob).order_by(CaptureJob.id))
    assert (
        signed_in(app, demo, "firm2_admin")
        .get(f"/portal/trace/captures/{job.capture_id}")
        .status_code
        == 404
    )


# --- events, journeys, locations --------------------------------------------------------------


def test_event_list_and_its_step_filter(app, demo) -> None:
    client = signed_in(app, demo)
    page = client.get("/portal/trace/events?lang=en").get_data(as_text=True)
    assert "Guniujiang tea garden" in page and "Received" in page
    packed = client.get(
        "/portal/trace/events?lang=en&step=https://ref.gs1.org/cbv/BizStep-packing"
    ).get_data(as_text=True)
    assert "Likou tea factory" in packed and "Huicha tea shop" not in packed
    other = (
        signed_in(app, demo, "firm2_admin")
        .get("/portal/trace/events?lang=en")
        .get_data(as_text=True)
    )
    assert "Guniujiang tea garden" not in other


def test_journey_of_the_demo_batch_and_a_bad_identifier(app, demo) -> None:
    client = signed_in(app, demo)
    uri = f"{BASE}/01/{demo['product']['gtin']}/10/{demo['batch']['lot']}"
    page = client.get(f"/portal/trace/journey?lang=zh-CN&epc={uri}").get_data(as_text=True)
    assert "牯牛降茶园" in page and "合肥徽茶坊" in page
    bad = client.get("/portal/trace/journey?lang=en&epc=https://x.example/01/123")
    assert bad.status_code == 422 and "e-epc" in bad.get_data(as_text=True)


def test_register_a_location_with_errors_next_to_fields(app, demo, session) -> None:
    client = signed_in(app, demo)
    fields = form_fields(client, "/portal/trace/locations/new")
    data = {
        **fields,
        "gln": "6931234000045",
        "kind": "warehouse",
        "name_zh": "新仓库",
        "name_en": "x" * 201,
    }
    page = client.post("/portal/trace/locations/new?lang=en", data=data).get_data(as_text=True)
    assert error_of(page, "name_en") == "Too long: at most 200 characters are allowed."
    data["name_en"] = "New warehouse"
    page = client.post("/portal/trace/locations/new?lang=en", data=data).get_data(as_text=True)
    assert (
        error_of(page, "gln")
        == "The check digit (the last digit) is 5; for these digits it must be 4."
    )
    data["gln"] = "6931234000044"
    assert client.post("/portal/trace/locations/new", data=data).status_code == 303
    assert "New warehouse" in client.get("/portal/trace/locations?lang=en").get_data(as_text=True)


# --- holds and recalls ------------------------------------------------------------------------


def test_recall_a_batch_after_a_confirmation_page_then_lift_it(app, demo, session) -> None:
    batch_id = demo["batch"]["id"]
    client = signed_in(app, demo)
    path = f"/portal/batches/{batch_id}/recall"
    page = client.get(path + "?lang=en").get_data(as_text=True)
    assert "What it reaches now" in page and "069712340000000019" in page
    fields = form_fields(client, path)
    missing = client.post(path + "?lang=en", data={**fields, "kind": "recall", "reason": ""})
    assert (
        missing.status_code == 422
        and error_of(missing.get_data(as_text=True), "reason") == "Required."
    )
    too_long = client.post(path, data={**fields, "kind": "recall", "reason": "r" * 2001})
    assert too_long.status_code == 422
    assert count(session, Recall, Recall.batch_id == batch_id) == 0
    data = {**fields, "kind": "recall", "reason": "水分超标 moisture above the limit"}
    placed = client.post(path, data=data)
    assert placed.status_code == 303
    assert client.post(path, data=data).headers["Location"] == placed.headers["Location"]
    assert count(session, Recall, Recall.batch_id == batch_id) == 1
    shown = client.get(placed.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "in effect" in shown and "moisture above the limit" in shown
    overview = client.get("/portal/firm?lang=en").get_data(as_text=True)
    assert "Holds and recalls in effect" in overview
    recall_id = int(placed.headers["Location"].rsplit("/", 1)[1])
    lift = f"/portal/trace/recalls/{recall_id}/lift"
    token = form_fields(client, lift)["csrf_token"]
    assert (
        client.post(
            lift, data={"csrf_token": token, "reason": "复检合格 re-test passed"}
        ).status_code
        == 303
    )
    session.expire_all()
    assert session.get(Recall, recall_id).status is RecallStatus.LIFTED


def test_recalls_of_another_firms_batch_are_refused(app, demo, session) -> None:
    other_batch = make_batch(session, caller(session, "admin@shanyuan-tea.example"), quota=None)
    client = signed_in(app, demo)
    assert client.get(f"/portal/batches/{other_batch.id}/recall").status_code == 404
    token = form_fields(client, "/portal/trace/recalls")["csrf_token"]
    refused = client.post(
        f"/portal/batches/{other_batch.id}/recall",
        data={"csrf_token": token, "kind": "hold", "reason": "x"},
    )
    assert refused.status_code == 404
    assert count(session, Recall, Recall.batch_id == other_batch.id) == 0
    staff = signed_in(app, demo, "firm_staff")
    page = staff.get(f"/portal/batches/{demo['batch']['id']}?lang=en").get_data(as_text=True)
    assert "Journey" in page and "Hold or recall" not in page  # firm admins only
    assert hidden(page, "csrf_token")
