"""OpenAPI 3.1 document generated from the declared endpoints and their pydantic schemas."""

from __future__ import annotations

import functools
import re
from typing import Any

from flask import Flask
from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode

from app.http.api import ENDPOINTS, Endpoint, body_is_optional

REF_TEMPLATE = "#/components/schemas/{model}"
_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_PARAM_TYPES = {"int": {"type": "integer"}, "path": {"type": "string"}, None: {"type": "string"}}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "RFC 9457 problem details. A problem may carry extension members that explain it "
        "(`required` on a 403, `max_bytes` on a 413, the state in conflict on a 409, ...)."
    ),
    "required": ["type", "title", "status"],
    "additionalProperties": True,
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
        "required": {
            "type": "string",
            "description": "On a 403: the organisation kinds, roles and token scope allowed",
        },
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "rule", "message"],
                "properties": {
                    "field": {"type": "string", "description": "JSON pointer or parameter name"},
                    "rule": {"type": "string", "description": "Stable code of the rule broken"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
LINK_NEXT: dict[str, Any] = {
    "description": 'The next page as `<url>; rel="next"` (RFC 8288), sent when `next_cursor` '
    "is not null.",
    "schema": {"type": "string"},
}
ERROR_DESCRIPTIONS = {
    400: "Malformed request",
    401: "Not authenticated",
    403: "Not allowed for this caller",
    404: "Not found",
    409: "Conflicts with a business rule or the current state",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input, with field-level details",
    429: "Rate limited",
}


class _Schemas:
    """Every request, query and response schema of the document, generated in one pass.

    One pass lets pydantic name each model once for the whole document: two models that share
    a class name (the audits' and the products' ``ProductOut``) become two components instead
    of the last one generated overwriting the other under the shared name, which documented
    one domain's responses with another domain's schema.
    """

    def __init__(self, endpoints: list[Endpoint]) -> None:
        inputs: list[tuple[tuple[str, str], JsonSchemaMode, Any]] = []
        for endpoint in endpoints:
            for part, annotation, mode in (
                ("query", endpoint.query, "validation"),
                ("body", endpoint.body, "validation"),
                ("response", endpoint.response, "serialization"),
            ):
                if annotation is not None:
                    core = TypeAdapter(annotation).core_schema
                    inputs.append(((endpoint.endpoint_id, part), mode, core))  # type: ignore[arg-type]
        generator = GenerateJsonSchema(ref_template=REF_TEMPLATE)
        by_key, definitions = generator.generate_definitions(inputs)
        self._by_key = {key: schema for (key, _mode), schema in by_key.items()}
        self.components: dict[str, Any] = {str(name): value for name, value in definitions.items()}

    def of(self, endpoint: Endpoint, part: str) -> dict[str, Any]:
        """The schema of an endpoint's ``query``, ``body`` or ``response`` (a reference to a
        component for a model)."""
        return dict(self._by_key[(endpoint.endpoint_id, part)])

    def resolved(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The component a reference points to, or the schema itself."""
        ref = schema.get("$ref", "")
        return self.components.get(ref.rsplit("/", 1)[-1], schema) if ref else schema


def _operation(
    endpoint: Endpoint, method: str, path_params: list[dict[str, Any]], schemas: _Schemas
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": f"{endpoint.blueprint}_{endpoint.name}_{method}",
        "summary": endpoint.summary or endpoint.name.replace("_", " "),
        "tags": list(endpoint.tags),
        "x-brandtrace-access": endpoint.access.describe(),
        "parameters": list(path_params),
        "responses": {},
    }
    if endpoint.description:
        operation["description"] = endpoint.description
    if endpoint.access.public:
        operation["security"] = [{}]
    else:
        operation["security"] = [{"bearerAuth": []}, {"cookieAuth": []}]
        if endpoint.scope:
            operation["x-brandtrace-scope"] = endpoint.scope
    if endpoint.query is not None:
        target = schemas.resolved(schemas.of(endpoint, "query"))
        required = set(target.get("required", []))
        for name, prop in target.get("properties", {}).items():
            parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if "description" in prop:
                parameter["description"] = prop["description"]
            operation["parameters"].append(parameter)
    if endpoint.body is not None and method not in ("get", "head", "delete"):
        body_schema = schemas.of(endpoint, "body")
        operation["requestBody"] = {
            "required": not body_is_optional(endpoint.body),
            "content": {ct: {"schema": body_schema} for ct in endpoint.body_content_types},
        }
    if endpoint.body is None and "multipart/form-data" in endpoint.body_content_types:
        # Uploads: one file in the form field ``file`` (checked and sniffed by app.files).
        operation["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    # A route that describes its success (what a file holds) keeps its own words.
    success: dict[str, Any] = {"description": endpoint.responses.get(endpoint.status, "Success")}
    if endpoint.response is not None and endpoint.status != 204:
        response_schema = schemas.of(endpoint, "response")
        success["content"] = {"application/json": {"schema": response_schema}}
        if _is_page(schemas.resolved(response_schema)):
            success["headers"] = {"Link": LINK_NEXT}
    if endpoint.headers:
        success.setdefault("headers", {}).update(endpoint.headers)
    if endpoint.also_answers:
        success.setdefault("content", {}).update(
            {media: dict(spec) for media, spec in endpoint.also_answers.items()}
        )
    operation["responses"][str(endpoint.status)] = success
    for status in endpoint.same_content_on:
        operation["responses"][str(status)] = {
            "description": endpoint.responses.get(status, ERROR_DESCRIPTIONS.get(status, "")),
            "content": success.get("content", {}),
        }
    for status, description in endpoint.responses.items():
        operation["responses"].setdefault(str(status), {"description": description})
    codes = [400, 422, 429]
    if not endpoint.access.public:
        codes += [401, 403]
    if path_params:
        codes.append(404)
    if method != "get":
        codes += [409, 413, 415]
    for status in sorted(set(codes)):
        operation["responses"].setdefault(
            str(status), {"$ref": f"#/components/responses/E{status}"}
        )
    if not operation["parameters"]:
        del operation["parameters"]
    return operation


def _is_page(schema: dict[str, Any]) -> bool:
    """Whether a response schema is the one pagination shape (``app.http.schemas.Page``)."""
    return {"items", "limit", "next_cursor"} <= set(schema.get("properties", {}))


def _path_param(match: re.Match[str], found: list[dict[str, Any]]) -> str:
    found.append(
        {
            "name": match["name"],
            "in": "path",
            "required": True,
            "schema": dict(_PARAM_TYPES.get(match["conv"], {"type": "string"})),
        }
    )
    return "{" + match["name"] + "}"


def build_openapi(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document for every endpoint declared with ``route``."""
    by_id = {endpoint.endpoint_id: endpoint for endpoint in ENDPOINTS}
    schemas = _Schemas(list(by_id.values()))
    components: dict[str, Any] = {"Problem": PROBLEM_SCHEMA, **schemas.components}
    paths: dict[str, Any] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        endpoint = by_id.get(rule.endpoint)
        if endpoint is None:
            continue
        path_params: list[dict[str, Any]] = []
        path = _CONVERTER.sub(functools.partial(_path_param, found=path_params), rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                endpoint, method.lower(), path_params, schemas
            )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "brandtrace API",
            "version": "1",
            "description": (
                "Regional brand certification and traceability. Errors are RFC 9457 "
                "application/problem+json. Send API tokens as 'Authorization: Bearer <token>'."
            ),
        },
        "servers": [{"url": app.config["BASE_URL"]}],
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": {
                f"E{status}": {
                    "description": text,
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                }
                for status, text in ERROR_DESCRIPTIONS.items()
            },
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "cookieAuth": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": app.config["SESSION_COOKIE_NAME"],
                },
            },
        },
    }
