"""Journeys: the ordered chain of events of a unit or a batch, through aggregation and
transformation, upstream and downstream.

The traversal walks a graph whose nodes are identifiers (units, batches, cases, pallets) and
whose edges come from events:

* **forward** (downstream, "where did lot X go"): a child aggregated into a parent continues as
  the parent from the aggregation until it is taken out again; the inputs of a transformation
  continue as its outputs; a batch continues as its units;
* **backward** (upstream, "what went into this unit"): the outputs of a transformation go back to
  its inputs; a parent goes back to the children packed into it; a unit goes back to its batch.

Each node carries a time window: downstream of an event only later events count, upstream only
earlier ones. Nodes are expanded a level at a time with a few indexed queries per level, so the
cost grows with the size of the journey, not with the number of stored events. Events declared
erroneous (``errorDeclaration``) are neither shown nor followed.
"""

from __future__ import annotations

import enum
import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.auth.principal import Caller
from app.errors import FieldError, InvalidInput
from app.gs1.identifiers import GS1SyntaxError
from app.trace.access import known_unit_lot, visible_organisation_ids
from app.trace.identifiers import Identifier, batch_identifier, identify
from app.trace.models import EpcRole, Event, EventEpc, EventOrganisation

DEFAULT_MAX_EVENTS: Final = 5000
_CHUNK: Final = 400

_AGGREGATION: Final = "AggregationEvent"
_TRANSFORMATION: Final = "TransformationEvent"
_PACKING_ACTIONS: Final = frozenset({"ADD", "OBSERVE"})
_CHILD_ROLES: Final = frozenset({EpcRole.CHILD, EpcRole.CHILD_QUANTITY})
_INPUT_ROLES: Final = frozenset({EpcRole.INPUT, EpcRole.INPUT_QUANTITY})
_OUTPUT_ROLES: Final = frozenset({EpcRole.OUTPUT, EpcRole.OUTPUT_QUANTITY})


class Direction(enum.StrEnum):
    FORWARD = "forward"
    BACKWARD = "backward"
    BOTH = "both"


