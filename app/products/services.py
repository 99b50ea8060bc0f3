"""Products, batches, label orders and unit codes.

Services take the session, flush and never commit; the request (or CLI command) commits once,
so an order whose code generation fails leaves no codes behind. Every lookup is scoped to the
caller's organisation: another firm's records answer 404, exactly like missing ones.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.models import OrgKind, Role
from app.auth.principal import Caller
from app.brands import services as brands
from app.db import utcnow
from app.errors import Conflict, FieldError, InvalidInput, NotFound
from app.gs1.digital_link import build_digital_link
from app.gs1.identifiers import (
    GS1SyntaxError,
    normalize_gtin,
    parse_gs1_date,
    validate_gln,
    validate_lot,
)
from app.http.pagination import PageResult, paginate
from app.products import codes, coverage
from app.products.errors import (
    DuplicateGTIN,
    DuplicateLot,
    OrderStateConflict,
    UnitNotFound,
    gs1_error,
)
from app.products.models import (
    Batch,
    LabelOrder,
    LabelOrderStatus,
    LabelPolicy,
    Product,
    ProductImage,
    ProductStatus,
    UnitCode,
)
from app.products.serials import SERIAL_ALPHABET, SERIAL_LENGTH
from app.transparency.entry import EntryType
from app.transparency.services import append_entry

SIGNATURE_PARAM = "sig"
"""Query parameter of a signed label's URI that carries its compact signature."""

_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_SERIAL = re.compile(f"^[{SERIAL_ALPHABET}]{{{SERIAL_LENGTH}}}$")


# --- products ---------------------------------------------------------------------------------


def _gtin(value: str, field: str = "/gtin") -> str:
    try:
        return normalize_gtin(value)
    except GS1SyntaxError as error:
        raise gs1_error(error, field) from None


def register_product(
    session: Session,
    caller: Caller,
    *,
    gtin: str,
    name_zh: str,
    name_en: str,
    description_zh: str | None = None,
    description_en: str | None = None,
) -> Product:
    """Register a product of the caller's firm under its GTIN (8, 12, 13 or 14 digits with a
    valid check digit; stored as 14 digits). A GTIN names one trade item worldwide: a GTIN
    registered already, by this firm or another, is refused."""
    gtin14 = _gtin(gtin)
    if session.scalar(select(Product.id).where(Product.gtin == gtin14)) is not None:
        raise DuplicateGTIN(
            f"GTIN {gtin14} is registered already.",
            errors=[FieldError("/gtin", "unique", "this GTIN is registered already")],
        )
    product = Product(
        organisation_id=caller.organisation_id,
        gtin=gtin14,
        name_zh=name_zh,
        name_en=name_en,
        description_zh=description_zh,
        description_en=description_en,
    )
    try:
        # Added inside the savepoint: begin_nested() flushes what is pending first, outside
        # it, where a lost race would roll back the caller's whole transaction.
        with session.begin_nested():
            session.add(product)
            session.flush()
    except IntegrityError:
        # A concurrent registration of the same GTIN won the race.
        raise DuplicateGTIN(
            f"GTIN {gtin14} is registered already.",
            errors=[FieldError("/gtin", "unique", "this GTIN is registered already")],
        ) from None
    return product


def get_product(session: Session, caller: Caller, product_id: int) -> Product:
    """The caller's firm's product, or 404 (also for another firm's product)."""
    product = session.get(Product, product_id)
    if product is None or product.organisation_id != caller.organisation_id:
        raise NotFound(f"No product {product_id}.")
    return product


PRODUCT_IMAGE_MAX_BYTES = 2 * 1024 * 1024
PRODUCT_IMAGE_LIMIT = 8


def add_product_image(
    session: Session, caller: Caller, product_id: int, upload: Any
) -> ProductImage:
    """Attach a picture to the caller's product: PNG, JPEG or WebP up to 2 MiB (the type is
    sniffed from the bytes; SVG is refused), at most eight per product."""
    from app.files.services import IMAGE_TYPES, store_upload

    product = get_product(session, caller, product_id)
    count = session.scalar(
        select(func.count()).select_from(ProductImage).where(ProductImage.product_id == product.id)
    )
    if (count or 0) >= PRODUCT_IMAGE_LIMIT:
        raise Conflict(
            f"A product has at most {PRODUCT_IMAGE_LIMIT} images; remove one first.",
            slug="too-many-images",
            errors=[FieldError("file", "max_items", f"at most {PRODUCT_IMAGE_LIMIT} images")],
        )
    stored = store_upload(
        session,
        upload,
        allowed_types=IMAGE_TYPES,
        max_bytes=PRODUCT_IMAGE_MAX_BYTES,
        organisation_id=caller.organisation_id,
        uploaded_by_id=caller.user_id,
    )
    image = ProductImage(product_id=product.id, file_id=stored.id)
    session.add(image)
    session.flush()
    return image


