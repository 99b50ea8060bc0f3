"""Standards API: versions and their content rules, publication, immutability, content hash,
supersession, withdrawal, diffs and who may see drafts."""

from __future__ import annotations

import hashlib
import json
import unicodedata

import pytest
import rfc8785

from app.standards.canonical import content_hash, diff_documents
from tests.brandkit import (
    brand_body,
    criteria_body,
    ok,
    other_association,
    problem,
    rules,
    version_body,
)

BRAND = "huangshan-maofeng"


@pytest.fixture
def standard(api) -> dict:
    admin = api("association_admin")
    ok(admin.post("/api/v1/brands", json=brand_body(BRAND)), 201)
    return ok(
        admin.post(
            f"/api/v1/brands/{BRAND}/standards",
            json={
                "code": "T/HSMF 001-2025",
                "title_zh": "黄山毛峰 质量要求",
                "title_en": "Maofeng quality",
            },
        ),
        201,
    )


def _draft(api, standard, role="association_admin", **changes) -> dict:
    return ok(
        api(role).post(
            f"/api/v1/standards/{standard['id']}/versions", json=version_body(**changes)
        ),
        201,
    )


def _publish(api, version) -> dict:
    return ok(api("association_admin").post(f"/api/v1/standard-versions/{version['id']}/publish"))


def test_duplicate_codes_are_refused_after_normalisation(api, standard) -> None:
    again = api("association_admin").post(
        f"/api/v1/brands/{BRAND}/standards",
        json={"code": "t/hsmf  001-2025", "title_zh": "另一个", "title_en": "Another"},
    )
    assert rules(problem(again, 409, "duplicate-standard-code")) == {("/code", "unique")}
    demo_code = api("association_admin").post(
        f"/api/v1/brands/{BRAND}/standards",
        json={"code": "T/QMTA 001-2024", "title_zh": "x", "title_en": "x"},
    )
    problem(demo_code, 409, "duplicate-standard-code")
    bad = api("association_admin").post(
        f"/api/v1/brands/{BRAND}/standards",
        json={"code": "T/HS ??", "title_zh": "x", "title_en": "x"},
    )
    assert rules(problem(bad, 422, "invalid-standard-content")) == {("/code", "pattern")}


def test_duplicate_version_labels_are_refused(api, standard) -> None:
    _draft(api, standard)
    again = api("association_admin").post(
        f"/api/v1/standards/{standard['id']}/versions", json=version_body()
    )
    assert rules(problem(again, 409, "duplicate-version")) == {("/version", "unique")}


def test_content_rules_are_reported_together(api, standard) -> None:
    criteria = criteria_body()
    criteria[0] = {**criteria[0], "threshold": None}
    criteria[1] = {**criteria[1], "clause": "9"}
    criteria[2] = {**criteria[2], "threshold_max": 1.0}
    criteria[3] = {**criteria[3], "allowed_values": None, "comparator": "eq"}
    criteria[4] = {**criteria[4], "key": "moisture", "threshold": 1}
    response = api("association_admin").post(
        f"/api/v1/standards/{standard['id']}/versions", json=version_body(criteria=criteria)
    )
    assert rules(problem(response, 422, "invalid-standard-content")) == {
        ("/criteria/0/threshold", "required"),
        ("/criteria/1/clause", "clause_exists"),
        ("/criteria/2/threshold_max", "greater_than_threshold"),
        ("/criteria/3/allowed_values", "required"),
        ("/criteria/3/comparator", "not_allowed"),
        ("/criteria/4/key", "unique"),
        ("/criteria/4/threshold", "not_allowed"),
    }


def test_schema_rules_name_the_field(api, standard) -> None:
    criteria = criteria_body()
    criteria[0] = {**criteria[0], "threshold": "seven", "type": "percentage"}
    response = api("association_admin").post(
        f"/api/v1/standards/{standard['id']}/versions",
        json=version_body(version="1 0", criteria=criteria),
    )
    found = rules(problem(response, 422, "validation-failed"))
    assert {("/version", "string_pattern_mismatch"), ("/criteria/0/type", "enum")} <= found
    assert any(field == "/criteria/0/threshold" for field, _ in found)


def test_staff_drafts_but_only_admins_publish(api, standard) -> None:
    draft = _draft(api, standard, role="association_staff")
    assert draft["status"] == "draft" and draft["content_hash"] is None
    refused = api("association_staff").post(f"/api/v1/standard-versions/{draft['id']}/publish")
    problem(refused, 403, "forbidden")
    assert _publish(api, draft)["status"] == "published"


