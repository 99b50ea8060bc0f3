"""The OpenAPI document describes what the API answers: a client generated from it reads the
real responses, whichever domain's models share a class name."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from app.http.api import ENDPOINTS

DOCUMENT = "urn:brandtrace:openapi"


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    # The response schemas tested are references into the document's components, which
    # resolve (with the references inside them) against the whole document.
    registry = Registry().with_resource(DOCUMENT, Resource(document, specification=DRAFT202012))
    return Draft202012Validator({"$ref": DOCUMENT + schema["$ref"]}, registry=registry)


def _response_schema(document: dict[str, Any], path: str) -> dict[str, Any]:
    operation = document["paths"][path]["get"]
    return operation["responses"]["200"]["content"]["application/json"]["schema"]


@pytest.mark.parametrize(
    ("role", "template", "url"),
    [
        # Each of these answers with a model whose nested model shares its class name with
        # another domain's (StandardOut, ProductOut): the last one generated used to replace
        # the other in the document.
        ("firm_admin", "/api/v1/certificates/{number}", "/api/v1/certificates/{certificate}"),
        ("firm_admin", "/api/v1/certificates", "/api/v1/certificates"),
        (
            None,
            "/api/v1/register/certificates/{number}",
            "/api/v1/register/certificates/{certificate}",
        ),
        ("association_admin", "/api/v1/audits/{audit_id}", "/api/v1/audits/{audit}"),
        ("firm_admin", "/api/v1/products/{product_id}", "/api/v1/products/{product}"),
        ("firm_admin", "/api/v1/products", "/api/v1/products"),
        (None, "/api/v1/standards/{standard_id}", "/api/v1/standards/1"),
    ],
)
def test_responses_match_their_documented_schema(api, demo, role, template, url) -> None:
    document = api(None).get("/api/v1/openapi.json").get_json()
    response = api(role).get(
        url.format(
            certificate=demo["certificate"]["number"],
            audit=demo["audit_decision"]["audit_id"],
            product=demo["product"]["id"],
        )
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    validator = _validator(document, _response_schema(document, template))
    problems = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(response.get_json())
    ]
    assert problems == []


def _models(annotation: Any, found: set[type[BaseModel]]) -> set[type[BaseModel]]:
    """Every pydantic model an annotation uses, nested ones included."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found:
            return found
        found.add(annotation)
        for info in annotation.model_fields.values():
            _models(info.annotation, found)
    for argument in typing.get_args(annotation):
        _models(argument, found)
    return found


def test_every_model_has_a_component_of_its_own(client) -> None:
    """Models that share a class name (the audits' and the products' ``ProductOut``) each get
    a component, instead of one overwriting the other under the shared name."""
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    components = {
        (schema.get("title"), frozenset(schema.get("properties", {})))
        for schema in schemas.values()
    }
    models: set[type[BaseModel]] = set()
    for endpoint in ENDPOINTS:
        for annotation in (endpoint.body, endpoint.query, endpoint.response):
            _models(annotation, models)
    missing = []
    for model in models:
        if model.__pydantic_generic_metadata__["origin"] is not None:
            continue  # Page[X]: titled after its arguments
        shapes = {
            frozenset(model.model_json_schema(mode=mode).get("properties", {}))
            for mode in ("validation", "serialization")
        }
        if not any((model.__name__, shape) in components for shape in shapes):
            missing.append(f"{model.__module__}.{model.__name__}")
    assert sorted(missing) == []


def test_answers_a_client_must_handle_are_documented(client, api, demo) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/log/proof/inclusion", "/log/proof/consistency"):
        assert "404" in paths[path]["get"]["responses"], path
    unknown_leaf = "A" * 43 + "="  # 32 zero bytes, base64: no entry has that leaf hash
    assert api(None).get(f"/log/proof/inclusion?leaf_hash={unknown_leaf}").status_code == 404
    for path in (
        "/api/v1/label-orders/{order_id}/codes.csv",
        "/api/v1/label-orders/{order_id}/labels.pdf",
    ):
        assert "409" in paths[path]["get"]["responses"], path


def test_pages_and_linksets_are_documented_in_the_media_types_they_come_in(api, demo) -> None:
    """A route that negotiates documents each answer it gives: browsers get a page, and a
    Digital Link's linkset is documented as what the resolver really sends."""
    document = api(None).get("/api/v1/openapi.json").get_json()
    pages = {
        "/brands": "/brands",
        "/brands/{slug}": f"/brands/{demo['brand']['slug']}",
        "/01/{rest}": demo["unit"]["digital_link"].removeprefix(demo["base_url"]),
        "/verify": "/verify",
    }
    for template, url in pages.items():
        content = document["paths"][template]["get"]["responses"]["200"]["content"]
        assert {"application/json", "text/html"} <= set(content), template
        answer = api(None).get(url, headers={"Accept": "text/html"})
        assert answer.status_code == 200 and answer.mimetype == "text/html", template

    linkset = document["paths"]["/01/{rest}"]["get"]["responses"]["200"]["content"][
        "application/linkset+json"
    ]["schema"]
    answer = api(None).get(pages["/01/{rest}"], headers={"Accept": "application/linkset+json"})
    assert answer.mimetype == "application/linkset+json"
    validator = Draft202012Validator(linkset)
    assert [error.message for error in validator.iter_errors(answer.get_json())] == []
    assert list(validator.iter_errors({"linkset": [{"gs1:pip": [{"title": "no href"}]}]}))
