"""Demo: the association's signing key, a certificate in force for Hongxiang Tea (on the demo's
granted decision) and a suspended one for Shanyuan Tea (after its own audit and decision).

Idempotent: a firm's certificate is issued only when its decision has no live certificate,
and Shanyuan's is suspended again if someone reinstated it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.audits import services as audits
from app.audits.demo import RESULTS
from app.audits.models import Audit, AuditKind, AuditStatus, DecisionOutcome
from app.audits.schemas import MeasurementIn, ProductIn, SiteIn
from app.auth.services import caller_for
from app.brands.demo import BRAND_SLUG
from app.certificates import credentials, issuance, keys, register
from app.certificates.did import did_web_document_url
from app.certificates.models import Certificate, CertificateStatus
from app.demo.seed import DemoContext

SHANYUAN_PRODUCTS = [
    ProductIn(
        gtin="6923456789043",
        name_zh="祁门红茶·工夫 罐装 200 克",
        name_en="Qimen Congou Black Tea, 200 g tin",
    )
]
SHANYUAN_SITES = [
    SiteIn(
        name="山源茶业箬坑初制所",
        address="安徽省黄山市祁门县箬坑乡箬坑村 6 号",
        gln="6931234000020",
    )
]
SUSPENSION_REASON = (
    "监督抽检铅含量复检中，暂停使用证书。/ Suspended while a surveillance sample is re-tested "
    "for lead."
)


def _granted_shanyuan_decision(ctx: DemoContext) -> int:
    """Shanyuan Tea's own initial audit, signed off and granted (created once)."""
    session = ctx.session
    firm = ctx.organisations["firm2"]
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
        audit = audits.create_audit(
            session,
            auditor,
            brand_slug=BRAND_SLUG,
            firm_slug=firm.slug,
            standard_version_id=version_id,
            kind=AuditKind.INITIAL,
            products=SHANYUAN_PRODUCTS,
            sites=SHANYUAN_SITES,
            audited_on=audits.today() - timedelta(days=30),
            summary="现场审核箬坑初制所。/ On-site audit of the Ruokeng workshop.",
        )
        audits.record_measurements(
            session,
            auditor,
            audit.id,
            [MeasurementIn(criterion=k, value=v, finding=f) for k, v, f in RESULTS],
        )
    if audit.status == AuditStatus.OPEN:
        audits.sign_off(session, auditor, audit.id)
    if audit.status == AuditStatus.SIGNED_OFF:
        audits.decide(
            session,
            caller_for(ctx.users["association_admin"]),
            audit.id,
            outcome=DecisionOutcome.GRANTED,
            reason="全部强制性指标符合标准。/ Every mandatory criterion is met.",
        )
    assert audit.decision is not None
    return audit.decision.id


def _certificate_for(ctx: DemoContext, decision_id: int, label_quota: int) -> Certificate:
    session = ctx.session
    live = session.scalar(
        select(Certificate).where(
            Certificate.decision_id == decision_id,
            Certificate.status.in_([CertificateStatus.ACTIVE, CertificateStatus.SUSPENDED]),
        )
    )
    if live is not None:
        return live
    return issuance.issue_certificate(
        session,
        caller_for(ctx.users["association_admin"]),
        decision_id,
        label_quota=label_quota,
    )


def _describe(ctx: DemoContext, certificate: Certificate) -> dict[str, Any]:
    did = keys.issuer_did(certificate.issuer)
    return {
        "id": certificate.id,
        "number": certificate.number,
        "url": credentials.certificate_url(certificate.number),
        "vc_url": credentials.credential_url(certificate.number),
        "issuer_did": did,
        "did_document_url": f"{ctx.base_url}/orgs/{certificate.issuer.slug}/did.json",
        "did_web_url": did_web_document_url(did),
        "status_list_urls": register.status_list_urls(ctx.session, certificate),
        "status": certificate.status.value,
        "log_index": certificate.log_index,
    }


def seed_certificates(ctx: DemoContext) -> None:
    """The signing key and two certificates; adds ``certificate`` and
    ``certificate_suspended`` to ``demo seed --json``."""
    session = ctx.session
    association = ctx.organisations["association"]
    keys.lock_issuer(session, association)
    admin = caller_for(ctx.users["association_admin"])

    in_force = _certificate_for(ctx, ctx.result["audit_decision"]["id"], label_quota=50_000)
    suspended = _certificate_for(ctx, _granted_shanyuan_decision(ctx), label_quota=20_000)
    if suspended.status == CertificateStatus.ACTIVE:
        credentials.suspend_certificate(
            session,
            admin,
            suspended.number,
            reason=SUSPENSION_REASON,
            until=suspended.status_changed_at + timedelta(days=60),
        )
    session.flush()
    ctx.result["certificate"] = _describe(ctx, in_force)
    ctx.result["certificate_suspended"] = _describe(ctx, suspended)
