"""Portal pages of traceability for firms.

A form for the common events (harvest, processing, packing, shipping, receiving: built as EPCIS
2.0 events server-side and captured through the capture service like any document), an upload of
EPCIS JSON-LD documents with the capture job's result, the event list, the journey timeline of a
unit, batch or case, registered locations, and holds and recalls of a batch (firm admins, after
a confirmation page that shows what the recall reaches).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from pydantic import Field
from sqlalchemy import or_, select

from app.auth.models import OrgKind, Role
from app.auth.principal import Caller, allow
from app.db import utcnow
from app.errors import AppError, FieldError, NotFound
from app.extensions import db
from app.gs1.epc import sscc_to_digital_link
from app.gs1.identifiers import GS1SyntaxError, validate_sscc
from app.http.api import set_activity_target
from app.http.schemas import RequestSchema
from app.http.web import page
from app.portal.nav import nav_item
from app.portal.tables import Column, Filter, build_table, matching_text
from app.products import services as products
from app.products.models import Batch, Product
from app.products.portal import batch_link
from app.products.portal_forms import (
    GENERAL,
    Submission,
    apply_error,
    bilingual,
    choice_filter,
    field_message,
    form_token,
    parse,
    remember_result,
    repeated_submission,
    submit,
    when,
)
from app.trace import capture as capture_service
from app.trace import cbv, recalls, services
from app.trace.common_events import (
    Amount,
    CommonEvent,
    CommonEventKind,
    build_document,
    build_event,
)
from app.trace.journeys import Direction, journey_for
from app.trace.models import (
    CaptureErrorBehaviour,
    CaptureJob,
    Event,
    Location,
    LocationKind,
    Recall,
    RecallKind,
    RecallStatus,
)
from app.trace.present import UNIT_SYMBOLS, journey_json, template_helpers
from app.trace.query import visibility_condition
from app.trace.schemas import LocationCreate, RecallCreate, RecallLift
from app.trace.views import capture_limits

bp = Blueprint("trace_portal", __name__, url_prefix="/portal", template_folder="templates")

FIRM = allow([OrgKind.ENTERPRISE], [Role.ADMIN, Role.STAFF])
FIRM_ADMIN = allow([OrgKind.ENTERPRISE], [Role.ADMIN])
SECTION = lazy_gettext("Traceability")

nav_item(SECTION, lazy_gettext("Events"), "trace_portal.events", FIRM, 200)
nav_item(SECTION, lazy_gettext("Record an event"), "trace_portal.new_event", FIRM, 201)
nav_item(SECTION, lazy_gettext("Upload an EPCIS document"), "trace_portal.upload", FIRM, 202)
nav_item(
    SECTION, lazy_gettext("Journey of a unit, batch or case"), "trace_portal.journey", FIRM, 203
)
nav_item(SECTION, lazy_gettext("Holds and recalls"), "trace_portal.recalls_list", FIRM, 204)
nav_item(SECTION, lazy_gettext("Locations"), "trace_portal.locations", FIRM, 205)

KIND_LABELS = {
    CommonEventKind.HARVEST: lazy_gettext("Harvest"),
    CommonEventKind.PROCESSING: lazy_gettext("Processing"),
    CommonEventKind.PACKING: lazy_gettext("Packing"),
    CommonEventKind.SHIPPING: lazy_gettext("Shipping"),
    CommonEventKind.RECEIVING: lazy_gettext("Receiving"),
}
KIND_HINTS = {
    CommonEventKind.HARVEST: lazy_gettext("Fresh leaf picked at a garden: a lot comes into being."),
    CommonEventKind.PROCESSING: lazy_gettext(
        "One lot made into another (withering, rolling, drying)."
    ),
    CommonEventKind.PACKING: lazy_gettext("Labelled units or a quantity packed into a case."),
    CommonEventKind.SHIPPING: lazy_gettext("A case, units or a quantity leaving a place."),
    CommonEventKind.RECEIVING: lazy_gettext("A case, units or a quantity arriving at a place."),
}
UNIT_LABELS = {
    "KGM": lazy_gettext("kg"),
    "GRM": lazy_gettext("g"),
    "H87": lazy_gettext("pieces"),
}
RECALL_KIND_LABELS = {
    RecallKind.HOLD: lazy_gettext("hold (stop selling while you investigate)"),
    RecallKind.RECALL: lazy_gettext("recall (take back from the market)"),
}
RECALL_STATUS_LABELS = {
    RecallStatus.ACTIVE: lazy_gettext("in effect"),
    RecallStatus.LIFTED: lazy_gettext("lifted"),
}
LOCATION_KIND_LABELS = {
    LocationKind.FARM: lazy_gettext("tea garden or farm"),
    LocationKind.FACTORY: lazy_gettext("factory"),
    LocationKind.WAREHOUSE: lazy_gettext("warehouse"),
    LocationKind.STORE: lazy_gettext("shop"),
    LocationKind.OTHER: lazy_gettext("other"),
}
CAPTURE_RULES = {
    "unregistered-location": lazy_gettext(
        "This place is not a location registered by you or by the product's owner."
    ),
    "unknown-product": lazy_gettext("This GTIN is not a registered product."),
    "not-your-product": lazy_gettext(
        "This product is neither yours nor of a firm that authorised you to record its events."
    ),
    "not-your-container": lazy_gettext(
        "This case holds products of a firm that has not authorised you to record its events."
    ),
    "lot-mismatch": lazy_gettext("This unit belongs to another lot."),
    "event-id-taken": lazy_gettext("This eventID already names another event."),
    "event-time-in-future": lazy_gettext(
        "This event's time is in the future: record an event once it has happened."
    ),
    "not-your-event": lazy_gettext(
        "Only the organisation that recorded this event may declare it erroneous."
    ),
}
DEFAULT_OFFSET = "+08:00"  # China Standard Time: the firms this serves work in it


def _base_url() -> str:
    return str(current_app.config["BASE_URL"])


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        **template_helpers(),
        "kind_label": lambda kind: str(KIND_LABELS.get(kind, kind)),
        "recall_kind": lambda kind: str(RECALL_KIND_LABELS.get(kind, kind)),
        "recall_status": lambda status: str(RECALL_STATUS_LABELS.get(status, status)),
        "location_kind": lambda kind: str(LOCATION_KIND_LABELS.get(kind, kind)),
        "rule_hint": lambda rule: str(CAPTURE_RULES.get(rule, "")),
        "step_name": _step_name,
        "journey_link": _journey_url,
        "unit_label": lambda value: (
            str(UNIT_LABELS[value])
            if value in UNIT_LABELS
            else UNIT_SYMBOLS.get(value, value or "")
        ),
        "bilingual": bilingual,
        "when": when,
    }


def _step_name(biz_step: str | None) -> str:
    """A stored business step (full CBV URI) in words."""
    if biz_step is None:
        return ""
    return str(template_helpers()["step_label"](cbv.standard_term("bizStep", biz_step) or biz_step))


def _render(template: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    return render_template(f"trace/portal/{template}", **context), status


def _journey_url(uri: str) -> str:
    return url_for("trace_portal.journey", epc=uri)


# Links on every batch page and a panel on the firm overview (the products portal shows them).
batch_link(
    lazy_gettext("Journey"),
    lambda batch: _journey_url(products.batch_uri(_base_url(), batch.product.gtin, batch.lot)),
    FIRM,
    10,
)
batch_link(
    lazy_gettext("Record an event"),
    lambda batch: url_for("trace_portal.new_event", batch=batch.id),
    FIRM,
    20,
)
batch_link(
    lazy_gettext("Hold or recall…"),
    lambda batch: url_for("trace_portal.new_recall", batch_id=batch.id),
    FIRM_ADMIN,
    30,
)


# --- events -----------------------------------------------------------------------------------


def _places(events: Any) -> dict[str, Location]:
    uris = {uri for event in events for uri in (event.read_point, event.biz_location) if uri}
    return services.location_names(db.session, uris)


def _step_choices() -> list[tuple[str, str]]:
    labels = template_helpers()["step_label"]
    steps = ("commissioning", "packing", "shipping", "receiving", "storing", "inspecting")
    return [(cbv.expand_term("bizStep", step), labels(step)) for step in steps]


@page(bp, "/trace/events", access=FIRM)
def events(caller: Caller) -> ResponseReturnValue:
    """The events the firm captured or that concern its products, newest first."""
    statement = select(Event)
    visible = visibility_condition(db.session, caller)
    if visible is not None:
        statement = statement.where(visible)
    table = build_table(
        db.session,
        statement,
        columns=[
            Column("event_time", lazy_gettext("When"), sort=Event.event_time),
            Column("step", lazy_gettext("Step"), sort=Event.biz_step),
            Column("type", lazy_gettext("Event"), sort=Event.event_type),
            Column("where", lazy_gettext("Where")),
            Column("what", lazy_gettext("What")),
            Column("by", lazy_gettext("Recorded by")),
        ],
        filters=[
            Filter(
                "step",
                lazy_gettext("Step"),
                lambda s, value: s.where(Event.biz_step == value),
                choices=_step_choices(),
            )
        ],
        args=request.args,
        default_sort="event_time",
    )
    return _render("events.html", table=table, places=_places(table.rows))


# --- the common-event form --------------------------------------------------------------------

UNITS = Literal["KGM", "GRM", "H87"]


class CommonEventForm(RequestSchema):
    """What the common-event form asks (which fields matter depends on the kind). "NaN" and
    "inf" parse as floats but are no quantity: refused as not a number."""

    event_time: str = Field(min_length=1, max_length=40)
    time_zone: str = Field(DEFAULT_OFFSET, pattern=r"^[+-](0\d|1[0-4]):[0-5]\d$")
    location_id: int = Field(ge=1)
    batch_id: int | None = Field(None, ge=1)
    quantity: float | None = Field(None, gt=0, le=1_000_000_000, allow_inf_nan=False)
    uom: UNITS = "KGM"
    output_batch_id: int | None = Field(None, ge=1)
    output_quantity: float | None = Field(None, gt=0, le=1_000_000_000, allow_inf_nan=False)
    output_uom: UNITS = "KGM"
    serials: list[str] = Field(default_factory=list, max_length=1000)
    container: str | None = Field(None, max_length=100)


EVENT_FIELDS = tuple(CommonEventForm.model_fields)


def _event_time(form: CommonEventForm, errors: dict[str, str]) -> datetime | None:
    sign = -1 if form.time_zone.startswith("-") else 1
    hours, minutes = form.time_zone[1:].split(":")
    zone = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    try:
        moment = datetime.fromisoformat(form.event_time.replace(" ", "T"))
    except ValueError:
        errors["event_time"] = gettext("Give the date and time as YYYY-MM-DD HH:MM.")
        return None
    moment = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment
    if moment > utcnow() + timedelta(minutes=5):
        errors["event_time"] = gettext("This time is in the future.")
        return None
    return moment


def _location(caller: Caller, location_id: int, errors: dict[str, str]) -> Location | None:
    location = db.session.get(Location, location_id)
    if location is None or location.organisation_id != caller.organisation_id:
        raise NotFound(f"No location {location_id}.")
    if not location.is_active:
        errors["location_id"] = gettext("This location is no longer in use.")
        return None
    return location


def _units(caller: Caller, batch: Batch, serials: list[str], errors: dict[str, str]) -> list[str]:
    uris = []
    for serial in serials:
        try:
            unit = products.get_unit(db.session, caller, batch.product.gtin, serial)
        except AppError:
            unit = None
        if unit is None or unit.batch_id != batch.id:
            errors["serials"] = gettext(
                "No label of batch %(lot)s has the serial %(serial)s.", lot=batch.lot, serial=serial
            )
            return []
        uris.append(unit.uri(_base_url()))
    return uris


def _container(value: str | None, errors: dict[str, str]) -> str | None:
    if not value:
        return None
    digits = value.strip()
    try:
        validate_sscc(digits, "container")
    except GS1SyntaxError as error:
        if error.rule == "check_digit":
            errors["container"] = field_message(
                FieldError("container", error.rule, error.message),
                "container",
                {"container": digits},
                AppError(error.message),
            )
        else:
            errors["container"] = gettext("An SSCC has 18 digits (0-9).")
        return None
    return sscc_to_digital_link(digits)


def _common_event(
    caller: Caller, kind: CommonEventKind, form: CommonEventForm, errors: dict[str, str]
) -> CommonEvent | None:
    """Check the form for ``kind`` and turn it into a :class:`CommonEvent` (None: errors)."""
    moment = _event_time(form, errors)
    location = _location(caller, form.location_id, errors)
    batch = products.get_batch(db.session, caller, form.batch_id) if form.batch_id else None
    needs_amount = kind in (CommonEventKind.HARVEST, CommonEventKind.PROCESSING)
    if batch is None and (needs_amount or form.serials or form.quantity):
        errors["batch_id"] = gettext("Choose a batch.")
    if needs_amount and form.quantity is None:
        errors["quantity"] = gettext("Required.")
    output = None
    if kind is CommonEventKind.PROCESSING:
        if form.output_batch_id is None:
            errors["output_batch_id"] = gettext("Choose a batch.")
        else:
            output = products.get_batch(db.session, caller, form.output_batch_id)
        if form.output_quantity is None:
            errors["output_quantity"] = gettext("Required.")
    container = _container(form.container, errors)
    if kind is CommonEventKind.PACKING and container is None and "container" not in errors:
        errors["container"] = gettext("Give the case's SSCC.")
    units = _units(caller, batch, form.serials, errors) if batch and form.serials else []
    if form.serials and form.quantity is not None:
        errors["quantity"] = gettext("Give either serials or a quantity, not both.")
    moves = kind in (CommonEventKind.PACKING, CommonEventKind.SHIPPING, CommonEventKind.RECEIVING)
    nothing_named = not form.serials and form.quantity is None
    if moves and nothing_named and (kind is CommonEventKind.PACKING or container is None):
        errors.setdefault(
            "serials", gettext("Name the labelled units, or give the batch and a quantity.")
        )
    if errors or moment is None or location is None:
        return None
    amounts = []
    if batch is not None and form.quantity is not None:
        uri = products.batch_uri(_base_url(), batch.product.gtin, batch.lot)
        amounts.append(Amount(uri, form.quantity, form.uom))
    outputs = []
    if output is not None and form.output_quantity is not None:
        uri = products.batch_uri(_base_url(), output.product.gtin, output.lot)
        outputs.append(Amount(uri, form.output_quantity, form.output_uom))
    return CommonEvent(
        kind=kind,
        event_time=moment,
        location=location.uri,
        amounts=amounts,
        outputs=outputs,
        units=units,
        container=container,
    )


def _capture_field(pointer: str, form: CommonEventForm) -> str:
    """The form field a capture problem (a JSON pointer into the one event) is about."""
    parts = pointer.split("/")
    name = parts[4] if len(parts) > 4 else ""
    if name in ("readPoint", "bizLocation"):
        return "location_id"
    if name in ("eventTime", "eventTimeZoneOffset"):
        return "event_time"
    if name == "outputQuantityList":
        return "output_quantity"
    if name in ("quantityList", "inputQuantityList", "childQuantityList"):
        return "quantity"
    if name == "parentID" or (name in ("epcList", "childEPCs") and not form.serials):
        return "container"
    if name in ("epcList", "childEPCs"):
        return "serials"
    return GENERAL


def _capture_errors(error: AppError, form: CommonEventForm, errors: dict[str, str]) -> None:
    for item in error.errors:
        hint = CAPTURE_RULES.get(item.rule)
        errors.setdefault(_capture_field(item.field, form), str(hint) if hint else item.message)
    if not error.errors:
        errors[GENERAL] = error.detail


def _event_form_context(caller: Caller) -> dict[str, Any]:
    locations = [
        location for location in services.list_locations(db.session, caller) if location.is_active
    ]
    batches = db.session.scalars(
        select(Batch)
        .join(Product, Product.id == Batch.product_id)
        .where(Product.organisation_id == caller.organisation_id)
        .order_by(Batch.id.desc())
        .limit(500)
    ).all()
    return {
        "locations": [
            (location.id, bilingual(location.name_zh, location.name_en)) for location in locations
        ],
        "batches": [
            (batch.id, f"{batch.lot} · {bilingual(batch.product.name_zh, batch.product.name_en)}")
            for batch in batches
        ],
        "units": list(UNIT_LABELS.items()),
        "kinds": [(kind, KIND_LABELS[kind], KIND_HINTS[kind]) for kind in CommonEventKind],
    }


def _now_local() -> str:
    zone = timezone(timedelta(hours=8))
    return utcnow().astimezone(zone).strftime("%Y-%m-%dT%H:%M")


@page(bp, "/trace/events/new", access=FIRM, methods=("GET", "POST"))
def new_event(caller: Caller) -> ResponseReturnValue:
    """Record a harvest, processing, packing, shipping or receiving: choose the kind, then fill
    in when, where and what; the event is built and captured as EPCIS 2.0."""
    raw_kind = request.args.get("kind", "")
    kind = CommonEventKind(raw_kind) if raw_kind in set(CommonEventKind) else None
    context = _event_form_context(caller)
    if kind is None:
        # No kind: the chooser. A kind we do not know (a mistyped or old link, a forged post):
        # the chooser too, saying so, as "not found"; nothing is recorded.
        notice = None
        if raw_kind:
            notice = gettext(
                "There is no kind of event “%(kind)s”: choose one of these.", kind=raw_kind[:40]
            )
        elif request.method == "POST":
            notice = gettext("Choose what happened first.")
        return _render(
            "event_kinds.html",
            404 if notice else 200,
            batch=request.args.get("batch", ""),
            notice=notice,
            **context,
        )
    values: dict[str, Any] = {
        "event_time": _now_local(),
        "time_zone": DEFAULT_OFFSET,
        "batch_id": request.args.get("batch", ""),
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = parse(CommonEventForm, request.form)
        values, errors = {**form.values, "serials": request.form.get("serials", "")}, form.errors
        if form.model is not None:
            try:
                repeat = repeated_submission(caller)
                if repeat is not None:
                    return repeat
                common = _common_event(caller, kind, form.model, errors)
                if common is not None:
                    document = build_document([build_event(common)], utcnow())
                    raw = json.dumps(document, ensure_ascii=False).encode()
                    job = capture_service.capture_document(
                        db.session,
                        caller,
                        document,
                        raw=raw,
                        base_url=_base_url(),
                        limits=capture_limits(),
                    )
            except NotFound:
                raise  # another firm's batch or location: 404, nothing done
            except (AppError, GS1SyntaxError) as error:
                if isinstance(error, GS1SyntaxError):
                    errors[GENERAL] = error.message
                elif error.errors and error.errors[0].field.startswith("/epcisBody"):
                    _capture_errors(error, form.model, errors)
                else:
                    apply_error(error, errors, values, EVENT_FIELDS)
            else:
                if common is not None:
                    set_activity_target("epcis_capture", job.capture_id)
                    target = url_for("trace_portal.capture_job", capture_id=job.capture_id)
                    remember_result(target)
                    if job.captured_count:
                        flash(gettext("%(kind)s recorded.", kind=KIND_LABELS[kind]), "success")
                    else:
                        flash(
                            gettext("This event was recorded before; nothing new was stored."),
                            "info",
                        )
                    return redirect(target, code=303)
        return _render(
            "event_form.html",
            422,
            kind=kind,
            values=values,
            errors=errors,
            token=form_token(),
            **context,
        )
    return _render(
        "event_form.html", kind=kind, values=values, errors=errors, token=form_token(), **context
    )


# --- EPCIS upload and capture jobs ------------------------------------------------------------


@page(bp, "/trace/upload", access=FIRM, methods=("GET", "POST"))
def upload(caller: Caller) -> ResponseReturnValue:
    """Upload an EPCIS 2.0 JSON-LD document (file or pasted text); the capture job's result is
    shown, and a refused document's problems point at the event and field."""
    values: dict[str, Any] = {"error_behaviour": "rollback"}
    errors: dict[str, str] = {}
    problems: list[dict[str, Any]] = []
    if request.method == "GET":
        return _render(
            "upload.html", values=values, errors=errors, problems=problems, token=form_token()
        )
    behaviour_name = request.form.get("error_behaviour", "rollback")
    values["error_behaviour"] = behaviour_name
    pasted = request.form.get("document", "")
    upload_file = request.files.get("file")
    raw = upload_file.read() if upload_file is not None and upload_file.filename else b""
    if not raw:
        raw = pasted.encode()
    limit = capture_limits().max_bytes
    if len(pasted) <= 200_000:
        values["document"] = pasted  # shown again when refused (not a huge one)
    document: Any = None
    if not raw.strip():
        errors["document"] = gettext("Choose a file or paste a document.")
    elif len(raw) > limit:
        errors["document"] = gettext(
            "The document has %(size)s bytes; at most %(limit)s are accepted. Split it.",
            size=len(raw),
            limit=limit,
        )
    else:
        try:
            document = json.loads(raw)
        except UnicodeDecodeError:
            errors["document"] = gettext("This is not JSON: the text is not in UTF-8.")
        except json.JSONDecodeError as error:
            errors["document"] = _json_problem(error)
        except ValueError:  # a number with more digits than Python reads
            errors["document"] = gettext("This is not JSON we can read: a number is too long.")
    if behaviour_name not in set(CaptureErrorBehaviour):
        errors["error_behaviour"] = gettext("Choose one of the options.")
    if not errors:
        try:
            repeat = repeated_submission(caller)
            if repeat is not None:
                return repeat
            if not isinstance(document, dict):
                errors["document"] = gettext("An EPCIS document is a JSON object.")
            else:
                job = capture_service.capture_document(
                    db.session,
                    caller,
                    document,
                    raw=raw,
                    base_url=_base_url(),
                    error_behaviour=CaptureErrorBehaviour(behaviour_name),
                    limits=capture_limits(),
                )
                set_activity_target("epcis_capture", job.capture_id)
                target = url_for("trace_portal.capture_job", capture_id=job.capture_id)
                remember_result(target)
                flash(gettext("Document captured."), "success")
                return redirect(target, code=303)
        except AppError as error:
            if error.errors and error.errors[0].field.startswith("/"):
                errors[GENERAL] = gettext(
                    "The document was refused; nothing was stored. The problems are listed below."
                )
                problems = _problems(error.errors)
            else:
                apply_error(error, errors, values, ("document", "error_behaviour"))
    return _render(
        "upload.html", 422, values=values, errors=errors, problems=problems, token=form_token()
    )


