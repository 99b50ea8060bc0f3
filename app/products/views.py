"""Products API: products, batches, label orders, unit codes, exports; public QR images."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import OrgKind, Role
from app.auth.principal import PUBLIC, Caller, allow
from app.errors import BadRequest, FieldError
from app.extensions import db
from app.files.services import IMAGE_TYPES, file_response, require_multipart
from app.gs1.digital_link import parse_digital_link
from app.gs1.identifiers import GS1SyntaxError
from app.http.api import file_answers, route, set_activity_target
from app.http.pagination import PageResult, paginate
from app.http.schemas import Page, PageQuery
from app.http.streaming import streamed_response
from app.labels import qr
from app.labels.sheet import A4_LAYOUT, Label, iter_label_sheet_pdf
from app.products import codes, services
from app.products.errors import OrderStateConflict, UnitNotFound
from app.products.models import Batch, LabelOrder, LabelOrderStatus, Product, UnitCode
from app.products.schemas import (
    BatchCreate,
    BatchOut,
    LabelOrderCreate,
    LabelOrderOut,
    LabelOrderQuery,
    LabelPolicyIn,
    LabelPolicyOut,
    ProductCreate,
    ProductOut,
    ProductQuery,
    ProductUpdate,
    QROptions,
    ReasonBody,
    SheetQuery,
    UnitOut,
)

bp = Blueprint("products", __name__)

STAFF_ROLES = [Role.ADMIN, Role.STAFF]
FIRM_READ = allow([OrgKind.ENTERPRISE], STAFF_ROLES, "products:read")
FIRM_WRITE = allow([OrgKind.ENTERPRISE], STAFF_ROLES, "products:write")
ORDERS_READ = allow([OrgKind.ENTERPRISE, OrgKind.ASSOCIATION], STAFF_ROLES, "labels:read")
FIRM_ORDERS_READ = allow([OrgKind.ENTERPRISE], STAFF_ROLES, "labels:read")
FIRM_ORDERS_WRITE = allow([OrgKind.ENTERPRISE], STAFF_ROLES, "labels:write")
ASSOCIATION_DECIDES = allow([OrgKind.ASSOCIATION], STAFF_ROLES, "labels:write")
BLACKLISTERS = allow([OrgKind.ENTERPRISE, OrgKind.ASSOCIATION], STAFF_ROLES, "labels:write")

IMAGE_CACHE = "public, max-age=31536000, immutable"
CODES_PATH_FORMATS = {".png": "image/png", ".svg": "image/svg+xml"}


def _base() -> str:
    return str(current_app.config["BASE_URL"])


# --- serialisation ----------------------------------------------------------------------------


def _product_out(product: Product) -> dict[str, Any]:
    return {
        **{
            name: getattr(product, name)
            for name in (
                "id",
                "gtin",
                "name_zh",
                "name_en",
                "description_zh",
                "description_en",
                "status",
                "created_at",
                "updated_at",
            )
        },
        "digital_link": services.product_uri(_base(), product.gtin),
        "mark": services.product_mark(db.session, product),
        "image_urls": [
            f"{_base()}/products/{product.gtin}/images/{image_id}"
            for image_id in services.product_image_ids(db.session, product.id)
        ],
    }


def _batch_out(batch: Batch) -> dict[str, Any]:
    return {
        **{
            name: getattr(batch, name)
            for name in (
                "id",
                "product_id",
                "lot",
                "production_date",
                "best_before_date",
                "expiry_date",
                "quantity",
                "production_site",
                "production_site_gln",
                "created_at",
            )
        },
        "gtin": batch.product.gtin,
        "digital_link": services.batch_uri(_base(), batch.product.gtin, batch.lot),
    }


def _has_codes(order: LabelOrder) -> bool:
    return order.codes_sha256 is not None


def _order_out(order: LabelOrder) -> dict[str, Any]:
    api = f"{_base()}/api/v1/label-orders/{order.id}"
    issued = _has_codes(order)
    return {
        **{
            name: getattr(order, name)
            for name in (
                "id",
                "organisation_id",
                "batch_id",
                "product_id",
                "certificate_id",
                "quantity",
                "status",
                "is_signed",
                "is_auto_approved",
                "codes_sha256",
                "decision_reason",
                "blacklist_reason",
                "created_at",
                "decided_at",
                "issued_at",
                "printed_at",
                "activated_at",
                "blacklisted_at",
            )
        },
        "gtin": order.batch.product.gtin,
        "lot": order.batch.lot,
        "codes_blacklisted": services.count_blacklisted(db.session, order) if issued else None,
        "codes_url": f"{api}/codes" if issued else None,
        "csv_url": f"{api}/codes.csv" if issued else None,
        "sheet_url": f"{api}/labels.pdf" if issued else None,
    }


def _unit_out(unit: services.UnitRecord) -> dict[str, Any]:
    uri = unit.uri(_base())
    return {
        "gtin": unit.gtin,
        "lot": unit.lot,
        "serial": unit.serial,
        "state": unit.state,
        "order_id": unit.order_id,
        "digital_link": uri,
        "label_content": services.label_content(uri, unit.signature),
        "qr_png_url": services.qr_image_url(_base(), uri, ".png"),
        "qr_svg_url": services.qr_image_url(_base(), uri, ".svg"),
        "blacklisted_at": unit.blacklisted_at,
        "blacklist_reason": unit.blacklist_reason,
    }


def _page(result: PageResult[Any], convert: Any) -> PageResult[Any]:
    return PageResult(
        items=[convert(item) for item in result.items],
        limit=result.limit,
        next_cursor=result.next_cursor,
    )


# --- products ---------------------------------------------------------------------------------


@route(
    bp,
    "/api/v1/products",
    methods=("POST",),
    access=FIRM_WRITE,
    body=ProductCreate,
    response=ProductOut,
    status=201,
    area="products",
)
def create_product(caller: Caller, body: ProductCreate) -> object:
    """Register a product of the caller's firm by its GTIN."""
    product = services.register_product(db.session, caller, **body.model_dump())
    set_activity_target("product", product.id)
    return _product_out(product)


