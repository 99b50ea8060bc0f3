"""Holds and recalls of batches, and what they reach.

A firm puts its own batch on hold or recalls it; the association may do so for any member's
batch. What a recall affects is computed from the events when asked: every unit of the batch,
and everything made from it (transformations) or packed with it (aggregations) downstream, so
events recorded after the recall are covered too.

:func:`recall_notice` is the question the consumer resolver asks for a scanned unit: is this
unit, or anything that went into it, on hold or recalled?
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.orm import Session

from app.auth.models import OrgKind
from app.auth.principal import Caller
from app.db import utcnow
from app.errors import FieldError, Forbidden, NotFound
from app.gs1.epc import sgtin_to_digital_link
from app.gs1.identifiers import GS1SyntaxError, normalize_gtin
from app.http.pagination import PageResult, paginate
from app.products.models import Batch, LabelOrder, Product, UnitCode
from app.trace.access import known_unit_lot, member_organisation_ids
from app.trace.errors import RecallConflict
from app.trace.identifiers import Identifier, batch_identifier, identify
from app.trace.journeys import Direction, Journey, trace_journey
from app.trace.models import Recall, RecallKind, RecallStatus

# Upper bound of the events one "what does this recall reach" question walks through.
MAX_AFFECTED_EVENTS: Final = 20_000


@dataclass(frozen=True)
class RecallNotice:
    """An active hold or recall that affects a unit or batch."""

    recall_id: int
    kind: RecallKind
    gtin: str
    lot: str
    reason: str
    placed_at: datetime
    placed_by: str
    # True when the recalled batch is the item's own batch (or the item itself), False when
    # it went into the item upstream (an ingredient, a raw material).
    is_own_batch: bool


@dataclass(frozen=True)
class AffectedBatch:
    gtin: str
    lot: str
    uri: str
    registered_units: int


@dataclass(frozen=True)
class Affected:
    """What a hold or recall reaches downstream."""

    batches: list[AffectedBatch]
    units: list[str]
    containers: list[str]
    registered_units: int
    truncated: bool


# ---------------------------------------------------------------------------------------------
# Placing and lifting
# ---------------------------------------------------------------------------------------------


def _may_act_for(session: Session, caller: Caller, owner_id: int) -> bool:
    if caller.org_kind == OrgKind.ENTERPRISE:
        return caller.organisation_id == owner_id
    if caller.org_kind == OrgKind.ASSOCIATION:
        return owner_id in member_organisation_ids(session, caller.organisation_id)
    return False


def _may_see(session: Session, caller: Caller, recall: Recall) -> bool:
    if caller.org_kind == OrgKind.ENTERPRISE:
        return caller.organisation_id in (
            recall.owner_organisation_id,
            recall.placed_by_organisation_id,
        )
    return caller.org_kind != OrgKind.ASSOCIATION or _may_act_for(
        session, caller, recall.owner_organisation_id
    )


def place_recall(
    session: Session, caller: Caller, *, batch_id: int, kind: RecallKind, reason: str
) -> Recall:
    """Put a batch on hold or recall it, with a reason. A firm acts on its own batches, the
    association on its members'; one active hold and one active recall per batch."""
    batch = session.get(Batch, batch_id)
    if batch is None or not _may_act_for(session, caller, batch.product.organisation_id):
        raise NotFound(f"No batch {batch_id} that you may recall.")
    active = session.scalar(
        select(Recall.id).where(
            Recall.batch_id == batch.id,
            Recall.kind == kind,
            Recall.status == RecallStatus.ACTIVE,
        )
    )
    if active is not None:
        raise RecallConflict(
            f"Batch {batch.lot} of {batch.product.gtin} has an active {kind.value} already "
            f"({active}).",
            errors=[FieldError("batch_id", "active_recall", f"{kind.value} {active} is active")],
        )
    recall = Recall(
        batch_id=batch.id,
        gtin=batch.product.gtin,
        lot=batch.lot,
        owner_organisation_id=batch.product.organisation_id,
        kind=kind,
        status=RecallStatus.ACTIVE,
        reason=reason,
        placed_by_organisation_id=caller.organisation_id,
        placed_by_user_id=caller.user_id,
    )
    session.add(recall)
    session.flush()
    return recall


def get_recall(session: Session, caller: Caller, recall_id: int) -> Recall:
    recall = session.get(Recall, recall_id)
    if recall is None or not _may_see(session, caller, recall):
        raise NotFound(f"No recall {recall_id}.")
    return recall


def lift_recall(session: Session, caller: Caller, recall_id: int, *, reason: str) -> Recall:
    """End a hold or recall. Who placed it lifts it (the association may lift any of its
    members'); a firm cannot lift what the association placed."""
    recall = get_recall(session, caller, recall_id)
    placed_by_association = recall.placed_by_organisation_id != recall.owner_organisation_id
    if caller.org_kind == OrgKind.ENTERPRISE and placed_by_association:
        raise Forbidden(
            "The association placed this; only the association can lift it.",
            slug="recall-placed-by-association",
        )
    if not _may_act_for(session, caller, recall.owner_organisation_id):
        raise NotFound(f"No recall {recall_id}.")
    if recall.status == RecallStatus.LIFTED:
        raise RecallConflict(f"Recall {recall_id} was lifted already.")
    recall.status = RecallStatus.LIFTED
    recall.lifted_at = utcnow()
    recall.lifted_by_user_id = caller.user_id
    recall.lift_reason = reason
    session.flush()
    return recall


