"""Resolving a scanned code: the verdict, the scan record, tallies, anomalies and alerts; and
the alerts and reports the association and firms work through.

A scan is written in the same transaction as its tally and alerts, with atomic upserts, so
concurrent scans neither lose nor double an update. A shopper reloading the page within
``REPEAT_WINDOW`` is stored as a repeat and not counted again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    String,
    bindparam,
    case,
    false,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app.auth.models import OrgKind
from app.auth.principal import Caller
from app.brands.errors import NotBrandOwner
from app.brands.models import Brand
from app.brands.services import can_read_internals, co_built_brand_ids, get_brand, require_owner
from app.db import UTCDateTime, utcnow
from app.errors import FieldError, InvalidInput
from app.gs1.digital_link import DigitalLink
from app.http.pagination import PageResult, paginate
from app.resolver import cache, sources
from app.resolver.errors import (
    AlertAlreadyResolved,
    AlertNotFound,
    LocationRefused,
    ReportNotFound,
    ReportTransitionRefused,
)
from app.resolver.models import (
    AlertKind,
    AlertResolution,
    AlertStatus,
    FakeReport,
    ReportStatus,
    Scan,
    ScanAlert,
    ScanChannel,
    ScanRule,
    ScanShopper,
    ScanTally,
)
from app.resolver.prepared import prepared
from app.resolver.rules import DEFAULT_RULE_SET, NUMERIC_KINDS, Rule, RuleKind, RuleSet
from app.resolver.verdicts import CodeFacts, Decision, Reason, Verdict, decide, shopper_facts

#: a reload by the same client within this window is the same verification, not another one
REPEAT_WINDOW = timedelta(seconds=60)
#: a shopper may attach a location to a scan this long after it
LOCATION_WINDOW = timedelta(hours=1)
#: alerts that make a genuine verdict a warning while they are open
WARNING_KINDS = (AlertKind.REPEAT_SCANS, AlertKind.MANY_CLIENTS, AlertKind.AFTER_CONSUMED)
WARNING_BITS = {
    AlertKind.REPEAT_SCANS: 1,
    AlertKind.MANY_CLIENTS: 2,
    AlertKind.AFTER_CONSUMED: 4,
}
_WARNING_REASON = {
    AlertKind.REPEAT_SCANS: "many_scans",
    AlertKind.MANY_CLIENTS: "many_clients",
    AlertKind.AFTER_CONSUMED: "scanned_after_consumed",
}


def client_hash(key: bytes, *traits: str) -> str:
    """A keyed hash of client traits: the same shopper hashes alike, and nobody without the
    key can tell which address or browser it came from."""
    message = "\x1f".join(traits).encode("utf-8", "replace")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class ScanContext:
    """Who scanned (anonymously), how, and what answer they asked for."""

    client_hash: str
    channel: ScanChannel
    answer: str
    now: datetime = field(default_factory=utcnow)
    #: extra reasons known before the scan (e.g. a typed-in link pointing at another host)
    extra_warnings: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class Tally:
    """How often a pack has been verified."""

    scan_count: int
    shopper_count: int
    first_scanned_at: datetime
    last_scanned_at: datetime
    consumed_at: datetime | None = None
    #: consumed, and this scan comes from someone other than the consumer
    consumed_by_other: bool = False
    #: bits (``WARNING_BITS``) of the pack's open warning alerts
    open_warnings: int = 0


@dataclass(frozen=True)
class Resolution:
    """The outcome of resolving one link: facts, decision, counts and the stored scan."""

    link: DigitalLink
    facts: CodeFacts
    decision: Decision
    tally: Tally | None
    scan_id: int | None
    is_repeat: bool = False

    @property
    def verdict(self) -> Verdict:
        return self.decision.verdict


def _dialect_insert(dialect: str) -> Any:
    """INSERT that knows ON CONFLICT (PostgreSQL and SQLite both have it)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def _insert(connection: Connection, model: Any) -> Any:
    return _dialect_insert(connection.dialect.name)(model)


def rules_for(session: Session, facts: CodeFacts) -> RuleSet:
    """The anomaly rules in force for the brand of ``facts`` (defaults where it set none)."""
    if facts.brand is None:
        return DEFAULT_RULE_SET
    return brand_rules(session, facts.brand.id)


def brand_rules(session: Session, brand_id: int) -> RuleSet:
    """A brand's rules; kept half a minute per worker (a change through :func:`set_rule`
    applies at once in the worker that made it)."""

    def load() -> RuleSet:
        rows = session.scalars(select(ScanRule).where(ScanRule.brand_id == brand_id)).all()
        if not rows:
            return DEFAULT_RULE_SET
        return RuleSet.with_overrides(
            {
                row.kind: Rule(row.kind, row.is_enabled, row.threshold, row.window_minutes)
                for row in rows
            }
        )

    return cache.RULES.get_or_set((cache.scope(session), brand_id), load)