# What Python's JSON parser says (``JSONDecodeError.msg``, English), for people.
JSON_PROBLEMS = {
    "Expecting value": lazy_gettext("a value is missing or misspelt"),
    "Expecting property name enclosed in double quotes": lazy_gettext(
        "a name in double quotes is expected"
    ),
    "Expecting ',' delimiter": lazy_gettext("a comma is missing"),
    "Expecting ':' delimiter": lazy_gettext("a colon is missing"),
    "Extra data": lazy_gettext("there is more text after the end of the document"),
    "Invalid control character at": lazy_gettext("a text holds a control character"),
    "Unterminated string starting at": lazy_gettext("a text in quotes is not closed"),
    "Invalid \\escape": lazy_gettext("a backslash escape is invalid"),
    "Invalid \\uXXXX escape": lazy_gettext("a backslash escape is invalid"),
    "Illegal trailing comma before end of object": lazy_gettext("a comma is one too many"),
    "Illegal trailing comma before end of array": lazy_gettext("a comma is one too many"),
}


def _json_problem(error: json.JSONDecodeError) -> str:
    """Why a pasted or uploaded document is not JSON, and where, in the reader's language."""
    problem = JSON_PROBLEMS.get(error.msg)
    return gettext(
        "This is not JSON: %(problem)s (line %(line)s, column %(column)s).",
        problem=str(problem) if problem else gettext("the syntax is broken"),
        line=error.lineno,
        column=error.colno,
    )


