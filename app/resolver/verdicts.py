"""What a shopper is told: the verdict on a scanned code, decided from plain facts.

Pure module (no Flask, no database): ``sources`` gathers :class:`CodeFacts` from the other
domains, ``services`` adds the anomalies of the scan, and :func:`decide` applies the rules in
their fixed order (DOMAIN.md section 7):

1. NOT_FOUND: the GTIN, batch or serial is unknown (a possible fake: invite a report);
2. BLOCKED: the code is blacklisted (lost or stolen labels);
3. NOT_ACTIVATED: the code was issued but never activated (a leaked label);
4. NOT_VALID: the label is ours but the certification is not in force (suspended, withdrawn,
   cancelled by its holder, expired, surveillance overdue, or re-issued with a scope that no
   longer names the product) or the product or batch is recalled or on hold;
5. GENUINE_WITH_WARNING: genuine, but anomalies call for care (cloned-label patterns, a label
   whose printed data disagrees with the batch, a code that identifies no single pack);
6. GENUINE.

Every verdict carries machine-readable reasons (stable codes with parameters); the words for
people are chosen by the view in the shopper's language.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from typing import Any


class Verdict(enum.StrEnum):
    NOT_FOUND = "NOT_FOUND"
    BLOCKED = "BLOCKED"
    NOT_ACTIVATED = "NOT_ACTIVATED"
    NOT_VALID = "NOT_VALID"
    GENUINE_WITH_WARNING = "GENUINE_WITH_WARNING"
    GENUINE = "GENUINE"

    @property
    def is_genuine(self) -> bool:
        return self in (Verdict.GENUINE, Verdict.GENUINE_WITH_WARNING)


class Level(enum.StrEnum):
    """What a Digital Link identifies: a product (GTIN), a batch (GTIN + lot) or one pack."""

    PRODUCT = "product"
    BATCH = "batch"
    UNIT = "unit"


# Certificate statuses (as the certificates domain spells them) that mean "in force" when the
# dates also agree; every other status makes the verdict NOT_VALID.
IN_FORCE_STATUSES = frozenset({"active", "issued", "in_force", "valid", "reinstated"})
# Unit code states (products domain).
UNIT_ACTIVE = "active"
UNIT_INACTIVE = "inactive"
UNIT_BLACKLISTED = "blacklisted"
# Batch states that keep a product off the shelves (traceability recalls and holds).
RECALLED = "recalled"
ON_HOLD = "on_hold"


def _frozen(values: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True)
class Reason:
    """Why a verdict was reached: a stable ``code`` and the values that explain it."""

    code: str
    params: Mapping[str, Any] = field(default_factory=_frozen)

    @classmethod
    def of(cls, code: str, **params: Any) -> Reason:
        return cls(code, _frozen({k: v for k, v in params.items() if v is not None}))


@dataclass(frozen=True)
class CertificateFacts:
    """The certificate covering the product, as the certificates domain reports it."""

    number: str
    status: str
    valid_from: date | None = None
    valid_until: date | None = None
    next_surveillance_due: date | None = None
    standard_code: str | None = None
    standard_version: str | None = None
    url: str | None = None
    status_reason: str | None = None
    id: int | None = None
    holder_name: str | None = None
    #: as the certificates domain judges it (its surveillance schedule)
    surveillance_overdue: bool = False
    #: the latest surveillance audit was refused
    surveillance_refused: bool = False
    #: signed by an issuer key revoked from an instant at or before the signature: no
    #: verifier trusts it any more, the association must re-issue it
    key_revoked: bool = False
    #: its scope names the scanned product (a re-issue that narrowed the scope may leave a
    #: pack labelled under its predecessor uncovered)
    covers_product: bool = True
    extra: Mapping[str, Any] = field(default_factory=_frozen)


@dataclass(frozen=True)
class ProductFacts:
    id: int
    gtin: str
    name_zh: str
    name_en: str
    url: str | None = None
    image_url: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class BatchFacts:
    id: int
    lot: str
    production_date: date | None = None
    best_before_date: date | None = None
    expiry_date: date | None = None
    site: str | None = None
    #: "recalled", "on_hold" or None (from traceability recalls and holds)
    restriction: str | None = None
    restriction_reason: str | None = None


@dataclass(frozen=True)
class UnitFacts:
    id: int
    serial: str
    status: str
    status_reason: str | None = None
    order_id: int | None = None
    #: whether traceability events name this very unit (None: not asked)
    named_by_events: bool | None = None
    #: when the unit is downstream of a recalled or held batch (traceability), which and why
    restriction: str | None = None
    restriction_reason: str | None = None


@dataclass(frozen=True)
class PartyFacts:
    """An organisation or a brand as shown to shoppers."""

    id: int
    slug: str
    name_zh: str
    name_en: str
    url: str | None = None
    registration_number: str | None = None
    extra: Mapping[str, Any] = field(default_factory=_frozen)


@dataclass(frozen=True)
class CodeFacts:
    """Everything the other domains know about a scanned code (None where they know nothing).

    ``product`` None means the GTIN is unknown; for a batch or unit link, ``batch`` / ``unit``
    None means that part is unknown. ``lot_mismatch`` is the unit's real lot when the link
    names a serial that exists under another lot (a re-printed or cloned label).
    """

    level: Level
    gtin: str
    lot: str | None = None
    serial: str | None = None
    product: ProductFacts | None = None
    batch: BatchFacts | None = None
    unit: UnitFacts | None = None
    firm: PartyFacts | None = None
    association: PartyFacts | None = None
    brand: PartyFacts | None = None
    certificate: CertificateFacts | None = None
    lot_mismatch: str | None = None
    #: the link carries a label signature that is not the one issued with this serial
    signature_mismatch: bool = False
    #: the unit's label was signed by a key the association has revoked, at or after the
    #: revocation instant by the register's record (the offline verifier refuses every label
    #: of a revoked key), whether or not the link repeats the signature
    label_key_revoked: bool = False
    #: the unit's label was signed before the revocation instant of its key (per the register):
    #: the pack is genuine, but the printed signature no longer checks offline
    label_key_revoked_after_issue: bool = False

    @property
    def unit_key(self) -> str | None:
        """The key scans of one pack are counted under (serials are unique per GTIN)."""
        if self.unit is None:
            return None
        return f"01/{self.gtin}/21/{self.unit.serial}"


def names_copied_serial(facts: CodeFacts) -> bool:
    """Whether the link names a real serial but with another lot or signature than the one
    issued with it: a copied serial on a label printed by someone else."""
    return facts.unit is not None and (facts.lot_mismatch is not None or facts.signature_mismatch)


def shopper_facts(facts: CodeFacts) -> CodeFacts:
    """What a scan of ``facts`` may show and count against.

    A label that copies a real serial is not that pack: it is answered like an unknown serial,
    without the genuine pack's batch (whose lot a counterfeiter would print next), history,
    log entries or scan count, and its scans are not added to the genuine pack's tally.
    """
    if not names_copied_serial(facts):
        return facts
    return replace(facts, batch=None, unit=None)


@dataclass(frozen=True)
class Decision:
    """A verdict and its reasons, most important first."""

    verdict: Verdict
    reasons: tuple[Reason, ...] = ()

    @property
    def reason_codes(self) -> list[str]:
        return [reason.code for reason in self.reasons]


def certificate_problems(certificate: CertificateFacts | None, today: date) -> list[Reason]:
    """Why a certificate is not in force today (empty when it is).

    In force = status active AND today within validity AND surveillance not overdue.
    """
    if certificate is None:
        return [Reason.of("no_certificate")]
    problems: list[Reason] = []
    if not certificate.covers_product:
        problems.append(Reason.of("certificate_scope_excludes", number=certificate.number))
    status = certificate.status.lower()
    if status not in IN_FORCE_STATUSES:
        code = {
            "suspended": "certificate_suspended",
            "withdrawn": "certificate_withdrawn",
            "revoked": "certificate_withdrawn",
            "expired": "certificate_expired",
            "cancelled": "certificate_cancelled",
            "superseded": "certificate_superseded",
        }.get(status, "certificate_not_in_force")
        problems.append(
            Reason.of(
                code,
                number=certificate.number,
                status=status,
                reason=certificate.status_reason,
            )
        )
    if certificate.key_revoked:
        problems.append(Reason.of("certificate_key_revoked", number=certificate.number))
    if (
        certificate.valid_until is not None
        and today > certificate.valid_until
        and not any(reason.code == "certificate_expired" for reason in problems)
    ):
        problems.append(
            Reason.of(
                "certificate_expired",
                number=certificate.number,
                valid_until=certificate.valid_until.isoformat(),
            )
        )
    if certificate.valid_from is not None and today < certificate.valid_from:
        problems.append(
            Reason.of(
                "certificate_not_yet_valid",
                number=certificate.number,
                valid_from=certificate.valid_from.isoformat(),
            )
        )
    overdue = certificate.surveillance_overdue or (
        certificate.next_surveillance_due is not None and today > certificate.next_surveillance_due
    )
    if certificate.surveillance_refused and not problems:
        problems.append(Reason.of("surveillance_refused", number=certificate.number))
    if overdue and not problems:
        problems.append(
            Reason.of(
                "surveillance_overdue",
                number=certificate.number,
                due=certificate.next_surveillance_due.isoformat()
                if certificate.next_surveillance_due
                else None,
            )
        )
    return problems


def _restrictions(facts: CodeFacts) -> list[Reason]:
    reasons: list[Reason] = []
    seen: set[str] = set()
    for holder, restriction, why in (
        (
            "batch",
            facts.batch and facts.batch.restriction,
            facts.batch and facts.batch.restriction_reason,
        ),
        (
            "unit",
            facts.unit and facts.unit.restriction,
            facts.unit and facts.unit.restriction_reason,
        ),
    ):
        if not restriction:
            continue
        code = "product_recalled" if restriction == RECALLED else "product_on_hold"
        if code in seen:
            continue
        seen.add(code)
        reasons.append(Reason.of(code, scope=holder, reason=why))
    return reasons


def label_data_problems(facts: CodeFacts, label_dates: Mapping[str, date]) -> list[Reason]:
    """Dates printed in the link's query (AI 11 production, 15 best before, 17 expiry) that
    disagree with the batch record: a tell-tale of labels printed by someone else."""
    batch = facts.batch
    if batch is None:
        return []
    recorded = {"11": batch.production_date, "15": batch.best_before_date, "17": batch.expiry_date}
    problems = []
    for ai, printed in label_dates.items():
        expected = recorded.get(ai)
        if expected is not None and printed != expected:
            problems.append(
                Reason.of(
                    "label_data_mismatch",
                    ai=ai,
                    printed=printed.isoformat(),
                    recorded=expected.isoformat(),
                )
            )
    return problems


def decide(
    facts: CodeFacts,
    *,
    today: date,
    anomalies: Iterable[Reason] = (),
    label_dates: Mapping[str, date] | None = None,
) -> Decision:
    """The verdict on ``facts`` today, given the anomalies found for this scan."""
    if facts.product is None:
        return Decision(Verdict.NOT_FOUND, (Reason.of("unknown_gtin", gtin=facts.gtin),))
    if facts.level is Level.UNIT:
        if facts.unit is None:
            return Decision(Verdict.NOT_FOUND, (Reason.of("unknown_serial", serial=facts.serial),))
        if facts.lot_mismatch is not None:
            # The recorded lot stays out of the reason: shoppers (and counterfeiters) see it.
            return Decision(Verdict.NOT_FOUND, (Reason.of("lot_mismatch", printed=facts.lot),))
        if facts.signature_mismatch:
            return Decision(Verdict.NOT_FOUND, (Reason.of("signature_mismatch"),))
    elif facts.level is Level.BATCH and facts.batch is None:
        return Decision(Verdict.NOT_FOUND, (Reason.of("unknown_batch", lot=facts.lot),))

    if facts.unit is not None:
        status = facts.unit.status.lower()
        if status == UNIT_BLACKLISTED:
            return Decision(
                Verdict.BLOCKED, (Reason.of("code_blacklisted", reason=facts.unit.status_reason),)
            )
        if status != UNIT_ACTIVE:
            return Decision(Verdict.NOT_ACTIVATED, (Reason.of("code_not_activated"),))

    invalid = _restrictions(facts) + certificate_problems(facts.certificate, today)
    if facts.label_key_revoked:
        invalid.insert(0, Reason.of("label_key_revoked"))
    if invalid:
        return Decision(Verdict.NOT_VALID, tuple(invalid))

    warnings = list(anomalies) + label_data_problems(facts, label_dates or {})
    if facts.label_key_revoked_after_issue:
        warnings.append(Reason.of("label_key_revoked_after_issue"))
    if facts.level is Level.PRODUCT:
        warnings.append(Reason.of("product_level_code"))
    elif facts.level is Level.BATCH:
        warnings.append(Reason.of("batch_level_code"))
    if warnings:
        return Decision(Verdict.GENUINE_WITH_WARNING, tuple(warnings))
    return Decision(Verdict.GENUINE)
