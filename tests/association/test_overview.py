"""The association's overview: its to-do list and charts, with the numbers as tables too."""

from __future__ import annotations

from sqlalchemy import select

from app.association.services import association_overview
from app.auth.models import User
from app.auth.services import caller_for
from app.certificates.models import CertificateStatus
from app.resolver.labels import ALERT_KIND_LABELS
from tests.portalkit import as_role, text


def test_overview_counts_the_demo(session, demo) -> None:
    admin = session.scalar(select(User).where(User.email == "admin@qimen-tea.example"))
    data = association_overview(session, caller_for(admin))
    assert [brand.slug for brand in data.brands] == ["qimen-black-tea"]
    assert data.members == 2 and data.members_by_region == {"CN-AH": 2}
    assert data.certified_firms == 1 and data.firms_by_brand == {"qimen-black-tea": 1}
    assert data.certificates_by_status[CertificateStatus.ACTIVE] >= 1
    assert data.certificates_by_status[CertificateStatus.SUSPENDED] >= 1
    assert data.in_force == data.certificates_by_status[CertificateStatus.ACTIVE]
    assert data.label_quota >= 70_000 and data.labels_issued == sum(
        u.labels_issued for u in data.labels
    )


def test_overview_page_has_charts_and_their_numbers(app, demo) -> None:
    client = as_role(app, demo, "association_auditor")
    english = text(client.get("/portal/overview?lang=en"))
    assert english.count('<svg class="chart" role="img"') == 7
    for words in (
        "Certified firms",
        "Certificates by status",
        "Labels issued",
        "Members by region",
        "<td>Anhui Sheng</td>",
        # Counts agree with their number: one certified firm, two members.
        "<strong>1</strong> certified firm (certificate in force)<",
        "<strong>2</strong> member firms<",
    ):
        assert words in english, words
    assert "CN-AH" not in english
    assert demo["certificate"]["number"] in english  # the labels table, for screen readers
    chinese = text(client.get("/portal/overview?lang=zh-CN"))
    # The alert kinds and verdicts in the words of the alert screens (one wording source).
    for kind, label in ALERT_KIND_LABELS.items():
        assert f"<td>{label}</td>" in english, kind
    assert "<td>Genuine, with a warning</td>" in english
    for words in (
        "同一件商品被过多消费者扫描",
        "概览",
        "待办事项",
        "获证企业",
        "各状态证书数",
        "会员企业地区分布",
        "<td>安徽省</td>",
        "<strong>1</strong> 家获证企业（证书有效）<",  # the plural message, translated
        "每日扫码量",
        "已拉黑的码被扫描",
    ):
        assert words in chinese, words


def test_firms_and_observers_have_no_overview(app, demo) -> None:
    for role in ("firm_admin", "government_viewer"):
        response = as_role(app, demo, role).get("/portal/overview", headers={"Accept": "text/html"})
        assert response.status_code == 403 and response.mimetype == "text/html"
