"""The demo's certificates: one in force, one suspended, described in ``demo seed --json``."""

from __future__ import annotations

from sqlalchemy import func, select

from app.certificates.models import Certificate, IssuerKey
from app.demo.seed import seed_demo

KEYS = {"id", "number", "url", "vc_url", "issuer_did", "status_list_urls"}


def test_demo_json_describes_both_certificates(demo, api) -> None:
    assert set(demo["certificate"]) >= KEYS and set(demo["certificate_suspended"]) >= KEYS
    assert demo["certificate"]["issuer_did"] == (
        "did:web:brand.example.test:orgs:qimen-tea-association"
    )
    entry = api(None).get(f"/api/v1/register/certificates/{demo['certificate']['number']}")
    assert entry.get_json()["in_force"] is True
    suspended = api(None).get(
        f"/api/v1/register/certificates/{demo['certificate_suspended']['number']}"
    )
    assert suspended.get_json()["status"] == "suspended"


def test_seeding_again_issues_nothing_new(app, session, demo) -> None:
    def counts() -> tuple[int, int]:
        return (
            session.scalar(select(func.count()).select_from(Certificate)),
            session.scalar(select(func.count()).select_from(IssuerKey)),
        )

    before = counts()
    again = seed_demo(session, app.config["BASE_URL"])
    session.flush()
    assert counts() == before
    for key in ("certificate", "certificate_suspended"):
        assert again[key]["number"] == demo[key]["number"]