@route(
    bp,
    "/api/v1/products",
    access=FIRM_READ,
    query=ProductQuery,
    response=Page[ProductOut],
    area="products",
)
def list_products(caller: Caller, query: ProductQuery) -> object:
    """The caller's firm's products, newest first."""
    result = services.list_products(
        db.session, caller, limit=query.limit, cursor=query.cursor, gtin=query.gtin
    )
    return _page(result, _product_out)


@route(
    bp, "/api/v1/products/<int:product_id>", access=FIRM_READ, response=ProductOut, area="products"
)
def get_product(caller: Caller, product_id: int) -> object:
    """One product, with whether it may bear the brand mark now."""
    return _product_out(services.get_product(db.session, caller, product_id))


@route(
    bp,
    "/api/v1/products/<int:product_id>",
    methods=("PATCH",),
    access=FIRM_WRITE,
    body=ProductUpdate,
    response=ProductOut,
    area="products",
)
def update_product(caller: Caller, product_id: int, body: ProductUpdate) -> object:
    """Change a product's names, descriptions or status (never its GTIN)."""
    set_activity_target("product", product_id)
    product = services.update_product(
        db.session, caller, product_id, **body.model_dump(exclude_unset=True)
    )
    return _product_out(product)


@route(
    bp,
    "/api/v1/products/<int:product_id>/images",
    methods=("POST",),
    access=FIRM_WRITE,
    response=ProductOut,
    status=201,
    area="products",
    body_content_types=("multipart/form-data",),
)
def add_product_image(caller: Caller, product_id: int) -> object:
    """Add a product picture as multipart/form-data field ``file``: PNG, JPEG or WebP, at most
    2 MiB, eight per product; the type is sniffed from the bytes and SVG is refused."""
    require_multipart()
    set_activity_target("product", product_id)
    services.add_product_image(db.session, caller, product_id, request.files.get("file"))
    return _product_out(services.get_product(db.session, caller, product_id))


