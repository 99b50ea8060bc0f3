"""Brands API: creation, mark, logo, co-builders, membership lifecycle, who may see what."""

from __future__ import annotations

import hashlib

import pytest

from app.auth import services as auth
from app.auth.models import OrgKind, Role
from tests.brandkit import (
    brand_body,
    ok,
    other_association,
    png_logo,
    problem,
    rules,
    upload,
)

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'


@pytest.fixture
def brand(api) -> str:
    ok(api("association_admin").post("/api/v1/brands", json=brand_body()), 201)
    return "huangshan-maofeng"


def test_association_admin_creates_a_brand_owned_by_its_association(api) -> None:
    response = api("association_admin").post("/api/v1/brands", json=brand_body())
    body = ok(response, 201)
    assert response.headers["Location"].endswith("/brands/huangshan-maofeng")
    assert body["owner"]["slug"] == "qimen-tea-association"
    assert body["co_builders"][0]["role"] == "owner"
    assert body["region"] == {
        "code": "CN-AH",
        "name": {"zh": "安徽省黄山市", "en": "Huangshan, Anhui"},
    }
    listed = ok(api(None).get("/api/v1/brands"))
    assert {"qimen-black-tea", "huangshan-maofeng"} <= {b["slug"] for b in listed}


def test_duplicate_slug_bad_slug_and_bad_region_are_refused(api, brand) -> None:
    admin = api("association_admin")
    duplicate = problem(admin.post("/api/v1/brands", json=brand_body()), 409, "duplicate-brand")
    assert rules(duplicate) == {("/slug", "unique")}
    bad_slug = problem(
        admin.post("/api/v1/brands", json=brand_body("Bad Slug")), 422, "invalid-brand"
    )
    assert rules(bad_slug) == {("/slug", "pattern")}
    bad_region = problem(
        admin.post("/api/v1/brands", json=brand_body("x-tea", region_code="CN-34")),
        422,
        "invalid-brand",
    )
    assert rules(bad_region) == {("/region_code", "iso3166_2")}
    assert api(None).get("/api/v1/brands/x-tea").status_code == 404


def test_owner_edits_but_another_association_is_refused(api, brand, session, app) -> None:
    changed = ok(
        api("association_admin").patch(f"/api/v1/brands/{brand}", json={"story_en": "New"})
    )
    assert changed["story"]["en"] == "New"
    stranger = other_association(session, app)
    refused = problem(
        stranger.patch(f"/api/v1/brands/{brand}", json={"story_en": "Hijacked"}),
        403,
        "not-brand-owner",
    )
    assert "owns the brand" in refused["detail"]
    assert ok(api(None).get(f"/api/v1/brands/{brand}"))["story"]["en"] == "New"


def test_trademark_is_recorded_and_nice_classes_checked(api, brand) -> None:
    admin = api("association_admin")
    mark = {
        "registration_number": "12345678",
        "office": "CNIPA",
        "nice_classes": [30],
        "mark_type": "collective",
        "registered_on": "2015-05-01",
        "expires_on": "2025-04-30",
    }
    body = ok(admin.put(f"/api/v1/brands/{brand}/trademark", json=mark))
    assert body["mark"]["mark_type"] == "collective" and body["mark"]["nice_classes"] == [30]
    bad = problem(
        admin.put(
            f"/api/v1/brands/{brand}/trademark",
            json={**mark, "nice_classes": [30, 46, 30], "expires_on": "2010-01-01"},
        ),
        422,
        "invalid-brand",
    )
    assert rules(bad) == {
        ("/nice_classes/1", "range"),
        ("/nice_classes", "unique"),
        ("/expires_on", "after_registered_on"),
    }
    wrong_kind = api("association_admin").put(
        f"/api/v1/brands/{brand}/trademark", json={**mark, "mark_type": "word"}
    )
    assert ("/mark_type", "enum") in rules(problem(wrong_kind, 422, "validation-failed"))


