"""The database engines: pooled PostgreSQL connections survive the server closing them."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.db import _ENGINES, engine_for


@pytest.fixture
def pg_engine(database_url: str):
    """A pool of its own on the test database, configured as the app's engines are."""
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("PostgreSQL only")
    url = make_url(database_url).update_query_dict({"application_name": "bt-pool-test"})
    key = url.render_as_string(hide_password=False)
    engine = engine_for(key)
    try:
        yield engine
    finally:
        engine.dispose()
        _ENGINES.pop(key, None)


def _backend(engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_healthy_pooled_connection_is_reused(pg_engine) -> None:
    assert _backend(pg_engine) == _backend(pg_engine)


def test_a_connection_the_server_closed_is_replaced_before_use(pg_engine, database_url) -> None:
    first = _backend(pg_engine)  # back in the pool, idle
    admin = create_engine(make_url(database_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            assert connection.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": first}
            ).scalar_one()
            deadline = time.monotonic() + 10
            while connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": first}
            ).scalar_one():
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        admin.dispose()
    # As after a server restart: the next checkout gets a live connection, no error.
    second = _backend(pg_engine)
    assert second != first
    assert _backend(pg_engine) == second
