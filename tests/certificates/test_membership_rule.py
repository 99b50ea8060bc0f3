"""A firm that left a brand and joined again needs a new audit: a decision granted before its
current membership began backs no certificate, renewal or re-issue, and the portal offers no
such decision (nor one that already backs a live certificate)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select, update

from app.audits.models import AuditDecision
from app.brands.models import Membership, MembershipStatus
from app.certificates.models import Certificate, CertificateStatus
from tests.portalkit import as_role, post, text

QIMEN = "qimen-black-tea"
SHANYUAN_GTINS = ["06923456789036", "06923456789043"]
ZH = {"Accept-Language": "zh-CN"}


def _problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"].endswith(f"/problems/{slug}"), body
    return body


def _issue_form(decision_id: int) -> list[tuple[str, str]]:
    return [
        ("decision", str(decision_id)),
        ("label_quota", "10"),
        ("validity_months", "24"),
        ("valid_from", ""),
        ("sites", "0"),
        *[("gtins", gtin) for gtin in SHANYUAN_GTINS],
    ]


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Certificate))


def _current_membership(session, firm_slug: str) -> Membership:
    return session.scalar(
        select(Membership)
        .where(Membership.firm.has(slug=firm_slug), Membership.brand.has(slug=QIMEN))
        .order_by(Membership.id.desc())
    )


def _leave_and_rejoin(api, session, firm_role: str, firm_slug: str) -> int:
    """Through the API: the firm leaves, applies again and the association approves."""
    membership = _current_membership(session, firm_slug)
    left = api(firm_role).post(f"/api/v1/memberships/{membership.id}/leave", json={})
    assert left.status_code == 200, left.get_data(as_text=True)
    applied = api(firm_role).post(f"/api/v1/brands/{QIMEN}/memberships", json={})
    assert applied.status_code == 201, applied.get_data(as_text=True)
    again = applied.get_json()["id"]
    approved = api("association_admin").post(f"/api/v1/memberships/{again}/approve", json={})
    assert approved.status_code == 200, approved.get_data(as_text=True)
    session.expire_all()
    return again


def test_a_decision_from_before_leaving_backs_no_certificate(api, grant, session) -> None:
    old_decision = grant()
    _leave_and_rejoin(api, session, "firm_admin", "hongxiang-tea")
    before = _count(session)
    admin = api("association_admin")
    body = _problem(
        admin.post("/api/v1/certificates", json={"decision_id": old_decision, "label_quota": 10}),
        409,
        "decision-predates-membership",
    )
    assert body["title"] == "Decision predates the membership"
    assert f"Audit decision {old_decision} was granted on" in body["detail"]
    assert "needs a new audit" in body["detail"]
    assert body["errors"][0]["field"] == "/decision_id"
    assert body["errors"][0]["rule"] == "during_membership"
    assert body["member_since"]
    assert _count(session) == before
    chinese = _problem(
        admin.post(
            "/api/v1/certificates",
            json={"decision_id": old_decision, "label_quota": 10},
            headers=ZH,
        ),
        409,
        "decision-predates-membership",
    )
    assert chinese["title"] == "审核决定早于本次成员资格"
    assert "新的审核" in chinese["detail"] and "红香" in chinese["detail"]
    assert _count(session) == before
    # A new audit decided during the new membership backs a certificate.
    issued = admin.post("/api/v1/certificates", json={"decision_id": grant(), "label_quota": 10})
    assert issued.status_code == 201, issued.get_data(as_text=True)


def test_a_renewal_on_a_decision_from_before_leaving_is_refused(api, grant, issue, session) -> None:
    old_decision = grant()
    _leave_and_rejoin(api, session, "firm_admin", "hongxiang-tea")
    current = issue(grant())
    before = _count(session)
    refused = api("association_admin").post(
        f"/api/v1/certificates/{current.number}/renew",
        json={"decision_id": old_decision, "reason": "re-certified"},
    )
    _problem(refused, 409, "decision-predates-membership")
    assert _count(session) == before
    session.refresh(current)
    assert current.status == CertificateStatus.ACTIVE


def test_a_reissue_on_a_decision_from_before_the_membership_is_refused(api, issue, session) -> None:
    # Leaving cancels every live certificate; a live one on an older decision is a record
    # from before that rule: its membership is taken to have begun after the decision.
    certificate = issue()
    decision = session.get(AuditDecision, certificate.decision_id)
    membership = _current_membership(session, "hongxiang-tea")
    session.execute(
        update(Membership)
        .where(Membership.id == membership.id)
        .values(member_since=decision.decided_at + timedelta(seconds=1))
    )
    session.commit()
    before = _count(session)
    refused = api("association_admin").post(
        f"/api/v1/certificates/{certificate.number}/reissue",
        json={"label_quota": 9000, "reason": "more labels"},
    )
    _problem(refused, 409, "decision-predates-membership")
    assert _count(session) == before
    session.refresh(certificate)
    assert certificate.status == CertificateStatus.ACTIVE


def test_the_issue_page_lists_no_decision_from_before_the_membership(
    app, demo, api, grant, session
) -> None:
    old_decision = grant("shanyuan-tea", gtins=SHANYUAN_GTINS)
    client = as_role(app, demo, "association_admin", lang="zh_CN")
    link = f"/portal/certificates/issue?decision={old_decision}"
    assert link in text(client.get("/portal/certificates/issue"))
    membership = _current_membership(session, "shanyuan-tea")
    left = api("firm2_admin").post(f"/api/v1/memberships/{membership.id}/leave", json={})
    assert left.status_code == 200
    session.expire_all()
    # Not a member: nothing of the firm is ready for a certificate.
    assert link not in text(client.get("/portal/certificates/issue"))
    assert link not in text(client.get("/portal/certificates"))
    not_a_member = post(client, "/portal/certificates/issue", _issue_form(old_decision))
    assert not_a_member.status_code == 409
    assert "不是“祁门红茶”已批准的成员" in text(not_a_member)
    applied = api("firm2_admin").post(f"/api/v1/brands/{QIMEN}/memberships", json={})
    approved = api("association_admin").post(
        f"/api/v1/memberships/{applied.get_json()['id']}/approve", json={}
    )
    assert approved.status_code == 200
    session.expire_all()
    # A member again, but the decision predates the membership: still not ready.
    assert link not in text(client.get("/portal/certificates/issue"))
    assert link not in text(client.get("/portal/certificates"))
    before = _count(session)
    refused = post(client, "/portal/certificates/issue", _issue_form(old_decision))
    assert refused.status_code == 409
    page = text(refused)
    assert "新的审核" in page and "was granted on" not in page
    assert _count(session) == before
    # A decision of the new membership is ready.
    fresh = grant("shanyuan-tea", gtins=SHANYUAN_GTINS)
    assert f"/portal/certificates/issue?decision={fresh}" in text(
        client.get("/portal/certificates/issue")
    )


def test_the_renew_page_offers_no_decision_that_backs_a_live_certificate(
    app, demo, grant, issue, session
) -> None:
    old = issue(grant("shanyuan-tea", gtins=SHANYUAN_GTINS))
    renewal = grant("shanyuan-tea", gtins=SHANYUAN_GTINS)
    taken = grant("shanyuan-tea", gtins=SHANYUAN_GTINS)
    other = issue(taken)
    client = as_role(app, demo, "association_admin", lang="zh_CN")
    path = f"/portal/certificates/{old.number}/renew"
    page = text(client.get(path))
    offered = set(re.findall(r'<option value="(\d+)"', page))
    assert str(renewal) in offered and str(taken) not in offered
    before = _count(session)
    refused = post(
        client,
        path,
        {"decision_id": str(taken), "label_quota": "", "validity_months": "36", "reason": "x"},
    )
    assert refused.status_code == 409
    shown = text(refused)
    assert other.number in shown and "already has a live certificate" not in shown
    assert "仍有效的证书" in shown
    assert _count(session) == before


def test_the_membership_rule_reads_the_current_membership(session, grant) -> None:
    """A suspension and reinstatement keep the membership (and its start): decisions made
    during it still back certificates."""
    from app.certificates import issuance

    decision = session.get(AuditDecision, grant())
    membership = _current_membership(session, "hongxiang-tea")
    assert membership.status == MembershipStatus.APPROVED
    rule = {
        "decided_at": decision.decided_at,
        "brand_id": membership.brand_id,
        "firm_id": membership.firm_id,
    }
    assert issuance.may_back_certificates(session, **rule)
    membership.status = MembershipStatus.SUSPENDED
    session.flush()
    assert not issuance.may_back_certificates(session, **rule)
    membership.status = MembershipStatus.APPROVED
    membership.member_since = decision.decided_at + timedelta(microseconds=1)
    session.flush()
    assert not issuance.may_back_certificates(session, **rule)
