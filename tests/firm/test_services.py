"""Leaving a brand: the firm's live certificates of that brand are cancelled with it (status
lists, events, transparency log), its pending label orders on them cancelled and their labels
given back; other brands' certificates, ended ones and withdrawn applications are left alone;
a failure part-way changes nothing, the membership included."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.brands import services as brands
from app.brands.models import Membership, MembershipStatus
from app.certificates import credentials, ledger
from app.certificates.models import (
    Certificate,
    CertificateEvent,
    CertificateEventKind,
    CertificateStatus,
    StatusList,
)
from app.db import utcnow
from app.errors import Conflict
from app.firm import services
from app.products import services as products
from app.products.models import LabelOrder, LabelOrderStatus
from app.transparency.models import LogEntry
from tests.brandkit import brand_body
from tests.certificates.test_cancellation import _bit
from tests.products.factories import caller, certify, fresh_gtin, make_batch, make_order

QIMEN = "qimen-black-tea"
OTHER = "huangshan-maofeng"
LEFT_QIMEN = "持证方退出“祁门红茶”品牌 / the holder left the brand Qimen Black Tea"


def _membership(session, firm_id: int, slug: str = QIMEN) -> Membership:
    return session.scalar(
        select(Membership)
        .where(Membership.firm_id == firm_id, Membership.brand.has(slug=slug))
        .order_by(Membership.id.desc())
    )


def _other_brand(session, *, approve: bool = True) -> Membership:
    """A second brand of the demo association, which the demo firm applied to (and joined)."""
    association = caller(session, "admin@qimen-tea.example")
    brands.create_brand(session, association, **brand_body(OTHER))
    applied = brands.apply_for_membership(
        session, caller(session), OTHER, registration_scheme=None, registration_number=None
    )
    if approve:
        brands.change_membership(session, association, applied.id, "approve")
    return applied


def _pending_order(session, firm, *, brand_slug: str = QIMEN, quantity: int = 30):
    """A certified product with a batch and a pending order of ``quantity`` labels on it."""
    product = products.register_product(
        session, firm, gtin=fresh_gtin(), name_zh="祁门红茶", name_en="Keemun black tea"
    )
    certificate = certify(session, firm.organisation_id, [product.gtin], brand_slug=brand_slug)
    batch = products.create_batch(session, firm, product.id, lot="LEAVE-01")
    return certificate, make_order(session, firm, batch, quantity)


def _lapsed(session, firm_id: int) -> Certificate:
    """Active by status, but its validity is over (the daily sweep has not marked it yet)."""
    certificate = certify(session, firm_id, [fresh_gtin()])
    certificate.valid_from = utcnow() - timedelta(days=400)
    certificate.valid_until = utcnow() - timedelta(days=1)
    session.flush()
    return certificate


def _snapshot(session, firm_id: int) -> tuple:
    session.expire_all()
    return (
        tuple(
            session.execute(
                select(Membership.id, Membership.status).where(Membership.firm_id == firm_id)
            )
        ),
        tuple(
            session.execute(
                select(Certificate.number, Certificate.status, Certificate.labels_issued)
                .where(Certificate.firm_id == firm_id)
                .order_by(Certificate.id)
            )
        ),
        tuple(session.scalars(select(StatusList.etag).order_by(StatusList.id))),
        tuple(session.execute(select(LabelOrder.id, LabelOrder.status).order_by(LabelOrder.id))),
        session.scalar(select(func.count()).select_from(CertificateEvent)),
        session.scalar(select(func.count()).select_from(LogEntry)),
    )


def _status_urls(certificate: Certificate) -> tuple[str, str]:
    revocation, suspension = json.loads(certificate.credential_json)["credentialStatus"]
    return revocation["statusListCredential"], suspension["statusListCredential"]


def test_leaving_cancels_exactly_that_brands_live_certificates_and_pending_orders(
    session, client, demo
) -> None:
    firm = caller(session)
    _other_brand(session)
    ordered, pending = _pending_order(session, firm)
    other_brand, other_pending = _pending_order(session, firm, brand_slug=OTHER)
    withdrawn = certify(session, firm.organisation_id, [fresh_gtin()])
    credentials.withdraw_certificate(
        session, caller(session, "admin@qimen-tea.example"), withdrawn.number, reason="fraud"
    )
    lapsed = _lapsed(session, firm.organisation_id)
    membership = _membership(session, firm.organisation_id)
    session.commit()
    numbers = {
        demo["certificate"]["number"],
        demo["certificate_suspended"]["number"],
        ordered.number,
    }

    plan = services.leaving_plan(session, firm, membership.id)
    assert {c.number for c in plan.certificates} == numbers
    assert [o.id for o in plan.orders] == [pending.id]

    left = services.leave_brand(session, firm, membership.id, reason="we now make green tea")
    session.commit()

    assert left.membership.status == MembershipStatus.LEFT
    assert {c.number for c in left.certificates} == numbers
    reason = f"{LEFT_QIMEN}: we now make green tea"
    for number in numbers:
        certificate = credentials.get_certificate(session, number)
        assert (certificate.status, certificate.status_reason) == (
            CertificateStatus.CANCELLED,
            reason,
        )
        revocation_url, suspension_url = _status_urls(certificate)
        assert _bit(client, revocation_url, certificate.revocation_index) is True
        assert _bit(client, suspension_url, certificate.suspension_index) is False
        event = session.scalars(
            select(CertificateEvent)
            .where(CertificateEvent.certificate_id == certificate.id)
            .order_by(CertificateEvent.id.desc())
        ).first()
        assert (event.kind, event.reason, event.actor_user_id, event.actor_organisation_id) == (
            CertificateEventKind.CANCELLED,
            reason,
            firm.user_id,
            firm.organisation_id,
        )
        entry = session.scalars(
            select(LogEntry)
            .where(LogEntry.record_type == "certificate", LogEntry.record_id == number)
            .order_by(LogEntry.log_index.desc())
        ).first()
        assert entry.entry_type == "certificate.cancelled"
        assert json.loads(entry.entry)["details"] == {
            "actor_user_id": firm.user_id,
            "reason": reason,
        }
    # The other brand's certificate and the certificates that had already ended are untouched.
    session.expire_all()
    assert session.get(Certificate, other_brand.id).status == CertificateStatus.ACTIVE
    assert session.get(Certificate, withdrawn.id).status == CertificateStatus.WITHDRAWN
    assert session.get(Certificate, lapsed.id).status == CertificateStatus.ACTIVE
    # The pending order on a cancelled certificate is cancelled and its labels given back.
    assert [o.id for o in left.orders] == [pending.id]
    assert session.get(LabelOrder, pending.id).status == LabelOrderStatus.CANCELLED
    assert session.get(Certificate, ordered.id).labels_issued == 0
    assert session.get(LabelOrder, other_pending.id).status == LabelOrderStatus.PENDING
    assert session.get(Certificate, other_brand.id).labels_issued == 30


def test_the_firms_own_reason_is_optional_and_the_membership_of_another_firm_stays(
    session,
) -> None:
    firm = caller(session)
    membership = _membership(session, firm.organisation_id)
    left = services.leave_brand(session, firm, membership.id)
    assert {c.status_reason for c in left.certificates} == {LEFT_QIMEN}
    other = caller(session, "admin@shanyuan-tea.example")
    assert _membership(session, other.organisation_id).status == MembershipStatus.APPROVED


def test_a_pending_order_on_a_certificate_renewed_into_a_cancelled_one_is_cancelled(
    session,
) -> None:
    firm = caller(session)
    batch = make_batch(session, firm, "RENEW-01", quota=100)
    order = make_order(session, firm, batch, 20)
    old = session.get(Certificate, order.certificate_id)
    renewed = certify(
        session,
        firm.organisation_id,
        old.scope_gtins,
        previous=old,
        event=CertificateEventKind.RENEWED,
    )
    left = services.leave_brand(session, firm, _membership(session, firm.organisation_id).id)
    assert renewed.number in {c.number for c in left.certificates}
    assert [o.id for o in left.orders] == [order.id]
    assert order.status == LabelOrderStatus.CANCELLED
    assert old.labels_issued == 0


def test_withdrawing_an_application_changes_no_certificate(session) -> None:
    firm = caller(session)
    applied = _other_brand(session, approve=False)
    # Even a certificate of that brand (issued outside the rules) is not the application's.
    certificate = certify(session, firm.organisation_id, [fresh_gtin()], brand_slug=OTHER)
    session.commit()
    assert services.leaving_plan(session, firm, applied.id).certificates == []
    before = _snapshot(session, firm.organisation_id)

    left = services.leave_brand(session, firm, applied.id, reason="not now")
    session.commit()

    assert (left.certificates, left.orders) == ([], [])
    after = _snapshot(session, firm.organisation_id)
    assert after[0] != before[0]  # the application is withdrawn ...
    assert after[1:] == before[1:]  # ... and nothing else changed
    assert session.get(Membership, applied.id).status == MembershipStatus.LEFT
    assert session.get(Certificate, certificate.id).status == CertificateStatus.ACTIVE


def _fail_on_second_log_entry(monkeypatch, error: Exception) -> None:
    """The second certificate's cancellation fails after the first one was fully recorded."""
    record = ledger.record_status_change
    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise error
        return record(*args, **kwargs)

    monkeypatch.setattr(ledger, "record_status_change", failing)


