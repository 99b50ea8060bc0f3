"""The firm's portal pages (products, batches, label orders, overview) and the association's
label approval pages, through the Flask test client: both languages, errors next to fields with
what was typed kept, CSRF, other organisations' ids, double submits and over-long text."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from app.certificates.models import Certificate
from app.products import services
from app.products.models import Batch, LabelOrder, LabelOrderStatus, LabelPolicy, Product, UnitCode
from tests.products.factories import caller, fresh_gtin, issued_order, make_batch, make_product
from tests.test_pages_matrix import _sign_in


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no hidden field {name}"
    return match.group(1)


def form_fields(client, path: str) -> dict[str, str]:
    """The CSRF token (and one-time token, when the form has one) of the form at ``path``."""
    response = client.get(path)
    assert response.status_code == 200, path
    page = response.get_data(as_text=True)
    fields = {"csrf_token": hidden(page, "csrf_token")}
    if 'name="form_token"' in page:
        fields["form_token"] = hidden(page, "form_token")
    return fields


def error_of(page: str, field: str) -> str:
    match = re.search(rf'<span class="field-error" id="e-{field}">([^<]*)</span>', page)
    assert match, f"no error next to {field}"
    return html.unescape(match.group(1))


def count(session, model, *conditions) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def signed_in(app, demo, role: str = "firm_admin"):
    client = app.test_client()
    _sign_in(client, demo, role)
    return client


# --- menu ----------------------------------------------------------------------------------


def test_workspace_menu_offers_the_firm_pages_only_to_firms(app, demo) -> None:
    firm = signed_in(app, demo, "firm_staff").get("/portal?lang=en").get_data(as_text=True)
    assert "/portal/firm" in firm and "/portal/label-orders" in firm
    assert "/portal/label-approvals" not in firm
    association = signed_in(app, demo, "association_staff").get("/portal").get_data(as_text=True)
    assert "/portal/label-approvals" in association and "/portal/firm" not in association


# --- products ---------------------------------------------------------------------------------


def test_products_list_shows_only_the_firms_own_and_filters(app, demo, session) -> None:
    client = signed_in(app, demo)
    page = client.get("/portal/products?lang=en").get_data(as_text=True)
    assert "06923456789012" in page and "06923456789043" not in page  # firm2's product
    filtered = client.get("/portal/products?q=789029").get_data(as_text=True)
    assert "06923456789029" in filtered and "06923456789012" not in filtered
    assert 'aria-sort="descending"' in page


def test_register_product_explains_a_wrong_check_digit_and_keeps_what_was_typed(
    app, demo, session
) -> None:
    client = signed_in(app, demo)
    fields = form_fields(client, "/portal/products/new")
    data = {**fields, "gtin": "6923456789013", "name_zh": "祁门红茶", "name_en": "Keemun tea"}
    bad = client.post("/portal/products/new?lang=en", data=data)
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert error_of(page, "gtin") == (
        "The check digit (the last digit) is 3; for these digits it must be 2."
    )
    assert 'value="6923456789013"' in page and 'value="Keemun tea"' in page
    assert 'aria-describedby="e-gtin"' in page
    # The failed attempt did not use up the form's one-time token.
    assert hidden(page, "form_token") == fields["form_token"]
    chinese = client.post("/portal/products/new?lang=zh-CN", data=data).get_data(as_text=True)
    assert error_of(chinese, "gtin") == "校验位（最后一位）是 3；按前面的数字应为 2。"
    assert count(session, Product, Product.gtin == "06923456789013") == 0


def test_register_product_then_the_same_form_again_makes_one_product(app, demo, session) -> None:
    client = signed_in(app, demo)
    fields = form_fields(client, "/portal/products/new")
    gtin = fresh_gtin()
    data = {**fields, "gtin": gtin, "name_zh": "祁门红茶 礼盒", "name_en": "Keemun gift box"}
    first = client.post("/portal/products/new", data=data)
    assert first.status_code == 303
    product = session.scalar(select(Product).where(Product.gtin == gtin))
    assert first.headers["Location"] == f"/portal/products/{product.id}"
    again = client.post("/portal/products/new", data=data)
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    assert count(session, Product, Product.gtin == gtin) == 1
    shown = client.get(again.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "submitted already" in shown and "Keemun gift box" in shown


def test_register_product_refuses_a_gtin_another_firm_registered(app, demo) -> None:
    client = signed_in(app, demo)
    data = {
        **form_fields(client, "/portal/products/new"),
        "gtin": "06923456789043",
        "name_zh": "仿冒",
        "name_en": "Copy",
    }
    page = client.post("/portal/products/new?lang=en", data=data).get_data(as_text=True)
    assert error_of(page, "gtin") == "This GTIN is registered already."


def test_over_long_and_missing_text_is_refused_next_to_the_field(app, demo, session) -> None:
    client = signed_in(app, demo)
    gtin = fresh_gtin()
    data = {
        **form_fields(client, "/portal/products/new"),
        "gtin": gtin,
        "name_zh": "",
        "name_en": "x" * 201,
    }
    response = client.post("/portal/products/new?lang=en", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert error_of(page, "name_en") == "Too long: at most 200 characters are allowed."
    assert error_of(page, "name_zh") == "Required."
    chinese = client.post("/portal/products/new?lang=zh-CN", data=data).get_data(as_text=True)
    assert error_of(chinese, "name_en") == "太长：最多 200 个字符。"
    assert count(session, Product, Product.gtin == gtin) == 0


def test_forged_posts_without_csrf_token_change_nothing(app, demo, session) -> None:
    client = signed_in(app, demo)
    gtin = fresh_gtin()
    response = client.post(
        "/portal/products/new",
        data={"gtin": gtin, "name_zh": "祁门红茶", "name_en": "Keemun"},
        headers={"Accept": "text/html"},
    )
    assert response.status_code == 403 and "CSRF" in response.get_data(as_text=True)
    assert count(session, Product, Product.gtin == gtin) == 0
    order_id = demo["label_order"]["id"]
    forged = client.post(f"/portal/label-orders/{order_id}/blacklist", data={"reason": "x"})
    assert forged.status_code == 403
    assert session.get(LabelOrder, order_id).status is LabelOrderStatus.ACTIVE


def test_edit_product_and_another_firms_product_answers_404(app, demo, session) -> None:
    client = signed_in(app, demo)
    who = caller(session)
    product = make_product(session, who, certified_quota=None)
    path = f"/portal/products/{product.id}/edit"
    fields = form_fields(client, path)
    data = {**fields, "name_zh": "新名字", "name_en": "New name", "status": "discontinued"}
    assert client.post(path, data=data).status_code == 303
    session.expire_all()
    assert product.name_en == "New name" and product.status.value == "discontinued"
    too_long = client.post(path + "?lang=en", data={**data, "name_en": "y" * 300})
    assert too_long.status_code == 422 and 'value="' + "y" * 300 + '"' in too_long.get_data(
        as_text=True
    )
    session.expire_all()
    assert product.name_en == "New name"
    other = session.scalar(select(Product).where(Product.gtin == "06923456789043"))
    assert client.get(f"/portal/products/{other.id}").status_code == 404
    assert client.get(f"/portal/products/{other.id}/edit").status_code == 404
    refused = client.post(f"/portal/products/{other.id}/edit", data=data)
    assert refused.status_code == 404
    session.expire_all()
    assert other.name_en == "Qimen Congou Black Tea, 200 g"


# --- batches ----------------------------------------------------------------------------------


def test_create_batch_errors_next_to_fields_then_success_once(app, demo, session) -> None:
    client = signed_in(app, demo)
    product = make_product(session, caller(session), certified_quota=None)
    path = f"/portal/products/{product.id}/batches/new"
    fields = form_fields(client, path)
    bad = {
        **fields,
        "lot": "春茶 01",
        "production_date": "2026-04-02",
        "best_before_date": "2026-03-01",
        "quantity": "abc",
        "production_site_gln": "6931234000014",
    }
    response = client.post(path + "?lang=en", data=bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and error_of(page, "quantity") == "Enter a whole number."
    assert 'value="春茶 01"' in page
    bad["quantity"] = "100"
    page = client.post(path + "?lang=en", data=bad).get_data(as_text=True)
    assert "no spaces, no Chinese characters" in error_of(page, "lot")
    bad["lot"] = "SPRING-01"
    page = client.post(path + "?lang=en", data=bad).get_data(as_text=True)
    assert error_of(page, "best_before_date") == "May not be before the production date."
    bad["best_before_date"] = "2028-04-01"
    page = client.post(path + "?lang=zh-CN", data=bad).get_data(as_text=True)
    assert error_of(page, "production_site_gln") == "校验位（最后一位）是 4；按前面的数字应为 3。"
    bad["production_site_gln"] = "6931234000013"
    first = client.post(path, data=bad)
    assert first.status_code == 303
    again = client.post(path, data=bad)
    assert again.headers["Location"] == first.headers["Location"]
    assert count(session, Batch, Batch.product_id == product.id) == 1
    batch_page = client.get(first.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "SPRING-01" in batch_page and "6931234000013" in batch_page


def test_another_firms_batch_pages_answer_404(app, demo, session) -> None:
    other = make_batch(session, caller(session, "admin@shanyuan-tea.example"), quota=None)
    client = signed_in(app, demo)
    fields = form_fields(client, "/portal/products/new")
    assert client.get(f"/portal/batches/{other.id}").status_code == 404
    assert client.get(f"/portal/products/{other.product_id}/batches/new").status_code == 404
    refused = client.post(
        f"/portal/batches/{other.id}/label-orders/new", data={**fields, "quantity": "5"}
    )
    assert refused.status_code == 404
    assert count(session, LabelOrder, LabelOrder.batch_id == other.id) == 0


# --- label orders -----------------------------------------------------------------------------


def test_order_beyond_the_quota_is_refused_next_to_the_quantity(app, demo, session) -> None:
    batch = make_batch(session, caller(session), quota=100)
    client = signed_in(app, demo)
    path = f"/portal/batches/{batch.id}/label-orders/new"
    page = client.get(path + "?lang=en").get_data(as_text=True)
    assert "100 of 100 labels left" in page
    data = {**form_fields(client, path), "quantity": "150"}
    response = client.post(path + "?lang=en", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert error_of(page, "quantity") == (
        "Only 100 labels are left of the certificate's quota of 100."
    )
    assert 'value="150"' in page
    chinese = client.post(path + "?lang=zh-CN", data=data).get_data(as_text=True)
    assert error_of(chinese, "quantity") == "证书配额只剩 100 个标签（共 100 个）。"
    assert count(session, LabelOrder, LabelOrder.batch_id == batch.id) == 0


def test_order_for_a_product_no_certificate_covers_is_refused_clearly(app, demo, session) -> None:
    batch = make_batch(session, caller(session), quota=None)
    client = signed_in(app, demo)
    path = f"/portal/batches/{batch.id}/label-orders/new"
    response = client.post(path + "?lang=en", data={**form_fields(client, path), "quantity": "5"})
    assert response.status_code == 422
    assert "No certificate in force covers this product" in response.get_data(as_text=True)


def test_posting_the_same_order_form_twice_makes_one_order(app, demo, session) -> None:
    batch = make_batch(session, caller(session), quota=1000)
    client = signed_in(app, demo)
    path = f"/portal/batches/{batch.id}/label-orders/new"
    data = {**form_fields(client, path), "quantity": "40"}
    first = client.post(path, data=data)
    second = client.post(path, data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count(session, LabelOrder, LabelOrder.batch_id == batch.id) == 1
    order = session.scalar(select(LabelOrder).where(LabelOrder.batch_id == batch.id))
    assert session.get(Certificate, order.certificate_id).labels_issued == 40
    # A fresh form (a new token) is a new order.
    third = client.post(path, data={**form_fields(client, path), "quantity": "10"})
    assert third.status_code == 303 and third.headers["Location"] != first.headers["Location"]
    assert count(session, LabelOrder, LabelOrder.batch_id == batch.id) == 2


def test_a_form_without_its_one_time_token_is_refused_above_the_form(app, demo, session) -> None:
    batch = make_batch(session, caller(session), quota=1000)
    client = signed_in(app, demo)
    path = f"/portal/batches/{batch.id}/label-orders/new"
    fields = form_fields(client, path)
    response = client.post(
        path + "?lang=en", data={"csrf_token": fields["csrf_token"], "quantity": "5"}
    )
    assert response.status_code == 422
    assert "out of date or incomplete" in response.get_data(as_text=True)
    assert count(session, LabelOrder, LabelOrder.batch_id == batch.id) == 0


def test_order_approve_print_activate_download_the_whole_way(app, demo, session) -> None:
    batch = make_batch(session, caller(session), quota=1000)
    firm = signed_in(app, demo)
    path = f"/portal/batches/{batch.id}/label-orders/new"
    placed = firm.post(path, data={**form_fields(firm, path), "quantity": "30"})
    order_path = placed.headers["Location"]
    order_id = int(order_path.rsplit("/", 1)[1])
    page = firm.get(order_path + "?lang=en").get_data(as_text=True)
    assert "waiting for the association" in page and "Cancel the order" in page

    association = signed_in(app, demo, "association_staff")
    queue = association.get("/portal/label-approvals?lang=en").get_data(as_text=True)
    assert f"Approve order {order_id}" in queue and "Qimen Hongxiang Tea" in queue
    token = hidden(queue, "csrf_token")
    approved = association.post(
        f"/portal/label-approvals/{order_id}/approve", data={"csrf_token": token}
    )
    assert approved.status_code == 303
    again = association.post(
        f"/portal/label-approvals/{order_id}/approve?lang=en", data={"csrf_token": token}
    )
    assert again.status_code == 303
    assert "decided already" in association.get("/portal/label-approvals?lang=en").get_data(
        as_text=True
    )
    assert count(session, UnitCode, UnitCode.order_id == order_id) == 30

    page = firm.get(order_path + "?lang=en").get_data(as_text=True)
    assert "codes ready to print" in page and 'src="/qr/01/' in page
    csv = firm.get(f"/api/v1/label-orders/{order_id}/codes.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert len(csv.get_data(as_text=True).strip().splitlines()) == 31
    pdf = firm.get(f"/api/v1/label-orders/{order_id}/labels.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    token = hidden(page, "csrf_token")
    assert (
        firm.post(f"/portal/label-orders/{order_id}/printed", data={"csrf_token": token})
    ).status_code == 303
    confirm = firm.get(f"/portal/label-orders/{order_id}/activate?lang=en").get_data(as_text=True)
    assert "will verify as genuine" in confirm and "Activate 30 labels" in confirm
    session.expire_all()
    assert (
        session.get(LabelOrder, order_id).status is LabelOrderStatus.PRINTED
    )  # GET changes nothing
    activate = firm.post(f"/portal/label-orders/{order_id}/activate", data={"csrf_token": token})
    assert activate.status_code == 303
    twice = firm.post(f"/portal/label-orders/{order_id}/activate", data={"csrf_token": token})
    assert twice.status_code == 303
    page = firm.get(order_path + "?lang=en").get_data(as_text=True)
    assert "activated already" in page and "codes verify as genuine" in page
    session.expire_all()
    assert session.get(LabelOrder, order_id).status is LabelOrderStatus.ACTIVE


def test_labels_of_a_brand_the_firm_left_are_not_activated_and_the_page_says_why(
    app, demo, session
) -> None:
    from app.brands.models import Membership
    from app.firm.services import leave_brand

    firm = caller(session)
    order = issued_order(session)
    services.mark_printed(session, firm, order.id)
    certificate = session.get(Certificate, order.certificate_id)
    membership = session.scalar(
        select(Membership).where(
            Membership.firm_id == firm.organisation_id,
            Membership.brand_id == certificate.brand_id,
        )
    )
    leave_brand(session, firm, membership.id, "we stop making this tea")
    session.commit()
    client = signed_in(app, demo, "firm_staff")
    path = f"/portal/label-orders/{order.id}/activate"
    confirm = client.get(path + "?lang=en").get_data(as_text=True)
    refusal = (
        f"Not possible: certificate {certificate.number}, which these labels stand for, is not "
        "in force"
    )
    assert refusal in html.unescape(confirm)
    assert re.search(r'<button type="submit" class="primary"\s+disabled', confirm)
    chinese = client.get(path + "?lang=zh-CN").get_data(as_text=True)
    assert f"证书 {certificate.number}" in chinese and "不能激活" in chinese

    posted = client.post(path + "?lang=en", data={"csrf_token": hidden(confirm, "csrf_token")})
    assert posted.status_code == 303
    assert posted.headers["Location"].endswith(f"/portal/label-orders/{order.id}")
    page = client.get(f"/portal/label-orders/{order.id}?lang=en").get_data(as_text=True)
    assert refusal in html.unescape(page)
    session.expire_all()
    unchanged = session.get(LabelOrder, order.id)
    assert unchanged.status is LabelOrderStatus.PRINTED and unchanged.activated_at is None


def test_labels_of_a_product_taken_out_of_scope_are_not_activated_and_the_page_says_why(
    app, demo, session
) -> None:
    from app.certificates.models import CertificateEventKind
    from tests.products.factories import certify

    firm = caller(session)
    order = issued_order(session)
    services.mark_printed(session, firm, order.id)
    certificate = session.get(Certificate, order.certificate_id)
    narrowed = certify(
        session,
        firm.organisation_id,
        [fresh_gtin()],
        previous=certificate,
        event=CertificateEventKind.REISSUED,
    )
    session.commit()
    client = signed_in(app, demo, "firm_staff")
    confirm = client.get(f"/portal/label-orders/{order.id}/activate?lang=en")
    words = html.unescape(confirm.get_data(as_text=True))
    assert f"certificate {narrowed.number}, which these labels stand for, no longer covers" in words
    chinese = client.get(f"/portal/label-orders/{order.id}/activate?lang=zh-CN")
    assert "已不再覆盖该产品" in chinese.get_data(as_text=True)


def test_cancel_a_pending_order_gives_the_quota_back(app, demo, session) -> None:
    batch = make_batch(session, caller(session), quota=1000)
    client = signed_in(app, demo, "firm_staff")
    path = f"/portal/batches/{batch.id}/label-orders/new"
    placed = client.post(path, data={**form_fields(client, path), "quantity": "70"})
    order_id = int(placed.headers["Location"].rsplit("/", 1)[1])
    token = form_fields(client, placed.headers["Location"])["csrf_token"]
    assert (
        client.post(
            f"/portal/label-orders/{order_id}/cancel", data={"csrf_token": token}
        ).status_code
        == 303
    )
    session.expire_all()
    order = session.get(LabelOrder, order_id)
    assert order.status is LabelOrderStatus.CANCELLED
    assert session.get(Certificate, order.certificate_id).labels_issued == 0
    # Steps that do not fit the state are explained, and change nothing.
    client.post(f"/portal/label-orders/{order_id}/printed", data={"csrf_token": token})
    page = client.get(f"/portal/label-orders/{order_id}?lang=en").get_data(as_text=True)
    assert "Not possible: the order is cancelled." in page


def test_blacklist_a_whole_order_after_a_confirmation_page(app, demo, session) -> None:
    order_id = demo["label_order"]["id"]
    client = signed_in(app, demo)
    path = f"/portal/label-orders/{order_id}/blacklist"
    page = client.get(path + "?lang=en").get_data(as_text=True)
    assert "cannot be undone" in page and "Blacklist all 20 codes" in page
    token = hidden(page, "csrf_token")
    empty = client.post(path + "?lang=en", data={"csrf_token": token, "reason": " "})
    assert empty.status_code == 422
    long = client.post(path + "?lang=en", data={"csrf_token": token, "reason": "z" * 501})
    assert long.status_code == 422
    assert error_of(long.get_data(as_text=True), "reason") == (
        "Too long: at most 500 characters are allowed."
    )
    session.expire_all()
    assert session.get(LabelOrder, order_id).status is LabelOrderStatus.ACTIVE
    done = client.post(path, data={"csrf_token": token, "reason": "box of labels stolen"})
    assert done.status_code == 303
    session.expire_all()
    order = session.get(LabelOrder, order_id)
    assert order.status is LabelOrderStatus.BLACKLISTED
    assert order.blacklist_reason == "box of labels stolen"


def test_blacklist_one_label_by_serial_with_a_confirmation_step(app, demo, session) -> None:
    order_id = demo["label_order"]["id"]
    serial = demo["unit"]["serial"]
    client = signed_in(app, demo)
    path = f"/portal/label-orders/{order_id}/blacklist-unit"
    token = form_fields(client, path)["csrf_token"]
    other_serial = demo["unit_inactive"]["serial"]  # a label of another order
    wrong = client.post(
        path + "?lang=en", data={"csrf_token": token, "serial": other_serial, "reason": "lost"}
    )
    assert wrong.status_code == 422
    assert error_of(wrong.get_data(as_text=True), "serial") == (
        "No label of this order has this serial."
    )
    check = client.post(
        path + "?lang=en", data={"csrf_token": token, "serial": serial, "reason": "lost"}
    )
    page = check.get_data(as_text=True)
    assert check.status_code == 200 and "cannot be undone" in page and serial in page
    assert (
        count(session, UnitCode, UnitCode.serial == serial, UnitCode.blacklisted_at.is_not(None))
        == 0
    )
    done = client.post(
        path, data={"csrf_token": token, "serial": serial, "reason": "lost", "confirm": "yes"}
    )
    assert done.status_code == 303
    assert (
        count(session, UnitCode, UnitCode.serial == serial, UnitCode.blacklisted_at.is_not(None))
        == 1
    )


def test_another_firms_label_orders_answer_404_and_change_nothing(app, demo, session) -> None:
    order_id = demo["label_order"]["id"]
    client = signed_in(app, demo, "firm2_admin")
    token = form_fields(client, "/portal/label-orders")["csrf_token"]
    assert client.get(f"/portal/label-orders/{order_id}").status_code == 404
    for step in ("printed", "cancel", "activate", "blacklist"):
        response = client.post(
            f"/portal/label-orders/{order_id}/{step}", data={"csrf_token": token, "reason": "x"}
        )
        assert response.status_code == 404, step
    assert client.get(f"/api/v1/label-orders/{order_id}/codes.csv").status_code == 404
    session.expire_all()
    assert session.get(LabelOrder, order_id).status is LabelOrderStatus.ACTIVE


def test_order_list_filters_by_status(app, demo, session) -> None:
    client = signed_in(app, demo)
    page = client.get("/portal/label-orders?status=active&lang=en").get_data(as_text=True)
    assert f'href="/portal/label-orders/{demo["label_order"]["id"]}"' in page
    firm_id = caller(session).organisation_id
    active = count(
        session,
        LabelOrder,
        LabelOrder.organisation_id == firm_id,
        LabelOrder.status == LabelOrderStatus.ACTIVE,
    )
    assert f"{active} in all" in page


# --- the association's side -------------------------------------------------------------------


def test_association_rejects_with_a_reason_after_a_confirmation_page(app, demo, session) -> None:
    who = caller(session)
    batch = make_batch(session, who, quota=500)
    firm = signed_in(app, demo)
    path = f"/portal/batches/{batch.id}/label-orders/new"
    placed = firm.post(path, data={**form_fields(firm, path), "quantity": "200"})
    order_id = int(placed.headers["Location"].rsplit("/", 1)[1])
    association = signed_in(app, demo, "association_admin")
    quota = association.get("/portal/label-approvals?lang=en").get_data(as_text=True)
    assert "Quota use per firm and certificate" in quota
    reject = f"/portal/label-approvals/{order_id}/reject"
    page = association.get(reject + "?lang=en").get_data(as_text=True)
    assert "go back to the certificate's quota" in page
    token = hidden(page, "csrf_token")
    missing = association.post(reject + "?lang=en", data={"csrf_token": token, "reason": ""})
    assert missing.status_code == 422 and error_of(missing.get_data(as_text=True), "reason")
    done = association.post(reject, data={"csrf_token": token, "reason": "批次检验未完成"})
    assert done.status_code == 303
    session.expire_all()
    order = session.get(LabelOrder, order_id)
    assert order.status is LabelOrderStatus.REJECTED and order.decision_reason == "批次检验未完成"
    assert session.get(Certificate, order.certificate_id).labels_issued == 0
    seen = firm.get(f"/portal/label-orders/{order_id}?lang=zh-CN").get_data(as_text=True)
    assert "批次检验未完成" in seen and "已驳回" in seen


def test_association_cannot_decide_orders_it_does_not_certify(app, demo, session) -> None:
    association = signed_in(app, demo, "association_staff")
    token = form_fields(association, "/portal/label-approvals")["csrf_token"]
    assert (
        association.post(
            "/portal/label-approvals/999999/approve", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert association.get("/portal/label-approvals/999999/reject").status_code == 404


def test_label_policy_auto_approves_small_orders(app, demo, session) -> None:
    admin = signed_in(app, demo, "association_admin")
    page = admin.get("/portal/label-policy?lang=en").get_data(as_text=True)
    assert "Automatic approval: off" in page
    token = hidden(page, "csrf_token")
    bad = admin.post(
        "/portal/label-policy/qimen-black-tea?lang=en",
        data={"csrf_token": token, "auto_approve": "true", "auto_approve_max": "0"},
    )
    assert bad.status_code == 422 and error_of(bad.get_data(as_text=True), "auto_approve_max") == (
        "At least 1."
    )
    saved = admin.post(
        "/portal/label-policy/qimen-black-tea",
        data={"csrf_token": token, "auto_approve": "true", "auto_approve_max": "100"},
    )
    assert saved.status_code == 303
    session.expire_all()
    policy = session.scalar(select(LabelPolicy))
    assert policy.auto_approve and policy.auto_approve_max == 100
    batch = make_batch(session, caller(session), quota=1000)
    firm = signed_in(app, demo)
    path = f"/portal/batches/{batch.id}/label-orders/new"
    placed = firm.post(path, data={**form_fields(firm, path), "quantity": "50"})
    shown = firm.get(placed.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "approved at once" in shown and "approved automatically" in shown
    staff = signed_in(app, demo, "association_staff")
    assert "Only the association's administrators" in staff.get(
        "/portal/label-policy?lang=en"
    ).get_data(as_text=True)


def test_another_association_cannot_see_or_decide_these_orders(app, demo, session) -> None:
    from app.auth import services as auth
    from app.auth.models import OrgKind, Role

    other = auth.create_organisation(
        session,
        slug="huangshan-tea-association",
        kind=OrgKind.ASSOCIATION,
        name_zh="黄山茶业协会",
        name_en="Huangshan Tea Association",
    )
    auth.create_user(
        session,
        organisation=other,
        email="staff@huangshan-tea.example",
        display_name="Other staff",
        role=Role.STAFF,
        password="another-password-1",
    )
    session.flush()
    batch = make_batch(session, caller(session), quota=100)
    order = services.order_labels(session, caller(session), batch.id, quantity=10)
    session.flush()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post(
        "/login",
        data={
            "email": "staff@huangshan-tea.example",
            "password": "another-password-1",
            "csrf_token": hidden(page, "csrf_token"),
        },
    )
    queue = client.get("/portal/label-approvals?lang=en").get_data(as_text=True)
    assert "No order is waiting." in queue and "Qimen Hongxiang" not in queue
    token = hidden(queue, "csrf_token")
    assert client.get(f"/portal/label-approvals/{order.id}/reject").status_code == 404
    for step in ("approve", "reject"):
        response = client.post(
            f"/portal/label-approvals/{order.id}/{step}", data={"csrf_token": token, "reason": "x"}
        )
        assert response.status_code == 404
    session.expire_all()
    assert session.get(LabelOrder, order.id).status is LabelOrderStatus.PENDING


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (180, 40, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_product_pictures_upload_refusals_repeat_and_removal(app, demo, session) -> None:
    import io

    from app.products.models import ProductImage

    product = make_product(session, caller(session), certified_quota=None)
    client = signed_in(app, demo)
    path = f"/portal/products/{product.id}"
    fields = form_fields(client, path)
    url = f"{path}/images"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    refused = client.post(url + "?lang=en", data={**fields, "file": (io.BytesIO(svg), "x.svg")})
    assert refused.status_code == 422
    assert error_of(refused.get_data(as_text=True), "file") == "Send a PNG, JPEG or WebP picture."
    missing = client.post(url + "?lang=zh-CN", data=fields)
    assert error_of(missing.get_data(as_text=True), "file") == "请选择文件。"
    assert count(session, ProductImage, ProductImage.product_id == product.id) == 0
    first = client.post(url, data={**fields, "file": (io.BytesIO(_png()), "tin.png")})
    again = client.post(url, data={**fields, "file": (io.BytesIO(_png()), "tin.png")})
    assert first.status_code == again.status_code == 303
    assert count(session, ProductImage, ProductImage.product_id == product.id) == 1
    page = client.get(path + "?lang=en").get_data(as_text=True)
    image_id = session.scalar(select(ProductImage.id).where(ProductImage.product_id == product.id))
    assert f"/products/{product.gtin}/images/{image_id}" in page
    assert client.get(f"/products/{product.gtin}/images/{image_id}").mimetype == "image/png"
    other = signed_in(app, demo, "firm2_admin")
    token = form_fields(other, "/portal/products")["csrf_token"]
    assert (
        other.post(f"{path}/images/{image_id}/remove", data={"csrf_token": token}).status_code
        == 404
    )
    removed = client.post(
        f"{path}/images/{image_id}/remove", data={"csrf_token": fields["csrf_token"]}
    )
    assert removed.status_code == 303
    assert count(session, ProductImage, ProductImage.product_id == product.id) == 0


def test_an_order_page_names_the_certificate_its_labels_stand_for_after_a_re_issue(
    app, demo, session
) -> None:
    from app.certificates.models import CertificateEventKind
    from tests.products.factories import certify

    firm = caller(session)
    order = issued_order(session)
    certificate = session.get(Certificate, order.certificate_id)
    successor = certify(
        session,
        firm.organisation_id,
        list(certificate.scope_gtins),
        quota=5000,
        previous=certificate,
        event=CertificateEventKind.REISSUED,
    )
    session.commit()
    page = signed_in(app, demo, "firm_staff").get(f"/portal/label-orders/{order.id}?lang=en")
    words = " ".join(re.sub(r"<[^>]+>", " ", page.get_data(as_text=True)).split())
    # The quota its labels now use is the successor's, not the replaced certificate's.
    assert f"{successor.number} (ordered under {certificate.number}, which it replaced)" in words
    assert "of 5,000 labels used" in words
