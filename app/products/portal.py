"""Portal pages of the products domain.

For firms: an overview (certificates, label quota, recent orders), products and their batches,
label orders from ordering to activation, downloads and blacklisting. For the certifying
association: the queue of label orders awaiting approval, quota use per firm and certificate,
and the brand's label policy. Every page calls the domain services, which scope records to the
caller's organisation (another organisation's ids answer 404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from sqlalchemy import func, or_, select

from app.auth.models import Organisation, OrgKind, Role
from app.auth.principal import Access, Caller, allow
from app.brands.models import Brand
from app.certificates.errors import CertificateNotInForce
from app.certificates.models import LIVE_STATUSES, Certificate, CertificateStatus
from app.errors import AppError
from app.extensions import db
from app.http.api import set_activity_target
from app.http.web import page
from app.i18n import current_locale
from app.portal.charts import bar_chart
from app.portal.nav import nav_item
from app.portal.tables import Column, Filter, build_table
from app.products import codes, coverage, services
from app.products.errors import OrderStateConflict
from app.products.models import (
    Batch,
    LabelOrder,
    LabelOrderStatus,
    LabelPolicy,
    Product,
    ProductStatus,
)
from app.products.portal_forms import (
    Submission,
    apply_error,
    bilingual,
    choice_filter,
    form_token,
    parse,
    remember_result,
    repeated_submission,
    submit,
    when,
)
from app.products.schemas import (
    BatchCreate,
    LabelOrderCreate,
    LabelPolicyIn,
    ProductCreate,
    ProductUpdate,
    ReasonBody,
)

bp = Blueprint("products_portal", __name__, url_prefix="/portal", template_folder="templates")

STAFF_ROLES = [Role.ADMIN, Role.STAFF]
FIRM = allow([OrgKind.ENTERPRISE], STAFF_ROLES)
ASSOCIATION = allow([OrgKind.ASSOCIATION], STAFF_ROLES)
ASSOCIATION_ADMIN = allow([OrgKind.ASSOCIATION], [Role.ADMIN])

FIRM_SECTION = lazy_gettext("Firm")
LABELS_SECTION = lazy_gettext("Label orders")

nav_item(FIRM_SECTION, lazy_gettext("Products and batches"), "products_portal.products", FIRM, 110)
nav_item(FIRM_SECTION, lazy_gettext("Label orders"), "products_portal.orders", FIRM, 120)
nav_item(
    LABELS_SECTION,
    lazy_gettext("Label orders awaiting approval"),
    "products_portal.approvals",
    ASSOCIATION,
    300,
)
nav_item(
    LABELS_SECTION, lazy_gettext("Label policy"), "products_portal.label_policy", ASSOCIATION, 310
)

ORDER_STATUS_LABELS = {
    LabelOrderStatus.PENDING: lazy_gettext("waiting for the association's approval"),
    LabelOrderStatus.REJECTED: lazy_gettext("rejected"),
    LabelOrderStatus.CANCELLED: lazy_gettext("cancelled"),
    LabelOrderStatus.ISSUED: lazy_gettext("issued: codes ready to print, not yet valid"),
    LabelOrderStatus.PRINTED: lazy_gettext("printed: not yet valid"),
    LabelOrderStatus.ACTIVE: lazy_gettext("active: codes verify as genuine"),
    LabelOrderStatus.BLACKLISTED: lazy_gettext("blacklisted: every code is blocked"),
}
PRODUCT_STATUS_LABELS = {
    ProductStatus.ACTIVE: lazy_gettext("in production"),
    ProductStatus.DISCONTINUED: lazy_gettext("discontinued"),
}
UNIT_STATE_LABELS = {
    services.UnitState.INACTIVE: lazy_gettext("not yet valid"),
    services.UnitState.ACTIVE: lazy_gettext("valid"),
    services.UnitState.BLACKLISTED: lazy_gettext("blacklisted"),
}
CERTIFICATE_STATUS_LABELS = {
    CertificateStatus.ACTIVE: lazy_gettext("active"),
    CertificateStatus.SUSPENDED: lazy_gettext("suspended"),
    CertificateStatus.WITHDRAWN: lazy_gettext("withdrawn"),
    CertificateStatus.CANCELLED: lazy_gettext("cancelled by its holder"),
    CertificateStatus.SUPERSEDED: lazy_gettext("superseded"),
    CertificateStatus.EXPIRED: lazy_gettext("expired"),
}


@dataclass(frozen=True)
class BatchLink:
    """A link another domain's pages add to a batch page (traceability: the journey, an event,
    a recall), shown to the people its access rule allows."""

    label: Any
    url: Callable[[Batch], str]
    access: Access
    order: int = 100


BATCH_LINKS: list[BatchLink] = []


def batch_link(label: Any, url: Callable[[Batch], str], access: Access, order: int = 100) -> None:
    """Add a link to every batch page (domains call this next to their page declarations)."""
    BATCH_LINKS.append(BatchLink(label, url, access, order))


EXPORTABLE = (LabelOrderStatus.ISSUED, LabelOrderStatus.PRINTED, LabelOrderStatus.ACTIVE)
CODES_SHOWN = 10


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "order_status": lambda status: str(ORDER_STATUS_LABELS.get(status, status)),
        "product_status": lambda status: str(PRODUCT_STATUS_LABELS.get(status, status)),
        "unit_state": lambda state: str(UNIT_STATE_LABELS.get(state, state)),
        "certificate_status": lambda status: str(CERTIFICATE_STATUS_LABELS.get(status, status)),
        "when": when,
        "bilingual": bilingual,
        "exportable": EXPORTABLE,
    }


def _render(template: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    return render_template(f"products/portal/{template}", **context), status


def _base_url() -> str:
    return str(current_app.config["BASE_URL"])


# --- products ---------------------------------------------------------------------------------

PRODUCT_FIELDS = ("gtin", "name_zh", "name_en", "description_zh", "description_en", "status")


def _products_table(caller: Caller) -> Any:
    def search(statement: Any, value: str) -> Any:
        return statement.where(
            or_(
                Product.gtin.contains(value, autoescape=True),
                Product.name_zh.contains(value, autoescape=True),
                Product.name_en.icontains(value, autoescape=True),
            )
        )

    return build_table(
        db.session,
        select(Product).where(Product.organisation_id == caller.organisation_id),
        columns=[
            Column("gtin", lazy_gettext("GTIN"), sort=Product.gtin),
            Column(
                "name",
                lazy_gettext("Name"),
                sort=Product.name_zh if current_locale() == "zh_CN" else Product.name_en,
                value=lambda product: bilingual(product.name_zh, product.name_en),
            ),
            Column("status", lazy_gettext("Status"), sort=Product.status),
            Column("created_at", lazy_gettext("Registered"), sort=Product.id),
        ],
        filters=[
            Filter("q", lazy_gettext("GTIN or name"), search),
            choice_filter("status", lazy_gettext("Status"), Product.status, PRODUCT_STATUS_LABELS),
        ],
        args=request.args,
        default_sort="created_at",
    )


@page(bp, "/products", access=FIRM)
def products(caller: Caller) -> ResponseReturnValue:
    """The firm's products, searchable and sortable."""
    return _render("products.html", table=_products_table(caller))


