"""The issue's "done when": through the API alone, an association creates a brand and its
standard, publishes it, admits a firm, audits it and decides, and the public brand page shows
the result in Chinese and English."""

from __future__ import annotations

import hashlib

from app.audits.services import get_granted_decision
from app.extensions import db
from tests.brandkit import GOOD_RESULTS, brand_body, ok, pdf_report, png_logo, upload, version_body


def test_the_whole_journey_through_the_api(api, client, app) -> None:
    admin, auditor, firm = api("association_admin"), api("association_auditor"), api("firm_admin")
    slug = "huangshan-maofeng"

    # The association creates the brand, its mark, logo and co-builders.
    ok(admin.post("/api/v1/brands", json=brand_body(slug)), 201)
    ok(
        admin.put(
            f"/api/v1/brands/{slug}/trademark",
            json={
                "registration_number": "7654321",
                "office": "CNIPA",
                "nice_classes": [30],
                "mark_type": "certification",
            },
        )
    )
    ok(admin.put(f"/api/v1/brands/{slug}/logo", **upload(png_logo(), "logo.png", "image/png")))
    ok(
        admin.post(
            f"/api/v1/brands/{slug}/co-builders",
            json={"organisation": "qimen-market-regulation", "role": "supervisor"},
        ),
        201,
    )

    # Its standard: staff drafts, the admin publishes.
    standard = ok(
        admin.post(
            f"/api/v1/brands/{slug}/standards",
            json={
                "code": "T/HSMF 001-2025",
                "title_zh": "黄山毛峰 质量要求",
                "title_en": "Huangshan Maofeng quality requirements",
            },
        ),
        201,
    )
    draft = ok(
        api("association_staff").post(
            f"/api/v1/standards/{standard['id']}/versions", json=version_body()
        ),
        201,
    )
    version = ok(admin.post(f"/api/v1/standard-versions/{draft['id']}/publish"))
    assert len(version["content_hash"]) == 64

    # A firm applies and is admitted.
    membership = ok(
        firm.post(f"/api/v1/brands/{slug}/memberships", json={"message": "申请加入"}), 201
    )
    ok(admin.post(f"/api/v1/memberships/{membership['id']}/approve", json={}))

    # The auditor audits it: scope, results, evidence, sign-off.
    audit = ok(
        auditor.post(
            "/api/v1/audits",
            json={
                "brand": slug,
                "firm": "hongxiang-tea",
                "standard_version_id": version["id"],
                "products": [
                    {"gtin": "6923456789012", "name_zh": "毛峰 100 克", "name_en": "Maofeng 100 g"}
                ],
                "sites": [
                    {"name": "汤口初制所", "address": "黄山区汤口镇", "gln": "6931234000013"}
                ],
                "audited_on": "2025-03-01",
            },
        ),
        201,
    )
    recorded = ok(
        auditor.put(f"/api/v1/audits/{audit['id']}/results", json={"results": GOOD_RESULTS})
    )
    assert [m["criterion"] for m in recorded["measurements"] if not m["passed"]] == []
    report = pdf_report()
    evidence = ok(
        auditor.post(
            f"/api/v1/audits/{audit['id']}/evidence",
            **upload(
                report,
                "report.pdf",
                "application/pdf",
                description="Lab report",
                criterion="moisture",
            ),
        ),
        201,
    )
    assert evidence["file"]["sha256"] == hashlib.sha256(report).hexdigest()
    signed = ok(auditor.post(f"/api/v1/audits/{audit['id']}/sign-off", json={}))
    assert (signed["status"], signed["overall_result"]) == ("signed_off", "pass")

    # A different person decides.
    decision = ok(
        admin.post(
            f"/api/v1/audits/{audit['id']}/decision",
            json={"outcome": "granted", "reason": "All mandatory criteria met."},
        ),
        201,
    )
    assert decision["outcome"] == "granted" and decision["next_surveillance_due_on"]

    # The firm sees its audit and the decision; the public page shows the result.
    mine = ok(firm.get(f"/api/v1/audits/{audit['id']}"))
    assert mine["decision"]["id"] == decision["id"]
    assert mine["evidence"][0]["file"]["content_type"] == "application/pdf"
    downloaded = firm.get(mine["evidence"][0]["url"].split("brand.example.test", 1)[1])
    assert downloaded.data == report
    document = ok(api(None).get(f"/api/v1/brands/{slug}"))
    member = document["members"][0]
    assert member["firm"]["slug"] == "hongxiang-tea" and member["certified"] is True
    assert member["certification"]["content_hash"] == version["content_hash"]
    zh = client.get(f"/brands/{slug}?lang=zh-CN").get_data(as_text=True)
    for text in ("黄山毛峰", "祁门红香茶业有限公司", "✔ 已认证", "T/HSMF 001-2025", "证明商标"):
        assert text in zh, text
    en = client.get(f"/brands/{slug}?lang=en").get_data(as_text=True)
    for text in (
        "Huangshan Maofeng",
        "Qimen Hongxiang Tea Co., Ltd.",
        "✔ Certified",
        "T/HSMF 001-2025",
    ):
        assert text in en, text

    # What a certificate will read. (A separate app context: the pages above must not share
    # one, or Flask-Babel would keep the first page's locale.)
    with app.app_context():
        granted = get_granted_decision(db.new_session(), decision["id"])
    assert (granted.firm_slug, granted.brand_slug) == ("hongxiang-tea", slug)
    assert (granted.standard_code, granted.standard_version) == ("T/HSMF 001-2025", "1.0")
    assert granted.standard_content_hash == version["content_hash"]
    assert [p.gtin for p in granted.products] == ["06923456789012"]
    assert granted.sites[0].gln == "6931234000013"
    assert granted.surveillance.next_due_on.isoformat() == decision["next_surveillance_due_on"]
    assert granted.surveillance.overdue is False
