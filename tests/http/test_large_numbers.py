"""Numbers larger than any integer column: in a URL an unknown resource (404), like any other
id that names no row; in a body invalid input (422); never a driver error (500)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.certificates.models import Certificate
from app.http.converters import MAX_ID
from tests.portalkit import HTML, post
from tests.test_pages_matrix import _sign_in

TOO_LARGE = "99999999999999999999"
UNKNOWN = "999999"

API_PATHS = (
    "/api/v1/products/{id}",
    "/api/v1/batches/{id}",
    "/api/v1/label-orders/{id}",
    "/api/v1/label-orders/{id}/codes.csv",
    "/api/v1/memberships/{id}",
    "/api/v1/audits/{id}",
    "/api/v1/scan-alerts/{id}",
    "/api/v1/trace/recalls/{id}",
    "/api/v1/standard-versions/{id}",
    "/api/v1/standard-versions/{id}/diff/{id}",
    "/brands/qimen-black-tea/standards/{id}",
)


@pytest.mark.parametrize("path", API_PATHS)
def test_an_id_too_large_is_not_found_like_an_unknown_one(api, path) -> None:
    caller = api("association_admin" if "audits" in path or "memberships" in path else "firm_admin")
    unknown = caller.get(path.format(id=UNKNOWN))
    assert unknown.status_code == 404
    for too_large in (TOO_LARGE, str(MAX_ID + 1)):
        response = caller.get(path.format(id=too_large))
        assert response.status_code == 404, response.get_data(as_text=True)
        assert response.content_type == "application/problem+json"
        # No route takes it: the generic not-found problem (the domain's own names the id).
        assert response.get_json()["type"] == "https://brand.example.test/problems/not-found"
        assert unknown.get_json()["type"].endswith("not-found")


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        # Each address has one rule for GET and another for the write.
        ("association_auditor", "PATCH", "/api/v1/audits/{id}"),
        ("firm_admin", "PATCH", "/api/v1/products/{id}"),
        ("association_admin", "PATCH", "/api/v1/fake-reports/{id}"),
        ("association_admin", "PUT", "/api/v1/standard-versions/{id}"),
        ("firm_admin", "DELETE", "/api/v1/tokens/{id}"),
    ],
)
def test_a_write_to_an_id_too_large_is_not_found_not_a_wrong_method(
    api, role, method, path
) -> None:
    caller = api(role)
    unknown = caller.request(method, path.format(id=UNKNOWN), json={})
    assert unknown.status_code in (404, 422), unknown.get_data(as_text=True)
    response = caller.request(method, path.format(id=TOO_LARGE), json={})
    assert response.status_code == 404, response.get_data(as_text=True)
    assert "Allow" not in response.headers
    assert response.get_json()["type"] == "https://brand.example.test/problems/not-found"


def test_the_largest_id_is_looked_up(api) -> None:
    response = api("firm_admin").get(f"/api/v1/products/{MAX_ID}")
    assert response.status_code == 404
    # The view answered (naming the product), not the router.
    assert response.get_json()["detail"] != "No resource at this address."


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("firm_admin", "/portal/products/{id}"),
        ("firm_admin", "/portal/batches/{id}"),
        ("firm_admin", "/portal/label-orders/{id}"),
        ("firm_admin", "/portal/trace/recalls/{id}"),
        ("association_admin", "/portal/memberships/{id}"),
        ("association_admin", "/portal/audits/{id}"),
        ("association_admin", "/portal/standard-versions/{id}"),
        ("association_admin", "/portal/scan-alerts/{id}"),
    ],
)
def test_pages_show_people_the_not_found_page(client, demo, role, path) -> None:
    _sign_in(client, demo, role)
    unknown = client.get(path.format(id=UNKNOWN), headers={"Accept": "text/html"})
    assert unknown.status_code == 404
    response = client.get(path.format(id=TOO_LARGE), headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.content_type == unknown.content_type == "text/html; charset=utf-8"
    assert "Not found" in response.get_data(as_text=True)


@pytest.mark.parametrize("too_large", [MAX_ID + 1, int(TOO_LARGE)])
def test_an_id_too_large_in_a_body_is_invalid_input(api, session, too_large) -> None:
    certificates = session.scalar(select(func.count()).select_from(Certificate))
    response = api("association_admin").post(
        "/api/v1/certificates", json={"decision_id": too_large, "label_quota": 1}
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    (error,) = response.get_json()["errors"]
    assert (error["field"], error["rule"]) == ("/decision_id", "less_than_equal")
    assert session.scalar(select(func.count()).select_from(Certificate)) == certificates


def test_the_largest_id_in_a_body_is_looked_up(api) -> None:
    response = api("association_admin").post(
        "/api/v1/certificates", json={"decision_id": MAX_ID, "label_quota": 1}
    )
    assert response.status_code == 404  # no such decision


def _standard_id(session) -> int:
    from app.standards.models import Standard

    return session.scalar(select(Standard.id).order_by(Standard.id))


@pytest.mark.parametrize(
    "path",
    [
        "/portal/certificates/issue?decision={id}",
        "/portal/standards/{standard}/versions/new?from={id}",
    ],
)
def test_an_id_too_large_in_a_query_string_is_not_found_like_an_unknown_one(
    client, demo, session, path
) -> None:
    _sign_in(client, demo, "association_admin")
    standard = _standard_id(session)
    unknown = client.get(path.format(id=UNKNOWN, standard=standard), headers=HTML)
    assert unknown.status_code == 404
    for too_large in (TOO_LARGE, str(MAX_ID + 1), f"-{TOO_LARGE}"):
        response = client.get(path.format(id=too_large, standard=standard), headers=HTML)
        assert response.status_code == 404, response.get_data(as_text=True)[:500]
        assert "Not found" in response.get_data(as_text=True)


def test_an_id_too_large_in_a_form_is_not_found(client, demo) -> None:
    _sign_in(client, demo, "association_admin")
    response = post(client, "/portal/certificates/issue", {"decision": TOO_LARGE})
    assert response.status_code == 404, response.get_data(as_text=True)[:500]


def test_comparing_with_a_number_too_large_shows_the_default_versions(
    client, demo, session
) -> None:
    _sign_in(client, demo, "association_admin")
    path = f"/portal/standards/{_standard_id(session)}/compare?from={TOO_LARGE}&to={TOO_LARGE}"
    assert client.get(path, headers=HTML).status_code == 200


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity"])
def test_request_bodies_refuse_numbers_json_has_not(raw: str) -> None:
    # Python's parser reads them; RFC 8259 JSON has no NaN or Infinity.
    from pydantic import ValidationError

    from app.http.schemas import RequestSchema

    class Reading(RequestSchema):
        value: float

    assert Reading.model_validate_json('{"value": 1.5}').value == 1.5
    with pytest.raises(ValidationError, match="finite_number"):
        Reading.model_validate_json(f'{{"value": {raw}}}')
