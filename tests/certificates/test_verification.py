"""The verification API and the offline verifier reach the same verdict, case by case: valid,
suspended, reinstated, revoked (withdrawn or cancelled), tampered, wrong cryptosuite, wrong key
type, malformed multibase; the W3C vector; key rotation and key revocation."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.certificates import keys
from app.certificates.dataintegrity import add_proof, format_created
from app.db import utcnow
from app.verify import main as offline_main
from tests.vectors import vector_path

ROOT = Path(__file__).resolve().parents[2]
SECP256K1_DID_KEY = "did:key:zQ3sgkxA1r9UUKeDtF6gRP5t3pbNSemByHZ3XvvkoJLg8DUrj"


def _checks(report: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {check["name"]: (check["status"], check["code"]) for check in report["checks"]}


def _both(verify_api, downloads, offline, certificate, credential=None):
    """Verify with the API and offline; assert they agree; return the API report."""
    served = credential or json.loads(certificate.credential_json)
    api_report = verify_api(served)
    code, offline_report = offline(downloads(certificate, served))
    assert offline_report["verdict"] == api_report["verdict"], (api_report, offline_report)
    assert code == {"valid": 0, "invalid": 1, "indeterminate": 2}[api_report["verdict"]]
    api_checks, offline_checks = _checks(api_report), _checks(offline_report)
    for name in api_checks:
        if name in ("registered", "standard_version_known"):
            # Only the service can consult the register and the standards.
            assert offline_checks[name] == ("skip", "NOT_CHECKED_OFFLINE")
        else:
            assert api_checks[name] == offline_checks[name], name
    return api_report


def test_a_certificate_verifies_through_the_api_and_offline(
    issue, verify_api, downloads, offline
) -> None:
    certificate = issue()
    report = _both(verify_api, downloads, offline, certificate)
    assert report["verdict"] == "valid"
    checks = _checks(report)
    assert all(status == "pass" for status, _ in checks.values()), checks
    assert report["register_entry"]["number"] == certificate.number
    assert report["register_entry"]["in_force"] is True


def test_suspending_flips_the_verdict_in_both_and_reinstating_flips_it_back(
    issue, api, verify_api, downloads, offline
) -> None:
    certificate = issue()
    admin = api("association_admin")
    suspended = admin.post(
        f"/api/v1/certificates/{certificate.number}/suspend",
        json={"reason": "lead sample under re-test"},
    )
    assert suspended.status_code == 200, suspended.get_data(as_text=True)
    report = _both(verify_api, downloads, offline, certificate)
    assert report["verdict"] == "invalid"
    assert _checks(report)["suspension"] == ("fail", "SUSPENDED")
    assert _checks(report)["revocation"] == ("pass", None)
    assert report["register_entry"]["status"] == "suspended"

    reinstated = admin.post(
        f"/api/v1/certificates/{certificate.number}/reinstate", json={"reason": "re-test passed"}
    )
    assert reinstated.status_code == 200
    report = _both(verify_api, downloads, offline, certificate)
    assert report["verdict"] == "valid"


def test_withdrawal_revokes_in_both(issue, api, verify_api, downloads, offline) -> None:
    certificate = issue()
    withdrawn = api("association_staff").post(
        f"/api/v1/certificates/{certificate.number}/withdraw", json={"reason": "fraud"}
    )
    assert withdrawn.status_code == 200
    report = _both(verify_api, downloads, offline, certificate)
    assert report["verdict"] == "invalid"
    assert _checks(report)["revocation"] == ("fail", "REVOKED")


def test_cancellation_revokes_in_both(issue, api, verify_api, downloads, offline) -> None:
    certificate = issue()
    cancelled = api("firm_admin").post(
        f"/api/v1/certificates/{certificate.number}/cancel", json={"reason": "left the brand"}
    )
    assert cancelled.status_code == 200, cancelled.get_data(as_text=True)
    report = _both(verify_api, downloads, offline, certificate)
    assert report["verdict"] == "invalid"
    assert _checks(report)["revocation"] == ("fail", "REVOKED")
    assert _checks(report)["suspension"] == ("pass", None)
    assert report["register_entry"]["status"] == "cancelled"
    assert report["register_entry"]["in_force"] is False


def _tamper_quota(document: dict[str, Any]) -> None:
    document["credentialSubject"]["markLicence"]["labelQuota"] = 10_000_000


def _tamper_cryptosuite(document: dict[str, Any]) -> None:
    document["proof"]["cryptosuite"] = "eddsa-rdfc-2022"


def _tamper_multibase(document: dict[str, Any]) -> None:
    document["proof"]["proofValue"] = "z0OIl" + document["proof"]["proofValue"][5:]


def _tamper_validity(document: dict[str, Any]) -> None:
    document["validUntil"] = "2099-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("tamper", "check", "code"),
    [
        (_tamper_quota, "signature", "INVALID_SIGNATURE"),
        (_tamper_validity, "signature", "INVALID_SIGNATURE"),
        (_tamper_cryptosuite, "signature", "UNKNOWN_CRYPTOSUITE"),
        (_tamper_multibase, "signature", "MALFORMED_MULTIBASE"),
    ],
)
def test_tampered_credentials_are_invalid_in_both(
    issue, verify_api, downloads, offline, tamper, check, code
) -> None:
    certificate = issue()
    document = json.loads(certificate.credential_json)
    tamper(document)
    report = _both(verify_api, downloads, offline, certificate, document)
    assert report["verdict"] == "invalid"
    assert _checks(report)[check] == ("fail", code)


def test_a_foreign_key_type_is_refused_in_both(issue, verify_api, downloads, offline) -> None:
    certificate = issue()
    document = json.loads(certificate.credential_json)
    # A key that is not the issuer's, and not Ed25519 either.
    document["proof"]["verificationMethod"] = SECP256K1_DID_KEY + "#" + SECP256K1_DID_KEY[8:]
    report = _both(verify_api, downloads, offline, certificate, document)
    assert report["verdict"] == "invalid"
    assert _checks(report)["key_valid_when_signed"] == ("fail", "KEY_NOT_ISSUERS")


def test_a_did_key_credential_with_a_secp256k1_key_is_wrong_key_type(verify_api, tmp_path, offline):
    vector = json.loads(vector_path("vc-di-eddsa", "eddsa-jcs-2022", "signedJCS.json").read_text())
    vector["proof"]["verificationMethod"] = SECP256K1_DID_KEY + "#" + SECP256K1_DID_KEY[8:]
    api_report = verify_api(vector)
    path = tmp_path / "vector.json"
    path.write_text(json.dumps(vector))
    code, offline_report = offline(["--credential", str(path)])
    for report in (api_report, offline_report):
        assert report["verdict"] == "invalid"
        assert _checks(report)["key_valid_when_signed"] == ("fail", "WRONG_KEY_TYPE")
        assert _checks(report)["signature"][0] == "fail"
    assert code == 1


def test_the_w3c_vector_passes_the_api_and_the_offline_verifier(verify_api, offline) -> None:
    path = vector_path("vc-di-eddsa", "eddsa-jcs-2022", "signedJCS.json")
    api_report = verify_api(json.loads(path.read_text()))
    code, offline_report = offline(["--credential", str(path)])
    assert api_report["verdict"] == offline_report["verdict"] == "valid"
    assert code == 0
    assert _checks(api_report) == _checks(offline_report)
    assert _checks(api_report)["signature"] == ("pass", None)
    assert api_report["register_entry"] is None


def test_the_offline_verifier_runs_as_a_module_with_exit_codes(issue, downloads, tmp_path) -> None:
    certificate = issue()
    arguments = downloads(certificate)
    valid = subprocess.run(
        [sys.executable, "-m", "app.verify", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert valid.returncode == 0, valid.stderr
    assert "verdict: valid" in valid.stdout
    # Without the status lists the verdict cannot be reached: indeterminate, exit 2.
    partial = subprocess.run(
        [sys.executable, "-m", "app.verify", *arguments[:4]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert partial.returncode == 2
    assert "STATUS_LIST_UNAVAILABLE" in partial.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "app.verify", "--credential", str(tmp_path / "nope.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2 and "cannot read the credential" in missing.stderr


def test_a_truncated_credential_file_is_invalid_offline(issue, downloads, offline) -> None:
    certificate = issue()
    arguments = downloads(certificate)
    path = Path(arguments[1])
    path.write_bytes(path.read_bytes()[:200])
    code, report = offline(arguments)
    assert code == 1
    assert _checks(report)["well_formed"] == ("fail", "MALFORMED_JSON")


def test_a_file_given_in_the_wrong_place_is_named_offline(issue, downloads, capsys) -> None:
    # An inspector who swaps the files is told which file is what, not that the issuer's
    # DID document or a status list "was not given".
    arguments = downloads(issue())
    credential, did, revocation = arguments[1], arguments[3], arguments[5]
    cases = [
        (["--credential", credential, "--did", revocation], revocation, "not a DID document"),
        (["--credential", credential, "--did", credential], credential, "not a DID document"),
        (
            ["--credential", credential, "--did", did, "--status-list", did],
            did,
            "not a status list credential (it is a DID document)",
        ),
    ]
    for case, path, words in cases:
        capsys.readouterr()
        assert offline_main(case) == 2
        error = capsys.readouterr().err
        assert error.startswith(f"error: {path} is {words}"), error
        assert "Traceback" not in error


def test_deeply_nested_files_are_refused_without_a_traceback(
    issue, downloads, offline, capsys
) -> None:
    arguments = downloads(issue())
    nested = "[" * 100_000 + "]" * 100_000
    Path(arguments[1]).write_text(nested)
    code, report = offline(arguments)
    assert code == 1
    assert _checks(report)["well_formed"] == ("fail", "MALFORMED_JSON")
    Path(arguments[3]).write_text(nested)
    capsys.readouterr()
    assert offline_main(arguments) == 2
    assert "is not JSON: nested too deeply" in capsys.readouterr().err


def test_rotation_keeps_old_certificates_valid(
    issue, api, verify_api, downloads, offline, clock
) -> None:
    # A key in use from three hours ago (the demo's key is younger than that).
    clock.set(-timedelta(hours=3))
    assert api("association_admin").post("/api/v1/issuer/keys/rotate", json={}).status_code == 201
    clock.set(-timedelta(hours=2))
    old = issue()
    clock.set(timedelta(0))
    rotated = api("association_admin").post("/api/v1/issuer/keys/rotate", json={})
    assert rotated.status_code == 201, rotated.get_data(as_text=True)
    body = rotated.get_json()
    assert (
        body["retired"]["fragment"]
        == json.loads(old.credential_json)["proof"]["verificationMethod"].rsplit("#", 1)[1]
    )
    assert body["retired"]["valid_until"] is not None
    new = issue()
    assert json.loads(new.credential_json)["proof"]["verificationMethod"].endswith(
        "#" + body["active"]["fragment"]
    )
    for certificate in (old, new):
        assert _both(verify_api, downloads, offline, certificate)["verdict"] == "valid"


def test_a_revoked_key_invalidates_signatures_made_after_its_revocation_date(
    issue, api, verify_api, downloads, offline, clock
) -> None:
    clock.set(-timedelta(hours=3))
    rotated = api("association_admin").post("/api/v1/issuer/keys/rotate", json={}).get_json()
    fragment = rotated["active"]["fragment"]
    before = issue()
    clock.set(-timedelta(hours=1))
    after = issue()
    clock.set(timedelta(0))
    revoked_from = (before.issued_at + timedelta(minutes=30)).isoformat()
    response = api("association_admin").post(
        f"/api/v1/issuer/keys/{fragment}/revoke",
        json={"revoked_from": revoked_from, "reason": "key leaked"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["affected_certificates"] == [after.number]
    assert body["replacement"] is not None
    assert _both(verify_api, downloads, offline, before)["verdict"] == "valid"
    report = _both(verify_api, downloads, offline, after)
    assert report["verdict"] == "invalid"
    assert _checks(report)["key_valid_when_signed"] == ("fail", "KEY_REVOKED")
    # The signature itself is intact: the key was simply no longer trusted.
    assert _checks(report)["signature"] == ("pass", None)


def test_a_certificate_minted_outside_the_register_is_caught_by_the_register_check(
    issue, verify_api, downloads, offline, session, association
) -> None:
    """An insider signing with the real key cannot mint a certificate the register lacks.

    Offline, the signature and key are all there is to check, so only the service, which
    consults the register, can tell: the one place where the two verdicts differ."""
    certificate = issue()
    document = json.loads(certificate.credential_json)
    del document["proof"]
    document["credentialSubject"]["certificateNumber"] = "QTA-2026-999999"
    document["id"] = document["id"].replace(certificate.number, "QTA-2026-999999")
    signing = keys.signing_key(session, association)
    minted = add_proof(
        document,
        signing.private_key,
        verification_method=signing.verification_method,
        created=format_created(utcnow()),
    )
    report = verify_api(minted)
    assert report["verdict"] == "invalid"
    assert _checks(report)["registered"] == ("fail", "NOT_REGISTERED")
    assert _checks(report)["signature"] == ("pass", None)
    code, offline_report = offline(downloads(certificate, minted))
    assert code == 0 and _checks(offline_report)["registered"] == ("skip", "NOT_CHECKED_OFFLINE")


def test_a_forged_issuer_of_this_host_is_unknown(verify_api, issue) -> None:
    document = json.loads(issue().credential_json)
    forged = copy.deepcopy(document)
    forged["issuer"]["id"] = "did:web:brand.example.test:orgs:nobody"
    report = verify_api(forged)
    assert report["verdict"] == "invalid"
    assert _checks(report)["issuer_known"] == ("fail", "ISSUER_UNKNOWN")


def test_verification_bad_input_is_precise(api) -> None:
    client = api(None)
    malformed = client.post(
        "/api/v1/verify/credential",
        data='{"verifiableCredential": {"@context": [',
        headers={"Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert malformed.get_json()["type"].endswith("/problems/malformed-json")
    not_object = client.post("/api/v1/verify/credential", json={"verifiableCredential": [1]})
    assert not_object.status_code == 422
    assert not_object.get_json()["errors"][0]["field"] == "/verifiableCredential"
    missing = client.post("/api/v1/verify/credential", json={})
    assert missing.status_code == 422
    garbage = client.post(
        "/api/v1/verify/credential", json={"verifiableCredential": {"hello": "world"}}
    )
    assert garbage.status_code == 200
    assert garbage.get_json()["verdict"] == "invalid"
    assert _checks(garbage.get_json())["well_formed"] == ("fail", "INVALID_CONTEXT")


def test_verification_is_rate_limited(api, app) -> None:
    app.config["CERTIFICATES_VERIFY_RATE"] = "2 per minute"
    try:
        client = api(None)
        statuses = [
            client.post("/api/v1/verify/credential", json={"verifiableCredential": {}}).status_code
            for _ in range(3)
        ]
    finally:
        app.config.pop("CERTIFICATES_VERIFY_RATE")
    assert statuses == [200, 200, 429]
