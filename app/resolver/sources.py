"""What the other domains know about a scanned code, gathered into plain facts.

This is the resolver's only window on products and codes, certificates, brands,
traceability and the transparency log. Each of those domains keeps its own rules (which
state a unit is in, what "in force" means, what a recall reaches); this module asks their
services and reads their public models, and never writes.

The hot path (a unit's verdict) reads the code with its order, batch, product, certificate,
holder and issuer in one indexed query, and asks traceability whether anything is recalled
(one query while nothing is). Facts that change rarely and cost much (a brand, a
certificate's surveillance standing, a journey, an inclusion proof) come from
:mod:`app.resolver.cache`, keyed so that the changes a verdict turns on take effect at once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, exists, func, literal, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased

from app.auth.models import Organisation
from app.brands.models import Brand
from app.brands.public import brand_url
from app.certificates import credentials
from app.certificates.models import Certificate, CertificateStatus, IssuerKey
from app.certificates.verifier import label_issued_before_revocation, label_key_revoked
from app.db import utcnow
from app.errors import AppError
from app.gs1.digital_link import GS1_RESOLVER, DigitalLink, encode_dl_value
from app.i18n import current_locale
from app.products import services as products
from app.products.models import Batch, LabelOrder, Product, UnitCode
from app.resolver import cache
from app.resolver.prepared import prepared
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
from app.trace.identifiers import Identifier, batch_identifier
from app.trace.journeys import Direction, trace_journey
from app.trace.models import EventEpc, Recall, RecallKind, RecallStatus
from app.trace.present import journey_json, local_time, template_helpers
from app.trace.recalls import is_recalled
from app.transparency import services as tlog


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


def _certificate(
    session: Session,
    certificate: Certificate,
    now: datetime,
    *,
    gtin: str,
    labels_issued_under: Certificate | None = None,
) -> CertificateFacts:
    # The certificates domain decides what "in force" means (status, dates, surveillance).
    standing = credentials.standing(session, certificate, now)
    extra = {
        "vc_url": credentials.credential_url(certificate.number),
        "mark_licence_number": certificate.mark_licence_number,
    }
    if labels_issued_under is not None and labels_issued_under.id != certificate.id:
        # Packs labelled before a renewal or re-issue carry the number they were labelled
        # under, not their successor's: the shopper checks the pack against that one.
        extra["labels_issued_under"] = labels_issued_under.number
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
        key_revoked=standing.reason == "key_revoked",
        # A re-issue may narrow the scope: the successor of the certificate a pack was
        # labelled under need not cover the pack's product any more.
        covers_product=gtin in certificate.scope_gtins,
        extra=extra,
    )


def _covering(session: Session, firm_id: int, gtin: str, now: datetime) -> Certificate | None:
    """For a product or batch link: the firm's certificate in force for the GTIN, else its
    latest certificate naming the GTIN (to say why it is not in force), or that one's
    successor, which may no longer name it."""
    in_force = credentials.certificate_in_force_for(session, firm_id, gtin, now=now)
    if in_force is not None:
        return in_force
    for certificate in session.scalars(
        select(Certificate).where(Certificate.firm_id == firm_id).order_by(Certificate.id.desc())
    ):
        if gtin in certificate.scope_gtins:
            return credentials.current_certificate(session, certificate)
    return None


_scope = cache.scope


def _brand(session: Session, standard_code: str | None) -> PartyFacts | None:
    if standard_code is None:
        return None

    def load() -> PartyFacts | None:
        brand_id = session.scalar(select(Standard.brand_id).where(Standard.code == standard_code))
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

    return cache.BRANDS.get_or_set((_scope(session), standard_code), load)


_ACTIVE_RECALLS: Any = None


def _restriction(
    session: Session,
    gtin: str,
    lot: str | None,
    serial: str | None,
    active: tuple[int, int | None] | None = None,
) -> tuple[str, str] | None:
    """An active recall or hold on the item or anything upstream of it (traceability).

    ``active`` (count and newest id of the active recalls) may come with the caller's query;
    while nothing is recalled nothing more is asked. Otherwise traceability walks the item's
    journey; its answer is kept while the set of active recalls stays the same (any recall
    placed or lifted changes it, so it takes effect at once)."""
    if lot is None and serial is None:
        return None
    if active is None:
        global _ACTIVE_RECALLS
        if _ACTIVE_RECALLS is None:
            _ACTIVE_RECALLS = select(func.count(Recall.id), func.max(Recall.id)).where(
                Recall.status == RecallStatus.ACTIVE
            )
        active = tuple(session.connection().execute(_ACTIVE_RECALLS).one())
    assert active is not None
    count, newest = active
    if not count:
        return None

    def load() -> tuple[str, str] | None:
        notice = is_recalled(session, gtin, lot, serial)
        if notice is None:
            return None
        return ("recalled" if notice.kind == RecallKind.RECALL else "on_hold", notice.reason)

    key = (_scope(session), count, newest, gtin, lot, serial)
    return cache.RECALLS.get_or_set(key, load)


def unit_uri(gtin: str, serial: str) -> str:
    """A unit's canonical identifier as traceability events store it (``sgtin_to_digital_link``
    of a GTIN and serial that are already valid, without validating them again)."""
    return f"{GS1_RESOLVER}/01/{gtin}/21/{encode_dl_value(serial)}"


def _signature_param(link: DigitalLink) -> str | None:
    return next((v for k, v in link.other_params if k == products.SIGNATURE_PARAM), None)


def gather_facts(
    session: Session,
    link: DigitalLink,
    *,
    now: datetime | None = None,
    connection: Connection | None = None,
) -> CodeFacts:
    """Everything known about the product, batch and unit a link names. A unit's own row is
    read on ``connection`` when given (the scan path's kept connection), else on the
    session's; what is not kept in :mod:`app.resolver.cache` is read through ``session``."""
    now = now or utcnow()
    level = level_of(link)
    base = CodeFacts(level=level, gtin=link.gtin, lot=link.lot, serial=link.serial)
    if link.serial is not None:
        facts = _unit_facts(session, link, now, connection or session.connection())
        if facts is not None:
            return facts
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
        brand=_brand(session, certificate.standard_code if certificate else None),
        certificate=_certificate(session, certificate, now, gtin=product.gtin)
        if certificate
        else None,
    )


