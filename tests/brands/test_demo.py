"""The demo's brand, standard and audit: present, described in ``demo seed --json``, idempotent."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from app.audits.models import Audit, AuditDecision
from app.brands.models import Brand, Membership
from app.demo.seed import seed_demo
from app.files.models import StoredFile
from app.standards.models import Criterion, StandardVersion


def test_demo_json_describes_brand_standard_and_decision(demo, client) -> None:
    base = demo["base_url"]
    assert demo["brand"] == {"slug": "qimen-black-tea", "url": f"{base}/brands/qimen-black-tea"}
    standard = demo["standard"]
    assert (standard["code"], standard["version"]) == ("T/QMTA 001-2024", "1.0")
    assert standard["url"].startswith(f"{base}/brands/qimen-black-tea/standards/")
    canonical = client.get(f"/api/v1/standard-versions/{standard['version_id']}/canonical")
    assert hashlib.sha256(canonical.data).hexdigest() == standard["content_hash"]
    assert (
        demo["audit_decision"]["url"]
        == f"{base}/api/v1/audit-decisions/{demo['audit_decision']['id']}"
    )
    for key in ("tokens", "users", "organisations", "base_url"):
        assert key in demo


def test_demo_standard_has_realistic_criteria(session, demo) -> None:
    version = session.get(StandardVersion, demo["standard"]["version_id"])
    keys = {c.key: c for c in version.criteria}
    assert len(keys) >= 8
    assert (keys["moisture"].comparator, keys["moisture"].threshold) == ("le", 7.0)
    assert (keys["water_extract"].comparator, keys["water_extract"].threshold) == ("ge", 34.0)
    assert keys["lead"].unit == "mg/kg"
    assert "祁门县" in keys["origin"].allowed_values
    assert all(c.title_en and c.title_zh for c in version.clauses)
    assert session.scalar(select(func.count()).select_from(Criterion)) >= 8


def test_demo_decision_was_taken_by_someone_else_than_the_auditor(session, demo) -> None:
    decision = session.get(AuditDecision, demo["audit_decision"]["id"])
    assert decision.outcome == "granted"
    assert decision.decided_by.email == demo["users"]["association_admin"]["username"]
    assert decision.audit.auditor.email == demo["users"]["association_auditor"]["username"]
    assert decision.audit.signed_off_by_id == decision.audit.auditor_id
    assert decision.audit.evidence[0].file.content_type == "application/pdf"


def test_seeding_again_duplicates_nothing(app, session) -> None:
    tables = (Brand, Membership, StandardVersion, Audit, AuditDecision, StoredFile)

    def counts() -> list[int]:
        return [session.scalar(select(func.count()).select_from(t)) for t in tables]

    before = counts()
    again = seed_demo(session, app.config["BASE_URL"])
    session.flush()
    assert counts() == before
    assert again["audit_decision"]["id"] == app.config["DEMO"]["audit_decision"]["id"]
