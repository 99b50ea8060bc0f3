"""Association portal: the brand profile (texts, trademark, logo, co-builders) and membership
applications, in both languages, with errors next to fields and refusals that change nothing."""

from __future__ import annotations

import io

from sqlalchemy import select

from app.activity.models import ActivityRecord
from app.auth.models import OrgKind, Role
from app.auth.services import caller_for, create_user
from app.brands.models import Brand, CoBuilder, Membership, MembershipStatus
from app.brands.services import apply_for_membership
from app.files.demo_images import tea_logo
from tests.portalkit import (
    activity_count,
    as_role,
    field_error,
    new_organisation,
    other_association_admin,
    post,
    text,
    value_of,
)

SLUG = "qimen-black-tea"
PROFILE = f"/portal/brands/{SLUG}"


def _profile_form(brand: Brand, **changes: str) -> dict[str, str]:
    form = {
        name: getattr(brand, name)
        for name in (
            "name_zh",
            "name_en",
            "region_code",
            "region_name_zh",
            "region_name_en",
            "category_zh",
            "category_en",
            "story_zh",
            "story_en",
        )
    }
    form.update(changes)
    return form


def _brand(session) -> Brand:
    brand = session.scalar(select(Brand).where(Brand.slug == SLUG))
    session.refresh(brand)
    return brand


def test_the_menu_offers_the_profile_to_admins_only(app, demo) -> None:
    admin = text(as_role(app, demo, "association_admin").get("/portal"))
    staff = text(as_role(app, demo, "association_staff").get("/portal"))
    assert "/portal/brands" in admin and "/portal/overview" in admin
    assert "/portal/brands" not in staff and "/portal/memberships" in staff
    firm = text(as_role(app, demo, "firm_admin").get("/portal"))
    assert "/portal/memberships" not in firm and "/portal/standards" not in firm


def test_profile_page_in_both_languages(app, demo) -> None:
    client = as_role(app, demo, "association_admin")
    assert client.get("/portal/brands").headers["Location"].endswith(PROFILE)
    english = text(client.get(PROFILE + "?lang=en"))
    assert "Names, region and story" in english and "Trademark registration" in english
    assert value_of(english, "registration_number") == "8868537"
    chinese = text(client.get(PROFILE + "?lang=zh-CN"))
    assert '<html lang="zh-CN">' in chinese
    for words in ("名称、地区与品牌故事", "商标注册", "共建方", "祁门县市场监督管理局", "监管部门"):
        assert words in chinese, words


def test_saving_the_profile_and_errors_next_to_fields(app, demo, session) -> None:
    client = as_role(app, demo, "association_admin")
    brand = _brand(session)
    before = brand.name_en
    bad = post(client, PROFILE, _profile_form(brand, name_zh="", region_code="XX-YY", story_en="x"))
    assert bad.status_code == 422
    html = text(bad)
    assert field_error(html, "name_zh") == "Required."
    assert value_of(html, "region_code") == "XX-YY"  # what was typed is kept
    assert "Nothing was changed." in html
    # The domain rule (ISO 3166-2) also lands next to its field.
    region = post(client, PROFILE, _profile_form(brand, region_code="XX-YY"))
    assert region.status_code == 422 and field_error(text(region), "region_code")
    assert _brand(session).story_en != "x" and _brand(session).name_en == before

    good = post(client, PROFILE, _profile_form(brand, story_en="A new story."))
    assert good.status_code == 303
    assert _brand(session).story_en == "A new story."


def test_over_long_text_is_refused_in_the_pages_language(app, demo, session) -> None:
    client = as_role(app, demo, "association_admin", lang="zh-CN")
    brand = _brand(session)
    response = post(client, PROFILE, _profile_form(brand, name_en="x" * 201))
    assert response.status_code == 422
    assert field_error(text(response), "name_en") == "最多 200 个字符。"
    assert _brand(session).name_en == "Qimen Black Tea"


def test_forged_post_without_csrf_token_changes_nothing(app, demo, session) -> None:
    client = as_role(app, demo, "association_admin")
    brand = _brand(session)
    before = activity_count(session)
    response = client.post(
        PROFILE, data=_profile_form(brand, story_en="forged"), headers={"Accept": "text/html"}
    )
    assert response.status_code == 403 and "CSRF" in text(response)
    assert _brand(session).story_en != "forged" and activity_count(session) == before


