"""Regional brands, their mark, co-builders and member firms.

Who may do what (the route states the organisation kind and role; these services add the
relation to the brand): the owning association's admins change a brand, its mark, logo and
co-builders and decide on memberships; a firm's admin applies, and a firm sees only its own
applications; government bodies and alliances that co-build a brand read its memberships.
Services take the session, flush and never commit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pycountry
from flask_babel import gettext, lazy_gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.models import Organisation, OrgKind, Role
from app.auth.principal import Caller
from app.auth.services import SLUG_RE
from app.brands.errors import (
    CoBuilderRefused,
    DuplicateBrand,
    InvalidBrand,
    InvalidRegistration,
    MembershipTransitionRefused,
    NotBrandOwner,
    OpenMembershipExists,
)
from app.brands.models import (
    OPEN_MEMBERSHIP_STATUSES,
    Brand,
    CoBuilder,
    CoBuilderRole,
    MarkType,
    Membership,
    MembershipStatus,
)
from app.db import utcnow
from app.errors import FieldError, InvalidInput, NotFound
from app.files.services import IMAGE_TYPES, Upload, store_upload
from app.gs1.identifiers import GS1SyntaxError
from app.gs1.uscc import validate_uscc
from app.http.pagination import PageResult, paginate
from app.i18n import local_text

LOGO_MAX_BYTES = 1024 * 1024
USCC = "uscc"
OTHER = "other"
_OTHER_REGISTRATION = re.compile(r"^[A-Z0-9-]{4,64}$")
# Which organisation kinds may hold which co-builder role.
ROLE_KINDS = {
    CoBuilderRole.SUPERVISOR: frozenset({OrgKind.GOVERNMENT}),
    CoBuilderRole.PROMOTER: frozenset({OrgKind.ALLIANCE, OrgKind.ASSOCIATION}),
}
# Whole phrases, articles included, so each language words them its own way.
ROLE_RULES = {
    CoBuilderRole.SUPERVISOR: lazy_gettext("A supervisor must be a government body"),
    CoBuilderRole.PROMOTER: lazy_gettext("A promoter must be an alliance or an association"),
}
KIND_NAMES = {
    OrgKind.ASSOCIATION: lazy_gettext("an association"),
    OrgKind.ENTERPRISE: lazy_gettext("an enterprise"),
    OrgKind.GOVERNMENT: lazy_gettext("a government body"),
    OrgKind.ALLIANCE: lazy_gettext("an alliance"),
}


# ---- reading and relations -------------------------------------------------------------


def get_brand(session: Session, slug: str) -> Brand:
    """The brand with this slug (brands are public), or NotFound."""
    brand = session.scalar(select(Brand).where(Brand.slug == slug))
    if brand is None:
        raise NotFound(f"No brand {slug!r}.", slug="brand-not-found")
    return brand


def list_brands(session: Session) -> list[Brand]:
    return list(session.scalars(select(Brand).order_by(Brand.name_en)))


def is_owner(caller: Caller | None, brand: Brand) -> bool:
    """The caller belongs to the association that owns the brand."""
    return caller is not None and caller.organisation_id == brand.owner_id


def require_owner(caller: Caller, brand: Brand, *, roles: Iterable[Role] = (Role.ADMIN,)) -> None:
    """Refuse (403 ``not-brand-owner``) unless the caller has one of ``roles`` in the owning
    association. Brands are public, so saying that this one exists leaks nothing."""
    if caller.organisation_id != brand.owner_id or caller.role not in set(roles):
        raise NotBrandOwner(
            f"Only the association that owns the brand {brand.slug!r} may do this.",
        )


def co_built_brand_ids(session: Session, caller: Caller) -> set[int]:
    """Brands the caller's organisation owns or co-builds (which lets it read their
    memberships, draft standards and audits)."""
    owned = session.scalars(select(Brand.id).where(Brand.owner_id == caller.organisation_id))
    co_built = session.scalars(
        select(CoBuilder.brand_id).where(CoBuilder.organisation_id == caller.organisation_id)
    )
    return set(owned) | set(co_built)


def can_read_internals(session: Session, caller: Caller | None, brand: Brand) -> bool:
    """Owner or co-builder: may read the brand's memberships, drafts and audits."""
    if caller is None:
        return False
    return brand.owner_id == caller.organisation_id or brand.id in co_built_brand_ids(
        session, caller
    )


