"""The resolver's routes: GS1 Digital Link URIs, the verification page, the manual check, the
resolver description, shoppers' reports and locations; and the scan, alert and report API.

Consumer routes are public and rate limited; every answer to a Digital Link is negotiated
(page, verdict JSON, linkset, redirect) and carries CORS and ``Link`` headers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import orjson
from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_babel import gettext, lazy_gettext
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from app.auth.models import OrgKind, Role
from app.auth.principal import PUBLIC, Caller, allow
from app.db import utcnow
from app.errors import AppError, FieldError, http_problem, problem_response
from app.extensions import db, limiter
from app.files.models import StoredFile
from app.files.services import IMAGE_TYPES, file_response, store_bytes
from app.gs1.digital_link import DigitalLink
from app.gs1.identifiers import GS1SyntaxError
from app.http.api import HTML_PAGE, file_answers, route, set_activity_target
from app.http.client import client_address
from app.http.pagination import PageResult
from app.http.schemas import Page
from app.i18n import current_locale
from app.resolver import present, services, sources
from app.resolver.errors import BadDigitalLink, ReportNotFound
from app.resolver.links import (
    ManualEntry,
    parse_manual_entry,
    parse_request_link,
    raw_request_target,
)
from app.resolver.models import FakeReport, Scan, ScanChannel
from app.resolver.negotiation import (
    HTML,
    JSON,
    LINKSET,
    Answer,
    Choice,
    choose,
    wants_machine_answer,
)
from app.resolver.photos import strip_jpeg_metadata
from app.resolver.rules import RuleKind
from app.resolver.schemas import (
    AlertOut,
    AlertQuery,
    AlertResolve,
    ReportCreated,
    ReportOut,
    ReportQuery,
    ReportReview,
    RuleOut,
    RuleUpdate,
    ScanOut,
    ScanQuery,
    ScanSummaryOut,
    ScanSummaryQuery,
    VerdictOut,
)
from app.resolver.storage import SCAN_WRITERS
from app.resolver.verdicts import CodeFacts, Reason, Verdict, shopper_facts

bp = Blueprint(
    "resolver",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/resolver/static",
)

# Limits per client address, overridable through the app config (benchmarks). There is no
# limit per code: its keys would grow with every code scanned, and a flood on one label from
# many addresses only pushes that label's scans, counted per shopper, towards an alert.
SCAN_LIMIT = "300 per minute"
REPORT_LIMIT = "5 per 10 minutes; 30 per day"
LOCATION_LIMIT = "20 per minute"
CORS_ENDPOINTS = frozenset(
    {"resolver.resolve", "resolver.verify_link", "resolver.well_known", "resolver.missing_key"}
)
_RESOLVER_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Accept-Language, Content-Type",
    "Access-Control-Expose-Headers": "Link, Location, Content-Language, X-Request-ID",
    "Access-Control-Max-Age": "86400",
}

# Firms see their products' scans and alerts; associations, government bodies and alliances
# those of the brands they own or co-build.
SCAN_READERS = allow(scope="scans:read")
ALERT_HANDLERS = allow(
    kinds=[OrgKind.ASSOCIATION, OrgKind.ENTERPRISE],
    roles=[Role.ADMIN, Role.STAFF],
    scope="scans:write",
)
REPORT_READERS = allow(
    kinds=[OrgKind.ASSOCIATION, OrgKind.GOVERNMENT, OrgKind.ALLIANCE], scope="scans:read"
)
RULE_READERS = allow(
    kinds=[OrgKind.ASSOCIATION, OrgKind.GOVERNMENT, OrgKind.ALLIANCE], scope="scans:read"
)
RULE_WRITERS = allow(kinds=[OrgKind.ASSOCIATION], roles=[Role.ADMIN], scope="scans:write")
REPORT_HANDLERS = allow(
    kinds=[OrgKind.ASSOCIATION], roles=[Role.ADMIN, Role.STAFF], scope="scans:write"
)


def _limit(name: str, default: str) -> Any:
    return lambda: current_app.config.get(name, default)


# --- helpers ----------------------------------------------------------------------------------


def _official_host() -> str:
    return urlsplit(current_app.config["BASE_URL"]).netloc


def _client_hash() -> str:
    cache = current_app.extensions.setdefault("brandtrace.resolver", {})
    key = cache.get("client_key")
    if key is None:
        key = hmac.new(
            current_app.config["SECRET_KEY"].encode(),
            b"brandtrace/resolver/client-hash/v1",
            hashlib.sha256,
        ).digest()
        cache["client_key"] = key
    return services.client_hash(
        key,
        client_address(),
        request.headers.get("User-Agent", ""),
        request.headers.get("Accept-Language", ""),
    )


def _scan_refs() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="brandtrace.resolver.scan")


def _scan_id(ref: str | None) -> int | None:
    if not ref:
        return None
    try:
        value = _scan_refs().loads(ref)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None


def _end_reads() -> None:
    """Commit what the request's session read (if it read anything): its transaction must
    not outlast the scan's, which commits on a connection of its own."""
    reads = db.open_session()
    if reads is not None and reads.in_transaction():
        reads.commit()