@dataclass(frozen=True)
class RuleView:
    """One rule as a brand has it: its settings and whether they are the defaults."""

    kind: RuleKind
    is_enabled: bool
    threshold: int | None
    window_minutes: int | None
    is_default: bool


def _readable_brand(session: Session, caller: Caller, slug: str) -> Brand:
    brand = get_brand(session, slug)
    if not can_read_internals(session, caller, brand):
        raise NotBrandOwner(
            f"Only the owner and co-builders of the brand {slug!r} may read its scan rules."
        )
    return brand


def list_rules(session: Session, caller: Caller, slug: str) -> list[RuleView]:
    """The brand's anomaly rules in force, each marked default or the brand's own."""
    brand = _readable_brand(session, caller, slug)
    own = {
        row.kind for row in session.scalars(select(ScanRule).where(ScanRule.brand_id == brand.id))
    }
    rules = brand_rules(session, brand.id)
    return [
        RuleView(kind, rule.is_enabled, rule.threshold, rule.window_minutes, kind not in own)
        for kind, rule in rules.rules.items()
    ]


def set_rule(
    session: Session,
    caller: Caller,
    slug: str,
    kind: RuleKind,
    *,
    is_enabled: bool,
    threshold: int | None,
    window_minutes: int | None,
) -> RuleView:
    """Set one rule for the brand (the owning association's admins only)."""
    brand = get_brand(session, slug)
    require_owner(caller, brand)
    errors = []
    if kind in NUMERIC_KINDS:
        if threshold is None:
            errors.append(FieldError("/threshold", "required", f"{kind.value} needs a threshold"))
        if kind is RuleKind.MANY_CLIENTS and window_minutes is None:
            errors.append(
                FieldError("/window_minutes", "required", "many_clients needs a window in minutes")
            )
        if kind is RuleKind.REPEAT_SCANS and window_minutes is not None:
            errors.append(
                FieldError("/window_minutes", "not_allowed", "repeat_scans counts all time")
            )
    else:
        for name, value in (("threshold", threshold), ("window_minutes", window_minutes)):
            if value is not None:
                errors.append(
                    FieldError(f"/{name}", "not_allowed", f"{kind.value} takes no {name}")
                )
    if errors:
        raise InvalidInput(f"The settings do not fit the rule {kind.value}.", errors=errors)
    row = session.scalar(
        select(ScanRule).where(ScanRule.brand_id == brand.id, ScanRule.kind == kind)
    )
    if row is None:
        row = ScanRule(brand_id=brand.id, kind=kind)
        session.add(row)
    row.is_enabled = is_enabled
    row.threshold = threshold
    row.window_minutes = window_minutes
    row.updated_by_id = caller.user_id
    session.flush()
    cache.RULES.discard((cache.scope(session), brand.id))
    return RuleView(kind, is_enabled, threshold, window_minutes, False)


class _Statements:
    """The scan path's statements, built once per dialect: building a statement costs more
    than running it, and these run on every scan (compiled forms are cached by SQLAlchemy)."""

    def __init__(self, dialect: str) -> None:
        upsert = _dialect_insert(dialect)
        now = bindparam("now", type_=UTCDateTime())
        shopper = upsert(ScanShopper).values(
            unit_key=bindparam("unit_key"),
            client_hash=bindparam("client_hash"),
            first_seen_at=now,
            last_counted_at=now,
        )
        # A repeat keeps the window anchored at the counted scan, so a reload loop still
        # counts once per window rather than never again.
        self.shopper = shopper.on_conflict_do_update(
            index_elements=[ScanShopper.unit_key, ScanShopper.client_hash],
            set_={
                "last_counted_at": case(
                    (
                        ScanShopper.last_counted_at >= bindparam("cutoff", type_=UTCDateTime()),
                        ScanShopper.last_counted_at,
                    ),
                    else_=now,
                )
            },
        ).returning(ScanShopper.first_seen_at, ScanShopper.last_counted_at)
        tally = upsert(ScanTally).values(
            unit_key=bindparam("unit_key"),
            scan_count=1,
            shopper_count=1,
            first_scanned_at=now,
            last_scanned_at=now,
            open_warnings=0,
        )
        returning = (
            ScanTally.scan_count,
            ScanTally.shopper_count,
            ScanTally.first_scanned_at,
            ScanTally.last_scanned_at,
            ScanTally.consumed_at,
            ScanTally.consumed_by,
            ScanTally.open_warnings,
        )
        self.tally = {
            counted: tally.on_conflict_do_update(
                index_elements=[ScanTally.unit_key],
                set_={
                    "scan_count": ScanTally.scan_count + (1 if counted else 0),
                    "shopper_count": ScanTally.shopper_count
                    + bindparam("new_shopper", type_=Integer()),
                    "last_scanned_at": now if counted else ScanTally.last_scanned_at,
                },
            ).returning(*returning)
            for counted in (True, False)
        }
        self.scan = insert(Scan).returning(Scan.id)


