"""Traceability endpoints: the EPCIS 2.0 REST binding under ``/epcis`` (capture, events) and
the rest under ``/api/v1/trace`` (locations, partners, journeys), plus the journey timeline page.

EPCIS endpoints are machine endpoints: they answer JSON and problem+json only.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from app.auth.models import OrgKind, Role
from app.auth.principal import Caller, allow
from app.errors import FieldError, InvalidInput, NotFound
from app.extensions import db
from app.http.api import resolve_caller, route, set_activity_target
from app.http.pagination import paginate
from app.http.schemas import Page, PageQuery
from app.trace import capture as capture_service
from app.trace import query as query_service
from app.trace import recalls, services
from app.trace.errors import CaptureTooLarge
from app.trace.journeys import Direction, journey_for
from app.trace.models import CaptureErrorBehaviour, CaptureJob, Recall
from app.trace.present import (
    capture_job_json,
    capture_job_url,
    journey_json,
    template_helpers,
)
from app.trace.schemas import (
    CaptureJobOut,
    EPCISDocumentIn,
    EPCISQueryDocumentOut,
    EventQuery,
    JourneyOut,
    JourneyQuery,
    LocationCreate,
    LocationOut,
    PartnerCreate,
    PartnerOut,
    RecallCreate,
    RecallDetailOut,
    RecallLift,
    RecallOut,
    RecallQuery,
)

bp = Blueprint(
    "trace",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/trace/static",
)
bp.context_processor(template_helpers)

CAPTURERS = allow([OrgKind.ENTERPRISE], [Role.ADMIN, Role.STAFF], scope="epcis:write")
FIRM_ADMINS = allow([OrgKind.ENTERPRISE], [Role.ADMIN], scope="epcis:write")
READERS = allow(scope="epcis:read")
EPCIS_HEADERS = {"GS1-EPCIS-Version": "2.0", "GS1-CBV-Version": "2.0"}
#: How the query answers' headers are documented.
EPCIS_HEADER_DOCS: dict[str, dict[str, Any]] = {
    name: {"required": True, "schema": {"type": "string", "const": value}}
    for name, value in EPCIS_HEADERS.items()
}
ERROR_BEHAVIOUR_HEADER = "GS1-Capture-Error-Behaviour"


def capture_limits() -> capture_service.CaptureLimits:
    config = current_app.config
    return capture_service.CaptureLimits(
        max_bytes=config.get("EPCIS_CAPTURE_MAX_BYTES", capture_service.DEFAULT_MAX_BYTES),
        max_events=config.get("EPCIS_CAPTURE_MAX_EVENTS", capture_service.DEFAULT_MAX_EVENTS),
        future_tolerance=(
            timedelta(seconds=config["EPCIS_FUTURE_TOLERANCE_SECONDS"])
            if "EPCIS_FUTURE_TOLERANCE_SECONDS" in config
            else capture_service.DEFAULT_FUTURE_TOLERANCE
        ),
    )


def _limit_headers() -> dict[str, str]:
    limits = capture_limits()
    return {
        **EPCIS_HEADERS,
        "GS1-EPCIS-Capture-Limit": str(limits.max_events),
        "GS1-EPCIS-Capture-File-Size-Limit": str(limits.max_bytes),
    }


@bp.before_request
def _refuse_oversize_capture() -> None:
    """Refuse a capture body over the limit before reading it (and cut streamed ones)."""
    if request.endpoint != "trace.capture" or request.method != "POST":
        return
    limit = capture_limits().max_bytes
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise CaptureTooLarge(
            f"The document has {request.content_length} bytes; capture accepts at most {limit} "
            "bytes per request. Split it into several documents.",
            errors=[FieldError("/", "max-bytes", f"at most {limit} bytes")],
        )


def _error_behaviour() -> CaptureErrorBehaviour:
    value = request.headers.get(ERROR_BEHAVIOUR_HEADER, "rollback").strip().lower()
    try:
        return CaptureErrorBehaviour(value)
    except ValueError:
        raise InvalidInput(
            f"{ERROR_BEHAVIOUR_HEADER} must be 'rollback' or 'proceed'.",
            errors=[FieldError(f"header.{ERROR_BEHAVIOUR_HEADER}", "enum", "rollback or proceed")],
        ) from None


# ---------------------------------------------------------------------------------------------
# EPCIS 2.0 REST binding
# ---------------------------------------------------------------------------------------------


@route(
    bp,
    "/epcis/capture",
    methods=("POST",),
    access=CAPTURERS,
    body=EPCISDocumentIn,
    body_content_types=("application/json", "application/ld+json"),
    response=CaptureJobOut,
    status=202,
    area="epcis",
    responses={202: "Captured; Location names the capture job"},
)
def capture(caller: Caller, body: EPCISDocumentIn) -> ResponseReturnValue:
    """Capture an EPCIS 2.0 document (all or nothing unless GS1-Capture-Error-Behaviour: proceed)
    Validated against the official EPCIS 2.0 JSON Schema and the CBV 2.0 rules; events about
    products that are neither yours nor of a firm that authorised you are refused. Capturing
    the same event again is idempotent (events are identified by their CBV 2.0 hash ID)."""
    job = capture_service.capture_document(
        db.session,
        caller,
        body.root,
        raw=request.get_data(cache=True),
        base_url=current_app.config["BASE_URL"],
        error_behaviour=_error_behaviour(),
        limits=capture_limits(),
    )
    set_activity_target("epcis_capture", job.capture_id)
    base_url = current_app.config["BASE_URL"]
    return capture_job_json(job, base_url), {
        "Location": capture_job_url(job, base_url),
        **_limit_headers(),
    }


@route(
    bp,
    "/epcis/capture",
    access=CAPTURERS,
    query=PageQuery,
    response=Page[CaptureJobOut],
    scope="epcis:read",
    area="epcis",
)
def list_capture_jobs(caller: Caller, query: PageQuery) -> Any:
    """Your organisation's capture jobs, newest first."""
    page = paginate(
        db.session,
        select(CaptureJob).where(CaptureJob.organisation_id == caller.organisation_id),
        CaptureJob.id,
        limit=query.limit,
        cursor=query.cursor,
    )
    base_url = current_app.config["BASE_URL"]
    return type(page)(
        items=[capture_job_json(job, base_url) for job in page.items],
        limit=page.limit,
        next_cursor=page.next_cursor,
    ), _limit_headers()