@dataclass(frozen=True)
class Window:
    """The time span in which a node's events belong to the journey (None: open)."""

    start: datetime | None = None
    end: datetime | None = None

    def contains(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (
            self.end is None or moment <= self.end
        )

    def union(self, other: Window) -> Window:
        start = None if self.start is None or other.start is None else min(self.start, other.start)
        end = None if self.end is None or other.end is None else max(self.end, other.end)
        return Window(start, end)


@dataclass(frozen=True)
class _Node:
    uri: str
    # set for batches: downstream, a batch continues as every unit of that lot
    gtin: str | None = None
    lot: str | None = None


@dataclass(frozen=True)
class _Link:
    event_id: int
    role: EpcRole
    uri: str
    gtin: str | None
    lot: str | None
    serial: str | None

    @property
    def is_batch(self) -> bool:
        return bool(self.gtin and self.lot and self.serial is None)


@dataclass(frozen=True)
class JourneyStep:
    """One event of a journey and how it was reached."""

    event: Event
    # "self" (names the start itself), "backward" (upstream) or "forward" (downstream)
    relation: str
    # the identifiers through which the event was reached
    via: tuple[str, ...]


@dataclass(frozen=True)
class Journey:
    """The events of a journey in time order, and every identifier it passed through."""

    start: Identifier
    direction: Direction
    steps: Sequence[JourneyStep]
    identifiers: Sequence[str]
    truncated: bool
    # (GTIN, lot) of every batch the journey passed through
    batches: frozenset[tuple[str, str]] = frozenset()


@dataclass
class _Walk:
    """The state of one traversal in one direction."""

    forward: bool
    windows: dict[_Node, Window] = field(default_factory=dict)
    events: dict[int, Event] = field(default_factory=dict)
    via: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    # units reached as members of a batch node (named by events with the batch's GTIN and lot)
    members: set[str] = field(default_factory=set)
    truncated: bool = False


def _batch_node(gtin: str, lot: str) -> _Node:
    identifier = batch_identifier(gtin, lot)
    return _Node(identifier.uri, gtin, lot)


def _start_node(start: Identifier) -> _Node:
    if start.is_batch:
        assert start.gtin is not None and start.lot is not None
        return _batch_node(start.gtin, start.lot)
    return _Node(start.uri)


_LINK_COLUMNS: Final = (
    EventEpc.event_id,
    EventEpc.role,
    EventEpc.uri,
    EventEpc.gtin,
    EventEpc.lot,
    EventEpc.serial,
)


def _links_for_nodes(
    session: Session, nodes: Iterable[_Node], forward: bool
) -> dict[_Node, list[_Link]]:
    """Identifier rows naming these nodes (downstream, a batch also names its units)."""
    found: dict[_Node, list[_Link]] = defaultdict(list)
    nodes = list(nodes)
    by_uri = {node.uri: node for node in nodes}
    by_batch: dict[tuple[str | None, str | None], _Node] = {
        (n.gtin, n.lot): n for n in nodes if forward and n.gtin and n.lot
    }
    for start in range(0, len(nodes), _CHUNK):
        chunk = nodes[start : start + _CHUNK]
        conditions: list[Any] = [EventEpc.uri.in_([n.uri for n in chunk])]
        conditions += [
            and_(EventEpc.gtin == n.gtin, EventEpc.lot == n.lot)
            for n in chunk
            if forward and n.gtin and n.lot
        ]
        rows = session.execute(select(*_LINK_COLUMNS).where(or_(*conditions)))
        for row in rows:
            link = _Link(*row)
            if link.uri in by_uri:
                found[by_uri[link.uri]].append(link)
            batch = by_batch.get((link.gtin, link.lot))
            if batch is not None and link.uri != batch.uri:
                found[batch].append(link)
    return found


def _links_of_events(session: Session, event_ids: Iterable[int]) -> dict[int, list[_Link]]:
    links: dict[int, list[_Link]] = defaultdict(list)
    ids = sorted(set(event_ids))
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(*_LINK_COLUMNS).where(EventEpc.event_id.in_(ids[start : start + _CHUNK]))
        )
        for row in rows:
            links[row[0]].append(_Link(*row))
    return links


def _load_events(
    session: Session, event_ids: Iterable[int], visible: frozenset[int] | None
) -> dict[int, Event]:
    """Events by id, without those declared erroneous or invisible to the caller."""
    ids = sorted(set(event_ids))
    events: dict[int, Event] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        statement = select(Event).where(Event.id.in_(chunk))
        if visible is not None:
            # Probe the (event, organisation) key per candidate: cheap whatever the table size.
            statement = statement.where(
                Event.id.in_(
                    select(EventOrganisation.event_id).where(
                        EventOrganisation.event_id.in_(chunk),
                        EventOrganisation.organisation_id.in_(sorted(visible)),
                    )
                )
            )
        for event in session.scalars(statement):
            if "errorDeclaration" not in event.document:
                events[event.id] = event
    return events


def _unpacked_at(
    node: _Node, links: Sequence[_Link], events: dict[int, Event], all_links: dict[int, list[_Link]]
) -> list[datetime]:
    """Times at which ``node`` was emptied (an AggregationEvent DELETE naming it as parent
    without listing children means every child was taken out)."""
    times = []
    for link in links:
        event = events.get(link.event_id)
        if (
            event is not None
            and link.role == EpcRole.PARENT
            and event.event_type == _AGGREGATION
            and event.action == "DELETE"
            and not any(item.role in _CHILD_ROLES for item in all_links.get(event.id, []))
        ):
            times.append(event.event_time)
    return times