_STATEMENTS: dict[str, _Statements] = {}


def _statements(connection: Connection) -> _Statements:
    dialect = connection.dialect.name
    found = _STATEMENTS.get(dialect)
    if found is None:
        found = _STATEMENTS[dialect] = _Statements(dialect)
    return found


# PostgreSQL: the shopper, the pack's tally and the scan row in one round trip (data-modifying
# CTEs), the scan stored with the verdict decided before the tally; an anomaly or an open
# warning found from the tally then corrects it (rare).
_PG_SCAN = text(
    """
WITH shopper AS (
    INSERT INTO scan_shoppers AS o (unit_key, client_hash, first_seen_at, last_counted_at)
    VALUES (:unit_key, :client_hash, :now, :now)
    ON CONFLICT (unit_key, client_hash) DO UPDATE SET last_counted_at =
        CASE WHEN o.last_counted_at >= :cutoff THEN o.last_counted_at
            ELSE excluded.last_counted_at END
    RETURNING o.first_seen_at = :now AS new_shopper, o.last_counted_at = :now AS counted
), tally AS (
    INSERT INTO scan_tallies AS t
        (unit_key, scan_count, shopper_count, first_scanned_at, last_scanned_at, open_warnings)
    SELECT :unit_key, CASE WHEN counted THEN 1 ELSE 0 END, CASE WHEN new_shopper THEN 1 ELSE 0 END,
        :now, :now, 0
    FROM shopper
    ON CONFLICT (unit_key) DO UPDATE SET
        scan_count = t.scan_count + excluded.scan_count,
        shopper_count = t.shopper_count + excluded.shopper_count,
        last_scanned_at = CASE WHEN excluded.scan_count = 1 THEN excluded.last_scanned_at
            ELSE t.last_scanned_at END
    RETURNING t.scan_count, t.shopper_count, t.first_scanned_at, t.last_scanned_at,
        t.consumed_at, t.consumed_by, t.open_warnings
), scan AS (
    INSERT INTO scans (scanned_at, channel, answer, gtin, lot, serial, verdict, reasons, unit_key,
        unit_id, product_id, brand_id, firm_id, association_id, client_hash, is_repeat)
    SELECT :now, :channel, :answer, :gtin, :lot, :serial, :verdict, CAST(:reasons AS JSON),
        :unit_key, :unit_id, :product_id, :brand_id, :firm_id, :association_id, :client_hash,
        NOT counted
    FROM shopper
    RETURNING id
)
SELECT shopper.new_shopper, shopper.counted, tally.*, scan.id AS scan_id
FROM shopper, tally, scan
"""
).columns(
    new_shopper=Boolean(),
    counted=Boolean(),
    scan_count=Integer(),
    shopper_count=Integer(),
    first_scanned_at=UTCDateTime(),
    last_scanned_at=UTCDateTime(),
    consumed_at=UTCDateTime(),
    consumed_by=String(),
    open_warnings=Integer(),
    scan_id=Integer(),
)


def _scan_values(
    ctx: ScanContext, facts: CodeFacts, decision: Decision, unit_key: str | None, repeat: bool
) -> dict[str, Any]:
    return {
        "scanned_at": ctx.now,
        "channel": ctx.channel,
        "answer": ctx.answer,
        "gtin": facts.gtin,
        "lot": facts.lot,
        "serial": facts.serial,
        "verdict": decision.verdict,
        "reasons": decision.reason_codes or None,
        "unit_key": unit_key,
        "unit_id": facts.unit.id if facts.unit else None,
        "product_id": facts.product.id if facts.product else None,
        "brand_id": facts.brand.id if facts.brand else None,
        "firm_id": facts.firm.id if facts.firm else None,
        "association_id": facts.association.id if facts.association else None,
        "client_hash": ctx.client_hash,
        "is_repeat": repeat,
        "latitude": None,
        "longitude": None,
        "place": None,
        "located_at": None,
    }


def _tally_of(row: Any, ctx: ScanContext) -> Tally:
    return Tally(
        scan_count=row.scan_count,
        shopper_count=row.shopper_count,
        first_scanned_at=row.first_scanned_at,
        last_scanned_at=row.last_scanned_at,
        consumed_at=row.consumed_at,
        consumed_by_other=row.consumed_at is not None and row.consumed_by != ctx.client_hash,
        open_warnings=row.open_warnings,
    )