# ---- brands ----------------------------------------------------------------------------


def validate_region(code: str, field: str = "/region_code") -> str:
    """An ISO 3166-2 subdivision code (``CN-AH``), checked against the ISO list."""
    value = code.strip().upper()
    if pycountry.subdivisions.get(code=value) is None:
        raise InvalidBrand(
            f"{code!r} is not an ISO 3166-2 subdivision code.",
            errors=[FieldError(field, "iso3166_2", "use a code such as CN-AH (Anhui)")],
        )
    return value


def create_brand(session: Session, caller: Caller, **fields: Any) -> Brand:
    """Create a regional brand owned by the caller's association, which becomes its first
    co-builder (role ``owner``)."""
    slug = fields.pop("slug")
    if not SLUG_RE.match(slug):
        raise InvalidBrand(
            "The slug must be lower-case letters, digits and dashes.",
            errors=[FieldError("/slug", "pattern", "1-64 of a-z, 0-9 and '-', not at the ends")],
        )
    if session.scalar(select(Brand.id).where(Brand.slug == slug)) is not None:
        raise DuplicateBrand(
            f"A brand with slug {slug!r} already exists.",
            errors=[FieldError("/slug", "unique", "already taken")],
        )
    fields["region_code"] = validate_region(fields["region_code"])
    brand = Brand(slug=slug, owner_id=caller.organisation_id, **fields)
    session.add(brand)
    session.flush()
    session.add(
        CoBuilder(
            brand_id=brand.id, organisation_id=caller.organisation_id, role=CoBuilderRole.OWNER
        )
    )
    session.flush()
    return brand


def update_brand(session: Session, caller: Caller, slug: str, changes: dict[str, Any]) -> Brand:
    """Change a brand's names, region, category or story (owner's admins)."""
    brand = get_brand(session, slug)
    require_owner(caller, brand)
    if changes.get("region_code") is not None:
        changes["region_code"] = validate_region(changes["region_code"])
    for name, value in changes.items():
        if value is not None:
            setattr(brand, name, value)
    session.flush()
    return brand


def set_trademark(
    session: Session,
    caller: Caller,
    slug: str,
    *,
    registration_number: str,
    office: str,
    nice_classes: list[int],
    mark_type: MarkType,
    registered_on: Any = None,
    expires_on: Any = None,
) -> Brand:
    """Record the brand mark's trademark registration (a collective or certification mark)."""
    brand = get_brand(session, slug)
    require_owner(caller, brand)
    errors = [
        FieldError(f"/nice_classes/{index}", "range", "Nice classes are 1 to 45")
        for index, number in enumerate(nice_classes)
        if not 1 <= number <= 45
    ]
    if len(set(nice_classes)) != len(nice_classes):
        errors.append(FieldError("/nice_classes", "unique", "list each class once"))
    if registered_on and expires_on and expires_on <= registered_on:
        errors.append(
            FieldError("/expires_on", "after_registered_on", "must be after registration")
        )
    if errors:
        raise InvalidBrand("The trademark is not valid.", errors=errors)
    brand.mark_registration_number = registration_number
    brand.mark_office = office
    brand.mark_nice_classes = sorted(nice_classes)
    brand.mark_type = mark_type
    brand.mark_registered_on = registered_on
    brand.mark_expires_on = expires_on
    session.flush()
    return brand


def set_logo(session: Session, caller: Caller, slug: str, upload: Upload | None) -> Brand:
    """Replace the brand's logo: PNG, JPEG or WebP, at most 1 MiB (never SVG)."""
    brand = get_brand(session, slug)
    require_owner(caller, brand)
    stored = store_upload(
        session,
        upload,
        allowed_types=IMAGE_TYPES,
        max_bytes=LOGO_MAX_BYTES,
        organisation_id=caller.organisation_id,
        uploaded_by_id=caller.user_id,
    )
    brand.logo_file_id = stored.id
    session.flush()
    session.refresh(brand, ["logo"])
    return brand