_FIRM = aliased(Organisation)
_ISSUER = aliased(Organisation)
_CERTIFICATE_KEY = aliased(IssuerKey)
_LABEL_KEY = aliased(IssuerKey)
_PARTY_COLUMNS = ("id", "slug", "name_zh", "name_en", "registration_number")


def _party_of(row: Any, prefix: str) -> PartyFacts | None:
    values = {name: getattr(row, f"{prefix}_{name}") for name in _PARTY_COLUMNS}
    return None if values["id"] is None else PartyFacts(**values)


# Built once: building a statement this size costs more than running it.
_UNIT_QUERY = (
    select(
        UnitCode.id.label("unit_id"),
        UnitCode.serial,
        UnitCode.signature,
        UnitCode.blacklisted_at,
        UnitCode.blacklist_reason.label("unit_reason"),
        LabelOrder.id.label("order_id"),
        LabelOrder.status.label("order_status"),
        LabelOrder.blacklist_reason.label("order_reason"),
        LabelOrder.certificate_id,
        LabelOrder.issued_at.label("order_issued_at"),
        Batch.id.label("batch_id"),
        Batch.lot,
        Batch.production_date,
        Batch.best_before_date,
        Batch.expiry_date,
        Batch.production_site,
        Product.id.label("product_id"),
        Product.gtin,
        Product.name_zh,
        Product.name_en,
        Certificate.status.label("certificate_status"),
        Certificate.status_changed_at,
        # Revoking a key changes neither the certificate nor the order: both keys' revocation
        # instants come with the row, so a revocation counts from the next scan.
        _CERTIFICATE_KEY.revoked_at.label("certificate_key_revoked_at"),
        _LABEL_KEY.revoked_at.label("label_key_revoked_at"),
        # Asked in the same round trip: is anything recalled at all (the usual answer is no,
        # and then nothing more is asked), and do events name this unit.
        select(func.count(Recall.id))
        .where(Recall.status == RecallStatus.ACTIVE)
        .scalar_subquery()
        .label("active_recalls"),
        select(func.max(Recall.id))
        .where(Recall.status == RecallStatus.ACTIVE)
        .scalar_subquery()
        .label("newest_recall"),
        exists(select(EventEpc.event_id).where(EventEpc.uri == bindparam("uri"))).label(
            "named_by_events"
        ),
        *(getattr(_FIRM, n).label(f"firm_{n}") for n in _PARTY_COLUMNS),
        *(getattr(_ISSUER, n).label(f"issuer_{n}") for n in _PARTY_COLUMNS),
    )
    .select_from(UnitCode)
    .join(Product, Product.id == UnitCode.product_id)
    .join(LabelOrder, LabelOrder.id == UnitCode.order_id)
    .join(Batch, Batch.id == LabelOrder.batch_id)
    .join(_FIRM, _FIRM.id == LabelOrder.organisation_id)
    .outerjoin(Certificate, Certificate.id == LabelOrder.certificate_id)
    .outerjoin(_ISSUER, _ISSUER.id == Certificate.issuer_id)
    .outerjoin(_CERTIFICATE_KEY, _CERTIFICATE_KEY.id == Certificate.issuer_key_id)
    # The order's ``signing_key_id`` is the key's verification method, ``<DID>#<fragment>``.
    .outerjoin(
        _LABEL_KEY,
        (_LABEL_KEY.organisation_id == LabelOrder.association_id)
        & LabelOrder.signing_key_id.endswith(literal("#") + _LABEL_KEY.fragment),
    )
    .where(Product.gtin == bindparam("gtin"), UnitCode.serial == bindparam("serial"))
)


