"""Standards, versions, publication, withdrawal and diffs.

Who may do what: the owning association's admins create standards, publish and withdraw
versions; its admins and staff prepare draft versions (staff draft, admins publish). Published
versions are public; drafts are visible to the owner and the brand's co-builders only.
Services take the session, flush and never commit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.principal import Caller
from app.brands import services as brands
from app.brands.models import Brand
from app.db import utcnow
from app.errors import FieldError, InvalidInput, NotFound
from app.standards import canonical
from app.standards.errors import (
    DuplicateStandardCode,
    DuplicateVersion,
    InvalidStandardContent,
    VersionImmutable,
    VersionTransitionRefused,
)
from app.standards.models import (
    Clause,
    Comparator,
    Criterion,
    Standard,
    StandardVersion,
    ValueType,
    VersionStatus,
)
from app.standards.schemas import ClauseIn, CriterionIn

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9/ .\-]*[A-Z0-9]$")
PUBLIC_STATUSES = frozenset(
    {VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED, VersionStatus.WITHDRAWN}
)
DRAFTERS = (Role.ADMIN, Role.STAFF)


def normalise_code(code: str) -> str:
    """Upper-case, single spaces: ``t/qmta  001-2024`` and ``T/QMTA 001-2024`` are one code."""
    return " ".join(code.upper().split())


# ---- standards -------------------------------------------------------------------------


def create_standard(
    session: Session, caller: Caller, brand_slug: str, *, code: str, title_zh: str, title_en: str
) -> Standard:
    """Create a standard (no version yet) for a brand the caller's association owns.

    Codes are unique across the service once normalised (``duplicate-standard-code``)."""
    brand = brands.get_brand(session, brand_slug)
    brands.require_owner(caller, brand)
    normalised = normalise_code(code)
    if not _CODE.match(normalised):
        raise InvalidStandardContent(
            "A standard code is letters, digits, '/', '.', '-' and spaces, e.g. T/QMTA 001-2024.",
            errors=[FieldError("/code", "pattern", "e.g. T/QMTA 001-2024")],
        )
    if session.scalar(select(Standard.id).where(Standard.code == normalised)) is not None:
        raise DuplicateStandardCode(
            f"A standard with code {normalised!r} already exists.",
            errors=[FieldError("/code", "unique", "this code is taken")],
        )
    standard = Standard(
        brand_id=brand.id,
        code=normalised,
        title_zh=canonical.normalise_text(title_zh),
        title_en=canonical.normalise_text(title_en),
    )
    session.add(standard)
    session.flush()
    return standard


def get_standard(session: Session, standard_id: int) -> Standard:
    standard = session.get(Standard, standard_id)
    if standard is None:
        raise NotFound(f"No standard {standard_id}.", slug="standard-not-found")
    return standard


def update_standard(
    session: Session, caller: Caller, standard_id: int, changes: dict[str, Any]
) -> Standard:
    """Correct a standard's titles (published versions keep the titles they were hashed with)."""
    standard = get_standard(session, standard_id)
    brands.require_owner(caller, standard.brand)
    for name, value in changes.items():
        if value is not None:
            setattr(standard, name, canonical.normalise_text(value))
    session.flush()
    return standard


def list_standards(session: Session, brand: Brand) -> list[Standard]:
    return list(
        session.scalars(select(Standard).where(Standard.brand_id == brand.id).order_by(Standard.id))
    )


def visible_versions(
    session: Session, caller: Caller | None, standard: Standard
) -> list[StandardVersion]:
    """A standard's versions the caller may see: drafts only for the owner and co-builders."""
    insiders = brands.can_read_internals(session, caller, standard.brand)
    return [v for v in standard.versions if insiders or v.status in PUBLIC_STATUSES]


# ---- versions --------------------------------------------------------------------------