def add_co_builder(
    session: Session, caller: Caller, slug: str, *, organisation_slug: str, role: CoBuilderRole
) -> CoBuilder:
    """Add a supervising government body, or a co-promoting alliance or association."""
    brand = get_brand(session, slug)
    require_owner(caller, brand)
    organisation = session.scalar(
        select(Organisation).where(Organisation.slug == organisation_slug)
    )
    if organisation is None:
        raise NotFound(
            f"No organisation {organisation_slug!r}.",
            errors=[FieldError("/organisation", "exists", "unknown organisation")],
        )
    if role == CoBuilderRole.OWNER:
        raise CoBuilderRefused(
            "A brand has exactly one owner, the association that created it.",
            errors=[FieldError("/role", "owner_is_fixed", "use supervisor or promoter")],
        )
    if organisation.kind not in ROLE_KINDS[role]:
        rule = str(ROLE_RULES[role])
        raise CoBuilderRefused(
            gettext(
                "%(rule)s; %(organisation)s is %(kind)s.",
                rule=rule,
                organisation=organisation.slug,
                kind=KIND_NAMES[organisation.kind],
            ),
            errors=[FieldError("/role", "organisation_kind", rule)],
        )
    existing = session.scalar(
        select(CoBuilder).where(
            CoBuilder.brand_id == brand.id, CoBuilder.organisation_id == organisation.id
        )
    )
    if existing is not None:
        raise CoBuilderRefused(
            f"{organisation.slug} already co-builds this brand as {existing.role}.",
            slug="duplicate-co-builder",
            errors=[FieldError("/organisation", "unique", "already a co-builder")],
        )
    co_builder = CoBuilder(brand_id=brand.id, organisation_id=organisation.id, role=role)
    session.add(co_builder)
    session.flush()
    return co_builder


def remove_co_builder(session: Session, caller: Caller, slug: str, organisation_slug: str) -> None:
    """Remove a co-builder (never the owner)."""
    brand = get_brand(session, slug)
    require_owner(caller, brand)
    co_builder = session.scalar(
        select(CoBuilder)
        .join(Organisation, Organisation.id == CoBuilder.organisation_id)
        .where(CoBuilder.brand_id == brand.id, Organisation.slug == organisation_slug)
    )
    if co_builder is None:
        raise NotFound(f"{organisation_slug!r} is not a co-builder of {slug!r}.")
    if co_builder.role == CoBuilderRole.OWNER:
        raise CoBuilderRefused(
            "The owning association cannot be removed from its brand.", slug="owner-is-permanent"
        )
    session.delete(co_builder)
    session.flush()


# ---- membership ------------------------------------------------------------------------


def validate_registration(scheme: str, number: str, field: str = "/registration_number") -> str:
    """Normalise and validate a registration number under its scheme.

    ``uscc``: China's unified social credit code (GB 32100-2015), 18 characters including its
    check character; rules ``length``, ``charset``, ``registration_authority``,
    ``organization_type``, ``division_code``, ``check_character``. ``other``: 4 to 64 letters,
    digits and dashes (rule ``pattern``).
    """
    value = number.strip().upper()
    if scheme == USCC:
        try:
            return validate_uscc(value, field)
        except GS1SyntaxError as error:
            raise InvalidRegistration(
                f"The registration number is not a valid unified social credit code: "
                f"{error.message}.",
                errors=[FieldError(error.field, error.rule, error.message)],
            ) from None
    if not _OTHER_REGISTRATION.match(value):
        raise InvalidRegistration(
            "The registration number must be 4 to 64 letters, digits and dashes.",
            errors=[FieldError(field, "pattern", "4-64 of A-Z, 0-9 and '-'")],
        )
    return value


def _open_key(brand_id: int, firm_id: int) -> str:
    return f"{brand_id}:{firm_id}"