@route(
    bp,
    "/epcis/capture/<capture_id>",
    access=CAPTURERS,
    response=CaptureJobOut,
    scope="epcis:read",
    area="epcis",
)
def get_capture_job(caller: Caller, capture_id: str) -> Any:
    """A capture job of your organisation: status, counts and the refused events' errors."""
    job = db.session.scalar(
        select(CaptureJob).where(
            CaptureJob.capture_id == capture_id,
            CaptureJob.organisation_id == caller.organisation_id,
        )
    )
    if job is None:
        raise NotFound(f"No capture job {capture_id}.")
    return capture_job_json(job, current_app.config["BASE_URL"])


def _event_filter(query: EventQuery) -> query_service.EventFilter:
    split = query_service.split_values
    actions = split(query.EQ_action)
    bad = [a for a in actions if a not in ("ADD", "OBSERVE", "DELETE")]
    if bad:
        raise InvalidInput(
            "EQ_action takes ADD, OBSERVE or DELETE.",
            errors=[FieldError("query.EQ_action", "enum", f"{bad[0]!r} is not an action")],
        )
    return query_service.EventFilter(
        event_types=split(query.eventType),
        ge_event_time=query.GE_eventTime,
        lt_event_time=query.LT_eventTime,
        ge_record_time=query.GE_recordTime,
        lt_record_time=query.LT_recordTime,
        actions=actions,
        biz_steps=split(query.EQ_bizStep),
        dispositions=split(query.EQ_disposition),
        read_points=split(query.EQ_readPoint),
        biz_locations=split(query.EQ_bizLocation),
        event_ids=split(query.EQ_eventID),
        matches=tuple((name, split(getattr(query, name))) for name in query_service.MATCH_ROLES),
    )