def remove_product_image(session: Session, caller: Caller, product_id: int, image_id: int) -> None:
    """Detach a picture from the caller's product."""
    product = get_product(session, caller, product_id)
    image = session.get(ProductImage, image_id)
    if image is None or image.product_id != product.id:
        raise NotFound(f"No image {image_id} of product {product_id}.")
    session.delete(image)
    session.flush()


def product_image_ids(session: Session, product_id: int) -> list[int]:
    return list(
        session.scalars(
            select(ProductImage.id)
            .where(ProductImage.product_id == product_id)
            .order_by(ProductImage.id)
        )
    )


def public_product_image(session: Session, gtin: str, image_id: int) -> Any:
    """A product's picture for anyone (product pictures are public, like the pack itself)."""
    from app.files.models import StoredFile

    image = session.get(ProductImage, image_id)
    product = session.get(Product, image.product_id) if image is not None else None
    if image is None or product is None or product.gtin != gtin:
        raise NotFound(f"No image {image_id} for GTIN {gtin}.")
    stored = session.get(StoredFile, image.file_id)
    assert stored is not None
    return stored


def list_products(
    session: Session, caller: Caller, *, limit: int, cursor: str | None, gtin: str | None = None
) -> PageResult[Product]:
    """The caller's firm's products, newest first, optionally the one with ``gtin``."""
    statement = select(Product).where(Product.organisation_id == caller.organisation_id)
    if gtin is not None:
        statement = statement.where(Product.gtin == _gtin(gtin, "query.gtin"))
    return paginate(session, statement, Product.id, limit=limit, cursor=cursor)


def update_product(
    session: Session,
    caller: Caller,
    product_id: int,
    *,
    name_zh: str | None = None,
    name_en: str | None = None,
    description_zh: str | None = None,
    description_en: str | None = None,
    status: ProductStatus | None = None,
) -> Product:
    """Change a product's names, descriptions or status; its GTIN never changes."""
    product = get_product(session, caller, product_id)
    for name, value in (
        ("name_zh", name_zh),
        ("name_en", name_en),
        ("description_zh", description_zh),
        ("description_en", description_en),
        ("status", status),
    ):
        if value is not None:
            setattr(product, name, value)
    session.flush()
    return product


@dataclass(frozen=True)
class Mark:
    """Whether a product may bear the brand mark now, and under which certificate."""

    may_bear_mark: bool
    certificate_id: int | None = None
    certificate_number: str | None = None
    label_quota: int | None = None
    labels_used: int | None = None


def product_mark(session: Session, product: Product) -> Mark:
    """A product may bear the mark only while a certificate in force held by its firm covers
    its GTIN (and the product is not discontinued)."""
    cover = coverage.find_coverage(session, product.organisation_id, product.gtin)
    if cover is None:
        return Mark(may_bear_mark=False)
    return Mark(
        may_bear_mark=product.status is ProductStatus.ACTIVE,
        certificate_id=cover.certificate_id,
        certificate_number=cover.certificate_number,
        label_quota=cover.label_quota,
        labels_used=cover.labels_issued,
    )


# --- batches ----------------------------------------------------------------------------------


def parse_date_input(value: str | None, field: str) -> date | None:
    """A date given as ISO ``YYYY-MM-DD`` or as GS1 ``YYMMDD`` (day 00: end of the month);
    dates that do not exist are refused with rule ``invalid_date``."""
    if value is None:
        return None
    match = _ISO_DATE.match(value)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise InvalidInput(
                f"{value} is not a date that exists.",
                slug="invalid-gs1-value",
                errors=[FieldError(field, "invalid_date", f"{value} does not exist")],
            ) from None
    try:
        return parse_gs1_date(value, field.lstrip("/"))
    except GS1SyntaxError as error:
        raise gs1_error(error, field) from None


