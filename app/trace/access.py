"""Who may see and record which traceability events.

* A firm records events about its own products, or about the products of a firm that authorised
  it as a partner (a logistics company, a processor); it sees the events it captured and every
  event about its products.
* The association sees the events of its members; government and alliance observers read all.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, aliased

from app.auth.models import Organisation, OrgKind
from app.auth.principal import Caller
from app.brands.models import Brand, Membership
from app.products.models import Batch, LabelOrder, Product, UnitCode
from app.trace.identifiers import Identifier
from app.trace.models import (
    EpcRole,
    Event,
    EventEpc,
    EventOrganisation,
    EventRelation,
    PartnerAuthorisation,
)


def visible_organisation_ids(session: Session, caller: Caller) -> frozenset[int] | None:
    """The organisations whose events (captured, or about their products) the caller may see;
    None means every event."""
    if caller.org_kind == OrgKind.ENTERPRISE:
        return frozenset({caller.organisation_id})
    if caller.org_kind == OrgKind.ASSOCIATION:
        return member_organisation_ids(session, caller.organisation_id)
    return None


def member_organisation_ids(session: Session, association_id: int) -> frozenset[int]:
    """The firms that are or were members of a brand the association owns, plus the
    association itself (a former member's past events stay the association's concern)."""
    members = session.scalars(
        select(Membership.firm_id)
        .join(Brand, Brand.id == Membership.brand_id)
        .where(Brand.owner_id == association_id, Membership.member_since.is_not(None))
    )
    return frozenset({association_id, *members})


def product_owners(session: Session, gtins: Iterable[str]) -> dict[str, int]:
    """GTIN-14 -> the organisation that registered the product, for registered products."""
    wanted = sorted(set(gtins))
    owners: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(Product.gtin, Product.organisation_id).where(
                Product.gtin.in_(wanted[start : start + 500])
            )
        )
        owners.update({gtin: organisation_id for gtin, organisation_id in rows})
    return owners


def registered_unit_lots(
    session: Session, units: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """(GTIN, serial) -> lot, for serialised units in the products register."""
    wanted = sorted(set(units))
    lots: dict[tuple[str, str], str] = {}
    for start in range(0, len(wanted), 200):
        chunk = wanted[start : start + 200]
        rows = session.execute(
            select(Product.gtin, UnitCode.serial, Batch.lot)
            .join(Product, Product.id == UnitCode.product_id)
            .join(LabelOrder, LabelOrder.id == UnitCode.order_id)
            .join(Batch, Batch.id == LabelOrder.batch_id)
            .where(tuple_(Product.gtin, UnitCode.serial).in_(chunk))
        )
        lots.update({(gtin, serial): lot for gtin, serial, lot in rows})
    return lots


#: How deep containers nest (units in cases on pallets in containers...) as far as
#: authorisation follows them.
MAX_NESTING = 8


def container_contents(
    session: Session, uris: Iterable[str]
) -> dict[str, set[tuple[int, str | None]]]:
    """Container URI -> (owner, GTIN) of the products ever packed into it, through nested
    containers (cases on a pallet), by stored AggregationEvents naming it as parent. A GTIN of
    None stands for an owner the packing was attributed to without a product of it known."""
    direct: dict[str, set[tuple[int, str | None]]] = {}
    nested: dict[str, set[str]] = {}
    frontier = set(uris)
    for _ in range(MAX_NESTING):
        frontier -= direct.keys()
        if not frontier:
            break
        for uri in frontier:
            direct[uri] = set()
            nested[uri] = set()
        wanted = sorted(frontier)
        frontier = set()
        for start in range(0, len(wanted), 500):
            # The stored packings (not unpackings) of these containers.
            packed_into = (
                EventEpc.uri.in_(wanted[start : start + 500]),
                EventEpc.role == EpcRole.PARENT,
                Event.event_type == "AggregationEvent",
                Event.action != "DELETE",
            )
            for uri, organisation_id in session.execute(
                select(EventEpc.uri, EventOrganisation.organisation_id)
                .join(Event, Event.id == EventEpc.event_id)
                .join(EventOrganisation, EventOrganisation.event_id == EventEpc.event_id)
                .where(*packed_into, EventOrganisation.relation == EventRelation.OWNER)
                .distinct()
            ):
                direct[uri].add((organisation_id, None))
            child = aliased(EventEpc)
            for uri, child_uri, gtin, owner_id in session.execute(
                select(EventEpc.uri, child.uri, child.gtin, child.owner_organisation_id)
                .join(Event, Event.id == EventEpc.event_id)
                .join(child, child.event_id == EventEpc.event_id)
                .where(*packed_into, child.role.in_((EpcRole.CHILD, EpcRole.CHILD_QUANTITY)))
                .distinct()
            ):
                if gtin is not None and owner_id is not None:
                    direct[uri].add((owner_id, gtin))
                elif gtin is None:
                    nested[uri].add(child_uri)
                    frontier.add(child_uri)

    def resolve(uri: str, path: frozenset[str]) -> set[tuple[int, str | None]]:
        found = set(direct.get(uri, ()))
        for inner in nested.get(uri, ()):
            if inner not in path:
                found |= resolve(inner, path | {inner})
        return found

    return {uri: resolve(uri, frozenset({uri})) for uri in set(uris)}


def known_unit_lot(session: Session, unit: Identifier) -> str | None:
    """The lot of a serialised unit from the products register, when the identifier given
    does not carry it (an SGTIN URN)."""
    if unit.lot is not None or not unit.is_unit:
        return unit.lot
    assert unit.gtin is not None and unit.serial is not None
    return registered_unit_lots(session, [(unit.gtin, unit.serial)]).get((unit.gtin, unit.serial))


def partner_grants(session: Session, partner_id: int) -> dict[int, frozenset[str] | None]:
    """The firms that authorised ``partner_id`` to capture about their products, each with the
    GTINs it may capture about (None: every product of that firm)."""
    grants: dict[int, frozenset[str] | None] = {}
    rows = session.execute(
        select(PartnerAuthorisation.organisation_id, PartnerAuthorisation.gtins)
        .join(Organisation, Organisation.id == PartnerAuthorisation.organisation_id)
        .where(
            PartnerAuthorisation.partner_organisation_id == partner_id,
            PartnerAuthorisation.revoked_at.is_(None),
            Organisation.is_active.is_(True),
        )
    )
    for organisation_id, gtins in rows:
        if gtins is None or grants.get(organisation_id, frozenset()) is None:
            grants[organisation_id] = None
        else:
            grants[organisation_id] = frozenset(gtins) | (grants.get(organisation_id) or set())
    return grants