@page(bp, "/products/new", access=FIRM, methods=("GET", "POST"))
def new_product(caller: Caller) -> ResponseReturnValue:
    """Register a product under its GTIN (check digit checked, shown next to the field)."""
    if request.method == "GET":
        return _render("product_form.html", values={}, errors={}, token=form_token())

    def register(model: ProductCreate) -> tuple[str, str]:
        product = services.register_product(db.session, caller, **model.model_dump())
        set_activity_target("product", product.id)
        return (
            url_for("products_portal.product", product_id=product.id),
            gettext("Product %(gtin)s registered.", gtin=product.gtin),
        )

    done = submit(ProductCreate, PRODUCT_FIELDS, register, once=caller)
    return done.response or _render(
        "product_form.html", 422, values=done.values, errors=done.errors, token=form_token()
    )


def _product_page(
    item: Product, errors: dict[str, str] | None = None, status: int = 200
) -> ResponseReturnValue:
    batches = build_table(
        db.session,
        select(Batch).where(Batch.product_id == item.id),
        columns=[
            Column("lot", lazy_gettext("Lot"), sort=Batch.lot),
            Column("production_date", lazy_gettext("Produced on"), sort=Batch.production_date),
            Column("best_before_date", lazy_gettext("Best before"), sort=Batch.best_before_date),
            Column("quantity", lazy_gettext("Quantity"), sort=Batch.quantity),
            Column("production_site", lazy_gettext("Production site")),
            Column("created_at", lazy_gettext("Recorded"), sort=Batch.id),
        ],
        filters=[
            Filter(
                "lot",
                lazy_gettext("Lot"),
                lambda statement, value: statement.where(
                    Batch.lot.contains(value, autoescape=True)
                ),
            )
        ],
        args=request.args,
        default_sort="created_at",
    )
    return _render(
        "product.html",
        status,
        product=item,
        mark=services.product_mark(db.session, item),
        digital_link=services.product_uri(_base_url(), item.gtin),
        batches=batches,
        image_ids=services.product_image_ids(db.session, item.id),
        image_limit=services.PRODUCT_IMAGE_LIMIT,
        errors=errors or {},
        token=form_token(),
    )


