"""What a firm does across domains: leaving a brand.

Leaving ends the membership (brands), cancels the firm's certificates of the brand
(certificates) and its pending label orders on them (products). Certificates depend on brands
(issuance needs an approved membership) and products on both, so brands cannot reach them;
this service sits above all three, and the brands API's leave route and the firm portal both
call it. Services take the session, flush and never commit: the request commits once, and any
failure rolls the membership back with everything else.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.auth.principal import Caller
from app.brands import services as brands
from app.brands.models import Brand, Membership, MembershipStatus
from app.certificates import services as certificates
from app.certificates.models import Certificate
from app.products import services as products
from app.products.models import LabelOrder

# A member may hold certificates; an applicant does not. Only the firm's own leaving ends them
# (a suspension of the membership by the association is not handled here).
MEMBER_STATUSES = frozenset({MembershipStatus.APPROVED, MembershipStatus.SUSPENDED})
REASON_MAX = 500  # a certificate's status reason


@dataclass(frozen=True)
class Leaving:
    """What leaving a brand ends (before) or ended (after): the membership, the firm's live
    certificates of the brand, which are cancelled for good, and the pending label orders on
    them, which are cancelled with their labels given back to the quota."""

    membership: Membership
    certificates: list[Certificate]
    orders: list[LabelOrder]


def leaving_plan(session: Session, caller: Caller, membership_id: int) -> Leaving:
    """What leaving the membership would end, for the firm to see before it confirms."""
    membership = brands.get_membership(session, caller, membership_id)
    if membership.status not in MEMBER_STATUSES:
        return Leaving(membership, [], [])
    held = certificates.live_certificates_of(session, membership.firm_id, membership.brand_id)
    orders = products.pending_orders_on(session, caller, [c.id for c in held])
    return Leaving(membership, held, orders)


def cancellation_reason(brand: Brand, reason: str | None) -> str:
    """The certificates' public status reason: the holder left the brand, in both languages
    (shoppers read it in either), then the firm's own words if it gave any."""
    text = f"持证方退出“{brand.name_zh}”品牌 / the holder left the brand {brand.name_en}"
    if reason and reason.strip():
        text = f"{text}: {reason.strip()}"
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"


def leave_brand(
    session: Session, caller: Caller, membership_id: int, reason: str | None = None
) -> Leaving:
    """The firm leaves the brand (or withdraws its application), with an optional reason.

    Leaving a membership (approved or suspended) also cancels, in the same transaction, every
    live certificate the firm holds for that brand exactly as the holder's own cancellation
    does (revocation bit set, suspension cleared, status lists re-signed, event and
    transparency-log entry, by the caller, saying it left the brand), and its pending label
    orders on them, giving their labels back to the quota. Withdrawing an application changes
    nothing else. Who may leave and from which status is the brands domain's rule.

    Locks are taken in one order: the membership (a second leave waits, then is refused as
    the membership has been left), the certificates, then their pending orders, and only then
    what cancelling takes (issuer key, status lists, transparency log). Label order decisions
    lock the certificate before the order too (products.coverage.lock_standing), so neither
    can hold what the other waits for."""
    membership = brands.get_membership(session, caller, membership_id, lock=True)
    was_member = membership.status in MEMBER_STATUSES
    brands.change_membership(session, caller, membership_id, "leave", reason)
    if not was_member:
        return Leaving(membership, [], [])
    why = cancellation_reason(membership.brand, reason)
    held = certificates.live_certificates_of(
        session, membership.firm_id, membership.brand_id, lock=True
    )
    products.pending_orders_on(session, caller, [c.id for c in held], lock=True)
    cancelled = [
        certificates.cancel_certificate(session, caller, certificate.number, reason=why)
        for certificate in held
    ]
    orders = products.cancel_pending_orders(session, caller, [c.id for c in cancelled])
    return Leaving(membership, cancelled, orders)
