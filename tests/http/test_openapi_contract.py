"""Every documented GET answers what the OpenAPI document says it answers.

Clients are generated from ``/api/v1/openapi.json``, so each GET operation is called here with
the demo's data as a caller its ``x-brandtrace-access`` admits, and each answer is checked
against the document: its status is documented, its media type is one the document lists for
that status, and a JSON body validates (formats included, undocumented fields refused) against
the documented schema. Refusals must be the documented problem, lists must paginate as
documented, and revalidation (``If-None-Match``) must answer a documented status.

A GET the demo cannot fill is listed in ``NOT_CALLED`` with the reason and called after making
what it needs through the API; a new GET without a case fails
``test_every_documented_get_is_called``. ``KNOWN_GAPS`` names mismatches left to others.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.brandkit import audit_body, pdf_report, tea_logo, upload

DOCUMENT = "urn:brandtrace:openapi"
JSON_TYPES = re.compile(r"^application/(?:[\w.+-]+\+)?json$")


@dataclass
class Calls:
    """What a case may look up: the demo, and JSON answers of other endpoints."""

    demo: dict[str, Any]
    api: Callable[[str | None], Any]

    def json(self, role: str | None, url: str) -> Any:
        answer = self.api(role).get(url)
        assert answer.status_code == 200, (url, answer.get_data(as_text=True))
        return answer.get_json()

    def first(self, role: str | None, url: str, key: str = "id") -> Any:
        """``key`` of the first item a list endpoint answers (paginated or a plain array)."""
        body = self.json(role, url)
        items = body["items"] if isinstance(body, dict) else body
        assert items, f"the demo has nothing at {url}"
        return items[0][key]

    def path(self, url: str) -> str:
        """The path (and query) of one of the demo's absolute URLs."""
        return _path(url)


@dataclass(frozen=True)
class Case:
    """One call of a documented GET: who calls, the URL, and what it accepts."""

    role: str | None
    url: Callable[[Calls], str]
    accept: str = "application/json"