@route(
    bp,
    "/api/v1/products/<int:product_id>/images/<int:image_id>",
    methods=("DELETE",),
    access=FIRM_WRITE,
    response=ProductOut,
    area="products",
)
def remove_product_image(caller: Caller, product_id: int, image_id: int) -> object:
    """Remove a product picture."""
    set_activity_target("product", product_id)
    services.remove_product_image(db.session, caller, product_id, image_id)
    return _product_out(services.get_product(db.session, caller, product_id))


@route(
    bp,
    "/products/<gtin>/images/<int:image_id>",
    access=PUBLIC,
    responses={200: "The picture (PNG, JPEG or WebP)", 304: "Not modified (ETag)"},
    also_answers=file_answers(*sorted(IMAGE_TYPES)),
)
def product_image(gtin: str, image_id: int) -> Response:
    """A product picture, public like the pack itself (cached; its ETag is its SHA-256)."""
    return file_response(services.public_product_image(db.session, gtin, image_id), public=True)


# --- batches ----------------------------------------------------------------------------------


@route(
    bp,
    "/api/v1/products/<int:product_id>/batches",
    methods=("POST",),
    access=FIRM_WRITE,
    body=BatchCreate,
    response=BatchOut,
    status=201,
    area="products",
)
def create_batch(caller: Caller, product_id: int, body: BatchCreate) -> object:
    """Record a production lot (GS1 AI 10) of a product, with its dates."""
    batch = services.create_batch(db.session, caller, product_id, **body.model_dump())
    set_activity_target("batch", batch.id)
    return _batch_out(batch)


@route(
    bp,
    "/api/v1/products/<int:product_id>/batches",
    access=FIRM_READ,
    query=PageQuery,
    response=Page[BatchOut],
    area="products",
)
def list_batches(caller: Caller, product_id: int, query: PageQuery) -> object:
    """A product's lots, newest first."""
    result = services.list_batches(
        db.session, caller, product_id, limit=query.limit, cursor=query.cursor
    )
    return _page(result, _batch_out)


@route(bp, "/api/v1/batches/<int:batch_id>", access=FIRM_READ, response=BatchOut, area="products")
def get_batch(caller: Caller, batch_id: int) -> object:
    """One lot."""
    return _batch_out(services.get_batch(db.session, caller, batch_id))


# --- label orders -----------------------------------------------------------------------------


@route(
    bp,
    "/api/v1/batches/<int:batch_id>/label-orders",
    methods=("POST",),
    access=FIRM_ORDERS_WRITE,
    body=LabelOrderCreate,
    response=LabelOrderOut,
    status=201,
    area="labels",
)
def create_label_order(caller: Caller, batch_id: int, body: LabelOrderCreate) -> object:
    """Order serialised codes for a batch, counted against the certificate's label quota.

    The order waits for the association's approval, unless the brand approves orders within
    quota automatically (then its codes are issued at once, inactive until activated)."""
    order = services.order_labels(
        db.session, caller, batch_id, quantity=body.quantity, signed=body.signed
    )
    set_activity_target("label_order", order.id)
    return _order_out(order)


@route(
    bp,
    "/api/v1/label-orders",
    access=ORDERS_READ,
    query=LabelOrderQuery,
    response=Page[LabelOrderOut],
    area="labels",
)
def list_label_orders(caller: Caller, query: LabelOrderQuery) -> object:
    """A firm's label orders, or those counted against an association's certificates."""
    result = services.list_orders(
        db.session, caller, limit=query.limit, cursor=query.cursor, status=query.status
    )
    return _page(result, _order_out)


@route(
    bp,
    "/api/v1/label-orders/<int:order_id>",
    access=ORDERS_READ,
    response=LabelOrderOut,
    area="labels",
)
def get_label_order(caller: Caller, order_id: int) -> object:
    """One label order."""
    return _order_out(services.get_order(db.session, caller, order_id))


@route(
    bp,
    "/api/v1/label-orders/<int:order_id>/approve",
    methods=("POST",),
    access=ASSOCIATION_DECIDES,
    response=LabelOrderOut,
    area="labels",
)
def approve_label_order(caller: Caller, order_id: int) -> object:
    """The association approves a pending order; its codes are generated, inactive."""
    set_activity_target("label_order", order_id)
    return _order_out(services.approve_order(db.session, caller, order_id))