def _problems(items: Any) -> list[dict[str, Any]]:
    """Capture problems by event: event number (1-based, None for the document), the field
    inside the event, the rule and the message."""
    rows = []
    for item in items:
        field = item["field"] if isinstance(item, dict) else item.field
        rule = item["rule"] if isinstance(item, dict) else item.rule
        message = item["message"] if isinstance(item, dict) else item.message
        index = capture_service.event_index(field)
        inner = field
        if index is not None:
            inner = field.removeprefix(f"{capture_service.EVENT_LIST}/{index}") or "/"
        rows.append(
            {
                "event": None if index is None else index + 1,
                "field": inner,
                "rule": rule,
                "message": message,
            }
        )
    return rows


@page(bp, "/trace/captures/<capture_id>", access=FIRM)
def capture_job(caller: Caller, capture_id: str) -> ResponseReturnValue:
    """A capture job of the firm: its status, counts and the refused events' problems."""
    job = db.session.scalar(
        select(CaptureJob).where(
            CaptureJob.capture_id == capture_id[:36],
            CaptureJob.organisation_id == caller.organisation_id,
        )
    )
    if job is None:
        raise NotFound(f"No capture job {capture_id}.")
    stored = db.session.scalars(
        select(Event).where(Event.capture_job_id == job.id).order_by(Event.event_time)
    ).all()
    return _render(
        "capture_job.html",
        job=job,
        problems=_problems(job.errors),
        stored=stored,
        places=_places(stored),
    )


