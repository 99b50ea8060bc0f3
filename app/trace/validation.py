"""Validation of EPCIS 2.0 JSON-LD documents: the official JSON Schema plus CBV 2.0 rules.

Every problem carries an RFC 6901 JSON pointer into the document (a missing member is pointed at
where it should be, e.g. ``/epcisBody/eventList/3/eventTime``), a stable machine-readable ``code``
and a human message, so the HTTP layer can answer with problem+json that names the event and
field. Validation never raises for bad input; it returns the list of problems (empty = valid).

The schema is the GS1 ``EPCIS-JSON-Schema.json`` (draft-07), shipped as package data in
``app/trace/schema/``. ``format: uri`` is enforced (jsonschema needs ``rfc3986-validator`` for
that, and refuses to start without it); ``format: date-time`` is not checked by jsonschema without
further packages, so times are checked here, with a time-zone offset required.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any, Final

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from app.http.schemas import NUL
from app.trace import cbv

__all__ = [
    "DEFAULT_MAX_EVENTS",
    "EPCIS_CONTEXT_PREFIX",
    "Problem",
    "compile_validator",
    "load_schema",
    "validate_capture_document",
    "validate_document",
]

DEFAULT_MAX_EVENTS: Final = 10_000
"""Largest eventList accepted in one document; bounds the work one request can cause."""

EPCIS_CONTEXT_PREFIX: Final = "https://ref.gs1.org/standards/epcis/"

_EVENT_TYPES_WITH_ACTION: Final = frozenset(
    {"ObjectEvent", "AggregationEvent", "TransactionEvent", "AssociationEvent"}
)
_ACTIONS: Final = frozenset({"ADD", "OBSERVE", "DELETE"})
_TIME_RE: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<offset>Z|[+-]\d{2}:\d{2})?"
)
_OFFSET_RE: Final = re.compile(r"[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00)")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document.

    ``pointer`` is an RFC 6901 JSON pointer (``""`` is the whole document); ``code`` is stable
    (``schema-<keyword>`` for JSON Schema failures, otherwise one of the codes documented on
    :func:`validate_document`); ``message`` is for people.
    """

    pointer: str
    code: str
    message: str


# ---------------------------------------------------------------------------------------------
# Schema
# ---------------------------------------------------------------------------------------------