@contextmanager
def _reads_ended() -> Iterator[None]:
    """PostgreSQL: no queue for writers; only the request's reads end first."""
    _end_reads()
    yield


@contextmanager
def _writer_turn() -> Iterator[None]:
    """SQLite: the request's reads end first (a reader holds no lock), then the request queues
    for the single writer (:mod:`app.resolver.storage`) and holds the turn for the block."""
    _end_reads()
    with SCAN_WRITERS.hold(db.engine.url.database):
        yield


@contextmanager
def _scan_writer() -> Iterator[Session]:
    """A session that changes a scan, committed at the end (SQLite: in the writer's turn;
    PostgreSQL: the request's own session)."""
    if db.dialect_name == "sqlite":
        with _writer_turn():
            session = db.new_session(writer=True)
            try:
                yield session
                session.commit()
            finally:
                session.close()
    else:
        yield db.session
        db.session.commit()


@contextmanager
def _scan_transaction(connection: Connection) -> Iterator[Connection]:
    """Where a verification stores its scan, committed at the end.

    The scan's facts are read before (:func:`_resolve`), on the same kept connection. SQLite:
    a writer's transaction (BEGIN IMMEDIATE) in the writer's turn that holds only the scan's
    own few statements, since no other scan can store anything meanwhile. PostgreSQL: one
    transaction with the reads (one BEGIN and COMMIT)."""
    turn = _writer_turn() if db.dialect_name == "sqlite" else _reads_ended()
    with turn, db.write_transaction(connection):
        yield connection


def _lang_url(lang: str) -> str:
    """This very page in another language (the raw query kept exactly as sent)."""
    raw_path, raw_query = raw_request_target(request.environ)
    kept = [part for part in raw_query.split("&") if part and not part.startswith("lang=")]
    return raw_path + "?" + "&".join([*kept, f"lang={lang}"])


def _page(template: str, status: int = 200, **context: Any) -> Response:
    response = current_app.response_class(
        render_template(
            template,
            official_host=_official_host(),
            lang_url=_lang_url,
            locale=current_locale(),
            fmt_date=present.format_day,
            icon_for=present.verdict_icon,
            photo_enabled=True,
            **context,
        ),
        status=status,
        mimetype=HTML,
    )
    response.headers["Content-Language"] = "zh-CN" if current_locale() == "zh_CN" else "en"
    return response


def _bad_link(error: GS1SyntaxError, raw_path: str) -> Response:
    """400 saying what is wrong: problem+json for machines, the page with the manual check for
    people."""
    problem = BadDigitalLink(
        gettext("This is not a valid GS1 Digital Link: %(message)s", message=error.message),
        errors=[FieldError(error.field, error.rule, error.message)],
    )
    if wants_machine_answer(request.accept_mimetypes):
        return problem_response(
            problem.status, problem.slug, str(problem.title), problem.detail, errors=problem.errors
        )
    return _page(
        "resolver/bad_link.html", 400, message=present.syntax_message(error), path=raw_path
    )


def _link_type(link: DigitalLink) -> str | None:
    return next((value for key, value in link.other_params if key == "linkType"), None)


def _context(
    channel: ScanChannel, answer: Answer, extra: tuple[Reason, ...] = ()
) -> services.ScanContext:
    return services.ScanContext(
        client_hash=_client_hash(), channel=channel, answer=answer.value, extra_warnings=extra
    )


def _status_for(resolution: services.Resolution) -> int:
    # GS1 resolvers: valid syntax but unknown -> 404 (with the NOT_FOUND verdict).
    return 404 if resolution.verdict is Verdict.NOT_FOUND else 200