def test_drafts_are_seen_by_the_owner_and_co_builders_only(api, standard, session, app) -> None:
    draft = _draft(api, standard)
    path = f"/api/v1/standard-versions/{draft['id']}"
    assert api("association_auditor").get(path).status_code == 200
    for outsider in (None, "firm_admin", "government_viewer"):
        problem(api(outsider).get(path), 404, "standard-version-not-found")
    problem(other_association(session, app).get(path), 404, "standard-version-not-found")
    ok(
        api("association_admin").post(
            f"/api/v1/brands/{BRAND}/co-builders",
            json={"organisation": "qimen-market-regulation", "role": "supervisor"},
        ),
        201,
    )
    assert api("government_viewer").get(path).status_code == 200
    listed = ok(api(None).get(f"/api/v1/brands/{BRAND}/standards"))
    assert listed[0]["versions"] == []


def test_publishing_freezes_the_version_and_hashes_its_canonical_json(
    api, client, standard
) -> None:
    draft = _draft(api, standard)
    published = _publish(api, draft)
    assert published["status"] == "published" and published["published_at"]
    canonical = client.get(f"/api/v1/standard-versions/{draft['id']}/canonical")
    assert canonical.mimetype == "application/json"
    assert hashlib.sha256(canonical.data).hexdigest() == published["content_hash"]
    assert canonical.headers["ETag"] == f'"{published["content_hash"]}"'
    again = client.get(
        f"/api/v1/standard-versions/{draft['id']}/canonical",
        headers={"If-None-Match": canonical.headers["ETag"]},
    )
    assert again.status_code == 304 and again.data == b""
    # The bytes are RFC 8785 canonical: re-canonicalising them changes nothing.
    document = json.loads(canonical.data)
    assert rfc8785.dumps(document) == canonical.data
    assert content_hash(document) == published["content_hash"]
    assert document["format"] == "brandtrace-standard-version/1"
    assert document["criteria"][0]["threshold"] == 7
    # Published versions are public.
    assert ok(api(None).get(f"/api/v1/standard-versions/{draft['id']}"))["content_hash"]


def test_published_versions_are_immutable(api, standard, session) -> None:
    version = _publish(api, _draft(api, standard))
    admin = api("association_admin")
    path = f"/api/v1/standard-versions/{version['id']}"
    body = version_body()
    body.pop("version")
    body["criteria"][0]["threshold"] = 9.0
    edited = problem(admin.put(path, json=body), 409, "version-immutable")
    assert rules(edited) == {("status", "published_is_immutable")}
    problem(api("association_staff").put(path, json=body), 409, "version-immutable")
    problem(admin.delete(path), 409, "version-immutable")
    problem(admin.post(f"{path}/publish"), 409, "version-transition-refused")
    after = ok(api(None).get(path))
    assert after["criteria"][0]["threshold"] == 7.0
    assert after["content_hash"] == version["content_hash"]


def test_same_content_gives_the_same_hash(api, client, standard) -> None:
    """Key order, surrounding spaces and Unicode composition do not change the content."""
    admin = api("association_admin")
    draft = _draft(api, standard)
    first = admin.get(f"/api/v1/standard-versions/{draft['id']}/canonical").data
    variant = version_body()
    variant.pop("version")
    variant["clauses"][0]["title_en"] = "  Production area "
    variant["clauses"][0]["requirement_zh"] = unicodedata.normalize(
        "NFD", "产于黄山市黄山区、徽州区。"
    )
    variant["criteria"] = [dict(reversed(list(item.items()))) for item in variant["criteria"]]
    variant["criteria"][0]["metric_en"] = unicodedata.normalize("NFD", "Moisture")
    ok(
        admin.put(
            f"/api/v1/standard-versions/{draft['id']}", json=dict(reversed(list(variant.items())))
        )
    )
    second = admin.get(f"/api/v1/standard-versions/{draft['id']}/canonical").data
    assert first.startswith(b'{"clauses":')
    assert first == second
    published = _publish(api, draft)
    assert published["content_hash"] == hashlib.sha256(first).hexdigest()
    # A real change changes the hash.
    changed = version_body(version="1.1")
    changed["criteria"][0]["threshold"] = 7.5
    other = _publish(api, _draft(api, standard, **{k: v for k, v in changed.items()}))
    assert other["content_hash"] != published["content_hash"]


