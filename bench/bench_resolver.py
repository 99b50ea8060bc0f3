"""Consumer verification under gunicorn against ``/livez`` of the same server, in one run, on
SQLite and PostgreSQL, with 1,000,000 unit codes stored.

The server is gunicorn as ``make run`` starts it (2 workers x 4 threads) on 127.0.0.1, with
the demo loaded and a million extra codes bulk-inserted into the demo's active label order.
``wrk`` (Debian package ``wrk``) drives it over loopback: first ``/livez`` (the same app,
touching no database), then ``GET /01/<gtin>/10/<lot>/21/<serial>`` with
``Accept: application/json`` over 10,000 different stored codes picked at random per request,
three rounds of both. Each verification is the full hot path: parse, look the code up with its
order, batch, product, certificate (standing included) and brand, check recalls, store the
scan with its tallies, evaluate the anomaly rules, and answer the verdict JSON. Target: the
verification rate >= 50% of the ``/livez`` rate, each side taken from its best round; a round
in which one gunicorn worker took every connection (and ran at half speed) is measured again.
Latency p50/p99 come from wrk.

Requests come from 5,000 shoppers: the server trusts one reverse proxy
(``BRANDTRACE_TRUSTED_PROXIES=1``, as behind nginx) and each request names one of 5,000 client
addresses at random in ``X-Forwarded-For``, /livez's as well. So the resolver's per-client rate
limit runs as configured for production (300 scans per minute per address), in memory as with
``make run`` (in Redis when ``BRANDTRACE_BENCH_REDIS`` names a server), and scans count shoppers
as real traffic does. (Earlier versions raised the limit to 100,000,000 per minute for a
single address instead: its moving window then held every request of the last minute, tens of
thousands, and each scan paid for shifting them.) Every answered scan is counted in the
database afterwards: stored scans >= answered requests (wrk does not count requests whose
answer arrived after it stopped reading).

PostgreSQL runs when a server answers at BRANDTRACE_BENCH_PG (default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres); its scratch database is dropped after.
``BRANDTRACE_BENCH_CODES`` changes the number of stored codes (default 1,000,000),
``BRANDTRACE_BENCH_SECONDS`` the length of each measurement, ``BRANDTRACE_BENCH_WORKERS`` and
``BRANDTRACE_BENCH_THREADS`` the server (default 2 x 4, as ``make run``).
"""

from __future__ import annotations