# --- journeys ---------------------------------------------------------------------------------


@page(bp, "/trace/journey", access=FIRM)
def journey(caller: Caller) -> ResponseReturnValue:
    """The journey of a unit, batch or case as a timeline, upstream and downstream."""
    epc = request.args.get("epc", "").strip()[:500]
    direction_name = request.args.get("direction", Direction.BOTH.value)
    direction = Direction(direction_name) if direction_name in set(Direction) else Direction.BOTH
    errors: dict[str, str] = {}
    data = None
    if epc:
        try:
            data = journey_json(db.session, journey_for(db.session, caller, epc, direction))
        except AppError as error:
            errors["epc"] = gettext(
                "This is not a GS1 Digital Link or EPC URN we can read: %(problem)s",
                problem=error.errors[0].message if error.errors else error.detail,
            )
    return _render(
        "journey.html",
        422 if errors else 200,
        journey=data,
        values={"epc": epc, "direction": direction.value},
        errors=errors,
    )


# --- locations --------------------------------------------------------------------------------


@page(bp, "/trace/locations", access=FIRM)
def locations(caller: Caller) -> ResponseReturnValue:
    """The firm's registered locations (events name them as read point and business location)."""
    statement = select(Location)
    if caller.org_kind == OrgKind.ENTERPRISE:  # the rule of ``services.list_locations``
        statement = statement.where(Location.organisation_id == caller.organisation_id)
    table = build_table(
        db.session,
        statement,
        columns=[
            Column("name", lazy_gettext("Name"), sort=Location.name_en),
            Column("kind", lazy_gettext("Kind"), sort=Location.kind),
            Column("gln", "GLN", sort=Location.gln),
            Column("address", lazy_gettext("Address")),
            Column("is_active", lazy_gettext("In use"), sort=Location.is_active),
        ],
        filters=[
            Filter(
                "q",
                lazy_gettext("Name, GLN or address"),
                matching_text(Location.name_zh, Location.name_en, Location.gln, Location.address),
            ),
            Filter(
                "kind",
                lazy_gettext("Kind"),
                lambda s, v: s.where(Location.kind == v),
                choices=[(str(k), str(v)) for k, v in LOCATION_KIND_LABELS.items()],
            ),
        ],
        args=request.args,
        default_sort="name",
        default_descending=False,
    )
    return _render("locations.html", table=table, values={}, errors={})


