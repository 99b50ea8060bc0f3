"""The one way to declare an HTTP endpoint.

``@route(bp, "/path", methods=..., access=..., body=..., query=..., response=...)`` states who
may call the endpoint (organisation kinds, roles, token scope), parses and validates input with
the same schemas that the OpenAPI document is generated from, runs the view, records writes in
the activity trail and commits the request's session once. Every endpoint is registered in
``ENDPOINTS``, which the OpenAPI generator and the authorisation tests walk.
"""

from __future__ import annotations

import functools
import inspect
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, jsonify, request, session
from flask_babel import gettext
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.auth.principal import Access, Caller
from app.errors import (
    BadRequest,
    FieldError,
    Forbidden,
    InvalidInput,
    Unauthenticated,
    UnsupportedMediaType,
)
from app.extensions import db
from app.http.pagination import PageResult

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_SESSION_KEY = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"


@dataclass(frozen=True)
class Endpoint:
    """What the app knows about one declared endpoint."""

    blueprint: str
    rule: str
    methods: tuple[str, ...]
    name: str
    access: Access
    scope: str | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    status: int
    summary: str
    description: str
    tags: tuple[str, ...]
    body_content_types: tuple[str, ...] = ("application/json",)
    responses: dict[int, str] = field(default_factory=dict)
    #: other media types a success may come in (content negotiation): OpenAPI media type objects
    also_answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: other statuses whose answer has the success's content (the resolver's NOT_FOUND verdict)
    same_content_on: tuple[int, ...] = ()
    #: headers a success carries: OpenAPI header objects by name
    headers: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def endpoint_id(self) -> str:
        return f"{self.blueprint}.{self.name}"


ENDPOINTS: list[Endpoint] = []

#: ``also_answers`` of a route that browsers get as a page (``Accept: text/html``)
HTML_PAGE: dict[str, dict[str, Any]] = {"text/html": {"schema": {"type": "string"}}}


def file_answers(*media_types: str) -> dict[str, dict[str, Any]]:
    """``also_answers`` of a route whose success is a file or text in one of ``media_types``
    (no schema: OpenAPI 3.1 documents raw content by its media type alone)."""
    return {media: {} for media in media_types}


def pydantic_errors(error: ValidationError, prefix: str = "") -> list[FieldError]:
    """Pydantic's errors as field-level details with JSON-pointer locations."""
    details = []
    for item in error.errors(include_url=False):
        pointer = prefix + "".join(f"/{part}" for part in item["loc"])
        details.append(FieldError(pointer or "/", item["type"], item["msg"]))
    return details


def body_is_optional(model: type[BaseModel]) -> bool:
    """Whether a body of ``model`` may be left out: none of its fields is required (an action
    such as a key rotation, whose options all have defaults)."""
    return not any(field.is_required() for field in model.model_fields.values())


def parse_json_body(model: type[BaseModel], content_types: tuple[str, ...]) -> BaseModel:
    """Validate the request body against ``model``: 415 for a wrong content type, 400 for
    malformed JSON, 422 with field details for invalid content. A request with no body at all
    stands for ``{}`` when the model requires nothing."""
    mimetype = request.mimetype
    if not mimetype and not request.get_data(cache=True) and body_is_optional(model):
        return model.model_validate({})
    if mimetype not in content_types:
        raise UnsupportedMediaType(
            gettext(
                "Send the body as %(wanted)s, not %(sent)s.",
                wanted=" or ".join(content_types),
                sent=mimetype or gettext("nothing"),
            )
        )
    raw = request.get_data(cache=True)
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        if any(item["type"] == "json_invalid" for item in error.errors()):
            raise BadRequest(
                gettext("The request body is not valid JSON."),
                slug="malformed-json",
                errors=[FieldError("/", "json_invalid", error.errors()[0]["msg"])],
            ) from None
        raise InvalidInput(
            gettext("The request body is not valid."), errors=pydantic_errors(error)
        ) from None


def parse_query(model: type[BaseModel]) -> BaseModel:
    values: dict[str, Any] = {}
    for name in request.args:
        items = request.args.getlist(name)
        values[name] = items if len(items) > 1 else items[0]
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise InvalidInput(
            gettext("The query parameters are not valid."),
            errors=[
                FieldError(f"query.{e.field.strip('/').replace('/', '.')}", e.rule, e.message)
                for e in pydantic_errors(error)
            ],
        ) from None


def csrf_token() -> str:
    """The signed-in session's CSRF token (synchroniser token pattern), created on demand."""
    token = session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = token
    return str(token)


def check_csrf() -> None:
    expected = session.get(CSRF_SESSION_KEY)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FORM_FIELD)
    if not expected or not sent or not secrets.compare_digest(str(expected), str(sent)):
        raise Forbidden(
            gettext(
                "The form or request is missing its CSRF token or the token is stale; reload "
                "the page and try again."
            ),
            slug="csrf-failed",
        )


