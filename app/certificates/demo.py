"""Demo: the association's signing key and two certificates for Hongxiang Tea on the demo's
granted decision, one per product line: the 100 g tin in force, the 250 g bag suspended (so
labels can be ordered for the one and not the other).

Idempotent: a product's certificate is issued only when no live certificate covers it, and
the second one is suspended again if someone reinstated it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.audits.demo import PRODUCTS
from app.auth.principal import Caller
from app.auth.services import caller_for
from app.certificates import credentials, issuance, keys, register
from app.certificates.did import did_web_document_url
from app.certificates.models import Certificate, CertificateStatus
from app.demo.seed import DemoContext
from app.gs1.identifiers import normalize_gtin

SUSPENSION_REASON = (
    "监督抽检水分超标，复检期间暂停使用证书。/ Suspended while a surveillance sample with "
    "moisture above the limit is re-tested."
)


def _certificate_for(
    ctx: DemoContext, admin: Caller, decision_id: int, gtin: str, label_quota: int
) -> Certificate:
    gtin14 = normalize_gtin(gtin)
    number = issuance.covered_products(ctx.session, decision_id).get(gtin14)
    if number is not None:
        return credentials.get_certificate(ctx.session, number)
    return issuance.issue_certificate(
        ctx.session, admin, decision_id, label_quota=label_quota, gtins=[gtin14]
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
        "gtins": certificate.scope_gtins,
        "log_index": certificate.log_index,
    }


def seed_certificates(ctx: DemoContext) -> None:
    """The signing key and the two certificates; adds ``certificate`` and
    ``certificate_suspended`` to ``demo seed --json``."""
    session = ctx.session
    keys.lock_issuer(session, ctx.organisations["association"])
    admin = caller_for(ctx.users["association_admin"])
    decision_id = ctx.result["audit_decision"]["id"]
    in_force = _certificate_for(ctx, admin, decision_id, PRODUCTS[0].gtin, 50_000)
    suspended = _certificate_for(ctx, admin, decision_id, PRODUCTS[1].gtin, 20_000)
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
