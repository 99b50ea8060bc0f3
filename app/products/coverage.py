"""Which certificate lets a firm put the brand mark on a GTIN, its label quota, the brand's
label policy, and the association's key for offline-verifiable labels.

The certificates belong to the certificates domain; this module is the one place where the
products domain reads them (through that domain's services, never its tables directly).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Organisation
from app.certificates import credentials, keys
from app.certificates.compact import sign_compact
from app.certificates.errors import CertificateNotInForce, LabelQuotaExceeded
from app.errors import FieldError
from app.products.errors import NotCovered, QuotaExceeded
from app.products.models import LabelPolicy

if TYPE_CHECKING:
    from app.certificates.models import Certificate


@dataclass(frozen=True)
class Coverage:
    """The certificate in force that covers a firm's GTIN, as label orders need it."""

    certificate_id: int
    certificate_number: str
    association_id: int  # the certifying association, which approves label orders
    label_quota: int
    labels_issued: int
    brand_id: int


def find_coverage(session: Session, organisation_id: int, gtin: str) -> Coverage | None:
    """The certificate in force held by ``organisation_id`` whose scope includes ``gtin``."""
    certificate = credentials.certificate_in_force_for(session, organisation_id, gtin)
    if certificate is None:
        return None
    return Coverage(
        certificate_id=certificate.id,
        certificate_number=certificate.number,
        association_id=certificate.issuer_id,
        label_quota=certificate.label_quota,
        labels_issued=certificate.labels_issued,
        brand_id=certificate.brand_id,
    )


def not_covered(gtin: str) -> NotCovered:
    return NotCovered(
        f"No certificate in force covers GTIN {gtin}: its products may not bear the brand "
        "mark, and no labels can be ordered for it.",
        errors=[FieldError("gtin", "not_covered", "no certificate in force covers this GTIN")],
    )


def reserve(session: Session, cover: Coverage, gtin: str, quantity: int) -> None:
    """Count ``quantity`` labels against the certificate's quota, under its row lock, so
    concurrent orders can never overrun it."""
    try:
        credentials.reserve_label_quota(session, cover.certificate_id, quantity)
    except LabelQuotaExceeded as error:
        left = int(error.extra.get("remaining", 0))
        raise QuotaExceeded(
            f"Certificate {cover.certificate_number} has {left} of its {cover.label_quota} "
            f"labels left; {quantity} were ordered.",
            errors=[FieldError("/quantity", "label_quota", f"at most {left} labels are left")],
            extra={"labels_left": left, "label_quota": cover.label_quota},
        ) from None
    except CertificateNotInForce:
        raise not_covered(gtin) from None


def require_in_force(
    session: Session, certificate_id: int, gtin: str, *, to_activate: bool = False
) -> None:
    """Before a pending order's codes are made, or (``to_activate``) an issued order's codes
    are put into use: the certificate it counts against must still be in force (or have been
    renewed into one that is, which its labels then stand for) and still name the order's
    GTIN. Suspended, withdrawn, cancelled (the firm left the brand, say), lapsed, or re-issued
    with a scope without the product since the order: its codes would only scan as not
    valid."""
    certificate, standing = current_standing(session, certificate_id)
    if standing.in_force and gtin in certificate.scope_gtins:
        return
    if standing.in_force:
        problem = f"no longer covers GTIN {gtin} (a re-issue narrowed its scope)"
        reason = SCOPE_EXCLUDES
    else:
        problem = f"is no longer in force ({standing.reason})"
        reason = str(standing.reason)
    consequence = (
        "its labels cannot be activated."
        if to_activate
        else "no labels can be issued under it. Reject the order to give its labels back to "
        "the quota."
    )
    raise CertificateNotInForce(
        f"Certificate {certificate.number}, which this order counts against, {problem}: "
        f"{consequence}",
        extra={"certificate_number": certificate.number, "reason": reason},
    )


#: ``CertificateNotInForce.extra["reason"]`` when the certificate is in force but its scope
#: no longer names the order's product.
SCOPE_EXCLUDES = "scope_excludes"


def stands_for_gtin(certificate: Certificate, standing: credentials.Standing, gtin: str) -> bool:
    """Whether labels of ``gtin`` standing for ``certificate`` may be put into use."""
    return standing.in_force and gtin in certificate.scope_gtins


def current_standing(
    session: Session, certificate_id: int
) -> tuple[Certificate, credentials.Standing]:
    """The certificate an order's labels stand for now (the one it counts against, or the
    one renewed or re-issued from it) and that certificate's standing."""
    certificate = _standing_for(session, certificate_id)
    return certificate, credentials.standing(session, certificate)


def lock_standing(session: Session, certificate_id: int, *, signer_id: int | None = None) -> None:
    """Before a decision locks a pending order: lock the certificate its labels stand for
    (the one it counts against, or the one renewed or re-issued from it); with ``signer_id``
    (the decision will sign labels with that association's key) its signing lock before it.

    The lock order is issuer key, certificate, label order: leaving a brand locks the firm's
    live certificates (after their issuers' keys) and then their pending orders
    (app.firm.services), and lifecycle changes lock the issuer key before the certificate. A
    decision taking the order or the certificate first would wait while holding what the other
    waits for, a deadlock on PostgreSQL. A renewal committed while waiting moves the lock on to
    the successor."""
    if signer_id is not None:
        lock_signer(session, signer_id)
    certificate = _standing_for(session, certificate_id)
    while True:
        credentials.lock_certificate(session, certificate)
        successor = credentials.current_certificate(session, certificate)
        if successor is certificate:
            return
        certificate = successor


def lock_signer(session: Session, association_id: int) -> None:
    """Take the association's signing lock (its active key row), as a decision that will sign
    labels does before it locks a certificate (the order of :func:`lock_standing`)."""
    keys.lock_issuer_id(session, association_id)


def stands_for(session: Session, certificate_id: int) -> int:
    """The certificate an order's labels stand for now: the one it counts against, or the one
    that was renewed or re-issued from it."""
    return _standing_for(session, certificate_id).id


def _standing_for(session: Session, certificate_id: int) -> Certificate:
    return credentials.current_certificate(
        session, credentials.get_certificate_by_id(session, certificate_id)
    )


def release(session: Session, certificate_id: int, quantity: int) -> None:
    """Give ``quantity`` labels back to the certificate's quota (order refused or withdrawn)."""
    credentials.release_label_quota(session, certificate_id, quantity)


def auto_approves(session: Session, cover: Coverage, quantity: int) -> bool:
    """Whether the brand's label policy approves this order without the association."""
    policy = session.scalar(select(LabelPolicy).where(LabelPolicy.brand_id == cover.brand_id))
    if policy is None or not policy.auto_approve:
        return False
    return policy.auto_approve_max is None or quantity <= policy.auto_approve_max


@dataclass(frozen=True)
class LabelSigner:
    """Signs serials of one GTIN and lot with the association's active key."""

    key_id: str
    sign: Callable[[str], str]


def label_signer(session: Session, association_id: int, gtin: str, lot: str) -> LabelSigner:
    """Open the association's active issuer key and bind GTIN, lot and key id: the returned
    function signs one serial (format ``brandtrace-label-v1``)."""
    association = session.get(Organisation, association_id)
    assert association is not None
    key = keys.signing_key(session, association)
    private_key, key_id = key.private_key, key.verification_method

    def sign(serial: str) -> str:
        return sign_compact(private_key, gtin=gtin, lot=lot, serial=serial, key_id=key_id)

    return LabelSigner(key_id=key_id, sign=sign)