def test_logo_upload_is_sniffed_and_served_with_its_digest(api, client, brand) -> None:
    data = png_logo()
    body = ok(
        api("association_admin").put(f"/api/v1/brands/{brand}/logo", **upload(data, "logo.png"))
    )
    assert body["logo"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["logo"]["content_type"] == "image/png"
    served = client.get(f"/brands/{brand}/logo")
    assert served.status_code == 200 and served.data == data
    assert served.mimetype == "image/png"
    assert served.headers["ETag"] == f'"{body["logo"]["sha256"]}"'
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    cached = client.get(f"/brands/{brand}/logo", headers={"If-None-Match": served.headers["ETag"]})
    assert cached.status_code == 304


def test_bad_logos_are_refused_and_change_nothing(api, brand) -> None:
    admin = api("association_admin")
    path = f"/api/v1/brands/{brand}/logo"
    svg = problem(
        admin.put(path, **upload(SVG, "logo.svg", "image/svg+xml")), 415, "file-type-refused"
    )
    assert rules(svg) == {("file", "svg_refused")}
    pdf = problem(admin.put(path, **upload(b"%PDF-1.4 ...", "logo.pdf")), 415, "file-type-refused")
    assert rules(pdf) == {("file", "content_type")}
    big = problem(
        admin.put(path, **upload(png_logo() + b"\x00" * (1024 * 1024), "big.png")),
        413,
        "file-too-large",
    )
    assert rules(big) == {("file", "max_size")}
    missing = problem(
        admin.put(path, data={}, content_type="multipart/form-data"), 422, "file-missing"
    )
    assert rules(missing) == {("file", "required")}
    as_json = admin.put(path, json={"file": "x"})
    assert as_json.status_code == 415
    assert ok(api(None).get(f"/api/v1/brands/{brand}"))["logo"] is None


def test_co_builders_have_roles_that_fit_their_kind(api, brand) -> None:
    admin = api("association_admin")
    path = f"/api/v1/brands/{brand}/co-builders"
    added = ok(
        admin.post(path, json={"organisation": "anhui-tea-alliance", "role": "promoter"}), 201
    )
    assert added["organisation"]["kind"] == "alliance"
    wrong = problem(
        admin.post(path, json={"organisation": "hongxiang-tea", "role": "supervisor"}),
        409,
        "co-builder-refused",
    )
    assert rules(wrong) == {("/role", "organisation_kind")}
    assert wrong["detail"] == (
        "A supervisor must be a government body; hongxiang-tea is an enterprise."
    )
    promoter = admin.post(
        path,
        json={"organisation": "hongxiang-tea", "role": "promoter"},
        headers={"Accept-Language": "zh-CN"},
    ).get_json()
    assert promoter["detail"] == "共建推广方必须是联盟或协会；hongxiang-tea 是企业。"
    assert promoter["errors"][0]["message"] == "共建推广方必须是联盟或协会"
    problem(
        admin.post(path, json={"organisation": "anhui-tea-alliance", "role": "promoter"}),
        409,
        "duplicate-co-builder",
    )
    owner = problem(
        admin.post(path, json={"organisation": "qimen-market-regulation", "role": "owner"}),
        409,
        "co-builder-refused",
    )
    assert rules(owner) == {("/role", "owner_is_fixed")}
    problem(admin.delete(f"{path}/qimen-tea-association"), 409, "owner-is-permanent")
    assert admin.delete(f"{path}/anhui-tea-alliance").status_code == 204
    page = ok(api(None).get(f"/api/v1/brands/{brand}"))
    assert [c["organisation"]["slug"] for c in page["co_builders"]] == ["qimen-tea-association"]


def test_membership_lifecycle(api, brand) -> None:
    firm, admin = api("firm_admin"), api("association_admin")
    applied = ok(firm.post(f"/api/v1/brands/{brand}/memberships", json={"message": "请审核"}), 201)
    assert applied["status"] == "applied"
    assert applied["registration_number"] == "91341024MA2N7B4C3P"
    again = problem(
        firm.post(f"/api/v1/brands/{brand}/memberships", json={}), 409, "membership-exists"
    )
    assert again["membership_id"] == applied["id"]
    path = f"/api/v1/memberships/{applied['id']}"
    no_reason = problem(admin.post(f"{path}/reject", json={}), 422, "validation-failed")
    assert ("/reason", "missing") in rules(no_reason)
    approved = ok(admin.post(f"{path}/approve", json={}))
    assert approved["status"] == "approved" and approved["member_since"]
    problem(admin.post(f"{path}/approve", json={}), 409, "membership-transition-refused")
    members = ok(api(None).get(f"/api/v1/brands/{brand}/members"))
    assert [m["firm"]["slug"] for m in members] == ["hongxiang-tea"]
    assert members[0]["certified"] is False
    suspended = ok(
        admin.post(f"{path}/suspend", json={"reason": "抽检不合格 / failed a spot check"})
    )
    assert suspended["status_reason"].startswith("抽检")
    assert ok(api(None).get(f"/api/v1/brands/{brand}/members")) == []
    problem(firm.post(f"{path}/approve", json={}), 403, "forbidden")
    ok(admin.post(f"{path}/reinstate", json={}))
    left = ok(firm.post(f"{path}/leave", json={}))
    assert left["status"] == "left"
    # Leaving closes the membership: the firm may apply again.
    ok(firm.post(f"/api/v1/brands/{brand}/memberships", json={}), 201)


def test_rejection_keeps_the_reason(api, brand) -> None:
    applied = ok(api("firm2_admin").post(f"/api/v1/brands/{brand}/memberships", json={}), 201)
    rejected = ok(
        api("association_admin").post(
            f"/api/v1/memberships/{applied['id']}/reject", json={"reason": "产地不在保护范围内"}
        )
    )
    assert (rejected["status"], rejected["status_reason"]) == ("rejected", "产地不在保护范围内")


def test_firms_see_only_their_own_applications(api, brand) -> None:
    mine = ok(api("firm_admin").post(f"/api/v1/brands/{brand}/memberships", json={}), 201)
    assert api("firm2_admin").get(f"/api/v1/memberships/{mine['id']}").status_code == 404
    problem(
        api("firm2_admin").post(f"/api/v1/memberships/{mine['id']}/leave", json={}),
        404,
        "membership-not-found",
    )
    theirs = ok(api("firm2_admin").get("/api/v1/memberships"))["items"]
    assert all(item["firm"]["slug"] == "shanyuan-tea" for item in theirs)
    staff_view = ok(api("firm_staff").get(f"/api/v1/memberships?brand={brand}"))["items"]
    assert [item["id"] for item in staff_view] == [mine["id"]]


def test_co_builders_read_memberships_and_others_do_not(api, brand, session, app) -> None:
    mine = ok(api("firm_admin").post(f"/api/v1/brands/{brand}/memberships", json={}), 201)
    # The government body co-builds the demo brand but not this one (yet).
    assert api("government_viewer").get(f"/api/v1/memberships/{mine['id']}").status_code == 404
    ok(
        api("association_admin").post(
            f"/api/v1/brands/{brand}/co-builders",
            json={"organisation": "qimen-market-regulation", "role": "supervisor"},
        ),
        201,
    )
    assert ok(api("government_viewer").get(f"/api/v1/memberships/{mine['id']}"))["id"] == mine["id"]
    stranger = other_association(session, app)
    assert stranger.get(f"/api/v1/memberships/{mine['id']}").status_code == 404
    assert ok(stranger.get("/api/v1/memberships"))["items"] == []


@pytest.fixture
def new_firm(session, app):
    """An enterprise with no registration number on record, and its admin's client."""
    from tests.conftest import ApiClient

    organisation = auth.create_organisation(
        session,
        slug="new-leaf-tea",
        kind=OrgKind.ENTERPRISE,
        name_zh="新叶茶业",
        name_en="New Leaf Tea",
    )
    user = auth.create_user(
        session,
        organisation=organisation,
        email="admin@new-leaf.example",
        display_name="New",
        role=Role.ADMIN,
        password="a-long-password-1",
    )
    secret = auth.issue_token(session, user, name="t").secret
    session.commit()
    return ApiClient(app.test_client(), secret)


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        ("91341024MA2N7B4C3Q", "check_character"),
        ("91341024MA2N7B4C3", "length"),
        ("91341024MA2N7B4COP", "charset"),
        ("94341024MA2N7B4C3P", "organization_type"),
    ],
)
def test_unified_social_credit_codes_are_checked(api, brand, new_firm, number, rule) -> None:
    response = new_firm.post(
        f"/api/v1/brands/{brand}/memberships",
        json={"registration_scheme": "uscc", "registration_number": number},
    )
    body = problem(response, 422, "invalid-registration-number")
    assert rules(body) == {("/registration_number", rule)}