def _walk(
    session: Session,
    starts: Sequence[_Node],
    *,
    forward: bool,
    visible: frozenset[int] | None,
    max_events: int,
    lot_of: dict[str, str],
) -> _Walk:
    walk = _Walk(forward=forward)
    frontier: dict[_Node, Window] = dict.fromkeys(starts, Window())
    walk.windows.update(frontier)
    start = starts[0]
    while frontier:
        found = _links_for_nodes(session, frontier, forward)
        candidate_ids = {link.event_id for links in found.values() for link in links}
        events = _load_events(session, candidate_ids - walk.events.keys(), visible)
        events.update({i: walk.events[i] for i in candidate_ids & walk.events.keys()})
        all_links = _links_of_events(session, events)
        next_frontier: dict[_Node, Window] = {}
        reach = functools.partial(_reach, walk, next_frontier)
        for node, window in frontier.items():
            links = found.get(node, [])
            taken_out = _taken_out(links, events, all_links) if forward else {}
            if forward and node != start:
                cut = [
                    t for t in _unpacked_at(node, links, events, all_links) if window.contains(t)
                ]
                if cut:
                    window = Window(window.start, min(cut))
            for link in links:
                event = events.get(link.event_id)
                if event is None or not window.contains(event.event_time):
                    continue
                walk.events[event.id] = event
                walk.via[event.id].add(node.uri)
                if link.uri != node.uri:
                    walk.members.add(link.uri)
                _follow(event, link, all_links[event.id], forward, reach, lot_of, taken_out)
            if not forward and node.gtin is None:
                _to_batch(node, links, lot_of, window, reach)
        if len(walk.events) > max_events:
            walk.truncated = True
            break
        frontier = next_frontier
    return walk


def _reach(walk: _Walk, frontier: dict[_Node, Window], node: _Node, window: Window) -> None:
    """Add ``node`` to the next level unless it was reached before with a window covering
    this one (windows only widen, so the walk ends)."""
    known = walk.windows.get(node)
    merged = window if known is None else known.union(window)
    if merged != known:
        walk.windows[node] = merged
        frontier[node] = merged


def _taken_out(
    links: Sequence[_Link], events: dict[int, Event], all_links: dict[int, list[_Link]]
) -> dict[tuple[str, str], list[datetime]]:
    """(child, parent) -> times the child was taken out of the parent (AggregationEvent
    DELETE naming both)."""
    out: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for link in links:
        event = events.get(link.event_id)
        if (
            event is None
            or link.role not in _CHILD_ROLES
            or event.event_type != _AGGREGATION
            or event.action != "DELETE"
        ):
            continue
        for item in all_links.get(event.id, []):
            if item.role == EpcRole.PARENT:
                out[(link.uri, item.uri)].append(event.event_time)
    return out


def _follow(
    event: Event,
    link: _Link,
    links: Sequence[_Link],
    forward: bool,
    reach: Any,
    lot_of: dict[str, str],
    taken_out: dict[tuple[str, str], list[datetime]],
) -> None:
    """The nodes an event leads to from the identifier it was reached through."""
    moment = event.event_time
    if forward:
        window = Window(start=moment)
        if event.event_type == _AGGREGATION and event.action in _PACKING_ACTIONS:
            if link.role in _CHILD_ROLES:
                for parent in links:
                    if parent.role == EpcRole.PARENT:
                        # The child rides with the parent until it is taken out again.
                        out = [t for t in taken_out.get((link.uri, parent.uri), []) if t >= moment]
                        reach(_Node(parent.uri), Window(moment, min(out) if out else None))
        elif event.event_type == _TRANSFORMATION and link.role in _INPUT_ROLES:
            _reach_all(links, _OUTPUT_ROLES, window, reach)
    else:
        window = Window(end=moment)
        if event.event_type == _AGGREGATION and event.action in _PACKING_ACTIONS:
            if link.role == EpcRole.PARENT:
                _reach_all(links, _CHILD_ROLES, window, reach)
        elif event.event_type == _TRANSFORMATION and link.role in _OUTPUT_ROLES:
            _reach_all(links, _INPUT_ROLES, window, reach)
    for item in links:
        if item.lot and item.serial:
            lot_of.setdefault(item.uri, item.lot)


def _reach_all(
    links: Sequence[_Link], roles: Iterable[EpcRole], window: Window, reach: Any
) -> None:
    wanted = frozenset(roles)
    for item in links:
        if item.role in wanted:
            # A batch named as a class stays a batch, so that downstream its units follow.
            reach(_batch_node(item.gtin, item.lot) if item.is_batch else _Node(item.uri), window)  # type: ignore[arg-type]


