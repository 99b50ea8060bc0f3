"""The public brand pages: bilingual HTML for people, the same document as JSON for machines."""

from __future__ import annotations

from tests.brandkit import ok

SLUG = "qimen-black-tea"


def test_brand_page_in_chinese(client) -> None:
    response = client.get(f"/brands/{SLUG}", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    for text in (
        "<h1>祁门红茶</h1>",
        "品牌故事",
        "证明商标",
        "8868537",
        "会员企业",
        "祁门红香茶业有限公司",
        "✔ 已认证",
        "T/QMTA 001-2024",
        "祁门县市场监督管理局",
        "监管部门",
        "祁门山源茶业有限公司",
        "未认证",
    ):
        assert text in html, text
    assert "Accept" in response.headers["Vary"]


def test_brand_page_in_english(client) -> None:
    html = client.get(f"/brands/{SLUG}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    for text in (
        "<h1>Qimen Black Tea</h1>",
        "story",
        "Certification mark",
        "Qimen Hongxiang Tea Co., Ltd.",
        "✔ Certified",
        "Next surveillance audit due",
        "supervising authority",
        "co-promoter",
        "Not certified",
    ):
        assert text in html, text


def test_brand_page_json_by_content_negotiation_equals_the_api(client, demo) -> None:
    negotiated = client.get(f"/brands/{SLUG}", headers={"Accept": "application/json"})
    assert negotiated.mimetype == "application/json"
    api_view = client.get(f"/api/v1/brands/{SLUG}")
    assert negotiated.get_json() == api_view.get_json()
    document = negotiated.get_json()
    assert document["url"].endswith(demo["brand"]["url"].split("://", 1)[1].split("/", 1)[1])
    assert document["name"] == {"zh": "祁门红茶", "en": "Qimen Black Tea"}
    assert document["mark"]["mark_type"] == "certification"
    assert document["logo"]["content_type"] == "image/png"
    standard = document["standards"][0]
    assert standard["code"] == "T/QMTA 001-2024"
    assert standard["current_version"]["content_hash"] == demo["standard"]["content_hash"]
    members = {m["firm"]["slug"]: m for m in document["members"]}
    assert members["hongxiang-tea"]["certified"] is True
    assert members["hongxiang-tea"]["certification"]["decision_id"] == demo["audit_decision"]["id"]
    assert members["shanyuan-tea"]["certified"] is False
    roles = {c["organisation"]["slug"]: c["role"] for c in document["co_builders"]}
    assert roles == {
        "qimen-tea-association": "owner",
        "qimen-market-regulation": "supervisor",
        "anhui-tea-alliance": "promoter",
    }


def test_browsers_get_html_even_with_wildcards(client) -> None:
    response = client.get(
        f"/brands/{SLUG}",
        headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
    )
    assert response.mimetype == "text/html"


def test_unknown_brand_is_404_in_both_forms(client) -> None:
    assert client.get("/brands/no-such-brand").status_code == 404
    api_response = client.get("/api/v1/brands/no-such-brand")
    assert api_response.status_code == 404
    assert api_response.get_json()["type"].endswith("/problems/brand-not-found")


def test_brand_list_page_and_logo(client) -> None:
    html = client.get("/brands?lang=zh-CN").get_data(as_text=True)
    assert "区域品牌" in html and f'href="/brands/{SLUG}"' in html
    logo = client.get(f"/brands/{SLUG}/logo")
    assert logo.status_code == 200 and logo.data.startswith(b"\x89PNG")


def test_members_api_is_public(api) -> None:
    members = ok(api(None).get(f"/api/v1/brands/{SLUG}/members"))
    assert {m["firm"]["slug"] for m in members} == {"hongxiang-tea", "shanyuan-tea"}
    assert all(m["firm"]["registration_number"] for m in members)