@page(bp, "/products/<int:product_id>", access=FIRM)
def product(caller: Caller, product_id: int) -> ResponseReturnValue:
    """A product: its facts, pictures, whether it may bear the mark, and its batches."""
    return _product_page(services.get_product(db.session, caller, product_id))


@page(bp, "/products/<int:product_id>/images", access=FIRM, methods=("POST",))
def add_image(caller: Caller, product_id: int) -> ResponseReturnValue:
    """Add a picture (PNG, JPEG or WebP up to 2 MiB; the type is read from the bytes)."""
    item = services.get_product(db.session, caller, product_id)
    errors: dict[str, str] = {}
    try:
        repeat = repeated_submission(caller)
        if repeat is not None:
            return repeat
        services.add_product_image(db.session, caller, item.id, request.files.get("file"))
    except AppError as error:
        apply_error(error, errors, {}, ("file",))
        return _product_page(item, errors, 422)
    target = url_for("products_portal.product", product_id=item.id)
    remember_result(target)
    flash(gettext("Picture added."), "success")
    return redirect(target, code=303)


@page(
    bp,
    "/products/<int:product_id>/images/<int:image_id>/remove",
    access=FIRM,
    methods=("POST",),
)
def remove_image(caller: Caller, product_id: int, image_id: int) -> ResponseReturnValue:
    """Remove a picture of the product (another firm's product or picture answers 404)."""
    services.remove_product_image(db.session, caller, product_id, image_id)
    flash(gettext("Picture removed."), "success")
    return redirect(url_for("products_portal.product", product_id=product_id), code=303)


@page(bp, "/products/<int:product_id>/edit", access=FIRM, methods=("GET", "POST"))
def edit_product(caller: Caller, product_id: int) -> ResponseReturnValue:
    """Change a product's names, descriptions or status (its GTIN never changes)."""
    item = services.get_product(db.session, caller, product_id)
    if request.method == "GET":
        values = {name: getattr(item, name) or "" for name in PRODUCT_FIELDS}
        return _render("product_edit.html", product=item, values=values, errors={})

    def save(model: ProductUpdate) -> tuple[str, str]:
        changes = model.model_dump(exclude_unset=True)
        for name in ("description_zh", "description_en"):
            # An emptied description field means "no description" (not "unchanged").
            if name in request.form and not request.form[name].strip():
                changes[name] = ""
        services.update_product(db.session, caller, item.id, **changes)
        return url_for("products_portal.product", product_id=item.id), gettext("Saved.")

    done = submit(ProductUpdate, PRODUCT_FIELDS, save)
    return done.response or _render(
        "product_edit.html", 422, product=item, values=done.values, errors=done.errors
    )