def test_trademark_nice_classes_are_checked(app, demo, session) -> None:
    client = as_role(app, demo, "association_admin")
    form = {
        "registration_number": "8868537",
        "office": "CNIPA",
        "nice_classes": "30, 99",
        "mark_type": "certification",
        "registered_on": "2012-03-14",
        "expires_on": "2032-03-13",
    }
    bad = post(client, PROFILE + "/trademark", form)
    assert bad.status_code == 422 and field_error(text(bad), "nice_classes")
    assert value_of(text(bad), "nice_classes") == "30, 99"
    assert _brand(session).mark_nice_classes == [30]
    good = post(client, PROFILE + "/trademark", {**form, "nice_classes": "30，31"})
    assert good.status_code == 303 and _brand(session).mark_nice_classes == [30, 31]


def test_logo_upload_accepts_images_and_refuses_svg(app, demo, session) -> None:
    client = as_role(app, demo, "association_admin")
    before = _brand(session).logo_file_id
    svg = post(
        client,
        PROFILE + "/logo",
        {"file": (io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), "logo.svg")},
        content_type="multipart/form-data",
    )
    assert svg.status_code == 415 and field_error(text(svg), "file")
    empty = post(client, PROFILE + "/logo", {}, content_type="multipart/form-data")
    assert empty.status_code == 422 and field_error(text(empty), "file")
    assert _brand(session).logo_file_id == before
    png = post(
        client,
        PROFILE + "/logo",
        {"file": (io.BytesIO(tea_logo(16)), "logo.png")},
        content_type="multipart/form-data",
    )
    assert png.status_code == 303 and _brand(session).logo_file_id != before


def test_co_builders_are_added_once_and_removed(app, demo, session) -> None:
    new_organisation(session, "huangshan-amr", OrgKind.GOVERNMENT, name_en="Huangshan AMR")
    new_organisation(session, "tea-promoters", OrgKind.ALLIANCE, name_en="Tea promoters")
    client = as_role(app, demo, "association_admin")
    form = {"organisation": "huangshan-amr", "role": "supervisor"}
    assert post(client, PROFILE + "/co-builders", form).status_code == 303
    again = post(client, PROFILE + "/co-builders", form)  # a double submit
    assert again.status_code == 409 and "already co-builds this brand" in text(again)
    wrong = post(
        client, PROFILE + "/co-builders", {"organisation": "hongxiang-tea", "role": "promoter"}
    )
    assert wrong.status_code == 409 and field_error(text(wrong), "role")
    brand = _brand(session)
    assert sum(co.organisation.slug == "huangshan-amr" for co in brand.co_builders) == 1
    removed = post(client, PROFILE + "/co-builders/huangshan-amr/remove")
    assert removed.status_code == 303
    owner = post(client, PROFILE + "/co-builders/qimen-tea-association/remove")
    assert owner.status_code == 409 and "cannot be removed" in text(owner)
    slugs = {
        co.organisation.slug
        for co in session.scalars(select(CoBuilder).where(CoBuilder.brand_id == brand.id))
    }
    assert "huangshan-amr" not in slugs and "qimen-tea-association" in slugs


def test_another_associations_admin_cannot_see_or_change_the_brand(app, demo, session) -> None:
    other = other_association_admin(app, session)
    assert other.get("/portal/brands", headers={"Accept": "text/html"}).status_code == 200
    assert other.get(PROFILE, headers={"Accept": "text/html"}).status_code == 404
    brand = _brand(session)
    response = post(other, PROFILE, _profile_form(brand, story_en="taken over"))
    assert response.status_code == 404 and _brand(session).story_en != "taken over"
    assert post(other, PROFILE + "/co-builders/qimen-market-regulation/remove").status_code == 404


# ---- membership applications ----------------------------------------------------------


def _application(session) -> Membership:
    """A new firm applies to the demo brand."""
    firm = new_organisation(
        session,
        "taiping-tea",
        OrgKind.ENTERPRISE,
        name_zh="太平茶业",
        name_en="Taiping Tea",
        registration_scheme="other",
        registration_number="TP-2026-01",
        region_code="CN-AH",
    )
    user = create_user(
        session,
        organisation=firm,
        email="admin@taiping.example",
        display_name="T",
        role=Role.ADMIN,
        password="a-long-password-9",
    )
    membership = apply_for_membership(
        session, caller_for(user), SLUG, registration_scheme=None, registration_number=None
    )
    session.commit()
    return membership


def test_membership_list_filters_by_status(app, demo, session) -> None:
    _application(session)
    client = as_role(app, demo, "association_staff")
    waiting = text(client.get("/portal/memberships?status=applied"))
    assert "Taiping Tea" in waiting and "Qimen Hongxiang Tea" not in waiting
    members = text(client.get("/portal/memberships?status=approved&lang=zh-CN"))
    assert "祁门红香茶业有限公司" in members and "太平茶业" not in members and "会员" in members