def apply_for_membership(
    session: Session,
    caller: Caller,
    slug: str,
    *,
    registration_scheme: str | None,
    registration_number: str | None,
    message: str = "",
) -> Membership:
    """A firm (enterprise) applies to join a brand.

    The registration number defaults to the one on record for the firm and is validated under
    its scheme (for the unified social credit code, including its check character). A number
    given for a firm that has none on record is recorded; one that contradicts the record is
    refused. A firm has at most one open application or membership per brand.
    """
    brand = get_brand(session, slug)
    firm = session.get(Organisation, caller.organisation_id)
    assert firm is not None
    scheme = registration_scheme or firm.registration_scheme
    number = registration_number or firm.registration_number
    if number is None:
        raise InvalidRegistration(
            "The firm has no registration number on record; give one.",
            errors=[FieldError("/registration_number", "required", "give the registration number")],
        )
    if scheme is None:
        scheme = USCC if len(number.strip()) == 18 else OTHER
    number = validate_registration(scheme, number)
    if firm.registration_number is None:
        firm.registration_number, firm.registration_scheme = number, scheme
    elif firm.registration_number.upper() != number:
        raise InvalidRegistration(
            "The registration number differs from the one on record for the firm.",
            errors=[
                FieldError(
                    "/registration_number",
                    "matches_record",
                    f"the firm is registered as {firm.registration_number}",
                )
            ],
        )
    existing = session.scalar(
        select(Membership).where(Membership.open_key == _open_key(brand.id, firm.id))
    )
    # Worded in the request's language: the firm's portal shows it as it is.
    already_open = gettext(
        "Your firm already has an open application to or membership of %(brand)s.",
        brand=local_text(brand.name_zh, brand.name_en),
    )
    if existing is not None:
        raise OpenMembershipExists(
            already_open,
            extra={"membership_id": existing.id, "membership_status": existing.status.value},
        )
    membership = Membership(
        brand_id=brand.id,
        firm_id=firm.id,
        status=MembershipStatus.APPLIED,
        open_key=_open_key(brand.id, firm.id),
        registration_scheme=scheme,
        registration_number=number,
        message=message,
        applied_by_id=caller.user_id,
    )
    try:
        # Added inside the savepoint: begin_nested() flushes what is pending first, outside
        # it, where a lost race would roll back the caller's whole transaction.
        with session.begin_nested():
            session.add(membership)
            session.flush()
    except IntegrityError:
        # A concurrent application won the race for the open key.
        raise OpenMembershipExists(already_open) from None
    return membership


def brands_open_to(session: Session, caller: Caller) -> list[Brand]:
    """The brands the caller's firm may apply to: those it has no open application to or
    membership of (a rejected or ended one may be followed by a new application)."""
    open_brand_ids = select(Membership.brand_id).where(
        Membership.firm_id == caller.organisation_id, Membership.open_key.is_not(None)
    )
    return list(
        session.scalars(
            select(Brand).where(Brand.id.not_in(open_brand_ids)).order_by(Brand.name_en)
        )
    )


def _membership_query(session: Session, caller: Caller) -> Any:
    statement = select(Membership)
    if caller.org_kind == OrgKind.ENTERPRISE:
        return statement.where(Membership.firm_id == caller.organisation_id)
    return statement.where(Membership.brand_id.in_(co_built_brand_ids(session, caller) or {0}))


def get_membership(
    session: Session, caller: Caller, membership_id: int, *, lock: bool = False
) -> Membership:
    """A membership the caller may see (its own firm's, or of a brand it owns or co-builds).

    ``lock`` takes its row lock and reads it again, so a concurrent change is waited for and
    seen (on PostgreSQL) instead of being acted on twice."""
    statement = _membership_query(session, caller).where(Membership.id == membership_id)
    if lock:
        statement = statement.with_for_update(of=Membership).execution_options(
            populate_existing=True
        )
    membership = session.scalar(statement)
    if membership is None:
        raise NotFound(
            gettext("No membership %(id)s.", id=membership_id), slug="membership-not-found"
        )
    return membership


def list_memberships(
    session: Session,
    caller: Caller,
    *,
    brand_slug: str | None,
    status: MembershipStatus | None,
    limit: int,
    cursor: str | None,
) -> PageResult[Membership]:
    """Memberships the caller may see, newest first."""
    statement = _membership_query(session, caller)
    if brand_slug is not None:
        statement = statement.join(Brand, Brand.id == Membership.brand_id).where(
            Brand.slug == brand_slug
        )
    if status is not None:
        statement = statement.where(Membership.status == status)
    return paginate(session, statement, Membership.id, limit=limit, cursor=cursor)


