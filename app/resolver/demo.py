"""Demo for the consumer scan: a labelled unit under the suspended certificate, a few scans,
an alert and a shopper's report, so every verdict and the triage API can be tried at once.

The certificates demo suspends a certificate under which no labels exist; in real life its
labels were ordered while it was in force. To reproduce that history through the domains' own
services, the first run reinstates the certificate, orders and activates a small label order,
and suspends it again with the same reason. Later runs find the unit and change nothing.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.auth.services import caller_for
from app.certificates import credentials
from app.certificates.demo import SUSPENSION_REASON
from app.certificates.models import Certificate, CertificateStatus
from app.demo.seed import DemoContext
from app.gs1.digital_link import parse_digital_link
from app.products import services as products
from app.products.models import Batch, LabelOrder, LabelOrderStatus, Product, UnitCode
from app.resolver import services
from app.resolver.models import FakeReport, Scan, ScanChannel

SUSPENDED_LOT = "QM2026-02B"
SUSPENDED_CODES = 5
# A code that looks like ours but was never issued: a shopper's report of it is in the demo.
FAKE_SERIAL = "FAKE0000000001"


def _unit_under_suspended(ctx: DemoContext) -> str | None:
    """The Digital Link of a unit whose certificate is suspended (made once)."""
    session = ctx.session
    described = ctx.result.get("certificate_suspended")
    if not described:
        return None
    certificate = session.get(Certificate, described["id"])
    if certificate is None or not certificate.scope_gtins:
        return None
    gtin = certificate.scope_gtins[0]
    product = session.scalar(select(Product).where(Product.gtin == gtin))
    if product is None:
        return None
    # The admin of the firm that holds the certificate (and owns the product).
    holder = next(
        user
        for key, user in ctx.users.items()
        if key.endswith("_admin") and user.organisation_id == product.organisation_id
    )
    firm = caller_for(holder)
    batch = session.scalar(
        select(Batch).where(Batch.product_id == product.id, Batch.lot == SUSPENDED_LOT)
    )
    if batch is None:
        batch = products.create_batch(
            session,
            firm,
            product.id,
            lot=SUSPENDED_LOT,
            production_date=date(2026, 2, 12).isoformat(),
            best_before_date=date(2028, 2, 11).isoformat(),
            quantity=800,
            production_site="红香茶业历口初制所 Likou tea factory, Qimen",
        )
    serial = session.scalar(
        select(UnitCode.serial)
        .join(LabelOrder, LabelOrder.id == UnitCode.order_id)
        .where(LabelOrder.batch_id == batch.id, LabelOrder.status == LabelOrderStatus.ACTIVE)
        .order_by(UnitCode.id)
        .limit(1)
    )
    if serial is None:
        admin = caller_for(ctx.users["association_admin"])
        suspended_until = certificate.suspended_until
        if certificate.status is CertificateStatus.SUSPENDED:
            credentials.reinstate_certificate(
                session,
                admin,
                certificate.number,
                reason="演示：暂停前已订购标签 / demo: labels ordered before the suspension",
            )
        order = products.order_labels(session, firm, batch.id, quantity=SUSPENDED_CODES)
        if order.status is LabelOrderStatus.PENDING:
            products.approve_order(session, caller_for(ctx.users["association_staff"]), order.id)
        products.mark_printed(session, firm, order.id)
        products.activate_order(session, firm, order.id)
        credentials.suspend_certificate(
            session, admin, certificate.number, reason=SUSPENSION_REASON, until=suspended_until
        )
        serial = session.scalar(
            select(UnitCode.serial).where(UnitCode.order_id == order.id).order_by(UnitCode.id)
        )
    assert serial is not None
    return products.unit_uri(ctx.base_url, product.gtin, batch.lot, serial)


def _scan(ctx: DemoContext, uri: str, client: str) -> None:
    link = parse_digital_link(uri)
    context = services.ScanContext(client_hash=client, channel=ScanChannel.LINK, answer="page")
    services.resolve_link(ctx.session, link, context, record=True)


def seed_scans(ctx: DemoContext) -> None:
    """``unit_suspended`` and the resolver's addresses in ``demo seed --json``; on the first
    run, scans of the demo units (which raise an alert for the blacklisted one) and a report
    of a code that was never issued."""
    session = ctx.session
    suspended = _unit_under_suspended(ctx)
    if suspended is not None:
        ctx.result["unit_suspended"] = {"digital_link": suspended}
    ctx.result["resolver"] = {
        "verify_url": f"{ctx.base_url}/verify",
        "well_known_url": f"{ctx.base_url}/.well-known/gs1resolver",
        "alerts_url": f"{ctx.base_url}/api/v1/scan-alerts",
        "reports_url": f"{ctx.base_url}/api/v1/fake-reports",
    }
    if "unit" not in ctx.result or session.scalar(select(func.count()).select_from(Scan)):
        return
    # An earlier check of the genuine unit ("verified N times") and a hit on the blacklisted
    # one, which raises an alert for the association and the firm to triage.
    _scan(ctx, ctx.result["unit"]["digital_link"], "demo-shopper-1")
    _scan(ctx, ctx.result["unit_blacklisted"]["digital_link"], "demo-shopper-2")
    gtin = ctx.result["product"]["gtin"]
    if session.scalar(select(func.count()).select_from(FakeReport)) == 0:
        fake = parse_digital_link(products.unit_uri(ctx.base_url, gtin, "QM2026-03A", FAKE_SERIAL))
        from app.resolver import sources

        services.create_report(
            session,
            services.ReportInput(
                submission_key="demo-report-0001",
                gtin=fake.gtin,
                lot=fake.lot,
                serial=fake.serial,
                place="屯溪老街某茶叶店 / a tea shop on Tunxi Old Street",
                description=(
                    "价格远低于市价，包装印刷模糊。/ Far below the usual price, blurred print."
                ),
            ),
            "demo-shopper-3",
            facts=sources.gather_facts(session, fake),
        )