# --- batches ----------------------------------------------------------------------------------

BATCH_FIELDS = tuple(BatchCreate.model_fields)


@page(bp, "/products/<int:product_id>/batches/new", access=FIRM, methods=("GET", "POST"))
def new_batch(caller: Caller, product_id: int) -> ResponseReturnValue:
    """Record a production lot of a product, with its dates, quantity and site."""
    item = services.get_product(db.session, caller, product_id)
    if request.method == "GET":
        return _render("batch_form.html", product=item, values={}, errors={}, token=form_token())

    def record(model: BatchCreate) -> tuple[str, str]:
        batch = services.create_batch(db.session, caller, item.id, **model.model_dump())
        set_activity_target("batch", batch.id)
        return (
            url_for("products_portal.batch", batch_id=batch.id),
            gettext("Batch %(lot)s recorded.", lot=batch.lot),
        )

    done = submit(BatchCreate, BATCH_FIELDS, record, once=caller)
    return done.response or _render(
        "batch_form.html",
        422,
        product=item,
        values=done.values,
        errors=done.errors,
        token=form_token(),
    )


@page(bp, "/batches/<int:batch_id>", access=FIRM)
def batch(caller: Caller, batch_id: int) -> ResponseReturnValue:
    """A batch: its facts and its label orders."""
    item = services.get_batch(db.session, caller, batch_id)
    orders = db.session.scalars(
        select(LabelOrder).where(LabelOrder.batch_id == item.id).order_by(LabelOrder.id.desc())
    ).all()
    return _render(
        "batch.html",
        batch=item,
        product=item.product,
        orders=orders,
        digital_link=services.batch_uri(_base_url(), item.product.gtin, item.lot),
        links=[
            (link.label, link.url(item))
            for link in sorted(BATCH_LINKS, key=lambda link: link.order)
            if link.access.allows(caller)
        ],
    )


# --- label orders (firm) ----------------------------------------------------------------------

ORDER_FIELDS = ("quantity", "signed")


@page(bp, "/batches/<int:batch_id>/label-orders/new", access=FIRM, methods=("GET", "POST"))
def new_order(caller: Caller, batch_id: int) -> ResponseReturnValue:
    """Order labels for a batch; the quota left is shown, and an order beyond it is refused
    next to the quantity. Posting the same form twice makes one order."""
    item = services.get_batch(db.session, caller, batch_id)

    def place(model: LabelOrderCreate) -> tuple[str, str]:
        order = services.order_labels(
            db.session, caller, item.id, quantity=model.quantity, signed=model.signed
        )
        set_activity_target("label_order", order.id)
        if order.status is LabelOrderStatus.PENDING:
            message = gettext(
                "Order %(id)s placed: it waits for the association's approval.", id=order.id
            )
        else:
            message = gettext(
                "Order %(id)s approved at once: its codes are ready to print.", id=order.id
            )
        return url_for("products_portal.order", order_id=order.id), message

    done = Submission(values={})
    if request.method == "POST":
        done = submit(LabelOrderCreate, ORDER_FIELDS, place, once=caller)
        if done.response is not None:
            return done.response
    return _render(
        "order_form.html",
        422 if request.method == "POST" else 200,
        batch=item,
        product=item.product,
        mark=services.product_mark(db.session, item.product),
        values=done.values,
        errors=done.errors,
        token=form_token(),
    )


def _orders_table(statement: Any, *, firm_column: bool) -> Any:
    columns = [
        Column("id", lazy_gettext("Order"), sort=LabelOrder.id),
        Column("product", lazy_gettext("Product")),
        Column("lot", lazy_gettext("Lot")),
        Column("quantity", lazy_gettext("Labels"), sort=LabelOrder.quantity),
        Column("status", lazy_gettext("Status"), sort=LabelOrder.status),
        Column("created_at", lazy_gettext("Ordered"), sort=LabelOrder.created_at),
    ]
    if firm_column:
        columns.insert(1, Column("firm", lazy_gettext("Firm")))
    return build_table(
        db.session,
        statement,
        columns=columns,
        filters=[
            choice_filter("status", lazy_gettext("Status"), LabelOrder.status, ORDER_STATUS_LABELS)
        ],
        args=request.args,
        default_sort="id",
    )


