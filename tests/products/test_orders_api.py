"""Label orders through the API: certificate coverage, quota, approval, auto-approval per
brand, signed (offline-verifiable) labels, and the transparency log entry."""

from __future__ import annotations

import io
from datetime import timedelta

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from app.certificates.compact import verify_compact
from app.certificates.models import Certificate, CertificateEventKind, CertificateStatus
from app.certificates.multibase import decode_ed25519_multikey
from app.db import utcnow
from app.gs1.digital_link import parse_digital_link
from app.products.errors import OrderStateConflict
from app.products.models import LabelOrder, UnitCode
from app.transparency.services import entries_for_record
from tests.products.factories import caller, certify, fresh_gtin

BASE = "https://brand.example.test"
BRAND = "qimen-black-tea"


def firm_batch(api, session, *, quota: int | None = 100, role: str = "firm_admin"):
    """Register a product and a batch through the API; certify the GTIN (quota) directly."""
    client = api(role)
    product = client.post(
        "/api/v1/products",
        json={"gtin": fresh_gtin()[1:], "name_zh": "祁门红茶", "name_en": "Keemun"},
    ).get_json()
    certificate = None
    if quota is not None:
        firm_id = product_firm(session, product["id"])
        certificate = certify(session, firm_id, [product["gtin"]], quota=quota)
    batch = client.post(
        f"/api/v1/products/{product['id']}/batches",
        json={"lot": "QM2026-04B", "production_date": "2026-04-02", "expiry_date": "280401"},
    ).get_json()
    return product, batch, certificate


def product_firm(session, product_id: int) -> int:
    from app.products.models import Product

    return session.get(Product, product_id).organisation_id


def order(api, batch, quantity, role="firm_admin", **extra):
    return api(role).post(
        f"/api/v1/batches/{batch['id']}/label-orders", json={"quantity": quantity, **extra}
    )


def labels_issued(session, certificate) -> int:
    session.expire_all()
    return session.get(Certificate, certificate.id).labels_issued


def test_register_order_approve_print_activate_and_download_labels(api, session) -> None:
    """The issue's 'done when': through the API, from product to printable, scannable labels."""
    product, batch, certificate = firm_batch(api, session, quota=100)
    mark = api("firm_admin").get(f"/api/v1/products/{product['id']}").get_json()["mark"]
    assert mark["may_bear_mark"] is True
    assert mark["certificate_number"] == certificate.number and mark["label_quota"] == 100

    created = order(api, batch, 30)
    assert created.status_code == 201, created.get_json()
    pending = created.get_json()
    assert pending["status"] == "pending" and pending["codes_url"] is None
    assert labels_issued(session, certificate) == 30  # reserved at once
    codes_of = select(func.count()).select_from(UnitCode).where(UnitCode.order_id == pending["id"])
    assert session.scalar(codes_of) == 0  # no codes before approval

    association = api("association_staff")
    assert pending["id"] in [
        o["id"] for o in association.get("/api/v1/label-orders?status=pending").get_json()["items"]
    ]
    approved = association.post(f"/api/v1/label-orders/{pending['id']}/approve")
    assert approved.status_code == 200, approved.get_json()
    issued = approved.get_json()
    assert issued["status"] == "issued" and len(issued["codes_sha256"]) == 64

    firm = api("firm_staff")
    assert firm.post(f"/api/v1/label-orders/{issued['id']}/printed").status_code == 200
    active = firm.post(f"/api/v1/label-orders/{issued['id']}/activate")
    assert active.get_json()["status"] == "active"

    sheet = firm.get(issued["sheet_url"].removeprefix(BASE))
    assert sheet.status_code == 200
    pdf = pdfium.PdfDocument(sheet.data)
    decoded = set()
    for page in pdf:
        decoded |= {
            r.text
            for r in zxingcpp.read_barcodes(
                page.render(scale=3).to_pil(), formats=zxingcpp.BarcodeFormat.QRCode
            )
        }
    units = firm.get(f"/api/v1/label-orders/{issued['id']}/codes?limit=200").get_json()["items"]
    assert decoded == {unit["digital_link"] for unit in units}
    assert {unit["state"] for unit in units} == {"active"}
    assert session.scalar(codes_of) == 30
    for unit in units[:3]:
        link = parse_digital_link(unit["digital_link"])
        assert (link.gtin, link.lot) == (product["gtin"], "QM2026-04B")
    product_mark = firm.get(f"/api/v1/products/{product['id']}").get_json()["mark"]
    assert product_mark["labels_used"] == 30


