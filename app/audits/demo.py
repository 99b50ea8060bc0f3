"""Demo: an initial audit of Hongxiang Tea by the demo auditor, signed off, and granted by
the association's admin (a different person)."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.audits import services
from app.audits.models import Audit, AuditKind, AuditStatus, DecisionOutcome
from app.audits.schemas import MeasurementIn, ProductIn, SiteIn
from app.auth.services import caller_for
from app.brands.demo import BRAND_SLUG
from app.demo.seed import DemoContext
from app.files.demo_images import minimal_pdf

PRODUCTS = [
    ProductIn(
        gtin="6923456789012",
        name_zh="祁门红茶·特茗 罐装 100 克",
        name_en="Qimen Black Tea Special Grade, 100 g tin",
    ),
    ProductIn(
        gtin="6923456789029",
        name_zh="祁门红茶·一级 袋装 250 克",
        name_en="Qimen Black Tea First Grade, 250 g bag",
    ),
]
SITES = [
    SiteIn(
        name="红香茶业历口初制所",
        address="安徽省黄山市祁门县历口镇历溪村 18 号",
        gln="6931234000013",
    )
]
RESULTS: list[tuple[str, bool | int | float | str, str]] = [
    ("moisture", 6.2, "烘干充分 / well dried"),
    ("total_ash", 5.4, ""),
    ("powder", 0.6, ""),
    ("water_extract", 36.8, ""),
    ("tea_polyphenols", 11.2, ""),
    ("lead", 0.8, "远低于限量 / far below the limit"),
    (
        "pesticide_residues",
        True,
        "检测 56 项，均未检出或低于限量 / 56 residues tested, none above limits",
    ),
    ("sensory_score", 91, "祁门香明显 / distinct Keemun aroma"),
    ("origin", "祁门县", "鲜叶来自历溪村自有茶园 / leaves from the firm's own Lixi gardens"),
    ("no_additives", True, ""),
    ("label_compliance", True, ""),
]


def seed_audit(ctx: DemoContext) -> None:
    """Record, sign off and grant one audit (skipped when the demo already has it)."""
    session = ctx.session
    firm = ctx.organisations["firm"]
    version_id = ctx.result["standard"]["version_id"]
    audit = session.scalar(
        select(Audit).where(
            Audit.firm_id == firm.id,
            Audit.standard_version_id == version_id,
            Audit.kind == AuditKind.INITIAL,
        )
    )
    auditor = caller_for(ctx.users["association_auditor"])
    if audit is None:
        audit = services.create_audit(
            session,
            auditor,
            brand_slug=BRAND_SLUG,
            firm_slug=firm.slug,
            standard_version_id=version_id,
            kind=AuditKind.INITIAL,
            products=PRODUCTS,
            sites=SITES,
            audited_on=services.today() - timedelta(days=14),
            summary=(
                "现场审核初制所与精制车间，抽样两批次送检。/ On-site audit of the primary and "
                "refining workshops; two batches sampled for laboratory tests."
            ),
        )
        services.record_measurements(
            session,
            auditor,
            audit.id,
            [MeasurementIn(criterion=k, value=v, finding=f) for k, v, f in RESULTS],
        )
        report = FileStorage(
            stream=BytesIO(minimal_pdf("Lab report QM-2026-0415: Hongxiang Tea, 2 batches")),
            filename="lab-report-QM-2026-0415.pdf",
            content_type="application/pdf",
        )
        services.add_evidence(
            session,
            auditor,
            audit.id,
            report,
            description="第三方检测报告 / Third-party lab report",
        )
    if audit.status == AuditStatus.OPEN:
        services.sign_off(session, auditor, audit.id)
    if audit.status == AuditStatus.SIGNED_OFF:
        services.decide(
            session,
            caller_for(ctx.users["association_admin"]),
            audit.id,
            outcome=DecisionOutcome.GRANTED,
            reason=(
                "全部强制性指标符合标准，检测报告已复核。/ "
                "Every mandatory criterion is met; the lab report was reviewed."
            ),
        )
    assert audit.decision is not None
    ctx.result["audit_decision"] = {
        "id": audit.decision.id,
        "url": f"{ctx.base_url}/api/v1/audit-decisions/{audit.decision.id}",
        "audit_id": audit.id,
    }