def _to_batch(
    node: _Node, links: Sequence[_Link], lot_of: dict[str, str], window: Window, reach: Any
) -> None:
    """Upstream, a unit comes from its batch: the batch's own history (not its siblings')."""
    unit = next((link for link in links if link.serial and link.gtin), None)
    if unit is None:
        return
    lot = lot_of.get(node.uri) or next((link.lot for link in links if link.lot), None)
    if lot:
        reach(_batch_node(unit.gtin, lot), window)  # type: ignore[arg-type]


def trace_journey(
    session: Session,
    start: Identifier,
    direction: Direction = Direction.BOTH,
    *,
    visible: frozenset[int] | None = None,
    max_events: int = DEFAULT_MAX_EVENTS,
    known_lot: str | None = None,
) -> Journey:
    """The journey of a unit, batch or container.

    ``visible`` limits the events shown and followed to those concerning these organisations
    (None: all, for services such as recalls). ``known_lot`` is the lot of a unit when known
    from elsewhere (the products register), for units identified without their lot.
    """
    lot = known_lot or start.lot
    if lot and start.lot is None and start.is_unit:
        start = replace(start, lot=lot)
    node = _start_node(start)
    lot_of: dict[str, str] = {}
    upstream = [node]
    if lot and start.is_unit:
        lot_of[start.uri] = lot
        assert start.gtin is not None
        # A unit comes from its batch even when no event names the unit yet.
        upstream.append(_batch_node(start.gtin, lot))
    walks: list[_Walk] = []
    if direction in (Direction.BACKWARD, Direction.BOTH):
        walks.append(
            _walk(
                session,
                upstream,
                forward=False,
                visible=visible,
                max_events=max_events,
                lot_of=lot_of,
            )
        )
    if direction in (Direction.FORWARD, Direction.BOTH):
        walks.append(
            _walk(
                session,
                [node],
                forward=True,
                visible=visible,
                max_events=max_events,
                lot_of=lot_of,
            )
        )

    steps: dict[int, JourneyStep] = {}
    identifiers: dict[str, None] = {}
    batches: set[tuple[str, str]] = set()
    for walk in walks:
        identifiers.update(dict.fromkeys(n.uri for n in walk.windows))
        identifiers.update(dict.fromkeys(sorted(walk.members)))
        batches.update((n.gtin, n.lot) for n in walk.windows if n.gtin and n.lot)
        for event_id, event in walk.events.items():
            via = walk.via[event_id]
            relation = "self" if node.uri in via else "forward" if walk.forward else "backward"
            previous = steps.get(event_id)
            if previous is None or (relation == "self" and previous.relation != "self"):
                steps[event_id] = JourneyStep(event, relation, tuple(sorted(via)))
    if start.is_unit and start.lot is None and start.uri in lot_of:
        start = replace(start, lot=lot_of[start.uri])  # learnt from the events naming it
    ordered = sorted(steps.values(), key=lambda step: (step.event.event_time, step.event.id))
    return Journey(
        start=start,
        direction=direction,
        steps=ordered,
        identifiers=list(identifiers),
        truncated=any(walk.truncated for walk in walks),
        batches=frozenset(batches),
    )


def journey_for(
    session: Session,
    caller: Caller,
    epc: str,
    direction: Direction = Direction.BOTH,
    *,
    max_events: int = DEFAULT_MAX_EVENTS,
) -> Journey:
    """The journey of ``epc`` (a unit, batch or container as URN or Digital Link), through the
    events ``caller`` may see."""
    try:
        start = identify(epc)
    except GS1SyntaxError as error:
        raise InvalidInput(
            f"{epc!r} is not a valid identifier.",
            errors=[FieldError("query.epc", f"gs1-{error.rule}", error.message)],
        ) from None
    return trace_journey(
        session,
        start,
        direction,
        visible=visible_organisation_ids(session, caller),
        max_events=max_events,
        known_lot=known_unit_lot(session, start),
    )