def test_approve_then_a_double_submit_is_refused(app, demo, session) -> None:
    membership = _application(session)
    client = as_role(app, demo, "association_admin")
    path = f"/portal/memberships/{membership.id}/approve"
    assert "The firm becomes a member" in text(client.get(path))
    assert post(client, path, {"reason": ""}).status_code == 303
    record = session.scalars(select(ActivityRecord).order_by(ActivityRecord.id.desc())).first()
    assert record.action == "brands_portal.change_membership"
    assert record.target == f"membership:{membership.id}"  # as the API records it
    again = post(client, path, {"reason": ""})
    assert again.status_code == 409 and "Nothing was changed." in text(again)
    session.refresh(membership)
    assert membership.status == MembershipStatus.APPROVED


def test_reject_needs_a_reason_of_sensible_length(app, demo, session) -> None:
    membership = _application(session)
    client = as_role(app, demo, "association_admin", lang="zh-CN")
    path = f"/portal/memberships/{membership.id}/reject"
    empty = post(client, path, {"reason": ""})
    assert empty.status_code == 422 and field_error(text(empty), "reason") == "必填。"
    long = post(client, path, {"reason": "x" * 2001})
    assert long.status_code == 422 and field_error(text(long), "reason") == "最多 2000 个字符。"
    session.refresh(membership)
    assert membership.status == MembershipStatus.APPLIED
    done = post(client, path, {"reason": "营业执照与申请不符"})
    assert done.status_code == 303
    session.refresh(membership)
    assert membership.status == MembershipStatus.REJECTED
    assert "营业执照与申请不符" in text(client.get(f"/portal/memberships/{membership.id}"))


def test_suspend_and_reinstate_a_member(app, demo, session) -> None:
    membership = session.scalar(
        select(Membership).where(
            Membership.firm.has(slug="shanyuan-tea"), Membership.status == MembershipStatus.APPROVED
        )
    )
    client = as_role(app, demo, "association_admin")
    detail = text(client.get(f"/portal/memberships/{membership.id}"))
    assert f"/portal/memberships/{membership.id}/suspend" in detail
    assert (
        post(
            client, f"/portal/memberships/{membership.id}/suspend", {"reason": "tests"}
        ).status_code
        == 303
    )
    session.refresh(membership)
    assert membership.status == MembershipStatus.SUSPENDED
    assert post(client, f"/portal/memberships/{membership.id}/reinstate", {}).status_code == 303
    session.refresh(membership)
    assert membership.status == MembershipStatus.APPROVED


def test_staff_read_memberships_but_do_not_decide(app, demo, session) -> None:
    membership = _application(session)
    client = as_role(app, demo, "association_staff")
    detail = text(client.get(f"/portal/memberships/{membership.id}"))
    assert "Only administrators" in detail and "/approve" not in detail


def test_another_associations_admin_gets_not_found(app, demo, session) -> None:
    membership = _application(session)
    other = other_association_admin(app, session)
    assert (
        other.get(
            f"/portal/memberships/{membership.id}", headers={"Accept": "text/html"}
        ).status_code
        == 404
    )
    assert post(other, f"/portal/memberships/{membership.id}/approve", {}).status_code == 404
    assert "Taiping" not in text(other.get("/portal/memberships"))
    session.refresh(membership)
    assert membership.status == MembershipStatus.APPLIED


def test_a_decision_the_status_no_longer_allows_is_refused_in_the_pages_language(
    app, demo, session
) -> None:
    membership = _application(session)
    client = as_role(app, demo, "association_admin", lang="zh-CN")
    path = f"/portal/memberships/{membership.id}/approve"
    assert post(client, path, {"reason": ""}).status_code == 303
    # A second tab still shows the application as open.
    again = post(client, path, {"reason": ""})
    assert again.status_code == 409
    page = text(again)
    assert "只有待决定的申请才能被批准。" in page
    assert "Cannot approve" not in page and "approved" not in page


def test_the_api_says_why_a_decision_is_refused_and_the_current_status(api, session) -> None:
    membership = _application(session)
    admin = api("association_admin")
    assert admin.post(f"/api/v1/memberships/{membership.id}/approve", json={}).status_code == 200
    refused = admin.post(f"/api/v1/memberships/{membership.id}/approve", json={})
    assert refused.status_code == 409
    problem = refused.get_json()
    assert problem["type"].endswith("/problems/membership-transition-refused")
    assert problem["detail"] == "Only an application awaiting a decision can be approved."
    assert problem["membership_status"] == "approved"