@route(
    bp,
    "/epcis/events",
    access=READERS,
    query=EventQuery,
    response=EPCISQueryDocumentOut,
    area="epcis",
    headers=EPCIS_HEADER_DOCS
    | {
        "Link": {
            "description": 'The next page (nextPageToken) as `<url>; rel="next"`, when there '
            "is one.",
            "schema": {"type": "string"},
        }
    },
)
def events(caller: Caller, query: EventQuery) -> Response:
    """Query events (EPCIS SimpleEventQuery); the next page is in the Link header
    The answer is an EPCISQueryDocument. You see the events your organisation captured and the
    events about its products; the association sees its members' events; observers read all."""
    page = query_service.query_events(
        db.session,
        caller,
        _event_filter(query),
        per_page=query.perPage,
        next_page_token=query.nextPageToken,
        descending=query.orderDirection == "DESC",
    )
    response = jsonify(query_service.query_document(page.events))
    response.headers.update(EPCIS_HEADERS)
    if page.next_page_token:
        args = [
            (key, value)
            for key, values in request.args.lists()
            if key != "nextPageToken"
            for value in values
        ]
        args.append(("nextPageToken", page.next_page_token))
        next_url = f"{current_app.config['BASE_URL']}{request.path}?{urlencode(args)}"
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response


@route(
    bp,
    "/epcis/events/<path:event_id>",
    access=READERS,
    response=EPCISQueryDocumentOut,
    area="epcis",
    headers=EPCIS_HEADER_DOCS,
)
def event(caller: Caller, event_id: str) -> Response:
    """One event by eventID or CBV hash ID (percent-encoded), as an EPCISQueryDocument."""
    found = query_service.get_event(db.session, caller, event_id)
    response = jsonify(query_service.query_document([found]))
    response.headers.update(EPCIS_HEADERS)
    return response


# ---------------------------------------------------------------------------------------------
# Locations and partners
# ---------------------------------------------------------------------------------------------


@route(
    bp,
    "/api/v1/trace/locations",
    access=READERS,
    response=list[LocationOut],
    area="epcis",
)
def list_locations(caller: Caller) -> Any:
    """Registered GLN locations: a firm's own; observers and the association see all."""
    return services.list_locations(db.session, caller)


@route(
    bp,
    "/api/v1/trace/locations",
    methods=("POST",),
    access=FIRM_ADMINS,
    body=LocationCreate,
    response=LocationOut,
    status=201,
    area="epcis",
)
def register_location(caller: Caller, body: LocationCreate) -> Any:
    """Register a GLN read point or business location (farm, factory, warehouse, store)."""
    location = services.register_location(
        db.session,
        caller,
        gln=body.gln,
        extension=body.extension,
        kind=body.kind,
        name_zh=body.name_zh,
        name_en=body.name_en,
        address=body.address,
    )
    set_activity_target("location", location.id)
    return location


@route(
    bp,
    "/api/v1/trace/locations/<int:location_id>",
    methods=("DELETE",),
    access=FIRM_ADMINS,
    response=LocationOut,
    area="epcis",
)
def deactivate_location(caller: Caller, location_id: int) -> Any:
    """Stop accepting a location on new events (stored events keep it)."""
    set_activity_target("location", location_id)
    return services.deactivate_location(db.session, caller, location_id)


@route(
    bp,
    "/api/v1/trace/partners",
    access=allow([OrgKind.ENTERPRISE], scope="epcis:read"),
    response=list[PartnerOut],
    area="epcis",
)
def list_partners(caller: Caller) -> Any:
    """Partner authorisations your firm gave and received."""
    return services.list_partner_authorisations(db.session, caller)


@route(
    bp,
    "/api/v1/trace/partners",
    methods=("POST",),
    access=FIRM_ADMINS,
    body=PartnerCreate,
    response=PartnerOut,
    status=201,
    area="epcis",
)
def authorise_partner(caller: Caller, body: PartnerCreate) -> Any:
    """Let a partner firm (logistics, processor) record events about your products."""
    grant = services.authorise_partner(
        db.session, caller, partner_slug=body.partner, gtins=body.gtins, note=body.note
    )
    set_activity_target("partner_authorisation", grant.id)
    return grant


