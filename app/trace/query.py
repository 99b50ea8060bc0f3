"""EPCIS 2.0 event queries (the SimpleEventQuery parameters of the REST binding).

Every filter on identifiers is an indexed lookup in ``epcis_event_epcs`` (canonical URIs), and
visibility one in ``epcis_event_organisations``; pages are keyset-paginated on (eventTime, id),
so deep pages cost what the first does.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from app.auth.principal import Caller
from app.db import utcnow
from app.errors import FieldError, InvalidInput
from app.gs1.identifiers import GS1SyntaxError
from app.trace import cbv
from app.trace.access import visible_organisation_ids
from app.trace.capture import reference_type, reference_value
from app.trace.errors import EventNotFound
from app.trace.identifiers import Identifier, identify
from app.trace.models import (
    EpcRole,
    Event,
    EventEpc,
    EventOrganisation,
    EventReference,
    ReferenceKind,
)

EPCIS_CONTEXT: Final = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
EVENT_TYPES: Final = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
_INSTANCE_ROLES: Final = (EpcRole.EPC, EpcRole.CHILD, EpcRole.INPUT, EpcRole.OUTPUT)

# MATCH_* parameter -> the roles it looks at (EPCIS 2.0 section 8.2.7.1)
MATCH_ROLES: Final[dict[str, tuple[EpcRole, ...]]] = {
    "MATCH_epc": (EpcRole.EPC, EpcRole.CHILD),
    "MATCH_parentID": (EpcRole.PARENT,),
    "MATCH_inputEPC": (EpcRole.INPUT,),
    "MATCH_outputEPC": (EpcRole.OUTPUT,),
    "MATCH_anyEPC": (*_INSTANCE_ROLES, EpcRole.PARENT),
    "MATCH_epcClass": (EpcRole.QUANTITY, EpcRole.CHILD_QUANTITY),
    "MATCH_inputEPCClass": (EpcRole.INPUT_QUANTITY,),
    "MATCH_outputEPCClass": (EpcRole.OUTPUT_QUANTITY,),
    "MATCH_anyEPCClass": (
        EpcRole.QUANTITY,
        EpcRole.CHILD_QUANTITY,
        EpcRole.INPUT_QUANTITY,
        EpcRole.OUTPUT_QUANTITY,
    ),
}


@dataclass(frozen=True)
class EventFilter:
    """Parsed query parameters; list values are alternatives (OR), parameters combine (AND)."""

    event_types: tuple[str, ...] = ()
    ge_event_time: datetime | None = None
    lt_event_time: datetime | None = None
    ge_record_time: datetime | None = None
    lt_record_time: datetime | None = None
    actions: tuple[str, ...] = ()
    biz_steps: tuple[str, ...] = ()
    dispositions: tuple[str, ...] = ()
    read_points: tuple[str, ...] = ()
    biz_locations: tuple[str, ...] = ()
    event_ids: tuple[str, ...] = ()
    # errorDeclaration: exists, declared in [ge, lt), one of these reasons
    error_declared: bool = False
    ge_error_declaration_time: datetime | None = None
    lt_error_declaration_time: datetime | None = None
    error_reasons: tuple[str, ...] = ()
    # MATCH_* parameter name -> the raw values given
    matches: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # EQ_bizTransaction_<type>, EQ_source_<type>, EQ_destination_<type> -> the raw values given
    typed: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class EventPage:
    """One page of events and the token of the next page (None on the last)."""

    events: Sequence[Event]
    next_page_token: str | None


def split_values(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Values of a list parameter: repeated (``?x=a&x=b``) or joined with ``|``
    (commas are legitimate inside EPC URNs, so they do not separate values)."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    return tuple(part.strip() for item in items for part in item.split("|") if part.strip())


# ---------------------------------------------------------------------------------------------
# Conditions
# ---------------------------------------------------------------------------------------------


def _identifier(parameter: str, raw: str) -> Identifier:
    try:
        return identify(raw)
    except GS1SyntaxError as error:
        raise InvalidInput(
            f"{parameter}: {raw!r} is not a valid identifier.",
            errors=[FieldError(f"query.{parameter}", f"gs1-{error.rule}", error.message)],
        ) from None


def _terms(parameter: str, kind: str, values: Iterable[str]) -> list[str]:
    expanded = []
    for value in values:
        try:
            expanded.append(cbv.validate_term(kind, value))
        except cbv.UnknownTermError as error:
            raise InvalidInput(
                f"{parameter}: {value!r} is not a CBV term or URI.",
                errors=[FieldError(f"query.{parameter}", "unknown-cbv-term", str(error))],
            ) from None
    return expanded


def _match_condition(parameter: str, values: Iterable[str]) -> Any:
    """``Event.id IN (identifier rows with these roles matching these values)``.

    An exact canonical URI matches itself; a class-level pattern (``urn:epc:idpat:sgtin:...*``
    or a GTIN-only Digital Link) matches every identifier of that GTIN; for EPC parameters a
    batch (``/01/<gtin>/10/<lot>``) also matches the units of that lot whose lot is known.
    """
    roles = MATCH_ROLES[parameter]
    instance_parameter = not parameter.endswith("Class")
    alternatives = []
    exact: list[str] = []
    for raw in values:
        identifier = _identifier(parameter, raw)
        if identifier.gtin and identifier.lot is None and identifier.serial is None:
            alternatives.append(EventEpc.gtin == identifier.gtin)
        elif identifier.is_batch and instance_parameter:
            alternatives.append(
                and_(EventEpc.gtin == identifier.gtin, EventEpc.lot == identifier.lot)
            )
        else:
            exact.append(identifier.uri)
    if exact:
        alternatives.append(EventEpc.uri.in_(exact))
    subquery = select(EventEpc.event_id).where(EventEpc.role.in_(roles), or_(*alternatives))
    return Event.id.in_(subquery)


#: EQ_<kind>_<type> kind -> what is stored and the CBV vocabulary of its types
_TYPED_KINDS: Final = {
    "bizTransaction": (ReferenceKind.BIZ_TRANSACTION, "bizTransactionType"),
    "source": (ReferenceKind.SOURCE, "sourceDestType"),
    "destination": (ReferenceKind.DESTINATION, "sourceDestType"),
}


def _typed_condition(parameter: str, values: Iterable[str]) -> Any:
    """``EQ_bizTransaction_po=<value>``: events with a business transaction of type po and one
    of these values (sources and destinations alike). Types and values are compared in
    canonical form, as stored."""
    _, name, type_ = parameter.split("_", 2)
    kind, vocabulary = _TYPED_KINDS[name]
    return Event.id.in_(
        select(EventReference.event_id).where(
            EventReference.kind == kind,
            EventReference.type == reference_type(vocabulary, type_),
            EventReference.value.in_(sorted({reference_value(v) for v in values})),
        )
    )


def _place_condition(column: Any, parameter: str, values: Iterable[str]) -> Any:
    return column.in_([_identifier(parameter, v).uri for v in values])


def visibility_condition(session: Session, caller: Caller | None) -> Any | None:
    """The condition limiting events to what ``caller`` may see (None: no limit)."""
    if caller is None:
        return None
    organisations = visible_organisation_ids(session, caller)
    if organisations is None:
        return None
    return Event.id.in_(
        select(EventOrganisation.event_id).where(
            EventOrganisation.organisation_id.in_(sorted(organisations))
        )
    )


def _conditions(session: Session, caller: Caller, query: EventFilter) -> list[Any]:
    conditions: list[Any] = []
    visible = visibility_condition(session, caller)
    if visible is not None:
        conditions.append(visible)
    if query.event_types:
        conditions.append(Event.event_type.in_(query.event_types))
    if query.ge_event_time:
        conditions.append(Event.event_time >= query.ge_event_time)
    if query.lt_event_time:
        conditions.append(Event.event_time < query.lt_event_time)
    if query.ge_record_time:
        conditions.append(Event.record_time >= query.ge_record_time)
    if query.lt_record_time:
        conditions.append(Event.record_time < query.lt_record_time)
    if query.actions:
        conditions.append(Event.action.in_(query.actions))
    if query.biz_steps:
        conditions.append(Event.biz_step.in_(_terms("EQ_bizStep", "bizStep", query.biz_steps)))
    if query.dispositions:
        conditions.append(
            Event.disposition.in_(_terms("EQ_disposition", "disposition", query.dispositions))
        )
    if query.read_points:
        conditions.append(_place_condition(Event.read_point, "EQ_readPoint", query.read_points))
    if query.biz_locations:
        conditions.append(
            _place_condition(Event.biz_location, "EQ_bizLocation", query.biz_locations)
        )
    if query.event_ids:
        conditions.append(
            or_(Event.epcis_event_id.in_(query.event_ids), Event.hash_id.in_(query.event_ids))
        )
    if query.error_declared:
        conditions.append(Event.error_declaration_time.is_not(None))
    if query.ge_error_declaration_time:
        conditions.append(Event.error_declaration_time >= query.ge_error_declaration_time)
    if query.lt_error_declaration_time:
        conditions.append(Event.error_declaration_time < query.lt_error_declaration_time)
    if query.error_reasons:
        conditions.append(
            Event.error_reason.in_(_terms("EQ_errorReason", "errorReason", query.error_reasons))
        )
    for parameter, values in query.matches:
        if values:
            conditions.append(_match_condition(parameter, values))
    for parameter, values in query.typed:
        conditions.append(_typed_condition(parameter, values))
    return conditions


# ---------------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------------


#: orderBy values -> the column they order by
ORDER_KEYS: Final = {"eventTime": Event.event_time, "recordTime": Event.record_time}


def _encode_token(event: Event, order_by: str) -> str:
    moment = event.record_time if order_by == "recordTime" else event.event_time
    # Tokens of the eventTime order carry no key name: those issued before orderBy existed
    # stay valid.
    prefix = "" if order_by == "eventTime" else f"{order_by}|"
    raw = f"{prefix}{moment.astimezone(UTC).isoformat()}|{event.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_token(token: str, order_by: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        parts = raw.split("|")
        key = parts.pop(0) if len(parts) == 3 else "eventTime"
        if key != order_by or len(parts) != 2:
            raise ValueError(raw)
        moment = datetime.fromisoformat(parts[0])
        if moment.tzinfo is None:
            raise ValueError(parts[0])
        return moment, int(parts[1])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput(
            "The nextPageToken is not one this server issued for this order.",
            errors=[
                FieldError("query.nextPageToken", "invalid_token", "use the Link of the last page")
            ],
        ) from None


def query_events(
    session: Session,
    caller: Caller,
    query: EventFilter,
    *,
    per_page: int,
    next_page_token: str | None = None,
    order_by: str = "eventTime",
    descending: bool = False,
) -> EventPage:
    """One page of the events ``caller`` may see that match ``query``, ordered by ``order_by``
    (eventTime or recordTime, then by storage order)."""
    column = ORDER_KEYS[order_by]
    statement: Select[Any] = select(Event).where(*_conditions(session, caller, query))
    if next_page_token:
        moment, last_id = _decode_token(next_page_token, order_by)
        if descending:
            statement = statement.where(
                or_(column < moment, and_(column == moment, Event.id < last_id))
            )
        else:
            statement = statement.where(
                or_(column > moment, and_(column == moment, Event.id > last_id))
            )
    order = (column.desc(), Event.id.desc()) if descending else (column.asc(), Event.id.asc())
    rows = list(session.scalars(statement.order_by(*order).limit(per_page + 1)))
    has_more = len(rows) > per_page
    rows = rows[:per_page]
    return EventPage(rows, _encode_token(rows[-1], order_by) if has_more and rows else None)


def get_event(session: Session, caller: Caller, event_id: str) -> Event:
    """The event with this eventID or hash ID, if ``caller`` may see it (404 otherwise)."""
    statement = select(Event).where(
        or_(Event.epcis_event_id == event_id, Event.hash_id == event_id)
    )
    visible = visibility_condition(session, caller)
    if visible is not None:
        statement = statement.where(visible)
    event = session.scalars(statement.limit(1)).first()
    if event is None:
        raise EventNotFound(f"No event {event_id} that you may see.")
    return event


# ---------------------------------------------------------------------------------------------
# EPCIS JSON-LD
# ---------------------------------------------------------------------------------------------


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_json(event: Event) -> dict[str, Any]:
    """The event as EPCIS 2.0 JSON-LD: as captured, with its eventID and recordTime."""
    document = dict(event.document)
    out: dict[str, Any] = {}
    if "@context" in document:
        out["@context"] = document.pop("@context")
    out["type"] = document.pop("type")
    out["eventID"] = event.epcis_event_id
    out.update(document)
    out["recordTime"] = _time(event.record_time)
    return out


def query_document(events: Iterable[Event]) -> dict[str, Any]:
    """An EPCISQueryDocument holding ``events`` (the REST binding's answer shape)."""
    return {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": _time(utcnow()),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": [event_json(event) for event in events]},
            }
        },
    }
