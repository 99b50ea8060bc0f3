"""The portal framework: sign-in redirects, access by role, tables, forms and charts."""

from __future__ import annotations

import re
from types import SimpleNamespace

from flask import render_template_string
from markupsafe import Markup
from pydantic import Field
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.auth.models import Organisation
from app.http.schemas import RequestSchema
from app.portal.charts import LABEL_UNITS, bar_chart, label_lines, line_chart
from app.portal.forms import parse_form
from app.portal.tables import Column, Filter, build_table


def _sign_in(client, demo, role: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    account = demo["users"][role]
    client.post(
        "/login",
        data={"email": account["username"], "password": account["password"], "csrf_token": token},
    )


def test_workspace_needs_sign_in_and_greets_the_person(client, demo) -> None:
    response = client.get("/portal")
    assert response.status_code == 302 and "/login?next=/portal" in response.headers["Location"]
    _sign_in(client, demo, "government_viewer")
    page = client.get("/portal?lang=zh-CN").get_data(as_text=True)
    assert "工作台" in page and "祁门县市场监督管理局" in page


def test_table_sorts_filters_and_pages(session) -> None:
    columns = [
        Column("slug", "Slug", sort=Organisation.slug),
        Column("kind", "Kind", sort=Organisation.kind),
    ]
    filters = [Filter("q", "Search", lambda s, v: s.where(Organisation.slug.contains(v)))]
    statement = select(Organisation)
    table = build_table(
        session,
        statement,
        columns=columns,
        filters=filters,
        args={"sort": "slug", "dir": "asc", "per_page": "2"},
        default_sort="slug",
    )
    assert [row.slug for row in table.rows] == sorted(
        o.slug for o in session.scalars(select(Organisation))
    )[:2]
    assert table.pages == (table.total + 1) // 2 and table.aria_sort("slug") == "ascending"
    filtered = build_table(
        session,
        statement,
        columns=columns,
        filters=filters,
        args={"q": "tea", "sort": "nonsense"},
        default_sort="slug",
    )
    assert filtered.sort == "slug" and all("tea" in row.slug for row in filtered.rows)
    assert "q=tea" in filtered.url(page=2)


class Sample(RequestSchema):
    name: str = Field(min_length=2)
    quantity: int = Field(ge=1)
    tags: list[str] = Field(default_factory=list)
    note: str | None = None


def test_forms_use_the_api_schemas_and_keep_what_was_typed() -> None:
    good = parse_form(
        Sample, MultiDict({"name": "tea", "quantity": "5", "tags": "a\nb", "note": ""})
    )
    assert (
        good.ok
        and good.model.quantity == 5
        and good.model.tags == ["a", "b"]
        and good.model.note is None
    )
    bad = parse_form(Sample, MultiDict({"name": "t", "quantity": "zero"}))
    assert not bad.ok and set(bad.errors) == {"name", "quantity"}
    assert bad.values["quantity"] == "zero"


def test_charts_are_escaped_accessible_svg() -> None:
    svg = bar_chart([("<b>tea</b>", 3), ("oolong", 1.5)], title="Scans & more", unit=" x")
    assert isinstance(svg, Markup) and svg.startswith("<svg") and 'role="img"' in svg
    assert "<b>" not in svg and "&lt;b&gt;tea&lt;/b&gt;" in svg and "Scans &amp; more" in svg
    assert ">3 x<" in svg and ">1.50 x<" in svg
    line = line_chart([("11-01", 2), ("11-02", 5)], title="Per day")
    assert "polyline" in line and "11-01" in line and "11-02" in line


def test_long_bar_labels_wrap_onto_two_lines_and_never_run_off_the_chart() -> None:
    assert label_lines("Blocked code scanned") == ["Blocked code scanned"]
    # Broken at a space, never inside a word.
    assert label_lines("One pack scanned by too many shoppers") == [
        "One pack scanned by too",
        "many shoppers",
    ]
    # Chinese characters count double; with no spaces, two lines of about the same length.
    assert label_lines("同一件商品被过多消费者扫描") == ["同一件商品被", "过多消费者扫描"]
    chinese = "一二三四五六七八九十" * 3
    assert label_lines(chinese) == [chinese[:12], chinese[12:23] + "…"]
    # Longer than two lines: the second ends in an ellipsis; nothing is wider than a line.
    endless = " ".join(["counterfeit"] * 12)
    lines = label_lines(endless)
    assert len(lines) == 2 and lines[1].endswith("…")
    assert all(len(line) <= LABEL_UNITS for line in lines)
    svg = bar_chart([("One pack scanned by too many shoppers", 2), (endless, 1)], title="Alerts")
    assert ">One pack scanned by too</tspan>" in svg and ">many shoppers</tspan>" in svg
    assert f"<title>{endless}</title>" in svg  # the full name on hover


def test_paging_through_ties_shows_every_row_once(session) -> None:
    """Sorting by a column with many equal values (organisation kinds) must not repeat or skip
    rows between pages: the primary key breaks ties."""
    columns = [Column("kind", "Kind", sort=Organisation.kind)]
    everyone = sorted(session.scalars(select(Organisation.id)))
    assert len(everyone) > 3
    for direction in ("asc", "desc"):
        seen = []
        for number in range(1, len(everyone) + 1):
            table = build_table(
                session,
                select(Organisation),
                columns=columns,
                args={"sort": "kind", "dir": direction, "per_page": "1", "page": str(number)},
                default_sort="kind",
            )
            seen += [row.id for row in table.rows]
        assert sorted(seen) == everyone and len(set(seen)) == len(seen)


def test_text_filters_match_percent_and_underscore_literally(session) -> None:
    from app.portal.tables import matching_text

    filters = [Filter("q", "Search", matching_text(Organisation.slug, Organisation.name_en))]
    columns = [Column("slug", "Slug", sort=Organisation.slug)]

    def found(text: str) -> list[str]:
        table = build_table(
            session,
            select(Organisation),
            columns=columns,
            filters=filters,
            args={"q": text},
            default_sort="slug",
        )
        return [row.slug for row in table.rows]

    assert "hongxiang-tea" in found("HONGXIANG")
    assert found("%") == [] and found("_") == []


def test_switching_language_keeps_the_tables_filters(client, demo) -> None:
    _sign_in(client, demo, "government_viewer")
    page = client.get("/portal/register/certificates?status=active&sort=number").get_data(
        as_text=True
    )
    link = re.search(r'<a href="\?([^"]+)" lang="zh-CN">中文</a>', page).group(1)
    assert set(link.replace("&amp;", "&").split("&")) == {
        "status=active",
        "sort=number",
        "lang=zh-CN",
    }


def test_brand_picker_offers_a_choice_only_when_there_is_one(app) -> None:
    brands = [
        SimpleNamespace(slug="qimen-black-tea", name_zh="祁门红茶", name_en="Qimen Black Tea"),
        SimpleNamespace(slug="huangshan-maofeng", name_zh="黄山毛峰", name_en="Huangshan Maofeng"),
    ]
    page = '{% import "portal/_macros.html" as ui with context %}{{ ui.brand_picker(b, c) }}'
    with app.test_request_context("/portal/scan-rules?lang=zh-CN"):
        picker = render_template_string(page, b=brands, c=brands[1])
        alone = render_template_string(page, b=brands[:1], c=brands[0])
    assert '<form method="get" class="filters">' in picker and "品牌" in picker
    assert '<option value="qimen-black-tea" >祁门红茶</option>' in picker
    assert '<option value="huangshan-maofeng" selected>黄山毛峰</option>' in picker
    assert alone.strip() == ""


def test_a_filter_value_outside_its_choices_is_ignored_with_a_notice(client, demo) -> None:
    _sign_in(client, demo, "association_admin")
    everything = client.get("/portal/scan-alerts").get_data(as_text=True)
    response = client.get("/portal/scan-alerts?status=zzz&kind=repeat_scans&lang=zh-CN")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count("链接中的筛选值不在可选项之内") == 1
    assert 'value="repeat_scans" selected' in page
    english = client.get("/portal/scan-alerts?status=zzz&lang=en").get_data(as_text=True)
    assert "Status: the link asked for a value that is not one of its choices" in english
    total = re.search(r"\((\d+) in all\)", everything).group(1)
    assert f"({total} in all)" in english


def test_the_workspace_names_the_role_in_words(app, demo) -> None:
    from tests.portalkit import as_role, text

    viewer = text(as_role(app, demo, "government_viewer").get("/portal"))
    assert "· Viewer</p>" in viewer and "· viewer<" not in viewer
    admin = text(as_role(app, demo, "association_admin", lang="zh-CN").get("/portal"))
    assert "· 管理员</p>" in admin and "· admin<" not in admin


def test_tables_carry_no_inline_style_the_content_policy_would_refuse(client, demo) -> None:
    # The Content-Security-Policy allows styles from our own stylesheet only ("style-src
    # 'self'"): a style attribute is refused by the browser (and reported in its console).
    _sign_in(client, demo, "firm_admin")
    response = client.get("/portal/tokens", headers={"Accept": "text/html"})
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    assert "<table" in page
    assert re.search(r"\sstyle=", page) is None
    assert re.search(r'<table class="table[^"]*" data-columns="\d+"', page)
