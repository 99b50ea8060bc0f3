"""Issuer keys and DID documents: did:web, rotation, revocation, and private keys that never
leave the database row they are sealed in."""

from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.certificates import keys
from app.certificates.did import did_web, did_web_document_url
from app.certificates.keys import _seal_label
from app.certificates.models import IssuerKey, KeyStatus
from app.certificates.multibase import b64url_encode, encode_ed25519_secret_multikey
from app.db import utcnow
from app.keystore import open_private_key

DID = "did:web:brand.example.test:orgs:qimen-tea-association"


def test_did_web_identifiers_and_document_urls() -> None:
    assert (
        did_web("https://brand.example.org", "orgs", "qimen")
        == "did:web:brand.example.org:orgs:qimen"
    )
    with_port = did_web("http://127.0.0.1:5000", "orgs", "qimen")
    assert with_port == "did:web:127.0.0.1%3A5000:orgs:qimen"
    assert did_web_document_url(with_port) == "https://127.0.0.1:5000/orgs/qimen/did.json"
    assert did_web_document_url("did:web:example.com") == "https://example.com/.well-known/did.json"


def test_the_did_document_lists_the_key_as_a_multikey_for_assertions(client) -> None:
    response = client.get("/orgs/qimen-tea-association/did.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "max-age" in response.headers["Cache-Control"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = response.get_json()
    assert document["@context"][:2] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    assert document["id"] == DID
    method = document["verificationMethod"][0]
    assert method["type"] == "Multikey"
    assert method["controller"] == DID
    assert method["publicKeyMultibase"].startswith("z6Mk")
    assert method["id"] in document["assertionMethod"]
    assert "validFrom" in method
    again = client.get(
        "/orgs/qimen-tea-association/did.json", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize("slug", ["hongxiang-tea", "nobody"])
def test_only_associations_have_did_documents(client, slug) -> None:
    response = client.get(f"/orgs/{slug}/did.json", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_the_context_document_is_served(client) -> None:
    response = client.get("/contexts/brandtrace/v1")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    terms = response.get_json()["@context"]
    assert terms["@protected"] is True
    assert terms["certificateNumber"].startswith("https://brand.example.test/contexts/")


def test_keys_api_lists_windows(api) -> None:
    response = api("association_staff").get("/api/v1/issuer/keys")
    assert response.status_code == 200
    body = response.get_json()
    assert body["did"] == DID
    assert (
        body["did_document_url"] == "https://brand.example.test/orgs/qimen-tea-association/did.json"
    )
    assert [key["status"] for key in body["keys"]] == ["active"]


def test_rotation_keeps_every_key_in_the_document_with_windows(api, client) -> None:
    first = api("association_admin").post("/api/v1/issuer/keys/rotate", json={})
    second = api("association_admin").post("/api/v1/issuer/keys/rotate", json={"reason": "yearly"})
    assert first.status_code == second.status_code == 201
    body = second.get_json()
    assert body["retired"]["status"] == "retired"
    assert body["active"]["status"] == "active"
    document = client.get("/orgs/qimen-tea-association/did.json").get_json()
    methods = document["verificationMethod"]
    assert len(methods) == 3
    assert [("validUntil" in m) for m in methods] == [True, True, False]
    assert document["assertionMethod"] == [m["id"] for m in methods]
    # Windows chain: each key ends when the next begins.
    assert methods[1]["validUntil"] == methods[2]["validFrom"]
    listed = api("association_admin").get("/api/v1/issuer/keys").get_json()["keys"]
    assert [k["status"] for k in listed] == ["retired", "retired", "active"]


def test_status_lists_are_re_signed_by_the_new_key_after_rotation(api, client, demo) -> None:
    url = demo["certificate"]["status_list_urls"][0].removeprefix("https://brand.example.test")
    before = client.get(url).get_json()["proof"]["verificationMethod"]
    active = api("association_admin").post("/api/v1/issuer/keys/rotate", json={}).get_json()
    after = client.get(url).get_json()["proof"]["verificationMethod"]
    assert before != after
    assert after.endswith("#" + active["active"]["fragment"])


def test_revoking_bad_input_is_precise(api) -> None:
    admin = api("association_admin")
    future = admin.post(
        "/api/v1/issuer/keys/key-1/revoke",
        json={"revoked_from": (utcnow() + timedelta(days=1)).isoformat(), "reason": "x"},
    )
    assert future.status_code == 422
    assert future.get_json()["type"].endswith("/problems/invalid-revocation-date")
    assert future.get_json()["errors"][0]["field"] == "revoked_from"
    unknown = admin.post("/api/v1/issuer/keys/key-99/revoke", json={"reason": "x"})
    assert unknown.status_code == 404
    assert unknown.get_json()["type"].endswith("/problems/issuer-key-not-found")
    naive = admin.post(
        "/api/v1/issuer/keys/key-1/revoke",
        json={"revoked_from": "2026-01-01T00:00:00", "reason": "x"},
    )
    assert naive.status_code == 422
    no_reason = admin.post("/api/v1/issuer/keys/key-1/revoke", json={})
    assert no_reason.status_code == 422
    blank = admin.post("/api/v1/issuer/keys/key-1/revoke", json={"reason": "  "})
    assert blank.status_code == 422
    assert blank.get_json()["errors"][0]["field"] == "/reason"
    assert admin.get("/api/v1/issuer/keys").get_json()["keys"][0]["status"] == "active"


def test_revoking_the_active_key_rotates_and_cannot_be_repeated(api, client) -> None:
    admin = api("association_admin")
    response = admin.post("/api/v1/issuer/keys/key-1/revoke", json={"reason": "laptop stolen"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["key"]["status"] == "revoked"
    assert body["key"]["revocation_reason"] == "laptop stolen"
    assert body["replacement"]["status"] == "active"
    method = client.get("/orgs/qimen-tea-association/did.json").get_json()["verificationMethod"][0]
    assert method["revoked"] == body["key"]["revoked_at"].replace("+00:00", "Z")
    again = admin.post("/api/v1/issuer/keys/key-1/revoke", json={"reason": "again"})
    assert again.status_code == 409
    assert again.get_json()["type"].endswith("/problems/issuer-key-already-revoked")


def test_key_cli_lists_rotates_and_revokes(app, session) -> None:
    runner = app.test_cli_runner()
    rotated = runner.invoke(args=["keys", "rotate", "--org", "qimen-tea-association"])
    assert rotated.exit_code == 0, rotated.output
    assert "active #key-2" in rotated.output

    def revoke(since: str) -> Any:
        return runner.invoke(
            args=[
                "keys",
                "revoke",
                "--org",
                "qimen-tea-association",
                "--key",
                "key-1",
                "--from",
                since,
                "--reason",
                "test",
            ]
        )

    before_the_key = revoke("2020-01-01T00:00:00Z")
    assert before_the_key.exit_code == 1 and "signs only from" in before_the_key.output
    first = session.scalar(select(IssuerKey).where(IssuerKey.fragment == "key-1"))
    revoked = revoke(first.valid_from.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert revoked.exit_code == 0, revoked.output
    listed = runner.invoke(args=["keys", "list", "--org", "qimen-tea-association"])
    assert "#key-1\trevoked" in listed.output and "#key-2\tactive" in listed.output
    bad = runner.invoke(
        args=[
            "keys",
            "revoke",
            "--org",
            "qimen-tea-association",
            "--key",
            "key-1",
            "--from",
            "yesterday",
            "--reason",
            "x",
        ]
    )
    assert bad.exit_code != 0
    firm = runner.invoke(args=["keys", "rotate", "--org", "hongxiang-tea"])
    assert firm.exit_code == 1 and "Only associations" in firm.output


def test_key_cli_refuses_a_revocation_without_a_reason_and_a_firm_has_no_keys(app, session) -> None:
    # The reason is public (DID document, log, portal): the API refuses an empty one, so the
    # command does too, before anything changes.
    runner = app.test_cli_runner()
    empty = runner.invoke(
        args=["keys", "revoke", "--org", "qimen-tea-association", "--key", "key-1", "--reason", ""]
    )
    assert empty.exit_code == 2, empty.output
    assert "--reason" in empty.output
    key = session.scalar(select(IssuerKey).where(IssuerKey.fragment == "key-1"))
    session.refresh(key)
    assert key.revoked_at is None and key.status.value == "active"
    # A firm publishes no DID document: listing "its" keys names a DID that leads nowhere.
    firm = runner.invoke(args=["keys", "list", "--org", "hongxiang-tea"])
    assert firm.exit_code == 1 and "Only associations" in firm.output
    assert "did:web" not in firm.output


def test_private_keys_never_leave_their_sealed_row(app, api, client, session, demo, caplog) -> None:
    """Every public document and API answer, and every log line, is free of private key
    material in any encoding; the row holds it only sealed."""
    caplog.set_level(logging.DEBUG)
    admin = api("association_admin")
    seen: list[str] = [json.dumps(demo)]
    seen.append(admin.post("/api/v1/issuer/keys/rotate", json={}).get_data(as_text=True))
    seen.append(
        admin.post("/api/v1/issuer/keys/key-1/revoke", json={"reason": "test"}).get_data(
            as_text=True
        )
    )
    number = demo["certificate"]["number"]
    for path in (
        "/orgs/qimen-tea-association/did.json",
        f"/certificates/{number}",
        f"/certificates/{number}/credential.json",
        "/certificates",
        *(
            url.removeprefix("https://brand.example.test")
            for url in demo["certificate"]["status_list_urls"]
        ),
    ):
        seen.append(client.get(path).get_data(as_text=True))
    for path in ("/api/v1/issuer/keys", f"/api/v1/certificates/{number}"):
        seen.append(admin.get(path).get_data(as_text=True))
    seen.append(api(None).get(f"/api/v1/register/certificates/{number}").get_data(as_text=True))
    seen.append(
        api(None)
        .post(
            "/api/v1/verify/credential",
            json={"verifiableCredential": json.loads(seen[5])},
        )
        .get_data(as_text=True)
    )
    seen.append(caplog.text)
    haystack = "\n".join(seen)

    rows = session.scalars(select(IssuerKey)).all()
    assert len(rows) >= 2 and {row.status for row in rows} >= {KeyStatus.ACTIVE}
    for row in rows:
        private = open_private_key(
            row.sealed_private_key,
            label=_seal_label(row.public_key_multibase),
            secret_key=app.config["SECRET_KEY"],
        )
        raw = private.private_bytes_raw()
        assert private.public_key().public_bytes_raw() != raw
        for encoding in (
            raw.hex(),
            raw.hex().upper(),
            base64.b64encode(raw).decode().rstrip("="),
            b64url_encode(raw),
            encode_ed25519_secret_multikey(raw),
            row.sealed_private_key,
            json.loads(row.sealed_private_key)["ciphertext"],
        ):
            assert encoding not in haystack
        assert raw.hex() not in row.sealed_private_key


def test_a_fresh_process_opens_the_sealed_key_to_sign(api, demo, monkeypatch) -> None:
    # A server worker starts with no key opened: the first change that signs reads the sealed
    # key from its row (the demo's seeding opened it in this process, so start afresh).
    monkeypatch.setattr(keys, "_OPENED", {})
    number = demo["certificate"]["number"]
    response = api("association_admin").post(
        f"/api/v1/certificates/{number}/suspend", json={"reason": "surveillance audit overdue"}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "suspended"
    assert len(keys._OPENED) == 1


def test_revocation_lists_only_live_certificates_to_re_issue(api, issue, admin, session) -> None:
    """Cancelled, withdrawn and superseded certificates cannot be re-issued: the revocation
    names only the live ones (active or suspended) the key signed."""
    from app.certificates import credentials

    rotated = api("association_admin").post("/api/v1/issuer/keys/rotate", json={}).get_json()
    fragment = rotated["active"]["fragment"]
    active, suspended, cancelled, withdrawn, replaced = (issue() for _ in range(5))
    credentials.suspend_certificate(session, admin, suspended.number, reason="inquiry")
    credentials.cancel_certificate(session, admin, cancelled.number, reason="holder stops")
    credentials.withdraw_certificate(session, admin, withdrawn.number, reason="sanction")
    replacement = credentials.reissue_certificate(
        session, admin, replaced.number, gtins=None, sites=None, label_quota=9000, reason="more"
    )
    session.commit()
    response = api("association_admin").post(
        f"/api/v1/issuer/keys/{fragment}/revoke",
        json={"revoked_from": rotated["active"]["valid_from"], "reason": "key leaked"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["affected_certificates"] == [
        active.number,
        suspended.number,
        replacement.number,
    ]


def test_revoking_from_before_the_key_existed_is_refused(api, session) -> None:
    admin = api("association_admin")
    rotated = admin.post("/api/v1/issuer/keys/rotate", json={}).get_json()["active"]
    fragment = rotated["fragment"]
    key = session.scalar(select(IssuerKey).where(IssuerKey.fragment == fragment))
    keys_before = len(session.scalars(select(IssuerKey)).all())
    too_early = (key.valid_from - timedelta(days=1)).isoformat()
    response = admin.post(
        f"/api/v1/issuer/keys/{fragment}/revoke", json={"revoked_from": too_early, "reason": "x"}
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert body["type"].endswith("/problems/invalid-revocation-date")
    assert body["errors"][0]["field"] == "revoked_from"
    assert body["errors"][0]["rule"] == "not_before_key"
    assert body["key_valid_from"] == rotated["valid_from"].replace("+00:00", "Z")
    assert f"Key {fragment} signs only from" in body["detail"]
    chinese = admin.post(
        f"/api/v1/issuer/keys/{fragment}/revoke",
        json={"revoked_from": too_early, "reason": "x"},
        headers={"Accept-Language": "zh-CN"},
    ).get_json()
    assert "起" in chinese["detail"] and fragment in chinese["detail"]
    session.expire_all()
    assert session.get(IssuerKey, key.id).status == KeyStatus.ACTIVE
    assert len(session.scalars(select(IssuerKey)).all()) == keys_before
    # From the key's first instant on is accepted.
    accepted = admin.post(
        f"/api/v1/issuer/keys/{fragment}/revoke",
        json={"revoked_from": key.valid_from.isoformat(), "reason": "x"},
    )
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