def _path(url: str) -> str:
    """The path (and query) of an absolute URL."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _unit(demo: dict[str, Any], which: str = "unit") -> str:
    return urlsplit(demo[which]["digital_link"]).path


def _event_id(calls: Calls) -> str:
    document = calls.json("association_admin", "/epcis/events?perPage=1")
    event = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]
    return quote(event["eventID"], safe="")


def _standard_id(calls: Calls) -> int:
    return int(calls.first(None, f"/api/v1/brands/{calls.demo['brand']['slug']}/standards"))


def _version_pair(calls: Calls) -> tuple[int, int]:
    versions = calls.json(None, f"/api/v1/standards/{_standard_id(calls)}")["versions"]
    ids = sorted(version["id"] for version in versions)
    return ids[0], ids[-1]


ASSOCIATION = "association_admin"
FIRM = "firm_admin"

#: Documented GET path -> the calls that exercise it (several when it answers in several ways).
CASES: dict[str, list[Case]] = {
    "/01/{rest}": [
        Case(None, lambda c: _unit(c.demo)),
        Case(None, lambda c: _unit(c.demo, "unit_inactive")),
        Case(None, lambda c: _unit(c.demo, "unit_blacklisted")),
        Case(None, lambda c: _unit(c.demo, "unit_suspended")),
        Case(None, lambda c: urlsplit(c.demo["batch"]["digital_link"]).path),
        Case(None, lambda c: urlsplit(c.demo["product"]["digital_link"]).path),
        # A valid link to no product: the NOT_FOUND verdict.
        Case(None, lambda c: "/01/09506000134352/10/NOPE/21/NOPE"),
        Case(None, lambda c: "/01/09506000134352", accept="application/linkset+json"),
        Case(None, lambda c: "/01/09506000134352", accept="text/html"),
        Case(None, lambda c: _unit(c.demo), accept="application/linkset+json"),
        Case(None, lambda c: _unit(c.demo), accept="text/html"),
        # Bad syntax: a problem.
        Case(None, lambda c: "/01/12345"),
    ],
    "/api/v1/activity": [Case(ASSOCIATION, lambda c: "/api/v1/activity")],
    "/api/v1/audit-decisions/{decision_id}": [
        Case(ASSOCIATION, lambda c: f"/api/v1/audit-decisions/{c.demo['audit_decision']['id']}")
    ],
    "/api/v1/audits": [
        Case(ASSOCIATION, lambda c: "/api/v1/audits"),
        Case(FIRM, lambda c: "/api/v1/audits"),
    ],
    "/api/v1/audits/{audit_id}": [
        Case(ASSOCIATION, lambda c: f"/api/v1/audits/{c.demo['audit_decision']['audit_id']}"),
        Case(ASSOCIATION, lambda c: f"/api/v1/audits/{c.first(ASSOCIATION, '/api/v1/audits')}"),
    ],
    "/api/v1/audits/overdue": [Case(ASSOCIATION, lambda c: "/api/v1/audits/overdue")],
    "/api/v1/batches/{batch_id}": [
        Case(FIRM, lambda c: f"/api/v1/batches/{c.demo['batch']['id']}")
    ],
    "/api/v1/brands": [Case(None, lambda c: "/api/v1/brands")],
    "/api/v1/brands/{slug}": [Case(None, lambda c: f"/api/v1/brands/{c.demo['brand']['slug']}")],
    "/api/v1/brands/{slug}/label-policy": [
        Case(ASSOCIATION, lambda c: f"/api/v1/brands/{c.demo['brand']['slug']}/label-policy")
    ],
    "/api/v1/brands/{slug}/members": [
        Case(None, lambda c: f"/api/v1/brands/{c.demo['brand']['slug']}/members")
    ],
    "/api/v1/brands/{slug}/scan-rules": [
        Case(ASSOCIATION, lambda c: f"/api/v1/brands/{c.demo['brand']['slug']}/scan-rules")
    ],
    "/api/v1/brands/{slug}/standards": [
        Case(None, lambda c: f"/api/v1/brands/{c.demo['brand']['slug']}/standards")
    ],
    "/api/v1/certificates": [
        Case(FIRM, lambda c: "/api/v1/certificates"),
        Case(ASSOCIATION, lambda c: "/api/v1/certificates"),
    ],
    "/api/v1/certificates/{number}": [
        Case(FIRM, lambda c: f"/api/v1/certificates/{c.demo['certificate']['number']}"),
        Case(
            ASSOCIATION,
            lambda c: f"/api/v1/certificates/{c.demo['certificate_suspended']['number']}",
        ),
    ],
    "/api/v1/fake-reports": [Case(ASSOCIATION, lambda c: "/api/v1/fake-reports")],
    "/api/v1/fake-reports/{report_id}": [
        Case(
            ASSOCIATION,
            lambda c: f"/api/v1/fake-reports/{c.first(ASSOCIATION, '/api/v1/fake-reports')}",
        )
    ],
    "/api/v1/issuer/keys": [Case(ASSOCIATION, lambda c: "/api/v1/issuer/keys")],
    "/api/v1/label-orders": [
        Case(FIRM, lambda c: "/api/v1/label-orders"),
        Case(ASSOCIATION, lambda c: "/api/v1/label-orders"),
    ],
    "/api/v1/label-orders/{order_id}": [
        Case(FIRM, lambda c: f"/api/v1/label-orders/{c.demo['label_order']['id']}")
    ],
    "/api/v1/label-orders/{order_id}/codes": [
        Case(FIRM, lambda c: f"/api/v1/label-orders/{c.demo['label_order']['id']}/codes")
    ],
    "/api/v1/label-orders/{order_id}/codes.csv": [
        Case(
            FIRM,
            lambda c: f"/api/v1/label-orders/{c.demo['label_order']['id']}/codes.csv",
            accept="text/csv",
        )
    ],
    "/api/v1/label-orders/{order_id}/labels.pdf": [
        Case(
            FIRM,
            lambda c: f"/api/v1/label-orders/{c.demo['label_order']['id']}/labels.pdf",
            accept="application/pdf",
        )
    ],
    "/api/v1/me": [Case(role, lambda c: "/api/v1/me") for role in (FIRM, "government_viewer")],
    "/api/v1/memberships": [
        Case(ASSOCIATION, lambda c: "/api/v1/memberships"),
        Case(FIRM, lambda c: "/api/v1/memberships"),
    ],
    "/api/v1/memberships/{membership_id}": [
        Case(
            ASSOCIATION,
            lambda c: f"/api/v1/memberships/{c.first(ASSOCIATION, '/api/v1/memberships')}",
        )
    ],
    "/api/v1/organisation": [
        Case(role, lambda c: "/api/v1/organisation") for role in (FIRM, ASSOCIATION)
    ],
    "/api/v1/products": [Case(FIRM, lambda c: "/api/v1/products")],
    "/api/v1/products/{product_id}": [
        Case(FIRM, lambda c: f"/api/v1/products/{c.demo['product']['id']}")
    ],
    "/api/v1/products/{product_id}/batches": [
        Case(FIRM, lambda c: f"/api/v1/products/{c.demo['product']['id']}/batches")
    ],
    "/api/v1/register/certificates": [Case(None, lambda c: "/api/v1/register/certificates")],
    "/api/v1/register/certificates/{number}": [
        Case(None, lambda c: f"/api/v1/register/certificates/{c.demo['certificate']['number']}"),
        Case(
            None,
            lambda c: f"/api/v1/register/certificates/{c.demo['certificate_suspended']['number']}",
        ),
    ],
    "/api/v1/scan-alerts": [
        Case(ASSOCIATION, lambda c: "/api/v1/scan-alerts"),
        Case(FIRM, lambda c: "/api/v1/scan-alerts"),
    ],
    "/api/v1/scan-alerts/{alert_id}": [
        Case(
            ASSOCIATION,
            lambda c: f"/api/v1/scan-alerts/{c.first(ASSOCIATION, '/api/v1/scan-alerts')}",
        )
    ],
    "/api/v1/scans": [Case(ASSOCIATION, lambda c: "/api/v1/scans")],
    "/api/v1/scans/summary": [Case(ASSOCIATION, lambda c: "/api/v1/scans/summary")],
    "/api/v1/standard-versions/{version_id}": [
        Case(None, lambda c: f"/api/v1/standard-versions/{c.demo['standard']['version_id']}")
    ],
    "/api/v1/standard-versions/{version_id}/canonical": [
        Case(
            None,
            lambda c: f"/api/v1/standard-versions/{c.demo['standard']['version_id']}/canonical",
        )
    ],
    "/api/v1/standard-versions/{version_id}/diff/{other_id}": [
        Case(None, lambda c: "/api/v1/standard-versions/{}/diff/{}".format(*_version_pair(c)))
    ],
    "/api/v1/standards/{standard_id}": [
        Case(None, lambda c: f"/api/v1/standards/{_standard_id(c)}")
    ],
    "/api/v1/tokens": [Case(FIRM, lambda c: "/api/v1/tokens")],
    "/api/v1/trace/journey": [
        Case(FIRM, lambda c: c.path(c.demo["epcis"]["journey_url"])),
        Case(
            "government_viewer",
            lambda c: (
                f"/api/v1/trace/journey?epc={quote(c.demo['epcis']['leaf_batch']['digital_link'])}"
                "&direction=forward"
            ),
        ),
    ],
    "/api/v1/trace/locations": [Case(FIRM, lambda c: "/api/v1/trace/locations")],
    "/api/v1/trace/partners": [Case(FIRM, lambda c: "/api/v1/trace/partners")],
    "/api/v1/trace/recalls": [Case(ASSOCIATION, lambda c: "/api/v1/trace/recalls")],
    "/api/v1/units/{gtin}/{serial}": [
        Case(
            FIRM,
            lambda c: f"/api/v1/units/{c.demo['product']['gtin']}/{c.demo['unit']['serial']}",
        ),
        Case(
            FIRM,
            lambda c: (
                f"/api/v1/units/{c.demo['product']['gtin']}/{c.demo['unit_inactive']['serial']}"
            ),
        ),
    ],
    "/api/v1/users": [Case(role, lambda c: "/api/v1/users") for role in (FIRM, ASSOCIATION)],
    "/brands": [
        Case(None, lambda c: "/brands"),
        Case(None, lambda c: "/brands", accept="text/html"),
    ],
    "/brands/{slug}": [
        Case(None, lambda c: f"/brands/{c.demo['brand']['slug']}"),
        Case(None, lambda c: f"/brands/{c.demo['brand']['slug']}", accept="text/html"),
    ],
    "/brands/{slug}/standards/{version_id}": [
        Case(None, lambda c: c.path(c.demo["standard"]["url"])),
        Case(None, lambda c: c.path(c.demo["standard"]["url"]), accept="text/html"),
    ],
    "/epcis/capture": [Case(FIRM, lambda c: "/epcis/capture")],
    "/epcis/capture/{capture_id}": [
        Case(FIRM, lambda c: f"/epcis/capture/{c.first(FIRM, '/epcis/capture', 'captureID')}")
    ],
    "/epcis/events": [
        Case(ASSOCIATION, lambda c: "/epcis/events"),
        Case(FIRM, lambda c: "/epcis/events?perPage=2"),
    ],
    "/epcis/events/{event_id}": [Case(ASSOCIATION, lambda c: f"/epcis/events/{_event_id(c)}")],
    "/log": [Case(None, lambda c: "/log")],
    "/log/checkpoint": [Case(None, lambda c: "/log/checkpoint", accept="text/plain")],
    "/log/entries/{index}": [
        Case(None, lambda c: f"/log/entries/{c.demo['certificate']['log_index']}"),
        Case(None, lambda c: "/log/entries/0"),
    ],
    "/log/proof/consistency": [Case(None, lambda c: "/log/proof/consistency?from=1")],
    "/log/proof/inclusion": [
        Case(None, lambda c: f"/log/proof/inclusion?index={c.demo['certificate']['log_index']}")
    ],
    "/log/tile/{tile}": [
        Case(None, lambda c: "/log/tile/0/000.p/1", accept="application/octet-stream")
    ],
    "/log/vkey": [Case(None, lambda c: "/log/vkey", accept="text/plain")],
    "/qr/{unit_path}": [
        Case(None, lambda c: c.path(c.demo["unit"]["qr_png_url"]), accept="image/png"),
        Case(None, lambda c: c.path(c.demo["unit"]["qr_svg_url"]), accept="image/svg+xml"),
    ],
    "/verify": [
        Case(None, lambda c: "/verify", accept="text/html"),
        Case(None, lambda c: f"/verify?code={quote(c.demo['unit']['digital_link'])}"),
        Case(None, lambda c: "/verify?code=not-a-code"),
        Case(None, lambda c: "/verify?code=09506000134352"),
        Case(None, lambda c: "/verify?code=09506000134352", accept="text/html"),
    ],
    "/verify/01/{rest}": [
        Case(None, lambda c: "/verify" + _unit(c.demo)),
        Case(None, lambda c: "/verify" + _unit(c.demo), accept="application/linkset+json"),
        Case(None, lambda c: "/verify" + _unit(c.demo), accept="text/html"),
        Case(None, lambda c: "/verify/01/09506000134352"),
    ],
}

#: Documented GETs the demo cannot fill, and why: each is called, after making what it needs
#: through the API, by ``test_records_the_demo_lacks_are_answered_as_documented``.
NOT_CALLED: dict[str, str] = {
    "/api/v1/audits/{audit_id}/evidence/{evidence_id}": "the demo's audits hold no evidence file",
    "/api/v1/fake-reports/{report_id}/photo": "the demo's fake reports carry no photo",
    "/api/v1/trace/recalls/{recall_id}": "the demo places no recall",
    "/brands/{slug}/logo": "the demo's brand has no logo",
    "/products/{gtin}/images/{image_id}": "the demo's products have no pictures",
}

#: Known mismatches, left to the owners of the code (strict: the test says when they are fixed).
KNOWN_GAPS: dict[str, str] = {}


def _document(api: Callable[[str | None], Any]) -> dict[str, Any]:
    answer = api(None).get("/api/v1/openapi.json")
    assert answer.status_code == 200
    return answer.get_json()  # type: ignore[no-any-return]


def _closed(schema: Any) -> Any:
    """``schema`` with every object that lists its properties closed to others, so a field
    sent but not documented (which a generated client drops) is found too."""
    if isinstance(schema, dict):
        closed = {key: _closed(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            closed["additionalProperties"] = False
        return closed
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    # Schemas are references into the document's components (with references inside them),
    # resolved against the whole document; formats (date-time, uri, ...) are checked too.
    registry = Registry().with_resource(
        DOCUMENT, Resource(_closed(document), specification=DRAFT202012)
    )
    return Draft202012Validator(
        _closed(_anchored(schema)),
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _anchored(schema: Any) -> Any:
    """``schema`` with its references into the document made absolute."""
    if isinstance(schema, dict):
        return {
            key: DOCUMENT + value
            if key == "$ref" and isinstance(value, str) and value.startswith("#")
            else _anchored(value)
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_anchored(item) for item in schema]
    return schema


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A response object, following a ``$ref`` to ``components/responses``."""
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def check_answer(
    document: dict[str, Any], template: str, answer: Any, method: str = "get"
) -> list[str]:
    """What in ``answer`` the document does not say of ``method`` ``template``."""
    responses = document["paths"][template][method]["responses"]
    status = str(answer.status_code)
    if status not in responses:
        return [f"status {status} is not documented (documented: {sorted(responses)})"]
    documented = _resolve(document, responses[status])
    missing = [
        f"{status} lacks the header {name}"
        for name, header in documented.get("headers", {}).items()
        if header.get("required") and name not in answer.headers
    ]
    content = documented.get("content", {})
    media = answer.mimetype
    if media not in content:
        return [f"{status} answers {media}, documented: {sorted(content) or 'no content'}"]
    if not JSON_TYPES.match(media):
        return missing
    body = answer.get_json()
    validator = _validator(document, content[media].get("schema", {}))
    return missing + [
        f"{status} {media} at /{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(body)
    ]