def _unit_facts(
    session: Session, link: DigitalLink, now: datetime, connection: Connection
) -> CodeFacts | None:
    """A unit's facts from one query over the products and certificates registers (only the
    columns a verdict needs; the unit's state as the products domain defines it), or None
    for an unknown serial."""
    assert link.serial is not None
    row = prepared("unit_facts", connection, lambda: _UNIT_QUERY).first(
        connection,
        {"gtin": link.gtin, "serial": link.serial, "uri": unit_uri(link.gtin, link.serial)},
    )
    if row is None:
        return None
    certificate = _certificate_facts(session, row, now)
    state = products.unit_state(row.order_status, row.blacklisted_at)
    restriction = _restriction(
        session, row.gtin, row.lot, row.serial, (row.active_recalls, row.newest_recall)
    )
    printed_signature = _signature_param(link)
    signature_mismatch = bool(
        printed_signature and row.signature and printed_signature != row.signature
    )
    # The unit's label carries the signature issued with it (whether or not this link repeats
    # it: a link without ``sig`` names the same printed label), and the offline verifier's rule
    # (app.verify) decides whether the key that made it is still trusted. The register also
    # knows when the label was signed (its order's issue): a label signed before the
    # revocation instant is genuine, only its printed signature fails offline. Both instants
    # come with the row, so a revocation counts from the next scan.
    key_revoked = bool(
        row.signature
        and not signature_mismatch
        and label_key_revoked(row.label_key_revoked_at, now)
    )
    signed_before_revocation = key_revoked and label_issued_before_revocation(
        row.label_key_revoked_at, row.order_issued_at
    )
    return CodeFacts(
        level=Level.UNIT,
        gtin=row.gtin,
        lot=link.lot,
        serial=row.serial,
        product=ProductFacts(row.product_id, row.gtin, row.name_zh, row.name_en),
        batch=BatchFacts(
            id=row.batch_id,
            lot=row.lot,
            production_date=row.production_date,
            best_before_date=row.best_before_date,
            expiry_date=row.expiry_date,
            site=row.production_site,
        ),
        unit=UnitFacts(
            id=row.unit_id,
            serial=row.serial,
            status=state.value,
            status_reason=row.unit_reason or row.order_reason,
            restriction=restriction[0] if restriction else None,
            restriction_reason=restriction[1] if restriction else None,
            order_id=row.order_id,
            named_by_events=bool(row.named_by_events),
        ),
        firm=_party_of(row, "firm"),
        association=certificate[1] if certificate else _party_of(row, "issuer"),
        brand=_brand(session, certificate[0].standard_code if certificate else None),
        certificate=certificate[0] if certificate else None,
        lot_mismatch=row.lot if link.lot is not None and link.lot != row.lot else None,
        signature_mismatch=signature_mismatch,
        label_key_revoked=key_revoked and not signed_before_revocation,
        label_key_revoked_after_issue=signed_before_revocation,
    )