def create_batch(
    session: Session,
    caller: Caller,
    product_id: int,
    *,
    lot: str,
    production_date: str | None = None,
    best_before_date: str | None = None,
    expiry_date: str | None = None,
    quantity: int | None = None,
    production_site: str | None = None,
    production_site_gln: str | None = None,
) -> Batch:
    """Record a production lot of one of the caller's products.

    The lot is 1 to 20 characters of GS1 character set 82 (no spaces, no Chinese characters);
    best-before (AI 15) and expiry (AI 17) dates may not precede the production date (AI 11).
    """
    product = get_product(session, caller, product_id)
    try:
        validate_lot(lot)
    except GS1SyntaxError as error:
        raise gs1_error(error, "/lot") from None
    produced = parse_date_input(production_date, "/production_date")
    best_before = parse_date_input(best_before_date, "/best_before_date")
    expiry = parse_date_input(expiry_date, "/expiry_date")
    problems = [
        FieldError(field, "date_order", "may not be before the production date")
        for field, value in (("/best_before_date", best_before), ("/expiry_date", expiry))
        if produced and value and value < produced
    ]
    if problems:
        raise InvalidInput("A batch cannot expire before it is made.", errors=problems)
    if production_site_gln is not None:
        try:
            validate_gln(production_site_gln)
        except GS1SyntaxError as error:
            raise gs1_error(error, "/production_site_gln") from None
    duplicate = select(Batch.id).where(Batch.product_id == product.id, Batch.lot == lot)
    if session.scalar(duplicate) is not None:
        raise DuplicateLot(
            f"Product {product.gtin} has a lot {lot!r} already.",
            errors=[FieldError("/lot", "unique", "this product has this lot already")],
        )
    batch = Batch(
        product_id=product.id,
        lot=lot,
        production_date=produced,
        best_before_date=best_before,
        expiry_date=expiry,
        quantity=quantity,
        production_site=production_site,
        production_site_gln=production_site_gln,
    )
    batch.product = product
    session.add(batch)
    session.flush()
    return batch


def get_batch(session: Session, caller: Caller, batch_id: int) -> Batch:
    """The caller's firm's batch, or 404."""
    batch = session.get(Batch, batch_id)
    if batch is None or batch.product.organisation_id != caller.organisation_id:
        raise NotFound(f"No batch {batch_id}.")
    return batch


def list_batches(
    session: Session, caller: Caller, product_id: int, *, limit: int, cursor: str | None
) -> PageResult[Batch]:
    """The lots of one of the caller's products, newest first."""
    product = get_product(session, caller, product_id)
    statement = select(Batch).where(Batch.product_id == product.id)
    return paginate(session, statement, Batch.id, limit=limit, cursor=cursor)


def batch_data_attributes(batch: Batch) -> dict[str, str]:
    """The batch's dates as GS1 data attributes (AI -> YYMMDD), for Digital Link queries."""
    data = {}
    for ai, value in (
        ("11", batch.production_date),
        ("15", batch.best_before_date),
        ("17", batch.expiry_date),
    ):
        if value is not None:
            data[ai] = value.strftime("%y%m%d")
    return data


# --- identity ---------------------------------------------------------------------------------


def product_uri(base_url: str, gtin: str) -> str:
    """The product's GS1 Digital Link URI on our host: ``<base>/01/<gtin14>``."""
    return build_digital_link(base_url, gtin)


def batch_uri(base_url: str, gtin: str, lot: str) -> str:
    """The batch's GS1 Digital Link URI: ``<base>/01/<gtin14>/10/<lot>``."""
    return build_digital_link(base_url, gtin, lot=lot)


def unit_uri_prefix(base_url: str, gtin: str, lot: str) -> str:
    """Everything of a unit's URI but the serial: built and validated once per order, so an
    export of a million codes appends serials (which never need percent-encoding)."""
    return build_digital_link(base_url, gtin, lot=lot) + "/21/"


def unit_uri(base_url: str, gtin: str, lot: str, serial: str) -> str:
    """The unit's identity: ``<base>/01/<gtin14>/10/<lot>/21/<serial>``."""
    return build_digital_link(base_url, gtin, lot=lot, serial=serial)


def label_content(uri: str, signature: str | None) -> str:
    """What a unit's QR code carries: its URI, plus ``?sig=<compact signature>`` on signed
    (offline-verifiable) labels."""
    return f"{uri}?{SIGNATURE_PARAM}={signature}" if signature else uri