# action -> (statuses it may start from, resulting status, reason required)
_TRANSITIONS: dict[str, tuple[frozenset[MembershipStatus], MembershipStatus, bool]] = {
    "approve": (frozenset({MembershipStatus.APPLIED}), MembershipStatus.APPROVED, False),
    "reject": (frozenset({MembershipStatus.APPLIED}), MembershipStatus.REJECTED, True),
    # Suspending a member leaves its certificates alone: the association decides separately
    # whether to suspend them.
    "suspend": (frozenset({MembershipStatus.APPROVED}), MembershipStatus.SUSPENDED, True),
    "reinstate": (frozenset({MembershipStatus.SUSPENDED}), MembershipStatus.APPROVED, False),
    "leave": (OPEN_MEMBERSHIP_STATUSES, MembershipStatus.LEFT, False),
}


# Why a move is refused, in the language of the request (a portal page in Chinese shows it).
_REFUSALS = {
    "approve": lazy_gettext("Only an application awaiting a decision can be approved."),
    "reject": lazy_gettext("Only an application awaiting a decision can be rejected."),
    "suspend": lazy_gettext("Only a current member can be suspended."),
    "reinstate": lazy_gettext("Only a suspended member can be reinstated."),
    "leave": lazy_gettext("This membership or application has already ended."),
}


def change_membership(
    session: Session, caller: Caller, membership_id: int, action: str, reason: str | None = None
) -> Membership:
    """Move a membership through its lifecycle.

    The owning association's admins ``approve`` or ``reject`` (with a reason) an application,
    ``suspend`` (with a reason) and ``reinstate`` a member; the firm itself may ``leave`` (or
    withdraw its application). Any other move is refused with ``membership-transition-refused``.
    A firm leaves through :func:`app.firm.services.leave_brand`, which also cancels its
    certificates of the brand; this function changes the membership alone.

    The membership's row lock is taken first: of two decisions at once (an approval and a
    rejection, say) the second waits, reads the first's outcome and is refused, instead of
    both applying to the state they read.
    """
    membership = get_membership(session, caller, membership_id, lock=True)
    sources, target, needs_reason = _TRANSITIONS[action]
    if action == "leave":
        if membership.firm_id != caller.organisation_id:
            raise NotFound(
                gettext("No membership %(id)s.", id=membership_id), slug="membership-not-found"
            )
    else:
        require_owner(caller, membership.brand)
    if membership.status not in sources:
        raise MembershipTransitionRefused(
            str(_REFUSALS[action]),
            extra={"membership_status": membership.status.value},
            errors=[
                FieldError(
                    "status",
                    "transition",
                    f"{action} applies to {', '.join(sorted(sources))} memberships only",
                )
            ],
        )
    if needs_reason and not (reason and reason.strip()):
        raise InvalidInput(
            gettext("Give a reason for this decision."),
            errors=[FieldError("/reason", "required", gettext("a reason is required"))],
        )
    now = utcnow()
    membership.status = target
    membership.status_reason = reason.strip() if reason else None
    membership.status_changed_at = now
    membership.status_changed_by_id = caller.user_id
    if target == MembershipStatus.APPROVED and membership.member_since is None:
        membership.member_since = now
    if target not in OPEN_MEMBERSHIP_STATUSES:
        membership.open_key = None
    session.flush()
    return membership


def approved_membership(session: Session, brand_id: int, firm_id: int) -> Membership | None:
    """The firm's current approved membership of the brand, if any (audits require one)."""
    return session.scalar(
        select(Membership).where(
            Membership.brand_id == brand_id,
            Membership.firm_id == firm_id,
            Membership.status == MembershipStatus.APPROVED,
        )
    )


def public_members(session: Session, brand: Brand) -> list[Membership]:
    """Approved members of a brand, by name (the public member list)."""
    return list(
        session.scalars(
            select(Membership)
            .join(Organisation, Organisation.id == Membership.firm_id)
            .where(
                Membership.brand_id == brand.id,
                Membership.status == MembershipStatus.APPROVED,
            )
            .order_by(Organisation.name_en)
        )
    )


def find_firm(session: Session, slug: str) -> Organisation | None:
    return session.scalar(
        select(Organisation).where(
            Organisation.slug == slug, Organisation.kind == OrgKind.ENTERPRISE
        )
    )