def list_recalls(
    session: Session,
    caller: Caller,
    *,
    status: RecallStatus | None,
    limit: int,
    cursor: str | None,
) -> PageResult[Recall]:
    """Holds and recalls the caller may see, newest first: a firm its own batches' and those it
    placed; the association its members'; observers all."""
    statement = select(Recall)
    if status is not None:
        statement = statement.where(Recall.status == status)
    if caller.org_kind == OrgKind.ENTERPRISE:
        statement = statement.where(
            or_(
                Recall.owner_organisation_id == caller.organisation_id,
                Recall.placed_by_organisation_id == caller.organisation_id,
            )
        )
    elif caller.org_kind == OrgKind.ASSOCIATION:
        members = member_organisation_ids(session, caller.organisation_id)
        statement = statement.where(Recall.owner_organisation_id.in_(sorted(members)))
    return paginate(session, statement, Recall.id, limit=limit, cursor=cursor)


# ---------------------------------------------------------------------------------------------
# What a recall reaches, and whether a unit is affected
# ---------------------------------------------------------------------------------------------


def _registered_units(
    session: Session, batches: set[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """Serialised units in the products register per (GTIN, lot)."""
    counts: dict[tuple[str, str], int] = {}
    wanted = sorted(batches)
    for start in range(0, len(wanted), 200):
        rows = session.execute(
            select(Product.gtin, Batch.lot, func.count(UnitCode.id))
            .select_from(LabelOrder)
            .join(Batch, Batch.id == LabelOrder.batch_id)
            .join(Product, Product.id == Batch.product_id)
            .join(UnitCode, UnitCode.order_id == LabelOrder.id)
            .where(tuple_(Product.gtin, Batch.lot).in_(wanted[start : start + 200]))
            .group_by(Product.gtin, Batch.lot)
        )
        counts.update({(gtin, lot): count for gtin, lot, count in rows})
    return counts


def affected_by(session: Session, recall: Recall) -> Affected:
    """Every batch, unit and container downstream of the recalled batch."""
    journey = trace_journey(
        session,
        batch_identifier(recall.gtin, recall.lot),
        Direction.FORWARD,
        max_events=MAX_AFFECTED_EVENTS,
    )
    batches = set(journey.batches) | {(recall.gtin, recall.lot)}
    units: list[str] = []
    containers: list[str] = []
    for uri in journey.identifiers:
        try:
            identifier = identify(uri)
        except GS1SyntaxError:  # pragma: no cover - stored identifiers are canonical
            continue
        if identifier.is_unit:
            units.append(uri)
        elif identifier.gtin is None:
            containers.append(uri)
    counts = _registered_units(session, batches)
    return Affected(
        batches=[
            AffectedBatch(gtin, lot, batch_identifier(gtin, lot).uri, counts.get((gtin, lot), 0))
            for gtin, lot in sorted(batches)
        ],
        units=sorted(units),
        containers=sorted(containers),
        registered_units=sum(counts.values()),
        truncated=journey.truncated,
    )


def _notices(
    session: Session, batches: set[tuple[str, str]], own: tuple[str, str] | None
) -> list[RecallNotice]:
    if not batches:
        return []
    rows = session.scalars(
        select(Recall)
        .where(
            Recall.status == RecallStatus.ACTIVE,
            tuple_(Recall.gtin, Recall.lot).in_(sorted(batches)),
        )
        .order_by(Recall.id)
    )
    notices = [
        RecallNotice(
            recall_id=recall.id,
            kind=recall.kind,
            gtin=recall.gtin,
            lot=recall.lot,
            reason=recall.reason,
            placed_at=recall.created_at,
            placed_by=recall.placed_by.slug,
            is_own_batch=(recall.gtin, recall.lot) == own,
        )
        for recall in rows
    ]
    # Recalls before holds; the item's own batch first.
    return sorted(notices, key=lambda n: (n.kind != RecallKind.RECALL, not n.is_own_batch))


def journey_notices(session: Session, journey: Journey) -> list[RecallNotice]:
    """Active holds and recalls on the start of a journey or on any batch upstream of it."""
    start = journey.start
    own = (start.gtin, start.lot) if start.gtin and start.lot else None
    upstream = set(journey.batches) if journey.direction != Direction.FORWARD else set()
    return _notices(session, upstream | ({own} if own else set()), own)


def recall_notices(
    session: Session, gtin: str, lot: str | None = None, serial: str | None = None
) -> list[RecallNotice]:
    """Active holds and recalls affecting a unit (GTIN + serial, lot optional) or a batch
    (GTIN + lot): on its own batch, or on any batch that went into it upstream."""
    if (
        session.scalar(select(Recall.id).where(Recall.status == RecallStatus.ACTIVE).limit(1))
        is None
    ):
        return []  # the usual case: nothing to trace
    gtin = normalize_gtin(gtin)
    start: Identifier
    if serial is not None:
        unit = identify(sgtin_to_digital_link(gtin, serial))
        start = Identifier(unit.uri, gtin, lot or known_unit_lot(session, unit), unit.serial)
    elif lot is not None:
        start = batch_identifier(gtin, lot)
    else:
        raise ValueError("give a lot or a serial")
    journey = trace_journey(session, start, Direction.BACKWARD, known_lot=start.lot)
    return journey_notices(session, journey)


def is_recalled(
    session: Session, gtin: str, lot: str | None = None, serial: str | None = None
) -> RecallNotice | None:
    """The most serious active hold or recall affecting a unit or batch (a recall before a
    hold), or None. For the consumer resolver: a recalled product is NOT_VALID."""
    notices = recall_notices(session, gtin, lot, serial)
    return notices[0] if notices else None