import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get(
    "BRANDTRACE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
CODES = int(os.environ.get("BRANDTRACE_BENCH_CODES", "1000000"))
SAMPLE = 10_000
DURATION = int(os.environ.get("BRANDTRACE_BENCH_SECONDS", "10"))
ROUNDS = 3
CONNECTIONS = 8
WORKERS = int(os.environ.get("BRANDTRACE_BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BRANDTRACE_BENCH_THREADS", "4"))
SECRET = "bench-secret-key-" + "x" * 32
ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
JSON = "application/json"
# Shoppers: wrk's requests come from this many addresses, as a reverse proxy in front of the
# server reports them (X-Forwarded-For, BRANDTRACE_TRUSTED_PROXIES=1).
SHOPPERS = 5_000
WSGI = """
from app import create_app

app = create_app({"RATELIMIT_KEY_PREFIX": "bench-resolver"})
"""


# Rate limits live in memory, as with `make run`, unless a Redis server is named here.
REDIS_URL = os.environ.get("BRANDTRACE_BENCH_REDIS")


def _redis_available() -> bool:
    if not REDIS_URL:
        return False
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def _environment(url: str, folder: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    if REDIS_URL and _redis_available():
        # Limits shared through Redis, as a deployment of several servers runs them.
        env["BRANDTRACE_REDIS_URL"] = REDIS_URL
    env.update(
        BRANDTRACE_DATABASE_URL=url,
        BRANDTRACE_SECRET_KEY=SECRET,
        BRANDTRACE_KEY_DIR=str(folder / "keys"),
        BRANDTRACE_BASE_URL=f"http://127.0.0.1:{port}",
        BRANDTRACE_LOG_LEVEL="WARNING",
        BRANDTRACE_ENV="production",
        BRANDTRACE_TRUSTED_PROXIES="1",
        PYTHONPATH=f"{folder}{os.pathsep}{ROOT}",
    )
    return env


def _prepare(url: str, folder: Path, port: int) -> tuple[str, str, list[str]]:
    """Migrate, load the demo, bulk-insert the codes; return (gtin, lot, sample serials)."""
    saved = dict(os.environ)
    os.environ.update(_environment(url, folder, port))
    try:
        from sqlalchemy import select

        from app import create_app
        from app.extensions import db
        from app.products.models import Batch as BatchModel
        from app.products.models import LabelOrder, Product

        application = create_app({"LOG_LEVEL": "WARNING"})
        with application.app_context():
            from alembic import command

            from app.cli import alembic_config
            from app.demo.seed import seed_demo

            command.upgrade(alembic_config(), "head")
            session = db.new_session(writer=True)
            demo = seed_demo(session, application.config["BASE_URL"])
            session.commit()
            order = session.get(LabelOrder, demo["label_order"]["id"])
            assert order is not None
            product = session.get(Product, order.product_id)
            batch = session.get(BatchModel, order.batch_id)
            assert product is not None and batch is not None
            gtin, lot, order_id, product_id = product.gtin, batch.lot, order.id, product.id
            session.close()
            started = time.perf_counter()
            sample = _bulk_insert(db.engine, order_id, product_id)
            print(
                f"  stored {CODES:,} codes in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            del select
        return gtin, lot, sample
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _serials(count: int, rng: random.Random) -> list[str]:
    return ["".join(rng.choices(ALPHABET, k=14)) for _ in range(count)]


def _bulk_insert(engine: Any, order_id: int, product_id: int) -> list[str]:
    """Insert the codes directly (the benchmark's fixture, not the issuing service)."""
    rng = random.Random(7)
    serials = list(dict.fromkeys(_serials(CODES + CODES // 100, rng)))[:CODES]
    chunk = 100_000
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            raw = connection.connection.dbapi_connection
            with (
                raw.cursor() as cursor,
                cursor.copy("COPY unit_codes (order_id, product_id, serial) FROM STDIN") as copy,
            ):
                for serial in serials:
                    copy.write_row((order_id, product_id, serial))
        else:
            raw = connection.connection.dbapi_connection
            cursor = raw.cursor()
            for start in range(0, len(serials), chunk):
                cursor.executemany(
                    "INSERT INTO unit_codes (order_id, product_id, serial) VALUES (?, ?, ?)",
                    [(order_id, product_id, s) for s in serials[start : start + chunk]],
                )
            cursor.close()
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE unit_codes")
            connection.commit()
    return rng.sample(serials, SAMPLE)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _gunicorn(url: str, folder: Path, port: int) -> Any:
    (folder / "bench_resolver_wsgi.py").write_text(WSGI)
    log = (folder / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(WORKERS),
            "--threads",
            str(THREADS),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "bench_resolver_wsgi:app",
        ],
        cwd=ROOT,
        env=_environment(url, folder, port),
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(
                        "gunicorn did not start: " + (folder / "gunicorn.log").read_text()[-2000:]
                    ) from None
                time.sleep(0.2)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _lua(folder: Path, name: str, paths: list[str], accept: str) -> Path:
    """A wrk script requesting ``paths`` at random, each request from one of ``SHOPPERS``
    client addresses at random (the same for /livez and verification)."""
    listed = ",\n".join(f'  "{path}"' for path in paths)
    script = folder / f"{name}.lua"
    script.write_text(
        "local paths = {\n" + listed + "\n}\n"
        "math.randomseed(42)\n"
        f'wrk.headers["Accept"] = "{accept}"\n'
        "request = function()\n"
        "  local shopper = math.random(" + str(SHOPPERS) + ")\n"
        '  wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.1", math.floor(shopper / 256), '
        "shopper % 256)\n"
        "  return wrk.format('GET', paths[math.random(#paths)])\n"
        "end\n"
    )
    return script


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:  # a database backend that ended
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def _database_pids() -> list[int]:
    """The PostgreSQL server's processes on this machine (its CPU counts against the scans:
    it shares the cores with the app and wrk)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _busy_share() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine so far (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def _balanced_wrk(server: Any, url: str, *extra: str, database: bool = False) -> dict[str, float]:
    """``_wrk`` in a round where every gunicorn worker served, with the CPU time it cost.

    The workers share one listening socket, and now and then one of them accepts all of wrk's
    keep-alive connections while the other idles: that round runs at about half speed (seen on
    /livez: 1,400 against 3,400 req/s, the idle worker's CPU time at zero). Such rounds are
    measured again (up to four times), so neither side of the ratio is halved by chance.

    Also measured: the workers' CPU time per answered request (``app_us``), the database
    server's (``db_us``, PostgreSQL), and how busy the machine was (``busy``: a share of both
    cores; near 1.0 means the rate is bound by CPU, lower by waiting)."""
    workers = [
        int(pid)
        for pid in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    ]
    tick = os.sysconf("SC_CLK_TCK")
    result: dict[str, float] = {}
    for _ in range(4):
        database_pids = _database_pids() if database else []
        before = [_cpu_ticks(pid) for pid in workers]
        database_before = sum(_cpu_ticks(pid) for pid in database_pids)
        busy_before = _busy_share()
        result = _wrk(url, *extra)
        busy_after = _busy_share()
        used = [_cpu_ticks(pid) - start for pid, start in zip(workers, before, strict=True)]
        database_used = sum(_cpu_ticks(pid) for pid in database_pids) - database_before
        answered = max(result["total"], 1)
        result["app_us"] = sum(used) / tick / answered * 1e6
        result["db_us"] = database_used / tick / answered * 1e6
        result["busy"] = (busy_after[0] - busy_before[0]) / max(busy_after[1] - busy_before[1], 1)
        result["balanced"] = float(min(used) >= 0.25 * max(max(used), 1))
        if result["balanced"]:
            break
    return result


def _wrk(url: str, *extra: str, seconds: int = DURATION) -> dict[str, float]:
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--latency",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)

    def percentile(name: str) -> float:
        match = re.search(rf"^\s+{name}%\s+([\d.]+)(us|ms|s)", output, re.MULTILINE)
        assert match, output
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return {
        "rate": rate,
        "total": total,
        "errors": int(errors.group(1)) if errors else 0,
        "p50": percentile("50"),
        "p99": percentile("99"),
    }


def _scan_count(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM scans")).scalar_one())
    finally:
        engine.dispose()


def _run(backend: str, url: str, folder: Path) -> None:
    port = _free_port()
    limits = REDIS_URL if "BRANDTRACE_REDIS_URL" in _environment(url, folder, 0) else "memory"
    print(f"-- {backend} (rate limits in {limits})", flush=True)
    gtin, lot, sample = _prepare(url, folder, port)
    script = _lua(folder, "verify", [f"/01/{gtin}/10/{lot}/21/{s}" for s in sample], JSON)
    livez_script = _lua(folder, "livez", ["/livez"], JSON)
    base = f"http://127.0.0.1:{port}"
    with _gunicorn(url, folder, port) as server:
        _wrk(base + "/", "-s", str(livez_script), seconds=2)  # warm up both paths
        _wrk(base + "/", "-s", str(script), seconds=2)
        before = _scan_count(url)
        rounds = []
        database = backend == "postgresql"
        for _ in range(ROUNDS):
            livez = _balanced_wrk(server, base + "/", "-s", str(livez_script), database=database)
            verify = _balanced_wrk(server, base + "/", "-s", str(script), database=database)
            rounds.append((livez, verify))
        stored = _scan_count(url) - before
    answered = sum(verify["total"] - verify["errors"] for _, verify in rounds)
    for number, (livez, verify) in enumerate(rounds, 1):
        print(
            f"  round {number}: /livez {livez['rate']:8.0f} req/s (p50 {livez['p50']:.2f} ms, "
            f"p99 {livez['p99']:.2f} ms) | verify {verify['rate']:8.0f} req/s "
            f"(p50 {verify['p50']:.2f} ms, p99 {verify['p99']:.2f} ms, "
            f"{verify['errors']} non-2xx) | ratio {verify['rate'] / livez['rate']:.2f}"
            + ("" if livez["balanced"] and verify["balanced"] else " (a worker idled)"),
            flush=True,
        )
        print(
            f"           CPU per request: /livez app {livez['app_us']:.0f} us | verify app "
            f"{verify['app_us']:.0f} us + database {verify['db_us']:.0f} us; machine busy "
            f"{livez['busy']:.0%} | {verify['busy']:.0%}",
            flush=True,
        )
    # Each side keeps its best round (see ``_balanced_wrk``).
    livez_rate = max(livez["rate"] for livez, _ in rounds)
    verify_rate = max(verify["rate"] for _, verify in rounds)
    print(
        f"  {backend}: verification / livez = {verify_rate / livez_rate:.2f} (best rounds: "
        f"{verify_rate:.0f} / {livez_rate:.0f} req/s) "
        f"(target >= 0.50) with {CODES:,} codes stored; "
        f"scans stored {stored:,} >= answered {answered:,}: {stored >= answered}",
        flush=True,
    )


def _postgres_available() -> bool:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_SERVER)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def main() -> None:
    if shutil.which("wrk") is None:
        print("wrk not found: install the Debian package (apt-get install -y wrk)")
        return
    backends = sys.argv[2:] if len(sys.argv) > 2 and sys.argv[1] == "resolver" else []
    wanted = [b for b in backends if b in ("sqlite", "postgresql")] or ["sqlite", "postgresql"]
    for backend in wanted:
        with tempfile.TemporaryDirectory(prefix="bench-resolver-") as scratch:
            folder = Path(scratch)
            if backend == "sqlite":
                _run(backend, f"sqlite:///{folder / 'bench.sqlite3'}", folder)
                continue
            if not _postgres_available():
                print(f"PostgreSQL not reachable at {PG_SERVER}: skipped")
                continue
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            name = f"brandtrace_bench_{secrets.token_hex(4)}"
            admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
            try:
                _run(backend, url, folder)
            finally:
                from app.db import _ENGINES

                for key in [key for key in _ENGINES if name in key]:
                    _ENGINES.pop(key).dispose()
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