@page(bp, "/label-orders", access=FIRM)
def orders(caller: Caller) -> ResponseReturnValue:
    """The firm's label orders with their status."""
    table = _orders_table(
        select(LabelOrder).where(LabelOrder.organisation_id == caller.organisation_id),
        firm_column=False,
    )
    return _render("orders.html", table=table)


def _code_rows(order: LabelOrder) -> list[dict[str, Any]]:
    if order.codes_sha256 is None:
        return []
    base = _base_url()
    prefix = services.unit_uri_prefix(base, order.batch.product.gtin, order.batch.lot)
    rows = []
    for code in codes.iter_codes(db.session, order.id, chunk=CODES_SHOWN):
        uri = prefix + code.serial
        rows.append(
            {
                "serial": code.serial,
                "uri": uri,
                "state": services.unit_state(order.status, code.blacklisted_at),
                "qr_svg": services.qr_image_url(base, uri, ".svg").removeprefix(base),
            }
        )
        if len(rows) == CODES_SHOWN:
            break
    return rows


@page(bp, "/label-orders/<int:order_id>", access=FIRM)
def order(caller: Caller, order_id: int) -> ResponseReturnValue:
    """A label order: its state, the next step, downloads and its first codes."""
    item = services.get_own_order(db.session, caller, order_id)
    ordered_under = db.session.get(Certificate, item.certificate_id)
    # After a renewal or re-issue the labels stand for the successor, whose quota they use.
    certificate, _ = coverage.current_standing(db.session, item.certificate_id)
    return _render(
        "order.html",
        order=item,
        product=item.batch.product,
        certificate=certificate,
        ordered_under=ordered_under,
        blacklisted=services.count_blacklisted(db.session, item),
        code_rows=_code_rows(item),
    )


def _step(
    caller: Caller,
    order_id: int,
    action: Any,
    done: LabelOrderStatus,
    message: str,
    again: str,
) -> ResponseReturnValue:
    """Run one lifecycle step; a repeat of a step already done says so instead of failing."""
    item = services.get_own_order(db.session, caller, order_id)
    target = url_for("products_portal.order", order_id=item.id)
    if item.status is done:
        flash(again, "info")
        return redirect(target, code=303)
    try:
        action(db.session, caller, item.id)
    except OrderStateConflict:
        flash(
            gettext(
                "Not possible: the order is %(status)s.",
                status=ORDER_STATUS_LABELS[item.status],
            ),
            "error",
        )
        return redirect(target, code=303)
    except CertificateNotInForce as error:
        number, reason = str(error.extra["certificate_number"]), error.extra.get("reason")
        flash(not_in_force_message(number, str(reason)), "error")
        return redirect(target, code=303)
    flash(message, "success")
    return redirect(target, code=303)


@page(bp, "/label-orders/<int:order_id>/cancel", access=FIRM, methods=("POST",))
def cancel_order(caller: Caller, order_id: int) -> ResponseReturnValue:
    """Withdraw a pending order; its labels go back to the quota."""
    return _step(
        caller,
        order_id,
        services.cancel_order,
        LabelOrderStatus.CANCELLED,
        gettext("Order cancelled; its labels are back in the quota."),
        gettext("The order was cancelled already."),
    )


@page(bp, "/label-orders/<int:order_id>/printed", access=FIRM, methods=("POST",))
def mark_printed(caller: Caller, order_id: int) -> ResponseReturnValue:
    """Say the order's labels are printed (they stay invalid until activated)."""
    return _step(
        caller,
        order_id,
        services.mark_printed,
        LabelOrderStatus.PRINTED,
        gettext("Marked as printed. Activate the labels once they are on the products."),
        gettext("The order was marked as printed already."),
    )


