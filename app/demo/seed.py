"""The demo: a county tea brand's co-builders and their people.

Every step is idempotent (get-or-create by natural key), so seeding twice neither fails nor
duplicates data; API tokens are issued afresh on each run. Later capabilities add their own
steps to ``STEPS``; each receives the shared ``DemoContext`` and extends the JSON result.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import services as auth
from app.auth.models import Organisation, OrgKind, Role, User

DEMO_PASSWORD = "brandtrace-demo-2026"  # noqa: S105 - published demo credential, not a secret


@dataclass
class DemoContext:
    """What the demo steps share: the session, the public origin, and the records so far."""

    session: Session
    base_url: str
    organisations: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)


ORGANISATIONS = {
    "association": dict(
        slug="qimen-tea-association",
        kind=OrgKind.ASSOCIATION,
        name_zh="祁门县茶业协会",
        name_en="Qimen County Tea Industry Association",
        registration_number="51341024MJ1234K59H",
        region_code="CN-AH",
    ),
    "firm": dict(
        slug="hongxiang-tea",
        kind=OrgKind.ENTERPRISE,
        name_zh="祁门红香茶业有限公司",
        name_en="Qimen Hongxiang Tea Co., Ltd.",
        registration_number="91341024MA2N7B4C3P",
        region_code="CN-AH",
    ),
    "firm2": dict(
        slug="shanyuan-tea",
        kind=OrgKind.ENTERPRISE,
        name_zh="祁门山源茶业有限公司",
        name_en="Qimen Shanyuan Tea Co., Ltd.",
        registration_number="91341024MA2P8D6E54",
        region_code="CN-AH",
    ),
    "government": dict(
        slug="qimen-market-regulation",
        kind=OrgKind.GOVERNMENT,
        name_zh="祁门县市场监督管理局",
        name_en="Qimen County Administration for Market Regulation",
        registration_number="11341024003007128B",
        region_code="CN-AH",
    ),
    "alliance": dict(
        slug="anhui-tea-alliance",
        kind=OrgKind.ALLIANCE,
        name_zh="安徽茶产业联盟",
        name_en="Anhui Tea Industry Alliance",
        registration_number="51340000MJ7766Q2XB",
        region_code="CN-AH",
    ),
}

# key -> (organisation key, e-mail, display name, role)
USERS = {
    "association_admin": (
        "association",
        "admin@qimen-tea.example",
        "王秀兰 Wang Xiulan",
        Role.ADMIN,
    ),
    "association_staff": ("association", "staff@qimen-tea.example", "陈磊 Chen Lei", Role.STAFF),
    "association_auditor": (
        "association",
        "auditor@qimen-tea.example",
        "李明 Li Ming",
        Role.AUDITOR,
    ),
    "firm_admin": ("firm", "admin@hongxiang-tea.example", "张伟 Zhang Wei", Role.ADMIN),
    "firm_staff": ("firm", "staff@hongxiang-tea.example", "刘芳 Liu Fang", Role.STAFF),
    "firm2_admin": ("firm2", "admin@shanyuan-tea.example", "赵静 Zhao Jing", Role.ADMIN),
    "government_viewer": ("government", "viewer@qimen-amr.example", "孙强 Sun Qiang", Role.VIEWER),
    "alliance_viewer": (
        "alliance",
        "viewer@anhui-tea-alliance.example",
        "周敏 Zhou Min",
        Role.VIEWER,
    ),
}


def seed_accounts(ctx: DemoContext) -> None:
    """Organisations, users (one per role) and fresh API tokens."""
    for key, spec in ORGANISATIONS.items():
        organisation = ctx.session.scalar(
            select(Organisation).where(Organisation.slug == spec["slug"])
        )
        if organisation is None:
            organisation = auth.create_organisation(
                ctx.session,
                registration_scheme="uscc",
                **spec,  # type: ignore[arg-type]
            )
        ctx.organisations[key] = organisation

    tokens: dict[str, str] = {}
    users: dict[str, dict[str, str]] = {}
    for key, (org_key, email, name, role) in USERS.items():
        user = ctx.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = auth.create_user(
                ctx.session,
                organisation=ctx.organisations[org_key],
                email=email,
                display_name=name,
                role=role,
                password=DEMO_PASSWORD,
            )
        ctx.users[key] = user
        issued = auth.issue_token(ctx.session, user, name="demo", expires_in=timedelta(days=30))
        tokens[key] = issued.secret
        users[key] = {
            "username": email,
            "password": DEMO_PASSWORD,
            "organisation": ctx.organisations[org_key].slug,
            "role": role.value,
        }
    ctx.result.update(
        organisations={key: org.slug for key, org in ctx.organisations.items()},
        tokens=tokens,
        users=users,
    )


# Steps run in order; later capabilities append "module:function" entries.
STEPS: tuple[str, ...] = (
    "app.demo.seed:seed_accounts",
    "app.brands.demo:seed_brand",
    "app.standards.demo:seed_standard",
    "app.audits.demo:seed_audit",
    "app.transparency.demo:seed_log",
    "app.certificates.demo:seed_certificates",
    "app.products.demo:seed_products",
    "app.trace.demo:seed_epcis",
    "app.resolver.demo:seed_scans",
)


def _resolve(step: str) -> Callable[[DemoContext], None]:
    module, _, name = step.partition(":")
    return getattr(importlib.import_module(module), name)


def seed_demo(session: Session, base_url: str) -> dict[str, Any]:
    """Load (or top up) the whole demo and describe it for newcomers and outside checks."""
    ctx = DemoContext(session=session, base_url=base_url)
    ctx.result["base_url"] = base_url
    for step in STEPS:
        _resolve(step)(ctx)
    session.flush()
    return ctx.result