@route(
    bp,
    "/api/v1/label-orders/<int:order_id>/reject",
    methods=("POST",),
    access=ASSOCIATION_DECIDES,
    body=ReasonBody,
    response=LabelOrderOut,
    area="labels",
)
def reject_label_order(caller: Caller, order_id: int, body: ReasonBody) -> object:
    """The association refuses a pending order, with a reason; the quota is released."""
    set_activity_target("label_order", order_id)
    return _order_out(services.reject_order(db.session, caller, order_id, reason=body.reason))


@route(
    bp,
    "/api/v1/label-orders/<int:order_id>/cancel",
    methods=("POST",),
    access=FIRM_ORDERS_WRITE,
    response=LabelOrderOut,
    area="labels",
)
def cancel_label_order(caller: Caller, order_id: int) -> object:
    """The firm withdraws its pending order; the quota is released."""
    set_activity_target("label_order", order_id)
    return _order_out(services.cancel_order(db.session, caller, order_id))


@route(
    bp,
    "/api/v1/label-orders/<int:order_id>/printed",
    methods=("POST",),
    access=FIRM_ORDERS_WRITE,
    response=LabelOrderOut,
    area="labels",
)
def mark_label_order_printed(caller: Caller, order_id: int) -> object:
    """The firm says the labels are printed (codes stay inactive until activated)."""
    set_activity_target("label_order", order_id)
    return _order_out(services.mark_printed(db.session, caller, order_id))


@route(
    bp,
    "/api/v1/label-orders/<int:order_id>/activate",
    methods=("POST",),
    access=FIRM_ORDERS_WRITE,
    response=LabelOrderOut,
    area="labels",
)
def activate_label_order(caller: Caller, order_id: int) -> object:
    """The firm activates its printed order: its codes verify as genuine from now on. Refused
    (409 ``certificate-not-in-force``, nothing changed) while the certificate its labels stand
    for is not in force: cancelled (the firm left the brand), withdrawn, suspended or lapsed."""
    set_activity_target("label_order", order_id)
    return _order_out(services.activate_order(db.session, caller, order_id))


@route(
    bp,
    "/api/v1/label-orders/<int:order_id>/blacklist",
    methods=("POST",),
    access=BLACKLISTERS,
    body=ReasonBody,
    response=LabelOrderOut,
    area="labels",
)
def blacklist_label_order(caller: Caller, order_id: int, body: ReasonBody) -> object:
    """Block every code of an order (lost or stolen labels), with a reason; final."""
    set_activity_target("label_order", order_id)
    return _order_out(services.blacklist_order(db.session, caller, order_id, reason=body.reason))


# --- label policies ---------------------------------------------------------------------------


def _policy_out(slug: str, policy: Any) -> dict[str, Any]:
    return {
        "brand_slug": slug,
        "auto_approve": bool(policy.auto_approve),
        "auto_approve_max": policy.auto_approve_max,
        "updated_at": policy.updated_at,
    }


@route(
    bp,
    "/api/v1/brands/<slug>/label-policy",
    access=allow([OrgKind.ASSOCIATION], STAFF_ROLES, "labels:read"),
    response=LabelPolicyOut,
    area="labels",
)
def get_label_policy(caller: Caller, slug: str) -> object:
    """How the brand's association handles label orders (auto-approval within quota)."""
    return _policy_out(slug, services.get_label_policy(db.session, caller, slug))


@route(
    bp,
    "/api/v1/brands/<slug>/label-policy",
    methods=("PUT",),
    access=allow([OrgKind.ASSOCIATION], [Role.ADMIN], "labels:write"),
    body=LabelPolicyIn,
    response=LabelPolicyOut,
    area="labels",
)
def set_label_policy(caller: Caller, slug: str, body: LabelPolicyIn) -> object:
    """The owning association's admin turns auto-approval of label orders on or off."""
    set_activity_target("brand", slug)
    policy = services.set_label_policy(
        db.session,
        caller,
        slug,
        auto_approve=body.auto_approve,
        auto_approve_max=body.auto_approve_max,
    )
    return _policy_out(slug, policy)