def resolve_caller() -> Caller | None:
    """Who is calling: a bearer token, else a signed-in browser session, else nobody."""
    if "caller" in g:
        return g.caller
    from app.auth import services as auth

    caller: Caller | None = None
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthenticated(
                gettext("Send the API token as 'Authorization: Bearer <token>'."),
                slug="invalid-token",
            )
        user, token = auth.authenticate_token(db.session, secret.strip())
        caller = auth.caller_for(user, token)
    elif "user_id" in session:
        session_user = auth.session_user(db.session, session)
        if session_user is None:
            # Say why on the sign-in page, and stop checking the stale session on every request.
            g.session_ended = auth.session_end_reason(db.session, session)
            session.pop("user_id", None)
            session.pop("generation", None)
        caller = auth.caller_for(session_user) if session_user else None
    g.caller = caller
    return caller


def authorise(access: Access, scope: str | None) -> Caller | None:
    """Apply an endpoint's access rule to the current request (401/403 before any work)."""
    caller = resolve_caller()
    if access.public:
        return caller
    if caller is None:
        raise Unauthenticated(gettext("Sign in or send an API token to use this endpoint."))
    if not access.allows(caller):
        raise Forbidden(
            gettext(
                "Your organisation kind (%(kind)s) and role (%(role)s) may not use this endpoint.",
                kind=caller.org_kind.value,
                role=caller.role.value,
            ),
            extra={"required": access.describe()},
        )
    if not caller.has_scope(scope):
        raise Forbidden(
            gettext("The API token lacks the scope %(scope)s.", scope=scope),
            slug="insufficient-scope",
        )
    if caller.token_id is None and request.method not in SAFE_METHODS:
        check_csrf()
    return caller


def _to_json(result: Any, adapter: TypeAdapter[Any] | None) -> Any:
    """Serialise through the endpoint's response schema, so what is sent is what is documented
    (ORM objects are read by attribute)."""
    if adapter is not None:
        return adapter.dump_python(
            adapter.validate_python(result, from_attributes=True), mode="json"
        )
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    return result


def route(
    bp: Blueprint,
    rule: str,
    *,
    access: Access,
    methods: tuple[str, ...] = ("GET",),
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    area: str | None = None,
    scope: str | None = None,
    body_content_types: tuple[str, ...] = ("application/json",),
    responses: dict[int, str] | None = None,
    tags: tuple[str, ...] = (),
    also_answers: dict[str, dict[str, Any]] | None = None,
    same_content_on: tuple[int, ...] = (),
    headers: dict[str, dict[str, Any]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an endpoint (see the module docstring). The view receives its path arguments and,
    when its signature names them, ``caller``, ``body`` and ``query``."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        area_name = area or bp.name
        unsafe = any(method not in SAFE_METHODS for method in methods)
        effective_scope = (
            None
            if access.public
            else (scope or access.scope or f"{area_name}:{'write' if unsafe else 'read'}")
        )
        doc = inspect.getdoc(view) or ""
        summary, _, description = doc.partition("\n")
        endpoint = Endpoint(
            blueprint=bp.name,
            rule=rule,
            methods=methods,
            name=view.__name__,
            access=access,
            scope=effective_scope,
            body=body,
            query=query,
            response=response,
            status=status,
            summary=summary.strip(),
            description=description.strip(),
            tags=tags or (area_name,),
            body_content_types=body_content_types,
            responses=responses or {},
            also_answers=also_answers or {},
            same_content_on=same_content_on,
            headers=headers or {},
        )
        ENDPOINTS.append(endpoint)
        wanted = set(inspect.signature(view).parameters)
        adapter = TypeAdapter(response) if response is not None else None

        @functools.wraps(view)
        def wrapper(**path_args: Any) -> Any:
            caller = authorise(access, effective_scope)
            kwargs = dict(path_args)
            if "caller" in wanted:
                kwargs["caller"] = caller
            if body is not None and request.method not in SAFE_METHODS:
                kwargs["body"] = parse_json_body(body, body_content_types)
            if query is not None:
                kwargs["query"] = parse_query(query)
            result = view(**kwargs)
            http_response = _make_response(result, status, adapter)
            if request.method not in SAFE_METHODS:
                commit_request(caller, http_response.status_code)
            return http_response

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=list(methods))
        return wrapper

    return decorator


def _make_response(result: Any, status: int, adapter: TypeAdapter[Any] | None) -> Response:
    if isinstance(result, Response):
        return result
    headers: dict[str, str] = {}
    if isinstance(result, tuple):
        result, headers = result
    if isinstance(result, PageResult):
        payload = {
            "items": list(result.items),
            "limit": result.limit,
            "next_cursor": result.next_cursor,
        }
        if result.next_cursor:
            args = request.args.to_dict(flat=True) | {"cursor": result.next_cursor}
            next_url = f"{current_app.config['BASE_URL']}{request.path}?{urlencode(args)}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        result = payload
    response = jsonify(_to_json(result, adapter))
    response.status_code = status
    for name, value in headers.items():
        response.headers[name] = value
    return response


def commit_request(caller: Caller | None, status_code: int) -> None:
    """Record the write in the activity trail and commit the request's work once."""
    from app.activity.services import record_activity

    record_activity(
        db.session,
        caller,
        action=request.endpoint or "unknown",
        method=request.method,
        path=request.path,
        status=status_code,
        request_id=g.get("request_id"),
        target=g.get("activity_target"),
    )
    db.session.commit()


def set_activity_target(kind: str, identifier: object) -> None:
    """Name the record a write acted on, for the activity trail."""
    g.activity_target = f"{kind}:{identifier}"
