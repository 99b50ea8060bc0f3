"""Association portal: opening an audit, results per criterion, evidence, sign-off, the
decision with maker-checker visible, and the surveillance schedule."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import select

from app.activity.models import ActivityRecord
from app.audits.demo import RESULTS
from app.audits.models import Audit, AuditStatus, DecisionOutcome
from app.audits.services import today
from app.auth.models import Role, User
from app.files.demo_images import minimal_pdf
from app.standards.models import StandardVersion
from tests.portalkit import (
    activity_count,
    as_role,
    field_error,
    other_association_admin,
    post,
    text,
    value_of,
)

GTIN = "6923456789036"  # a Shanyuan Tea product (check digit 6)


def _open_form(demo, **changes: str) -> dict[str, str]:
    form = {
        "brand": "qimen-black-tea",
        "firm": "shanyuan-tea",
        "standard_version_id": str(demo["standard"]["version_id"]),
        "kind": "initial",
        "audited_on": (today() - timedelta(days=2)).isoformat(),
        "due_on": "",
        "summary": "现场审核 / on-site audit",
        "products-count": "3",
        "products-0-gtin": GTIN,
        "products-0-name_zh": "山源祁红",
        "products-0-name_en": "Shanyuan Keemun",
        "sites-count": "2",
        "sites-0-name": "山源初制所",
        "sites-0-address": "祁门县箬坑乡",
        "sites-0-gln": "",
    }
    form.update(changes)
    return form


def _results_form() -> dict[str, str]:
    form = {}
    for key, value, finding in RESULTS:
        if isinstance(value, bool):
            form[f"value-{key}"] = "yes" if value else "no"
        else:
            form[f"value-{key}"] = str(value)
        form[f"finding-{key}"] = finding
    return form


def _open_audit(app, demo, session) -> Audit:
    client = as_role(app, demo, "association_auditor")
    response = post(client, "/portal/audits/new", _open_form(demo))
    assert response.status_code == 303, text(response)[:2000]
    return session.get(Audit, int(response.headers["Location"].rsplit("/", 1)[1]))


def _signed_off(app, demo, session) -> Audit:
    audit = _open_audit(app, demo, session)
    auditor = as_role(app, demo, "association_auditor")
    assert post(auditor, f"/portal/audits/{audit.id}/results", _results_form()).status_code == 303
    assert (
        post(
            auditor,
            f"/portal/audits/{audit.id}/sign-off",
            {"audited_on": audit.audited_on.isoformat(), "summary": "ok"},
        ).status_code
        == 303
    )
    session.refresh(audit)
    assert audit.status == AuditStatus.SIGNED_OFF
    return audit


def test_auditor_opens_an_audit_and_errors_keep_the_form(app, demo, session) -> None:
    client = as_role(app, demo, "association_auditor", lang="zh-CN")
    page = text(client.get("/portal/audits/new"))
    assert "创建审核" in page and "山源" in page and "T/QMTA 001-2024 1.0" in page
    bad = post(
        client, "/portal/audits/new", _open_form(demo, **{"products-0-gtin": "6923456789037"})
    )
    assert bad.status_code == 422
    assert field_error(text(bad), "products-0-gtin") == "校验位错误。"
    assert value_of(text(bad), "products-0-gtin") == "6923456789037"
    none = post(
        client,
        "/portal/audits/new",
        _open_form(
            demo, **{"products-0-gtin": "", "products-0-name_zh": "", "products-0-name_en": ""}
        ),
    )
    assert none.status_code == 422 and "至少填写 1 项" in text(none)
    count = len(list(session.scalars(select(Audit))))
    first = post(client, "/portal/audits/new", _open_form(demo))
    assert first.status_code == 303
    again = post(client, "/portal/audits/new", _open_form(demo))  # a double submit
    assert again.status_code == 409 and "未做任何更改" in text(again)
    assert len(list(session.scalars(select(Audit)))) == count + 1


def test_results_are_checked_per_criterion(app, demo, session) -> None:
    audit = _open_audit(app, demo, session)
    client = as_role(app, demo, "association_auditor")
    bad = post(
        client,
        f"/portal/audits/{audit.id}/results",
        {
            **_results_form(),
            "value-moisture": "six",
            "value-pesticide_residues": "",
            "finding-pesticide_residues": "seen",
        },
    )
    assert bad.status_code == 422
    html = text(bad)
    assert field_error(html, "value-moisture") == "Enter a number."
    assert field_error(html, "value-pesticide_residues") == "Give the value of this finding."
    assert value_of(html, "value-moisture") == "six"
    session.refresh(audit)
    assert audit.measurements == []
    long = post(
        client,
        f"/portal/audits/{audit.id}/results",
        {"value-moisture": "6.5", "finding-moisture": "x" * 5001},
    )
    assert (
        long.status_code == 422
        and field_error(text(long), "finding-moisture") == "At most 5000 characters."
    )
    nothing = post(client, f"/portal/audits/{audit.id}/results", {})
    assert nothing.status_code == 422 and "Enter at least one result." in text(nothing)
    good = post(
        client,
        f"/portal/audits/{audit.id}/results",
        {"value-moisture": "7,5", "finding-moisture": "wet"},
    )
    assert good.status_code == 303
    session.refresh(audit)
    assert [(m.criterion.key, m.value_number, m.passed) for m in audit.measurements] == [
        ("moisture", 7.5, False)
    ]
    assert "<strong>fail</strong>" in text(client.get(f"/portal/audits/{audit.id}"))


def test_evidence_is_attached_once_and_svg_is_refused(app, demo, session) -> None:
    audit = _open_audit(app, demo, session)
    client = as_role(app, demo, "association_auditor")
    pdf = minimal_pdf("lab report")

    def send(data: bytes, name: str):
        return post(
            client,
            f"/portal/audits/{audit.id}/evidence",
            {
                "file": (io.BytesIO(data), name),
                "description": "Lab report",
                "criterion": "moisture",
            },
            content_type="multipart/form-data",
        )

    assert send(pdf, "report.pdf").status_code == 303
    again = send(pdf, "report.pdf")
    assert again.status_code == 409 and field_error(text(again), "file")
    svg = send(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.svg")
    assert svg.status_code == 415 and field_error(text(svg), "file")
    session.refresh(audit)
    assert len(audit.evidence) == 1 and audit.evidence[0].criterion_key == "moisture"


def test_sign_off_needs_every_mandatory_result(app, demo, session) -> None:
    audit = _open_audit(app, demo, session)
    client = as_role(app, demo, "association_auditor")
    post(client, f"/portal/audits/{audit.id}/results", {"value-moisture": "6"})
    page = text(client.get(f"/portal/audits/{audit.id}/sign-off"))
    assert "Mandatory criteria without a result" in page and "Total ash" in page
    assert "total_ash," not in page
    refused = post(
        client,
        f"/portal/audits/{audit.id}/sign-off",
        {"audited_on": audit.audited_on.isoformat(), "summary": ""},
    )
    assert refused.status_code == 422 and "cannot be signed off yet" in text(refused)
    session.refresh(audit)
    assert audit.status == AuditStatus.OPEN


def test_maker_checker_is_visible_and_enforced(app, demo, session) -> None:
    audit = _signed_off(app, demo, session)
    auditor_view = text(as_role(app, demo, "association_auditor").get(f"/portal/audits/{audit.id}"))
    assert "conducted the audit, recorded results, signed it off" in auditor_view
    assert "You took part in this audit" in auditor_view and "/decision" not in auditor_view

    admin = as_role(app, demo, "association_admin")
    assert f"/portal/audits/{audit.id}/decision" in text(admin.get(f"/portal/audits/{audit.id}"))

    # The auditor is promoted to administrator: still may not decide on their own audit.
    auditor = session.scalar(select(User).where(User.email == "auditor@qimen-tea.example"))
    auditor.role = Role.ADMIN
    session.commit()
    promoted = as_role(app, demo, "association_auditor", lang="zh-CN")
    page = text(promoted.get(f"/portal/audits/{audit.id}/decision"))
    assert "您不能对此审核作出决定" in page and 'name="outcome"' not in page
    before = activity_count(session)
    refused = post(
        promoted,
        f"/portal/audits/{audit.id}/decision",
        {"outcome": "granted", "reason": "my own work"},
    )
    assert refused.status_code == 403 and activity_count(session) == before
    session.refresh(audit)
    assert audit.status == AuditStatus.SIGNED_OFF and audit.decision is None


def test_a_different_admin_decides_once(app, demo, session) -> None:
    audit = _signed_off(app, demo, session)
    client = as_role(app, demo, "association_admin")
    page = text(client.get(f"/portal/audits/{audit.id}/decision"))
    assert "李明 Li Ming" in page and 'name="outcome"' in page
    empty = post(
        client, f"/portal/audits/{audit.id}/decision", {"outcome": "granted", "reason": ""}
    )
    assert empty.status_code == 422 and field_error(text(empty), "reason") == "Required."
    done = post(
        client,
        f"/portal/audits/{audit.id}/decision",
        {"outcome": "granted", "reason": "meets all", "surveillance_interval_months": "6"},
    )
    assert done.status_code == 303
    again = post(
        client,
        f"/portal/audits/{audit.id}/decision",
        {"outcome": "refused", "reason": "changed my mind"},
    )
    assert again.status_code == 409
    session.refresh(audit)
    assert audit.decision.outcome == DecisionOutcome.GRANTED
    detail = text(client.get(f"/portal/audits/{audit.id}"))
    assert (
        "王秀兰 Wang Xiulan" in detail
        and f"/portal/certificates/issue?decision={audit.decision.id}" in detail
    )


def test_a_passed_surveillance_audit_is_not_announced_as_a_first_grant(app, demo, session) -> None:
    scheduled = session.scalar(
        select(Audit).where(Audit.follows_audit_id == demo["audit_decision"]["audit_id"])
    )
    auditor = as_role(app, demo, "association_auditor", lang="zh-CN")
    path = f"/portal/audits/{scheduled.id}"
    assert post(auditor, f"{path}/results", _results_form()).status_code == 303
    audited_on = (today() - timedelta(days=1)).isoformat()
    signed = post(auditor, f"{path}/sign-off", {"audited_on": audited_on, "summary": "ok"})
    assert signed.status_code == 303
    admin = as_role(app, demo, "association_admin", lang="zh-CN")
    done = post(admin, f"{path}/decision", {"outcome": "granted", "reason": "仍符合标准"})
    assert done.status_code == 303
    page = text(admin.get(done.headers["Location"]))
    session.refresh(scheduled)
    due = scheduled.decision.next_surveillance_due_on.isoformat()
    assert f"监督审核通过；下一次监督审核应于 {due} 前完成。" in page
    assert "首次监督审核" not in page and "现在可以颁发证书" not in page


def test_surveillance_schedule_shows_due_and_overdue(app, demo, session) -> None:
    scheduled = session.scalar(
        select(Audit).where(Audit.follows_audit_id == demo["audit_decision"]["audit_id"])
    )
    client = as_role(app, demo, "association_staff")
    html = text(client.get("/portal/audits/surveillance"))
    assert scheduled.due_on.isoformat() in html and "Due in" in html
    scheduled.due_on = today() - timedelta(days=3)
    session.commit()
    html = text(client.get("/portal/audits/surveillance?due=overdue&lang=zh-CN"))
    assert "已逾期 3 天" in html and "1 次监督审核已逾期" in html
    overview = text(client.get("/portal/overview?lang=en"))
    assert "<strong>1</strong> overdue surveillance audit<" in overview  # singular for one


def test_audit_list_filters_and_another_association_is_refused(app, demo, session) -> None:
    audit = _signed_off(app, demo, session)
    client = as_role(app, demo, "association_staff")
    waiting = text(client.get("/portal/audits?status=signed_off"))
    assert f"Audit {audit.id}" in waiting and "Audit 1<" not in waiting
    other = other_association_admin(app, session)
    assert (
        other.get(f"/portal/audits/{audit.id}", headers={"Accept": "text/html"}).status_code == 404
    )
    assert (
        post(
            other,
            f"/portal/audits/{audit.id}/decision",
            {"outcome": "granted", "reason": "mine now"},
        ).status_code
        == 404
    )
    assert f"Audit {audit.id}" not in text(other.get("/portal/audits"))
    session.refresh(audit)
    assert audit.decision is None


def test_audits_of_a_standard_version_link_to_it(app, demo, session) -> None:
    version = session.get(StandardVersion, demo["standard"]["version_id"])
    html = text(
        as_role(app, demo, "association_auditor").get(
            f"/portal/audits/{demo['audit_decision']['audit_id']}"
        )
    )
    assert f"/portal/standard-versions/{version.id}" in html and "Evidence" in html


def test_missing_criteria_are_named_in_the_page_language(app, demo, session) -> None:
    audit = _open_audit(app, demo, session)
    client = as_role(app, demo, "association_auditor", lang="zh-CN")
    for path in (f"/portal/audits/{audit.id}", f"/portal/audits/{audit.id}/sign-off"):
        line = re.search(r"尚无结果的强制性指标[^<]*", text(client.get(path)))
        assert line is not None, path
        assert "水分、总灰分" in line.group() and "moisture" not in line.group(), line.group()


def _newest_activity(session) -> ActivityRecord:
    session.expire_all()
    return session.scalars(select(ActivityRecord).order_by(ActivityRecord.id.desc())).first()


def test_portal_audit_steps_record_their_target_like_the_api(app, demo, session) -> None:
    audit = _open_audit(app, demo, session)
    opened = session.scalars(
        select(ActivityRecord).where(ActivityRecord.action == "audits_portal.new_audit")
    ).all()
    assert opened[-1].target == f"audit:{audit.id}"
    auditor = as_role(app, demo, "association_auditor")
    assert post(auditor, f"/portal/audits/{audit.id}/results", _results_form()).status_code == 303
    record = _newest_activity(session)
    assert (record.action, record.target) == ("audits_portal.record_results", f"audit:{audit.id}")
    post(
        auditor,
        f"/portal/audits/{audit.id}/sign-off",
        {"audited_on": audit.audited_on.isoformat(), "summary": "ok"},
    )
    record = _newest_activity(session)
    assert (record.action, record.target) == ("audits_portal.sign_off", f"audit:{audit.id}")
    admin = as_role(app, demo, "association_admin")
    done = post(
        admin, f"/portal/audits/{audit.id}/decision", {"outcome": "granted", "reason": "meets all"}
    )
    assert done.status_code == 303
    record = _newest_activity(session)
    assert (record.action, record.target) == ("audits_portal.decide", f"audit:{audit.id}")