def test_orders_for_gtins_no_certificate_covers_are_refused(api, session) -> None:
    _, batch, _ = firm_batch(api, session, quota=None)
    response = order(api, batch, 10)
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["type"].endswith("/problems/gtin-not-certified")
    assert problem["errors"] == [
        {
            "field": "gtin",
            "rule": "not_covered",
            "message": "no certificate in force covers this GTIN",
        }
    ]
    orders = select(func.count()).select_from(LabelOrder).where(LabelOrder.batch_id == batch["id"])
    assert session.scalar(orders) == 0


def test_no_labels_are_ordered_on_a_certificate_its_holder_cancelled(api, session) -> None:
    _, batch, certificate = firm_batch(api, session, quota=50)
    assert order(api, batch, 10).status_code == 201
    session.commit()
    cancelled = api("firm_admin").post(
        f"/api/v1/certificates/{certificate.number}/cancel", json={"reason": "left the brand"}
    )
    assert cancelled.status_code == 200, cancelled.get_data(as_text=True)
    refused = order(api, batch, 5)
    assert refused.status_code == 409
    assert refused.get_json()["type"].endswith("/problems/gtin-not-certified")
    assert labels_issued(session, certificate) == 10
    orders = select(func.count()).select_from(LabelOrder).where(LabelOrder.batch_id == batch["id"])
    assert session.scalar(orders) == 1


def _codes(session, order_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(UnitCode).where(UnitCode.order_id == order_id)
    )


def test_a_pending_order_is_not_approved_once_its_certificate_is_not_in_force(api, session) -> None:
    # Ordered while the certificate was in force; given up before the association decided.
    _, batch, certificate = firm_batch(api, session, quota=50)
    pending = order(api, batch, 10).get_json()
    session.commit()
    cancelled = api("firm_admin").post(
        f"/api/v1/certificates/{certificate.number}/cancel", json={"reason": "left the brand"}
    )
    assert cancelled.status_code == 200
    association = api("association_admin")
    refused = association.post(f"/api/v1/label-orders/{pending['id']}/approve")
    assert refused.status_code == 409
    problem = refused.get_json()
    assert problem["type"].endswith("/problems/certificate-not-in-force")
    assert problem["certificate_number"] == certificate.number
    assert problem["reason"] == "cancelled"
    # Nothing changed: still pending, no codes made, nothing logged; rejecting frees the quota.
    assert association.get(f"/api/v1/label-orders/{pending['id']}").get_json()["status"] == (
        "pending"
    )
    assert _codes(session, pending["id"]) == 0
    assert entries_for_record(session, "label_order", pending["id"]) == []
    rejected = association.post(
        f"/api/v1/label-orders/{pending['id']}/reject", json={"reason": "certificate cancelled"}
    )
    assert rejected.status_code == 200, rejected.get_json()
    assert labels_issued(session, certificate) == 0


def test_a_pending_order_on_a_renewed_certificate_is_approved_under_its_successor(
    api, session
) -> None:
    product, batch, certificate = firm_batch(api, session, quota=50)
    pending = order(api, batch, 10).get_json()
    # Renewed meanwhile: labels under the old number stand for the new certificate.
    certify(
        session,
        product_firm(session, product["id"]),
        [product["gtin"]],
        previous=certificate,
        event=CertificateEventKind.RENEWED,
    )
    session.commit()
    assert session.get(Certificate, certificate.id).status == CertificateStatus.SUPERSEDED
    approved = api("association_admin").post(f"/api/v1/label-orders/{pending['id']}/approve")
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "issued" and _codes(session, pending["id"]) == 10


@pytest.mark.parametrize("step", ["approve", "activate"])
def test_labels_of_a_product_a_re_issue_took_out_of_scope_are_refused(api, session, step) -> None:
    # Ordered (and, for activation, approved and printed) under a certificate naming the
    # product; the association then re-issued it without the product.
    product, batch, _ = firm_batch(api, session, quota=None)
    kept = fresh_gtin()
    firm_id = product_firm(session, product["id"])
    certificate = certify(session, firm_id, [product["gtin"], kept], quota=50)
    pending = order(api, batch, 10).get_json()
    if step == "activate":
        for role, done in (("association_staff", "approve"), ("firm_staff", "printed")):
            assert api(role).post(f"/api/v1/label-orders/{pending['id']}/{done}").status_code == 200
    narrowed = certify(
        session, firm_id, [kept], previous=certificate, event=CertificateEventKind.REISSUED
    )
    session.commit()
    role = "association_admin" if step == "approve" else "firm_admin"
    refused = api(role).post(f"/api/v1/label-orders/{pending['id']}/{step}")
    assert refused.status_code == 409
    problem = refused.get_json()
    assert problem["type"].endswith("/problems/certificate-not-in-force")
    assert (problem["certificate_number"], problem["reason"]) == (narrowed.number, "scope_excludes")
    assert f"no longer covers GTIN {product['gtin']}" in problem["detail"]
    assert _order_state(session, pending["id"])[0] == (
        "pending" if step == "approve" else "printed"
    )


