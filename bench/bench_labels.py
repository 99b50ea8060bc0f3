"""Label codes: issuing 1,000,000 codes for one order vs a bare bulk insert of the same rows,
on SQLite and PostgreSQL, with peak memory; streaming a 100,000-label CSV export.

Every measurement runs in its own subprocess on a fresh database (peak RSS is then the
measurement's own), and ratios are computed from numbers measured in this one run:

- issue rate / bare insert rate (target >= 0.5): issuing draws CSPRNG serials, inserts them
  in savepointed chunks through COPY (PostgreSQL) or executemany (SQLite) and digests them;
  the bare insert writes pre-drawn rows of the same shape into the same table with the same
  driver path in one go, and nothing else.
- peak memory of issuing (target < 300 MB), as the subprocess's maximum resident set size.
- CSV export of 100,000 codes through the real endpoint: time to first byte (target < 1 s)
  and Python heap peak while streaming 10,000 vs 100,000 rows (flat: about the same).

PostgreSQL runs when a server answers at BRANDTRACE_BENCH_PG (default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres); scratch databases are dropped after.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.support import PG_SERVER, Scratch, postgres_available

CODES = int(os.environ.get("BRANDTRACE_BENCH_CODES", "1000000"))
EXPORT_CODES = int(os.environ.get("BRANDTRACE_BENCH_EXPORT_CODES", "100000"))


# --- inside a worker subprocess ---------------------------------------------------------------


def _app(url: str) -> Any:
    from app import create_app

    return create_app(
        {
            "DATABASE_URL": url,
            "ENV_NAME": "testing",
            "TESTING": True,
            "SECRET_KEY": "bench-secret-key-" + "x" * 32,
            "BASE_URL": "https://brand.example.test",
            "KEY_DIR": tempfile.mkdtemp(),
            "PASSWORD_HASH_MEMORY_KIB": 64,
            "PASSWORD_HASH_TIME_COST": 1,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )


def _setup(session: Any, quantity: int) -> tuple[Any, Any]:
    """On the demo (brand, standard, granted decision, firm): a new product certified with a
    quota large enough, its batch, and a pending order of ``quantity`` codes."""
    from datetime import date, timedelta

    from flask import current_app
    from sqlalchemy import select

    from app.audits.models import AuditDecision
    from app.auth import services as auth
    from app.auth.models import Organisation, User
    from app.brands.models import Brand
    from app.certificates import credentials
    from app.db import utcnow
    from app.demo.seed import seed_demo
    from app.gs1.identifiers import compute_check_digit
    from app.products import services
    from app.standards.models import StandardVersion

    seed_demo(session, current_app.config["BASE_URL"])
    user = session.scalar(select(User).where(User.email == "admin@hongxiang-tea.example"))
    caller = auth.caller_for(user)
    gtin = "0690999888777" + compute_check_digit("690999888777")
    product = services.register_product(session, caller, gtin=gtin, name_zh="茶", name_en="Tea")
    batch = services.create_batch(session, caller, product.id, lot="BENCH-LOT-1")
    association = session.scalar(
        select(Organisation).where(Organisation.slug == "qimen-tea-association")
    )
    now = utcnow()
    credentials.issue_certificates(
        session,
        association,
        [
            credentials.CertificateFacts(
                firm_id=caller.organisation_id,
                brand_id=session.scalar(select(Brand.id).order_by(Brand.id)),
                decision_id=session.scalar(select(AuditDecision.id).order_by(AuditDecision.id)),
                standard_version_id=session.scalar(
                    select(StandardVersion.id).order_by(StandardVersion.id)
                ),
                standard=credentials.StandardRef(
                    code="T/QMTA 001-2024", version="1.0", content_hash="sha256:" + "ab" * 32
                ),
                gtins=[gtin],
                sites=[credentials.Site("Bench factory")],
                label_quota=2 * quantity,
                valid_from=now - timedelta(minutes=1),
                valid_until=now + timedelta(days=365),
                assessment=credentials.AssessmentRef(audit_url=None, assessment_date=date.today()),
            )
        ],
    )
    order = services.order_labels(session, caller, batch.id, quantity=quantity)
    return order, user


def _migrated(url: str) -> Any:
    app = _app(url)
    app.app_context().push()
    from alembic import command

    from app.cli import alembic_config

    command.upgrade(alembic_config(), "head")
    return app


def worker(mode: str, url: str) -> dict[str, Any]:
    _migrated(url)
    from app.extensions import db
    from app.products import services
    from app.products.serials import draw_serials

    session = db.new_session(writer=True)
    order, user = _setup(session, CODES)
    session.commit()
    result: dict[str, Any] = {}
    if mode == "issue":
        started = time.perf_counter()
        services.issue_order(session, order, organisation_id=order.organisation_id)
        session.commit()
        result["seconds"] = time.perf_counter() - started
    elif mode == "bare":
        serials = draw_serials(CODES)
        rows = [(order.id, order.product_id, serial, None) for serial in serials]
        started = time.perf_counter()
        _bare_insert(session, rows)
        session.commit()
        result["seconds"] = time.perf_counter() - started
    elif mode == "export":
        result.update(_export(session, order, user))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    session.close()
    return result


def _bare_insert(session: Any, rows: list[tuple[int, int, str, None]]) -> None:
    """The baseline: the same rows through the same driver path, in one go, nothing else."""
    raw = session.connection().connection.driver_connection
    if session.get_bind().dialect.name == "postgresql":
        text = "".join(f"{o}\t{p}\t{s}\t\\N\n" for o, p, s, _ in rows)
        statement = "COPY unit_codes (order_id, product_id, serial, signature) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(text)
    else:
        raw.executemany(
            "INSERT INTO unit_codes (order_id, product_id, serial, signature) VALUES (?, ?, ?, ?)",
            rows,
        )


def _export(session: Any, order: Any, user: Any) -> dict[str, Any]:
    import tracemalloc

    from flask import current_app

    from app.auth import services as auth
    from app.products import services

    token = auth.issue_token(session, user, name="bench").secret
    caller = auth.caller_for(user)
    small = services.order_labels(session, caller, order.batch_id, quantity=EXPORT_CODES // 10)
    services.cancel_order(session, caller, order.id)
    large = services.order_labels(session, caller, order.batch_id, quantity=EXPORT_CODES)
    for target in (small, large):
        services.issue_order(session, target, organisation_id=caller.organisation_id)
    session.commit()
    client = current_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, Any] = {}
    for key, target in (("small", small), ("large", large)):
        url = f"/api/v1/label-orders/{target.id}/codes.csv"
        # Timed without tracemalloc (which slows Python down), then again for the heap peak.
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        chunks = response.iter_encoded()
        first = next(chunks)
        out[f"{key}_first_byte_s"] = time.perf_counter() - started
        size, lines = len(first), first.count(b"\n")
        for chunk in chunks:
            size += len(chunk)
            lines += chunk.count(b"\n")
        out[f"{key}_total_s"] = time.perf_counter() - started
        response.close()
        out[f"{key}_rows"] = lines - 1
        out[f"{key}_bytes"] = size
        tracemalloc.start()
        response = client.get(url, headers=headers)
        for _chunk in response.iter_encoded():
            pass
        out[f"{key}_heap_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        response.close()
    return out


# --- the parent -------------------------------------------------------------------------------


def _run(mode: str, url: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.bench_labels", "--worker", mode, url],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "BRANDTRACE_LOG_LEVEL": "ERROR"},
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{mode} on {url} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    backends = ["sqlite"] + (["postgresql"] if postgres_available() else [])
    if "postgresql" not in backends:
        print(f"PostgreSQL not reachable at {PG_SERVER}: skipped")
    for backend in backends:
        measured: dict[str, dict[str, Any]] = {}
        for mode in ("bare", "issue"):
            with Scratch(backend) as url:
                measured[mode] = _run(mode, url)
        bare, issue = measured["bare"], measured["issue"]
        bare_rate = CODES / bare["seconds"]
        issue_rate = CODES / issue["seconds"]
        print(
            f"{backend:10} issue {CODES:,} codes: {issue['seconds']:.2f} s ({issue_rate:,.0f}/s); "
            f"bare bulk insert: {bare['seconds']:.2f} s ({bare_rate:,.0f}/s); "
            f"ratio {issue_rate / bare_rate:.2f} (target >= 0.5); "
            f"peak RSS issue {issue['peak_rss_mb']:.0f} MB (target < 300), "
            f"bare {bare['peak_rss_mb']:.0f} MB"
        )
        with Scratch(backend) as url:
            export = _run("export", url)
        print(
            f"{backend:10} CSV export {export['large_rows']:,} codes: first byte "
            f"{export['large_first_byte_s'] * 1000:.0f} ms (target < 1000), total "
            f"{export['large_total_s']:.2f} s "
            f"({export['large_rows'] / export['large_total_s']:,.0f} rows/s); "
            f"heap peak {export['large_heap_peak_mb']:.1f} MB for "
            f"{export['large_rows']:,} rows vs {export['small_heap_peak_mb']:.1f} MB for "
            f"{export['small_rows']:,} (ratio "
            f"{export['large_heap_peak_mb'] / export['small_heap_peak_mb']:.2f}; flat ~1)"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        print(json.dumps(worker(sys.argv[2], sys.argv[3])))
    else:
        main()
