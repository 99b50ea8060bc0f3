"""EPCIS 2.0 capture: validate a document, authorise it, store its events once.

The pipeline, per document:

1. the official JSON Schema and the CBV rules (:mod:`app.trace.validation`);
2. per event: the CBV 2.0 hash ID, canonical identifiers, times, vocabulary as full URIs;
3. GLN read points and business locations must be registered by the capturer or the product owner;
4. every GTIN-based identifier must be a product of the capturer, or of a firm that authorised the
   capturer as a partner;
5. events already stored (same hash ID) are not stored again: capture is idempotent;
6. an event already stored sent again with an ``errorDeclaration`` by the organisation that
   recorded it declares the stored event erroneous (EPCIS 2.0 section 7.4.1.4): a change that
   is recorded in the transparency log and counted apart from duplicates. So does a declared
   copy of an event captured earlier in the same document (stored, then declared).

By default (``rollback``) any problem refuses the whole document and nothing is stored; the
problems point at the event and field (JSON pointers). With ``proceed`` the valid events are
stored and the refused ones are listed in the capture job.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import String, Table, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.auth.principal import Caller
from app.certificates.models import Certificate
from app.db import utcnow
from app.errors import FieldError
from app.gs1.identifiers import GS1SyntaxError
from app.trace import cbv
from app.trace.access import (
    container_contents,
    partner_grants,
    product_owners,
    registered_unit_lots,
)
from app.trace.errors import CaptureNotAuthorised, DocumentInvalid, EventIdTaken
from app.trace.event_hash import EventHashError, event_hash_id
from app.trace.identifiers import Identifier, identify, is_gln_location
from app.trace.models import (
    CaptureErrorBehaviour,
    CaptureJob,
    CaptureStatus,
    EpcRole,
    Event,
    EventCertification,
    EventEpc,
    EventOrganisation,
    EventReference,
    EventRelation,
    Location,
    ReferenceKind,
)
from app.trace.validation import (
    DEFAULT_MAX_EVENTS,
    EPCIS_CONTEXT_PREFIX,
    validate_capture_document,
)
from app.transparency.entry import MAX_DETAIL_LENGTH, EntryType
from app.transparency.services import NewEntry, append_entries

__all__ = [
    "DEFAULT_FUTURE_TOLERANCE",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_EVENTS",
    "CaptureLimits",
    "capture_document",
]

DEFAULT_MAX_BYTES: Final = 8 * 1024 * 1024
DEFAULT_FUTURE_TOLERANCE: Final = timedelta(hours=1)
EVENT_LIST: Final = "/epcisBody/eventList"
# Rows per INSERT statement: large enough to amortise round trips, small enough for SQLite's
# limit on bound parameters.
_CHUNK: Final = 500


# Longest values the columns hold (PostgreSQL refuses longer ones; SQLite would store them)
def _length(model: Any, column: str) -> int:
    kind = model.__table__.c[column].type
    assert isinstance(kind, String) and kind.length is not None
    return kind.length


_MAX_EVENT_ID: Final = _length(Event, "epcis_event_id")
_MAX_TERM: Final = _length(Event, "biz_step")
_MAX_URI: Final = _length(EventEpc, "uri")
_MAX_REFERENCE: Final = _length(EventCertification, "reference")
_MAX_REFERENCE_VALUE: Final = _length(EventReference, "value")
_MAX_REFERENCE_TYPE: Final = _length(EventReference, "type")

# EPCIS list -> (kind, the member holding the value, the CBV vocabulary of its type)
_REFERENCE_LISTS: Final = (
    ("bizTransactionList", ReferenceKind.BIZ_TRANSACTION, "bizTransaction", "bizTransactionType"),
    ("sourceList", ReferenceKind.SOURCE, "source", "sourceDestType"),
    ("destinationList", ReferenceKind.DESTINATION, "destination", "sourceDestType"),
)

# JSON list property -> role, in the order events are read
_EPC_LISTS: Final = (
    ("epcList", EpcRole.EPC),
    ("childEPCs", EpcRole.CHILD),
    ("inputEPCList", EpcRole.INPUT),
    ("outputEPCList", EpcRole.OUTPUT),
)
_QUANTITY_LISTS: Final = (
    ("quantityList", EpcRole.QUANTITY),
    ("childQuantityList", EpcRole.CHILD_QUANTITY),
    ("inputQuantityList", EpcRole.INPUT_QUANTITY),
    ("outputQuantityList", EpcRole.OUTPUT_QUANTITY),
)


@dataclass(frozen=True)
class CaptureLimits:
    """What one capture request may carry (``GS1-EPCIS-Capture-Limit`` and file size limit),
    and how far ahead of our clock an eventTime may be (the capturer's clock may run fast; an
    event of next year did not happen)."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_events: int = DEFAULT_MAX_EVENTS
    future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE


@dataclass
class _Subject:
    role: EpcRole
    identifier: Identifier
    pointer: str
    quantity: float | None = None
    uom: str | None = None
    owner_id: int | None = None


@dataclass
class _Prepared:
    """One event, checked and turned into the rows it will be stored as."""

    index: int
    pointer: str
    hash_id: str
    given_event_id: str | None
    event_type: str
    action: str | None
    event_time: datetime
    time_zone_offset: str
    biz_step: str | None
    disposition: str | None
    read_point: str | None
    biz_location: str | None
    subjects: list[_Subject]
    # (reference, JSON pointer) of each certificationInfo value
    certifications: list[tuple[str, str]]
    # (kind, type, value) of each business transaction, source and destination
    references: list[tuple[ReferenceKind, str | None, str]]
    document: dict[str, Any]
    error_declaration: Any = None
    owners: set[int] = field(default_factory=set)
    # certificationInfo reference -> our certificate it names
    certificate_ids: dict[str, int] = field(default_factory=dict)


class _Problems:
    """Problems found so far: document-level ones and per-event ones, by event index."""

    def __init__(self) -> None:
        self.document: list[FieldError] = []
        self.events: dict[int, list[FieldError]] = defaultdict(list)

    def add(self, pointer: str, rule: str, message: str) -> None:
        index = event_index(pointer)
        error = FieldError(pointer, rule, message)
        if index is None:
            self.document.append(error)
        else:
            self.events[index].append(error)

    def all(self) -> list[FieldError]:
        return self.document + [e for i in sorted(self.events) for e in self.events[i]]

    def __bool__(self) -> bool:
        return bool(self.document or self.events)


def event_index(pointer: str) -> int | None:
    """The index of the event a JSON pointer points into (None: not inside one event)."""
    prefix = EVENT_LIST + "/"
    if not pointer.startswith(prefix):
        return None
    head = pointer[len(prefix) :].split("/", 1)[0]
    return int(head) if head.isdigit() else None


def capture_document(
    session: Session,
    caller: Caller,
    document: Mapping[str, Any],
    *,
    raw: bytes,
    base_url: str,
    error_behaviour: CaptureErrorBehaviour = CaptureErrorBehaviour.ROLLBACK,
    limits: CaptureLimits = CaptureLimits(),
) -> CaptureJob:
    """Capture an EPCISDocument for ``caller``'s organisation and return its capture job.

    ``raw`` is the request body as received (its SHA-256 is kept with the job); ``base_url``
    is our public origin, which tells our certificates apart in ``certificationInfo``. Raises
    :class:`DocumentInvalid` (422), :class:`CaptureNotAuthorised` (403) or
    :class:`EventIdTaken` (409) in rollback mode, with one field error per problem.
    """
    proceed = error_behaviour == CaptureErrorBehaviour.PROCEED
    now = utcnow()
    problems = _Problems()
    for problem in validate_capture_document(document, max_events=limits.max_events):
        problems.add(problem.pointer, problem.code, problem.message)
    if problems.document or (problems and not proceed):
        raise DocumentInvalid(_refusal(problems), errors=problems.all())

    events: list[Any] = document["epcisBody"]["eventList"]
    context = document.get("@context")
    prepared: list[_Prepared] = []
    for index, event in enumerate(events):
        if index in problems.events:
            continue
        item = _prepare(index, event, context, problems, now, limits.future_tolerance)
        if item is not None:
            prepared.append(item)
    forbidden = _Problems()
    grants = _authorise(session, caller, prepared, problems, forbidden)
    _check_locations(session, caller, prepared, problems, grants)
    _link_certificates(session, caller, prepared, problems, base_url)
    if problems and not proceed:
        raise DocumentInvalid(_refusal(problems), errors=problems.all())
    if forbidden and not proceed:
        raise CaptureNotAuthorised(
            "The document names products that are neither yours nor of a firm that authorised "
            "you as a partner; nothing was stored.",
            errors=forbidden.all(),
        )
    for index, errors in forbidden.events.items():
        problems.events[index].extend(errors)
    prepared = [item for item in prepared if item.index not in problems.events]

    declarations = _Problems()
    known = _split_known(session, caller, prepared, problems, declarations)
    if declarations and not proceed:
        raise CaptureNotAuthorised(
            "The document declares erroneous events that another organisation recorded; only "
            "the organisation that recorded an event may declare it erroneous. Nothing was "
            "stored.",
            errors=declarations.all(),
        )
    if problems and not proceed:
        raise EventIdTaken(_refusal(problems), errors=problems.all())
    for index, errors in declarations.events.items():
        problems.events[index].extend(errors)

    rejected = len(problems.events)
    job = CaptureJob(
        capture_id=str(uuid.uuid4()),
        organisation_id=caller.organisation_id,
        user_id=caller.user_id,
        error_behaviour=error_behaviour,
        status=(
            CaptureStatus.SUCCEEDED
            if not rejected
            else CaptureStatus.FAILED
            if rejected == len(events)
            else CaptureStatus.PARTIAL
        ),
        event_count=len(events),
        captured_count=0,
        duplicate_count=0,
        declared_count=0,
        rejected_count=rejected,
        errors=[error.as_dict() for error in problems.all()],
        document_sha256=hashlib.sha256(raw).hexdigest(),
        document_bytes=len(raw),
        created_at=now,
        finished_at=now,
    )
    session.add(job)
    session.flush()
    stored = _store(session, caller, job, known.new, now)
    declaring = known.declarations + _declarations_of_stored(
        session, caller, known.declarations_of_new
    )
    declared = _declare_errors(session, declaring)
    # Declarations of events declared before, and events a concurrent capture stored first,
    # changed nothing either: duplicates.
    repeated_declarations = len(known.declarations) + len(known.declarations_of_new) - len(declared)
    stored_meanwhile = len(known.new) - len(stored)
    job.captured_count = len(stored)
    job.declared_count = len(declared)
    job.duplicate_count = len(known.duplicates) + repeated_declarations + stored_meanwhile
    _record_in_transparency_log(session, caller, stored, declared, now)
    session.flush()
    return job