def test_a_valid_code_is_recorded_for_a_firm_without_one(api, brand, new_firm, session) -> None:
    from app.auth.models import Organisation

    body = ok(
        new_firm.post(
            f"/api/v1/brands/{brand}/memberships",
            json={"registration_number": "91341024ma2p8d6e54"},
        ),
        201,
    )
    assert (body["registration_scheme"], body["registration_number"]) == (
        "uscc",
        "91341024MA2P8D6E54",
    )
    session.expire_all()
    firm = session.query(Organisation).filter_by(slug="new-leaf-tea").one()
    assert firm.registration_number == "91341024MA2P8D6E54"


def test_missing_other_scheme_and_contradicting_numbers(api, brand, new_firm) -> None:
    path = f"/api/v1/brands/{brand}/memberships"
    missing = problem(new_firm.post(path, json={}), 422, "invalid-registration-number")
    assert rules(missing) == {("/registration_number", "required")}
    other = problem(
        new_firm.post(path, json={"registration_scheme": "other", "registration_number": "A B"}),
        422,
        "invalid-registration-number",
    )
    assert rules(other) == {("/registration_number", "pattern")}
    contradiction = problem(
        api("firm_admin").post(path, json={"registration_number": "91341024MA2P8D6E54"}),
        422,
        "invalid-registration-number",
    )
    assert rules(contradiction) == {("/registration_number", "matches_record")}
