"""Shared builders for the brands, standards and audits tests: request bodies and API steps."""

from __future__ import annotations

import io
import zlib
from typing import Any

from sqlalchemy.orm import Session

from app.auth import services as auth
from app.auth.models import OrgKind, Role
from app.files.demo_images import minimal_pdf, tea_logo
from tests.conftest import ApiClient


def brand_body(slug: str = "huangshan-maofeng", **changes: Any) -> dict[str, Any]:
    body = {
        "slug": slug,
        "name_zh": "黄山毛峰",
        "name_en": "Huangshan Maofeng",
        "region_code": "CN-AH",
        "region_name_zh": "安徽省黄山市",
        "region_name_en": "Huangshan, Anhui",
        "category_zh": "绿茶",
        "category_en": "Green tea",
        "story_zh": "黄山毛峰产于黄山风景区一带。",
        "story_en": "Huangshan Maofeng grows around Mount Huangshan.",
    }
    body.update(changes)
    return body


def criteria_body() -> list[dict[str, Any]]:
    return [
        {
            "key": "moisture",
            "clause": "5",
            "metric_zh": "水分",
            "metric_en": "Moisture",
            "unit": "%",
            "method": "GB 5009.3",
            "type": "number",
            "comparator": "le",
            "threshold": 7.0,
        },
        {
            "key": "water_extract",
            "clause": "5",
            "metric_zh": "水浸出物",
            "metric_en": "Water extract",
            "unit": "%",
            "type": "number",
            "comparator": "ge",
            "threshold": 34,
        },
        {
            "key": "caffeine",
            "clause": "5",
            "metric_zh": "咖啡碱",
            "metric_en": "Caffeine",
            "unit": "%",
            "type": "number",
            "comparator": "between",
            "threshold": 2.0,
            "threshold_max": 5.0,
            "mandatory": False,
        },
        {
            "key": "origin",
            "clause": "3",
            "metric_zh": "产地",
            "metric_en": "Origin",
            "type": "choice",
            "allowed_values": ["黄山区", "徽州区"],
        },
        {
            "key": "pesticides",
            "metric_zh": "农药残留符合 GB 2763",
            "metric_en": "Pesticide residues within GB 2763",
            "type": "boolean",
        },
    ]


def version_body(version: str = "1.0", **changes: Any) -> dict[str, Any]:
    body = {
        "version": version,
        "effective_from": "2025-01-01",
        "clauses": [
            {
                "number": "3",
                "title_zh": "产地",
                "title_en": "Production area",
                "requirement_zh": "产于黄山市黄山区、徽州区。",
                "requirement_en": "Grown in Huangshan and Huizhou districts.",
            },
            {
                "number": "5",
                "title_zh": "理化指标",
                "title_en": "Physical and chemical indicators",
                "requirement_zh": "应符合表 1。",
                "requirement_en": "Meet Table 1.",
            },
        ],
        "criteria": criteria_body(),
    }
    body.update(changes)
    return body


GOOD_RESULTS = [
    {"criterion": "moisture", "value": 6.1},
    {"criterion": "water_extract", "value": 38},
    {"criterion": "caffeine", "value": 3.3},
    {"criterion": "origin", "value": "黄山区"},
    {"criterion": "pesticides", "value": True, "finding": "none detected"},
]


def audit_body(version_id: int, brand: str = "huangshan-maofeng", **changes: Any) -> dict[str, Any]:
    body = {
        "brand": brand,
        "firm": "hongxiang-tea",
        "standard_version_id": version_id,
        "kind": "initial",
        "products": [
            {"gtin": "6923456789012", "name_zh": "毛峰 100 克", "name_en": "Maofeng 100 g"}
        ],
        "sites": [{"name": "Tangkou workshop", "address": "汤口镇 1 号", "gln": "6931234000013"}],
    }
    body.update(changes)
    return body


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_json()


def problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"].endswith(f"/problems/{slug}"), body
    return body


def rules(body: dict[str, Any]) -> set[tuple[str, str]]:
    return {(error["field"], error["rule"]) for error in body.get("errors", [])}


def upload(
    data: bytes, name: str = "file.bin", content_type: str = "application/octet-stream", **form: str
) -> dict[str, Any]:
    """Keyword arguments for a multipart/form-data request with ``file`` and ``form`` fields.

    The body is encoded in memory: the test client would otherwise spool big bodies to a
    temporary file that it never closes."""
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    fields: dict[str, Any] = {
        "file": FileStorage(io.BytesIO(data), name, content_type=content_type)
    }
    fields.update(form)
    boundary, body = encode_multipart(fields)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def png_logo() -> bytes:
    return tea_logo(16)


def pdf_report() -> bytes:
    return minimal_pdf("report")


def published_brand(api: Any, slug: str = "huangshan-maofeng") -> dict[str, Any]:
    """A new brand (owned by the demo association, government co-builder) whose standard
    version 1.0 is published and which the demo firm Hongxiang Tea has joined."""
    admin = api("association_admin")
    ok(admin.post("/api/v1/brands", json=brand_body(slug)), 201)
    ok(
        admin.post(
            f"/api/v1/brands/{slug}/co-builders",
            json={"organisation": "qimen-market-regulation", "role": "supervisor"},
        ),
        201,
    )
    code = f"T/HSMF {zlib.crc32(slug.encode()) % 1000:03d}-2025"
    standard = ok(
        admin.post(
            f"/api/v1/brands/{slug}/standards",
            json={"code": code, "title_zh": "黄山毛峰 质量要求", "title_en": "Maofeng quality"},
        ),
        201,
    )
    version = ok(
        admin.post(f"/api/v1/standards/{standard['id']}/versions", json=version_body()), 201
    )
    version = ok(admin.post(f"/api/v1/standard-versions/{version['id']}/publish"))
    membership = ok(api("firm_admin").post(f"/api/v1/brands/{slug}/memberships", json={}), 201)
    ok(admin.post(f"/api/v1/memberships/{membership['id']}/approve", json={}))
    return {"slug": slug, "standard": standard, "version": version, "membership": membership}


def signed_off_audit(
    api: Any,
    version_id: int,
    slug: str = "huangshan-maofeng",
    results: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    auditor = api("association_auditor")
    audit = ok(
        auditor.post("/api/v1/audits", json=audit_body(version_id, slug, audited_on="2025-03-01")),
        201,
    )
    ok(
        auditor.put(
            f"/api/v1/audits/{audit['id']}/results", json={"results": results or GOOD_RESULTS}
        )
    )
    return ok(auditor.post(f"/api/v1/audits/{audit['id']}/sign-off", json={}))


def other_association(session: Session, app: Any) -> ApiClient:
    """An admin of a second association (not a co-builder of anything), as an API client."""
    organisation = auth.create_organisation(
        session,
        slug="huizhou-tea-association",
        kind=OrgKind.ASSOCIATION,
        name_zh="徽州茶业协会",
        name_en="Huizhou Tea Association",
    )
    user = auth.create_user(
        session,
        organisation=organisation,
        email="admin@huizhou-tea.example",
        display_name="Other admin",
        role=Role.ADMIN,
        password="a-long-password-1",
    )
    issued = auth.issue_token(session, user, name="test")
    session.commit()
    return ApiClient(app.test_client(), issued.secret)
