"""Registered locations and partner authorisations of firms.

Services take the session, flush and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.auth.models import Organisation, OrgKind
from app.auth.principal import Caller
from app.db import utcnow
from app.errors import FieldError, InvalidInput, NotFound
from app.gs1.identifiers import GS1SyntaxError, normalize_gtin, validate_cs82, validate_gln
from app.trace.access import product_owners
from app.trace.errors import DuplicateLocation, DuplicatePartner
from app.trace.identifiers import location_uri
from app.trace.models import Location, LocationKind, PartnerAuthorisation


def _gs1_invalid(error: GS1SyntaxError, field: str) -> InvalidInput:
    return InvalidInput(error.message, errors=[FieldError(field, error.rule, error.message)])


def register_location(
    session: Session,
    caller: Caller,
    *,
    gln: str,
    extension: str | None,
    kind: LocationKind,
    name_zh: str,
    name_en: str,
    address: str | None = None,
) -> Location:
    """Register a GLN-based location (read point or business location) for the caller's firm."""
    try:
        gln = validate_gln(gln.strip())
    except GS1SyntaxError as error:
        raise _gs1_invalid(error, "gln") from None
    if extension is not None:
        try:
            extension = validate_cs82(extension, "extension", 20)
        except GS1SyntaxError as error:
            raise _gs1_invalid(error, "extension") from None
    uri = location_uri(gln, extension)
    duplicate = session.scalar(
        select(Location.id).where(
            Location.organisation_id == caller.organisation_id, Location.uri == uri
        )
    )
    if duplicate is not None:
        raise DuplicateLocation(
            f"You registered {uri} already (location {duplicate}).",
            errors=[FieldError("gln", "unique", "already registered")],
        )
    location = Location(
        organisation_id=caller.organisation_id,
        gln=gln,
        extension=extension,
        uri=uri,
        kind=kind,
        name_zh=name_zh,
        name_en=name_en,
        address=address,
    )
    session.add(location)
    session.flush()
    return location


def list_locations(session: Session, caller: Caller) -> list[Location]:
    """A firm's own locations; observers and the association see every firm's."""
    statement = select(Location).order_by(Location.id)
    if caller.org_kind == OrgKind.ENTERPRISE:
        statement = statement.where(Location.organisation_id == caller.organisation_id)
    return list(session.scalars(statement))


def deactivate_location(session: Session, caller: Caller, location_id: int) -> Location:
    """Stop accepting a location on new events (old events keep naming it)."""
    location = session.get(Location, location_id)
    if location is None or location.organisation_id != caller.organisation_id:
        raise NotFound(f"No location {location_id}.")
    location.is_active = False
    session.flush()
    return location


def location_names(session: Session, uris: Iterable[str]) -> dict[str, Location]:
    """Registered locations by canonical URI (the first registration wins)."""
    found: dict[str, Location] = {}
    wanted = sorted(set(uris))
    if not wanted:
        return found
    for location in session.scalars(
        select(Location).where(Location.uri.in_(wanted)).order_by(Location.id)
    ):
        found.setdefault(location.uri, location)
    return found


def authorise_partner(
    session: Session,
    caller: Caller,
    *,
    partner_slug: str,
    gtins: list[str] | None,
    note: str | None,
) -> PartnerAuthorisation:
    """Let another firm (logistics, processor) record events about the caller's products:
    all of them, or only ``gtins``."""
    partner = session.scalar(select(Organisation).where(Organisation.slug == partner_slug))
    if partner is None or not partner.is_active or partner.kind != OrgKind.ENTERPRISE:
        raise InvalidInput(
            f"No active firm {partner_slug!r}.",
            errors=[FieldError("partner", "unknown_firm", "give the slug of an active firm")],
        )
    if partner.id == caller.organisation_id:
        raise InvalidInput(
            "A firm needs no authorisation for its own products.",
            errors=[FieldError("partner", "self", "choose another firm")],
        )
    normalised: list[str] | None = None
    if gtins is not None:
        by_index: list[str] = []
        for index, gtin in enumerate(gtins):
            try:
                by_index.append(normalize_gtin(gtin))
            except GS1SyntaxError as error:
                raise _gs1_invalid(error, f"gtins/{index}") from None
        owners = product_owners(session, by_index)
        foreign = [
            FieldError(f"gtins/{index}", "not-your-product", f"{gtin} is not a product of yours")
            for index, gtin in enumerate(by_index)
            if owners.get(gtin) != caller.organisation_id
        ]
        if foreign:
            raise InvalidInput(
                "Partners can only be authorised for your own registered products.",
                errors=foreign,
            )
        normalised = sorted(set(by_index))
    existing = session.scalar(
        select(PartnerAuthorisation.id).where(
            PartnerAuthorisation.organisation_id == caller.organisation_id,
            PartnerAuthorisation.partner_organisation_id == partner.id,
            PartnerAuthorisation.revoked_at.is_(None),
        )
    )
    if existing is not None:
        raise DuplicatePartner(
            f"{partner_slug} is authorised already (authorisation {existing}); revoke it to "
            "change it."
        )
    grant = PartnerAuthorisation(
        organisation_id=caller.organisation_id,
        partner_organisation_id=partner.id,
        gtins=normalised,
        note=note,
        created_by_user_id=caller.user_id,
    )
    session.add(grant)
    session.flush()
    return grant


def list_partner_authorisations(session: Session, caller: Caller) -> list[PartnerAuthorisation]:
    """Authorisations the caller's firm gave and received."""
    return list(
        session.scalars(
            select(PartnerAuthorisation)
            .where(
                or_(
                    PartnerAuthorisation.organisation_id == caller.organisation_id,
                    PartnerAuthorisation.partner_organisation_id == caller.organisation_id,
                )
            )
            .order_by(PartnerAuthorisation.id)
        )
    )


def revoke_partner_authorisation(
    session: Session, caller: Caller, authorisation_id: int
) -> PartnerAuthorisation:
    """End a partner's right to record events about the caller's products (from now on)."""
    grant = session.get(PartnerAuthorisation, authorisation_id)
    if grant is None or grant.organisation_id != caller.organisation_id:
        raise NotFound(f"No partner authorisation {authorisation_id}.")
    if grant.revoked_at is None:
        grant.revoked_at = utcnow()
        session.flush()
    return grant
