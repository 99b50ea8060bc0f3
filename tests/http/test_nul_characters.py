"""A NUL character anywhere in a request (path, query, form field, JSON text) is bad input,
refused with a problem that says where, and changes nothing: no text column stores it (on
PostgreSQL the driver refused it, a 500 for every endpoint that stored or looked it up)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth.models import ApiToken, User
from tests.portalkit import HTML, as_role, post


def _token_count(session) -> int:
    return session.scalar(select(func.count()).select_from(ApiToken))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "ci\x00", "scopes": ["*:read"]}, "/name"),
        ({"name": "ci", "scopes": ["*:read", "brands:read\x00"]}, "/scopes"),
    ],
)
def test_json_text_with_nul_is_invalid_input_and_stores_nothing(api, session, body, field) -> None:
    before = _token_count(session)
    response = api("firm_staff").post("/api/v1/tokens", json=body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert (errors[0]["field"], errors[0]["rule"]) == (field, "nul_character")
    assert _token_count(session) == before


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/memberships?brand=qimen%00", "query.brand"),
        ("/api/v1/brands/qimen%00black-tea", "path"),
        ("/api/v1/register/certificates/QTA%00", "path"),
    ],
)
def test_a_nul_in_the_address_is_a_bad_request(api, path, field) -> None:
    response = api("association_admin").get(path)
    assert response.status_code == 400, response.get_data(as_text=True)
    problem = response.get_json()
    assert problem["type"].endswith("/problems/nul-character")
    assert problem["errors"][0]["field"] == field


def test_a_nul_in_a_portal_form_changes_nothing(app, demo, session) -> None:
    client = as_role(app, demo, "firm_admin")
    response = post(
        client,
        "/portal/users",
        {
            "email": "new\x00@hongxiang-tea.example",
            "display_name": "New person",
            "role": "staff",
            "password": "a-long-password-1",
        },
    )
    assert response.status_code == 400
    assert "text/html" in response.content_type
    assert "NUL" in response.get_data(as_text=True)
    assert session.scalar(select(User).where(User.display_name == "New person")) is None


def test_a_nul_in_the_sign_in_form_is_refused_readably(client) -> None:
    response = client.post(
        "/login", data={"email": "x\x00@example.org", "password": "p"}, headers=HTML
    )
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)


def test_a_form_part_without_a_name_is_no_error(api) -> None:
    # Multipart parts may lack a name (the form's key is then None): left to the view.
    body = (
        b"--xx\r\nContent-Disposition: form-data\r\n\r\nv\r\n"
        b'--xx\r\nContent-Disposition: form-data; name=""\r\n\r\nnull\r\n--xx--\r\n'
    )
    response = api("firm_admin").post(
        "/api/v1/products/1/images",
        data=body,
        headers={"Content-Type": "multipart/form-data; boundary=xx"},
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