def _certificate_facts(
    session: Session, row: Any, now: datetime
) -> tuple[CertificateFacts, PartyFacts | None] | None:
    """The certificate behind a label order, as of now: a certificate changes only through
    its lifecycle, which moves ``status_changed_at``, or by the revocation of its signing key
    (which does not), so its facts are kept per both (a renewal follows the successor)."""
    if row.certificate_id is None:
        return None
    status = row.certificate_status
    key = (
        _scope(session),
        row.certificate_id,
        row.gtin,
        status,
        row.status_changed_at,
        row.certificate_key_revoked_at,
    )

    def load() -> tuple[CertificateFacts, PartyFacts | None]:
        ordered_under = session.get(Certificate, row.certificate_id)
        assert ordered_under is not None
        certificate = credentials.current_certificate(session, ordered_under)
        facts = _certificate(
            session, certificate, now, gtin=row.gtin, labels_issued_under=ordered_under
        )
        return facts, _party(certificate.issuer)

    if status is CertificateStatus.SUPERSEDED:
        return load()  # rare: the successor's state is not in the key
    return cache.STANDINGS.get_or_set(key, load)


def journey(session: Session, facts: CodeFacts) -> list[dict[str, Any]]:
    """The traceability events of the unit or batch, oldest first, as a shopper reads them:
    when, what happened, where, and any readings (empty when none): what went into it and,
    for a unit, where it travelled in its case.

    A unit that no event names yet comes from its batch, so it shares the batch's journey
    (kept for half a minute); only units named by events get their own walk."""
    if facts.product is None or facts.batch is None:
        return []
    lot = facts.batch.lot
    serial = None
    if facts.unit is not None:
        named = facts.unit.named_by_events
        if named is None:
            uri = unit_uri(facts.gtin, facts.unit.serial)
            found = session.scalar(select(EventEpc.event_id).where(EventEpc.uri == uri).limit(1))
            named = found is not None
        serial = facts.unit.serial if named else None
    key = (_scope(session), facts.gtin, lot, serial, current_locale())
    return cache.JOURNEYS.get_or_set(key, lambda: _journey_steps(session, facts.gtin, lot, serial))


def _journey_steps(
    session: Session, gtin: str, lot: str, serial: str | None
) -> list[dict[str, Any]]:
    if serial is not None:
        # A pack's journey is also where it went after packing: the shipping and receiving of
        # the case it rides in. A batch's downstream is every pack's, so a batch-level code
        # shows only where it came from.
        start = Identifier(unit_uri(gtin, serial), gtin, lot, serial)
        direction = Direction.BOTH
    else:
        start = batch_identifier(gtin, lot)
        direction = Direction.BACKWARD
    found = trace_journey(session, start, direction, known_lot=lot)
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
                "label": str(helpers["step_label"](event.get("bizStep"))),
                "place": (place.get("name_zh" if zh else "name_en") if place else None),
                "detail": ", ".join(readings) or None,
            }
        )
    return steps


def _log_entry(session: Session, record_type: str, record_id: str | int) -> dict[str, Any] | None:
    """A record's latest log entry with its inclusion proof (kept half a minute: a proof
    against a slightly older checkpoint still proves the entry)."""

    def load() -> dict[str, Any] | None:
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
            proof = tlog.inclusion_proof(session, index=entry.log_index)
            document["inclusion_proof"] = proof.as_json()
        except AppError:
            document["inclusion_proof"] = None  # appended, not yet covered by a checkpoint
        return document

    return cache.PROOFS.get_or_set((_scope(session), record_type, str(record_id)), load)


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
