"""The statements every verification runs, compiled once and run on the DBAPI cursor.

A verification runs the same few statements each time (its code's facts, its shopper, its
pack's tally, the scan). Run through SQLAlchemy, each execution builds its parameters,
processors and result metadata again, which took several times as long as the database took
to answer. Here each statement is compiled once per dialect and run on the cursor of the
session's own connection, inside the session's transaction, with SQLAlchemy's own bind and
result processors: values are stored and read exactly as through SQLAlchemy, and database
errors come out as SQLAlchemy's exceptions (a lost connection is invalidated as usual).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement


class Prepared:
    """One statement compiled for one dialect, run with :meth:`first`."""

    def __init__(
        self,
        statement: ClauseElement,
        dialect: Dialect,
        column_keys: Sequence[str] | None = None,
    ) -> None:
        compiled: Any = statement.compile(
            dialect=dialect, column_keys=list(column_keys) if column_keys else None
        )
        self.sql: str = compiled.string
        #: parameter names in placeholder order (qmark: SQLite); None for named (psycopg)
        self.positions: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positiontup is not None else None
        )
        # Values written into the statement when it was built (e.g. an enum compared with).
        self.fixed: dict[str, Any] = dict(compiled.construct_params(_check=False))
        self.processors: tuple[tuple[str, Callable[[Any], Any]], ...] = tuple(
            compiled._bind_processors.items()
        )
        columns = compiled._result_columns
        self.returns_rows = bool(columns)
        self.row = namedtuple("row", [entry.keyname for entry in columns], rename=True)  # type: ignore[misc]
        self.results = tuple(
            (position, processor)
            for position, entry in enumerate(columns)
            if (processor := entry.type._cached_result_processor(dialect, None)) is not None
        )

    def first(self, connection: Connection, params: Mapping[str, Any]) -> Any:
        """Run with ``params`` in ``connection``'s transaction; the first row (attribute access
        by column name), or None."""
        values = self.fixed | dict(params)
        for name, process in self.processors:
            values[name] = process(values[name])
        arguments: Any = (
            [values[name] for name in self.positions] if self.positions is not None else values
        )
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, arguments)
            # (psycopg describes a result's columns anew on each look at ``description``)
            found = cursor.fetchone() if self.returns_rows else None
        except connection.dialect.loaded_dbapi.Error as error:
            # Wraps the error, and invalidates the connection when it was lost.
            connection._handle_dbapi_exception(error, self.sql, arguments, cursor, None)
            raise  # not reached: the handler raises
        finally:
            cursor.close()
        if found is None:
            return None
        if self.results:
            found = list(found)
            for position, process in self.results:
                found[position] = process(found[position])
        return self.row(*found)


_PREPARED: dict[tuple[str, str], Prepared] = {}


def prepared(
    name: str,
    connection: Connection,
    build: Callable[[], ClauseElement],
    column_keys: Sequence[str] | None = None,
) -> Prepared:
    """The statement ``name`` compiled for ``connection``'s dialect (built on first use)."""
    key = (name, connection.dialect.name)
    found = _PREPARED.get(key)
    if found is None:
        found = _PREPARED[key] = Prepared(build(), connection.dialect, column_keys)
    return found
