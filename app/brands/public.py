"""The public brand document: story, mark, co-builders, standards and certified members.

It reads brands, standards and audits (like the consumer-facing pages, it depends on the
domains, never the other way round).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from app.audits import services as audits
from app.audits.models import DecisionOutcome
from app.brands import services as brands
from app.brands.models import Brand, Membership
from app.standards import services as standards
from app.standards.models import StandardVersion, VersionStatus


def absolute(path: str) -> str:
    return f"{current_app.config['BASE_URL']}{path}"


def brand_url(brand: Brand) -> str:
    return absolute(f"/brands/{brand.slug}")


def version_url(brand: Brand, version: StandardVersion) -> str:
    return absolute(f"/brands/{brand.slug}/standards/{version.id}")


def _bilingual(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


def _version(brand: Brand, version: StandardVersion) -> dict[str, Any]:
    state = standards.version_state(version)
    return {
        "id": version.id,
        "version": version.version,
        "status": state.status.value,
        "scheduled": state.scheduled,
        "content_hash": version.content_hash,
        "effective_from": version.effective_from,
        "published_at": version.published_at,
        "url": version_url(brand, version),
    }


def _certification(session: Session, membership: Membership) -> dict[str, Any] | None:
    decision = audits.latest_decision(session, membership.brand_id, membership.firm_id)
    if decision is None or decision.outcome != DecisionOutcome.GRANTED:
        return None
    status = audits.surveillance_status(session, decision)
    if status.latest_outcome != DecisionOutcome.GRANTED:
        return None
    version = decision.audit.standard_version
    if version.status == VersionStatus.WITHDRAWN:
        return None
    return {
        "decision_id": decision.id,
        "standard_code": version.standard.code,
        "standard_version": version.version,
        "content_hash": version.content_hash,
        "decided_at": decision.decided_at,
        "next_surveillance_due_on": status.next_due_on,
        "surveillance_overdue": status.overdue,
    }


def members(session: Session, brand: Brand) -> list[dict[str, Any]]:
    """Approved members, each with its current certification (if any). ``certified`` means a
    granted decision whose surveillance is not overdue, against a version not withdrawn."""
    result = []
    for membership in brands.public_members(session, brand):
        certification = _certification(session, membership)
        result.append(
            {
                "firm": membership.firm,
                "member_since": membership.member_since,
                "certified": certification is not None
                and not certification["surveillance_overdue"],
                "certification": certification,
            }
        )
    return result


def brand_document(session: Session, brand: Brand) -> dict[str, Any]:
    """Everything the public brand page shows, as one JSON-ready document."""
    logo = brand.logo
    mark = None
    if brand.mark_registration_number and brand.mark_type:
        mark = {
            "registration_number": brand.mark_registration_number,
            "office": brand.mark_office,
            "nice_classes": brand.mark_nice_classes or [],
            "mark_type": brand.mark_type,
            "registered_on": brand.mark_registered_on,
            "expires_on": brand.mark_expires_on,
        }
    public_standards = []
    for standard in standards.list_standards(session, brand):
        versions = standards.visible_versions(session, None, standard)
        current = standards.current_version(session, standard)
        public_standards.append(
            {
                "id": standard.id,
                "code": standard.code,
                "title": _bilingual(standard.title_zh, standard.title_en),
                "current_version": _version(brand, current) if current else None,
                "versions": [_version(brand, v) for v in versions],
            }
        )
    return {
        "slug": brand.slug,
        "url": brand_url(brand),
        "name": _bilingual(brand.name_zh, brand.name_en),
        "region": {
            "code": brand.region_code,
            "name": _bilingual(brand.region_name_zh, brand.region_name_en),
        },
        "category": _bilingual(brand.category_zh, brand.category_en),
        "story": _bilingual(brand.story_zh, brand.story_en),
        "logo": {
            "url": absolute(f"/brands/{brand.slug}/logo"),
            "sha256": logo.sha256,
            "content_type": logo.content_type,
            "size": logo.size,
        }
        if logo
        else None,
        "mark": mark,
        "owner": brand.owner,
        "co_builders": brand.co_builders,
        "standards": public_standards,
        "members": members(session, brand),
    }