def _cases(known_gaps: bool = True) -> list[Any]:
    return [
        pytest.param(
            template,
            case,
            id=f"{template}#{number}",
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[template])]
            if known_gaps and template in KNOWN_GAPS
            else [],
        )
        for template, cases in CASES.items()
        for number, case in enumerate(cases)
    ]


def test_every_documented_get_is_called(api) -> None:
    documented = {path for path, item in _document(api)["paths"].items() if "get" in item}
    assert not set(CASES) & set(NOT_CALLED)
    assert sorted(documented - set(CASES) - set(NOT_CALLED)) == [], "GETs without a case"
    assert sorted((set(CASES) | set(NOT_CALLED)) - documented) == [], "cases of no GET"


@pytest.mark.parametrize(("template", "case"), _cases())
def test_answers_match_the_document(api, demo, template: str, case: Case) -> None:
    document = _document(api)
    url = case.url(Calls(demo, api))
    answer = api(case.role).get(url, headers={"Accept": case.accept})
    # Read streamed answers (CSV, PDF) to the end and close them, even when the check fails.
    with answer:
        answer.get_data()
        assert check_answer(document, template, answer) == [], url


def _page_templates(document: dict[str, Any]) -> list[str]:
    """GET paths whose success is the one pagination shape (``items``, ``limit``,
    ``next_cursor``)."""
    found = []
    for template, item in document["paths"].items():
        content = item.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema", {})
        name = schema.get("$ref", "").rsplit("/", 1)[-1]
        properties = document["components"]["schemas"].get(name, {}).get("properties", {})
        if {"items", "limit", "next_cursor"} <= set(properties):
            found.append(template)
    return found