def _record_scan_pg(
    connection: Connection, unit_key: str, ctx: ScanContext, facts: CodeFacts, first: Decision
) -> tuple[Tally, bool, bool, int]:
    """The PostgreSQL scan of a pack in one statement: tally, whether the client is a new
    shopper, whether the scan is a repeat, and the scan's id (stored with ``first``)."""
    values = _scan_values(ctx, facts, first, unit_key, False)
    values.update(
        now=ctx.now,
        cutoff=ctx.now - REPEAT_WINDOW,
        channel=ctx.channel.value,
        verdict=first.verdict.value,
        reasons=json.dumps(values["reasons"]) if values["reasons"] else None,
    )
    row = prepared("pg_scan", connection, lambda: _PG_SCAN).first(connection, values)
    return _tally_of(row, ctx), bool(row.new_shopper), not row.counted, int(row.scan_id)


def _record_tally(
    connection: Connection, unit_key: str, ctx: ScanContext
) -> tuple[Tally, bool, bool]:
    """Count this scan for the pack; return the tally, whether the client is a new shopper of
    the pack, and whether the scan is a repeat (not counted again).

    Two atomic upserts: the shopper's row says whether this client is new to the pack and
    whether its last counted scan is older than ``REPEAT_WINDOW`` (its row lock orders one
    client's concurrent requests); the pack's row then adds what this scan counts for.
    """
    statements = _statements(connection)
    seen = prepared("shopper", connection, lambda: statements.shopper).first(
        connection,
        {
            "unit_key": unit_key,
            "client_hash": ctx.client_hash,
            "now": ctx.now,
            "cutoff": ctx.now - REPEAT_WINDOW,
        },
    )
    new_shopper = seen.first_seen_at == ctx.now
    counted = seen.last_counted_at == ctx.now
    row = prepared(f"tally_{counted}", connection, lambda: statements.tally[counted]).first(
        connection,
        {"unit_key": unit_key, "now": ctx.now, "new_shopper": 1 if new_shopper else 0},
    )
    return _tally_of(row, ctx), new_shopper, not counted


def _mark_consumed(connection: Connection, unit_key: str, ctx: ScanContext) -> None:
    connection.execute(
        update(ScanTally)
        .where(ScanTally.unit_key == unit_key, ScanTally.consumed_at.is_(None))
        .values(consumed_at=ctx.now, consumed_by=ctx.client_hash)
    )


def _distinct_recent_clients(
    connection: Connection, unit_key: str, ctx: ScanContext, minutes: int
) -> int:
    since = ctx.now - timedelta(minutes=minutes)
    others = connection.scalar(
        select(func.count(func.distinct(Scan.client_hash))).where(
            Scan.unit_key == unit_key,
            Scan.scanned_at >= since,
            Scan.client_hash != ctx.client_hash,
        )
    )
    return int(others or 0) + 1


def _open_key(kind: AlertKind, facts: CodeFacts) -> str:
    if kind is AlertKind.UNKNOWN_CODE:
        return f"{kind.value}:01/{facts.gtin}"
    return f"{kind.value}:{facts.unit_key}"


def _raise_alert(
    connection: Connection,
    kind: AlertKind,
    facts: CodeFacts,
    ctx: ScanContext,
    details: dict[str, Any],
) -> None:
    """Open an alert, or add an occurrence to the open one of the same kind and pack."""
    values = {
        "kind": kind,
        "status": AlertStatus.OPEN,
        "open_key": _open_key(kind, facts),
        "gtin": facts.gtin,
        "lot": facts.lot,
        "serial": facts.serial,
        "unit_key": facts.unit_key,
        "unit_id": facts.unit.id if facts.unit else None,
        "product_id": facts.product.id if facts.product else None,
        "brand_id": facts.brand.id if facts.brand else None,
        "firm_id": facts.firm.id if facts.firm else None,
        "association_id": facts.association.id if facts.association else None,
        "occurrences": 1,
        "details": details,
        "raised_at": ctx.now,
        "last_seen_at": ctx.now,
    }
    bit = WARNING_BITS.get(kind)
    if bit is not None and facts.unit_key is not None:
        connection.execute(
            update(ScanTally)
            .where(ScanTally.unit_key == facts.unit_key)
            .values(open_warnings=ScanTally.open_warnings.op("|")(bit))
        )
    statement = _insert(connection, ScanAlert).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[ScanAlert.open_key],
        set_={
            "occurrences": ScanAlert.occurrences + 1,
            "last_seen_at": ctx.now,
            "details": statement.excluded.details,
        },
    )
    connection.execute(statement)


