"""A certificate signed by a key revoked from an instant at or before its proof is not in force:
the page, the API, the register and the verifier all say so, with the reason ``key_revoked``;
one signed before the revocation instant stays in force, and re-issuing restores it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from app.certificates import credentials
from app.certificates.models import Certificate


def _revoked_between(api, issue, clock) -> tuple[Certificate, Certificate, str]:
    """Two certificates signed by one key, an hour apart, and the key revoked from between
    them: (signed before the revocation instant, signed after it, key fragment)."""
    clock.set(-timedelta(hours=3))
    rotated = api("association_admin").post("/api/v1/issuer/keys/rotate", json={}).get_json()
    fragment = rotated["active"]["fragment"]
    before = issue()
    clock.set(-timedelta(hours=1))
    after = issue()
    clock.set(timedelta(0))
    response = api("association_admin").post(
        f"/api/v1/issuer/keys/{fragment}/revoke",
        json={
            "revoked_from": (before.issued_at + timedelta(minutes=30)).isoformat(),
            "reason": "key leaked",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["affected_certificates"] == [after.number]
    return before, after, fragment


def _entry(api, number: str) -> dict[str, Any]:
    found = api(None).get(f"/api/v1/register/certificates/{number}")
    assert found.status_code == 200
    return found.get_json()  # type: ignore[no-any-return]


def test_a_certificate_signed_after_its_keys_revocation_instant_is_not_in_force(
    api, issue, clock, client, session, verify_api
) -> None:
    before, after, _ = _revoked_between(api, issue, clock)

    # The register's own entry, the issuer's API and the register search agree.
    entry = _entry(api, after.number)
    assert entry["status"] == "active"
    assert entry["in_force"] is False and entry["not_in_force_because"] == "key_revoked"
    issuer_view = api("association_admin").get(f"/api/v1/certificates/{after.number}")
    assert issuer_view.get_json()["not_in_force_because"] == "key_revoked"
    found = api(None).get("/api/v1/register/certificates", query_string={"q": after.number})
    [line] = found.get_json()["items"]
    assert line["in_force"] is False and line["not_in_force_because"] == "key_revoked"
    # ... and with the verifier, which refuses the signature (KEY_REVOKED).
    report = verify_api(json.loads(after.credential_json))
    assert report["verdict"] == "invalid"
    assert report["register_entry"]["in_force"] is False

    english = client.get(f"/certificates/{after.number}?lang=en").get_data(as_text=True)
    assert "Not in force" in english and "In force" not in english
    assert "Signed with a revoked key: the association must re-issue it" in english
    chinese = client.get(f"/certificates/{after.number}?lang=zh-CN").get_data(as_text=True)
    assert "签名密钥已被吊销，须由协会重新签发" in chinese
    listed = client.get(f"/certificates?q={after.number}&lang=zh-CN").get_data(as_text=True)
    assert "签名密钥已被吊销" in listed

    # Signed before the revocation instant: still trusted, still in force.
    kept = _entry(api, before.number)
    assert kept["in_force"] is True and kept["not_in_force_because"] is None
    assert "In force" in client.get(f"/certificates/{before.number}?lang=en").get_data(as_text=True)


def test_the_standing_uses_the_verifiers_rule_to_the_second(
    api, issue, clock, session, association
) -> None:
    """Revoked from the very second of the proof's ``created``: refused, as the verifier does
    (created >= revoked); revoked from the next second: kept."""
    clock.set(-timedelta(hours=2))
    first = api("association_admin").post("/api/v1/issuer/keys/rotate", json={}).get_json()
    at_second = issue()
    clock.set(-timedelta(hours=1))
    second = api("association_admin").post("/api/v1/issuer/keys/rotate", json={}).get_json()
    next_second = issue()
    clock.set(timedelta(0))
    admin = api("association_admin")
    for fragment, instant in (
        (first["active"]["fragment"], credentials.proof_created(at_second)),
        (
            second["active"]["fragment"],
            credentials.proof_created(next_second) + timedelta(seconds=1),
        ),
    ):
        response = admin.post(
            f"/api/v1/issuer/keys/{fragment}/revoke",
            json={"revoked_from": instant.isoformat(), "reason": "key leaked"},
        )
        assert response.status_code == 200, response.get_data(as_text=True)
    assert _entry(api, at_second.number)["not_in_force_because"] == "key_revoked"
    assert _entry(api, next_second.number)["in_force"] is True


def test_a_revocation_from_the_future_is_refused_and_changes_nothing(api, issue) -> None:
    certificate = issue()
    fragment = certificate.issuer_key.fragment
    refused = api("association_admin").post(
        f"/api/v1/issuer/keys/{fragment}/revoke",
        json={"revoked_from": "2999-01-01T00:00:00Z", "reason": "key leaked"},
    )
    assert refused.status_code == 422
    assert _entry(api, certificate.number)["in_force"] is True


def test_re_issuing_with_the_new_key_puts_the_certificate_back_in_force(
    api, issue, clock, client
) -> None:
    _, after, _ = _revoked_between(api, issue, clock)
    assert _entry(api, after.number)["not_in_force_because"] == "key_revoked"
    response = api("association_admin").post(
        f"/api/v1/certificates/{after.number}/reissue",
        json={"reason": "signing key revoked: re-issued with the new key"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    renewed = response.get_json()
    assert renewed["in_force"] is True and renewed["not_in_force_because"] is None
    assert _entry(api, renewed["number"])["in_force"] is True
    assert _entry(api, after.number)["not_in_force_because"] == "superseded"
    page = client.get(f"/certificates/{renewed['number']}?lang=en").get_data(as_text=True)
    assert "In force" in page and "revoked key" not in page