# --- codes and exports ------------------------------------------------------------------------


def _order_with_codes(caller: Caller, order_id: int) -> LabelOrder:
    order = services.get_own_order(db.session, caller, order_id)
    if not _has_codes(order) or order.status is LabelOrderStatus.BLACKLISTED:
        raise OrderStateConflict(
            f"Label order {order.id} is {order.status.value}: it has no printable codes.",
            errors=[FieldError("status", "state", "must be issued, printed or active to export")],
        )
    return order


@route(
    bp,
    "/api/v1/label-orders/<int:order_id>/codes",
    access=FIRM_ORDERS_READ,
    query=PageQuery,
    response=Page[UnitOut],
    area="labels",
)
def list_codes(caller: Caller, order_id: int, query: PageQuery) -> object:
    """The order's unit codes in issue order, with their URIs and QR image links."""
    order = services.get_own_order(db.session, caller, order_id)
    result = paginate(
        db.session,
        select(UnitCode).where(UnitCode.order_id == order.id),
        UnitCode.id,
        limit=query.limit,
        cursor=query.cursor,
        newest_first=False,
    )
    gtin, lot = order.batch.product.gtin, order.batch.lot

    def convert(code: UnitCode) -> dict[str, Any]:
        return _unit_out(
            services.UnitRecord(
                id=code.id,
                gtin=gtin,
                lot=lot,
                serial=code.serial,
                signature=code.signature,
                state=services.unit_state(order.status, code.blacklisted_at),
                order_id=order.id,
                organisation_id=order.organisation_id,
                product_id=order.product_id,
                batch_id=order.batch_id,
                blacklisted_at=code.blacklisted_at or order.blacklisted_at,
                blacklist_reason=code.blacklist_reason or order.blacklist_reason,
            )
        )

    return _page(result, convert)


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


@route(
    bp,
    "/api/v1/label-orders/<int:order_id>/codes.csv",
    access=FIRM_ORDERS_READ,
    area="labels",
    responses={
        200: "CSV, one row per code: gtin, lot, serial, digital_link, label_content",
        409: "The order has no printable codes (not issued yet, cancelled or blacklisted)",
    },
    also_answers=file_answers("text/csv"),
)
def export_codes_csv(caller: Caller, order_id: int) -> Response:
    """The order's codes for a label printer, as CSV streamed row by row (any size)."""
    order = _order_with_codes(caller, order_id)
    gtin, lot, order_key = order.batch.product.gtin, order.batch.lot, order.id
    prefix = services.unit_uri_prefix(_base(), gtin, lot)

    def rows(session: Session) -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(["gtin", "lot", "serial", "digital_link", "label_content"])
        yield buffer.getvalue()
        pending: list[list[str]] = []
        for code in codes.iter_codes(session, order_key):
            uri = prefix + code.serial
            pending.append(
                [gtin, lot, code.serial, uri, services.label_content(uri, code.signature)]
            )
            if len(pending) == 1000:
                buffer.seek(0)
                buffer.truncate()
                writer.writerows(pending)
                pending.clear()
                yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(pending)
        yield buffer.getvalue()

    return streamed_response(
        rows,
        mimetype="text/csv",
        headers=_attachment(f"label-order-{order.id}-codes.csv"),
    )