def _refusal(problems: _Problems) -> str:
    count = len(problems.all())
    noun = "problem" if count == 1 else "problems"
    return f"The EPCIS document was refused ({count} {noun}); nothing was stored."


# ---------------------------------------------------------------------------------------------
# One event -> rows
# ---------------------------------------------------------------------------------------------


def _is_standard_context(entry: object) -> bool:
    return isinstance(entry, str) and entry.startswith(EPCIS_CONTEXT_PREFIX)


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _stored_document(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    """The event as stored: self-contained (extension namespaces folded into its own
    @context), without the properties the repository sets (eventID, recordTime)."""
    stored = {k: v for k, v in event.items() if k not in ("eventID", "recordTime", "@context")}
    extra = [c for c in [*_as_list(context), *_as_list(event.get("@context"))]]
    if any(not _is_standard_context(c) for c in extra):
        stored = {"@context": extra, **stored}
    return stored


def _duration(duration: timedelta) -> str:
    """``1 hour``, ``90 minutes``, ``45 seconds``: the largest unit that divides it."""
    seconds = int(duration.total_seconds())
    count, unit = next(
        (seconds // size, name)
        for size, name in ((3600, "hour"), (60, "minute"), (1, "second"))
        if seconds % size == 0
    )
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _ahead_of_clock(name: str, value: str, now: datetime, tolerance: timedelta) -> str:
    return (
        f"{name} {value} is in the future: it may be at most {_duration(tolerance)} after the "
        f"repository's clock (now {now.isoformat(timespec='seconds')}); "
    )


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("z", "Z"))


def _prepare(
    index: int,
    event: Mapping[str, Any],
    context: object,
    problems: _Problems,
    now: datetime,
    tolerance: timedelta,
) -> _Prepared | None:
    """Check one event and turn it into rows; None when it has problems (added to
    ``problems``). An eventTime more than ``tolerance`` after ``now`` did not happen yet."""
    pointer = f"{EVENT_LIST}/{index}"
    event_time = _parse_time(event["eventTime"])
    declaration = event.get("errorDeclaration")
    declared_at = declaration.get("declarationTime") if isinstance(declaration, Mapping) else None
    if event_time > now + tolerance:
        problems.add(
            f"{pointer}/eventTime",
            "event-time-in-future",
            _ahead_of_clock("eventTime", event["eventTime"], now, tolerance)
            + "record an event once it has happened",
        )
        return None
    if isinstance(declared_at, str) and _parse_time(declared_at) > now + tolerance:
        problems.add(
            f"{pointer}/errorDeclaration/declarationTime",
            "declaration-time-in-future",
            _ahead_of_clock("declarationTime", declared_at, now, tolerance)
            + "declare an error once it is known",
        )
        return None
    try:
        hash_id = event_hash_id(event, context)  # type: ignore[arg-type]
    except EventHashError as error:
        problems.add(pointer, "unhashable-event", str(error))
        return None

    subjects: list[_Subject] = []
    for name, role in _EPC_LISTS:
        for i, raw in enumerate(_as_list(event.get(name))):
            subject = _subject(role, raw, f"{pointer}/{name}/{i}", problems)
            if subject is not None:
                subjects.append(subject)
    if "parentID" in event:
        subject = _subject(EpcRole.PARENT, event["parentID"], f"{pointer}/parentID", problems)
        if subject is not None:
            subjects.append(subject)
    for name, role in _QUANTITY_LISTS:
        for i, element in enumerate(_as_list(event.get(name))):
            subject = _subject(
                role, element["epcClass"], f"{pointer}/{name}/{i}/epcClass", problems
            )
            if subject is not None:
                quantity = element.get("quantity")
                subject.quantity = float(quantity) if quantity is not None else None
                subject.uom = element.get("uom")
                subjects.append(subject)

    places: dict[str, str | None] = {}
    for name in ("readPoint", "bizLocation"):
        place = event.get(name)
        places[name] = None
        if isinstance(place, Mapping):
            subject = _subject(EpcRole.EPC, place["id"], f"{pointer}/{name}/id", problems)
            places[name] = subject.identifier.uri if subject else None
    given = event.get("eventID")
    biz_step = event.get("bizStep")
    disposition = event.get("disposition")
    certifications = _certification_references(pointer, event.get("certificationInfo"))
    expanded = {
        name: cbv.expand_term(name, value) if value else None
        for name, value in (("bizStep", biz_step), ("disposition", disposition))
    }
    too_long = [
        (f"{pointer}/eventID", given, _MAX_EVENT_ID),
        *((f"{pointer}/{name}", term, _MAX_TERM) for name, term in expanded.items()),
        *((at, reference, _MAX_REFERENCE) for reference, at in certifications),
    ]
    located = list(_located_references(event))
    _, reason = error_declaration_columns(event.get("errorDeclaration"))
    too_long.append((f"{pointer}/errorDeclaration/reason", reason, _MAX_TERM))
    # As stored: a type expanded to its URI, a GS1 value in its canonical form.
    for at, _, type_, (member, stored) in located:
        too_long.append((f"{pointer}/{at}/type", type_, _MAX_REFERENCE_TYPE))
        too_long.append((f"{pointer}/{at}/{member}", stored, _MAX_REFERENCE_VALUE))
    for at, value, limit in too_long:
        if isinstance(value, str) and len(value) > limit:
            problems.add(at, "too-long", f"{len(value)} characters; at most {limit} are stored")
    if index in problems.events:
        return None

    return _Prepared(
        index=index,
        pointer=pointer,
        hash_id=hash_id,
        given_event_id=given if isinstance(given, str) else None,
        event_type=str(event["type"]),
        action=event.get("action"),
        event_time=event_time,
        time_zone_offset=event["eventTimeZoneOffset"],
        biz_step=expanded["bizStep"],
        disposition=expanded["disposition"],
        read_point=places["readPoint"],
        biz_location=places["bizLocation"],
        subjects=subjects,
        certifications=certifications,
        references=_reference_rows(located),
        document=_stored_document(event, context),
        error_declaration=event.get("errorDeclaration"),
    )


def error_declaration_columns(declaration: object) -> tuple[datetime | None, str | None]:
    """(declarationTime in UTC, reason as a full URI) of a (valid) errorDeclaration, as the
    event's columns hold them; (None, None) without one."""
    if not isinstance(declaration, Mapping) or not isinstance(
        declaration.get("declarationTime"), str
    ):
        return None, None
    declared_at = _parse_time(declaration["declarationTime"]).astimezone(UTC)
    reason = declaration.get("reason")
    return declared_at, cbv.expand_term("errorReason", reason) if isinstance(reason, str) else None


def reference_value(raw: str) -> str:
    """A business transaction, source or destination value as stored and queried: canonical
    when it is a GS1 identifier (an SGLN URN and its Digital Link are one location)."""
    try:
        return identify(raw).uri
    except GS1SyntaxError:
        return raw


def reference_type(vocabulary: str, raw: str) -> str:
    """A business transaction, source or destination type as a full URI (``po`` ->
    ``https://ref.gs1.org/cbv/BTT-po``)."""
    return cbv.expand_term(vocabulary, raw)


def _located_references(
    event: Mapping[str, Any],
) -> Iterator[tuple[str, ReferenceKind, str | None, tuple[str, str]]]:
    """(pointer of the list element below the event, kind, type URI, (member, value)) of each
    business transaction, source and destination, as stored."""
    for name, kind, member, vocabulary in _REFERENCE_LISTS:
        for i, element in enumerate(_as_list(event.get(name))):
            if not isinstance(element, Mapping) or not isinstance(element.get(member), str):
                continue
            given = element.get("type")
            type_ = reference_type(vocabulary, given) if isinstance(given, str) else None
            yield f"{name}/{i}", kind, type_, (member, reference_value(element[member]))


def _reference_rows(
    located: Iterable[tuple[str, ReferenceKind, str | None, tuple[str, str]]],
) -> list[tuple[ReferenceKind, str | None, str]]:
    # Each distinct (kind, type, value) once, in the order the event names them.
    return list(dict.fromkeys((kind, type_, value) for _, kind, type_, (_, value) in located))


def event_references(event: Mapping[str, Any]) -> list[tuple[ReferenceKind, str | None, str]]:
    """(kind, type URI, value) of an event's business transactions, sources, destinations."""
    return _reference_rows(_located_references(event))


def _certification_references(pointer: str, value: object) -> list[tuple[str, str]]:
    if isinstance(value, list):
        return [(v, f"{pointer}/certificationInfo/{i}") for i, v in enumerate(value) if v]
    return [(value, f"{pointer}/certificationInfo")] if isinstance(value, str) and value else []


def _subject(role: EpcRole, raw: object, pointer: str, problems: _Problems) -> _Subject | None:
    if not isinstance(raw, str):
        return None  # the schema reports wrong types
    try:
        identifier = identify(raw)
    except GS1SyntaxError as error:
        problems.add(pointer, f"gs1-{error.rule}", error.message)
        return None
    if len(identifier.uri) > _MAX_URI:
        problems.add(
            pointer,
            "too-long",
            f"{len(identifier.uri)} characters; identifiers of at most {_MAX_URI} are stored",
        )
        return None
    return _Subject(role=role, identifier=identifier, pointer=pointer)


# ---------------------------------------------------------------------------------------------
# Authorisation and registered locations
# ---------------------------------------------------------------------------------------------


def _authorise(
    session: Session,
    caller: Caller,
    prepared: Sequence[_Prepared],
    problems: _Problems,
    forbidden: _Problems,
) -> dict[int, frozenset[str] | None]:
    """Attribute each event to the owners of what it names and refuse what the caller may not
    record; return the partner grants the caller holds.

    A product (GTIN) must be registered; it is the caller's, or its owner authorised the caller.
    A container (a case, a pallet) is about the products packed into it: events about it are
    attributed to, and need the authorisation of, the owners of its content.
    """
    subjects = [subject for item in prepared for subject in item.subjects]
    owners = product_owners(session, {s.identifier.gtin for s in subjects if s.identifier.gtin})
    grants = partner_grants(session, caller.organisation_id)
    lots = registered_unit_lots(
        session,
        {
            (s.identifier.gtin, s.identifier.serial)
            for s in subjects
            if s.identifier.gtin and s.identifier.serial
        },
    )
    content = container_contents(
        session, {s.identifier.uri for s in subjects if s.identifier.gtin is None}
    )

    def allowed(owner: int, gtin: str | None) -> bool:
        if owner == caller.organisation_id:
            return True
        if owner not in grants:
            return False
        scope = grants[owner]
        return scope is None or gtin is None or gtin in scope

    for item in prepared:
        for subject in item.subjects:
            identifier = subject.identifier
            gtin = identifier.gtin
            if gtin is None:
                packed = content.get(identifier.uri, set())
                item.owners |= {owner for owner, _ in packed}
                # An authorisation limited to some products covers a container only if it
                # holds no other product of that firm.
                known = {owner for owner, product in packed if product is not None}
                refused = sorted(
                    (owner, product or "")
                    for owner, product in packed
                    if (product is not None or owner not in known) and not allowed(owner, product)
                )
                if refused:
                    products = ", ".join(f"GTIN {product}" for _, product in refused if product)
                    forbidden.add(
                        subject.pointer,
                        "not-your-container",
                        f"{identifier.uri} holds products ({products or 'not by GTIN'}) of a firm "
                        "that has not authorised you to record events about them",
                    )
                continue
            owner = owners.get(gtin)
            if owner is None:
                problems.add(
                    subject.pointer,
                    "unknown-product",
                    f"GTIN {gtin} is not a registered product; register it under "
                    "/api/v1/products first",
                )
                continue
            subject.owner_id = owner
            item.owners.add(owner)
            registered_lot = lots.get((gtin, identifier.serial or ""))
            if registered_lot is not None:
                if identifier.lot is not None and identifier.lot != registered_lot:
                    problems.add(
                        subject.pointer,
                        "lot-mismatch",
                        f"unit {identifier.serial} of GTIN {gtin} belongs to lot "
                        f"{registered_lot}, not {identifier.lot}",
                    )
                subject.identifier = replace(identifier, lot=registered_lot)
            if not allowed(owner, gtin):
                forbidden.add(
                    subject.pointer,
                    "not-your-product",
                    f"GTIN {gtin} is not a product of yours, nor of a firm that authorised you "
                    "to record its events",
                )
        if item.event_type == "AggregationEvent" and item.action != "DELETE":
            # Later events of this document about the container concern the same owners and
            # products.
            packing: set[tuple[int, str | None]] = {(owner, None) for owner in item.owners}
            for subject in item.subjects:
                if subject.role not in (EpcRole.CHILD, EpcRole.CHILD_QUANTITY):
                    continue
                if subject.identifier.gtin is None:
                    packing |= content.get(subject.identifier.uri, set())
                elif subject.owner_id is not None:
                    packing.add((subject.owner_id, subject.identifier.gtin))
            for subject in item.subjects:
                if subject.role == EpcRole.PARENT:
                    content.setdefault(subject.identifier.uri, set()).update(packing)
    return grants


def _check_locations(
    session: Session,
    caller: Caller,
    prepared: Sequence[_Prepared],
    problems: _Problems,
    grantors: Iterable[int],
) -> None:
    """GLN read points and business locations must be registered by the capturer, by the owner
    of the event's products, or by a firm whose partner the capturer is."""
    uris = {
        uri
        for item in prepared
        for uri in (item.read_point, item.biz_location)
        if uri and is_gln_location(uri)
    }
    if not uris:
        return
    common = {caller.organisation_id, *grantors}
    organisations = common | {o for item in prepared for o in item.owners}
    registered: set[tuple[int, str]] = {
        (row.organisation_id, row.uri)
        for row in session.execute(
            select(Location.organisation_id, Location.uri).where(
                Location.uri.in_(uris),
                Location.organisation_id.in_(organisations),
                Location.is_active.is_(True),
            )
        )
    }
    for item in prepared:
        allowed = common | item.owners
        for name, uri in (("readPoint", item.read_point), ("bizLocation", item.biz_location)):
            if uri and is_gln_location(uri) and not any((o, uri) in registered for o in allowed):
                problems.add(
                    f"{item.pointer}/{name}/id",
                    "unregistered-location",
                    f"{uri} is not a location registered by you, by the product's owner or by "
                    "a firm you are a partner of; register it under /api/v1/trace/locations",
                )


def _link_certificates(
    session: Session,
    caller: Caller,
    prepared: Sequence[_Prepared],
    problems: _Problems,
    base_url: str,
) -> None:
    """``certificationInfo`` naming one of our certificates (``<base>/certificates/<number>``,
    or its credential URL) must name an existing certificate, held by the capturer or the
    owner of the event's products, valid at the event's time. Other certification bodies'
    URIs are stored as given."""
    prefix = f"{base_url}/certificates/"
    wanted: dict[str, str] = {}
    for item in prepared:
        for reference, _ in item.certifications:
            if reference.startswith(prefix):
                wanted[reference] = reference[len(prefix) :].split("/", 1)[0]
    if not wanted:
        return
    found = {
        certificate.number: certificate
        for certificate in session.scalars(
            select(Certificate).where(Certificate.number.in_(set(wanted.values())))
        )
    }
    for item in prepared:
        for reference, pointer in item.certifications:
            if reference not in wanted:
                continue
            certificate = found.get(wanted[reference])
            if certificate is None:
                problems.add(
                    pointer, "unknown-certificate", f"there is no certificate {wanted[reference]}"
                )
            elif certificate.firm_id not in item.owners | {caller.organisation_id}:
                problems.add(
                    pointer,
                    "certificate-of-another-firm",
                    f"certificate {certificate.number} is held neither by you nor by the owner "
                    "of the event's products",
                )
            elif not certificate.valid_from <= item.event_time < certificate.valid_until:
                problems.add(
                    pointer,
                    "certificate-not-valid-then",
                    f"certificate {certificate.number} is valid from "
                    f"{certificate.valid_from.isoformat()} until "
                    f"{certificate.valid_until.isoformat()}, not at the event's time",
                )
            else:
                item.certificate_ids[reference] = certificate.id


# ---------------------------------------------------------------------------------------------
# Idempotency and storage
# ---------------------------------------------------------------------------------------------


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class _Known:
    """Events of a document sorted by what capture does with them."""

    new: list[_Prepared]
    duplicates: list[_Prepared]
    # (stored event id, the item declaring it erroneous): error declarations by its recorder
    declarations: list[tuple[int, _Prepared]]
    # Error declarations of events this same document captures (stored first, then declared)
    declarations_of_new: list[_Prepared]


def _split_known(
    session: Session,
    caller: Caller,
    prepared: list[_Prepared],
    problems: _Problems,
    declarations: _Problems,
) -> _Known:
    """Split events into new ones, ones already stored (or repeated in the document) and error
    declarations about stored ones; refuse eventIDs that already name different content, and
    error declarations about events another organisation recorded (into ``declarations``): a
    partner allowed to record events about a firm's products may not erase the firm's own
    records from every journey."""
    known = _stored_events(session, [item.hash_id for item in prepared])

    new: list[_Prepared] = []
    duplicates: list[_Prepared] = []
    declared: list[tuple[int, _Prepared]] = []
    seen: set[str] = set()
    declared_new: list[_Prepared] = []
    for item in prepared:
        if item.hash_id in seen and item.error_declaration is not None:
            # The event appears earlier in this document: the caller records it now, and
            # declares it erroneous once stored.
            declared_new.append(item)
            continue
        if item.hash_id in known or item.hash_id in seen:
            stored = known.get(item.hash_id)
            if stored is not None and item.error_declaration is not None:
                event_id, recorder_id = stored
                if recorder_id != caller.organisation_id:
                    declarations.add(
                        f"{item.pointer}/errorDeclaration",
                        "not-your-event",
                        f"event {item.hash_id} was recorded by another organisation; only "
                        "the organisation that recorded it may declare it erroneous",
                    )
                    continue
                declared.append((event_id, item))
                continue
            duplicates.append(item)
        else:
            seen.add(item.hash_id)
            new.append(item)

    given = [item.given_event_id for item in new if item.given_event_id]
    taken: set[str] = set()
    for chunk in _chunks(given):
        taken.update(
            session.scalars(select(Event.epcis_event_id).where(Event.epcis_event_id.in_(chunk)))
        )
    used: set[str] = set()
    kept: list[_Prepared] = []
    for item in new:
        epcis_event_id = item.given_event_id or item.hash_id
        if epcis_event_id in taken or epcis_event_id in used:
            problems.add(
                f"{item.pointer}/eventID",
                "event-id-taken",
                f"eventID {epcis_event_id} already names another event",
            )
            continue
        used.add(epcis_event_id)
        kept.append(item)
    return _Known(
        new=kept, duplicates=duplicates, declarations=declared, declarations_of_new=declared_new
    )


def _declarations_of_stored(
    session: Session, caller: Caller, items: Sequence[_Prepared]
) -> list[tuple[int, _Prepared]]:
    """(event id, item) for declarations of events the same document captured, now stored;
    an event another organisation's concurrent capture stored first is not the caller's to
    declare (the item then counts as a duplicate)."""
    if not items:
        return []
    stored = _stored_events(session, [item.hash_id for item in items])
    return [
        (stored[item.hash_id][0], item)
        for item in items
        if item.hash_id in stored and stored[item.hash_id][1] == caller.organisation_id
    ]


def _stored_events(session: Session, hashes: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Hash ID -> (event id, recording organisation) of the stored events among ``hashes``."""
    found: dict[str, tuple[int, int]] = {}
    for chunk in _chunks(hashes):
        for hash_id, event_id, recorder_id in session.execute(
            select(Event.hash_id, Event.id, Event.organisation_id).where(Event.hash_id.in_(chunk))
        ):
            found[hash_id] = (event_id, recorder_id)
    return found


def _declare_errors(
    session: Session, declarations: Sequence[tuple[int, _Prepared]]
) -> list[_Prepared]:
    """Recapturing a stored event with an errorDeclaration declares the stored one erroneous
    (EPCIS 2.0 section 7.4.1.4); the hash ID ignores the declaration, so it is the same event.
    The first declaration stands: the items that declared an event not declared before are
    returned, later ones change nothing (duplicates). The event's row is locked, so concurrent
    declarations of one event make one change."""
    declared: list[_Prepared] = []
    for event_id, item in declarations:
        event = session.scalars(
            select(Event)
            .where(Event.id == event_id)
            .with_for_update(of=Event)
            .execution_options(populate_existing=True)
        ).one()
        if "errorDeclaration" in event.document:
            continue
        event.document = {**event.document, "errorDeclaration": item.error_declaration}
        event.error_declaration_time, event.error_reason = error_declaration_columns(
            item.error_declaration
        )
        declared.append(item)
    return declared


def _declaration_row(declaration: object) -> dict[str, Any]:
    declared_at, reason = error_declaration_columns(declaration)
    return {"error_declaration_time": declared_at, "error_reason": reason}


def _insert_ignoring_conflicts(session: Session, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return statement.on_conflict_do_nothing()


def _store(
    session: Session, caller: Caller, job: CaptureJob, new: list[_Prepared], now: datetime
) -> list[tuple[int, _Prepared]]:
    """Insert events and their identifier, organisation and certificate rows in bulk.

    Events another capture stored meanwhile (same hash ID) are skipped by the database, which
    keeps concurrent captures of one document idempotent."""
    by_hash = {item.hash_id: item for item in new}
    stored: list[tuple[int, _Prepared]] = []
    events: Table = Event.__table__  # type: ignore[assignment]
    for chunk in _chunks(new):
        rows = [
            {
                "hash_id": item.hash_id,
                "epcis_event_id": item.given_event_id or item.hash_id,
                "event_type": item.event_type,
                "action": item.action,
                "event_time": item.event_time,
                "time_zone_offset": item.time_zone_offset,
                "record_time": now,
                "biz_step": item.biz_step,
                "disposition": item.disposition,
                "read_point": item.read_point,
                "biz_location": item.biz_location,
                "capture_job_id": job.id,
                "organisation_id": caller.organisation_id,
                "user_id": caller.user_id,
                "document": item.document,
                **_declaration_row(item.error_declaration),
            }
            for item in chunk
        ]
        statement = _insert_ignoring_conflicts(session, events).returning(
            events.c.id, events.c.hash_id
        )
        for event_id, hash_id in session.execute(statement, rows):
            stored.append((event_id, by_hash[hash_id]))
    if len(stored) < len(new):
        done = {item.hash_id for _, item in stored}
        _check_lost_races(session, [item for item in new if item.hash_id not in done])

    epc_rows: list[dict[str, Any]] = []
    organisation_rows: list[dict[str, Any]] = []
    certification_rows: list[dict[str, Any]] = []
    reference_rows: list[dict[str, Any]] = []
    for event_id, item in stored:
        reference_rows.extend(
            {"event_id": event_id, "kind": kind, "type": type_, "value": value}
            for kind, type_, value in item.references
        )
        for subject in item.subjects:
            identifier = subject.identifier
            epc_rows.append(
                {
                    "event_id": event_id,
                    "role": subject.role,
                    "uri": identifier.uri,
                    "gtin": identifier.gtin,
                    "lot": identifier.lot,
                    "serial": identifier.serial,
                    "quantity": subject.quantity,
                    "uom": subject.uom,
                    "owner_organisation_id": subject.owner_id,
                }
            )
        organisation_rows.append(
            {
                "event_id": event_id,
                "organisation_id": caller.organisation_id,
                "relation": EventRelation.CAPTURED,
            }
        )
        organisation_rows.extend(
            {"event_id": event_id, "organisation_id": owner, "relation": EventRelation.OWNER}
            for owner in sorted(item.owners)
        )
        certification_rows.extend(
            {
                "event_id": event_id,
                "reference": reference,
                "certificate_id": item.certificate_ids.get(reference),
            }
            for reference in dict.fromkeys(reference for reference, _ in item.certifications)
        )
    for model, rows in (
        (EventEpc, epc_rows),
        (EventOrganisation, organisation_rows),
        (EventCertification, certification_rows),
        (EventReference, reference_rows),
    ):
        for chunk in _chunks(rows):
            session.execute(insert(model.__table__), list(chunk))  # type: ignore[arg-type]
    return stored


def _check_lost_races(session: Session, skipped: Iterable[_Prepared]) -> None:
    """An insert skipped because a concurrent capture stored the same event is a duplicate;
    one skipped for any other reason (an eventID taken meanwhile) refuses the document."""
    skipped = list(skipped)
    present = set(
        session.scalars(
            select(Event.hash_id).where(Event.hash_id.in_([item.hash_id for item in skipped]))
        )
    )
    lost = [item for item in skipped if item.hash_id not in present]
    if lost:
        raise EventIdTaken(
            "Another capture took an eventID of this document meanwhile; nothing was stored.",
            errors=[
                FieldError(f"{item.pointer}/eventID", "event-id-taken", "eventID already used")
                for item in lost
            ],
        )


def _record_in_transparency_log(
    session: Session,
    caller: Caller,
    stored: Sequence[tuple[int, _Prepared]],
    declared: Sequence[_Prepared],
    now: datetime,
) -> None:
    """Append "traceability event captured" with its hash ID for every new event, and
    "traceability event declared erroneous" for every stored event this capture declared
    erroneous, in the capture's transaction (one batch): the log then proves the event existed,
    unchanged, and when and by whom it was withdrawn from the journeys people see.

    A captured entry's content is the hash ID itself: it already is a SHA-256 over the event's
    canonical content (CBV 2.0), which anyone can recompute from the event, in any syntax. A
    declaration's content is the errorDeclaration object (JCS), as stored with the event."""
    entries = [
        NewEntry(
            entry_type=EntryType.EPCIS_EVENT_CAPTURED,
            record_type="epcis_event",
            record_id=item.hash_id,
            content=item.hash_id.encode(),
            organisation_id=caller.organisation_id,
            occurred_at=now,
            details={"event_hash_id": item.hash_id, "event_type": item.event_type},
        )
        for _, item in stored
    ]
    entries.extend(
        NewEntry(
            entry_type=EntryType.EPCIS_EVENT_ERROR_DECLARED,
            record_type="epcis_event",
            record_id=item.hash_id,
            content=item.error_declaration,
            organisation_id=caller.organisation_id,
            occurred_at=now,
            details=_declaration_details(item),
        )
        for item in declared
    )
    if entries:
        append_entries(session, entries)


def _declaration_details(item: _Prepared) -> dict[str, Any]:
    """What a reader of the log needs to know of an error declaration without the event."""
    declaration: Mapping[str, Any] = item.error_declaration
    reason = declaration.get("reason")
    corrective = declaration.get("correctiveEventIDs")
    return {
        "event_hash_id": item.hash_id,
        "event_type": item.event_type,
        "declaration_time": declaration.get("declarationTime"),
        # A CBV reason is a bare word; a custom one a URI, which may be longer than a detail.
        "reason": reason if isinstance(reason, str) and len(reason) <= MAX_DETAIL_LENGTH else None,
        "corrective_events": len(corrective) if isinstance(corrective, list) else 0,
    }
