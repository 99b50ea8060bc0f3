"""Shoppers' reports of suspected fakes, and the manual check on the official site."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.resolver.models import FakeReport
from tests.resolver.conftest import BROWSER, path_of


def _form_fields(html: str) -> dict[str, str]:
    form = html[html.index('action="/report"') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))


def _reports(session) -> int:
    return session.scalar(select(func.count()).select_from(FakeReport))


def test_a_report_from_the_page_is_stored_once_with_the_scanned_code(
    session, new_shopper, demo
) -> None:
    shopper = new_shopper()
    page = shopper.get(path_of(demo, "unit_blacklisted"), accept=BROWSER).get_data(as_text=True)
    hidden = _form_fields(page)
    assert set(hidden) == {"submission_key", "scan"}
    before = _reports(session)
    data = {**hidden, "place": "Tunxi market", "description": "seal broken", "code": "(01)0000"}
    first = shopper.post("/report", data=data)
    assert first.status_code == 201 and "text/html" in first.content_type
    again = shopper.post("/report", data=data)  # a double submit, a retry
    assert again.status_code == 200
    assert _reports(session) == before + 1
    report = session.scalars(select(FakeReport).order_by(FakeReport.id.desc())).first()
    # The code comes from the stored scan, not from what the form claims.
    assert report.serial == path_of(demo, "unit_blacklisted").rsplit("/", 1)[1]
    assert report.verdict.value == "BLOCKED" and report.scan_id is not None
    assert report.place == "Tunxi market" and report.contact is None
    assert report.brand_id is not None


def test_a_report_needs_no_personal_data_and_machines_get_json(session, new_shopper, demo) -> None:
    code = f"(01){demo['product']['gtin']}(10){demo['batch']['lot']}(21)NOSUCHSERIAL1"
    response = new_shopper().post(
        "/report", data={"code": code, "submission_key": "k" * 20}, accept="application/json"
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "new"
    report = session.get(FakeReport, body["id"])
    assert report.serial == "NOSUCHSERIAL1" and report.firm_id is not None


@pytest.mark.parametrize(
    ("data", "field", "rule"),
    [
        ({}, "description", "required"),
        ({"description": "x" * 2001}, "description", "max_length"),
        ({"place": "y" * 201, "description": "ok"}, "place", "max_length"),
        ({"code": "not a code"}, "code", "unrecognised"),
    ],
)
def test_bad_reports_are_refused_precisely(new_shopper, data, field, rule) -> None:
    shopper = new_shopper()
    response = shopper.post("/report", data=data, accept="application/json")
    assert response.status_code == 422
    errors = {error["field"]: error["rule"] for error in response.get_json()["errors"]}
    assert errors[field] == rule
    page = shopper.post("/report", data=data)
    assert page.status_code == 422 and 'aria-invalid="true"' in page.get_data(as_text=True)


def test_a_refused_report_keeps_what_was_typed_and_marks_every_field(new_shopper) -> None:
    typed = {"place": "p" * 201, "description": "d" * 2001, "contact": "c" * 201}
    page = new_shopper().post("/report?lang=zh-CN", data=typed)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    for name in typed:
        assert f'id="{name}-error"' in html
    assert html.count('aria-invalid="true"') == 3
    assert f'value="{typed["place"]}"' in html and f'value="{typed["contact"]}"' in html
    assert f">{typed['description']}</textarea>" in html
    assert "最多 200 个字符" in html and "最多 2000 个字符" in html
    assert "at most" not in html.lower()


def test_an_empty_report_asks_for_a_description_in_the_shoppers_language(new_shopper) -> None:
    html = new_shopper().post("/report?lang=zh-CN", data={}).get_data(as_text=True)
    assert 'id="description-error"' in html and "请说明哪里可疑，或填写编码。" in html
    assert "say what looks wrong" not in html.lower()


def test_a_mistyped_code_in_a_report_is_explained_in_the_shoppers_language(new_shopper) -> None:
    page = new_shopper().post("/report?lang=zh-CN", data={"code": "(01)06923456789013"})
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and 'id="code-error"' in html
    assert "最后一位（校验位）是 3，应为 2" in html and "check digit" not in html


def test_script_in_a_report_is_kept_as_text_and_escaped(session, new_shopper) -> None:
    script = '<script>alert("x")</script>'
    shopper = new_shopper()
    refused = shopper.post("/report", data={"place": script, "description": "d" * 2001})
    text = refused.get_data(as_text=True)
    assert script not in text and "&lt;script&gt;" in text
    stored = shopper.post(
        "/report", data={"place": script, "description": "fake"}, accept="application/json"
    )
    assert session.get(FakeReport, stored.get_json()["id"]).place == script


def test_reports_are_rate_limited_per_client(new_shopper) -> None:
    shopper = new_shopper()
    statuses = [
        shopper.post(
            "/report", data={"description": f"report {i}"}, accept="application/json"
        ).status_code
        for i in range(6)
    ]
    assert statuses == [201] * 5 + [429]


def test_the_association_reads_and_reviews_reports_firms_cannot(api, new_shopper, demo) -> None:
    created = (
        new_shopper()
        .post("/report", data={"description": "suspicious shop"}, accept="application/json")
        .get_json()
    )
    listed = api("association_staff").get("/api/v1/fake-reports?status=new").get_json()["items"]
    assert created["id"] in [item["id"] for item in listed]
    assert api("government_viewer").get("/api/v1/fake-reports").status_code == 200
    assert api("firm_admin").get("/api/v1/fake-reports").status_code == 403
    reviewed = api("association_staff").patch(
        f"/api/v1/fake-reports/{created['id']}",
        json={"status": "reviewing", "note": "calling the shop"},
    )
    assert reviewed.status_code == 200
    assert reviewed.get_json()["status"] == "reviewing" and reviewed.get_json()["reviewed_at"]
    assert api("association_staff").get("/api/v1/fake-reports/999999").status_code == 404
    demo_report = api("association_admin").get("/api/v1/fake-reports").get_json()["items"]
    assert any(item["serial"] == "FAKE0000000001" for item in demo_report)


def test_a_shoppers_contact_goes_to_the_association_only(app, api, new_shopper, demo) -> None:
    # The form says the report goes to the brand's association: observers read it without
    # the phone number or name the shopper left for the association to call back.
    from tests.portalkit import as_role

    code = f"(01){demo['product']['gtin']}(10){demo['batch']['lot']}(21)NOSUCHSERIAL1"
    created = (
        new_shopper()
        .post(
            "/report",
            data={"code": code, "description": "fake", "contact": "13800000000 Zhang"},
            accept="application/json",
        )
        .get_json()
    )
    path = f"/api/v1/fake-reports/{created['id']}"
    assert api("association_staff").get(path).get_json()["contact"] == "13800000000 Zhang"
    for observer in ("government_viewer", "alliance_viewer"):
        report = api(observer).get(path).get_json()
        assert report["description"] == "fake" and report["contact"] is None, observer
        listed = api(observer).get("/api/v1/fake-reports").get_json()["items"]
        assert all(item["contact"] is None for item in listed), observer
        page = as_role(app, demo, observer).get(f"/portal/fake-reports/{created['id']}")
        assert page.status_code == 200 and "13800000000" not in page.get_data(as_text=True)
    page = as_role(app, demo, "association_staff").get(f"/portal/fake-reports/{created['id']}")
    assert "13800000000 Zhang" in page.get_data(as_text=True)


def test_a_review_never_takes_a_report_back_to_new(api, new_shopper, session) -> None:
    created = (
        new_shopper()
        .post("/report", data={"description": "odd seal"}, accept="application/json")
        .get_json()
    )
    staff = api("association_staff")
    path = f"/api/v1/fake-reports/{created['id']}"
    refused = staff.patch(path, json={"status": "new", "note": "again"})
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    body = refused.get_json()
    assert body["type"].endswith("/problems/report-transition-refused")
    assert "from new to new" in body["detail"]
    closed = staff.patch(path, json={"status": "closed", "note": "genuine, old packaging"})
    assert closed.status_code == 200
    reopened = staff.patch(path, json={"status": "new", "note": "reopen"}).get_json()
    assert reopened["detail"] == (
        f"Report {created['id']} cannot move from closed to new; "
        "a review moves it to closed or reviewing."
    )
    assert (reopened["from"], reopened["to"]) == ("closed", "new")
    report = session.get(FakeReport, created["id"])
    session.refresh(report)
    assert (report.status.value, report.review_note) == ("closed", "genuine, old packaging")
    taken_up = staff.patch(path, json={"status": "reviewing"})
    assert taken_up.status_code == 200 and taken_up.get_json()["status"] == "reviewing"


# --- the manual check -------------------------------------------------------------------------


def test_the_manual_check_form_is_on_the_official_site(client) -> None:
    response = client.get("/verify", headers={"Accept": BROWSER, "Accept-Language": "en"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and 'name="code"' in text and "brand.example.test" in text


@pytest.mark.parametrize("form", ["link", "hri", "fields"])
def test_typing_the_code_reaches_the_same_verdict_as_scanning(new_shopper, demo, form) -> None:
    gtin, lot = demo["product"]["gtin"], demo["batch"]["lot"]
    serial = path_of(demo, "unit_blacklisted").rsplit("/", 1)[1]
    query = {
        "link": {"code": demo["unit_blacklisted"]["digital_link"]},
        "hri": {"code": f"(01){gtin}(10){lot}(21){serial}"},
        "fields": {"gtin": gtin[1:], "lot": lot, "serial": serial},
    }[form]
    shopper = new_shopper()
    response = shopper.client.get(
        "/verify", query_string=query, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.get_json()["verdict"] == "BLOCKED"
    page = shopper.client.get("/verify", query_string=query, headers={"Accept": BROWSER})
    assert 'data-verdict="BLOCKED"' in page.get_data(as_text=True)


def test_a_code_typed_with_a_chinese_input_method_reaches_the_verdict(new_shopper, demo) -> None:
    # Full-width mode types （０１） for (01); the shopper means the printed code all the same.
    gtin, lot = demo["product"]["gtin"], demo["batch"]["lot"]
    serial = path_of(demo, "unit_blacklisted").rsplit("/", 1)[1]
    wide = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "()0123456789"})
    typed = f"(01){gtin}(10){lot}(21){serial}".translate(wide)
    page = new_shopper().client.get(
        "/verify", query_string={"code": typed, "lang": "zh-CN"}, headers={"Accept": BROWSER}
    )
    assert page.status_code == 200
    assert 'data-verdict="BLOCKED"' in page.get_data(as_text=True)


def test_a_serial_typed_in_lower_case_is_not_called_a_fake(new_shopper, demo) -> None:
    # A phone's keyboard does not always capitalise: the pack is the same pack.
    gtin, lot = demo["product"]["gtin"], demo["batch"]["lot"]
    serial = path_of(demo, "unit_blacklisted").rsplit("/", 1)[1]
    query = {"gtin": gtin, "lot": lot, "serial": serial.lower()}
    answer = new_shopper().client.get(
        "/verify", query_string=query, headers={"Accept": "application/json"}
    )
    assert answer.get_json()["verdict"] == "BLOCKED"
    form = new_shopper().client.get("/verify", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert re.search(r'name="serial"[^>]*autocapitalize="characters"', form)
    report = new_shopper().client.get("/report", headers={"Accept": BROWSER})
    assert re.search(r'name="code"[^>]*autocapitalize="characters"', report.get_data(as_text=True))


def test_a_typed_link_to_another_site_is_a_warning(new_shopper, demo) -> None:
    fake_site = demo["unit"]["digital_link"].replace(
        "https://brand.example.test", "https://brand-verify.example"
    )
    body = (
        new_shopper()
        .client.get(
            "/verify", query_string={"code": fake_site}, headers={"Accept": "application/json"}
        )
        .get_json()
    )
    assert body["verdict"] == "GENUINE_WITH_WARNING"
    assert body["reasons"][0]["code"] == "foreign_link_host"
    assert body["reasons"][0]["host"] == "brand-verify.example"


def test_a_mistyped_code_is_explained_next_to_the_field(client) -> None:
    page = client.get(
        "/verify", query_string={"gtin": "6923456789013"}, headers={"Accept": BROWSER}
    )
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert 'id="gtin-error"' in text and 'aria-invalid="true"' in text
    assert "The last digit (the check digit) is 3 but should be 2" in text
    problem = client.get(
        "/verify", query_string={"code": "hello"}, headers={"Accept": "application/json"}
    )
    assert problem.status_code == 400
    assert problem.get_json()["errors"][0] == {
        "field": "code",
        "rule": "unrecognised",
        "message": problem.get_json()["errors"][0]["message"],
    }


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"gtin": "6923456789013"}, "gtin", "最后一位（校验位）是 3，应为 2"),
        ({"code": "(01)06923456789012(10)" + "L" * 21}, "code", "长度应为 1 至 20 个字符"),
        ({"code": "(01)06923456789012(10)L~1"}, "code", "字符“~”（第 2 位）不能出现"),
        ({"code": "/01/06923456789012/10/A B"}, "code", "字符“ ”不能出现在产品编码中"),
        ({"lot": "L1"}, "gtin", "请输入 GTIN"),
    ],
)
def test_the_manual_check_explains_mistakes_in_the_shoppers_language(
    client, query, field, words
) -> None:
    page = client.get(
        "/verify", query_string={**query, "lang": "zh-CN"}, headers={"Accept": BROWSER}
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    error = re.search(r'<span class="rv-error" id="(\w+)-error">([^<]*)</span>', html)
    assert error is not None and error.group(1) == field
    message = error.group(2)
    assert words in message and not re.search(r"[A-Za-z]{4,}", message.replace("GTIN", ""))


def test_an_empty_manual_check_says_the_code_is_missing(client) -> None:
    page = client.get(
        "/verify",
        query_string={"code": "", "gtin": "", "lot": "", "serial": ""},
        headers={"Accept": BROWSER, "Accept-Language": "en"},
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert 'id="code-error">Type the code printed under the QR code.<' in html
    assert 'id="gtin-error"' not in html


# --- photos -----------------------------------------------------------------------------------

_EXIF_BODY = b"Exif\x00\x00GPS 29.85N 117.71E"
EXIF = b"\xff\xe1" + (len(_EXIF_BODY) + 2).to_bytes(2, "big") + _EXIF_BODY
JPEG = (
    b"\xff\xd8"
    + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + EXIF
    + (b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x12\x34" * 50 + b"\xff\xd9")
)


def test_a_photo_is_stored_without_its_metadata(api, new_shopper) -> None:
    import io

    response = new_shopper().post(
        "/report",
        data={"description": "see photo", "photo": (io.BytesIO(JPEG), "pack.jpg", "image/jpeg")},
        content_type="multipart/form-data",
        accept="application/json",
    )
    assert response.status_code == 201
    report = (
        api("association_admin").get(f"/api/v1/fake-reports/{response.get_json()['id']}").get_json()
    )
    assert report["photo_url"].endswith(f"/api/v1/fake-reports/{report['id']}/photo")
    photo = api("association_admin").get(
        report["photo_url"].removeprefix("https://brand.example.test")
    )
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert b"GPS" not in photo.data and b"Exif" not in photo.data
    assert photo.data.endswith(b"\xff\xd9") and b"JFIF" in photo.data
    assert (
        api("firm_admin")
        .get(report["photo_url"].removeprefix("https://brand.example.test"))
        .status_code
        == 403
    )


@pytest.mark.parametrize(
    ("content", "name", "status", "rule"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "x.svg", 415, "svg_refused"),
        (b"%PDF-1.4 not an image", "x.pdf", 415, "content_type"),
        (b"\xff\xd8\xff" + b"0" * 5000, "big.jpg", 413, "max_size"),
    ],
)
def test_photos_that_are_not_small_images_are_refused(
    app, monkeypatch, session, new_shopper, content, name, status, rule
) -> None:
    import io

    # A small limit keeps the test's bodies in memory (large ones spool to temporary files).
    monkeypatch.setitem(app.config, "RESOLVER_PHOTO_MAX_BYTES", 4096)
    before = _reports(session)
    shopper = new_shopper()
    response = shopper.post(
        "/report",
        data={"description": "x", "photo": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        accept="application/json",
    )
    assert response.status_code == status
    assert response.get_json()["errors"][0]["rule"] == rule
    page = shopper.post(
        "/report",
        data={"description": "x", "photo": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert page.status_code == status and 'id="photo-error"' in page.get_data(as_text=True)
    zh = shopper.post(
        "/report?lang=zh-CN",
        data={"description": "x", "photo": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    photo_error = zh[zh.index('id="photo-error">') :].split("<", 1)[0]
    assert ("照片过大" if rule == "max_size" else "JPEG、PNG 或 WebP") in photo_error
    assert "send one of" not in zh and "bytes" not in photo_error
    assert _reports(session) == before


def test_jpeg_metadata_stripping_keeps_the_image() -> None:
    from app.resolver.photos import strip_jpeg_metadata

    stripped = strip_jpeg_metadata(JPEG)
    assert stripped == JPEG.replace(EXIF, b"")
    assert strip_jpeg_metadata(b"not a jpeg") == b"not a jpeg"
    assert strip_jpeg_metadata(JPEG[:30]) == JPEG[:30]  # truncated: left for the checks


def test_a_photo_over_the_request_limit_gets_the_report_form_back(
    app, new_shopper, monkeypatch
) -> None:
    import io

    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    shopper = new_shopper()
    data = {"description": "fake", "photo": (io.BytesIO(b"\xff\xd8\xff" + b"0" * 8000), "a.jpg")}
    page = shopper.post("/report?lang=zh-CN", data=data, content_type="multipart/form-data")
    html = page.get_data(as_text=True)
    assert page.status_code == 413 and 'action="/report"' in html
    assert "照片过大" in html and "字节" not in html
    machine = new_shopper().post(
        "/report",
        data={"description": "fake", "photo": (io.BytesIO(b"0" * 8000), "a.jpg")},
        content_type="multipart/form-data",
        accept="application/json",
    )
    assert machine.status_code == 413
    assert machine.get_json()["type"].endswith("/problems/payload-too-large")
