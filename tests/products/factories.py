"""Test data for the products domain, created through the services (no API round trips)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audits.models import AuditDecision
from app.auth.models import Organisation, User
from app.auth.principal import Caller
from app.auth.services import caller_for
from app.brands.models import Brand
from app.certificates import credentials
from app.certificates.models import Certificate
from app.db import utcnow
from app.gs1.identifiers import compute_check_digit
from app.products import services
from app.products.models import Batch, LabelOrder, Product
from app.standards.models import StandardVersion

_counter = iter(range(10_000, 99_999))
STANDARD_CODE = "T/QMTA 001-2024"  # the demo standard, whose brand is qimen-black-tea


def caller(session: Session, email: str = "admin@hongxiang-tea.example") -> Caller:
    user = session.scalar(select(User).where(User.email == email))
    assert user is not None
    return caller_for(user)


def organisation(session: Session, slug: str) -> Organisation:
    found = session.scalar(select(Organisation).where(Organisation.slug == slug))
    assert found is not None
    return found


def fresh_gtin() -> str:
    body = f"6909{next(_counter):05d}123"
    return "0" + body + compute_check_digit(body)


def certify(
    session: Session,
    firm_id: int,
    gtins: list[str],
    *,
    quota: int = 1000,
    brand_slug: str = "qimen-black-tea",
    **changes: Any,
) -> Certificate:
    """A certificate in force from the demo association covering ``gtins`` (for the demo's
    brand unless ``brand_slug`` names another)."""
    now = utcnow()
    # The demo's brand, standard version and granted decision stand behind test certificates.
    brand = session.scalar(select(Brand).where(Brand.slug == brand_slug))
    assert brand is not None
    decision_id = session.scalar(select(AuditDecision.id).order_by(AuditDecision.id))
    version_id = session.scalar(select(StandardVersion.id).order_by(StandardVersion.id))
    assert decision_id is not None and version_id is not None
    facts = credentials.CertificateFacts(
        firm_id=firm_id,
        brand_id=brand.id,
        decision_id=decision_id,
        standard_version_id=version_id,
        standard=credentials.StandardRef(
            code=STANDARD_CODE, version="1.0", content_hash="sha256:" + "ab" * 32
        ),
        gtins=gtins,
        sites=[credentials.Site("Likou tea factory")],
        label_quota=quota,
        valid_from=now - timedelta(minutes=1),
        valid_until=now + timedelta(days=365),
        brand=credentials.BrandRef(brand.name_zh, brand.name_en),
        assessment=credentials.AssessmentRef(audit_url=None, assessment_date=date.today()),
        **changes,
    )
    association = organisation(session, "qimen-tea-association")
    issued = credentials.issue_certificates(session, association, [facts])[0]
    session.flush()
    certificate = session.get(Certificate, issued.id)
    assert certificate is not None
    return certificate


def make_product(session: Session, who: Caller, *, certified_quota: int | None = 1000) -> Product:
    product = services.register_product(
        session, who, gtin=fresh_gtin(), name_zh="祁门红茶", name_en="Keemun black tea"
    )
    if certified_quota is not None:
        certify(session, who.organisation_id, [product.gtin], quota=certified_quota)
    return product


def make_batch(
    session: Session, who: Caller, lot: str = "LOT2026-03", *, quota: int | None = 1000
) -> Batch:
    product = make_product(session, who, certified_quota=quota)
    return services.create_batch(session, who, product.id, lot=lot, expiry_date="2028-03-31")


def make_order(session: Session, who: Caller, batch: Batch, quantity: int) -> LabelOrder:
    """A pending order, through the service (the batch's GTIN must be certified)."""
    return services.order_labels(session, who, batch.id, quantity=quantity)


def issued_order(
    session: Session,
    quantity: int = 20,
    lot: str = "LOT2026-03",
    who: Caller | None = None,
    signed: bool = False,
) -> LabelOrder:
    """An order approved by the demo association: its codes exist, inactive."""
    who = who or caller(session)
    batch = make_batch(session, who, lot, quota=max(quantity, 1000))
    order = services.order_labels(session, who, batch.id, quantity=quantity, signed=signed)
    association = caller(session, "staff@qimen-tea.example")
    services.approve_order(session, association, order.id)
    session.flush()
    return order