def _journey_and_proof(
    session: Session, choice: Choice, facts: CodeFacts, base_url: str
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The journey and log proof a page or verdict shows (none for a linkset or redirect).
    Kept per batch and per record for a while: usually no database work at all."""
    if choice.answer not in (Answer.PAGE, Answer.VERDICT) or facts.product is None:
        return [], None
    # A label copying a real serial must not show that pack's journey or log entries.
    shown = shopper_facts(facts)
    return sources.journey(session, shown), sources.log_proof(session, shown, base_url)


def _resolve(
    link: DigitalLink,
    channel: ScanChannel,
    *,
    extra: tuple[Reason, ...] = (),
    manual_entry: ManualEntry | None = None,
) -> Response:
    """Answer one Digital Link request in the negotiated form."""
    choice = choose(request.accept_mimetypes, _link_type(link))
    if choice.answer is Answer.NOT_ACCEPTABLE:
        # A client that accepts none of our types can still read a JSON problem.
        body = {
            "type": current_app.config["BASE_URL"] + "/problems/not-acceptable",
            "title": gettext("Not acceptable"),
            "status": 406,
            "detail": gettext(
                "This resolver answers %(types)s.", types=", ".join([HTML, JSON, LINKSET])
            ),
            "instance": request.path,
        }
        return current_app.response_class(
            _json_bytes(body), status=406, mimetype="application/problem+json"
        )
    base_url = current_app.config["BASE_URL"]
    record = request.method == "GET" and choice.answer is not Answer.REDIRECT
    ctx = _context(channel, choice.answer, extra)
    session = db.session
    if record:
        # Read and write on one kept connection: no pool checkout, and the request's session
        # is only used for what the caches below do not hold.
        with db.kept_connection() as connection:
            facts = sources.gather_facts(session, link, connection=connection)
            journey, log = _journey_and_proof(session, choice, facts, base_url)
            rules = services.rules_for(session, facts)
            with _scan_transaction(connection):
                resolution = services.record_scan(connection, link, ctx, facts, rules)
    else:
        facts = sources.gather_facts(session, link)
        journey, log = _journey_and_proof(session, choice, facts, base_url)
        resolution = services.resolve_link(session, link, ctx, record=False, facts=facts)

    groups = present.item_links(resolution, base_url)
    anchor = groups[0][0]
    headers = {
        "Link": present.link_header(groups, anchor + "?linkType=linkset"),
        "Vary": "Accept, Accept-Language, Cookie",
        "Cache-Control": "no-store",
    }
    status = _status_for(resolution)
    if choice.answer is Answer.REDIRECT:
        target = present.find_link(groups, choice.link_type or "") or present.find_link(
            groups, "gs1:defaultLink"
        )
        if resolution.verdict is Verdict.NOT_FOUND or target is None:
            response = _answer_json(resolution, groups, journey, log, status)
        else:
            passed_on = [
                part
                for part in raw_request_target(request.environ)[1].split("&")
                if part and not part.startswith("linkType=")
            ]
            location = target.href + (("?" + "&".join(passed_on)) if passed_on else "")
            response = current_app.response_class(status=307, headers={"Location": location})
    elif choice.answer is Answer.LINKSET:
        document = present.linkset_document(
            groups, resolution, present.product_name(resolution.facts)
        )
        response = current_app.response_class(
            _json_bytes(document), status=status, mimetype=choice.media_type or LINKSET
        )
    elif choice.answer is Answer.VERDICT:
        response = _answer_json(resolution, groups, journey, log, status)
    else:
        document = _document(resolution, groups, journey, log)
        response = _page(
            "resolver/verdict.html",
            status,
            resolution=resolution,
            doc=document,
            journey=journey,
            manual_entry=manual_entry,
            scan_ref=_scan_refs().dumps(resolution.scan_id) if resolution.scan_id else "",
            submission_key=secrets.token_urlsafe(24),
            report_code=link.canonical_path(),
        )
    for name, value in headers.items():
        response.headers[name] = value
    return response


# orjson: the verdict is the resolver's most frequent answer, and encoding it with the standard
# library took longer than building it. UTF-8 as before; dates and anything else orjson would
# write its own way go through the app's JSON provider, as they did.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _json_bytes(document: Any) -> bytes:
    return orjson.dumps(document, default=current_app.json.default, option=_ORJSON_OPTIONS)  # type: ignore[attr-defined]


def _document(
    resolution: services.Resolution,
    groups: list[tuple[str, list[present.Link]]],
    journey: list[dict[str, Any]],
    log: dict[str, Any] | None,
) -> dict[str, Any]:
    return present.verdict_document(
        resolution,
        base_url=current_app.config["BASE_URL"],
        official_host=_official_host(),
        links=groups,
        journey=journey,
        log=log,
        checked_at=utcnow(),
    )


def _answer_json(
    resolution: services.Resolution,
    groups: list[tuple[str, list[present.Link]]],
    journey: list[dict[str, Any]],
    log: dict[str, Any] | None,
    status: int,
) -> Response:
    document = _document(resolution, groups, journey, log)
    return current_app.response_class(_json_bytes(document), status=status, mimetype=JSON)


def _resolve_request(prefix: str = "") -> Response:
    raw_path, raw_query = raw_request_target(request.environ)
    try:
        link = parse_request_link(raw_path.removeprefix(prefix), raw_query)
    except GS1SyntaxError as error:
        return _bad_link(error, raw_path)
    return _resolve(link, ScanChannel.LINK)


# What a Digital Link answers besides the verdict JSON: the page for people, and an RFC 9264
# linkset (one context object per item, link relations as keys, each an array of targets;
# the verification link's target carries the verdict in ``verdict``).
RESOLVER_ANSWERS: dict[str, dict[str, Any]] = HTML_PAGE | {
    LINKSET: {
        "schema": {
            "type": "object",
            "required": ["linkset"],
            "properties": {
                "linkset": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["anchor"],
                        "properties": {
                            "anchor": {"type": "string", "format": "uri"},
                            # GS1 resolvers name the item on its first context object.
                            "itemDescription": {"type": "string"},
                        },
                        "additionalProperties": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["href"],
                                "properties": {
                                    "href": {"type": "string", "format": "uri"},
                                    "title": {"type": "string"},
                                    "type": {"type": "string"},
                                    "hreflang": {"type": "array", "items": {"type": "string"}},
                                    # On the verification link: the verdict (RFC 9264 target
                                    # attributes are arrays of strings).
                                    "verdict": {"type": "array", "items": {"type": "string"}},
                                },
                            },
                        },
                    },
                }
            },
        }
    }
}


#: The header every Digital Link answer carries (GS1 resolvers, RFC 8288).
RESOLVER_HEADERS: dict[str, dict[str, Any]] = {
    "Link": {
        "required": True,
        "description": "The linkset (rel=linkset), then every link of the identified item "
        "with its GS1 link type, title and media type.",
        "schema": {"type": "string"},
    }
}


# --- consumer routes --------------------------------------------------------------------------


@route(
    bp,
    "/01/<path:rest>",
    access=PUBLIC,
    response=VerdictOut,
    responses={
        307: "Redirect to the requested ?linkType= (Location), query string passed on",
        404: "Valid Digital Link, unknown code: the NOT_FOUND verdict",
        406: "None of text/html, application/json, application/linkset+json is acceptable",
    },
    tags=("resolver",),
    also_answers=RESOLVER_ANSWERS,
    same_content_on=(404,),
    headers=RESOLVER_HEADERS,
)
@limiter.fast_limit(_limit("RESOLVER_SCAN_LIMIT", SCAN_LIMIT), methods=("GET", "HEAD"))
def resolve(rest: str) -> Response:
    """Resolve a GS1 Digital Link: /01/{gtin}[/10/{lot}][/21/{serial}][?{data AIs}].

    Content negotiation honours q-weights: browsers get the verification page,
    `Accept: application/json` the verdict below, `Accept: application/linkset+json` or
    `?linkType=linkset` an RFC 9264 linkset with GS1 link types, `?linkType=gs1:pip` (any GS1
    link type) a 307 redirect. Bad syntax answers 400 naming the field and rule. HEAD and
    OPTIONS are supported, CORS is open, one trailing slash is tolerated. Each GET that answers
    a verdict is stored as a scan (a reload by the same client within a minute counts once).
    """
    return _resolve_request()


@route(
    bp,
    "/verify/01/<path:rest>",
    access=PUBLIC,
    response=VerdictOut,
    responses={404: "Valid Digital Link, unknown code: the NOT_FOUND verdict"},
    tags=("resolver",),
    also_answers=RESOLVER_ANSWERS,
    same_content_on=(404,),
    headers=RESOLVER_HEADERS,
)
@limiter.fast_limit(_limit("RESOLVER_SCAN_LIMIT", SCAN_LIMIT), methods=("GET", "HEAD"))
def verify_link(rest: str) -> Response:
    """The verification page of a Digital Link (the default link of every item).

    Same answers as /01/... (it is the target of gs1:defaultLink and gs1:verificationService).
    """
    return _resolve_request(prefix="/verify")


@bp.route("/01", methods=["GET", "HEAD"])
@bp.route("/01/", methods=["GET", "HEAD"])
def missing_key() -> Response:
    return _bad_link(
        GS1SyntaxError("gtin", "required", "the path has no GTIN after /01/"), request.path
    )


@route(
    bp,
    "/verify",
    access=PUBLIC,
    response=VerdictOut,
    responses={404: "Valid code, unknown to this resolver: the NOT_FOUND verdict"},
    tags=("resolver",),
    also_answers=HTML_PAGE,
    same_content_on=(404,),
)
@limiter.fast_limit(_limit("RESOLVER_SCAN_LIMIT", SCAN_LIMIT), methods=("GET",))
def verify() -> Response:
    """Manual check: the code printed under the QR, typed in on the official site.

    Query: `code` (the link, the printed `(01)...(10)...(21)...` text, or a GTIN), or `gtin`,
    `lot`, `serial` separately. Without them, the form. Same verdict as scanning the QR.
    """
    code = request.args.get("code")
    fields = {name: request.args.get(name) for name in ("gtin", "lot", "serial")}
    if code is None and not any(fields.values()):
        return _page("resolver/entry.html", code="", fields=fields, error=None)
    try:
        entry = parse_manual_entry(
            code, urlsplit(current_app.config["BASE_URL"]).hostname or "", **fields
        )
    except GS1SyntaxError as error:
        if wants_machine_answer(request.accept_mimetypes):
            problem = BadDigitalLink(
                gettext("The code is not valid: %(message)s", message=error.message),
                errors=[FieldError(error.field, error.rule, error.message)],
            )
            return problem_response(
                400, problem.slug, str(problem.title), problem.detail, errors=problem.errors
            )
        return _page(
            "resolver/entry.html",
            400,
            code=code or "",
            fields=fields,
            error=_entry_error(error, code),
        )
    extra: tuple[Reason, ...] = ()
    if entry.foreign_host:
        extra = (
            Reason.of("foreign_link_host", host=entry.foreign_host, official=_official_host()),
        )
    return _resolve(entry.link, ScanChannel.MANUAL, extra=extra, manual_entry=entry)


def _entry_error(error: GS1SyntaxError, code: str | None) -> FieldError:
    """The manual check's error, on the field the shopper filled in and in their language:
    a code typed whole is wrong as a whole, even where the parser names its lot or serial."""
    separate = error.field in ("gtin", "lot", "serial") and not (code or "").strip()
    field = error.field if separate else "code"
    return FieldError(field, error.rule, present.syntax_message(error, with_field=not separate))


@bp.get("/.well-known/gs1resolver")
def well_known() -> Response:
    """The GS1 resolver description file."""
    base_url = current_app.config["BASE_URL"]
    response = jsonify(
        name="brandtrace",
        resolverRoot=base_url,
        supportedPrimaryKeys=["01"],
        supportedLinkType=[
            {
                "namespace": "https://gs1.org/voc/",
                "prefix": "gs1:",
                "profile": "https://gs1.org/voc/?show=linktypes",
            }
        ],
        linkTypeDefaultCanBeLinkset=False,
        supportedContextValuesEnumerated=[],
        validatorEnabled=True,
        contact={"url": base_url + "/verify"},
    )
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.after_request
def _resolver_headers(response: Response) -> Response:
    if request.endpoint in CORS_ENDPOINTS:
        response.headers.extend(_RESOLVER_HEADERS)
        if request.method == "OPTIONS":
            response.headers["Allow"] = "GET, HEAD, OPTIONS"
            response.status_code = 204
    return response


# --- reports and locations from shoppers ------------------------------------------------------


def _form_text(name: str, limit: int) -> tuple[str | None, FieldError | None]:
    """A form field's text and, when it is too long, the error (the text is kept so that the
    form comes back as it was typed)."""
    value = (request.form.get(name) or "").strip()
    if len(value) > limit:
        return value, FieldError(
            name, "max_length", gettext("At most %(limit)s characters.", limit=limit)
        )
    return value or None, None


def _photo_error(error: AppError) -> str:
    """Why the photo was refused, in the shopper's language (the upload helper's field
    messages are English, for the API)."""
    rule = error.errors[0].rule if error.errors else ""
    if rule == "required":
        return gettext("The photo file is empty.")
    if rule == "max_size":
        limit = int(current_app.config.get("RESOLVER_PHOTO_MAX_BYTES", PHOTO_MAX_BYTES))
        size = f"{limit / 1024 / 1024:g} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
        return gettext("The photo is too large: at most %(size)s.", size=size)
    return gettext("Send the photo as a JPEG, PNG or WebP image.")


@bp.errorhandler(RequestEntityTooLarge)
def _request_too_large(error: RequestEntityTooLarge) -> Response:
    """A shopper's report with a photo over the whole request limit: the report form again,
    saying the photo is too large, instead of a page about request bytes."""
    if request.endpoint != "resolver.report_fake" or wants_machine_answer(request.accept_mimetypes):
        return http_problem(error)
    too_large = AppError("photo too large", errors=[FieldError("photo", "max_size", "")])
    return _page(
        "resolver/report.html",
        413,
        code="",
        scan_ref="",
        submission_key=secrets.token_urlsafe(24),
        errors={"photo": _photo_error(too_large)},
        values={},
    )


@bp.route("/report", methods=["GET"])
def report_form() -> Response:
    """A standalone report form (also reachable from every verdict page)."""
    return _page(
        "resolver/report.html",
        code=request.args.get("code", "")[:200],
        scan_ref=request.args.get("scan", "")[:200],
        submission_key=secrets.token_urlsafe(24),
        errors={},
        values={},
    )


@route(
    bp,
    "/report",
    methods=("POST",),
    access=PUBLIC,
    response=ReportCreated,
    status=201,
    tags=("resolver",),
)
@limiter.limit(_limit("RESOLVER_REPORT_LIMIT", REPORT_LIMIT), methods=["POST"])
def report_fake() -> Any:
    """Report a suspected fake (form fields: code, scan, place, description, contact, photo).

    No personal data is required. A repeated `submission_key` returns the first report.
    """
    values: dict[str, str | None] = {}
    errors: list[FieldError] = []
    # The page's words for the errors (the API keeps the GS1 parser's English messages).
    shown: dict[str, str] = {}
    for name, limit in (("place", 200), ("description", 2000), ("contact", 200)):
        values[name], problem = _form_text(name, limit)
        if problem:
            errors.append(problem)
            shown[name] = problem.message
    code = (request.form.get("code") or "").strip()[:300]
    submission_key = (request.form.get("submission_key") or "").strip()
    if not (16 <= len(submission_key) <= 64):
        submission_key = secrets.token_urlsafe(24)
    scan: Scan | None = None
    scan_id = _scan_id(request.form.get("scan"))
    if scan_id is not None:
        scan = db.session.get(Scan, scan_id)
    gtin = lot = serial = None
    facts = None
    if scan is None and code:
        try:
            entry = parse_manual_entry(code, _official_host())
        except GS1SyntaxError as error:
            errors.append(FieldError("code", error.rule, error.message))
            shown["code"] = present.syntax_message(error)
        else:
            gtin, lot, serial = entry.link.gtin, entry.link.lot, entry.link.serial
            facts = sources.gather_facts(db.session, entry.link)
    given = any((request.form.get(name) or "").strip() for name in ("description", "place"))
    if not (code or scan or given):
        missing = FieldError(
            "description", "required", gettext("Say what looks wrong, or give the code.")
        )
        errors.append(missing)
        shown[missing.field] = missing.message
    if errors:
        if wants_machine_answer(request.accept_mimetypes):
            from app.errors import InvalidInput

            raise InvalidInput(gettext("The report is not complete."), errors=errors)
        return _page(
            "resolver/report.html",
            422,
            code=code,
            scan_ref=request.form.get("scan", ""),
            submission_key=submission_key,
            errors=shown,
            values=values,
        )
    photo_file_id = None
    if services.find_report(db.session, submission_key) is None:
        try:
            photo_file_id = _store_photo()
        except AppError as error:
            if wants_machine_answer(request.accept_mimetypes):
                raise
            return _page(
                "resolver/report.html",
                error.status,
                code=code,
                scan_ref=request.form.get("scan", ""),
                submission_key=submission_key,
                errors={"photo": _photo_error(error)},
                values=values,
            )
    report, created = services.create_report(
        db.session,
        services.ReportInput(
            submission_key=submission_key,
            gtin=gtin,
            lot=lot,
            serial=serial,
            place=values["place"],
            description=values["description"],
            contact=values["contact"],
        ),
        _client_hash(),
        scan=scan,
        facts=facts,
        photo_file_id=photo_file_id,
    )
    set_activity_target("fake_report", report.id)
    if wants_machine_answer(request.accept_mimetypes):
        # 201 for a new report, 200 when the same submission was stored before.
        response = jsonify(ReportCreated.model_validate(report).model_dump(mode="json"))
        response.status_code = 201 if created else 200
        return response
    response = _page("resolver/report_done.html", 201 if created else 200, report=report)
    return response


PHOTO_MAX_BYTES = 5 * 1024 * 1024


def _store_photo() -> int | None:
    """The optional photo, checked and stored by the shared upload helper, without its
    metadata (a phone photo's Exif block says where it was taken)."""
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return None
    limit = int(current_app.config.get("RESOLVER_PHOTO_MAX_BYTES", PHOTO_MAX_BYTES))
    data = upload.stream.read(limit + 1)
    if len(data) <= limit:
        data = strip_jpeg_metadata(data)
    stored = store_bytes(
        db.session,
        data,
        allowed_types=IMAGE_TYPES,
        max_bytes=limit,
        field="photo",
        claimed_type=upload.mimetype,
    )
    return stored.id


# What the page tells the shopper when a place is not saved, in their language (the API keeps
# the service's words): what went wrong and what to do instead.
LOCATION_PAGE_MESSAGES = {
    "scan-not-found": lazy_gettext(
        "This page cannot add a place to that scan (it was made from another connection or "
        "browser). Scan the QR code again and share the place from the page it opens."
    ),
    "scan-too-old": lazy_gettext(
        "A place can only be added within an hour of the scan. Scan the QR code again to share it."
    ),
    "required": lazy_gettext("Type the town or shop where you bought it."),
}


@bp.post("/scans/location")
@limiter.limit(_limit("RESOLVER_LOCATION_LIMIT", LOCATION_LIMIT))
def share_location() -> Response:
    """Attach the location a shopper chose to share to their scan (never asked for silently)."""
    from app.errors import InvalidInput

    scan_id = _scan_id(request.form.get("scan"))
    errors: list[FieldError] = []

    def number(name: str, low: float, high: float) -> float | None:
        raw = (request.form.get(name) or "").strip()
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            errors.append(FieldError(name, "number", "a decimal number"))
            return None
        if not low <= value <= high:
            errors.append(FieldError(name, "range", f"between {low} and {high}"))
            return None
        return value

    latitude = number("latitude", -90, 90)
    longitude = number("longitude", -180, 180)
    place, problem = _form_text("place", 200)
    if problem:
        errors.append(problem)
    if scan_id is None:
        errors.append(FieldError("scan", "invalid", "the page's scan reference is missing"))
    if not errors and latitude is None and place is None:
        errors.append(FieldError("place", "required", "share coordinates or name a place"))
    try:
        if errors:
            raise InvalidInput(gettext("The location is not valid."), errors=errors)
        assert scan_id is not None
        with _scan_writer() as session:
            services.add_scan_location(
                session,
                scan_id,
                _client_hash(),
                latitude=latitude,
                longitude=longitude,
                place=place,
            )
    except AppError as error:
        if wants_machine_answer(request.accept_mimetypes):
            raise
        rules = {problem.rule for problem in error.errors}
        key = "required" if rules == {"required"} else error.slug
        message = LOCATION_PAGE_MESSAGES.get(key, error.detail)
        return _page("resolver/location_done.html", error.status, error=error, message=message)
    if wants_machine_answer(request.accept_mimetypes):
        return Response(status=204)
    return _page("resolver/location_done.html", 200, error=None)


# --- API: scans, alerts and reports -----------------------------------------------------------


@route(
    bp,
    "/api/v1/scans",
    access=SCAN_READERS,
    query=ScanQuery,
    response=Page[ScanOut],
    area="scans",
)
def list_scans(caller: Caller, query: ScanQuery) -> PageResult[Scan]:
    """Scans of the firm's products, or of the association's brands, newest first."""
    return services.list_scans(
        db.session,
        caller,
        verdict=query.verdict,
        gtin=query.gtin,
        limit=query.limit,
        cursor=query.cursor,
    )


@route(
    bp,
    "/api/v1/scans/summary",
    access=SCAN_READERS,
    query=ScanSummaryQuery,
    response=ScanSummaryOut,
    area="scans",
)
def scan_summary(caller: Caller, query: ScanSummaryQuery) -> Any:
    """Scans per day and the verdict mix (reloads excluded), for dashboards."""
    return services.summarise_scans(db.session, caller, days=query.days)


@route(
    bp,
    "/api/v1/scan-alerts",
    access=SCAN_READERS,
    query=AlertQuery,
    response=Page[AlertOut],
    area="scans",
)
def list_alerts(caller: Caller, query: AlertQuery) -> PageResult[Any]:
    """Alerts raised by scan anomalies on the caller's products or brands, newest first."""
    return services.list_alerts(
        db.session,
        caller,
        status=query.status,
        kind=query.kind,
        gtin=query.gtin,
        limit=query.limit,
        cursor=query.cursor,
    )


@route(
    bp,
    "/api/v1/scan-alerts/<int:alert_id>",
    access=SCAN_READERS,
    response=AlertOut,
    area="scans",
)
def get_alert(caller: Caller, alert_id: int) -> Any:
    """One alert (another organisation's alerts answer 404)."""
    return services.get_alert(db.session, caller, alert_id)


@route(
    bp,
    "/api/v1/scan-alerts/<int:alert_id>/resolve",
    methods=("POST",),
    access=ALERT_HANDLERS,
    body=AlertResolve,
    response=AlertOut,
    area="scans",
)
def resolve_alert(caller: Caller, alert_id: int, body: AlertResolve) -> Any:
    """Resolve an open alert with what was found (a recurrence opens a new alert)."""
    set_activity_target("scan_alert", alert_id)
    return services.resolve_alert(
        db.session, caller, alert_id, resolution=body.resolution, note=body.note
    )


def _report_out(caller: Caller, report: FakeReport) -> dict[str, Any]:
    document = ReportOut.model_validate(report).model_dump(mode="json")
    document["contact"] = services.contact_for(caller, report)
    if report.photo_file_id is not None:
        base_url = current_app.config["BASE_URL"]
        document["photo_url"] = f"{base_url}/api/v1/fake-reports/{report.id}/photo"
    return document


@route(
    bp,
    "/api/v1/fake-reports/<int:report_id>/photo",
    access=REPORT_READERS,
    area="scans",
    responses={200: "The photo (JPEG, PNG or WebP), without metadata", 304: "Not modified (ETag)"},
    also_answers=file_answers(*sorted(IMAGE_TYPES)),
)
def report_photo(caller: Caller, report_id: int) -> Response:
    """The photo a shopper attached to a report."""
    report = services.get_report(db.session, caller, report_id)
    stored = db.session.get(StoredFile, report.photo_file_id) if report.photo_file_id else None
    if stored is None:
        raise ReportNotFound(f"Report {report_id} has no photo.", slug="photo-not-found")
    return file_response(stored)


@route(
    bp,
    "/api/v1/fake-reports",
    access=REPORT_READERS,
    query=ReportQuery,
    response=Page[ReportOut],
    area="scans",
)
def list_reports(caller: Caller, query: ReportQuery) -> Any:
    """Shoppers' reports of suspected fakes for the association, newest first."""
    page = services.list_reports(
        db.session, caller, status=query.status, limit=query.limit, cursor=query.cursor
    )
    return PageResult(
        [_report_out(caller, item) for item in page.items], page.limit, page.next_cursor
    )


@route(
    bp,
    "/api/v1/fake-reports/<int:report_id>",
    access=REPORT_READERS,
    response=ReportOut,
    area="scans",
)
def get_report(caller: Caller, report_id: int) -> Any:
    """One report."""
    return _report_out(caller, services.get_report(db.session, caller, report_id))


@route(
    bp,
    "/api/v1/fake-reports/<int:report_id>",
    methods=("PATCH",),
    access=REPORT_HANDLERS,
    body=ReportReview,
    response=ReportOut,
    area="scans",
)
def review_report(caller: Caller, report_id: int, body: ReportReview) -> Any:
    """Move a report to reviewing or closed, with a note."""
    set_activity_target("fake_report", report_id)
    report = services.review_report(
        db.session, caller, report_id, status=body.status, note=body.note
    )
    return _report_out(caller, report)


@route(
    bp,
    "/api/v1/brands/<slug>/scan-rules",
    access=RULE_READERS,
    response=list[RuleOut],
    area="scans",
)
def list_rules(caller: Caller, slug: str) -> Any:
    """The brand's anomaly rules in force (its own settings, else the defaults)."""
    return services.list_rules(db.session, caller, slug)


@route(
    bp,
    "/api/v1/brands/<slug>/scan-rules/<kind>",
    methods=("PUT",),
    access=RULE_WRITERS,
    body=RuleUpdate,
    response=RuleOut,
    area="scans",
)
def set_rule(caller: Caller, slug: str, kind: str, body: RuleUpdate) -> Any:
    """Set one anomaly rule for the brand: enabled, threshold, window (owner's admins)."""
    try:
        rule_kind = RuleKind(kind)
    except ValueError:
        from app.errors import NotFound

        raise NotFound(
            f"No scan rule {kind!r}; the rules are {', '.join(k.value for k in RuleKind)}.",
            slug="scan-rule-not-found",
        ) from None
    set_activity_target("scan_rule", f"{slug}:{kind}")
    return services.set_rule(
        db.session,
        caller,
        slug,
        rule_kind,
        is_enabled=body.is_enabled,
        threshold=body.threshold,
        window_minutes=body.window_minutes,
    )