def load_schema() -> dict[str, Any]:
    """The EPCIS 2.0 JSON Schema shipped with the package (``app/trace/schema``)."""
    text = (
        resources.files("app.trace").joinpath("schema", "EPCIS-JSON-Schema.json").read_text("utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


def compile_validator(schema: Mapping[str, Any]) -> Draft7Validator:
    """A draft-07 validator for ``schema`` with URI format checking switched on.

    Raises RuntimeError when ``rfc3986-validator`` is missing: jsonschema would then silently
    accept any string as a URI, and with it unknown extension fields and misspelt CBV terms.
    """
    format_checker = FormatChecker()
    if "uri" not in format_checker.checkers:
        raise RuntimeError("rfc3986-validator is not installed; URI formats would go unchecked")
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, format_checker=format_checker)


@lru_cache(maxsize=1)
def _default_validator() -> Draft7Validator:
    # Compiled once per process: validation is on the capture hot path.
    return compile_validator(load_schema())


@lru_cache(maxsize=1)
def _fast_validator() -> Any:
    """A compiled (Rust) validator of the same schema that answers only "valid or not", about
    a hundred times faster than ``jsonschema``; None when ``jsonschema_rs`` is unavailable.

    Its formats are checked by the very functions ``jsonschema`` uses, so it cannot accept
    what the reference refuses on a format; a document it finds invalid is validated again by
    ``jsonschema``, whose errors (and verdict) are the ones reported.
    """
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    checker = _default_validator().format_checker
    assert checker is not None

    def conforms(name: str) -> Any:
        return lambda value: checker.conforms(value, name)

    schema = load_schema()
    formats = {name: conforms(name) for name in _formats_in(schema)}
    return jsonschema_rs.Draft7Validator(schema, formats=formats, validate_formats=True)


def _formats_in(node: object) -> set[str]:
    if isinstance(node, Mapping):
        found = {node["format"]} if isinstance(node.get("format"), str) else set()
        for value in node.values():
            found |= _formats_in(value)
        return found
    if isinstance(node, list):
        return {name for item in node for name in _formats_in(item)}
    return set()


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def validate_capture_document(
    document: object,
    *,
    validator: Draft7Validator | None = None,
    max_events: int = DEFAULT_MAX_EVENTS,
) -> list[Problem]:
    """Problems of a document offered to ``POST /capture``: an EPCISDocument, see below."""
    problems = validate_document(document, validator=validator, max_events=max_events)
    if isinstance(document, Mapping) and document.get("type") != "EPCISDocument":
        problems.insert(
            0, Problem("/type", "not-a-capture-document", "capture expects type EPCISDocument")
        )
    return problems


def validate_document(
    document: object,
    *,
    validator: Draft7Validator | None = None,
    max_events: int = DEFAULT_MAX_EVENTS,
) -> list[Problem]:
    """Problems of an EPCIS 2.0 JSON-LD document (EPCISDocument or EPCISQueryDocument).

    Checks the official JSON Schema (or ``validator``, from :func:`compile_validator`), then CBV
    rules, with these codes: ``not-an-object``, ``missing-epcis-context``, ``too-many-events``,
    ``missing-event-time``, ``missing-time-zone-offset``, ``invalid-time-zone-offset``,
    ``invalid-time``, ``time-without-offset``, ``missing-action``, ``invalid-action``,
    ``unknown-cbv-term``, ``not-a-number``, ``nul-character``. At most one problem is reported
    per pointer, the CBV rule first (its message is the more specific one). Problems come in
    document order of their pointers.
    """
    if not isinstance(document, Mapping):
        return [Problem("", "not-an-object", "an EPCIS document is a JSON object")]
    events = _event_list(document)
    if len(events) > max_events:
        # Refuse before the expensive part: schema validation is linear in the event count.
        return [
            Problem(
                _events_pointer(document),
                "too-many-events",
                f"{len(events)} events; at most {max_events} are accepted in one document",
            )
        ]
    problems: dict[str, Problem] = {}
    for problem in _unstorable_values(document, ()):
        problems.setdefault(problem.pointer, problem)
    for problem in _rule_problems(document, events):
        problems.setdefault(problem.pointer, problem)
    for problem in _schema_problems(document, validator or _default_validator()):
        problems.setdefault(problem.pointer, problem)
    return sorted(problems.values(), key=lambda p: _pointer_sort_key(p.pointer))


def _unstorable_values(value: object, path: tuple[object, ...]) -> Iterator[Problem]:
    # JSON (RFC 8259) has no NaN or Infinity, but Python's parser reads them, and the schema's
    # "number" accepts what it reads: a quantity of NaN would be stored. A NUL character
    # (``\u0000``) is valid JSON, but PostgreSQL stores it in no text or JSONB column.
    if isinstance(value, float) and not math.isfinite(value):
        yield Problem(_pointer(path), "not-a-number", "numbers must be finite (no NaN or Infinity)")
    elif isinstance(value, str) and NUL in value:
        yield Problem(_pointer(path), "nul-character", "text must not contain the NUL character")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and NUL in key:
                yield Problem(
                    _pointer((*path, key.replace(NUL, "\\0"))),
                    "nul-character",
                    "property names must not contain the NUL character",
                )
                continue
            yield from _unstorable_values(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable_values(item, (*path, index))


# ---------------------------------------------------------------------------------------------
# JSON Schema failures -> problems
# ---------------------------------------------------------------------------------------------


def _pointer(parts: Sequence[object]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _pointer_sort_key(pointer: str) -> list[tuple[int, int, str]]:
    # Numeric segments sort numerically so that event 10 comes after event 9.
    return [(0, int(s), "") if s.isdigit() else (1, 0, s) for s in pointer.split("/")[1:]]


def _schema_problems(document: Mapping[str, Any], validator: Draft7Validator) -> Iterator[Problem]:
    if validator is _default_validator():
        fast = _fast_validator()
        if fast is not None and fast.is_valid(document):
            return
    for error in validator.iter_errors(document):
        yield from _problems_from_error(error)


def _problems_from_error(error: ValidationError) -> Iterator[Problem]:
    path = list(error.absolute_path)
    keyword = str(error.validator)
    if "propertyNames" in error.relative_schema_path:
        # The failing instance is a property name: point at that property, not at its object.
        yield Problem(
            _pointer([*path, error.instance]),
            "schema-unknown-property",
            f"property {error.instance!r} is not defined here and is not an extension URI",
        )
    elif keyword == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        for name in error.instance:
            if name not in allowed:
                yield Problem(
                    _pointer([*path, name]),
                    "schema-unknown-property",
                    f"property {name!r} is not allowed here",
                )
    elif keyword == "required" and isinstance(error.instance, Mapping):
        for name in error.validator_value:
            if name not in error.instance:
                yield Problem(
                    _pointer([*path, name]), "schema-required", f"{name!r} is a required property"
                )
    else:
        yield Problem(_pointer(path), f"schema-{keyword}", _message(error))


def _message(error: ValidationError) -> str:
    if error.context:
        # anyOf/oneOf: say what each alternative wanted, e.g. "not a 'uri'; not one of [...]".
        reasons = sorted({c.message for c in error.context}, key=len)
        return "; ".join(r if len(r) <= 200 else r[:197] + "..." for r in reasons)
    return error.message


# ---------------------------------------------------------------------------------------------
# CBV / EPCIS rules the schema does not (fully) express
# ---------------------------------------------------------------------------------------------


def _event_list(document: Mapping[str, Any]) -> list[Any]:
    body = document.get("epcisBody")
    if not isinstance(body, Mapping):
        return []
    events = body.get("eventList")
    if events is None and isinstance(body.get("queryResults"), Mapping):
        results = body["queryResults"].get("resultsBody")
        events = results.get("eventList") if isinstance(results, Mapping) else None
    return events if isinstance(events, list) else []


def _events_pointer(document: Mapping[str, Any]) -> str:
    body = document.get("epcisBody", {})
    if isinstance(body, Mapping) and "eventList" in body:
        return "/epcisBody/eventList"
    return "/epcisBody/queryResults/resultsBody/eventList"


def _rule_problems(document: Mapping[str, Any], events: list[Any]) -> Iterator[Problem]:
    if not _has_epcis_context(document.get("@context")):
        yield Problem(
            "/@context",
            "missing-epcis-context",
            f"@context must include the EPCIS 2.0 context ({EPCIS_CONTEXT_PREFIX}...)",
        )
    if "creationDate" in document:
        yield from _time_problems("/creationDate", document["creationDate"])
    base = _events_pointer(document)
    for index, event in enumerate(events):
        if isinstance(event, Mapping):
            yield from _event_problems(f"{base}/{index}", event)


def _has_epcis_context(context: object) -> bool:
    entries = context if isinstance(context, list) else [context]
    return any(isinstance(e, str) and e.startswith(EPCIS_CONTEXT_PREFIX) for e in entries)


def _time_problems(pointer: str, value: object) -> Iterator[Problem]:
    match = _TIME_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None or not _is_calendar_time(match.group(0)):
        yield Problem(pointer, "invalid-time", f"{value!r} is not an ISO 8601 date-time")
    elif match.group("offset") is None:
        yield Problem(
            pointer,
            "time-without-offset",
            f"{value!r} has no time-zone offset (add Z or +hh:mm)",
        )


def _is_calendar_time(value: str) -> bool:
    """Field ranges (month 13, hour 25, ...) that the pattern lets through."""
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _term_problems(pointer: str, kind: str, value: object) -> Iterator[Problem]:
    if not isinstance(value, str):
        return  # wrong JSON type: the schema reports it
    try:
        cbv.validate_term(kind, value)
    except cbv.UnknownTermError as exc:
        yield Problem(pointer, "unknown-cbv-term", str(exc))


def _event_problems(p: str, event: Mapping[str, Any]) -> Iterator[Problem]:
    if "eventTime" not in event:
        yield Problem(f"{p}/eventTime", "missing-event-time", "every event needs an eventTime")
    else:
        yield from _time_problems(f"{p}/eventTime", event["eventTime"])
    offset = event.get("eventTimeZoneOffset")
    if offset is None:
        yield Problem(
            f"{p}/eventTimeZoneOffset",
            "missing-time-zone-offset",
            "every event needs an eventTimeZoneOffset",
        )
    elif not (isinstance(offset, str) and _OFFSET_RE.fullmatch(offset)):
        yield Problem(
            f"{p}/eventTimeZoneOffset",
            "invalid-time-zone-offset",
            f"{offset!r} is not an offset between -14:00 and +14:00 written as +hh:mm",
        )
    if "recordTime" in event:
        yield from _time_problems(f"{p}/recordTime", event["recordTime"])

    if event.get("type") in _EVENT_TYPES_WITH_ACTION:
        action = event.get("action")
        if action is None:
            yield Problem(f"{p}/action", "missing-action", f"a {event['type']} needs an action")
        elif action not in _ACTIONS:
            yield Problem(
                f"{p}/action", "invalid-action", f"{action!r} is not ADD, OBSERVE or DELETE"
            )

    for name, kind in (("bizStep", "bizStep"), ("disposition", "disposition")):
        if name in event:
            yield from _term_problems(f"{p}/{name}", kind, event[name])
    persistent = event.get("persistentDisposition")
    if isinstance(persistent, Mapping):
        for name in ("set", "unset"):
            for i, value in _items(persistent.get(name)):
                yield from _term_problems(
                    f"{p}/persistentDisposition/{name}/{i}", "disposition", value
                )
    for list_name, kind in (
        ("bizTransactionList", "bizTransactionType"),
        ("sourceList", "sourceDestType"),
        ("destinationList", "sourceDestType"),
    ):
        for i, entry in _items(event.get(list_name)):
            if isinstance(entry, Mapping) and "type" in entry:
                yield from _term_problems(f"{p}/{list_name}/{i}/type", kind, entry["type"])
    declaration = event.get("errorDeclaration")
    if isinstance(declaration, Mapping):
        if "declarationTime" in declaration:
            yield from _time_problems(
                f"{p}/errorDeclaration/declarationTime", declaration["declarationTime"]
            )
        if "reason" in declaration:
            yield from _term_problems(
                f"{p}/errorDeclaration/reason", "errorReason", declaration["reason"]
            )
    for i, element in _items(event.get("sensorElementList")):
        if isinstance(element, Mapping):
            yield from _sensor_problems(f"{p}/sensorElementList/{i}", element)


def _sensor_problems(p: str, element: Mapping[str, Any]) -> Iterator[Problem]:
    metadata = element.get("sensorMetadata")
    if isinstance(metadata, Mapping):
        for name in ("time", "startTime", "endTime"):
            if name in metadata:
                yield from _time_problems(f"{p}/sensorMetadata/{name}", metadata[name])
    for i, report in _items(element.get("sensorReport")):
        if not isinstance(report, Mapping):
            continue
        r = f"{p}/sensorReport/{i}"
        if "time" in report:
            yield from _time_problems(f"{r}/time", report["time"])
        # Only bare words are judged here: the schema allows any URI (including gs1: CURIEs).
        for name, kind in (
            ("type", "measurementType"),
            ("exception", "sensorAlertType"),
            ("component", "component"),
        ):
            value = report.get(name)
            if isinstance(value, str) and cbv.is_bare_word(value):
                yield from _term_problems(f"{r}/{name}", kind, value)


def _items(value: object) -> Iterator[tuple[int, Any]]:
    return enumerate(value) if isinstance(value, list) else iter(())