def not_in_force_message(number: str, reason: str | None = None) -> str:
    """Why labels cannot be activated: the certificate they stand for is not in force, or no
    longer covers their product."""
    if reason == coverage.SCOPE_EXCLUDES:
        return gettext(
            "Not possible: certificate %(number)s, which these labels stand for, no longer "
            "covers this product (a re-issue narrowed its scope). Labels cannot be activated "
            "under it.",
            number=number,
        )
    return gettext(
        "Not possible: certificate %(number)s, which these labels stand for, is not in force "
        "(see the certificate for why). Labels cannot be activated under it.",
        number=number,
    )


@page(bp, "/label-orders/<int:order_id>/activate", access=FIRM, methods=("GET", "POST"))
def activate_order(caller: Caller, order_id: int) -> ResponseReturnValue:
    """Confirm, then activate a printed order: its codes verify as genuine from then on (only
    while the certificate they stand for is in force)."""
    item = services.get_own_order(db.session, caller, order_id)
    if request.method == "GET":
        certificate, standing = coverage.current_standing(db.session, item.certificate_id)
        return _render(
            "order_activate.html",
            order=item,
            product=item.batch.product,
            certificate=certificate,
            refusal=None
            if coverage.stands_for_gtin(certificate, standing, item.batch.product.gtin)
            else not_in_force_message(
                certificate.number, coverage.SCOPE_EXCLUDES if standing.in_force else None
            ),
        )
    return _step(
        caller,
        item.id,
        services.activate_order,
        LabelOrderStatus.ACTIVE,
        gettext("Labels activated: their codes now verify as genuine."),
        gettext("The order was activated already."),
    )


REASON_FIELDS = ("reason",)


@page(bp, "/label-orders/<int:order_id>/blacklist", access=FIRM, methods=("GET", "POST"))
def blacklist_order(caller: Caller, order_id: int) -> ResponseReturnValue:
    """Confirmation page, then block every code of the order (lost or stolen labels)."""
    item = services.get_own_order(db.session, caller, order_id)
    target = url_for("products_portal.order", order_id=item.id)
    done = Submission(values={})
    if request.method == "POST":
        if item.status is LabelOrderStatus.BLACKLISTED:
            flash(gettext("The order was blacklisted already."), "info")
            return redirect(target, code=303)

        def block(model: ReasonBody) -> tuple[str, str]:
            services.blacklist_order(db.session, caller, item.id, reason=model.reason)
            return target, gettext("Every code of order %(id)s is blacklisted.", id=item.id)

        done = submit(ReasonBody, REASON_FIELDS, block)
        if done.response is not None:
            return done.response
    return _render(
        "order_blacklist.html",
        422 if request.method == "POST" else 200,
        order=item,
        product=item.batch.product,
        values=done.values,
        errors=done.errors,
    )


UNIT_FIELDS = ("serial", "reason")


@page(bp, "/label-orders/<int:order_id>/blacklist-unit", access=FIRM, methods=("GET", "POST"))
def blacklist_unit(caller: Caller, order_id: int) -> ResponseReturnValue:
    """Block one label of the order by its serial: the form, a confirmation page showing the
    unit, then the block."""
    item = services.get_own_order(db.session, caller, order_id)
    product_item = item.batch.product
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if request.method == "GET":
        return _render(
            "unit_blacklist.html", order=item, product=product_item, values=values, errors=errors
        )
    serial = request.form.get("serial", "").strip()
    values = {"serial": serial, "reason": request.form.get("reason", "")}
    form = parse(ReasonBody, request.form)
    errors = dict(form.errors)
    unit = None
    if not serial:
        errors["serial"] = gettext("Required.")
    elif len(serial) > 20:
        errors["serial"] = gettext("Too long: at most %(count)s characters are allowed.", count=20)
    else:
        try:
            unit = services.get_unit(db.session, caller, product_item.gtin, serial)
        except AppError:
            unit = None
        if unit is None or unit.order_id != item.id:
            errors["serial"] = gettext("No label of this order has this serial.")
            unit = None
    if errors or unit is None or form.model is None:
        return _render(
            "unit_blacklist.html",
            422,
            order=item,
            product=product_item,
            values=values,
            errors=errors,
        )
    if request.form.get("confirm") != "yes":
        return _render(
            "unit_blacklist_confirm.html",
            order=item,
            product=product_item,
            unit=unit,
            uri=unit.uri(_base_url()),
            values=values,
        )
    services.blacklist_unit(db.session, caller, product_item.gtin, serial, reason=form.model.reason)
    flash(gettext("Label %(serial)s is blacklisted.", serial=serial), "success")
    return redirect(url_for("products_portal.order", order_id=item.id), code=303)