def test_canonical_json_known_answer(api, client) -> None:
    """Pins the documented format: these exact bytes, and their SHA-256, for a tiny version."""
    admin = api("association_admin")
    standard = ok(
        admin.post(
            "/api/v1/brands/qimen-black-tea/standards",
            json={"code": "T/KAT 001-2025", "title_zh": "测试", "title_en": "Test"},
        ),
        201,
    )
    body = {
        "version": "1",
        "clauses": [
            {
                "number": "1",
                "title_zh": "范围",
                "title_en": "Scope",
                "requirement_zh": "干燥。",
                "requirement_en": "Dry.",
            }
        ],
        "criteria": [
            {
                "key": "moisture",
                "clause": "1",
                "metric_zh": "水分",
                "metric_en": "Moisture",
                "unit": "%",
                "type": "number",
                "comparator": "le",
                "threshold": 7.0,
            }
        ],
    }
    version = ok(admin.post(f"/api/v1/standards/{standard['id']}/versions", json=body), 201)
    published = _publish(api, version)
    expected = (
        '{"clauses":[{"number":"1","requirement":{"en":"Dry.","zh":"干燥。"},'
        '"title":{"en":"Scope","zh":"范围"}}],"criteria":[{"allowed_values":null,"clause":"1",'
        '"comparator":"le","key":"moisture","mandatory":true,"method":null,'
        '"metric":{"en":"Moisture","zh":"水分"},"threshold":7,"threshold_max":null,'
        '"type":"number","unit":"%"}],"effective_from":null,'
        '"format":"brandtrace-standard-version/1",'
        '"standard":{"code":"T/KAT 001-2025","title":{"en":"Test","zh":"测试"}},"version":"1"}'
    ).encode()
    assert client.get(f"/api/v1/standard-versions/{version['id']}/canonical").data == expected
    assert published["content_hash"] == hashlib.sha256(expected).hexdigest()


def test_publishing_supersedes_and_withdrawal_needs_a_reason(api, standard) -> None:
    admin = api("association_admin")
    first = _publish(api, _draft(api, standard))
    second = _publish(api, _draft(api, standard, version="2.0"))
    old = ok(api(None).get(f"/api/v1/standard-versions/{first['id']}"))
    assert old["status"] == "superseded" and old["superseded_at"]
    page = ok(api(None).get(f"/api/v1/brands/{BRAND}"))
    assert page["standards"][0]["current_version"]["id"] == second["id"]
    no_reason = admin.post(f"/api/v1/standard-versions/{first['id']}/withdraw", json={})
    assert ("/reason", "missing") in rules(problem(no_reason, 422, "validation-failed"))
    blank = admin.post(
        f"/api/v1/standard-versions/{first['id']}/withdraw", json={"reason": " \t   \n "}
    )
    assert problem(blank, 422, "validation-failed")  # spaces are not a reason
    withdrawn = ok(
        admin.post(
            f"/api/v1/standard-versions/{first['id']}/withdraw", json={"reason": "replaced by 2.0"}
        )
    )
    assert (
        withdrawn["status"] == "withdrawn" and withdrawn["withdrawal_reason"] == "replaced by 2.0"
    )
    again = admin.post(
        f"/api/v1/standard-versions/{first['id']}/withdraw", json={"reason": "again"}
    )
    problem(again, 409, "version-transition-refused")
    draft = _draft(api, standard, version="3.0")
    problem(
        admin.post(
            f"/api/v1/standard-versions/{draft['id']}/withdraw", json={"reason": "not needed"}
        ),
        409,
        "version-transition-refused",
    )


def test_an_empty_draft_cannot_be_published(api, standard) -> None:
    draft = _draft(api, standard, clauses=[], criteria=[])
    response = api("association_admin").post(f"/api/v1/standard-versions/{draft['id']}/publish")
    assert rules(problem(response, 422, "invalid-standard-content")) == {
        ("/clauses", "min_items"),
        ("/criteria", "min_items"),
    }


def test_drafts_can_be_discarded(api, standard) -> None:
    draft = _draft(api, standard)
    assert (
        api("association_staff").delete(f"/api/v1/standard-versions/{draft['id']}").status_code
        == 204
    )
    assert (
        api("association_admin").get(f"/api/v1/standard-versions/{draft['id']}").status_code == 404
    )


