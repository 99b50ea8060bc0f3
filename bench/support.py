"""What several benchmarks share: the PostgreSQL server to use and fresh scratch databases."""

from __future__ import annotations

import os
import secrets
import tempfile

PG_SERVER = os.environ.get(
    "BRANDTRACE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


class Scratch:
    """A fresh database per measurement: an SQLite file, or a PostgreSQL database."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.tmp = tempfile.TemporaryDirectory()

    def __enter__(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp.name}/bench.sqlite3"
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        self.name = f"brandtrace_bench_{secrets.token_hex(4)}"
        self.admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        return make_url(PG_SERVER).set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *exc: object) -> None:
        if self.backend == "postgresql":
            from sqlalchemy import text

            with self.admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.admin.dispose()
        self.tmp.cleanup()


def postgres_available() -> bool:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    try:
        engine = create_engine(PG_SERVER)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except OperationalError:
        return False