def _printed(api, session, quota: int = 50):
    """A batch whose order of 10 labels is approved and printed, not yet activated."""
    product, batch, certificate = firm_batch(api, session, quota=quota)
    pending = order(api, batch, 10).get_json()
    for role, step in (("association_staff", "approve"), ("firm_staff", "printed")):
        done = api(role).post(f"/api/v1/label-orders/{pending['id']}/{step}")
        assert done.status_code == 200, done.get_json()
    session.commit()
    return product, pending, certificate


def _order_state(session, order_id: int) -> tuple:
    session.expire_all()
    found = session.get(LabelOrder, order_id)
    return found.status.value, found.activated_at


def test_labels_of_a_brand_the_firm_left_cannot_be_activated(api, session) -> None:
    # Approved and printed while the firm was a member; leaving cancels the certificate.
    from app.brands.models import Membership

    product, printed, certificate = _printed(api, session)
    membership = session.scalar(
        select(Membership).where(
            Membership.firm_id == product_firm(session, product["id"]),
            Membership.brand_id == certificate.brand_id,
        )
    )
    left = api("firm_admin").post(f"/api/v1/memberships/{membership.id}/leave", json={})
    assert left.status_code == 200, left.get_json()
    assert certificate.number in left.get_json()["cancelled_certificates"]
    units = f"/api/v1/label-orders/{printed['id']}/codes?limit=200"
    before = api("firm_admin").get(units).get_json()["items"]

    refused = api("firm_staff").post(f"/api/v1/label-orders/{printed['id']}/activate")
    assert refused.status_code == 409
    assert refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert problem["type"].endswith("/problems/certificate-not-in-force")
    assert (problem["certificate_number"], problem["reason"]) == (certificate.number, "cancelled")
    # Nothing changed: still printed, never activated, its codes still inactive.
    assert _order_state(session, printed["id"]) == ("printed", None)
    after = api("firm_admin").get(units).get_json()["items"]
    assert after == before and {unit["state"] for unit in after} == {"inactive"}


@pytest.mark.parametrize("change", ["suspend", "withdraw", "lapse"])
def test_labels_cannot_be_activated_while_their_certificate_is_not_in_force(
    api, session, change
) -> None:
    _, printed, certificate = _printed(api, session)
    if change == "lapse":  # past its validity, before the daily sweep records it
        certificate.valid_until = utcnow() - timedelta(minutes=1)
        session.commit()
    else:
        changed = api("association_admin").post(
            f"/api/v1/certificates/{certificate.number}/{change}", json={"reason": "audit found"}
        )
        assert changed.status_code == 200, changed.get_json()
    refused = api("firm_admin").post(f"/api/v1/label-orders/{printed['id']}/activate")
    assert refused.status_code == 409
    problem = refused.get_json()
    assert problem["type"].endswith("/problems/certificate-not-in-force")
    assert problem["reason"] == {"suspend": "suspended", "withdraw": "withdrawn"}.get(
        change, "expired"
    )
    assert _order_state(session, printed["id"]) == ("printed", None)


def test_labels_are_activated_once_their_certificate_is_reinstated_or_renewed(api, session) -> None:
    product, printed, certificate = _printed(api, session)
    association = api("association_admin")
    path = f"/api/v1/certificates/{certificate.number}"
    assert association.post(f"{path}/suspend", json={"reason": "sample failed"}).status_code == 200
    assert api("firm_admin").post(f"/api/v1/label-orders/{printed['id']}/activate").status_code == (
        409
    )
    reinstated = association.post(f"{path}/reinstate", json={"reason": "resampled: passed"})
    assert reinstated.status_code == 200
    activated = api("firm_admin").post(f"/api/v1/label-orders/{printed['id']}/activate")
    assert activated.status_code == 200, activated.get_json()
    assert activated.get_json()["status"] == "active"

    # Labels of a renewed certificate stand for its successor, which is in force.
    _, second, old = _printed(api, session)
    certify(
        session,
        product_firm(session, product["id"]),
        [old.scope_gtins[0]],
        previous=old,
        event=CertificateEventKind.RENEWED,
    )
    session.commit()
    renewed = api("firm_admin").post(f"/api/v1/label-orders/{second['id']}/activate")
    assert renewed.status_code == 200, renewed.get_json()


