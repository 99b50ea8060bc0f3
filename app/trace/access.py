"""Who may see and record which traceability events.

* A firm records events about its own products, or about the products of a firm that authorised
  it as a partner (a logistics company, a processor); it sees the events it captured and every
  event about its products.
* The association sees the events of its members; government and alliance observers read all.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Organisation, OrgKind
from app.auth.principal import Caller
from app.trace.identifiers import Identifier
from app.trace.models import PartnerAuthorisation


def visible_organisation_ids(session: Session, caller: Caller) -> frozenset[int] | None:
    """The organisations whose events (captured, or about their products) the caller may see;
    None means every event."""
    if caller.org_kind == OrgKind.ENTERPRISE:
        return frozenset({caller.organisation_id})
    if caller.org_kind == OrgKind.ASSOCIATION:
        return member_organisation_ids(session, caller.organisation_id)
    return None


def member_organisation_ids(session: Session, association_id: int) -> frozenset[int] | None:
    """The member firms of an association, plus the association itself.

    Membership of a brand is issue 3's model, which is not on this branch: until it is, one
    deployment serves one association (see the README), whose members are every firm.
    """
    # TODO(issue 3): restrict to the association's brand members once membership exists.
    _ = association_id
    return None


def product_owners(session: Session, gtins: Iterable[str]) -> dict[str, int]:
    """GTIN-14 -> the organisation that registered the product, for registered products."""
    # TODO(issue 5): look products up once the products model is merged.
    _ = (session, gtins)
    return {}


def known_unit_lot(session: Session, unit: Identifier) -> str | None:
    """The lot of a serialised unit from the products register, when the identifier given
    does not carry it (an SGTIN URN)."""
    if unit.lot is not None or not unit.is_unit:
        return unit.lot
    # TODO(issue 5): look the unit up in the products register once it is merged.
    _ = session
    return None


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
