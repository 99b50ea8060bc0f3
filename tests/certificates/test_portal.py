"""Association portal: issuing from a granted decision, the certificates list, suspend /
reinstate / withdraw / cancel / renew with reasons and confirmations, and the signing keys;
the holder firm's own cancellation page."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.audits.services import today
from app.certificates.models import Certificate, CertificateStatus, IssuerKey, KeyStatus
from tests.portalkit import (
    activity_count,
    as_role,
    field_error,
    other_association_admin,
    post,
    text,
    value_of,
)

GTINS = ["06923456789036", "06923456789043"]


def _issue_form(decision_id: int, **changes) -> list[tuple[str, str]]:
    form = {
        "decision": str(decision_id),
        "label_quota": "1000",
        "validity_months": "24",
        "valid_from": "",
    }
    form.update(changes)
    pairs = [(k, v) for k, v in form.items() if k != "gtins"]
    pairs += [("gtins", gtin) for gtin in changes.get("gtins", GTINS)]
    pairs.append(("sites", "0"))
    return pairs


def _issued(session, number: str) -> Certificate:
    certificate = session.scalar(select(Certificate).where(Certificate.number == number))
    session.refresh(certificate)
    return certificate


def test_issue_from_a_granted_decision(app, demo, session, grant) -> None:
    decision_id = grant("shanyuan-tea", gtins=GTINS)
    client = as_role(app, demo, "association_staff")
    ready = text(client.get("/portal/certificates"))
    assert f"/portal/certificates/issue?decision={decision_id}" in ready
    page = text(client.get(f"/portal/certificates/issue?decision={decision_id}"))
    assert GTINS[0] in page and value_of(page, "validity_months") == "36"

    bad = post(
        client, "/portal/certificates/issue", _issue_form(decision_id, label_quota="-5", gtins=[])
    )
    assert bad.status_code == 422
    assert field_error(text(bad), "label_quota") == "At least 0." and field_error(
        text(bad), "gtins"
    )
    assert value_of(text(bad), "label_quota") == "-5"

    response = post(
        client, "/portal/certificates/issue", _issue_form(decision_id, gtins=[GTINS[0]])
    )
    assert response.status_code == 303
    number = response.headers["Location"].rsplit("/", 1)[1]
    certificate = _issued(session, number)
    assert certificate.scope_gtins == [GTINS[0]] and certificate.label_quota == 1000
    assert certificate.status == CertificateStatus.ACTIVE
    page = text(client.get(response.headers["Location"]))
    assert f"/certificates/{number}" in page and "in force" in page

    # The same form sent again: the product is already covered, nothing is issued twice.
    again = post(client, "/portal/certificates/issue", _issue_form(decision_id, gtins=[GTINS[0]]))
    assert again.status_code == 409 and "already has a live certificate" in text(again)
    live = session.scalars(select(Certificate).where(Certificate.decision_id == decision_id)).all()
    assert len(live) == 1
    # The other product can still get its own certificate; the covered one is shown as such.
    assert f"already covered by {number}" in text(
        client.get(f"/portal/certificates/issue?decision={decision_id}")
    )


def test_suspend_reinstate_then_withdraw_for_good(app, demo, session, issue) -> None:
    number = issue().number
    client = as_role(app, demo, "association_admin", lang="zh-CN")
    base = f"/portal/certificates/{number}"
    assert "证书将立即失效" in text(client.get(base + "/suspend"))
    past = post(
        client,
        base + "/suspend",
        {"reason": "抽检不合格", "until": (today() - timedelta(days=1)).isoformat()},
    )
    assert past.status_code == 422 and field_error(text(past), "until")
    assert value_of(text(past), "until") == (today() - timedelta(days=1)).isoformat()
    empty = post(client, base + "/suspend", {"reason": ""})
    assert empty.status_code == 422 and field_error(text(empty), "reason") == "必填。"
    blank = post(client, base + "/suspend", {"reason": " \n "})
    assert blank.status_code == 422 and field_error(text(blank), "reason") == "必填。"
    long = post(client, base + "/suspend", {"reason": "x" * 501})
    assert long.status_code == 422 and field_error(text(long), "reason") == "最多 500 个字符。"
    assert _issued(session, number).status == CertificateStatus.ACTIVE

    until = (today() + timedelta(days=30)).isoformat()
    assert (
        post(client, base + "/suspend", {"reason": "抽检不合格", "until": until}).status_code == 303
    )
    certificate = _issued(session, number)
    assert (
        certificate.status == CertificateStatus.SUSPENDED
        and certificate.suspended_until.date().isoformat() == until
    )
    before = activity_count(session)
    again = post(client, base + "/suspend", {"reason": "again"})
    assert again.status_code == 409 and activity_count(session) == before

    assert post(client, base + "/reinstate", {"reason": "复检合格"}).status_code == 303
    assert _issued(session, number).status == CertificateStatus.ACTIVE

    confirm = text(client.get(base + "/withdraw"))
    assert "此操作无法撤回" in confirm and "撤销是最终的" in confirm
    assert post(client, base + "/withdraw", {"reason": "严重违规"}).status_code == 303
    assert _issued(session, number).status == CertificateStatus.WITHDRAWN
    final = post(client, base + "/reinstate", {"reason": "undo"})
    assert (
        final.status_code == 409 and _issued(session, number).status == CertificateStatus.WITHDRAWN
    )
    history = text(client.get(base))
    assert "严重违规" in history and "复检合格" in history and "不能再变更" in history


def test_the_association_records_a_cancellation_after_a_confirmation(
    app, demo, session, issue
) -> None:
    number = issue().number
    client = as_role(app, demo, "association_staff", lang="zh-CN")
    base = f"/portal/certificates/{number}"
    assert f'href="{base}/cancel"' in text(client.get(base))
    confirm = text(client.get(base + "/cancel"))
    assert "此操作无法撤回" in confirm and "注销是最终的" in confirm and "保留证书" in confirm
    empty = post(client, base + "/cancel", {"reason": ""})
    assert empty.status_code == 422 and field_error(text(empty), "reason") == "必填。"
    assert _issued(session, number).status == CertificateStatus.ACTIVE

    done = post(client, base + "/cancel", {"reason": "企业来函申请注销"})
    assert done.status_code == 303 and done.headers["Location"] == base
    assert _issued(session, number).status == CertificateStatus.CANCELLED
    page = text(client.get(base))
    assert "已注销" in page and "应持证方申请注销" in page and "企业来函申请注销" in page
    assert f"{base}/withdraw" not in page and f"{base}/cancel" not in page
    before = activity_count(session)
    again = post(client, base + "/withdraw", {"reason": "too late"})
    assert again.status_code == 409 and activity_count(session) == before
    assert _issued(session, number).status == CertificateStatus.CANCELLED


def test_the_holder_firm_gives_up_its_certificate(app, demo, session, issue) -> None:
    number = issue().number
    path = f"/portal/firm/certificates/{number}/cancel"
    html = {"Accept": "text/html"}
    assert as_role(app, demo, "firm_staff").get(path, headers=html).status_code == 403
    assert as_role(app, demo, "association_admin").get(path, headers=html).status_code == 403
    other = as_role(app, demo, "firm2_admin")
    assert other.get(path, headers=html).status_code == 404
    assert post(other, path, {"reason": "hostile"}).status_code == 404
    assert _issued(session, number).status == CertificateStatus.ACTIVE

    client = as_role(app, demo, "firm_admin")
    confirm = text(client.get(path))
    assert "This cannot be undone." in confirm and "Your firm gives this certificate up" in confirm
    assert "Keep the certificate" in confirm
    done = post(client, path, {"reason": "We stop producing this tea."})
    assert done.status_code == 303 and done.headers["Location"] == f"/certificates/{number}"
    assert _issued(session, number).status == CertificateStatus.CANCELLED
    public = text(client.get(done.headers["Location"]))
    assert f"Certificate {number} is cancelled." in public
    assert "Cancelled" in public and "We stop producing this tea." in public
    assert post(client, path, {"reason": "again"}).status_code == 409


def test_renew_on_a_new_decision(app, demo, session, grant, issue) -> None:
    old = issue(grant("shanyuan-tea", gtins=GTINS))
    client = as_role(app, demo, "association_admin")
    page = text(client.get(f"/portal/certificates/{old.number}/renew"))
    assert "No other granted decision" in page
    renewal = grant("shanyuan-tea", gtins=GTINS)
    page = text(client.get(f"/portal/certificates/{old.number}/renew"))
    assert f'value="{renewal}"' in page
    response = post(
        client,
        f"/portal/certificates/{old.number}/renew",
        {
            "decision_id": str(renewal),
            "label_quota": "",
            "validity_months": "36",
            "reason": "re-certified",
        },
    )
    assert response.status_code == 303
    new_number = response.headers["Location"].rsplit("/", 1)[1]
    assert new_number != old.number
    assert _issued(session, old.number).status == CertificateStatus.SUPERSEDED
    assert _issued(session, new_number).label_quota == old.label_quota


def test_list_filters_by_status(app, demo) -> None:
    client = as_role(app, demo, "association_auditor")
    suspended = text(client.get("/portal/certificates?status=suspended"))
    assert demo["certificate_suspended"]["number"] in suspended
    assert demo["certificate"]["number"] not in suspended
    assert "Issue a certificate" not in suspended  # auditors do not issue (maker-checker)


def test_another_associations_certificates_are_not_found(app, demo, session) -> None:
    number = demo["certificate"]["number"]
    other = other_association_admin(app, session)
    assert (
        other.get(f"/portal/certificates/{number}", headers={"Accept": "text/html"}).status_code
        == 404
    )
    assert (
        post(other, f"/portal/certificates/{number}/withdraw", {"reason": "hostile"}).status_code
        == 404
    )
    assert (
        post(other, f"/portal/certificates/{number}/cancel", {"reason": "hostile"}).status_code
        == 404
    )
    decision = demo["audit_decision"]["id"]
    assert (
        other.get(
            f"/portal/certificates/issue?decision={decision}", headers={"Accept": "text/html"}
        ).status_code
        == 404
    )
    assert number not in text(other.get("/portal/certificates"))
    assert _issued(session, number).status == CertificateStatus.ACTIVE


def test_keys_show_public_material_only_and_rotate_once(app, demo, session) -> None:
    client = as_role(app, demo, "association_admin")
    page = text(client.get("/portal/keys"))
    key = session.scalar(select(IssuerKey).where(IssuerKey.status == KeyStatus.ACTIVE))
    assert key.public_key_multibase in page and "did:web:" in page
    sealed = session.scalar(select(IssuerKey.sealed_private_key).where(IssuerKey.id == key.id))
    assert sealed not in page and sealed[:24] not in page
    confirm = text(client.get("/portal/keys/rotate"))
    assert f'name="key" value="{key.fragment}"' in confirm
    assert post(client, "/portal/keys/rotate", {"key": key.fragment}).status_code == 303
    again = post(client, "/portal/keys/rotate", {"key": key.fragment})  # the same form twice
    assert again.status_code == 409 and "already rotated" in text(again)
    session.expire_all()
    keys = session.scalars(
        select(IssuerKey).where(IssuerKey.organisation_id == key.organisation_id)
    ).all()
    assert [k.status for k in keys].count(KeyStatus.ACTIVE) == 1
    assert len(keys) == 2
    assert "Retired: its signatures stay valid" in text(client.get("/portal/keys"))


def test_staff_see_keys_but_cannot_rotate(app, demo) -> None:
    client = as_role(app, demo, "association_staff")
    assert "/portal/keys/rotate" not in text(client.get("/portal/keys"))
    assert client.get("/portal/keys/rotate", headers={"Accept": "text/html"}).status_code == 403


def test_reissue_changes_the_quota_and_keeps_labels_issued(app, demo, session) -> None:
    number = demo["certificate"]["number"]
    old = _issued(session, number)
    client = as_role(app, demo, "association_staff")
    page = text(client.get(f"/portal/certificates/{number}/reissue"))
    assert value_of(page, "label_quota") == str(old.label_quota)
    too_few = post(
        client,
        f"/portal/certificates/{number}/reissue",
        [("gtins", old.scope_gtins[0]), ("sites", "0"), ("label_quota", "0"), ("reason", "less")],
    )
    assert too_few.status_code == 422 and field_error(text(too_few), "label_quota")
    no_reason = post(
        client,
        f"/portal/certificates/{number}/reissue",
        [("gtins", old.scope_gtins[0]), ("sites", "0"), ("label_quota", "60000")],
    )
    assert no_reason.status_code == 422 and field_error(text(no_reason), "reason") == "Required."
    assert _issued(session, number).status == CertificateStatus.ACTIVE
    done = post(
        client,
        f"/portal/certificates/{number}/reissue",
        [
            ("gtins", old.scope_gtins[0]),
            ("sites", "0"),
            ("label_quota", "60000"),
            ("reason", "more labels"),
        ],
    )
    assert done.status_code == 303
    new = _issued(session, done.headers["Location"].rsplit("/", 1)[1])
    assert new.label_quota == 60000 and new.labels_issued == old.labels_issued
    assert _issued(session, number).status == CertificateStatus.SUPERSEDED


def test_a_compromised_key_is_revoked_from_a_date_after_a_confirmation(app, demo, session) -> None:
    client = as_role(app, demo, "association_admin")
    key = session.scalar(select(IssuerKey).where(IssuerKey.status == KeyStatus.ACTIVE))
    path = f"/portal/keys/{key.fragment}/revoke"
    assert path in text(client.get("/portal/keys"))
    confirm = text(client.get(path))
    assert "This cannot be undone." in confirm and key.public_key_multibase not in confirm
    before = activity_count(session)

    future = post(client, path, {"revoked_from": "2999-01-01T00:00", "reason": "leaked"})
    assert future.status_code == 422 and field_error(text(future), "revoked_from")
    assert value_of(text(future), "revoked_from") == "2999-01-01T00:00"
    garbled = post(client, path, {"revoked_from": "yesterday", "reason": "leaked"})
    assert field_error(text(garbled), "revoked_from") == "Enter a date and time (UTC)."
    no_reason = post(client, path, {"revoked_from": ""})
    assert no_reason.status_code == 422 and field_error(text(no_reason), "reason") == "Required."
    # The reason is published with the revocation: spaces are no reason.
    blank = post(client, path, {"revoked_from": "", "reason": "   "})
    assert blank.status_code == 422 and field_error(text(blank), "reason") == "Required."
    forged = client.post(path, data={"reason": "leaked"}, headers={"Accept": "text/html"})
    assert forged.status_code in (400, 403)
    session.expire_all()
    assert session.get(IssuerKey, key.id).status == KeyStatus.ACTIVE
    assert activity_count(session) == before

    since = key.valid_from.strftime("%Y-%m-%dT%H:%M:%S")  # every certificate it signed
    done = post(client, path, {"revoked_from": since, "reason": "私钥泄露 / private key leaked"})
    assert done.status_code == 303
    page = text(client.get("/portal/keys"))
    flash = re.search(r"<p class=\"flash[^>]*>([^<]*)<", page).group(1)
    assert f"Key {key.fragment} is revoked from" in flash and "re-issue them" in flash
    assert demo["certificate"]["number"] in flash
    session.expire_all()
    revoked = session.get(IssuerKey, key.id)
    assert revoked.status == KeyStatus.REVOKED and revoked.revocation_reason.startswith("私钥")
    assert revoked.revoked_at.strftime("%Y-%m-%dT%H:%M:%S") == since
    assert session.scalar(select(IssuerKey).where(IssuerKey.status == KeyStatus.ACTIVE))

    again = post(client, path, {"revoked_from": "", "reason": "twice"})  # the same form again
    assert again.status_code == 409 and "already revoked" in text(again)
    session.expire_all()
    assert session.get(IssuerKey, key.id).revocation_reason.startswith("私钥")
    assert f"{path}" not in page  # a revoked key offers no second revocation


def test_staff_and_other_associations_cannot_revoke_keys(app, demo, session) -> None:
    key = session.scalar(select(IssuerKey).where(IssuerKey.status == KeyStatus.ACTIVE))
    staff = as_role(app, demo, "association_staff")
    assert "/revoke" not in text(staff.get("/portal/keys"))
    path = f"/portal/keys/{key.fragment}/revoke"
    assert staff.get(path, headers={"Accept": "text/html"}).status_code == 403
    other = other_association_admin(app, session)
    assert post(other, path, {"reason": "not yours"}).status_code == 404
    session.expire_all()
    assert session.get(IssuerKey, key.id).status == KeyStatus.ACTIVE


def test_an_active_certificate_in_force_is_not_called_valid_twice_in_chinese(app, demo) -> None:
    # "Active" and "in force" are both 有效 in Chinese: "有效 · 有效" said nothing twice.
    def words(path: str) -> str:
        return " ".join(re.sub(r"<[^>]+>", " ", text(client.get(path))).split())

    number = demo["certificate"]["number"]
    client = as_role(app, demo, "association_staff", lang="zh-CN")
    for path in (f"/portal/certificates/{number}", "/portal/certificates"):
        shown = words(path)
        assert "有效 · 有效" not in shown and "有效" in shown, path
    # A suspended one still gives both its status and its standing.
    assert "暂停 · 无效" in words(f"/portal/certificates/{demo['certificate_suspended']['number']}")