def test_diff_between_two_versions(api, standard) -> None:
    first = _publish(api, _draft(api, standard))
    changed = version_body(version="2.0", effective_from="2026-01-01")
    changed["clauses"][1]["requirement_en"] = "Meet Table 1 of this document."
    changed["clauses"].append(
        {
            "number": "6",
            "title_zh": "标签",
            "title_en": "Labelling",
            "requirement_zh": "符合 GB 7718。",
            "requirement_en": "Meet GB 7718.",
        }
    )
    changed["criteria"][0]["threshold"] = 6.5
    changed["criteria"] = [c for c in changed["criteria"] if c["key"] != "caffeine"]
    changed["criteria"].append(
        {
            "key": "lead",
            "metric_zh": "铅",
            "metric_en": "Lead",
            "unit": "mg/kg",
            "type": "number",
            "comparator": "le",
            "threshold": 5,
        }
    )
    second = _draft(api, standard, **changed)
    diff = ok(
        api("association_admin").get(f"/api/v1/standard-versions/{first['id']}/diff/{second['id']}")
    )
    assert diff["standard"] == "T/HSMF 001-2025"
    assert (diff["from_version"]["version"], diff["to_version"]["version"]) == ("1.0", "2.0")
    assert diff["header"] == {
        "effective_from": {"from": "2025-01-01", "to": "2026-01-01"},
        "version": {"from": "1.0", "to": "2.0"},
    }
    assert [c["number"] for c in diff["clauses"]["added"]] == ["6"]
    assert diff["clauses"]["changed"] == [
        {
            "number": "5",
            "changes": {
                "requirement.en": {"from": "Meet Table 1.", "to": "Meet Table 1 of this document."}
            },
        }
    ]
    assert [c["key"] for c in diff["criteria"]["added"]] == ["lead"]
    assert [c["key"] for c in diff["criteria"]["removed"]] == ["caffeine"]
    assert diff["criteria"]["changed"] == [
        {"key": "moisture", "changes": {"threshold": {"from": 7, "to": 6.5}}}
    ]
    # The draft is not public, so neither is a diff against it.
    assert (
        api(None).get(f"/api/v1/standard-versions/{first['id']}/diff/{second['id']}").status_code
        == 404
    )


def test_diff_needs_versions_of_the_same_standard(api, standard, demo) -> None:
    mine = _publish(api, _draft(api, standard))
    response = api(None).get(
        f"/api/v1/standard-versions/{mine['id']}/diff/{demo['standard']['version_id']}"
    )
    assert rules(problem(response, 422, "validation-failed")) == {("to", "same_standard")}


def test_diff_documents_is_empty_for_equal_documents() -> None:
    document = {"format": "x", "version": "1", "clauses": [], "criteria": []}
    assert diff_documents(document, document) == {
        "header": {},
        "clauses": {"added": [], "removed": [], "changed": []},
        "criteria": {"added": [], "removed": [], "changed": []},
    }


def test_other_associations_cannot_touch_our_standards(api, standard, session, app) -> None:
    stranger = other_association(session, app)
    created = stranger.post(
        f"/api/v1/brands/{BRAND}/standards",
        json={"code": "T/X 1-2025", "title_zh": "x", "title_en": "x"},
    )
    problem(created, 403, "not-brand-owner")
    problem(
        stranger.post(f"/api/v1/standards/{standard['id']}/versions", json=version_body()),
        403,
        "not-brand-owner",
    )
    problem(
        stranger.patch(f"/api/v1/standards/{standard['id']}", json={"title_en": "x"}),
        403,
        "not-brand-owner",
    )


def test_version_page_is_bilingual_and_negotiates_json(api, client, demo) -> None:
    url = demo["standard"]["url"].split("://", 1)[1].split("/", 1)[1]
    zh = client.get(f"/{url}?lang=zh-CN").get_data(as_text=True)
    for text in (
        "T/QMTA 001-2024",
        "祁门红茶 质量要求",
        "水分",
        "≤ 7 %",
        "已发布，现行有效",
        "检验方法",
        "祁门县 / 东至县",
    ):
        assert text in zh, text
    en = client.get(f"/{url}?lang=en").get_data(as_text=True)
    for text in (
        "Quality Requirements",
        "Moisture",
        "≥ 34 %",
        "published, in force",
        demo["standard"]["content_hash"],
    ):
        assert text in en, text
    as_json = client.get(f"/{url}", headers={"Accept": "application/json"}).get_json()
    assert as_json["content_hash"] == demo["standard"]["content_hash"]
    assert (
        client.get(f"/brands/other-brand/standards/{demo['standard']['version_id']}").status_code
        == 404
    )