def _with(url: str, **params: str) -> str:
    return url + ("&" if "?" in url else "?") + "&".join(f"{k}={v}" for k, v in params.items())


def test_list_endpoints_paginate_as_documented(api, demo) -> None:
    """Every list documents ``limit`` and ``cursor`` and its ``Link`` header; a page holds at
    most ``limit`` items, ``next_cursor`` and ``Link: <...>; rel="next"`` come together, and
    the linked page goes on where the first stopped."""
    document = _document(api)
    templates = _page_templates(document)
    assert len(templates) >= 14, templates
    calls = Calls(demo, api)
    followed = 0
    for template in templates:
        operation = document["paths"][template]["get"]
        query = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
        assert query["limit"]["schema"]["default"] == 50, template
        assert {"limit", "cursor"} <= set(query), template
        assert "Link" in operation["responses"]["200"]["headers"], template
        case = CASES[template][0]
        url = case.url(calls)
        first = api(case.role).get(url)
        assert first.status_code == 200 and first.get_json()["limit"] == 50, template
        answer = api(case.role).get(_with(url, limit="1"))
        assert check_answer(document, template, answer) == [], template
        page = answer.get_json()
        assert page["limit"] == 1 and len(page["items"]) <= 1, template
        if page["next_cursor"] is None:
            assert "Link" not in answer.headers, template
            assert len(first.get_json()["items"]) <= 1, template
            continue
        link = answer.headers["Link"]
        match = re.fullmatch(r'<([^>]+)>; rel="next"', link)
        assert match, (template, link)
        assert match[1].startswith(demo["base_url"] + urlsplit(url).path + "?"), link
        assert f"cursor={page['next_cursor']}" in match[1], link
        after = api(case.role).get(match[1].removeprefix(demo["base_url"]))
        assert check_answer(document, template, after) == [], template
        second = after.get_json()["items"]
        # The two pages are the first two items of the whole list, in order.
        assert page["items"] + second[:1] == first.get_json()["items"][:2], template
        followed += 1
    assert followed >= 5, "the demo should have lists longer than one item"