@route(
    bp,
    "/api/v1/trace/partners/<int:authorisation_id>",
    methods=("DELETE",),
    access=FIRM_ADMINS,
    response=PartnerOut,
    area="epcis",
)
def revoke_partner(caller: Caller, authorisation_id: int) -> Any:
    """Revoke a partner authorisation (events already recorded stay)."""
    set_activity_target("partner_authorisation", authorisation_id)
    return services.revoke_partner_authorisation(db.session, caller, authorisation_id)


# ---------------------------------------------------------------------------------------------
# Journeys
# ---------------------------------------------------------------------------------------------


@route(
    bp,
    "/api/v1/trace/journey",
    access=READERS,
    query=JourneyQuery,
    response=JourneyOut,
    area="epcis",
)
def journey(caller: Caller, query: JourneyQuery) -> Any:
    """The journey of a unit, batch or container, upstream and downstream
    Follows aggregation (unit -> case -> pallet and back) and transformation (inputs -> outputs)
    through the events you may see, in time order."""
    found = journey_for(db.session, caller, query.epc, query.direction)
    return journey_json(db.session, found)


# ---------------------------------------------------------------------------------------------
# Holds and recalls
# ---------------------------------------------------------------------------------------------

RECALLERS = allow([OrgKind.ENTERPRISE, OrgKind.ASSOCIATION], [Role.ADMIN, Role.STAFF])


def _recall_detail(recall: Recall) -> dict[str, Any]:
    return {
        **RecallOut.model_validate(recall).model_dump(),
        "affected": asdict(recalls.affected_by(db.session, recall)),
    }


@route(
    bp,
    "/api/v1/trace/recalls",
    methods=("POST",),
    access=RECALLERS,
    body=RecallCreate,
    response=RecallDetailOut,
    status=201,
    scope="epcis:write",
    area="epcis",
)
def place_recall(caller: Caller, body: RecallCreate) -> Any:
    """Put a batch on hold or recall it: every unit downstream of it is affected
    A firm acts on its own batches, the association on its members'."""
    recall = recalls.place_recall(
        db.session, caller, batch_id=body.batch_id, kind=body.kind, reason=body.reason
    )
    set_activity_target("recall", recall.id)
    return _recall_detail(recall)


@route(
    bp,
    "/api/v1/trace/recalls",
    access=READERS,
    query=RecallQuery,
    response=Page[RecallOut],
    area="epcis",
)
def list_recalls(caller: Caller, query: RecallQuery) -> Any:
    """Holds and recalls: a firm's own, the association's members', all for observers."""
    return recalls.list_recalls(
        db.session, caller, status=query.status, limit=query.limit, cursor=query.cursor
    )


@route(
    bp,
    "/api/v1/trace/recalls/<int:recall_id>",
    access=READERS,
    response=RecallDetailOut,
    area="epcis",
)
def get_recall(caller: Caller, recall_id: int) -> Any:
    """A hold or recall with everything it reaches downstream (batches, units, containers)."""
    return _recall_detail(recalls.get_recall(db.session, caller, recall_id))


@route(
    bp,
    "/api/v1/trace/recalls/<int:recall_id>/lift",
    methods=("POST",),
    access=RECALLERS,
    body=RecallLift,
    response=RecallOut,
    scope="epcis:write",
    area="epcis",
)
def lift_recall(caller: Caller, recall_id: int, body: RecallLift) -> Any:
    """Lift a hold or recall, with a reason."""
    set_activity_target("recall", recall_id)
    return recalls.lift_recall(db.session, caller, recall_id, reason=body.reason)


@bp.get("/trace/journey")
def journey_page() -> ResponseReturnValue:
    """The journey as a timeline for people (signed-in users)."""
    caller = resolve_caller()
    if caller is None:
        return redirect(url_for("web_auth.login", next=request.full_path))
    epc = request.args.get("epc", "").strip()
    direction_name = request.args.get("direction", Direction.BOTH.value)
    try:
        direction = Direction(direction_name)
    except ValueError:
        direction = Direction.BOTH
    data = None
    if epc:
        data = journey_json(db.session, journey_for(db.session, caller, epc, direction))
    return render_template("trace/journey.html", journey=data, epc=epc, direction=direction)