def test_a_failure_part_way_changes_nothing(session, monkeypatch) -> None:
    firm = caller(session)
    _pending_order(session, firm)
    membership = _membership(session, firm.organisation_id)
    session.commit()
    before = _snapshot(session, firm.organisation_id)
    _fail_on_second_log_entry(monkeypatch, RuntimeError("the log is unavailable"))

    with pytest.raises(RuntimeError):
        services.leave_brand(session, firm, membership.id, reason="x")
    session.rollback()

    assert _snapshot(session, firm.organisation_id) == before
    assert session.get(Membership, membership.id).status == MembershipStatus.APPROVED


def test_a_failure_part_way_through_the_api_changes_nothing(
    session, api, demo, monkeypatch
) -> None:
    firm = caller(session)
    membership = _membership(session, firm.organisation_id)
    before = _snapshot(session, firm.organisation_id)
    for error, status in ((RuntimeError("boom"), 500), (Conflict("refused"), 409)):
        _fail_on_second_log_entry(monkeypatch, error)
        response = api("firm_admin").post(
            f"/api/v1/memberships/{membership.id}/leave", json={"reason": "x"}
        )
        assert response.status_code == status, response.get_data(as_text=True)
        assert _snapshot(session, firm.organisation_id) == before
        assert session.get(Membership, membership.id).status == MembershipStatus.APPROVED