# --- the association: approvals, quota use, label policy ------------------------------------


def _quota_rows(caller: Caller) -> list[dict[str, Any]]:
    pending = dict(
        db.session.execute(
            select(LabelOrder.certificate_id, func.sum(LabelOrder.quantity))
            .where(
                LabelOrder.association_id == caller.organisation_id,
                LabelOrder.status == LabelOrderStatus.PENDING,
            )
            .group_by(LabelOrder.certificate_id)
        ).all()
    )
    held = db.session.scalars(
        select(Certificate)
        .where(
            Certificate.issuer_id == caller.organisation_id,
            Certificate.status.in_(LIVE_STATUSES),
        )
        .order_by(Certificate.firm_id, Certificate.number)
    ).all()
    return [
        {
            "certificate": certificate,
            "firm": certificate.firm,
            "pending": int(pending.get(certificate.id) or 0),
            "left": certificate.label_quota - certificate.labels_issued,
            "url": url_for("certificates_web.certificate_page", number=certificate.number),
        }
        for certificate in held
    ]


@page(bp, "/label-approvals", access=ASSOCIATION)
def approvals(caller: Caller) -> ResponseReturnValue:
    """Label orders awaiting the association's approval, and quota use per firm and
    certificate."""
    statement = (
        select(LabelOrder)
        .where(LabelOrder.association_id == caller.organisation_id)
        .where(LabelOrder.status == LabelOrderStatus.PENDING)
    )
    queue = build_table(
        db.session,
        statement,
        columns=[
            Column("id", lazy_gettext("Order"), sort=LabelOrder.id),
            Column("firm", lazy_gettext("Firm")),
            Column("product", lazy_gettext("Product")),
            Column("quantity", lazy_gettext("Labels"), sort=LabelOrder.quantity),
            Column("certificate", lazy_gettext("Certificate")),
            Column("created_at", lazy_gettext("Ordered"), sort=LabelOrder.created_at),
            Column("actions", lazy_gettext("Decision")),
        ],
        args=request.args,
        default_sort="id",
        default_descending=False,
    )
    firms = {
        organisation.id: organisation
        for organisation in db.session.scalars(
            select(Organisation).where(
                Organisation.id.in_({row.organisation_id for row in queue.rows})
            )
        )
    }
    certificate_numbers = dict(
        db.session.execute(
            select(Certificate.id, Certificate.number).where(
                Certificate.id.in_({row.certificate_id for row in queue.rows})
            )
        ).all()
    )
    quota = _quota_rows(caller)
    chart = bar_chart(
        [
            # The table beside it names the firm; chart labels must stay short to fit.
            (row["certificate"].number, row["certificate"].labels_issued)
            for row in quota
        ],
        title=gettext("Labels used per certificate"),
    )
    decided = db.session.scalars(
        select(LabelOrder)
        .where(
            LabelOrder.association_id == caller.organisation_id,
            LabelOrder.decided_at.is_not(None),
        )
        .order_by(LabelOrder.decided_at.desc(), LabelOrder.id.desc())
        .limit(10)
    ).all()
    return _render(
        "approvals.html",
        queue=queue,
        firms=firms,
        certificate_numbers=certificate_numbers,
        quota=quota,
        quota_chart=chart,
        decided=decided,
        firm_names={
            organisation.id: organisation
            for organisation in db.session.scalars(
                select(Organisation).where(
                    Organisation.id.in_({order.organisation_id for order in decided})
                )
            )
        },
    )