def _warning_reasons(bits: int, raised: Iterable[AlertKind] = ()) -> list[Reason]:
    """Reasons for the open alerts (``WARNING_BITS``) that make a genuine verdict a warning."""
    kinds = {kind for kind, bit in WARNING_BITS.items() if bits & bit} | set(raised)
    return [Reason.of(_WARNING_REASON[kind]) for kind in WARNING_KINDS if kind in kinds]


def _anomalies(
    connection: Connection,
    facts: CodeFacts,
    first: Decision,
    tally: Tally | None,
    new_shopper: bool,
    rules: RuleSet,
    ctx: ScanContext,
) -> list[tuple[AlertKind, dict[str, Any]]]:
    found: list[tuple[AlertKind, dict[str, Any]]] = []
    verdict = first.verdict
    if verdict is Verdict.BLOCKED and rules.enabled(RuleKind.BLACKLISTED_HIT):
        found.append((AlertKind.BLACKLISTED_HIT, {"reasons": first.reason_codes}))
    elif verdict is Verdict.NOT_ACTIVATED and rules.enabled(RuleKind.INACTIVE_HIT):
        found.append((AlertKind.INACTIVE_HIT, {}))
    elif (
        verdict is Verdict.NOT_FOUND
        and facts.product is not None
        and rules.enabled(RuleKind.UNKNOWN_CODE)
    ):
        details: dict[str, Any] = {
            "lot": facts.lot,
            "serial": facts.serial,
            "reasons": first.reason_codes,
        }
        if facts.lot_mismatch is not None:
            # For the brand's eyes only: the lot the copied serial was issued under.
            details["recorded_lot"] = facts.lot_mismatch
        found.append((AlertKind.UNKNOWN_CODE, details))
    if tally is None or verdict in (Verdict.NOT_FOUND, Verdict.BLOCKED, Verdict.NOT_ACTIVATED):
        return found
    repeat = rules[RuleKind.REPEAT_SCANS]
    if (
        repeat.is_enabled
        and new_shopper
        and repeat.threshold is not None
        and tally.shopper_count > repeat.threshold
    ):
        found.append(
            (
                AlertKind.REPEAT_SCANS,
                {"shoppers": tally.shopper_count, "threshold": repeat.threshold},
            )
        )
    many = rules[RuleKind.MANY_CLIENTS]
    if (
        many.is_enabled
        and new_shopper
        and many.threshold is not None
        and many.window_minutes is not None
        # Fewer shoppers ever than the threshold cannot be that many in a window: skip the query.
        and tally.shopper_count >= many.threshold
    ):
        recent = _distinct_recent_clients(
            connection, facts.unit_key or "", ctx, many.window_minutes
        )
        if recent >= many.threshold:
            found.append(
                (
                    AlertKind.MANY_CLIENTS,
                    {
                        "clients": recent,
                        "threshold": many.threshold,
                        "window_minutes": many.window_minutes,
                    },
                )
            )
    if rules.enabled(RuleKind.AFTER_CONSUMED) and tally.consumed_by_other:
        assert tally.consumed_at is not None
        found.append((AlertKind.AFTER_CONSUMED, {"consumed_at": tally.consumed_at.isoformat()}))
    return found


def read_tally(session: Session, unit_key: str | None) -> Tally | None:
    if unit_key is None:
        return None
    row = session.get(ScanTally, unit_key)
    if row is None:
        return None
    return Tally(
        row.scan_count,
        row.shopper_count,
        row.first_scanned_at,
        row.last_scanned_at,
        row.consumed_at,
        open_warnings=row.open_warnings,
    )


def resolve_link(
    session: Session,
    link: DigitalLink,
    ctx: ScanContext,
    *,
    record: bool,
    facts: CodeFacts | None = None,
) -> Resolution:
    """Decide the verdict on ``link`` and, when ``record``, store the scan with its tally and
    any alerts it raises (in ``session``'s transaction; the caller commits once)."""
    facts = facts or sources.gather_facts(session, link)
    if record:
        return record_scan(session.connection(), link, ctx, facts, rules_for(session, facts))
    today = ctx.now.astimezone(UTC).date()
    shown = shopper_facts(facts)
    tally = read_tally(session, shown.unit_key)
    bits = tally.open_warnings if tally else 0
    warnings = [*ctx.extra_warnings, *_warning_reasons(bits)]
    decision = decide(facts, today=today, anomalies=warnings, label_dates=dict(link.dates))
    return Resolution(link, shown, decision, tally, None)