# --- through the API ----------------------------------------------------------------------------


def test_after_leaving_through_the_api_labels_scan_not_valid_and_cannot_be_ordered(
    session, api, demo, app
) -> None:
    firm = caller(session)
    membership = _membership(session, firm.organisation_id)
    response = api("firm_admin").post(
        f"/api/v1/memberships/{membership.id}/leave", json={"reason": "we stop"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    number = demo["certificate"]["number"]
    assert body["status"] == "left" and body["status_reason"] == "we stop"
    assert sorted(body["cancelled_certificates"]) == sorted(
        [number, demo["certificate_suspended"]["number"]]
    )
    assert body["cancelled_label_orders"] == []

    scan = app.test_client().get(
        demo["unit"]["digital_link"].removeprefix(demo["base_url"]),
        headers={"Accept": "application/json"},
    )
    verdict = scan.get_json()
    assert verdict["verdict"] == "NOT_VALID"
    reason = verdict["reasons"][0]
    assert (reason["code"], reason["number"], reason["reason"]) == (
        "certificate_cancelled",
        number,
        f"{LEFT_QIMEN}: we stop",
    )
    refused = api("firm_admin").post(
        f"/api/v1/batches/{demo['batch']['id']}/label-orders", json={"quantity": 5}
    )
    assert refused.status_code == 409
    assert refused.get_json()["type"].endswith("/problems/gtin-not-certified")
    # The firm may apply again; the cancelled certificates stay cancelled.
    assert api("firm_admin").post(f"/api/v1/brands/{QIMEN}/memberships", json={}).status_code == 201
    assert credentials.get_certificate(session, number).status == CertificateStatus.CANCELLED


def test_the_api_description_says_leaving_cancels_certificates(api) -> None:
    document = api(None).get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/memberships/{membership_id}/leave"]["post"]
    assert "cancels, for good" in operation["description"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    properties = document["components"]["schemas"][name]["properties"]
    assert {"cancelled_certificates", "cancelled_label_orders", "status"} <= set(properties)