LOCATION_FIELDS = tuple(LocationCreate.model_fields)


@page(bp, "/trace/locations/new", access=FIRM_ADMIN, methods=("GET", "POST"))
def new_location(caller: Caller) -> ResponseReturnValue:
    """Register a GLN location (garden, factory, warehouse, shop)."""
    if request.method == "GET":
        return _render("location_form.html", values={"kind": "factory"}, errors={})

    def register(model: LocationCreate) -> tuple[str, str]:
        location = services.register_location(db.session, caller, **model.model_dump())
        set_activity_target("location", location.id)
        name = bilingual(location.name_zh, location.name_en)
        return url_for("trace_portal.locations"), gettext(
            "Location %(name)s registered.", name=name
        )

    done = submit(LocationCreate, LOCATION_FIELDS, register)
    return done.response or _render(
        "location_form.html", 422, values=done.values, errors=done.errors
    )


# --- holds and recalls ------------------------------------------------------------------------


def _recalls_statement(caller: Caller) -> Any:
    return select(Recall).where(
        or_(
            Recall.owner_organisation_id == caller.organisation_id,
            Recall.placed_by_organisation_id == caller.organisation_id,
        )
    )


@page(bp, "/trace/recalls", access=FIRM)
def recalls_list(caller: Caller) -> ResponseReturnValue:
    """Holds and recalls of the firm's batches."""
    table = build_table(
        db.session,
        _recalls_statement(caller),
        columns=[
            Column("id", lazy_gettext("Number"), sort=Recall.id),
            Column("kind", lazy_gettext("Kind"), sort=Recall.kind),
            Column("batch", lazy_gettext("Batch")),
            Column("status", lazy_gettext("Status"), sort=Recall.status),
            Column("reason", lazy_gettext("Reason")),
            Column("created_at", lazy_gettext("Placed"), sort=Recall.created_at),
        ],
        filters=[
            choice_filter("status", lazy_gettext("Status"), Recall.status, RECALL_STATUS_LABELS)
        ],
        args=request.args,
        default_sort="id",
    )
    return _render("recalls.html", table=table)