def test_a_decision_on_an_order_acts_on_its_current_state(app, api, session) -> None:
    # An association's approval racing the firm's cancellation: the approval's session read
    # the order while pending; the cancellation committed first. It must see that, not issue
    # codes for a cancelled order whose labels went back to the quota.
    from app.extensions import db
    from app.products import services

    _, batch, _ = firm_batch(api, session, quota=50)
    pending = order(api, batch, 10).get_json()
    session.commit()
    with app.app_context():
        deciding = db.new_session(writer=True)
        stale = deciding.get(LabelOrder, pending["id"])
        assert stale is not None and stale.status.value == "pending"
        cancelled = api("firm_staff").post(f"/api/v1/label-orders/{pending['id']}/cancel")
        assert cancelled.status_code == 200
        association = caller(deciding, "admin@qimen-tea.example")
        with pytest.raises(OrderStateConflict, match="is cancelled"):
            services.approve_order(deciding, association, pending["id"])
        assert _codes(deciding, pending["id"]) == 0  # refused before any code was made
        deciding.rollback()
        deciding.close()


def test_orders_beyond_the_quota_are_refused_and_change_nothing(api, session) -> None:
    _, batch, certificate = firm_batch(api, session, quota=50)
    assert order(api, batch, 40).status_code == 201
    refused = order(api, batch, 11)
    assert refused.status_code == 409
    problem = refused.get_json()
    assert problem["type"].endswith("/problems/label-quota-exceeded")
    assert problem["errors"][0]["field"] == "/quantity"
    assert problem["errors"][0]["rule"] == "label_quota"
    assert problem["labels_left"] == 10
    assert labels_issued(session, certificate) == 40
    assert order(api, batch, 10).status_code == 201
    assert labels_issued(session, certificate) == 50


def test_bad_order_input(api, session) -> None:
    _, batch, _ = firm_batch(api, session)
    for body, rule in (({"quantity": 0}, "greater_than_equal"), ({}, "missing")):
        response = api("firm_admin").post(f"/api/v1/batches/{batch['id']}/label-orders", json=body)
        assert response.status_code == 422
        assert response.get_json()["errors"][0] == {
            **response.get_json()["errors"][0],
            "field": "/quantity",
            "rule": rule,
        }
    assert order(api, batch, 5, role="firm2_admin").status_code == 404


def test_rejection_and_cancellation_give_the_quota_back(api, session) -> None:
    _, batch, certificate = firm_batch(api, session, quota=100)
    first = order(api, batch, 60).get_json()
    second = order(api, batch, 40).get_json()
    assert labels_issued(session, certificate) == 100
    no_reason = api("association_admin").post(f"/api/v1/label-orders/{first['id']}/reject", json={})
    assert no_reason.status_code == 422
    blank = api("association_admin").post(
        f"/api/v1/label-orders/{first['id']}/reject", json={"reason": "   "}
    )
    assert blank.status_code == 422  # spaces are not a reason
    rejected = api("association_admin").post(
        f"/api/v1/label-orders/{first['id']}/reject", json={"reason": "quota reserved for exports"}
    )
    assert rejected.get_json()["status"] == "rejected"
    assert rejected.get_json()["decision_reason"] == "quota reserved for exports"
    assert labels_issued(session, certificate) == 40
    assert api("firm2_admin").post(f"/api/v1/label-orders/{second['id']}/cancel").status_code == 404
    cancelled = api("firm_staff").post(f"/api/v1/label-orders/{second['id']}/cancel")
    assert cancelled.get_json()["status"] == "cancelled"
    assert labels_issued(session, certificate) == 0
    again = api("association_admin").post(f"/api/v1/label-orders/{first['id']}/approve")
    assert again.status_code == 409
    assert again.get_json()["errors"][0] == {
        "field": "status",
        "rule": "state",
        "message": "must be pending, is rejected",
    }


def test_only_the_association_approves(api, session) -> None:
    _, batch, _ = firm_batch(api, session)
    pending = order(api, batch, 5).get_json()
    assert (
        api("firm_admin").post(f"/api/v1/label-orders/{pending['id']}/approve").status_code == 403
    )
    assert api("government_viewer").get(f"/api/v1/label-orders/{pending['id']}").status_code == 403


