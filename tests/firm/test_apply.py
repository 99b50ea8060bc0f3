"""Applying to join a brand from the firm's portal: the brands open to the firm, the form (the
API's fields, through the same service), refusals in the page's language, CSRF and one-time
tokens, firm admins only."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from app.activity.models import ActivityRecord
from app.auth.models import Organisation
from app.brands.models import Membership, MembershipStatus
from app.portal.submissions import new_form_token
from tests.brandkit import brand_body
from tests.portalkit import HTML, field_error, post, text, value_of
from tests.products.factories import caller
from tests.products.test_portal import form_fields, signed_in

APPLY = "/portal/firm/brands/apply"
LINK = f'href="{APPLY}"'


def _applications(session, firm_id: int, status: MembershipStatus | None = None) -> int:
    session.expire_all()
    statement = select(func.count()).select_from(Membership).where(Membership.firm_id == firm_id)
    if status is not None:
        statement = statement.where(Membership.status == status)
    return session.scalar(statement) or 0


def _brand_options(page: str) -> list[str]:
    select_html = re.search(r'<select id="f-brand".*?</select>', page, re.S)
    return re.findall(r'<option value="([^"]+)"', select_html.group(0)) if select_html else []


def test_a_firm_admin_applies_and_the_association_sees_the_application(
    app, demo, session, api
) -> None:
    assert api("association_admin").post("/api/v1/brands", json=brand_body()).status_code == 201
    firm = caller(session)
    client = signed_in(app, demo)
    overview = text(client.get("/portal/firm?lang=en"))
    assert LINK in overview and "Apply to join a brand…" in overview

    page = text(client.get(APPLY + "?lang=en"))
    # The firm is a member of the demo brand already: only the new brand is offered.
    assert _brand_options(page) == ["huangshan-maofeng"]
    assert "Huangshan Maofeng" in page and 'data-label="Region"' in page
    assert "Qimen" not in page.split('id="h-apply"')[1]

    fields = form_fields(client, APPLY + "?lang=en")
    done = client.post(
        APPLY,
        data={**fields, "brand": "huangshan-maofeng", "message": "We grow it on Mount Huangshan."},
        headers=HTML,
    )
    assert done.status_code == 303 and done.headers["Location"].endswith("/portal/firm")
    shown = text(client.get("/portal/firm?lang=en"))
    assert "Your firm applied to join Huangshan Maofeng; the association will decide." in shown
    assert _applications(session, firm.organisation_id, MembershipStatus.APPLIED) == 1
    # The activity trail names what was done.
    record = session.scalars(select(ActivityRecord).order_by(ActivityRecord.id.desc())).first()
    assert record is not None and record.action == "firm_portal.apply_to_brand"
    applied = session.scalar(
        select(Membership.id).where(
            Membership.firm_id == firm.organisation_id,
            Membership.status == MembershipStatus.APPLIED,
        )
    )
    assert record.target == f"membership:{applied}"

    # The association sees it, through the API and in its portal.
    listed = api("association_admin").get("/api/v1/memberships?brand=huangshan-maofeng")
    items = listed.get_json()["items"]
    assert [(m["status"], m["message"]) for m in items] == [
        ("applied", "We grow it on Mount Huangshan.")
    ]
    association = signed_in(app, demo, "association_admin")
    queue = text(association.get("/portal/memberships?status=applied&lang=en"))
    assert "Huangshan Maofeng" in queue

    # Nothing is left to apply to.
    again = text(client.get(APPLY + "?lang=en"))
    assert _brand_options(again) == [] and "every brand" in again


def test_staff_see_no_link_and_cannot_apply(app, demo, session, api) -> None:
    api("association_admin").post("/api/v1/brands", json=brand_body())
    firm = caller(session)
    before = _applications(session, firm.organisation_id)
    staff = signed_in(app, demo, "firm_staff")
    assert LINK not in text(staff.get("/portal/firm?lang=en"))
    assert staff.get(APPLY).status_code == 403
    # Even with a valid CSRF token and a form token of the admin's page.
    token = form_fields(signed_in(app, demo), APPLY)["form_token"]
    refused = post(staff, APPLY, {"form_token": token, "brand": "huangshan-maofeng"})
    assert refused.status_code == 403
    assert _applications(session, firm.organisation_id) == before


def test_a_firm_cannot_apply_twice_and_the_refusal_reads_in_the_page_language(
    app, demo, session, api
) -> None:
    api("association_admin").post("/api/v1/brands", json=brand_body())
    firm = caller(session)
    client = signed_in(app, demo)
    fields = form_fields(client, APPLY)
    form = {**fields, "brand": "huangshan-maofeng"}
    first = client.post(APPLY, data=form, headers=HTML)
    assert first.status_code == 303
    count = _applications(session, firm.organisation_id)

    # The same form sent again (a double click) goes where the first went, doing nothing.
    repeat = client.post(APPLY, data=form, headers=HTML)
    assert repeat.status_code == 303 and repeat.headers["Location"].endswith("/portal/firm")
    assert _applications(session, firm.organisation_id) == count

    # A new form naming a brand the firm applied to, or belongs to, is refused readably.
    for slug, name in (("huangshan-maofeng", "Huangshan Maofeng"), ("qimen-black-tea", "Qimen")):
        refused = post(client, APPLY + "?lang=en", {"form_token": new_form_token(), "brand": slug})
        assert refused.status_code == 422
        shown = html.unescape(text(refused))
        assert "Your firm already has an open application to or membership of" in shown
        assert name in shown.split("Your firm already has")[1]
    chinese = post(
        client,
        APPLY + "?lang=zh-CN",
        {"form_token": new_form_token(), "brand": "huangshan-maofeng"},
    )
    assert chinese.status_code == 422
    assert "贵企业已向“黄山毛峰”提交申请或已是其成员。" in html.unescape(text(chinese))
    assert _applications(session, firm.organisation_id) == count


def test_the_page_renders_in_chinese(app, demo, api) -> None:
    api("association_admin").post("/api/v1/brands", json=brand_body())
    client = signed_in(app, demo)
    assert "申请加入品牌…" in text(client.get("/portal/firm?lang=zh-CN"))
    page = text(client.get(APPLY + "?lang=zh-CN"))
    assert "申请加入品牌" in page and "黄山毛峰" in page and "安徽省黄山市" in page
    assert "给协会的留言" in page


def test_csrf_and_form_tokens_are_required(app, demo, session, api) -> None:
    api("association_admin").post("/api/v1/brands", json=brand_body())
    firm = caller(session)
    before = _applications(session, firm.organisation_id)
    client = signed_in(app, demo)
    fields = form_fields(client, APPLY)
    forged = client.post(
        APPLY,
        data={"form_token": fields["form_token"], "brand": "huangshan-maofeng"},
        headers=HTML,
    )
    assert forged.status_code == 403 and "CSRF" in text(forged)
    untokened = client.post(
        APPLY + "?lang=en",
        data={"csrf_token": fields["csrf_token"], "brand": "huangshan-maofeng"},
        headers=HTML,
    )
    assert untokened.status_code == 422
    assert "This form is out of date or incomplete" in text(untokened)
    assert _applications(session, firm.organisation_id) == before
    # The same form with its tokens goes through.
    done = client.post(APPLY, data={**fields, "brand": "huangshan-maofeng"}, headers=HTML)
    assert done.status_code == 303
    assert _applications(session, firm.organisation_id) == before + 1


def test_a_firm_without_a_registration_number_gives_one_and_errors_sit_by_the_field(
    app, demo, session, api
) -> None:
    api("association_admin").post("/api/v1/brands", json=brand_body())
    firm = session.get(Organisation, caller(session).organisation_id)
    number = firm.registration_number
    firm.registration_number = firm.registration_scheme = None
    session.flush()
    client = signed_in(app, demo)
    page = text(client.get(APPLY + "?lang=zh-CN&brand=huangshan-maofeng"))
    assert 'name="registration_number"' in page and "统一社会信用代码（18 位）" in page
    fields = form_fields(client, APPLY)
    wrong = number[:-1] + ("A" if number[-1] != "A" else "B")
    refused = client.post(
        APPLY + "?lang=zh-CN",
        data={**fields, "brand": "huangshan-maofeng", "registration_number": wrong},
        headers=HTML,
    )
    assert refused.status_code == 422
    assert field_error(text(refused), "registration_number") == "校验码（最后一位）不正确。"
    assert value_of(text(refused), "registration_number") == wrong
    session.expire_all()
    assert firm.registration_number is None
    assert _applications(session, firm.id, MembershipStatus.APPLIED) == 0

    done = client.post(
        APPLY,
        data={**fields, "brand": "huangshan-maofeng", "registration_number": number.lower()},
        headers=HTML,
    )
    assert done.status_code == 303
    session.expire_all()
    assert firm.registration_number == number and firm.registration_scheme == "uscc"
    assert _applications(session, firm.id, MembershipStatus.APPLIED) == 1