def _check_content(clauses: Sequence[ClauseIn], criteria: Sequence[CriterionIn]) -> None:
    """Rules a version's content must meet beyond its schema, all reported at once."""
    errors: list[FieldError] = []
    numbers = [clause.number for clause in clauses]
    for index, number in enumerate(numbers):
        if number in numbers[:index]:
            errors.append(
                FieldError(f"/clauses/{index}/number", "unique", f"clause {number} twice")
            )
    keys: list[str] = []
    for index, item in enumerate(criteria):
        at = f"/criteria/{index}"
        if item.key in keys:
            errors.append(FieldError(f"{at}/key", "unique", f"criterion {item.key} twice"))
        keys.append(item.key)
        if item.clause is not None and item.clause not in numbers:
            errors.append(
                FieldError(
                    f"{at}/clause", "clause_exists", f"no clause {item.clause} in this version"
                )
            )
        if item.type == ValueType.NUMBER:
            if item.comparator is None:
                errors.append(
                    FieldError(f"{at}/comparator", "required", "a number needs a comparator")
                )
            if item.threshold is None:
                errors.append(
                    FieldError(f"{at}/threshold", "required", "a number needs a threshold")
                )
            if item.comparator == Comparator.BETWEEN:
                if item.threshold_max is None:
                    errors.append(
                        FieldError(
                            f"{at}/threshold_max", "required", "'between' needs threshold_max"
                        )
                    )
                elif item.threshold is not None and item.threshold_max <= item.threshold:
                    errors.append(
                        FieldError(
                            f"{at}/threshold_max", "greater_than_threshold", "must exceed threshold"
                        )
                    )
            elif item.threshold_max is not None:
                errors.append(
                    FieldError(
                        f"{at}/threshold_max", "not_allowed", "only 'between' takes threshold_max"
                    )
                )
            if item.allowed_values is not None:
                errors.append(
                    FieldError(
                        f"{at}/allowed_values", "not_allowed", "a number has a threshold instead"
                    )
                )
        else:
            for name in ("comparator", "threshold", "threshold_max"):
                if getattr(item, name) is not None:
                    errors.append(
                        FieldError(
                            f"{at}/{name}", "not_allowed", f"a {item.type} criterion has no {name}"
                        )
                    )
            if item.type == ValueType.CHOICE:
                values = [canonical.normalise_text(v) for v in item.allowed_values or []]
                if not values:
                    errors.append(
                        FieldError(f"{at}/allowed_values", "required", "list the allowed values")
                    )
                elif len(set(values)) != len(values):
                    errors.append(
                        FieldError(f"{at}/allowed_values", "unique", "list each value once")
                    )
            elif item.allowed_values is not None:
                errors.append(
                    FieldError(
                        f"{at}/allowed_values", "not_allowed", "a yes/no finding has no values"
                    )
                )
    if errors:
        raise InvalidStandardContent("The version's content is not valid.", errors=errors)


def _fill(
    version: StandardVersion, clauses: Sequence[ClauseIn], criteria: Sequence[CriterionIn]
) -> None:
    text = canonical.normalise_text
    version.clauses = [
        Clause(
            position=position,
            number=item.number,
            title_zh=text(item.title_zh),
            title_en=text(item.title_en),
            requirement_zh=text(item.requirement_zh),
            requirement_en=text(item.requirement_en),
        )
        for position, item in enumerate(clauses)
    ]
    version.criteria = [
        Criterion(
            position=position,
            key=item.key,
            clause_number=item.clause,
            metric_zh=text(item.metric_zh),
            metric_en=text(item.metric_en),
            unit=text(item.unit) if item.unit else None,
            method=text(item.method) if item.method else None,
            value_type=item.type,
            comparator=item.comparator,
            threshold=float(item.threshold) if item.threshold is not None else None,
            threshold_max=float(item.threshold_max) if item.threshold_max is not None else None,
            allowed_values=[text(v) for v in item.allowed_values] if item.allowed_values else None,
            is_mandatory=item.mandatory,
        )
        for position, item in enumerate(criteria)
    ]


def create_version(
    session: Session,
    caller: Caller,
    standard_id: int,
    *,
    version: str,
    effective_from: Any,
    clauses: Sequence[ClauseIn],
    criteria: Sequence[CriterionIn],
) -> StandardVersion:
    """Start a draft version of a standard (owner's admins and staff)."""
    standard = get_standard(session, standard_id)
    brands.require_owner(caller, standard.brand, roles=DRAFTERS)
    if any(existing.version == version for existing in standard.versions):
        raise DuplicateVersion(
            f"{standard.code} already has a version {version!r}.",
            errors=[FieldError("/version", "unique", "this version label is taken")],
        )
    _check_content(clauses, criteria)
    draft = StandardVersion(
        standard=standard,
        version=version,
        status=VersionStatus.DRAFT,
        effective_from=effective_from,
        created_by_id=caller.user_id,
    )
    _fill(draft, clauses, criteria)
    session.add(draft)
    session.flush()
    return draft


def get_version(session: Session, caller: Caller | None, version_id: int) -> StandardVersion:
    """A version the caller may see: published, superseded and withdrawn ones are public,
    drafts only for the owner and co-builders (anyone else gets 404)."""
    version = session.get(StandardVersion, version_id)
    if version is None or (
        version.status == VersionStatus.DRAFT
        and not brands.can_read_internals(session, caller, version.standard.brand)
    ):
        raise NotFound(f"No standard version {version_id}.", slug="standard-version-not-found")
    return version


def _require_draft(version: StandardVersion, action: str) -> None:
    if version.status != VersionStatus.DRAFT:
        raise VersionImmutable(
            f"Version {version.version} of {version.standard.code} is {version.status} and can "
            f"no longer be {action}; create a new version instead.",
            errors=[
                FieldError("status", "published_is_immutable", f"the version is {version.status}")
            ],
        )