def qr_image_url(base_url: str, uri: str, extension: str) -> str:
    """A unit's public QR image: ``<base>/qr`` + the path of its URI + ``.png`` or ``.svg``."""
    return f"{base_url}/qr{uri.removeprefix(base_url)}{extension}"


class UnitState(enum.StrEnum):
    INACTIVE = "inactive"
    ACTIVE = "active"
    BLACKLISTED = "blacklisted"


def unit_state(order_status: LabelOrderStatus, blacklisted_at: datetime | None) -> UnitState:
    """A unit is blacklisted by its own mark or its order's; else active with its order."""
    if blacklisted_at is not None or order_status is LabelOrderStatus.BLACKLISTED:
        return UnitState.BLACKLISTED
    if order_status is LabelOrderStatus.ACTIVE:
        return UnitState.ACTIVE
    return UnitState.INACTIVE


@dataclass(frozen=True)
class UnitRecord:
    """A unit code with everything needed to show, render or resolve it."""

    id: int
    gtin: str
    lot: str
    serial: str
    signature: str | None
    state: UnitState
    order_id: int
    organisation_id: int
    product_id: int
    batch_id: int
    blacklisted_at: datetime | None
    blacklist_reason: str | None

    def uri(self, base_url: str) -> str:
        return unit_uri(base_url, self.gtin, self.lot, self.serial)

    def label_content(self, base_url: str) -> str:
        return label_content(self.uri(base_url), self.signature)


def find_unit(session: Session, gtin: str, serial: str) -> UnitRecord | None:
    """The unit with this GTIN (14 digits) and serial, in any organisation, or None.

    Used by public endpoints (QR images, and the resolver of issue 7): it answers for a known
    identity only, never lists."""
    row = session.execute(
        select(
            UnitCode.id,
            Product.gtin,
            Batch.lot,
            UnitCode.serial,
            UnitCode.signature,
            LabelOrder.status,
            UnitCode.blacklisted_at,
            LabelOrder.blacklisted_at,
            LabelOrder.id,
            LabelOrder.organisation_id,
            Product.id,
            Batch.id,
            UnitCode.blacklist_reason,
            LabelOrder.blacklist_reason,
        )
        .join(Product, Product.id == UnitCode.product_id)
        .join(LabelOrder, LabelOrder.id == UnitCode.order_id)
        .join(Batch, Batch.id == LabelOrder.batch_id)
        .where(Product.gtin == gtin, UnitCode.serial == serial)
    ).first()
    if row is None:
        return None
    (
        unit_id,
        gtin14,
        lot,
        serial_,
        signature,
        order_status,
        unit_blacklisted_at,
        order_blacklisted_at,
        order_id,
        organisation_id,
        product_id,
        batch_id,
        unit_reason,
        order_reason,
    ) = row
    return UnitRecord(
        id=unit_id,
        gtin=gtin14,
        lot=lot,
        serial=serial_,
        signature=signature,
        state=unit_state(order_status, unit_blacklisted_at),
        order_id=order_id,
        organisation_id=organisation_id,
        product_id=product_id,
        batch_id=batch_id,
        blacklisted_at=unit_blacklisted_at or order_blacklisted_at,
        blacklist_reason=unit_reason or order_reason,
    )


def get_unit(session: Session, caller: Caller, gtin: str, serial: str) -> UnitRecord:
    """One of the caller's firm's units by GTIN and serial, or 404."""
    gtin14 = _gtin(gtin, "gtin")
    unit = find_unit(session, gtin14, serial) if _SERIAL.match(serial) else None
    if unit is None or not _may_see_order(session, caller, unit.organisation_id, unit.order_id):
        raise UnitNotFound(f"No unit with GTIN {gtin14} and serial {serial}.")
    return unit


def blacklist_unit(
    session: Session, caller: Caller, gtin: str, serial: str, *, reason: str
) -> UnitRecord:
    """Block one code (a lost, stolen or copied label); final. Blacklisting twice keeps the
    first time and reason."""
    unit = get_unit(session, caller, gtin, serial)
    code = session.get(UnitCode, unit.id)
    assert code is not None
    if code.blacklisted_at is None:
        code.blacklisted_at = utcnow()
        code.blacklist_reason = reason
        session.flush()
    return get_unit(session, caller, gtin, serial)


# --- label orders -----------------------------------------------------------------------------