@route(
    bp,
    "/api/v1/label-orders/<int:order_id>/labels.pdf",
    access=FIRM_ORDERS_READ,
    query=SheetQuery,
    area="labels",
    responses={
        200: "A4 PDF label sheet, 24 labels a page, streamed page by page",
        409: "The order has no printable codes (not issued yet, cancelled or blacklisted)",
    },
    also_answers=file_answers("application/pdf"),
)
def export_label_sheet(caller: Caller, order_id: int, query: SheetQuery) -> Response:
    """A print-ready A4 label sheet: each QR with its GTIN, lot and serial under it."""
    order = _order_with_codes(caller, order_id)
    gtin, lot, order_key = order.batch.product.gtin, order.batch.lot, order.id
    prefix = services.unit_uri_prefix(_base(), gtin, lot)
    layout = replace(A4_LAYOUT, ec=query.ec)

    def labels(session: Session) -> Iterator[Label]:
        for code in codes.iter_codes(session, order_key, chunk=layout.per_page * 20):
            yield Label(
                content=services.label_content(prefix + code.serial, code.signature),
                lines=(f"(01) {gtin}", f"(10) {lot}", f"(21) {code.serial}"),
            )

    title = f"Label order {order.id}"
    return streamed_response(
        lambda session: iter_label_sheet_pdf(labels(session), layout, title=title),
        mimetype="application/pdf",
        headers=_attachment(f"label-order-{order.id}-labels.pdf"),
    )


# --- units ------------------------------------------------------------------------------------


@route(
    bp,
    "/api/v1/units/<gtin>/<serial>",
    access=ORDERS_READ,
    response=UnitOut,
    area="labels",
)
def get_unit(caller: Caller, gtin: str, serial: str) -> object:
    """One unit code by GTIN and serial, with its state."""
    return _unit_out(services.get_unit(db.session, caller, gtin, serial))


@route(
    bp,
    "/api/v1/units/<gtin>/<serial>/blacklist",
    methods=("POST",),
    access=BLACKLISTERS,
    body=ReasonBody,
    response=UnitOut,
    area="labels",
)
def blacklist_unit(caller: Caller, gtin: str, serial: str, body: ReasonBody) -> object:
    """Block one code (a lost, stolen or copied label), with a reason; final."""
    set_activity_target("unit", f"{gtin}/{serial}")
    return _unit_out(services.blacklist_unit(db.session, caller, gtin, serial, reason=body.reason))


# --- public QR images -------------------------------------------------------------------------


def _raw_path() -> str:
    """The request path as sent (percent-encoding intact), so a lot containing an encoded
    '/' is not split into path segments."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path
    return str(raw).partition("?")[0]


@route(
    bp,
    "/qr/<path:unit_path>",
    access=PUBLIC,
    query=QROptions,
    area="labels",
    responses={200: "The QR code image", 304: "Not modified (ETag)"},
    also_answers=file_answers(*CODES_PATH_FORMATS.values()),
)
def unit_qr(unit_path: str, query: QROptions) -> Response:
    """The QR code of a unit: ``/qr/01/<gtin14>/10/<lot>/21/<serial>.png`` (or ``.svg``).

    It encodes exactly what the unit's label carries. Images never change for a unit, so they
    are served with a strong ETag and cached for a year."""
    path = _raw_path().removeprefix("/qr")
    extension = next((ext for ext in CODES_PATH_FORMATS if path.endswith(ext)), None)
    if extension is None:
        raise UnitNotFound("QR images end in .png or .svg.")
    try:
        link = parse_digital_link(path.removesuffix(extension))
    except GS1SyntaxError as error:
        raise BadRequest(
            error.message,
            slug="invalid-digital-link",
            errors=[FieldError(error.field, error.rule, error.message)],
        ) from None
    unit = (
        services.find_unit(db.session, link.gtin, link.serial)
        if link.serial is not None and link.lot is not None
        else None
    )
    if unit is None or unit.lot != link.lot or link.cpv is not None or link.data:
        raise UnitNotFound("No unit has this GS1 Digital Link URI.")
    matrix = qr.encode(unit.label_content(_base()), query.ec)
    if extension == ".png":
        body: bytes = qr.render_png(
            matrix, scale=qr.scale_for_size(matrix, query.size, query.border), border=query.border
        )
    else:
        body = qr.render_svg(matrix, size=query.size, border=query.border).encode()
    etag = hashlib.sha256(body).hexdigest()[:32]
    response = Response(body, mimetype=CODES_PATH_FORMATS[extension])
    response.set_etag(etag)
    response.headers["Cache-Control"] = IMAGE_CACHE
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.make_conditional(request)
    return response
