"""Transparency log: append rate in batches, and proof time as the log grows (SQLite).

Targets (issue 8): appending >= 2,000 entries/s on SQLite; inclusion and consistency proofs at
1,000,000 entries at most 3x slower than at 1,000 (proofs read O(log n) stored nodes, never the
whole tree). Every figure is measured in this run and printed with its ratio.

The big logs are built the way a bulk import would be: entry rows inserted in bulk, then one
``integrate`` call, which turns them into stored nodes in batches and signs one checkpoint.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from flask import Flask
from sqlalchemy import update

from app import create_app
from app.cli import alembic_config
from app.db import utcnow
from app.extensions import db
from app.transparency import merkle, services
from app.transparency.audit import audit_log
from app.transparency.entry import EntryType, make_entry
from app.transparency.models import LogState

APPEND_TARGET = 2_000  # entries per second
PROOF_RATIO_TARGET = 3.0
APPEND_BATCH = 500
APPEND_BATCHES = 20
PROOF_SIZES = (1_000, 100_000, 1_000_000)
PROOF_SAMPLES = 400
BULK_CHUNK = 20_000


@contextmanager
def deployment(directory: Path, name: str) -> Iterator[Flask]:
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{directory / f'{name}.sqlite3'}",
            "ENV_NAME": "testing",
            "SECRET_KEY": "bench-secret-key-" + "x" * 32,
            "BASE_URL": "https://brand.example.test",
            "KEY_DIR": str(directory / "keys"),
        }
    )
    with app.app_context():
        command.upgrade(alembic_config(), "head")
        yield app


def _event(batch: int, i: int) -> services.NewEntry:
    return services.NewEntry(
        entry_type=EntryType.EPCIS_EVENT_CAPTURED,
        record_type="epcis_event",
        record_id=f"{batch}-{i}",
        content={"eventID": f"urn:uuid:{batch}-{i}", "bizStep": "shipping"},
        organisation_id=None,
    )


def measure_appends(app: Flask, *, one_by_one: bool) -> float:
    """Entries per second, ``APPEND_BATCH`` per committed transaction (each commit integrates
    its entries and signs a checkpoint): through ``append_entries`` (one call per batch) or
    through ``append_entry`` (one call per entry)."""
    started = time.perf_counter()
    for batch in range(APPEND_BATCHES):
        session = db.new_session(writer=True)
        items = [_event(batch, i) for i in range(APPEND_BATCH)]
        if one_by_one:
            for item in items:
                services.append_entry(session, **vars(item))
        else:
            services.append_entries(session, items)
        session.commit()
        session.close()
    return APPEND_BATCH * APPEND_BATCHES / (time.perf_counter() - started)


def measure_raw_inserts(app: Flask) -> float:
    """Baseline: the same number of entry rows inserted in bulk with no log machinery at all."""
    session = db.new_session(writer=True)
    first = session.query(LogState).one().next_index
    rows = _synthetic_rows(first, APPEND_BATCH * APPEND_BATCHES)
    started = time.perf_counter()
    _insert_rows(session, rows)
    elapsed = time.perf_counter() - started
    session.rollback()
    session.close()
    return len(rows) / elapsed


_INSERT_ENTRY = (
    "INSERT INTO log_entries (log_index, entry_type, record_type, record_id, content_sha256, "
    "organisation_id, occurred_at, entry, leaf_hash, created_at) "
    "VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)"
)


def _synthetic_rows(first: int, count: int) -> list[tuple[Any, ...]]:
    """Rows for ``log_entries`` in SQLite's storage form, for the driver's executemany.

    One real entry serves as a template; substituting the id keeps the bytes canonical (JCS)
    because the ids are plain ASCII. Building 10^6 entries through make_entry (pure-Python JCS)
    and SQLAlchemy's per-row parameter processing would dominate the run without measuring
    anything about the log; the integration that follows is the service's own code.
    """
    occurred_at = utcnow()
    template = make_entry(
        entry_type=EntryType.EPCIS_EVENT_CAPTURED,
        record_type="epcis_event",
        record_id="RECORD-ID",
        content=b"",
        occurred_at=occurred_at,
        organisation=None,
    )
    text = template.canonical.replace(template.content_sha256.encode(), b"CONTENT-HASH")
    stored_time = occurred_at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    rows = []
    for index in range(first, first + count):
        digest = hashlib.sha256(index.to_bytes(8, "big")).hexdigest()
        entry = text.replace(b"RECORD-ID", str(index).encode()).replace(
            b"CONTENT-HASH", digest.encode()
        )
        rows.append(
            (
                index,
                EntryType.EPCIS_EVENT_CAPTURED.value,
                "epcis_event",
                str(index),
                digest,
                stored_time,
                entry,
                merkle.leaf_hash(entry),
                stored_time,
            )
        )
    return rows


def _insert_rows(session: Any, rows: list[tuple[Any, ...]]) -> None:
    session.connection().exec_driver_sql(_INSERT_ENTRY, rows)


def build_log(app: Flask, size: int) -> float:
    """A log of ``size`` entries: bulk rows, then one ``integrate``; returns integrate's time."""
    session = db.new_session(writer=True)
    services.ensure_log(session)  # entry 0: the log's key
    session.commit()
    for start in range(1, size, BULK_CHUNK):
        count = min(BULK_CHUNK, size - start)
        _insert_rows(session, _synthetic_rows(start, count))
    session.execute(
        update(LogState)
        .where(LogState.id == 1)
        .values(next_index=size)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    started = time.perf_counter()
    checkpoint = services.integrate(session)
    session.commit()
    elapsed = time.perf_counter() - started
    assert checkpoint is not None and checkpoint.tree_size == size
    session.close()
    return elapsed


def time_per_call(call: Callable[[int], object], arguments: list[int]) -> float:
    """Median seconds per call over ``arguments`` (after a short warm-up)."""
    for argument in arguments[:20]:
        call(argument)
    samples = []
    for argument in arguments:
        started = time.perf_counter()
        call(argument)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def measure_proofs(app: Flask, size: int) -> tuple[float, float]:
    session = db.new_session()
    rng = random.Random(size)
    indices = [rng.randrange(size) for _ in range(PROOF_SAMPLES)]
    olds = [rng.randrange(1, size) for _ in range(PROOF_SAMPLES)]
    # Check a sample really verifies: a fast wrong proof would be worthless.
    root = services.latest_checkpoint(session).root_hash  # type: ignore[union-attr]
    for index in indices[:10]:
        proof = services.inclusion_proof(session, index=index)
        merkle.verify_inclusion(proof.leaf_hash, index, size, proof.hashes, root)
    inclusion = time_per_call(lambda i: services.inclusion_proof(session, index=i), indices)
    consistency = time_per_call(lambda old: services.consistency_proof(session, old), olds)
    session.close()
    return inclusion, consistency


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-tlog-") as tmp:
        directory = Path(tmp)
        with deployment(directory, "append") as app:
            raw = measure_raw_inserts(app)
            rate = measure_appends(app, one_by_one=False)
            single = measure_appends(app, one_by_one=True)
            report = audit_log(db.new_session())
            assert report.ok, report.problems
        print(
            f"append_entries, {APPEND_BATCH} per call and transaction: {rate:,.0f} entries/s "
            f"({rate / APPEND_TARGET:.1f}x the target; {rate / raw:.3f}x a raw bulk INSERT of "
            f"the same rows without hashing, sequencing or signing, {raw:,.0f} rows/s)"
        )
        print(
            f"append_entry, one call per entry, {APPEND_BATCH} per transaction: "
            f"{single:,.0f} entries/s ({single / rate:.2f}x the batch rate)"
        )

        results: dict[int, tuple[float, float]] = {}
        for size in PROOF_SIZES:
            with deployment(directory, f"proofs-{size}") as app:
                integration = build_log(app, size)
                results[size] = measure_proofs(app, size)
            inclusion, consistency = results[size]
            print(
                f"{size:>9,} entries: inclusion proof {inclusion * 1e6:,.0f} us, "
                f"consistency proof {consistency * 1e6:,.0f} us "
                f"(bulk integration {size / integration:,.0f} entries/s)"
            )
        small, large = PROOF_SIZES[0], PROOF_SIZES[-1]
        for label, position in (("inclusion", 0), ("consistency", 1)):
            ratio = results[large][position] / results[small][position]
            verdict = "ok" if ratio <= PROOF_RATIO_TARGET else "ABOVE TARGET"
            print(
                f"{label} proof time {large:,} / {small:,} entries: {ratio:.2f}x "
                f"(target <= {PROOF_RATIO_TARGET:.0f}x: {verdict})"
            )
        verdict = "ok" if rate >= APPEND_TARGET else "BELOW TARGET"
        print(f"append rate: {rate:,.0f}/s (target >= {APPEND_TARGET:,}/s: {verdict})")


if __name__ == "__main__":
    main()
