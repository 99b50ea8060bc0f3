"""Declarative base, shared column types and the per-request database session.

Services receive a ``Session``, flush and never commit; the request (or CLI command) commits
once and any error rolls everything back, which makes every operation all-or-nothing.
"""

from __future__ import annotations

import atexit
import enum
import functools
import itertools
import json
import os
import select
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from app.timestamps import utc_seconds

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (never a naive ``utcnow()``)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are stored as naive
    UTC and given their zone back on load. Naive values are refused: they are bugs.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def to_text(value: datetime | None) -> str | None:
            # SQLite's DATETIME stores "YYYY-MM-DD HH:MM:SS.ffffff": written here in one step,
            # a fifth of the time of converting and then formatting it field by field (every
            # scan, certificate and event binds several).
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given for a UTC timestamp column")
            utc = value.astimezone(UTC)
            return f"{utc_seconds(utc, ' ')}.{utc.microsecond:06d}"

        return to_text

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StrEnumType(TypeDecorator[enum.StrEnum]):
    """Stores a ``StrEnum`` by value in a plain string column: adding a member needs no
    migration of a database enum type."""

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[enum.StrEnum], length: int = 32) -> None:
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum_class(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> enum.StrEnum | None:
        return None if value is None else self.enum_class(value)


#: the largest integer a column holds (PostgreSQL's BIGINT, SQLite's INTEGER): larger ones
#: from outside (ids in URLs, numbers in bodies) are refused before they reach the driver
MAX_INTEGER = 2**63 - 1

# Big tables (unit codes, events, log entries) need 64-bit ids on PostgreSQL; SQLite's
# autoincrementing rowid must be declared INTEGER to work.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")
JsonDocument = JSON().with_variant(JSONB(), "postgresql")

IntPK = Annotated[int, mapped_column(BigIntId, primary_key=True, autoincrement=True)]
CreatedAt = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow, nullable=False)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


@functools.cache
def _bind_processor(dialect: Dialect, column: Any) -> Callable[[Any], Any] | None:
    # Adapting a type to a dialect costs far more than the conversion it gives: once each.
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def placeholder(connection: Connection) -> str:
    """The driver's positional parameter marker (for SQL run with :func:`driver_execute`)."""
    return _marker(connection.dialect)


def _marker(dialect: Dialect) -> str:
    return {"qmark": "?", "format": "%s", "pyformat": "%s"}[dialect.paramstyle]


@functools.cache
def _insert_sql(
    dialect: Dialect, table: Table, columns: tuple[str, ...], utf8: frozenset[str]
) -> str:
    marker = _marker(dialect)
    quote = dialect.identifier_preparer
    values = [f"CAST({marker} AS TEXT)" if name in utf8 else marker for name in columns]
    # Only quoted identifiers and placeholders go into the text; values are bound.
    return (
        f"INSERT INTO {quote.format_table(table)} "  # noqa: S608
        f"({', '.join(quote.quote(table.c[name].name) for name in columns)}) "
        f"VALUES ({', '.join(values)})"
    )


