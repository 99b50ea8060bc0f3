"""Which certificate lets a firm put the brand mark on a GTIN, and its label quota.

The certificates themselves belong to the certificates domain (issue 4); this module is the
one place where the products domain reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Coverage:
    """The certificate in force that covers a firm's GTIN, as label orders need it."""

    certificate_id: int
    certificate_number: str
    association_id: int  # the certifying association, which approves label orders
    label_quota: int
    auto_approve: bool  # the brand lets orders within quota skip the association's approval


def find_coverage(session: Session, organisation_id: int, gtin: str) -> Coverage | None:
    """The certificate in force held by ``organisation_id`` whose scope includes ``gtin``."""
    # TODO(issue 4): read the certificate in force from app.certificates once branch `keys`
    # provides it; until then no GTIN is covered and label orders are refused.
    return None


def lock_certificate(session: Session, certificate_id: int) -> None:
    """Serialise label orders against one certificate's quota (row lock until commit)."""
