"""EPCIS traceability: capture rate against bare inserts, and journey time at 1,000,000 stored
events against 1,000, on SQLite and PostgreSQL.

Every measurement runs in its own subprocess on a fresh, migrated database, and ratios are
computed from numbers measured in this one run:

- capture: documents of 100 events each through the whole capture service (JSON Schema and CBV
  validation, hash IDs, identifier normalisation, product ownership and location checks,
  idempotency lookups, inserts, one transparency-log entry per event), one commit per
  document. The baseline inserts the very rows capture stored (events, identifier rows,
  organisation rows: exported after the capture run) into a fresh database with plain
  executemany, one transaction per 100 events, and nothing else. Ratio = capture rate / bare
  rate (how much of the database's raw insert speed capture keeps).
- journey: a dataset of N events (chains of harvest -> processing -> packing -> shipping ->
  receiving, 5 events each, every chain with its own lots, units and case) is bulk-inserted,
  then the journey of one unit, both directions, is timed (median of repeated runs) at
  N = 1,000 and N = 1,000,000 (BRANDTRACE_BENCH_EVENTS). Target: at most 2x.

PostgreSQL runs when a server answers at BRANDTRACE_BENCH_PG (default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres); scratch databases are dropped after.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.support import PG_SERVER, Scratch, postgres_available

DOCUMENTS = int(os.environ.get("BRANDTRACE_BENCH_DOCUMENTS", "20"))
EVENTS_PER_DOCUMENT = 100
BIG = int(os.environ.get("BRANDTRACE_BENCH_EVENTS", "1000000"))
SMALL = 1000
JOURNEY_RUNS = 25
BASE_URL = "https://brand.example.test"
CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
LEAF_GTIN = "06901234560015"
TEA_GTIN = "06901234560022"
GLN = "6901234562002"
CHAIN = 5  # events per chain


# --- inside a worker subprocess ---------------------------------------------------------------


def _app(url: str) -> Any:
    from app import create_app

    app = create_app(
        {
            "DATABASE_URL": url,
            "ENV_NAME": "testing",
            "TESTING": True,
            "SECRET_KEY": "bench-secret-key-" + "x" * 32,
            "BASE_URL": BASE_URL,
            "KEY_DIR": tempfile.mkdtemp(),
            "PASSWORD_HASH_MEMORY_KIB": 64,
            "PASSWORD_HASH_TIME_COST": 1,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    app.app_context().push()
    from alembic import command

    from app.cli import alembic_config

    command.upgrade(alembic_config(), "head")
    return app


def _firm(session: Any) -> Any:
    """A firm with its leaf and tea products and a registered factory; returns its caller."""
    from app.auth import services as auth
    from app.auth.models import OrgKind, Role
    from app.products import services as products
    from app.trace.models import LocationKind
    from app.trace.services import register_location

    firm = auth.create_organisation(
        session, slug="bench-firm", kind=OrgKind.ENTERPRISE, name_zh="企业", name_en="Firm"
    )
    user = auth.create_user(
        session,
        organisation=firm,
        email="bench@firm.example",
        display_name="Bench",
        role=Role.ADMIN,
        password="bench-password-123",  # noqa: S106 - a throwaway scratch database
    )
    caller = auth.caller_for(user)
    for gtin, name in ((LEAF_GTIN, "Leaf"), (TEA_GTIN, "Tea")):
        products.register_product(session, caller, gtin=gtin, name_zh=name, name_en=name)
    register_location(
        session,
        caller,
        gln=GLN,
        extension=None,
        kind=LocationKind.FACTORY,
        name_zh="厂",
        name_en="Factory",
    )
    session.commit()
    return caller


def _document(number: int) -> dict[str, Any]:
    """100 distinct events: 20 chains of harvest, processing, packing, shipping, receiving."""
    events: list[dict[str, Any]] = []
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=number)
    for chain in range(EVENTS_PER_DOCUMENT // CHAIN):
        events.extend(_chain_documents(f"D{number}C{chain}", start + timedelta(minutes=chain)))
    return {
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": start.isoformat(),
        "epcisBody": {"eventList": events},
    }


def _chain_documents(key: str, start: datetime) -> list[dict[str, Any]]:
    leaf = f"https://id.gs1.org/01/{LEAF_GTIN}/10/L{key}"
    tea = f"https://id.gs1.org/01/{TEA_GTIN}/10/T{key}"
    units = [f"{BASE_URL}/01/{TEA_GTIN}/10/T{key}/21/{key}U{i}" for i in range(3)]
    case = f"https://example.com/cases/{key}"
    place = {"id": f"https://id.gs1.org/414/{GLN}"}

    def at(hours: int) -> dict[str, str]:
        return {
            "eventTime": (start + timedelta(hours=hours)).isoformat(),
            "eventTimeZoneOffset": "+00:00",
        }

    return [
        {
            "type": "ObjectEvent",
            **at(0),
            "action": "ADD",
            "epcList": [],
            "quantityList": [{"epcClass": leaf, "quantity": 100, "uom": "KGM"}],
            "bizStep": "commissioning",
            "readPoint": place,
        },
        {
            "type": "TransformationEvent",
            **at(1),
            "inputQuantityList": [{"epcClass": leaf, "quantity": 100, "uom": "KGM"}],
            "outputQuantityList": [{"epcClass": tea, "quantity": 20, "uom": "KGM"}],
            "outputEPCList": units,
            "bizStep": "commissioning",
            "readPoint": place,
        },
        {
            "type": "AggregationEvent",
            **at(2),
            "action": "ADD",
            "parentID": case,
            "childEPCs": units,
            "bizStep": "packing",
            "readPoint": place,
        },
        {
            "type": "ObjectEvent",
            **at(3),
            "action": "OBSERVE",
            "epcList": [case],
            "bizStep": "shipping",
            "disposition": "in_transit",
            "readPoint": place,
            "sensorElementList": [
                {"sensorReport": [{"type": "gs1:Temperature", "value": 6.5, "uom": "CEL"}]}
            ],
        },
        {
            "type": "ObjectEvent",
            **at(4),
            "action": "OBSERVE",
            "epcList": [case],
            "bizStep": "receiving",
            "disposition": "sellable_accessible",
            "readPoint": place,
        },
    ]


_TABLES = ("epcis_events", "epcis_event_epcs", "epcis_event_organisations")


def _export_rows(session: Any, path: str) -> None:
    """The rows capture stored, for the bare baseline (JSON lines, one table per line)."""
    from sqlalchemy import text

    with open(path, "w", encoding="utf-8") as out:
        for table in _TABLES:
            result = session.execute(text(f"SELECT * FROM {table} ORDER BY 1"))  # noqa: S608
            columns = list(result.keys())
            rows = [[_plain(v) for v in row] for row in result]
            out.write(json.dumps({"table": table, "columns": columns, "rows": rows}) + "\n")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dict | list):
        return {"$json": json.dumps(value)}
    return value


def _restore(value: Any, dialect: str) -> Any:
    if isinstance(value, dict) and "$dt" in value:
        moment = datetime.fromisoformat(value["$dt"])
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).replace(tzinfo=None) if dialect == "sqlite" else moment
    if isinstance(value, dict) and "$json" in value:
        return value["$json"]
    return value


def capture_worker(url: str, rows_path: str) -> dict[str, Any]:
    from app.extensions import db
    from app.trace.capture import CaptureLimits, capture_document

    _app(url)
    session = db.new_session(writer=True)
    caller = _firm(session)
    documents = [_document(n) for n in range(DOCUMENTS)]
    bodies = [json.dumps(d).encode() for d in documents]
    started = time.perf_counter()
    for document, raw in zip(documents, bodies, strict=True):
        capture_document(
            session,
            caller,
            document,
            raw=raw,
            base_url=BASE_URL,
            limits=CaptureLimits(),
        )
        session.commit()
    seconds = time.perf_counter() - started
    _export_rows(session, rows_path)
    session.close()
    return {"seconds": seconds, "events": DOCUMENTS * EVENTS_PER_DOCUMENT}


def bare_worker(url: str, rows_path: str) -> dict[str, Any]:
    from app.extensions import db

    _app(url)
    session = db.new_session(writer=True)
    _firm(session)
    # The capture jobs the events point to exist before the timed inserts (same ids).
    from app.trace.models import CaptureJob

    dialect = session.get_bind().dialect.name
    tables = [json.loads(line) for line in Path(rows_path).read_text().splitlines()]
    for number in range(DOCUMENTS):
        session.add(
            CaptureJob(
                capture_id=f"bench-{number}",
                organisation_id=1,
                user_id=1,
                error_behaviour="rollback",
                status="succeeded",
                event_count=100,
                captured_count=100,
                duplicate_count=0,
                rejected_count=0,
                errors=[],
                document_sha256="0" * 64,
                document_bytes=0,
                finished_at=datetime.now(UTC),
            )
        )
    session.commit()
    prepared = {
        t["table"]: (t["columns"], [tuple(_restore(v, dialect) for v in row) for row in t["rows"]])
        for t in tables
    }
    events_columns, event_rows = prepared["epcis_events"]
    event_index = events_columns.index("id")
    by_event: dict[str, dict[Any, list[tuple[Any, ...]]]] = {}
    for table in _TABLES[1:]:
        columns, rows = prepared[table]
        position = columns.index("event_id")
        grouped: dict[Any, list[tuple[Any, ...]]] = {}
        for row in rows:
            grouped.setdefault(row[position], []).append(row)
        by_event[table] = grouped
    raw = db.engine.raw_connection().driver_connection
    mark = "%s" if dialect == "postgresql" else "?"
    statements = {
        table: f"INSERT INTO {table} ({', '.join(prepared[table][0])}) VALUES "  # noqa: S608
        f"({', '.join([mark] * len(prepared[table][0]))})"
        for table in _TABLES
    }
    session.commit()
    started = time.perf_counter()
    for offset in range(0, len(event_rows), EVENTS_PER_DOCUMENT):
        chunk = event_rows[offset : offset + EVENTS_PER_DOCUMENT]
        cursor = raw.cursor()
        if dialect == "sqlite":
            cursor.execute("BEGIN")
        cursor.executemany(statements["epcis_events"], chunk)
        for table in _TABLES[1:]:
            children = [r for row in chunk for r in by_event[table].get(row[event_index], [])]
            cursor.executemany(statements[table], children)
        raw.commit()
        cursor.close()
    seconds = time.perf_counter() - started
    session.close()
    return {"seconds": seconds, "events": len(event_rows)}


def _bulk_events(session: Any, count: int, caller: Any) -> str:
    """Insert ``count`` events as chains of 5 straight into the tables; return the URI of the
    unit whose journey is timed (a chain in the middle)."""
    from app.trace.models import CaptureJob

    job = CaptureJob(
        capture_id="bulk",
        organisation_id=caller.organisation_id,
        user_id=caller.user_id,
        error_behaviour="rollback",
        status="succeeded",
        event_count=count,
        captured_count=count,
        duplicate_count=0,
        rejected_count=0,
        errors=[],
        document_sha256="0" * 64,
        document_bytes=0,
        finished_at=datetime.now(UTC),
    )
    session.add(job)
    session.commit()
    from app.extensions import db

    dialect = session.get_bind().dialect.name
    session.close()
    raw = db.engine.raw_connection().driver_connection
    org = caller.organisation_id
    chains = count // CHAIN
    base = datetime(2025, 1, 1, tzinfo=UTC)
    steps = (
        ("ObjectEvent", "ADD", "BizStep-commissioning"),
        ("TransformationEvent", None, "BizStep-commissioning"),
        ("AggregationEvent", "ADD", "BizStep-packing"),
        ("ObjectEvent", "OBSERVE", "BizStep-shipping"),
        ("ObjectEvent", "OBSERVE", "BizStep-receiving"),
    )
    place = f"https://id.gs1.org/414/{GLN}"
    event_id = 0
    events: list[tuple[Any, ...]] = []
    epcs: list[tuple[Any, ...]] = []
    organisations: list[tuple[Any, ...]] = []
    batch_size = 50_000
    columns_events = (
        "id, hash_id, epcis_event_id, event_type, action, event_time, time_zone_offset, "
        "record_time, biz_step, disposition, read_point, biz_location, capture_job_id, "
        "organisation_id, user_id, document"
    )
    columns_epcs = "event_id, role, uri, gtin, lot, serial, quantity, uom, owner_organisation_id"

    def flush() -> None:
        if not events:
            return
        if dialect == "postgresql":
            with raw.cursor() as cursor:
                for table, columns, rows in (
                    ("epcis_events", columns_events, events),
                    ("epcis_event_epcs", columns_epcs, epcs),
                    (
                        "epcis_event_organisations",
                        "event_id, organisation_id, relation",
                        organisations,
                    ),
                ):
                    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
        else:
            cursor = raw.cursor()
            cursor.execute("BEGIN")
            cursor.executemany(
                f"INSERT INTO epcis_events ({columns_events}) VALUES ({', '.join('?' * 16)})",  # noqa: S608
                events,
            )
            cursor.executemany(
                f"INSERT INTO epcis_event_epcs ({columns_epcs}) VALUES ({', '.join('?' * 9)})",  # noqa: S608
                epcs,
            )
            cursor.executemany(
                "INSERT INTO epcis_event_organisations (event_id, organisation_id, relation) "
                "VALUES (?, ?, ?)",
                organisations,
            )
            cursor.close()
        raw.commit()
        events.clear()
        epcs.clear()
        organisations.clear()

    def moment(value: datetime) -> Any:
        return value.replace(tzinfo=None) if dialect == "sqlite" else value

    for chain in range(chains):
        key = f"K{chain}"
        leaf_lot, tea_lot = f"L{key}", f"T{key}"
        leaf = f"https://id.gs1.org/01/{LEAF_GTIN}/10/{leaf_lot}"
        tea = f"https://id.gs1.org/01/{TEA_GTIN}/10/{tea_lot}"
        units = [(f"https://id.gs1.org/01/{TEA_GTIN}/21/{key}U{i}", f"{key}U{i}") for i in range(3)]
        case = f"https://example.com/cases/{key}"
        start = base + timedelta(minutes=chain)
        links_per_step = (
            [("quantity", leaf, LEAF_GTIN, leaf_lot, None)],
            [("input_quantity", leaf, LEAF_GTIN, leaf_lot, None)]
            + [("output_quantity", tea, TEA_GTIN, tea_lot, None)]
            + [("output", uri, TEA_GTIN, tea_lot, serial) for uri, serial in units],
            [("parent", case, None, None, None)]
            + [("child", uri, TEA_GTIN, tea_lot, serial) for uri, serial in units],
            [("epc", case, None, None, None)],
            [("epc", case, None, None, None)],
        )
        for step, (event_type, action, biz_step) in enumerate(steps):
            event_id += 1
            digest = hashlib.sha256(f"{key}/{step}".encode()).hexdigest()
            hash_id = f"ni:///sha-256;{digest}?ver=CBV2.0"
            when = start + timedelta(hours=step)
            document = json.dumps({"type": event_type, "eventTime": when.isoformat()})
            events.append(
                (
                    event_id,
                    hash_id,
                    hash_id,
                    event_type,
                    action,
                    moment(when),
                    "+00:00",
                    moment(when),
                    f"https://ref.gs1.org/cbv/{biz_step}",
                    None,
                    place,
                    None,
                    job.id,
                    org,
                    caller.user_id,
                    document,
                )
            )
            for role, uri, gtin, lot, serial in links_per_step[step]:
                owner = org if gtin else None
                epcs.append((event_id, role, uri, gtin, lot, serial, None, None, owner))
            organisations.append((event_id, org, "captured"))
            organisations.append((event_id, org, "owner"))
        if len(events) >= batch_size:
            flush()
    flush()
    if dialect == "postgresql":
        with raw.cursor() as cursor:
            cursor.execute("SELECT setval('epcis_events_id_seq', %s)", (event_id,))
            cursor.execute("ANALYZE")
        raw.commit()
    else:
        raw.execute("ANALYZE")
        raw.commit()
    middle = chains // 2
    return f"https://id.gs1.org/01/{TEA_GTIN}/21/K{middle}U1"


def journey_worker(url: str, count: int) -> dict[str, Any]:
    from app.extensions import db
    from app.trace.identifiers import identify
    from app.trace.journeys import Direction, trace_journey

    _app(url)
    session = db.new_session(writer=True)
    caller = _firm(session)
    started = time.perf_counter()
    target = _bulk_events(session, count, caller)
    load_seconds = time.perf_counter() - started
    visible = frozenset({caller.organisation_id})
    start = identify(target)
    timings = []
    steps = 0
    for _ in range(JOURNEY_RUNS):
        session.expunge_all()  # no identity-map shortcuts between runs
        began = time.perf_counter()
        journey = trace_journey(session, start, Direction.BOTH, visible=visible)
        timings.append(time.perf_counter() - began)
        steps = len(journey.steps)
    session.close()
    return {
        "median_ms": statistics.median(timings) * 1000,
        "steps": steps,
        "load_seconds": load_seconds,
        "events": (count // CHAIN) * CHAIN,
    }


# --- the parent -------------------------------------------------------------------------------


def _run(*args: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.bench_trace", "--worker", *args],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "BRANDTRACE_LOG_LEVEL": "ERROR"},
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    backends = ["sqlite"] + (["postgresql"] if postgres_available() else [])
    if "postgresql" not in backends:
        print(f"PostgreSQL not reachable at {PG_SERVER}: skipped")
    for backend in backends:
        with tempfile.TemporaryDirectory() as folder:
            rows = str(Path(folder) / "rows.jsonl")
            with Scratch(backend) as url:
                captured = _run("capture", url, rows)
            with Scratch(backend) as url:
                bare = _run("bare", url, rows)
        capture_rate = captured["events"] / captured["seconds"]
        bare_rate = bare["events"] / bare["seconds"]
        print(
            f"{backend:10} capture {captured['events']:,} events in documents of "
            f"{EVENTS_PER_DOCUMENT}: {capture_rate:,.0f} events/s; bare inserts of the same rows: "
            f"{bare_rate:,.0f} events/s; ratio {capture_rate / bare_rate:.3f}",
            flush=True,
        )
        journeys: dict[int, dict[str, Any]] = {}
        for count in (SMALL, BIG):
            with Scratch(backend) as url:
                journeys[count] = _run("journey", url, str(count))
        small, big = journeys[SMALL], journeys[BIG]
        print(
            f"{backend:10} journey of a unit (both directions, {big['steps']} events): "
            f"{small['median_ms']:.2f} ms at {small['events']:,} events, "
            f"{big['median_ms']:.2f} ms at {big['events']:,} events "
            f"(loaded in {big['load_seconds']:.0f} s); ratio "
            f"{big['median_ms'] / small['median_ms']:.2f} (target <= 2)",
            flush=True,
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        mode = sys.argv[2]
        if mode == "capture":
            result = capture_worker(sys.argv[3], sys.argv[4])
        elif mode == "bare":
            result = bare_worker(sys.argv[3], sys.argv[4])
        else:
            result = journey_worker(sys.argv[3], int(sys.argv[4]))
        print(json.dumps(result))
    else:
        main()
