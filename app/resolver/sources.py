"""What the other domains know about a scanned code, gathered into plain facts.

This is the resolver's only window on products and codes, certificates, brands,
traceability and the transparency log. Each of those domains keeps its own rules (which
certificate is in force, what a recall reaches, which state a unit is in); this module asks
their services and reads their public models, and never writes.

The hot path (a unit's verdict) costs a handful of indexed lookups: the unit, its label order
with batch and product, the certificate with its holder and issuer, and the recall check,
which is one query when nothing is recalled. A standard's brand never changes, so that
mapping is kept per process.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Organisation
from app.brands.models import Brand
from app.brands.public import brand_url
from app.certificates import credentials
from app.certificates.models import Certificate, CertificateStatus
from app.db import utcnow
from app.gs1.digital_link import DigitalLink
from app.products import services as products
from app.products.models import Batch, LabelOrder, Product
from app.resolver.verdicts import (
    BatchFacts,
    CertificateFacts,
    CodeFacts,
    Level,
    PartyFacts,
    ProductFacts,
    UnitFacts,
)
from app.standards.models import Standard

# standard code -> brand id (a standard belongs to one brand for good)
_BRAND_OF_STANDARD: dict[str, int | None] = {}


def level_of(link: DigitalLink) -> Level:
    if link.serial is not None:
        return Level.UNIT
    if link.lot is not None:
        return Level.BATCH
    return Level.PRODUCT


def _day(value: datetime | None) -> date | None:
    return value.astimezone(UTC).date() if value is not None else None


def _party(organisation: Organisation | None) -> PartyFacts | None:
    if organisation is None:
        return None
    return PartyFacts(
        id=organisation.id,
        slug=organisation.slug,
        name_zh=organisation.name_zh,
        name_en=organisation.name_en,
        registration_number=organisation.registration_number,
    )


def _product(product: Product) -> ProductFacts:
    return ProductFacts(
        id=product.id,
        gtin=product.gtin,
        name_zh=product.name_zh,
        name_en=product.name_en,
        description=product.description_zh,
    )


def _batch(batch: Batch, restriction: tuple[str, str] | None = None) -> BatchFacts:
    return BatchFacts(
        id=batch.id,
        lot=batch.lot,
        production_date=batch.production_date,
        best_before_date=batch.best_before_date,
        expiry_date=batch.expiry_date,
        site=batch.production_site,
        restriction=restriction[0] if restriction else None,
        restriction_reason=restriction[1] if restriction else None,
    )


def _certificate(session: Session, certificate: Certificate, now: datetime) -> CertificateFacts:
    # The certificates domain decides what "in force" means (status, dates, surveillance).
    standing = credentials.standing(session, certificate, now)
    return CertificateFacts(
        id=certificate.id,
        number=certificate.number,
        status=certificate.status.value,
        status_reason=certificate.status_reason,
        valid_from=_day(certificate.valid_from),
        valid_until=_day(certificate.valid_until),
        standard_code=certificate.standard_code,
        standard_version=certificate.standard_version,
        url=credentials.certificate_url(certificate.number),
        holder_name=certificate.holder_name_zh,
        next_surveillance_due=standing.next_surveillance_due_on,
        surveillance_overdue=standing.reason == "surveillance_overdue",
        surveillance_refused=standing.reason == "surveillance_refused",
        extra={
            "vc_url": credentials.credential_url(certificate.number),
            "mark_licence_number": certificate.mark_licence_number,
        },
    )


def _current(session: Session, certificate: Certificate) -> Certificate:
    """A renewed or re-issued certificate stands for its successor: labels printed under the
    old number stay valid while the new one is in force."""
    seen = {certificate.id}
    while certificate.status is CertificateStatus.SUPERSEDED:
        successor = session.scalar(
            select(Certificate)
            .where(Certificate.previous_certificate_id == certificate.id)
            .order_by(Certificate.id.desc())
            .limit(1)
        )
        if successor is None or successor.id in seen:
            break
        seen.add(successor.id)
        certificate = successor
    return certificate


def _covering(session: Session, firm_id: int, gtin: str, now: datetime) -> Certificate | None:
    """For a product or batch link: the firm's certificate in force for the GTIN, else its
    latest certificate naming the GTIN (to say why it is not in force)."""
    in_force = credentials.certificate_in_force_for(session, firm_id, gtin, now=now)
    if in_force is not None:
        return in_force
    for certificate in session.scalars(
        select(Certificate).where(Certificate.firm_id == firm_id).order_by(Certificate.id.desc())
    ):
        if gtin in certificate.scope_gtins:
            return _current(session, certificate)
    return None


def _brand(session: Session, certificate: Certificate | None) -> PartyFacts | None:
    if certificate is None:
        return None
    code = certificate.standard_code
    if code not in _BRAND_OF_STANDARD:
        _BRAND_OF_STANDARD[code] = session.scalar(
            select(Standard.brand_id).where(Standard.code == code)
        )
    brand_id = _BRAND_OF_STANDARD[code]
    brand = session.get(Brand, brand_id) if brand_id is not None else None
    if brand is None:
        return None
    extra: dict[str, Any] = {}
    if brand.mark_registration_number:
        extra["mark"] = brand.mark_registration_number
    return PartyFacts(
        id=brand.id,
        slug=brand.slug,
        name_zh=brand.name_zh,
        name_en=brand.name_en,
        url=brand_url(brand),
        extra=extra,
    )


def _restriction(
    session: Session, gtin: str, lot: str | None, serial: str | None
) -> tuple[str, str] | None:
    """An active recall or hold on the item or anything upstream of it (traceability)."""
    from app.trace.models import RecallKind
    from app.trace.recalls import is_recalled

    if lot is None and serial is None:
        return None
    notice = is_recalled(session, gtin, lot, serial)
    if notice is None:
        return None
    return ("recalled" if notice.kind == RecallKind.RECALL else "on_hold", notice.reason)


def _signature_param(link: DigitalLink) -> str | None:
    return next((v for k, v in link.other_params if k == products.SIGNATURE_PARAM), None)


def gather_facts(session: Session, link: DigitalLink, *, now: datetime | None = None) -> CodeFacts:
    """Everything known about the product, batch and unit a link names."""
    now = now or utcnow()
    level = level_of(link)
    base = CodeFacts(level=level, gtin=link.gtin, lot=link.lot, serial=link.serial)
    if link.serial is not None:
        unit = products.find_unit(session, link.gtin, link.serial)
        if unit is not None:
            return _unit_facts(session, link, unit, now)
    product = session.scalar(select(Product).where(Product.gtin == link.gtin))
    if product is None:
        return base
    certificate = _covering(session, product.organisation_id, product.gtin, now)
    firm = session.get(Organisation, product.organisation_id)
    batch = None
    if link.lot is not None:
        batch = session.scalar(
            select(Batch).where(Batch.product_id == product.id, Batch.lot == link.lot)
        )
    restriction = (
        _restriction(session, product.gtin, link.lot, None)
        if batch is not None and level is Level.BATCH
        else None
    )
    return CodeFacts(
        level=level,
        gtin=link.gtin,
        lot=link.lot,
        serial=link.serial,
        product=_product(product),
        batch=_batch(batch, restriction) if batch is not None else None,
        firm=_party(firm),
        association=_party(certificate.issuer) if certificate else None,
        brand=_brand(session, certificate),
        certificate=_certificate(session, certificate, now) if certificate else None,
    )


def _unit_facts(
    session: Session, link: DigitalLink, unit: products.UnitRecord, now: datetime
) -> CodeFacts:
    order = session.get(LabelOrder, unit.order_id)
    assert order is not None
    batch = order.batch
    certificate = session.get(Certificate, order.certificate_id)
    certificate = _current(session, certificate) if certificate is not None else None
    restriction = _restriction(session, unit.gtin, unit.lot, unit.serial)
    printed_signature = _signature_param(link)
    return CodeFacts(
        level=Level.UNIT,
        gtin=unit.gtin,
        lot=link.lot,
        serial=unit.serial,
        product=_product(batch.product),
        batch=_batch(batch),
        unit=UnitFacts(
            id=unit.id,
            serial=unit.serial,
            status=unit.state.value,
            status_reason=unit.blacklist_reason,
            restriction=restriction[0] if restriction else None,
            restriction_reason=restriction[1] if restriction else None,
            order_id=unit.order_id,
        ),
        firm=_party(
            certificate.firm if certificate else session.get(Organisation, unit.organisation_id)
        ),
        association=_party(certificate.issuer) if certificate else None,
        brand=_brand(session, certificate),
        certificate=_certificate(session, certificate, now) if certificate else None,
        lot_mismatch=unit.lot if link.lot is not None and link.lot != unit.lot else None,
        signature_mismatch=bool(
            printed_signature and unit.signature and printed_signature != unit.signature
        ),
    )


def journey(session: Session, facts: CodeFacts) -> list[dict[str, Any]]:
    """The traceability events of the unit or batch, oldest first, as a shopper reads them:
    when, what happened, where, and any temperature readings (empty when none)."""
    from app.i18n import current_locale
    from app.trace.identifiers import Identifier, batch_identifier
    from app.trace.journeys import Direction, trace_journey
    from app.trace.present import journey_json, local_time, template_helpers

    if facts.product is None or facts.batch is None:
        return []
    if facts.unit is not None:
        from app.gs1.epc import sgtin_to_digital_link

        start = Identifier(
            sgtin_to_digital_link(facts.gtin, facts.unit.serial),
            facts.gtin,
            facts.batch.lot,
            facts.unit.serial,
        )
    else:
        start = batch_identifier(facts.gtin, facts.batch.lot)
    found = trace_journey(session, start, Direction.BACKWARD, known_lot=facts.batch.lot)
    if not found.steps:
        return []
    document = journey_json(session, found)
    helpers = template_helpers()
    zh = current_locale() == "zh_CN"
    steps = []
    for event in sorted(document["events"], key=lambda item: item["eventTime"]):
        place = event.get("bizLocation") or event.get("readPoint")
        readings = [
            f"{helpers['measurement_label'](r.get('type'))} {helpers['number'](r.get('value'))}"
            f"{helpers['unit_label'](r.get('uom'))}"
            for r in event.get("sensorReadings", [])[:3]
            if r.get("value") is not None
        ]
        steps.append(
            {
                "time": event["eventTime"].isoformat(),
                "local_time": local_time(event),
                "step": event.get("bizStep"),
                "label": helpers["step_label"](event.get("bizStep")),
                "place": (place.get("name_zh" if zh else "name_en") if place else None),
                "detail": ", ".join(readings) or None,
            }
        )
    return steps


def _log_entry(session: Session, record_type: str, record_id: str | int) -> dict[str, Any] | None:
    from app.errors import AppError
    from app.transparency import services as tlog

    entries = tlog.entries_for_record(session, record_type, record_id)
    if not entries:
        return None
    entry = entries[-1]
    document: dict[str, Any] = {
        "about": record_type,
        "index": entry.log_index,
        "entry_type": str(entry.entry_type),
    }
    try:
        document["inclusion_proof"] = tlog.inclusion_proof(session, index=entry.log_index).as_json()
    except AppError:
        document["inclusion_proof"] = None  # appended, not yet covered by a checkpoint
    return document


def log_proof(session: Session, facts: CodeFacts, base_url: str) -> dict[str, Any] | None:
    """The transparency-log entries behind a verdict (the certificate's latest state, and the
    label order that issued the unit), each with an inclusion proof against the latest
    checkpoint, checkable offline; the index alone while an entry awaits a checkpoint."""
    entries = []
    if facts.certificate is not None:
        entries.append(_log_entry(session, "certificate", facts.certificate.number))
    if facts.unit is not None and facts.unit.order_id is not None:
        entries.append(_log_entry(session, "label_order", facts.unit.order_id))
    found = [entry for entry in entries if entry is not None]
    if not found:
        return None
    return {"entries": found, "checkpoint_url": base_url + "/log/checkpoint"}