def _affected(batch: Batch) -> recalls.Affected:
    # What a recall of this batch would reach, computed exactly as for a placed one.
    return recalls.affected_by(db.session, Recall(gtin=batch.product.gtin, lot=batch.lot))


RECALL_FIELDS = ("kind", "reason")


@page(bp, "/batches/<int:batch_id>/recall", access=FIRM_ADMIN, methods=("GET", "POST"))
def new_recall(caller: Caller, batch_id: int) -> ResponseReturnValue:
    """Confirmation page (what the hold or recall reaches, kind and reason), then place it."""
    batch = products.get_batch(db.session, caller, batch_id)
    done = Submission(values={"kind": request.args.get("kind", RecallKind.HOLD.value)})
    if request.method == "POST":
        data = request.form.copy()
        data["batch_id"] = str(batch.id)  # the batch is the page's, whatever the form says

        def place(model: RecallCreate) -> tuple[str, str]:
            recall = recalls.place_recall(
                db.session, caller, batch_id=batch.id, kind=model.kind, reason=model.reason
            )
            kind = RECALL_KIND_LABELS[recall.kind]
            set_activity_target("recall", recall.id)
            return url_for("trace_portal.recall", recall_id=recall.id), gettext(
                "Batch %(lot)s: %(kind)s placed.", lot=batch.lot, kind=kind
            )

        done = submit(RecallCreate, RECALL_FIELDS, place, once=caller, data=data)
        if done.response is not None:
            return done.response
    active = db.session.scalars(
        select(Recall).where(Recall.batch_id == batch.id, Recall.status == RecallStatus.ACTIVE)
    ).all()
    return _render(
        "recall_new.html",
        422 if request.method == "POST" else 200,
        batch=batch,
        product=batch.product,
        affected=_affected(batch),
        active=active,
        kinds=list(RECALL_KIND_LABELS.items()),
        values=done.values,
        errors=done.errors,
        token=form_token(),
    )