class BulkInsert:
    """An ``INSERT`` of many rows run as one DBAPI ``executemany`` on a connection, with the
    rows given as plain tuples in :attr:`columns` order, for writers of thousands of rows per
    transaction (a batch of certificates, its log entries): SQLAlchemy's per-row, per-value
    parameter handling would cost more than the database's own work.

    Values are passed to the driver as they are: convert those whose column type processes
    them (timestamps, enums, JSON) with :meth:`bind` first, once per distinct value. Text of
    ``utf8_columns`` is given as UTF-8 bytes through :meth:`text`.
    """

    def __init__(
        self,
        connection: Connection,
        table: Table,
        columns: Sequence[str],
        *,
        utf8_columns: Sequence[str] = (),
    ) -> None:
        self.connection = connection
        self.table = table
        self.columns = tuple(columns)
        # SQLite keeps text as UTF-8: such a column's bytes are cast to text by the database
        # (the very value binding the decoded string stores), which spares decoding kilobytes
        # in Python and the driver encoding them again.
        self._utf8 = connection.dialect.name == "sqlite"
        self.sql = _insert_sql(
            connection.dialect,
            table,
            self.columns,
            frozenset(utf8_columns) if self._utf8 else frozenset(),
        )

    def text(self, value: bytes) -> bytes | str:
        """A value for one of the ``utf8_columns``, given as UTF-8 bytes."""
        return value if self._utf8 else value.decode("utf-8")

    def bind(self, column: str, value: Any) -> Any:
        """``value`` as SQLAlchemy would hand it to the driver for ``column``."""
        processor = _bind_processor(self.connection.dialect, self.table.c[column])
        return value if processor is None else processor(value)

    def execute(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert ``rows`` (tuples in :attr:`columns` order) in one executemany."""
        if rows:
            driver_execute(self.connection, self.sql, rows, many=True)

    def execute_returning(
        self, rows: Sequence[tuple[Any, ...]], returning: Sequence[str]
    ) -> list[tuple[Any, ...]]:
        """Insert ``rows`` and return the ``returning`` columns of the new rows, in no
        particular order (match them to the rows by a unique column): multi-row ``VALUES``
        statements, since an executemany cannot return rows on every driver."""
        quote = self.connection.dialect.identifier_preparer
        returned_columns = ", ".join(quote.quote(self.table.c[name].name) for name in returning)
        if self.connection.dialect.name == "sqlite" and len(rows) > 1:
            return self._execute_reading_back(rows, returned_columns)
        suffix = f" RETURNING {returned_columns}"
        head, _, group = self.sql.partition(" VALUES ")
        # Well below SQLite's and PostgreSQL's limits on bound values per statement.
        per_statement = max(1, 30_000 // len(self.columns))
        returned: list[tuple[Any, ...]] = []
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            sql = f"{head} VALUES {', '.join([group] * len(chunk))}{suffix}"
            values = tuple(itertools.chain.from_iterable(chunk))
            returned.extend(driver_execute(self.connection, sql, values))
        return returned

    def _execute_reading_back(
        self, rows: Sequence[tuple[Any, ...]], returned_columns: str
    ) -> list[tuple[Any, ...]]:
        # SQLite: one prepared statement run per row (executemany), then the new rows read back
        # by rowid. A statement of hundreds of VALUES groups costs more to compile than the
        # inserts themselves. While the table's largest rowid is below the maximum, SQLite gives
        # each new row the largest rowid plus one, so the rows after the largest one read
        # before are exactly these: the insert holds the database's write lock (a transaction
        # whose snapshot another writer had changed meanwhile could not insert at all).
        table = self.connection.dialect.identifier_preparer.format_table(self.table)
        ((largest,),) = driver_execute(self.connection, f"SELECT max(rowid) FROM {table}", ())  # noqa: S608
        largest = largest or 0
        if largest > MAX_INTEGER - len(rows):  # SQLite would then pick rowids at random
            raise RuntimeError(f"{self.table.name}: rowids are exhausted")
        driver_execute(self.connection, self.sql, rows, many=True)
        returned = driver_execute(
            self.connection,
            f"SELECT {returned_columns} FROM {table} WHERE rowid > ? ORDER BY rowid",  # noqa: S608
            (largest,),
        )
        if len(returned) != len(rows):
            raise RuntimeError(f"{self.table.name}: read back {len(returned)} rows of {len(rows)}")
        return returned


def blob(value: bytes) -> bytearray:
    """``value`` as a parameter of a hot insert: the sqlite3 module looks every ``bytes`` (and
    None) parameter up in its adapter registry, which costs it four times binding a number,
    and binds a ``bytearray`` directly. Every driver stores both as the same blob."""
    return bytearray(value)


def run_sql(
    connection: Connection, template: str, parameters: tuple[Any, ...]
) -> list[tuple[Any, ...]]:
    """:func:`driver_execute` for SQL written with ``{p}`` where each parameter goes."""
    return driver_execute(connection, template.format(p=placeholder(connection)), parameters)


def driver_execute(
    connection: Connection, sql: str, parameters: Any, *, many: bool = False
) -> list[tuple[Any, ...]]:
    """Run ``sql`` (in the driver's parameter style) on a cursor of ``connection``'s DBAPI
    connection, inside its transaction, and return the rows it gives (if any).

    For the statements of hot paths: SQLAlchemy's execution machinery costs a hundred Python
    calls per statement, more than SQLite takes to run a small one. Driver errors are raised
    as SQLAlchemy's :class:`~sqlalchemy.exc.DBAPIError`, as for any other statement.
    """
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None
    error = connection.dialect.loaded_dbapi.Error
    cursor = dbapi_connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
    except error as exc:
        raise DBAPIError.instance(sql, parameters, exc, error) from exc
    finally:
        cursor.close()


def _configure_sqlite(engine: Engine) -> None:
    """Make pysqlite transactional the way SQLAlchemy expects (BEGIN emitted by us), with
    foreign keys on and WAL so readers never block the writer.

    Writers begin with BEGIN IMMEDIATE: they take the write lock up front and queue behind the
    busy timeout instead of failing with SQLITE_BUSY when two transactions upgrade at once.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("brandtrace_writer", False)
        statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        # Straight to the driver: this runs for every transaction, and SQLAlchemy's statement
        # machinery took longer than the BEGIN itself. Errors are SQLAlchemy's as usual.
        dbapi_connection: Any = connection.connection.dbapi_connection
        try:
            dbapi_connection.execute(statement)
        except dbapi_connection.Error as error:
            connection._handle_dbapi_exception(error, statement, (), None, None)


def _configure_postgresql(engine: Engine) -> None:
    """Hand out no connection the server has closed, without a round trip per checkout.

    A server that restarts, or ends an idle session, closes the socket (after a FATAL
    message), so a pooled connection whose socket has something to read while idle is dead:
    the pool replaces it before anyone uses it. ``pool_pre_ping`` found the same with a
    ``SELECT 1`` on every checkout, a round trip per request. A connection that breaks while
    in use is still recognised as a disconnect, and the pool then replaces all its older
    connections.
    """

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if _closed_by_server(dbapi_connection):
            raise DisconnectionError("the server closed this connection")


def _has_input(descriptor: int) -> bool:
    poller = select.poll()
    poller.register(descriptor, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


_ENGINES: dict[str, Engine] = {}
#: connections kept per database for the scan path: enough for every thread of a server worker
_KEPT_CONNECTIONS = 16
_KEPT: dict[str, KeptConnections] = {}


def kept_connections(engine: Engine) -> KeptConnections:
    """The kept connections of ``engine``'s database in this process (like its pool, shared by
    the apps on it, and closed when the process exits)."""
    key = engine.url.render_as_string(hide_password=False)
    found = _KEPT.get(key)
    if found is None:
        if not _KEPT:
            atexit.register(_close_kept)
        found = _KEPT[key] = KeptConnections(engine, size=_KEPT_CONNECTIONS)
    return found


def _close_kept() -> None:
    for connections in _KEPT.values():
        connections.close()


# orjson writes what json.dumps writes for JSON's own types, several times faster; anything
# else (datetimes, dataclasses, str and int subclasses such as enums, non-string keys) is
# passed on to json.dumps, which accepts or refuses it as before.
_ORJSON_STRICT = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_STRICT_INTEGER
)


def json_text(value: Any) -> str:
    """A JSON column's value as stored (the engines' ``json_serializer``)."""
    try:
        return orjson.dumps(value, option=_ORJSON_STRICT).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError included
        return json.dumps(value)


def engine_for(url: str) -> Engine:
    """One engine (and pool) per database URL per process."""
    engine = _ENGINES.get(url)
    if engine is None:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(url, connect_args={"timeout": 30}, json_serializer=json_text)
            _configure_sqlite(engine)
        else:
            # Connections also retire after an hour, in case something between us and the
            # server drops idle ones without closing them.
            engine = create_engine(
                url,
                pool_size=10,
                max_overflow=20,
                pool_recycle=3600,
                json_serializer=json_text,
            )
            _configure_postgresql(engine)
        _ENGINES[url] = engine
    return engine


class KeptConnections:
    """Writers' connections kept open between requests, for the scan path.

    A verification stores its scan on every request. Checking a connection out of SQLAlchemy's
    pool and back in (with its reset), and building a new ``Connection`` around it, cost more
    than the scan's own statements; a kept one is only taken off a stack and put back. Up to
    ``size`` are kept (one per server thread is enough); a broken one is dropped, and a worker
    forked from a parent opens its own.
    """

    def __init__(self, engine: Engine, size: int) -> None:
        self._engine = engine
        self._size = size
        self._free: deque[Connection] = deque()
        self._pid = os.getpid()

    @contextmanager
    def borrow(self) -> Iterator[Connection]:
        """A kept connection for the block; anything it leaves open is rolled back."""
        if self._pid != os.getpid():
            # Forked: the parent's sockets and files are not ours to use (nor to close).
            self._free, self._pid = deque(), os.getpid()
        connection = None
        while self._free and connection is None:
            connection = self._free.pop()  # atomic: no lock needed between threads
            if _closed_by_server(connection.connection.dbapi_connection):
                # What the pool's checkout check does for its connections (see
                # _configure_postgresql): a server restart costs no request.
                connection.invalidate()
                connection.close()
                connection = None
        if connection is None:
            connection = self._engine.connect()
        try:
            yield connection
        finally:
            self._give_back(connection)

    def _give_back(self, connection: Connection) -> None:
        try:
            if connection.in_transaction():
                connection.rollback()
            # Reads run on the driver's cursor outside SQLAlchemy's transaction; a driver that
            # began one for them (psycopg) must not keep it, and its snapshot, until next time.
            dbapi_connection: Any = connection.connection.dbapi_connection
            if _driver_in_transaction(dbapi_connection):
                dbapi_connection.rollback()
        except Exception:
            connection.invalidate()
        if connection.invalidated or len(self._free) >= self._size:
            connection.close()
        else:
            self._free.append(connection)

    def close(self) -> None:
        """Close the kept connections for good (their sockets and files, not a return to the
        pool, which may be gone by then: the process is exiting or the engine disposed)."""
        while self._free:
            connection = self._free.pop()
            connection.invalidate()
            connection.close()


def _closed_by_server(dbapi_connection: Any) -> bool:
    if dbapi_connection is None:
        return True
    if getattr(dbapi_connection, "pgconn", None) is None:  # not psycopg: a local file
        return False
    return bool(dbapi_connection.closed or _has_input(dbapi_connection.fileno()))


def _driver_in_transaction(dbapi_connection: Any) -> bool:
    info = getattr(dbapi_connection, "info", None)
    if info is not None and hasattr(info, "transaction_status"):  # psycopg 3
        return bool(info.transaction_status != 0)  # 0: IDLE
    return bool(getattr(dbapi_connection, "in_transaction", False))  # sqlite3


@dataclass
class _AppDatabase:
    """One app's engine and session factory (each app may point at a different database)."""

    engine: Engine
    sessionmaker: sessionmaker[Session]
    bound_connection: Connection | None = None
    #: the engine as writers use it (SQLite: BEGIN IMMEDIATE), made once
    writer_engine: Engine | None = None
    #: writers' connections kept open for the scan path, made on first use
    kept: KeptConnections | None = None


class Database:
    """Sessions for the current app; request sessions live in the Flask request/app context."""

    def init_app(self, app: Any) -> None:
        app.extensions["brandtrace.db"] = _AppDatabase(
            engine=engine_for(app.config["DATABASE_URL"]),
            sessionmaker=sessionmaker(expire_on_commit=False),
        )
        # Per request as well as per app context: tests (and CLI code) may run several requests
        # inside one app context, and each request must get a fresh session.
        app.teardown_request(self._teardown)
        app.teardown_appcontext(self._teardown)

    @staticmethod
    def _state() -> _AppDatabase:
        from flask import current_app

        return current_app.extensions["brandtrace.db"]

    @property
    def engine(self) -> Engine:
        return self._state().engine

    @property
    def dialect_name(self) -> str:
        return self.engine.dialect.name

    def new_session(self, *, writer: bool = False) -> Session:
        """A session outside any request (CLI, background work); the caller commits."""
        state = self._state()
        if state.bound_connection is not None:
            # Tests: everything runs inside one outer transaction; commits become savepoints.
            return state.sessionmaker(
                bind=state.bound_connection, join_transaction_mode="create_savepoint"
            )
        return state.sessionmaker(bind=self._writer_engine(state) if writer else state.engine)

    @staticmethod
    def _writer_engine(state: _AppDatabase) -> Engine:
        if state.writer_engine is None:
            state.writer_engine = state.engine.execution_options(brandtrace_writer=True)
        return state.writer_engine

    @property
    def session(self) -> Session:
        """The current request's session, created on first use."""
        from flask import g, request
        from flask.globals import request_ctx

        existing: Session | None = g.get("_db_session")
        if existing is None:
            writer = request_ctx is not None and request.method not in ("GET", "HEAD", "OPTIONS")
            existing = self.new_session(writer=writer)
            g._db_session = existing
        return existing

    @contextmanager
    def kept_connection(self) -> Iterator[Connection]:
        """A writer's connection kept open between requests (:class:`KeptConnections`), for a
        hot path that reads on it outside any transaction and writes in
        :meth:`write_transaction`; anything left open is rolled back when the block ends."""
        state = self._state()
        if state.bound_connection is not None:
            yield state.bound_connection  # tests: the one outer transaction
            return
        if state.kept is None:
            state.kept = kept_connections(self._writer_engine(state))
        with state.kept.borrow() as connection:
            yield connection

    @contextmanager
    def write_transaction(self, connection: Connection) -> Iterator[Connection]:
        """A writer's transaction on ``connection`` (SQLite: BEGIN IMMEDIATE), committed when
        the block ends and rolled back if it raises: for a few Core statements on a hot path,
        without a session's unit of work."""
        state = self._state()
        if connection is state.bound_connection:
            # Tests: inside the outer transaction, as a savepoint.
            with connection.begin_nested():
                yield connection
            return
        with connection.begin():
            yield connection

    def open_session(self) -> Session | None:
        """The current request's session if it has been used (None otherwise)."""
        from flask import g

        return g.get("_db_session")

    def _teardown(self, _exc: BaseException | None) -> None:
        from flask import g

        session: Session | None = g.pop("_db_session", None)
        if session is not None:
            # Anything not committed explicitly by the request is an error path: roll back.
            session.rollback()
            session.close()

    @contextmanager
    def bound_to(self, app: Any, connection: Connection) -> Iterator[None]:
        """Route every session of ``app`` through ``connection`` (test isolation)."""
        state: _AppDatabase = app.extensions["brandtrace.db"]
        state.bound_connection = connection
        try:
            yield
        finally:
            state.bound_connection = None