def replace_draft(
    session: Session,
    caller: Caller,
    version_id: int,
    *,
    effective_from: Any,
    clauses: Sequence[ClauseIn],
    criteria: Sequence[CriterionIn],
) -> StandardVersion:
    """Replace a draft's whole content (clauses and criteria). Published versions are
    immutable: ``version-immutable``."""
    version = get_version(session, caller, version_id)
    brands.require_owner(caller, version.standard.brand, roles=DRAFTERS)
    _require_draft(version, "edited")
    _check_content(clauses, criteria)
    version.effective_from = effective_from
    version.clauses = []
    version.criteria = []
    session.flush()
    _fill(version, clauses, criteria)
    session.flush()
    return version


def delete_draft(session: Session, caller: Caller, version_id: int) -> None:
    """Discard a draft (published versions are immutable and stay)."""
    version = get_version(session, caller, version_id)
    brands.require_owner(caller, version.standard.brand, roles=DRAFTERS)
    _require_draft(version, "deleted")
    session.delete(version)
    session.flush()


def version_document(version: StandardVersion) -> dict[str, Any]:
    """The canonical document of a version (see :mod:`app.standards.canonical`).

    For a published version it is the document stored at publication, never rebuilt: later
    corrections of the standard's title do not change what was published and hashed."""
    if version.canonical_json is not None:
        document: dict[str, Any] = json.loads(version.canonical_json)
        return document
    standard = version.standard
    return {
        "format": canonical.FORMAT,
        "standard": {
            "code": standard.code,
            "title": canonical.bilingual(standard.title_en, standard.title_zh),
        },
        "version": version.version,
        "effective_from": version.effective_from.isoformat() if version.effective_from else None,
        "clauses": [
            {
                "number": clause.number,
                "title": canonical.bilingual(clause.title_en, clause.title_zh),
                "requirement": canonical.bilingual(clause.requirement_en, clause.requirement_zh),
            }
            for clause in version.clauses
        ],
        "criteria": [
            {
                "key": item.key,
                "clause": item.clause_number,
                "metric": canonical.bilingual(item.metric_en, item.metric_zh),
                "unit": item.unit,
                "method": item.method,
                "type": item.value_type.value,
                "comparator": item.comparator.value if item.comparator else None,
                "threshold": item.threshold,
                "threshold_max": item.threshold_max,
                "allowed_values": item.allowed_values,
                "mandatory": item.is_mandatory,
            }
            for item in version.criteria
        ],
    }


def publish_version(session: Session, caller: Caller, version_id: int) -> StandardVersion:
    """Publish a draft (owner's admins): freeze its canonical JSON and SHA-256 content hash.
    A version needs at least one clause and one criterion.

    A version takes effect at once, superseding the version in force, unless its
    ``effective_from`` is a later day: then it is *scheduled*. It may be audited against
    ahead of that day, but the version in force stays in force, and no certificate under the
    new one is valid, until then (see :func:`version_state`)."""
    version = get_version(session, caller, version_id)
    brands.require_owner(caller, version.standard.brand)
    if version.status != VersionStatus.DRAFT:
        raise VersionTransitionRefused(
            f"Version {version.version} is {version.status}; only drafts are published.",
            errors=[FieldError("status", "draft_only", f"the version is {version.status}")],
        )
    errors = []
    if not version.clauses:
        errors.append(FieldError("/clauses", "min_items", "publish at least one clause"))
    if not version.criteria:
        errors.append(FieldError("/criteria", "min_items", "publish at least one criterion"))
    if errors:
        raise InvalidStandardContent("The version is incomplete.", errors=errors)
    now = utcnow()
    document = version_document(version)
    version.canonical_json = canonical.canonical_bytes(document).decode("utf-8")
    version.content_hash = canonical.content_hash(document)
    version.status = VersionStatus.PUBLISHED
    version.published_at = now
    version.published_by_id = caller.user_id
    _record_supersessions(version.standard, now)
    session.flush()
    _record_publication(session, version, caller)
    return version


def _record_publication(session: Session, version: StandardVersion, caller: Caller) -> None:
    """The one place where a publication becomes public history: a "standard version
    published" entry in the transparency log, in the same transaction. The entry's content hash
    is the SHA-256 of the version's canonical JSON, i.e. the version's own content hash, so
    anyone can match a published version to the log."""
    from app.transparency.entry import EntryType
    from app.transparency.services import append_entry

    assert version.canonical_json is not None
    append_entry(
        session,
        entry_type=EntryType.STANDARD_VERSION_PUBLISHED,
        record_type="standard_version",
        record_id=version.id,
        content=version.canonical_json.encode("utf-8"),
        organisation_id=caller.organisation_id,
        occurred_at=version.published_at,
        details={"standard": version.standard.code, "version": version.version},
    )


