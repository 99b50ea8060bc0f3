"""Fixtures for the certificates tests: certificates issued straight through the service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Organisation
from app.certificates import credentials
from app.certificates.models import Certificate
from app.db import utcnow

GTINS = ["06901234567892", "06901234567908"]


def facts_for(firm: Organisation, **changes: Any) -> credentials.CertificateFacts:
    now = utcnow()
    values: dict[str, Any] = dict(
        firm_id=firm.id,
        standard=credentials.StandardRef(
            code="T/QMTA 001-2024",
            version="1.0",
            content_hash="sha256:" + "ab" * 32,
            title="Qimen black tea",
        ),
        gtins=list(GTINS),
        sites=[credentials.Site("Lishan tea factory", "1 Tea Road, Qimen", "6901234000019")],
        label_quota=5000,
        valid_from=now - timedelta(minutes=1),
        valid_until=now + timedelta(days=3 * 365),
        brand=credentials.BrandRef("祁门红茶", "Keemun Black Tea"),
        assessment=credentials.AssessmentRef(
            audit_url=None, assessment_date=date.today(), decided_on=date.today()
        ),
    )
    values.update(changes)
    return credentials.CertificateFacts(**values)


@pytest.fixture
def association(session: Session) -> Organisation:
    found = session.scalar(select(Organisation).where(Organisation.slug == "qimen-tea-association"))
    assert found is not None
    return found


@pytest.fixture
def firm(session: Session) -> Organisation:
    found = session.scalar(select(Organisation).where(Organisation.slug == "hongxiang-tea"))
    assert found is not None
    return found


@pytest.fixture
def issue(
    session: Session, association: Organisation, firm: Organisation
) -> Callable[..., Certificate]:
    """Issue (and commit, inside the test's savepoint) a certificate for the demo firm."""

    def _issue(**changes: Any) -> Certificate:
        certificate = credentials.issue_certificates(
            session, association, [facts_for(firm, **changes)]
        )[0]
        session.commit()
        return certificate

    return _issue
