"""The observer's register and statistics: what a market regulator, an alliance and the
association see of the brands they co-build, in both languages, with filters, sorting, paging
and CSV exports; nothing of brands they do not co-build; nothing for firms."""

from __future__ import annotations

import csv
import gc
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from app.auth import services as auth
from app.auth.models import OrgKind, Role, User
from app.certificates.models import Certificate
from app.db import utcnow
from app.extensions import db
from app.observer.services import csv_lines
from app.resolver import services as resolver
from app.resolver.rules import RuleKind
from tests.test_pages_matrix import _sign_in

PASSWORD = "a-long-password-9"


def _words(response) -> str:
    """What a person reads: the page without its tags."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def _words_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # spreadsheets then read the Chinese names as UTF-8
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def outsider(client, session):
    """A government body that co-builds no brand, signed in."""
    organisation = auth.create_organisation(
        session,
        slug="other-county-amr",
        kind=OrgKind.GOVERNMENT,
        name_zh="另一县市场监督管理局",
        name_en="Another County AMR",
    )
    auth.create_user(
        session,
        organisation=organisation,
        email="viewer@other-county.example",
        display_name="Other",
        role=Role.VIEWER,
        password=PASSWORD,
    )
    session.commit()
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)
    ).group(1)
    response = client.post(
        "/login",
        data={"email": "viewer@other-county.example", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303
    return client


# --- brands ------------------------------------------------------------------------------------


def test_regulator_sees_the_brand_it_supervises_with_counts(client, demo) -> None:
    _sign_in(client, demo, "government_viewer")
    response = client.get("/portal/register")
    assert response.status_code == 200
    page = _words(response)
    assert "Qimen Black Tea" in page and "Qimen County Tea Industry Association" in page
    assert "(1 in all)" in page
    html = response.get_data(as_text=True)
    # Two approved members and one certificate in force, each linking to the list behind it.
    members = "/portal/register/members?brand=qimen-black-tea&amp;status=approved"
    certificates = "/portal/register/certificates?brand=qimen-black-tea&amp;status=active"
    assert f'<a href="{members}">2</a>' in html and f'<a href="{certificates}">1</a>' in html


def test_register_in_chinese(client, demo) -> None:
    _sign_in(client, demo, "alliance_viewer")
    page = _words(client.get("/portal/register?lang=zh-CN"))
    assert "品牌名录" in page and "祁门红茶" in page and "祁门县茶业协会" in page
    members = _words(client.get("/portal/register/members"))
    assert "会员企业" in members and "祁门红香茶业有限公司" in members
    assert "统一社会信用代码" in members


def test_brand_search(client, demo) -> None:
    _sign_in(client, demo, "association_admin")
    assert "(1 in all)" in _words(client.get("/portal/register?q=qimen"))
    assert "(0 in all)" in _words(client.get("/portal/register?q=longjing"))


def test_an_organisation_that_co_builds_nothing_sees_nothing(outsider) -> None:
    page = _words(outsider.get("/portal/register"))
    assert "Your organisation does not own or co-build any brand." in page
    assert "(0 in all)" in _words(outsider.get("/portal/register/members"))
    assert "(0 in all)" in _words(outsider.get("/portal/register/certificates"))
    assert _csv(outsider.get("/portal/register/certificates.csv")) == []
    assert _csv(outsider.get("/portal/register/members.csv")) == []
    # Another organisation's brand named in the query narrows nothing into view.
    assert _csv(outsider.get("/portal/register/members.csv?brand=qimen-black-tea")) == []
    stats = _words(outsider.get("/portal/statistics"))
    assert "Your organisation does not own or co-build any brand." in stats


def test_firms_may_not_open_the_register(client, demo) -> None:
    _sign_in(client, demo, "firm_admin")
    for path in (
        "/portal/register",
        "/portal/register/certificates.csv",
        "/portal/register/scan-rules",
        "/portal/statistics",
    ):
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 403, path
    assert "/portal/register" not in client.get("/portal").get_data(as_text=True)


def test_the_register_is_read_only(client, demo) -> None:
    _sign_in(client, demo, "government_viewer")
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/portal/register").get_data(as_text=True)
    ).group(1)
    for path in (
        "/portal/register",
        "/portal/register/certificates",
        "/portal/register/scan-rules",
        "/portal/statistics",
    ):
        assert client.post(path, data={"csrf_token": token}).status_code == 405


# --- scan alert rules ------------------------------------------------------------------------


def _rule_row(html: str, kind: str) -> str:
    return re.search(rf'<tr id="rule-{kind}">(.*?)</tr>', html, re.S).group(1)


def test_regulator_reads_the_brands_scan_rules_as_the_owner_set_them(client, demo, session) -> None:
    owner = session.scalar(
        select(User).where(User.email == demo["users"]["association_admin"]["username"])
    )
    resolver.set_rule(
        session,
        auth.caller_for(owner),
        "qimen-black-tea",
        RuleKind.MANY_CLIENTS,
        is_enabled=True,
        threshold=7,
        window_minutes=45,
    )
    session.commit()
    _sign_in(client, demo, "government_viewer")
    response = client.get("/portal/register/scan-rules")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'aria-current="page">Scan alert rules</a>' in html
    changed = _words_of(_rule_row(html, "many_clients"))
    assert "Many shoppers within a short time" in changed
    assert "on 7 45 the brand's owner" in changed
    assert "default" in _words_of(_rule_row(html, "repeat_scans"))
    # Read only: no form posts anywhere, and no link to the owner's editing screen.
    assert 'method="post"' not in html.split("<main")[-1]
    assert "/portal/scan-rules" not in html
    chinese = _words(client.get("/portal/register/scan-rules?lang=zh-CN"))
    assert "扫码预警规则" in chinese and "品牌所有方" in chinese and "时间窗口（分钟）" in chinese


def test_the_owners_admin_gets_a_link_to_change_the_rules(client, demo) -> None:
    _sign_in(client, demo, "association_admin")
    html = client.get("/portal/register/scan-rules").get_data(as_text=True)
    assert 'href="/portal/scan-rules?brand=qimen-black-tea"' in html


def test_scan_rules_of_a_brand_not_co_built_are_refused_clearly(outsider) -> None:
    assert "does not own or co-build any brand" in _words(
        outsider.get("/portal/register/scan-rules")
    )
    refused = outsider.get(
        "/portal/register/scan-rules?brand=qimen-black-tea", headers={"Accept": "text/html"}
    )
    assert refused.status_code == 404
    assert "No brand qimen-black-tea among those your organisation owns or co-builds." in (
        _words(refused)
    )


# --- members -----------------------------------------------------------------------------------


def test_members_filter_and_sort(client, demo) -> None:
    _sign_in(client, demo, "government_viewer")
    page = _words(client.get("/portal/register/members?q=shanyuan"))
    assert "(1 in all)" in page and "Qimen Shanyuan Tea Co., Ltd." in page
    assert "Hongxiang" not in page
    by_registration = _words(client.get("/portal/register/members?q=91341024ma2n7b4c3p"))
    assert "(1 in all)" in by_registration and "Qimen Hongxiang Tea Co., Ltd." in by_registration
    assert "(0 in all)" in _words(client.get("/portal/register/members?status=rejected"))
    html = client.get("/portal/register/members?sort=firm&dir=desc").get_data(as_text=True)
    assert html.index("Shanyuan") < html.index("Hongxiang")
    assert 'aria-sort="descending"' in html


def test_members_csv_follows_the_filters(client, demo) -> None:
    _sign_in(client, demo, "alliance_viewer")
    rows = _csv(client.get("/portal/register/members.csv?status=approved&sort=firm&dir=asc"))
    assert [row["firm"] for row in rows] == ["hongxiang-tea", "shanyuan-tea"]
    first = rows[0]
    assert first["brand"] == "qimen-black-tea" and first["status"] == "approved"
    assert first["firm_name_zh"] == "祁门红香茶业有限公司"
    assert first["registration_number"] == "91341024MA2N7B4C3P"
    assert first["active_certificates"] == "1" and rows[1]["active_certificates"] == "0"
    assert first["member_since"].endswith("Z")
    only = _csv(client.get("/portal/register/members.csv?q=shanyuan"))
    assert [row["firm"] for row in only] == ["shanyuan-tea"]


# --- certificates ------------------------------------------------------------------------------


def test_certificates_are_found_by_part_of_their_number(client, demo) -> None:
    _sign_in(client, demo, "government_viewer")
    number = demo["certificate"]["number"]
    for query in (number.split("-")[0].lower(), number.split("-")[-1], number):
        page = _words(client.get("/portal/register/certificates", query_string={"q": query}))
        assert number in page and "(0 in all)" not in page, query
    assert "(0 in all)" in _words(client.get("/portal/register/certificates?q=%25"))


def test_certificates_show_status_and_whether_in_force_in_words(client, demo) -> None:
    _sign_in(client, demo, "government_viewer")
    page = _words(client.get("/portal/register/certificates"))
    active, suspended = demo["certificate"]["number"], demo["certificate_suspended"]["number"]
    assert "(2 in all)" in page and active in page and suspended in page
    assert "✓ In force" in page and "✗ Not in force" in page
    only = _words(client.get("/portal/register/certificates?status=suspended"))
    assert suspended in only and active not in only and "Suspended" in only
    zh = _words(client.get("/portal/register/certificates?status=suspended&lang=zh-CN"))
    assert "暂停" in zh and "无效" in zh and "祁门红香茶业有限公司" in zh


def test_a_cancelled_certificate_is_listed_and_counted_as_cancelled(client, demo, api) -> None:
    number = demo["certificate"]["number"]
    cancelled = api("firm_admin").post(
        f"/api/v1/certificates/{number}/cancel", json={"reason": "left the brand"}
    )
    assert cancelled.status_code == 200
    _sign_in(client, demo, "government_viewer")
    only = _words(client.get("/portal/register/certificates?status=cancelled"))
    assert "(1 in all)" in only and number in only and "Cancelled" in only
    assert "✗ Not in force" in only
    zh = _words(client.get("/portal/register/certificates?status=cancelled&lang=zh-CN"))
    assert number in zh and "已注销" in zh
    rows = _csv(client.get("/portal/register/certificates.csv?status=cancelled"))
    assert [(row["number"], row["status"], row["not_in_force_because"]) for row in rows] == [
        (number, "cancelled", "cancelled")
    ]
    html = client.get("/portal/statistics?lang=en").get_data(as_text=True)
    tables = re.findall(r'<table class="table numbers">.*?</table>', html, re.S)
    by_status = dict(re.findall(r"<tr><td>([^<]*)</td><td>(\d+)</td></tr>", tables[1]))
    assert by_status["Cancelled"] == "1" and by_status["Active"] == "0"
    assert by_status["Withdrawn"] == "0"
    zh_statistics = _words(client.get("/portal/statistics?lang=zh-CN"))
    assert "已注销" in zh_statistics


def test_certificate_search_and_paging(client, demo) -> None:
    _sign_in(client, demo, "association_staff")
    number = demo["certificate"]["number"]
    page = _words(client.get(f"/portal/register/certificates?q={number.lower()}"))
    assert "(1 in all)" in page and number in page
    by_name = _words(client.get("/portal/register/certificates?q=hongxiang"))
    assert "(2 in all)" in by_name
    first = client.get("/portal/register/certificates?per_page=1&sort=number&dir=asc")
    second = client.get("/portal/register/certificates?per_page=1&sort=number&dir=asc&page=2")
    assert "Page 1 of 2" in _words(first) and "Page 2 of 2" in _words(second)
    assert number in _words(first) and demo["certificate_suspended"]["number"] in _words(second)
    assert 'rel="next"' in first.get_data(as_text=True)


def test_certificates_csv_has_every_selected_row_in_table_order(client, demo, session) -> None:
    _sign_in(client, demo, "government_viewer")
    response = client.get("/portal/register/certificates.csv?sort=number&dir=asc&per_page=1")
    rows = _csv(response)
    assert 'filename="certificates-' in response.headers["Content-Disposition"]
    # Every row the filters select (not only the first page), in the table's order.
    assert [row["number"] for row in rows] == [
        demo["certificate"]["number"],
        demo["certificate_suspended"]["number"],
    ]
    active, suspended = rows
    stored = session.scalar(select(Certificate).where(Certificate.number == active["number"]))
    assert active["status"] == "active" and active["in_force"] == "yes"
    assert active["not_in_force_because"] == ""
    assert active["holder_name_zh"] == "祁门红香茶业有限公司"
    assert active["brand"] == "qimen-black-tea" and active["issuer"] == "qimen-tea-association"
    assert active["gtins"] == " ".join(stored.scope_gtins)
    assert active["label_quota"] == str(stored.label_quota)
    assert active["labels_issued"] == str(stored.labels_issued)
    assert active["url"] == f"https://brand.example.test/certificates/{active['number']}"
    assert suspended["in_force"] == "no" and suspended["not_in_force_because"] == "suspended"
    filtered = _csv(client.get("/portal/register/certificates.csv?status=suspended"))
    assert [row["number"] for row in filtered] == [suspended["number"]]


@contextmanager
def _no_garbage_collection() -> Iterator[None]:
    # The collector would return a leaked connection to the pool and hide the leak.
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.committing
def test_exports_give_their_connection_back(app, client, demo) -> None:
    _sign_in(client, demo, "association_admin")
    with app.app_context():
        pool = db.engine.pool
    with _no_garbage_collection():
        before = pool.checkedout()
        for _ in range(20):
            certificates = _csv(client.get("/portal/register/certificates.csv?sort=number"))
            members = _csv(client.get("/portal/register/members.csv?status=approved"))
            assert pool.checkedout() == before
    assert {row["number"] for row in certificates} == {
        demo["certificate"]["number"],
        demo["certificate_suspended"]["number"],
    }
    assert len(members) == 2 and {row["brand"] for row in members} == {"qimen-black-tea"}


@pytest.mark.committing
def test_an_export_the_client_leaves_half_read_gives_its_connection_back(app, client, demo) -> None:
    _sign_in(client, demo, "association_admin")
    with app.app_context():
        pool = db.engine.pool
    with _no_garbage_collection():
        before = pool.checkedout()
        for path in ("/portal/register/certificates.csv", "/portal/register/members.csv"):
            response = client.get(path, buffered=False)
            chunks = iter(response.response)
            assert next(chunks).startswith("\ufeff".encode())  # the header line
            next(chunks)  # a row: the export is reading now
            assert pool.checkedout() == before + 1
            response.close()  # the client went away mid-stream
            assert pool.checkedout() == before, path
            unread = client.get(path, buffered=False)
            unread.close()  # before a single line was sent
            assert pool.checkedout() == before, path


def test_csv_cells_never_start_a_formula() -> None:
    text = "".join(csv_lines(["a", "b"], [['=HYPERLINK("x")', "+1"], ["-2", "祁门"]]))
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows == [["a", "b"], ['\'=HYPERLINK("x")', "'+1"], ["'-2", "祁门"]]


# --- statistics --------------------------------------------------------------------------------


def test_statistics_charts_with_their_numbers(client, demo, session) -> None:
    _sign_in(client, demo, "government_viewer")
    response = client.get("/portal/statistics")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('<svg class="chart" role="img"') == 8  # five here, three of scans
    for title in (
        "Certified firms per brand",
        "Certificates by status",
        "Certified firms by region",
        "Labels issued per firm",
        "Labels issued per month",
    ):
        assert f'aria-label="{title}"' in html
    tables = re.findall(r'<table class="table numbers">.*?</table>', html, re.S)
    numbers = [
        dict(re.findall(r"<tr><td>([^<]*)</td><td>(\d+)</td></tr>", table)) for table in tables
    ]
    assert numbers[0] == {"Qimen Black Tea": "1"}
    assert numbers[1]["Active"] == "1" and numbers[1]["Suspended"] == "1"
    assert numbers[2] == {"Anhui Sheng": "1"}
    issued = numbers[3]["Qimen Hongxiang Tea Co., Ltd."]
    assert int(issued) > 0 and sum(int(n) for n in numbers[4].values()) == int(issued)
    assert len(numbers[4]) == 12  # the last twelve months, empty ones included
    assert f"Labels issued in all: {issued}." in _words(response)


def test_statistics_in_chinese(client, demo) -> None:
    _sign_in(client, demo, "association_admin")
    page = _words(client.get("/portal/statistics?lang=zh-CN"))
    assert "统计" in page and "各品牌获证企业数" in page and "安徽省" in page and "祁门红茶" in page
    assert "品牌：祁门红茶。" in page and "祁门红茶." not in page


def test_the_blocked_verdict_has_the_firms_word_in_chinese(client, demo) -> None:
    # Observers and the firm count the same scans: one word for a blocked code, not two.
    _sign_in(client, demo, "government_viewer")
    page = _words(client.get("/portal/statistics?lang=zh-CN"))
    assert "已封禁" in page and "已屏蔽" not in page


def test_brand_lists_follow_the_page_language(app) -> None:
    from app.i18n import list_text

    with app.test_request_context("/?lang=zh-CN"):
        assert list_text(["祁门红茶", "太平猴魁"]) == "祁门红茶和太平猴魁"
        assert list_text(["甲", "乙", "丙"]) == "甲、乙和丙"
    with app.test_request_context("/?lang=en"):
        assert list_text(["Keemun", "Houkui", "Maofeng"]) == "Keemun, Houkui, and Maofeng"


def test_counts_and_charts_use_the_status_as_of_now(client, demo, session) -> None:
    """A certificate past its validity counts as expired everywhere an observer looks, before
    the daily sweep records its expiry: the brand's count, the member's, the status chart."""
    _sign_in(client, demo, "government_viewer")
    certificate = session.get(Certificate, demo["certificate"]["id"])
    # Lapsed, unswept. Both ends relative to now: the demo issued it when the suite started,
    # which may be well under a second ago when this test runs first.
    certificate.valid_from = utcnow() - timedelta(days=400)
    certificate.valid_until = utcnow() - timedelta(days=1)
    session.commit()
    assert certificate.status.value == "active"

    brands = client.get("/portal/register").get_data(as_text=True)
    linked = "/portal/register/certificates?brand=qimen-black-tea&amp;status=active"
    assert f'<a href="{linked}">0</a>' in brands
    listed = _words(client.get("/portal/register/certificates?status=active"))
    assert "(0 in all)" in listed and certificate.number not in listed

    members = _csv(client.get("/portal/register/members.csv?status=approved"))
    assert {row["active_certificates"] for row in members} == {"0"}

    html = client.get("/portal/statistics").get_data(as_text=True)
    tables = re.findall(r'<table class="table numbers">.*?</table>', html, re.S)
    by_status = dict(re.findall(r"<tr><td>([^<]*)</td><td>(\d+)</td></tr>", tables[1]))
    assert by_status["Active"] == "0" and by_status["Expired"] == "1"
    assert by_status["Suspended"] == "1"