def record_scan(
    connection: Connection, link: DigitalLink, ctx: ScanContext, facts: CodeFacts, rules: RuleSet
) -> Resolution:
    """Store the scan of ``link`` with its tally and any alerts it raises, and decide the
    verdict, in ``connection``'s transaction (the caller commits).

    A label copying a real serial (another lot or signature) is stored as a NOT_FOUND scan
    and alerts the brand, but counts nothing against the genuine pack (:func:`shopper_facts`).

    Only writes: the code's ``facts`` and its brand's ``rules`` are read before, so that on
    SQLite, where one writer goes at a time, a scan holds the writer's turn only for these few
    statements."""
    today = ctx.now.astimezone(UTC).date()
    label_dates = dict(link.dates)
    first = decide(facts, today=today, anomalies=ctx.extra_warnings, label_dates=label_dates)
    tally: Tally | None = None
    new_shopper = repeat = False
    shown = shopper_facts(facts)
    unit_key = shown.unit_key
    scan_id: int | None = None
    if unit_key is not None and connection.dialect.name == "postgresql":
        tally, new_shopper, repeat, scan_id = _record_scan_pg(
            connection, unit_key, ctx, shown, first
        )
    elif unit_key is not None:
        tally, new_shopper, repeat = _record_tally(connection, unit_key, ctx)
    if (
        unit_key is not None
        and tally is not None
        and first.verdict.is_genuine
        and tally.consumed_at is None
        and rules.enabled(RuleKind.CONSUME_ON_FIRST_SCAN)
    ):
        _mark_consumed(connection, unit_key, ctx)
    found = _anomalies(connection, facts, first, tally, new_shopper, rules, ctx)
    for kind, details in found:
        _raise_alert(connection, kind, facts, ctx, details)
    bits = tally.open_warnings if tally else 0
    raised = [kind for kind, _ in found]
    warnings = [*ctx.extra_warnings, *_warning_reasons(bits, raised)]
    decision = (
        first  # nothing found beyond what the first decision saw
        if len(warnings) == len(ctx.extra_warnings)
        else decide(facts, today=today, anomalies=warnings, label_dates=label_dates)
    )
    if scan_id is None:
        # A Core insert: a scan is a plain appended row, no unit of work needed.
        values = _scan_values(ctx, shown, decision, unit_key, repeat)
        scan_id = (
            prepared("scan", connection, lambda: _statements(connection).scan, list(values))
            .first(connection, values)
            .id
        )
    elif decision != first:
        connection.execute(
            update(Scan)
            .where(Scan.id == scan_id)
            .values(verdict=decision.verdict, reasons=decision.reason_codes or None)
        )
    return Resolution(link, shown, decision, tally, scan_id, is_repeat=repeat)


# --- location -------------------------------------------------------------------------------


def add_scan_location(
    session: Session,
    scan_id: int,
    client: str,
    *,
    latitude: float | None,
    longitude: float | None,
    place: str | None,
    now: datetime | None = None,
) -> Scan:
    """Attach the location a shopper chose to share to their own recent scan.

    Coordinates are rounded to two decimals (about a kilometre): enough to spot scans far
    from the sales region, too coarse to find a home.
    """
    now = now or utcnow()
    scan = session.get(Scan, scan_id)
    if scan is None or scan.client_hash != client:
        raise LocationRefused("This scan is not yours to locate.", slug="scan-not-found")
    if now - scan.scanned_at > LOCATION_WINDOW:
        raise LocationRefused(
            "A location can only be added within an hour of the scan.", slug="scan-too-old"
        )
    if scan.located_at is not None:
        return scan
    if latitude is not None and longitude is not None:
        scan.latitude = round(latitude, 2)
        scan.longitude = round(longitude, 2)
    scan.place = place or None
    scan.located_at = now
    session.flush()
    return scan


# --- alerts -----------------------------------------------------------------------------------


def _visible(session: Session, model: Any, caller: Caller) -> ColumnElement[bool]:
    """Which rows the caller's organisation may see: a firm its own products'; an
    association, government body or alliance those of the brands it owns or co-builds (and
    an association also those under the certificates it issued)."""
    if caller.org_kind is OrgKind.ENTERPRISE:
        return model.firm_id == caller.organisation_id
    brands = co_built_brand_ids(session, caller)
    condition: ColumnElement[bool] = model.brand_id.in_(sorted(brands)) if brands else false()
    if caller.org_kind is OrgKind.ASSOCIATION:
        condition = or_(condition, model.association_id == caller.organisation_id)
    return condition


def list_alerts(
    session: Session,
    caller: Caller,
    *,
    status: AlertStatus | None,
    kind: AlertKind | None,
    gtin: str | None,
    limit: int,
    cursor: str | None,
) -> PageResult[ScanAlert]:
    """The alerts about the caller's products (firm) or brands (association), newest first."""
    statement = select(ScanAlert).where(_visible(session, ScanAlert, caller))
    if status is not None:
        statement = statement.where(ScanAlert.status == status)
    if kind is not None:
        statement = statement.where(ScanAlert.kind == kind)
    if gtin is not None:
        statement = statement.where(ScanAlert.gtin == gtin)
    return paginate(session, statement, ScanAlert.id, limit=limit, cursor=cursor)