def test_brand_label_policy_auto_approves_within_quota(api, session) -> None:
    _, batch, certificate = firm_batch(api, session, quota=100)
    policy_url = f"/api/v1/brands/{BRAND}/label-policy"
    assert api("association_admin").get(policy_url).get_json()["auto_approve"] is False
    assert api("association_staff").put(policy_url, json={"auto_approve": True}).status_code == 403
    assert api("firm_admin").put(policy_url, json={"auto_approve": True}).status_code == 403
    saved = api("association_admin").put(
        policy_url, json={"auto_approve": True, "auto_approve_max": 20}
    )
    assert saved.status_code == 200 and saved.get_json()["auto_approve_max"] == 20
    small = order(api, batch, 20).get_json()
    assert small["status"] == "issued" and small["is_auto_approved"] is True
    assert small["codes_sha256"]
    large = order(api, batch, 21).get_json()
    assert large["status"] == "pending"  # above the policy's maximum: reviewed
    refused = order(api, batch, 60)
    assert refused.status_code == 409  # never beyond the quota, auto-approved or not
    assert labels_issued(session, certificate) == 41
    missing = api("association_admin").get("/api/v1/brands/no-such-brand/label-policy")
    assert missing.status_code == 404


def test_issuing_appends_the_codes_digest_to_the_transparency_log(api, session) -> None:
    _, batch, _ = firm_batch(api, session)
    pending = order(api, batch, 12).get_json()
    issued = api("association_staff").post(f"/api/v1/label-orders/{pending['id']}/approve")
    entries = entries_for_record(session, "label_order", pending["id"])
    assert len(entries) == 1
    entry = entries[0]
    assert entry.entry_type == "label_order.issued"
    assert issued.get_json()["codes_sha256"].encode() in entry.entry


def test_signed_labels_verify_offline_with_the_association_did_document(
    api, session, client
) -> None:
    _, batch, _ = firm_batch(api, session)
    pending = order(api, batch, 4, signed=True).get_json()
    assert pending["is_signed"] is True
    api("association_staff").post(f"/api/v1/label-orders/{pending['id']}/approve")
    units = api("firm_admin").get(f"/api/v1/label-orders/{pending['id']}/codes").get_json()
    did_document = client.get("/orgs/qimen-tea-association/did.json").get_json()
    methods = {method["id"]: method for method in did_document["verificationMethod"]}
    for unit in units["items"]:
        content = unit["label_content"]
        assert content.startswith(unit["digital_link"] + "?sig=")
        link = parse_digital_link(content)
        signature = dict(link.other_params)["sig"]
        # Offline: only the DID document (fetched once, cacheable) and the scanned text.
        assert any(
            verify_compact(
                signature,
                decode_ed25519_multikey(method["publicKeyMultibase"]),
                gtin=link.gtin,
                lot=link.lot,
                serial=link.serial,
                key_id=key_id,
            )
            for key_id, method in methods.items()
        )
        assert not any(
            verify_compact(
                signature,
                decode_ed25519_multikey(method["publicKeyMultibase"]),
                gtin=link.gtin,
                lot=link.lot,
                serial="0" * 14,
                key_id=key_id,
            )
            for key_id, method in methods.items()
        )
        png = client.get(unit["qr_png_url"].removeprefix(BASE))
        decoded = [
            r.text
            for r in zxingcpp.read_barcodes(
                Image.open(io.BytesIO(png.data)), formats=zxingcpp.BarcodeFormat.QRCode
            )
        ]
        assert decoded == [content]


def test_the_offline_verifier_command_checks_signed_labels(api, session, client, tmp_path) -> None:
    import json

    from app.verify import main as verify_main

    _, batch, _ = firm_batch(api, session)
    pending = order(api, batch, 2, signed=True).get_json()
    api("association_staff").post(f"/api/v1/label-orders/{pending['id']}/approve")
    unit = (
        api("firm_admin").get(f"/api/v1/label-orders/{pending['id']}/codes").get_json()["items"][0]
    )
    did_path = tmp_path / "did.json"
    did_path.write_text(json.dumps(client.get("/orgs/qimen-tea-association/did.json").get_json()))
    assert verify_main(["--label", unit["label_content"], "--did", str(did_path)]) == 0
    forged = unit["label_content"].replace(unit["serial"], "ZZZZZZZZZZZZZZ")
    assert verify_main(["--label", forged, "--did", str(did_path)]) == 1
    assert verify_main(["--label", unit["digital_link"], "--did", str(did_path)]) == 1
    assert verify_main(["--label", unit["label_content"]]) == 2