def _may_see_order(session: Session, caller: Caller, organisation_id: int, order_id: int) -> bool:
    """A firm sees its own orders; an association those counted against its certificates."""
    if caller.org_kind is OrgKind.ENTERPRISE:
        return organisation_id == caller.organisation_id
    if caller.org_kind is OrgKind.ASSOCIATION:
        association_id = session.scalar(
            select(LabelOrder.association_id).where(LabelOrder.id == order_id)
        )
        return association_id == caller.organisation_id
    return False


def get_order(session: Session, caller: Caller, order_id: int) -> LabelOrder:
    """A label order the caller may see (its firm's own, or its association's), or 404."""
    order = session.get(LabelOrder, order_id)
    if order is None or not _may_see_order(session, caller, order.organisation_id, order.id):
        raise NotFound(f"No label order {order_id}.")
    return order


def get_association_order(session: Session, caller: Caller, order_id: int) -> LabelOrder:
    """An order counted against one of the calling association's certificates, or 404."""
    order = session.get(LabelOrder, order_id)
    if order is None or order.association_id != caller.organisation_id:
        raise NotFound(f"No label order {order_id}.")
    return order


def get_own_order(session: Session, caller: Caller, order_id: int) -> LabelOrder:
    """One of the caller's firm's own orders, or 404 (for every other organisation)."""
    order = session.get(LabelOrder, order_id)
    if order is None or order.organisation_id != caller.organisation_id:
        raise NotFound(f"No label order {order_id}.")
    return order


def list_orders(
    session: Session,
    caller: Caller,
    *,
    limit: int,
    cursor: str | None,
    status: LabelOrderStatus | None = None,
) -> PageResult[LabelOrder]:
    """The label orders the caller may see, newest first."""
    owner = (
        LabelOrder.association_id
        if caller.org_kind is OrgKind.ASSOCIATION
        else LabelOrder.organisation_id
    )
    statement = select(LabelOrder).where(owner == caller.organisation_id)
    if status is not None:
        statement = statement.where(LabelOrder.status == status)
    return paginate(session, statement, LabelOrder.id, limit=limit, cursor=cursor)


def _require(session: Session, order: LabelOrder, *allowed: LabelOrderStatus, action: str) -> None:
    # Lock the order's row and read it again first: two decisions on one order (an approval
    # and the firm's cancellation, say) then take turns, and the second sees the first's outcome
    # instead of acting on the state both read before (SQLite's writers take turns anyway).
    session.refresh(order, with_for_update={"of": LabelOrder})
    if order.status not in allowed:
        names = " or ".join(status.value for status in allowed)
        raise OrderStateConflict(
            f"Label order {order.id} is {order.status.value}; only a {names} order can be "
            f"{action}.",
            errors=[FieldError("status", "state", f"must be {names}, is {order.status.value}")],
        )


def _decide(
    session: Session, order: LabelOrder, *allowed: LabelOrderStatus, action: str, signs: bool
) -> None:
    # A decision that touches the order's certificate (quota, in-force check) locks that
    # certificate before the order, and the issuer key it signs with before both, as leaving
    # a brand does (see coverage.lock_standing).
    coverage.lock_standing(
        session, order.certificate_id, signer_id=order.association_id if signs else None
    )
    _require(session, order, *allowed, action=action)


def order_labels(
    session: Session, caller: Caller, batch_id: int, *, quantity: int, signed: bool = False
) -> LabelOrder:
    """Order ``quantity`` serialised codes for one of the caller's batches.

    The product's GTIN must be covered by a certificate in force held by the firm, and the
    order must fit in what is left of that certificate's label quota; the quantity is
    reserved under the certificate's row lock, so concurrent orders never overrun the quota,
    and given back if the order is rejected or cancelled.
    The order waits for the association's approval, unless the brand approves orders within
    quota automatically, in which case its codes are issued at once.

    An order approved at once and signed takes the association's signing lock before the
    certificate's row lock (the quota), the order every lock taker keeps (see
    coverage.lock_standing): the other way round, a suspension of the certificate at the same
    moment would hold the key while waiting for the certificate, a deadlock on PostgreSQL.
    """
    batch = get_batch(session, caller, batch_id)
    product = batch.product
    cover = coverage.find_coverage(session, caller.organisation_id, product.gtin)
    if cover is None or product.status is not ProductStatus.ACTIVE:
        raise coverage.not_covered(product.gtin)
    auto_approved = coverage.auto_approves(session, cover, quantity)
    if auto_approved and signed:
        coverage.lock_signer(session, cover.association_id)
    coverage.reserve(session, cover, product.gtin, quantity)
    order = LabelOrder(
        organisation_id=caller.organisation_id,
        batch_id=batch.id,
        product_id=product.id,
        certificate_id=cover.certificate_id,
        association_id=cover.association_id,
        quantity=quantity,
        is_signed=signed,
        requested_by_user_id=caller.user_id,
    )
    order.batch = batch
    session.add(order)
    session.flush()
    if auto_approved:
        order.is_auto_approved = True
        order.decided_at = utcnow()
        issue_order(session, order, organisation_id=caller.organisation_id)
    return order