def get_alert(session: Session, caller: Caller, alert_id: int) -> ScanAlert:
    """One alert the caller may see (another organisation's answers 404)."""
    alert = session.scalar(
        select(ScanAlert)
        .where(_visible(session, ScanAlert, caller))
        .where(ScanAlert.id == alert_id)
    )
    if alert is None:
        raise AlertNotFound(f"No alert {alert_id} for your organisation.")
    return alert


def resolve_alert(
    session: Session,
    caller: Caller,
    alert_id: int,
    *,
    resolution: AlertResolution,
    note: str | None,
) -> ScanAlert:
    """Close an open alert with what was found; later scans open a new one if it recurs."""
    # Lock the alert's row first: of two concurrent resolutions (a double click, two people,
    # the API and the portal) the second waits here and then finds it resolved.
    session.execute(select(ScanAlert.id).where(ScanAlert.id == alert_id).with_for_update())
    alert = session.scalar(
        select(ScanAlert)
        .where(_visible(session, ScanAlert, caller), ScanAlert.id == alert_id)
        .execution_options(populate_existing=True)
    )
    if alert is None:
        raise AlertNotFound(f"No alert {alert_id} for your organisation.")
    if alert.status is AlertStatus.RESOLVED:
        raise AlertAlreadyResolved(
            f"Alert {alert_id} was already resolved on {alert.resolved_at:%Y-%m-%d}.",
        )
    bit = WARNING_BITS.get(alert.kind)
    if bit is not None and alert.unit_key is not None:
        session.execute(
            update(ScanTally)
            .where(ScanTally.unit_key == alert.unit_key)
            .values(open_warnings=ScanTally.open_warnings.op("&")(sum(WARNING_BITS.values()) - bit))
        )
    alert.status = AlertStatus.RESOLVED
    alert.open_key = None
    alert.resolved_at = utcnow()
    alert.resolved_by_id = caller.user_id
    alert.resolution = resolution
    alert.resolution_note = note
    session.flush()
    return alert


# --- scans ------------------------------------------------------------------------------------


def list_scans(
    session: Session,
    caller: Caller,
    *,
    verdict: Verdict | None,
    gtin: str | None,
    limit: int,
    cursor: str | None,
) -> PageResult[Scan]:
    """Scans of the caller's products (firm) or brands (association), newest first."""
    statement = select(Scan).where(_visible(session, Scan, caller))
    if verdict is not None:
        statement = statement.where(Scan.verdict == verdict)
    if gtin is not None:
        statement = statement.where(Scan.gtin == gtin)
    return paginate(session, statement, Scan.id, limit=limit, cursor=cursor)


@dataclass(frozen=True)
class ScanSummary:
    """Scans per day and the verdict mix over a period, for dashboards."""

    since: date
    total: int
    by_verdict: Mapping[str, int]
    by_day: list[dict[str, Any]]


def summarise_scans(session: Session, caller: Caller, *, days: int) -> ScanSummary:
    """Counts per UTC day and per verdict over the last ``days`` days (repeats excluded)."""
    since = (utcnow() - timedelta(days=days - 1)).date()
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    base = select(Scan.scanned_at, Scan.verdict).where(
        _visible(session, Scan, caller), Scan.scanned_at >= start, Scan.is_repeat.is_(False)
    )
    per_day: dict[str, dict[str, int]] = {}
    by_verdict: dict[str, int] = {}
    for scanned_at, verdict in session.execute(base):
        day = scanned_at.date().isoformat()
        per_day.setdefault(day, {})
        per_day[day][verdict.value] = per_day[day].get(verdict.value, 0) + 1
        by_verdict[verdict.value] = by_verdict.get(verdict.value, 0) + 1
    by_day = [
        {"day": day, "total": sum(counts.values()), "by_verdict": counts}
        for day, counts in sorted(per_day.items())
    ]
    return ScanSummary(since, sum(by_verdict.values()), by_verdict, by_day)


# --- fake reports -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportInput:
    """What a shopper may tell us about a suspected fake (all optional but the key)."""

    submission_key: str
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    place: str | None = None
    description: str | None = None
    contact: str | None = None


def find_report(session: Session, submission_key: str) -> FakeReport | None:
    """The report already stored for a form submission, if any."""
    return session.scalar(select(FakeReport).where(FakeReport.submission_key == submission_key))