def test_epcis_event_query_pages_with_a_link(api) -> None:
    document = _document(api)
    answer = api("association_admin").get("/epcis/events?perPage=1")
    assert check_answer(document, "/epcis/events", answer) == []
    assert "Link" in document["paths"]["/epcis/events"]["get"]["responses"]["200"]["headers"]
    match = re.fullmatch(r'<([^>]+)>; rel="next"', answer.headers["Link"])
    assert match and "nextPageToken=" in match[1] and "perPage=1" in match[1]


def test_records_the_demo_lacks_are_answered_as_documented(api, demo) -> None:
    """The GETs of ``NOT_CALLED`` and records with every optional field left empty (nulls
    where the demo has values), made through the API, whose answers are checked too."""
    document = _document(api)
    firm, auditor = api(FIRM), api("association_auditor")
    problems: list[str] = []
    called: set[str] = set()

    def call(client: Any, method: str, template: str, url: str, **kwargs: Any) -> Any:
        if method == "get":
            called.add(template)
        answer = client.request(method.upper(), url, **kwargs)
        assert answer.status_code < 300, (url, answer.get_data(as_text=True)[:1000])
        problems.extend(
            f"{method} {url}: {p}" for p in check_answer(document, template, answer, method)
        )
        if method == "get" and "ETag" in answer.headers:
            headers = kwargs.get("headers", {}) | {"If-None-Match": answer.headers["ETag"]}
            again = client.get(url, headers=headers)
            if str(again.status_code) not in document["paths"][template]["get"]["responses"]:
                problems.append(f"get {url} revalidated: {again.status_code} is not documented")
        return answer

    png = tea_logo(16)
    # A product and a batch with nothing optional, and a picture of the product.
    product = call(
        firm,
        "post",
        "/api/v1/products",
        "/api/v1/products",
        json={"gtin": "06923456789999", "name_zh": "祁门红茶", "name_en": "Keemun"},
    ).get_json()
    call(firm, "get", "/api/v1/products/{product_id}", f"/api/v1/products/{product['id']}")
    batch = call(
        firm,
        "post",
        "/api/v1/products/{product_id}/batches",
        f"/api/v1/products/{product['id']}/batches",
        json={"lot": "BARE-1"},
    ).get_json()
    call(firm, "get", "/api/v1/batches/{batch_id}", f"/api/v1/batches/{batch['id']}")
    call(
        firm,
        "get",
        "/api/v1/products/{product_id}/batches",
        f"/api/v1/products/{product['id']}/batches",
    )
    pictured = call(
        firm,
        "post",
        "/api/v1/products/{product_id}/images",
        f"/api/v1/products/{demo['product']['id']}/images",
        **upload(png, "pack.png", "image/png"),
    ).get_json()
    call(
        api(None),
        "get",
        "/products/{gtin}/images/{image_id}",
        _path(pictured["image_urls"][-1]),
        headers={"Accept": "image/*"},
    )
    # A label order that is only requested (no codes yet).
    order = call(
        firm,
        "post",
        "/api/v1/batches/{batch_id}/label-orders",
        f"/api/v1/batches/{demo['batch']['id']}/label-orders",
        json={"quantity": 1},
    ).get_json()
    call(firm, "get", "/api/v1/label-orders/{order_id}", f"/api/v1/label-orders/{order['id']}")
    # A recall of the demo batch.
    recall = call(
        firm,
        "post",
        "/api/v1/trace/recalls",
        "/api/v1/trace/recalls",
        json={"batch_id": demo["batch"]["id"], "kind": "hold", "reason": "checking a seal"},
    ).get_json()
    call(firm, "get", "/api/v1/trace/recalls/{recall_id}", f"/api/v1/trace/recalls/{recall['id']}")
    call(firm, "get", "/api/v1/trace/recalls", "/api/v1/trace/recalls")
    call(firm, "get", "/01/{rest}", _unit(demo))
    # The brand's logo.
    slug = demo["brand"]["slug"]
    call(
        api(ASSOCIATION),
        "put",
        "/api/v1/brands/{slug}/logo",
        f"/api/v1/brands/{slug}/logo",
        **upload(png, "logo.png", "image/png"),
    )
    call(api(None), "get", "/brands/{slug}/logo", f"/brands/{slug}/logo")
    call(api(None), "get", "/api/v1/brands/{slug}", f"/api/v1/brands/{slug}")
    # An open audit with nothing optional, and an evidence file.
    audit = call(
        auditor,
        "post",
        "/api/v1/audits",
        "/api/v1/audits",
        json=audit_body(demo["standard"]["version_id"], brand=slug),
    ).get_json()
    call(auditor, "get", "/api/v1/audits/{audit_id}", f"/api/v1/audits/{audit['id']}")
    evidence = call(
        auditor,
        "post",
        "/api/v1/audits/{audit_id}/evidence",
        f"/api/v1/audits/{audit['id']}/evidence",
        **upload(pdf_report(), "report.pdf", "application/pdf"),
    ).get_json()
    call(
        auditor,
        "get",
        "/api/v1/audits/{audit_id}/evidence/{evidence_id}",
        f"/api/v1/audits/{audit['id']}/evidence/{evidence['id']}",
        headers={"Accept": "*/*"},
    )
    # A shopper's report with a photo and nothing else optional.
    boundary, body = encode_multipart(
        {
            "description": "the seal looks wrong",
            "photo": FileStorage(io.BytesIO(png), "seal.png", content_type="image/png"),
        }
    )
    call(
        api(None),
        "post",
        "/report",
        "/report",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    report = Calls(demo, api).json(ASSOCIATION, "/api/v1/fake-reports")["items"][0]
    call(
        api(ASSOCIATION),
        "get",
        "/api/v1/fake-reports/{report_id}",
        f"/api/v1/fake-reports/{report['id']}",
    )
    assert report["photo_url"], report
    call(
        api(ASSOCIATION),
        "get",
        "/api/v1/fake-reports/{report_id}/photo",
        _path(report["photo_url"]),
        headers={"Accept": "image/*"},
    )
    assert problems == []
    assert set(NOT_CALLED) <= called


#: The demo's roles as (organisation kind, role).
DEMO_ROLES = {
    "association_admin": ("association", "admin"),
    "association_staff": ("association", "staff"),
    "association_auditor": ("association", "auditor"),
    "firm_admin": ("enterprise", "admin"),
    "firm_staff": ("enterprise", "staff"),
    "firm2_admin": ("enterprise", "admin"),
    "logistics_staff": ("enterprise", "staff"),
    "government_viewer": ("government", "viewer"),
    "alliance_viewer": ("alliance", "viewer"),
}


def _admits(access: str, name: str) -> bool:
    if access == "public":
        return True
    rules = dict(part.split(": ", 1) for part in access.split("; "))
    kind, role = DEMO_ROLES[name]
    return kind in rules["organisations"].split(", ") and role in rules["roles"].split(", ")


def _outsider(access: str) -> str | None:
    """A demo role that ``x-brandtrace-access`` does not admit, if there is one."""
    return next((name for name in DEMO_ROLES if not _admits(access, name)), None)


def _unknown(document: dict[str, Any], template: str) -> str:
    """``template`` with each path parameter naming nothing that exists."""
    url = template
    for parameter in document["paths"][template]["get"].get("parameters", []):
        if parameter["in"] == "path":
            value = "999999" if parameter["schema"].get("type") == "integer" else "zz-unknown"
            url = url.replace("{" + parameter["name"] + "}", value)
    return url


@pytest.mark.parametrize("template", sorted(set(CASES) | set(NOT_CALLED)))
def test_refusals_are_documented_problems(api, template: str) -> None:
    """Who may not call, a record that does not exist and a bad page size answer with a
    documented status and a body that is the documented problem."""
    document = _document(api)
    operation = document["paths"][template]["get"]
    role = CASES[template][0].role if template in CASES else None
    answers = []
    if operation["x-brandtrace-access"] != "public":
        answers.append(api(None).get(_unknown(document, template)))
        outsider = _outsider(operation["x-brandtrace-access"])
        if outsider is not None:
            answers.append(api(outsider).get(_unknown(document, template)))
    if "{" in template:
        answers.append(api(role).get(_unknown(document, template)))
    if template in _page_templates(document):
        answers.append(api(role).get(_with(_unknown(document, template), limit="0")))
    problems = []
    for answer in answers:
        assert answer.status_code >= 400, (template, answer.status_code)
        if answer.mimetype == "application/problem+json":
            body = answer.get_json()
            assert body["status"] == answer.status_code, body
        problems += check_answer(document, template, answer)
    assert problems == []


@pytest.mark.parametrize(("template", "case"), _cases(known_gaps=False))
def test_revalidated_answers_are_documented(api, demo, template: str, case: Case) -> None:
    """An answer with an ETag, asked for again with ``If-None-Match``, answers a documented
    status (304 Not Modified where the server revalidates)."""
    document = _document(api)
    url = case.url(Calls(demo, api))
    with api(case.role).get(url, headers={"Accept": case.accept}) as first:
        first.get_data()
        etag = first.headers.get("ETag")
    if etag is None:
        return
    again = api(case.role).get(url, headers={"Accept": case.accept, "If-None-Match": etag})
    with again:
        again.get_data()
        status = str(again.status_code)
        assert status in document["paths"][template]["get"]["responses"], (url, status)


@pytest.mark.parametrize("template", sorted(CASES))
def test_every_admitted_role_gets_a_documented_answer(api, demo, template: str) -> None:
    """What an answer holds depends on who asks (their own records, what their organisation
    may see): each demo role the operation admits gets a documented answer."""
    document = _document(api)
    access = document["paths"][template]["get"]["x-brandtrace-access"]
    case = CASES[template][0]
    url = case.url(Calls(demo, api))
    problems = []
    for role in [None] if access == "public" else [r for r in DEMO_ROLES if _admits(access, r)]:
        with api(role).get(url, headers={"Accept": case.accept}) as answer:
            answer.get_data()
            problems += [f"{role}: {p}" for p in check_answer(document, template, answer)]
    if template in KNOWN_GAPS:
        assert problems, "fixed: take it out of KNOWN_GAPS"
        return
    assert problems == []
