"""Server-side tables: sorting, filtering and paging from the query string (no JavaScript)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, func, inspect, or_, select
from sqlalchemy.orm import Session

PER_PAGE_CHOICES = (10, 25, 50, 100)


@dataclass(frozen=True)
class Column:
    """A column: ``key`` reads the row (attribute name or callable); ``sort`` is the SQL
    expression to order by, or None when the column cannot be sorted."""

    key: str
    label: Any
    sort: Any = None
    value: Callable[[Any], Any] | None = None

    def read(self, row: Any) -> Any:
        if self.value is not None:
            return self.value(row)
        return getattr(row, self.key, None)


@dataclass(frozen=True)
class Filter:
    """A filter field: ``apply(statement, value)`` narrows the query for a non-empty value.

    A filter with ``choices`` only ever applies one of their values: anything else (a stale
    bookmark, a hand-edited address) is ignored and reported in :attr:`Table.ignored`, so
    ``apply`` may compare the value with an enum column without checking it first."""

    key: str
    label: Any
    apply: Callable[[Select[Any], str], Select[Any]]
    choices: Sequence[tuple[str, Any]] | None = None

    def accepts(self, value: str) -> bool:
        return self.choices is None or any(value == str(choice) for choice, _ in self.choices)


def matching_text(*columns: Any) -> Callable[[Select[Any], str], Select[Any]]:
    """A :class:`Filter` ``apply`` that keeps rows where any of ``columns`` contains the typed
    text (case-insensitive; ``%`` and ``_`` are matched literally)."""

    def apply(statement: Select[Any], text: str) -> Select[Any]:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        return statement.where(or_(*(column.ilike(pattern, escape="\\") for column in columns)))

    return apply


@dataclass
class Table:
    """One page of a sortable, filterable table, ready for the ``table`` template macro."""

    rows: list[Any]
    columns: Sequence[Column]
    filters: Sequence[Filter]
    values: dict[str, str]
    sort: str
    descending: bool
    page: int
    per_page: int
    total: int
    extra_args: dict[str, str] = field(default_factory=dict)
    ignored: list[Filter] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    def url(self, **changes: Any) -> str:
        """The query string for this table with some arguments changed."""
        args: dict[str, Any] = {**self.extra_args, **{k: v for k, v in self.values.items() if v}}
        args.update(
            sort=self.sort,
            dir="desc" if self.descending else "asc",
            page=self.page,
            per_page=self.per_page,
        )
        args.update({k: v for k, v in changes.items() if v is not None})
        return "?" + urlencode(args)

    def sort_url(self, key: str) -> str:
        descending = not self.descending if key == self.sort else False
        return self.url(sort=key, dir="desc" if descending else "asc", page=1)

    def aria_sort(self, key: str) -> str:
        if key != self.sort:
            return "none"
        return "descending" if self.descending else "ascending"


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(value or default), low), high)
    except ValueError:
        return default


def _tie_breakers(statement: Select[Any]) -> list[Any]:
    """The primary key of the statement's first entity, so rows that sort alike keep one
    order from page to page (databases may otherwise return ties in any order)."""
    entity = (
        statement.column_descriptions[0].get("entity") if statement.column_descriptions else None
    )
    if entity is None:
        return []
    return list(inspect(entity).primary_key)


@dataclass(frozen=True)
class TableQuery:
    """A statement with a table's filters and sort applied (no paging): what the table shows,
    and what an export of the table writes."""

    statement: Select[Any]
    values: dict[str, str]
    sort: str
    descending: bool
    ignored: list[Filter] = field(default_factory=list)


def table_query(
    statement: Select[Any],
    *,
    columns: Sequence[Column],
    args: Mapping[str, str],
    default_sort: str,
    default_descending: bool = True,
    filters: Sequence[Filter] = (),
) -> TableQuery:
    """Apply the filters and sort from ``args`` (the query string) to ``statement``.

    Unknown sort keys and filter values outside a filter's choices are ignored (never an error
    page for a stale bookmark; the ignored filters are listed so the page can say so), and
    sorting always ends with the primary key of the first entity so pages are stable.
    """
    values = {f.key: (args.get(f.key) or "").strip()[:200] for f in filters}
    ignored = [f for f in filters if values[f.key] and not f.accepts(values[f.key])]
    for spec in ignored:
        values[spec.key] = ""
    for spec in filters:
        if values[spec.key]:
            statement = spec.apply(statement, values[spec.key])
    sortable = {c.key: c.sort for c in columns if c.sort is not None}
    requested = args.get("sort") or ""
    sort = requested if requested in sortable else default_sort
    direction = args.get("dir")
    descending = default_descending if direction not in ("asc", "desc") else direction == "desc"
    order = sortable[sort]
    statement = statement.order_by(order.desc() if descending else order.asc())
    statement = statement.order_by(*_tie_breakers(statement))
    return TableQuery(statement, values, sort, descending, ignored)


def build_table(
    session: Session,
    statement: Select[Any],
    *,
    columns: Sequence[Column],
    args: Mapping[str, str],
    default_sort: str,
    default_descending: bool = True,
    filters: Sequence[Filter] = (),
    scalars: bool = True,
) -> Table:
    """Apply the filters, sort (see :func:`table_query`) and page from ``args`` to
    ``statement``."""
    query = table_query(
        statement,
        columns=columns,
        args=args,
        default_sort=default_sort,
        default_descending=default_descending,
        filters=filters,
    )
    statement = query.statement
    per_page = _int(args.get("per_page"), 25, 1, max(PER_PAGE_CHOICES))
    total = (
        session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    )
    pages = max(1, math.ceil(total / per_page))
    page_number = _int(args.get("page"), 1, 1, pages)
    paged = statement.limit(per_page).offset((page_number - 1) * per_page)
    rows: list[Any] = list(session.scalars(paged)) if scalars else list(session.execute(paged))
    return Table(
        rows=rows,
        columns=columns,
        filters=filters,
        values=query.values,
        sort=query.sort,
        descending=query.descending,
        page=page_number,
        per_page=per_page,
        total=total,
        ignored=query.ignored,
    )