@page(bp, "/trace/recalls/<int:recall_id>", access=FIRM)
def recall(caller: Caller, recall_id: int) -> ResponseReturnValue:
    """A hold or recall and everything it reaches downstream."""
    item = recalls.get_recall(db.session, caller, recall_id)
    batch = db.session.get(Batch, item.batch_id)
    return _render(
        "recall.html",
        recall=item,
        batch=batch,
        affected=recalls.affected_by(db.session, item),
        may_lift=FIRM_ADMIN.allows(caller)
        and item.placed_by_organisation_id == caller.organisation_id,
    )


@page(bp, "/trace/recalls/<int:recall_id>/lift", access=FIRM_ADMIN, methods=("GET", "POST"))
def lift_recall(caller: Caller, recall_id: int) -> ResponseReturnValue:
    """Confirmation page with the reason, then lift a hold or recall."""
    item = recalls.get_recall(db.session, caller, recall_id)
    target = url_for("trace_portal.recall", recall_id=item.id)
    done = Submission(values={})
    if request.method == "POST":
        if item.status is RecallStatus.LIFTED:
            flash(gettext("This was lifted already."), "info")
            return redirect(target, code=303)

        def lift(model: RecallLift) -> tuple[str, str]:
            recalls.lift_recall(db.session, caller, item.id, reason=model.reason)
            return target, gettext("Lifted.")

        done = submit(RecallLift, ("reason",), lift)
        if done.response is not None:
            return done.response
    return _render(
        "recall_lift.html",
        422 if request.method == "POST" else 200,
        recall=item,
        values=done.values,
        errors=done.errors,
    )