def approve_order(session: Session, caller: Caller, order_id: int) -> LabelOrder:
    """The association approves a pending order: its codes are generated (inactive)."""
    order = get_association_order(session, caller, order_id)
    _decide(session, order, LabelOrderStatus.PENDING, action="approved", signs=order.is_signed)
    coverage.require_in_force(session, order.certificate_id, order.batch.product.gtin)
    order.decided_by_user_id = caller.user_id
    order.decided_at = utcnow()
    issue_order(session, order, organisation_id=caller.organisation_id)
    return order


def reject_order(session: Session, caller: Caller, order_id: int, *, reason: str) -> LabelOrder:
    """The association refuses a pending order; its quota reservation is released."""
    order = get_association_order(session, caller, order_id)
    _decide(session, order, LabelOrderStatus.PENDING, action="rejected", signs=False)
    order.status = LabelOrderStatus.REJECTED
    order.decided_by_user_id = caller.user_id
    order.decided_at = utcnow()
    order.decision_reason = reason
    coverage.release(session, order.certificate_id, order.quantity)
    session.flush()
    return order


def cancel_order(session: Session, caller: Caller, order_id: int) -> LabelOrder:
    """The firm withdraws its pending order; its quota reservation is released."""
    order = get_own_order(session, caller, order_id)
    _decide(session, order, LabelOrderStatus.PENDING, action="cancelled", signs=False)
    order.status = LabelOrderStatus.CANCELLED
    coverage.release(session, order.certificate_id, order.quantity)
    session.flush()
    return order


def pending_orders_on(
    session: Session, caller: Caller, certificate_ids: Collection[int], *, lock: bool = False
) -> list[LabelOrder]:
    """The caller's firm's pending orders counted against one of these certificates, or
    against an earlier certificate renewed into one of them (their labels would stand for it).

    ``lock`` takes the orders' row locks first, so an order the association decided on
    meanwhile is re-read (on PostgreSQL) and left out."""
    wanted = set(certificate_ids)
    if not wanted:
        return []
    statement = (
        select(LabelOrder)
        .where(
            LabelOrder.organisation_id == caller.organisation_id,
            LabelOrder.status == LabelOrderStatus.PENDING,
        )
        .order_by(LabelOrder.id)
    )
    if lock:
        statement = statement.with_for_update(of=LabelOrder).execution_options(
            populate_existing=True
        )
    return [
        order
        for order in session.scalars(statement)
        if order.certificate_id in wanted
        or coverage.stands_for(session, order.certificate_id) in wanted
    ]


def cancel_pending_orders(
    session: Session, caller: Caller, certificate_ids: Collection[int]
) -> list[LabelOrder]:
    """Withdraw every pending order of :func:`pending_orders_on` as :func:`cancel_order`
    does: their labels go back to the quota (the certificates are ending)."""
    return [
        cancel_order(session, caller, order.id)
        for order in pending_orders_on(session, caller, certificate_ids, lock=True)
    ]