@page(bp, "/label-approvals/<int:order_id>/approve", access=ASSOCIATION, methods=("POST",))
def approve_order(caller: Caller, order_id: int) -> ResponseReturnValue:
    """Approve a pending order: its codes are generated (not yet valid)."""
    item = services.get_association_order(db.session, caller, order_id)
    target = url_for("products_portal.approvals")
    if item.status is not LabelOrderStatus.PENDING:
        flash(
            gettext(
                "Order %(id)s was decided already: it is %(status)s.",
                id=item.id,
                status=ORDER_STATUS_LABELS[item.status],
            ),
            "info",
        )
        return redirect(target, code=303)
    services.approve_order(db.session, caller, item.id)
    flash(
        gettext("Order %(id)s approved: %(count)s codes issued.", id=item.id, count=item.quantity),
        "success",
    )
    return redirect(target, code=303)


@page(bp, "/label-approvals/<int:order_id>/reject", access=ASSOCIATION, methods=("GET", "POST"))
def reject_order(caller: Caller, order_id: int) -> ResponseReturnValue:
    """Confirmation page with the reason, then refuse a pending order (its quota is released)."""
    item = services.get_association_order(db.session, caller, order_id)
    target = url_for("products_portal.approvals")
    done = Submission(values={})
    if request.method == "POST":
        if item.status is not LabelOrderStatus.PENDING:
            flash(
                gettext(
                    "Order %(id)s was decided already: it is %(status)s.",
                    id=item.id,
                    status=ORDER_STATUS_LABELS[item.status],
                ),
                "info",
            )
            return redirect(target, code=303)

        def reject(model: ReasonBody) -> tuple[str, str]:
            services.reject_order(db.session, caller, item.id, reason=model.reason)
            return target, gettext("Order %(id)s rejected.", id=item.id)

        done = submit(ReasonBody, REASON_FIELDS, reject)
        if done.response is not None:
            return done.response
    return _render(
        "order_reject.html",
        422 if request.method == "POST" else 200,
        order=item,
        firm=db.session.get(Organisation, item.organisation_id),
        product=item.batch.product,
        values=done.values,
        errors=done.errors,
    )


def _policies(caller: Caller) -> list[tuple[Brand, LabelPolicy]]:
    owned = db.session.scalars(
        select(Brand).where(Brand.owner_id == caller.organisation_id).order_by(Brand.slug)
    ).all()
    return [(brand, services.get_label_policy(db.session, caller, brand.slug)) for brand in owned]


@page(bp, "/label-policy", access=ASSOCIATION)
def label_policy(caller: Caller) -> ResponseReturnValue:
    """The label policy of each brand the association owns (admins may change it)."""
    return _render("label_policy.html", policies=_policies(caller), values={}, errors={}, slug=None)


@page(bp, "/label-policy/<slug>", access=ASSOCIATION_ADMIN, methods=("POST",))
def set_label_policy(caller: Caller, slug: str) -> ResponseReturnValue:
    """Turn auto-approval of label orders within quota on or off, with a size limit."""

    def save(model: LabelPolicyIn) -> tuple[str, str]:
        # Another association's brand is refused (403), an unknown one is 404: no form error.
        services.set_label_policy(
            db.session,
            caller,
            slug,
            auto_approve=model.auto_approve,
            auto_approve_max=model.auto_approve_max,
        )
        return url_for("products_portal.label_policy"), gettext("Label policy saved.")

    done = submit(LabelPolicyIn, ("auto_approve", "auto_approve_max"), save)
    return done.response or _render(
        "label_policy.html",
        422,
        policies=_policies(caller),
        values=done.values,
        errors=done.errors,
        slug=slug,
    )