def test_the_offline_verifier_judges_a_label_at_the_time_asked_and_never_crashes(
    api, session, client, tmp_path, capsys
) -> None:
    import json

    from app.verify import main as verify_main

    _, batch, _ = firm_batch(api, session)
    pending = order(api, batch, 1, signed=True).get_json()
    api("association_staff").post(f"/api/v1/label-orders/{pending['id']}/approve")
    label = (
        api("firm_admin").get(f"/api/v1/label-orders/{pending['id']}/codes").get_json()["items"][0]
    )["label_content"]
    document = client.get("/orgs/qimen-tea-association/did.json").get_json()

    def check(revoked: object, *extra: str) -> int:
        for method in document["verificationMethod"]:
            method["revoked"] = revoked
        did_path = tmp_path / "did.json"
        did_path.write_text(json.dumps(document))
        return verify_main(["--label", label, "--did", str(did_path), *extra])

    # Key revoked from 2030 on: valid today, invalid as of 2031 (--at counts for labels too).
    assert check("2030-01-01T00:00:00Z") == 0
    assert check("2030-01-01T00:00:00Z", "--at", "2031-01-01T00:00:00Z") == 1
    assert check("2020-01-01T00:00:00Z") == 1
    assert check("2020-01-01T00:00:00Z", "--at", "2019-06-01T00:00:00Z") == 0
    capsys.readouterr()
    # A revocation date nobody can read is refused, not a traceback.
    assert check("soon") == 1
    assert "cannot be read" in capsys.readouterr().out
    assert check("2020-01-01T00:00:00") == 1  # no time zone
    # A DID "document" that is no JSON object is a usage error, as it is with --credential.
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    assert verify_main(["--label", label, "--did", str(listed)]) == 2
    assert "is not a JSON object with an id" in capsys.readouterr().err


def test_the_offline_verifier_checks_both_a_credential_and_a_label_given_together(
    api, session, client, tmp_path, capsys
) -> None:
    import json

    from app.verify import main as verify_main

    _, batch, certificate = firm_batch(api, session)
    pending = order(api, batch, 2, signed=True).get_json()
    api("association_staff").post(f"/api/v1/label-orders/{pending['id']}/approve")
    unit = (
        api("firm_admin").get(f"/api/v1/label-orders/{pending['id']}/codes").get_json()["items"][0]
    )
    suspended = api("association_admin").post(
        f"/api/v1/certificates/{certificate.number}/suspend", json={"reason": "re-test"}
    )
    assert suspended.status_code == 200, suspended.get_data(as_text=True)
    did_path = tmp_path / "did.json"
    did_path.write_text(json.dumps(client.get("/orgs/qimen-tea-association/did.json").get_json()))
    credential = client.get(f"/certificates/{certificate.number}/credential.json").get_json()
    credential_path = tmp_path / "credential.json"
    credential_path.write_text(json.dumps(credential))
    arguments = ["--credential", str(credential_path), "--did", str(did_path)]
    for entry in credential["credentialStatus"]:
        path = tmp_path / f"{entry['statusPurpose']}.json"
        path.write_bytes(client.get(entry["statusListCredential"].removeprefix(BASE)).data)
        arguments += ["--status-list", str(path)]
    capsys.readouterr()

    # A good label does not hide a suspended certificate: both are checked and printed.
    assert verify_main([*arguments, "--label", unit["label_content"]]) == 1
    out = capsys.readouterr().out
    assert "SUSPENDED" in out and "label signature" in out
    assert out.strip().endswith("verdict: invalid")
    # Nor the other way round: a forged label fails beside the certificate's checks.
    api("association_admin").post(
        f"/api/v1/certificates/{certificate.number}/reinstate", json={"reason": "passed"}
    )
    for entry in credential["credentialStatus"]:
        path = tmp_path / f"{entry['statusPurpose']}.json"
        path.write_bytes(client.get(entry["statusListCredential"].removeprefix(BASE)).data)
    assert verify_main([*arguments, "--label", unit["label_content"]]) == 0
    assert capsys.readouterr().out.strip().endswith("verdict: valid")
    forged = unit["label_content"].replace(unit["serial"], "ZZZZZZZZZZZZZZ")
    assert verify_main([*arguments, "--label", forged, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["verdict"] == "invalid" and report["label"]["valid"] is False
    assert {check["name"] for check in report["checks"]} >= {"signature", "suspension"}