def issue_order(session: Session, order: LabelOrder, *, organisation_id: int | None) -> None:
    """Generate the order's codes (signed with the association's key when the order asks
    for offline-verifiable labels), record their digest, and append "label order issued"
    with that digest to the transparency log, all in the caller's transaction."""
    signer = None
    if order.is_signed:
        signer = coverage.label_signer(
            session, order.association_id, order.batch.product.gtin, order.batch.lot
        )
        order.signing_key_id = signer.key_id
    order.codes_sha256 = codes.generate_codes(
        session,
        order_id=order.id,
        product_id=order.product_id,
        quantity=order.quantity,
        signer=signer.sign if signer else None,
    )
    order.status = LabelOrderStatus.ISSUED
    order.issued_at = utcnow()
    session.flush()
    append_entry(
        session,
        entry_type=EntryType.LABEL_ORDER_ISSUED,
        record_type="label_order",
        record_id=order.id,
        content={
            "id": order.id,
            "gtin": order.batch.product.gtin,
            "lot": order.batch.lot,
            "quantity": order.quantity,
            "certificate_id": order.certificate_id,
            "codes_sha256": order.codes_sha256,
            "signing_key_id": order.signing_key_id,
        },
        organisation_id=organisation_id,
        details={"codes_sha256": order.codes_sha256, "code_count": order.quantity},
    )


def mark_printed(session: Session, caller: Caller, order_id: int) -> LabelOrder:
    """The firm says the order's labels are printed (its codes stay inactive until activated)."""
    order = get_own_order(session, caller, order_id)
    _require(session, order, LabelOrderStatus.ISSUED, action="marked printed")
    order.status = LabelOrderStatus.PRINTED
    order.printed_at = utcnow()
    session.flush()
    return order


def activate_order(session: Session, caller: Caller, order_id: int) -> LabelOrder:
    """The firm activates a printed order: its codes now verify as genuine (one row changes,
    whatever the number of codes).

    Like an approval, activation needs the certificate the labels stand for (the one the
    order counts against, or its renewal) to be in force: a certificate cancelled since the
    approval (the firm left the brand), withdrawn, suspended or lapsed is refused with
    ``CertificateNotInForce`` and nothing changes. The certificate is locked before the
    order, so a concurrent suspension or leaving either waits or is seen."""
    order = get_own_order(session, caller, order_id)
    _decide(session, order, LabelOrderStatus.PRINTED, action="activated", signs=False)
    coverage.require_in_force(
        session, order.certificate_id, order.batch.product.gtin, to_activate=True
    )
    order.status = LabelOrderStatus.ACTIVE
    order.activated_at = utcnow()
    session.flush()
    return order


def blacklist_order(session: Session, caller: Caller, order_id: int, *, reason: str) -> LabelOrder:
    """Block every code of an issued, printed or active order (lost or stolen labels); final.
    The firm or its certifying association may do it."""
    order = get_order(session, caller, order_id)
    _require(
        session,
        order,
        LabelOrderStatus.ISSUED,
        LabelOrderStatus.PRINTED,
        LabelOrderStatus.ACTIVE,
        action="blacklisted",
    )
    order.status = LabelOrderStatus.BLACKLISTED
    order.blacklisted_at = utcnow()
    order.blacklist_reason = reason
    session.flush()
    return order


def count_blacklisted(session: Session, order: LabelOrder) -> int:
    """How many of the order's codes are blacklisted one by one."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(UnitCode)
            .where(UnitCode.order_id == order.id, UnitCode.blacklisted_at.is_not(None))
        )
        or 0
    )


# --- label policies ---------------------------------------------------------------------------


def get_label_policy(session: Session, caller: Caller, brand_slug: str) -> LabelPolicy:
    """The brand's label policy (an unsaved default one when never set): the owning
    association's staff may read it."""
    brand = brands.get_brand(session, brand_slug)
    brands.require_owner(caller, brand, roles=(Role.ADMIN, Role.STAFF))
    policy = session.scalar(select(LabelPolicy).where(LabelPolicy.brand_id == brand.id))
    return policy or LabelPolicy(brand_id=brand.id, auto_approve=False, auto_approve_max=None)


def set_label_policy(
    session: Session,
    caller: Caller,
    brand_slug: str,
    *,
    auto_approve: bool,
    auto_approve_max: int | None,
) -> LabelPolicy:
    """The owning association's admin decides whether member firms' label orders within
    quota (and up to ``auto_approve_max`` codes) are approved without review."""
    brand = brands.get_brand(session, brand_slug)
    brands.require_owner(caller, brand)
    policy = session.scalar(select(LabelPolicy).where(LabelPolicy.brand_id == brand.id))
    if policy is None:
        policy = LabelPolicy(brand_id=brand.id)
        session.add(policy)
    policy.auto_approve = auto_approve
    policy.auto_approve_max = auto_approve_max
    policy.updated_by_user_id = caller.user_id
    policy.updated_at = utcnow()
    session.flush()
    return policy
