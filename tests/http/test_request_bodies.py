"""Request bodies: an action whose options all have defaults may be posted without a body;
one with required fields may not, and the OpenAPI document says which is which."""

from __future__ import annotations


def test_an_action_with_only_optional_options_may_be_posted_without_a_body(api, demo) -> None:
    admin = api("association_admin")
    rotated = admin.post("/api/v1/issuer/keys/rotate")
    assert rotated.status_code == 201, rotated.get_data(as_text=True)
    assert rotated.get_json()["active"]["fragment"]
    # A body that is there must still be JSON.
    refused = admin.post(
        "/api/v1/issuer/keys/rotate", data="rotate", headers={"Content-Type": "text/plain"}
    )
    assert refused.status_code == 415


def test_a_body_with_required_fields_cannot_be_left_out(api, demo) -> None:
    number = demo["certificate"]["number"]
    refused = api("association_admin").post(f"/api/v1/certificates/{number}/suspend")
    assert refused.status_code == 415
    assert refused.get_json()["type"].endswith("/unsupported-media-type")
    assert api(None).get(f"/api/v1/register/certificates/{number}").get_json()["status"] == (
        "active"
    )


def test_the_openapi_document_says_which_bodies_may_be_left_out(api) -> None:
    paths = api(None).get("/api/v1/openapi.json").get_json()["paths"]
    assert paths["/api/v1/issuer/keys/rotate"]["post"]["requestBody"]["required"] is False
    suspend = paths["/api/v1/certificates/{number}/suspend"]["post"]["requestBody"]
    assert suspend["required"] is True
