"""Fixtures for the certificates tests: granted decisions and certificates made through the
real services (audits of issue 3, then issuance), a controllable clock, and the documents an
offline verifier would download."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audits import services as audits
from app.audits.demo import RESULTS
from app.audits.models import AuditKind, DecisionOutcome
from app.audits.schemas import MeasurementIn, ProductIn, SiteIn
from app.auth.models import Organisation, User
from app.auth.principal import Caller
from app.auth.services import caller_for
from app.brands.demo import BRAND_SLUG
from app.certificates import issuance
from app.certificates.models import Certificate
from app.db import utcnow
from app.verify import main as offline_main

HONGXIANG_GTINS = ["06923456789012", "06923456789029"]
SITE = SiteIn(name="红香茶业历口初制所", address="安徽省黄山市祁门县历口镇历溪村 18 号", gln=None)


def _caller(session: Session, email: str) -> Caller:
    user = session.scalar(select(User).where(User.email == email))
    assert user is not None
    return caller_for(user)


@pytest.fixture
def admin(session: Session) -> Caller:
    return _caller(session, "admin@qimen-tea.example")


@pytest.fixture
def association(session: Session) -> Organisation:
    found = session.scalar(select(Organisation).where(Organisation.slug == "qimen-tea-association"))
    assert found is not None
    return found


@pytest.fixture
def grant(session: Session, demo: dict[str, Any]) -> Callable[..., int]:
    """Audit a firm, sign off and grant (different people): returns the decision id."""

    def _grant(
        firm_slug: str = "hongxiang-tea",
        *,
        kind: AuditKind = AuditKind.INITIAL,
        outcome: DecisionOutcome = DecisionOutcome.GRANTED,
        gtins: list[str] | None = None,
    ) -> int:
        auditor = _caller(session, "auditor@qimen-tea.example")
        audit = audits.create_audit(
            session,
            auditor,
            brand_slug=BRAND_SLUG,
            firm_slug=firm_slug,
            standard_version_id=demo["standard"]["version_id"],
            kind=kind,
            products=[
                ProductIn(gtin=gtin, name_zh="祁门红茶", name_en="Qimen black tea")
                for gtin in (gtins or HONGXIANG_GTINS)
            ],
            sites=[SITE],
            audited_on=audits.today() - timedelta(days=3),
        )
        audits.record_measurements(
            session,
            auditor,
            audit.id,
            [MeasurementIn(criterion=k, value=v, finding=f) for k, v, f in RESULTS],
        )
        audits.sign_off(session, auditor, audit.id)
        decision = audits.decide(
            session,
            _caller(session, "admin@qimen-tea.example"),
            audit.id,
            outcome=outcome,
            reason="tested" if outcome == DecisionOutcome.GRANTED else "refused in a test",
        )
        session.commit()
        return decision.id

    return _grant


@pytest.fixture
def issue(session: Session, admin: Caller, grant: Callable[..., int]) -> Callable[..., Certificate]:
    """Issue (and commit, inside the test's transaction) a certificate on a fresh decision."""

    def _issue(decision_id: int | None = None, **options: Any) -> Certificate:
        options.setdefault("label_quota", 5000)
        certificate = issuance.issue_certificate(session, admin, decision_id or grant(), **options)
        session.commit()
        return certificate

    return _issue


class Clock:
    """Moves the certificates services' clock (keys, status lists, issuance) by an offset."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = timedelta(0)
        for module in (
            "app.certificates.keys",
            "app.certificates.status",
            "app.certificates.credentials",
            "app.certificates.issuance",
        ):
            monkeypatch.setattr(f"{module}.utcnow", self.now)

    def now(self) -> datetime:
        return utcnow() + self.offset

    def set(self, offset: timedelta) -> None:
        self.offset = offset


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def downloads(client: FlaskClient, tmp_path: Path) -> Callable[[Certificate], list[str]]:
    """Save what an offline verifier downloads for a certificate (credential, the issuer's DID
    document, both status lists, as served now) and return the verifier's arguments."""

    def _download(certificate: Certificate, credential: dict[str, Any] | None = None) -> list[str]:
        folder = tmp_path / f"{certificate.number}-{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        if credential is None:
            body = client.get(f"/certificates/{certificate.number}/credential.json").data
        else:
            body = json.dumps(credential).encode()
        (folder / "credential.json").write_bytes(body)
        did = client.get(f"/orgs/{certificate.issuer.slug}/did.json")
        assert did.status_code == 200
        (folder / "did.json").write_bytes(did.data)
        arguments = [
            "--credential",
            str(folder / "credential.json"),
            "--did",
            str(folder / "did.json"),
        ]
        for entry in json.loads(body).get("credentialStatus", []):
            url = entry["statusListCredential"]
            served = client.get(url.removeprefix("https://brand.example.test"))
            assert served.status_code == 200
            name = folder / f"{entry['statusPurpose']}.json"
            name.write_bytes(served.data)
            arguments += ["--status-list", str(name)]
        return arguments

    return _download


@pytest.fixture
def offline(
    capsys: pytest.CaptureFixture[str],
) -> Callable[[list[str]], tuple[int, dict[str, Any]]]:
    """Run the offline verifier in-process; returns (exit code, JSON report)."""

    def _run(arguments: list[str]) -> tuple[int, dict[str, Any]]:
        capsys.readouterr()
        code = offline_main([*arguments, "--json"])
        return code, json.loads(capsys.readouterr().out)

    return _run


@pytest.fixture
def verify_api(api: Any) -> Callable[[Any], dict[str, Any]]:
    """Verify through ``POST /api/v1/verify/credential`` (anonymous) and return the report."""

    def _verify(credential: Any) -> dict[str, Any]:
        response = api(None).post(
            "/api/v1/verify/credential", json={"verifiableCredential": credential}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()  # type: ignore[no-any-return]

    return _verify