def withdraw_version(
    session: Session, caller: Caller, version_id: int, reason: str
) -> StandardVersion:
    """Withdraw a published or superseded version (owner's admins), with a reason. Final."""
    version = get_version(session, caller, version_id)
    brands.require_owner(caller, version.standard.brand)
    if version.status not in (VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED):
        raise VersionTransitionRefused(
            f"Version {version.version} is {version.status}; only published or superseded "
            "versions are withdrawn.",
            errors=[FieldError("status", "published_only", f"the version is {version.status}")],
        )
    now = utcnow()
    # What the version superseded by taking effect stays superseded once it is withdrawn, as
    # it does for a version that took effect at publication.
    _record_supersessions(version.standard, now)
    version.status = VersionStatus.WITHDRAWN
    version.withdrawn_at = now
    version.withdrawn_by_id = caller.user_id
    version.withdrawal_reason = reason.strip()
    session.flush()
    return version


def diff_versions(
    session: Session, caller: Caller | None, from_id: int, to_id: int
) -> dict[str, Any]:
    """What changed between two versions of the same standard (see
    :func:`app.standards.canonical.diff_documents`)."""
    old = get_version(session, caller, from_id)
    new = get_version(session, caller, to_id)
    if old.standard_id != new.standard_id:
        raise InvalidInput(
            "Only versions of the same standard can be compared.",
            errors=[FieldError("to", "same_standard", f"version {to_id} is of another standard")],
        )
    return {
        "standard": old.standard.code,
        "from_version": old,
        "to_version": new,
        **canonical.diff_documents(version_document(old), version_document(new)),
    }


# ---- taking effect ---------------------------------------------------------------------


@dataclass(frozen=True)
class VersionState:
    """Where a version stands at a given moment.

    ``status`` is its status then: a published version reads superseded from the moment a
    later version takes effect, before any write records it (as a certificate past its
    validity reads expired before the daily sweep). ``scheduled``: published, but its
    ``effective_from`` day has not come, so it is not in force yet (audits may apply it
    ahead of that day; certificates under it are valid from that day at the earliest).
    ``superseded_at``: when it was, or reads, superseded."""

    status: VersionStatus
    scheduled: bool = False
    superseded_at: datetime | None = None

    @property
    def in_force(self) -> bool:
        """Whether it is the standard's version in force."""
        return self.status is VersionStatus.PUBLISHED and not self.scheduled


def takes_effect_at(version: StandardVersion) -> datetime | None:
    """When a published version takes effect: at its publication, or at the start of its
    ``effective_from`` day (00:00 UTC) when that comes later; None for a draft."""
    if version.published_at is None:
        return None
    if version.effective_from is None:
        return version.published_at
    return max(version.published_at, datetime.combine(version.effective_from, time(), UTC))


def version_state(version: StandardVersion, now: datetime | None = None) -> VersionState:
    """The version's :class:`VersionState` at ``now`` (default: the current time), from its
    recorded status and the dates its standard's published versions take effect."""
    if version.status is not VersionStatus.PUBLISHED:
        return VersionState(version.status, superseded_at=version.superseded_at)
    now = now or utcnow()
    start = takes_effect_at(version)
    assert start is not None
    if start > now:
        return VersionState(VersionStatus.PUBLISHED, scheduled=True)
    # Versions taking effect at one instant are ordered by id: the later one prevails.
    successors = [
        key
        for other in version.standard.versions
        if other.status is VersionStatus.PUBLISHED
        and (key := (takes_effect_at(other) or now, other.id)) > (start, version.id)
        and key[0] <= now
    ]
    if successors:
        return VersionState(VersionStatus.SUPERSEDED, superseded_at=min(successors)[0])
    return VersionState(VersionStatus.PUBLISHED)


def _record_supersessions(standard: Standard, now: datetime) -> None:
    """Record what taking effect has done by ``now``: a published version superseded by a
    later one that took effect becomes superseded, as of that moment."""
    states = [(version, version_state(version, now)) for version in standard.versions]
    for version, state in states:
        if version.status is VersionStatus.PUBLISHED and state.status is VersionStatus.SUPERSEDED:
            version.status = VersionStatus.SUPERSEDED
            version.superseded_at = state.superseded_at


def current_version(
    session: Session, standard: Standard, now: datetime | None = None
) -> StandardVersion | None:
    """The standard's version in force at ``now`` (default: the current time), if any: a
    scheduled version only from its ``effective_from`` day."""
    now = now or utcnow()
    return next((v for v in standard.versions if version_state(v, now).in_force), None)