def create_report(
    session: Session,
    data: ReportInput,
    client: str,
    *,
    scan: Scan | None = None,
    facts: CodeFacts | None = None,
    photo_file_id: int | None = None,
) -> tuple[FakeReport, bool]:
    """Store a report for the association; return it and whether it is new.

    The same ``submission_key`` twice (a double submit, a retry after a timeout) returns the
    first report: a report is never stored twice. When the report comes from a scan, the
    code and verdict are taken from the stored scan, not from the form.
    """
    existing = find_report(session, data.submission_key)
    if existing is not None:
        return existing, False
    report = FakeReport(
        submission_key=data.submission_key,
        status=ReportStatus.NEW,
        gtin=scan.gtin if scan else data.gtin,
        lot=scan.lot if scan else data.lot,
        serial=scan.serial if scan else data.serial,
        verdict=scan.verdict if scan else None,
        scan_id=scan.id if scan else None,
        product_id=scan.product_id
        if scan
        else (facts.product.id if facts and facts.product else None),
        brand_id=scan.brand_id if scan else (facts.brand.id if facts and facts.brand else None),
        firm_id=scan.firm_id if scan else (facts.firm.id if facts and facts.firm else None),
        association_id=scan.association_id
        if scan
        else (facts.association.id if facts and facts.association else None),
        place=data.place,
        description=data.description,
        contact=data.contact,
        photo_file_id=photo_file_id,
        client_hash=client,
    )
    # A concurrent double submit races to the unique key: the loser reads the winner's row.
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except _integrity_errors():
        existing = session.scalar(
            select(FakeReport).where(FakeReport.submission_key == data.submission_key)
        )
        assert existing is not None
        return existing, False
    return report, True


def _integrity_errors() -> type[Exception]:
    from sqlalchemy.exc import IntegrityError

    return IntegrityError


def _report_visible(session: Session, caller: Caller) -> ColumnElement[bool]:
    condition = _visible(session, FakeReport, caller)
    if caller.org_kind is OrgKind.ASSOCIATION:
        # Reports about codes of no known brand belong to every association to triage.
        condition = or_(condition, FakeReport.brand_id.is_(None))
    return condition


def contact_for(caller: Caller, report: FakeReport) -> str | None:
    """The contact a shopper left, for the association only: the report form promises it to
    the brand's association, so government and alliance observers read reports without it."""
    return report.contact if caller.org_kind is OrgKind.ASSOCIATION else None


def list_reports(
    session: Session,
    caller: Caller,
    *,
    status: ReportStatus | None,
    limit: int,
    cursor: str | None,
) -> PageResult[FakeReport]:
    """Reports of suspected fakes for the caller's association, newest first."""
    statement = select(FakeReport).where(_report_visible(session, caller))
    if status is not None:
        statement = statement.where(FakeReport.status == status)
    return paginate(session, statement, FakeReport.id, limit=limit, cursor=cursor)


def get_report(session: Session, caller: Caller, report_id: int) -> FakeReport:
    report = session.scalar(
        select(FakeReport).where(_report_visible(session, caller)).where(FakeReport.id == report_id)
    )
    if report is None:
        raise ReportNotFound(f"No report {report_id} for your organisation.")
    return report


# Where a review may take a report from each state (the portal's triage form offers these).
REVIEW_TRANSITIONS: dict[ReportStatus, frozenset[ReportStatus]] = {
    ReportStatus.NEW: frozenset({ReportStatus.REVIEWING, ReportStatus.CLOSED}),
    ReportStatus.REVIEWING: frozenset({ReportStatus.REVIEWING, ReportStatus.CLOSED}),
    ReportStatus.CLOSED: frozenset({ReportStatus.REVIEWING, ReportStatus.CLOSED}),
}


def review_report(
    session: Session,
    caller: Caller,
    report_id: int,
    *,
    status: ReportStatus,
    note: str | None,
) -> FakeReport:
    """Move a report along with a note: to being reviewed or closed from any state (a closed
    report may be taken up again, or keep its status with a new note), never back to new (the
    portal's triage offers the same two)."""
    report = get_report(session, caller, report_id)
    if status not in REVIEW_TRANSITIONS[report.status]:
        raise ReportTransitionRefused(
            f"Report {report_id} cannot move from {report.status.value} to {status.value}; "
            f"a review moves it to "
            + " or ".join(s.value for s in sorted(REVIEW_TRANSITIONS[report.status]))
            + ".",
            errors=[FieldError("status", "transition", f"{report.status.value} -> {status.value}")],
            extra={"from": report.status.value, "to": status.value},
        )
    report.status = status
    report.review_note = note if note is not None else report.review_note
    report.reviewed_at = utcnow()
    report.reviewed_by_id = caller.user_id
    session.flush()
    return report
