"""Demo: the published standard T/QMTA 001-2024 祁门红茶 质量要求, with ten criteria."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.auth.services import caller_for
from app.brands.demo import BRAND_SLUG
from app.demo.seed import DemoContext
from app.standards import services
from app.standards.models import Standard, VersionStatus
from app.standards.schemas import ClauseIn, CriterionIn

CODE = "T/QMTA 001-2024"
VERSION = "1.0"

CLAUSES = [
    (
        "1",
        "范围",
        "Scope",
        "本文件规定了祁门红茶的产地、原料、加工、质量要求和检验方法，适用于祁门红茶区域品牌会员企业的产品。",
        "This document specifies the production area, raw material, processing, quality "
        "requirements and test methods of Qimen black tea; it applies to the products of the "
        "brand's member firms.",
    ),
    (
        "2",
        "产地范围",
        "Production area",
        "祁门红茶产于地理标志保护范围内：安徽省祁门县及毗邻的东至县、石台县、贵池区、黟县的特定产茶乡镇。",
        "Qimen black tea is grown within the protected geographical area: Qimen County and the "
        "designated tea townships of neighbouring Dongzhi, Shitai, Guichi and Yi counties, Anhui.",
    ),
    (
        "3",
        "原料",
        "Raw material",
        "鲜叶采自祁门槠叶种等适制品种，芽叶新鲜匀净，不得混入非茶类夹杂物。",
        "Fresh leaves come from suitable cultivars such as Qimen Zhuye, are fresh and even, and "
        "contain no non-tea matter.",
    ),
    (
        "4",
        "加工工艺",
        "Processing",
        "初制经萎凋、揉捻、发酵、烘干；精制经筛分、拣剔、复火、拼配，全程不得着色、不得添加任何添加剂。",
        "Primary processing: withering, rolling, oxidation, drying; refining: sieving, sorting, "
        "re-firing and blending. No colouring and no additives of any kind.",
    ),
    (
        "5",
        "感官品质",
        "Sensory quality",
        "外形条索紧细匀齐、色泽乌润；内质香气具“祁门香”，汤色红艳明亮，滋味鲜醇甜和，叶底红亮。",
        "Tight, fine, even strips with a dark glossy colour; the 'Keemun aroma'; bright red "
        "liquor; fresh, mellow, sweet taste; bright red infused leaves.",
    ),
    (
        "6",
        "理化指标",
        "Physical and chemical indicators",
        "水分、总灰分、粉末、水浸出物和茶多酚应符合表 1 的规定。",
        "Moisture, total ash, powder, water extract and tea polyphenols meet Table 1.",
    ),
    (
        "7",
        "安全指标",
        "Safety indicators",
        "污染物限量应符合 GB 2762，农药最大残留限量应符合 GB 2763。",
        "Contaminants meet GB 2762 and pesticide residues meet the maximum limits of GB 2763.",
    ),
    (
        "8",
        "标签与包装",
        "Labelling and packaging",
        "预包装产品标签应符合 GB 7718，并标注产地、等级、生产日期和区域品牌标识。",
        "Labels of prepackaged products meet GB 7718 and state the origin, grade, production date "
        "and the regional brand mark.",
    ),
]

ORIGINS = ["祁门县", "东至县", "石台县", "贵池区", "黟县"]

CRITERIA = [
    dict(
        key="moisture",
        clause="6",
        metric_zh="水分",
        metric_en="Moisture",
        unit="%",
        method="GB 5009.3",
        type="number",
        comparator="le",
        threshold=7.0,
    ),
    dict(
        key="total_ash",
        clause="6",
        metric_zh="总灰分",
        metric_en="Total ash",
        unit="%",
        method="GB 5009.4",
        type="number",
        comparator="le",
        threshold=6.5,
    ),
    dict(
        key="powder",
        clause="6",
        metric_zh="粉末",
        metric_en="Powder",
        unit="%",
        method="GB/T 8311",
        type="number",
        comparator="le",
        threshold=1.0,
    ),
    dict(
        key="water_extract",
        clause="6",
        metric_zh="水浸出物",
        metric_en="Water extract",
        unit="%",
        method="GB/T 8305",
        type="number",
        comparator="ge",
        threshold=34.0,
    ),
    dict(
        key="tea_polyphenols",
        clause="6",
        metric_zh="茶多酚",
        metric_en="Tea polyphenols",
        unit="%",
        method="GB/T 8313",
        type="number",
        comparator="ge",
        threshold=9.0,
    ),
    dict(
        key="lead",
        clause="7",
        metric_zh="铅（以 Pb 计）",
        metric_en="Lead (as Pb)",
        unit="mg/kg",
        method="GB 5009.12",
        type="number",
        comparator="le",
        threshold=5.0,
    ),
    dict(
        key="pesticide_residues",
        clause="7",
        metric_zh="农药残留符合 GB 2763",
        metric_en="Pesticide residues within GB 2763 limits",
        method="GB 23200.113",
        type="boolean",
    ),
    dict(
        key="sensory_score",
        clause="5",
        metric_zh="感官审评总分",
        metric_en="Sensory score",
        unit="/100",
        method="GB/T 23776",
        type="number",
        comparator="ge",
        threshold=85.0,
    ),
    dict(
        key="origin",
        clause="2",
        metric_zh="鲜叶产地",
        metric_en="Origin of the leaves",
        type="choice",
        allowed_values=ORIGINS,
    ),
    dict(
        key="no_additives",
        clause="4",
        metric_zh="无着色、无添加剂",
        metric_en="No colouring or additives",
        type="boolean",
    ),
    dict(
        key="label_compliance",
        clause="8",
        metric_zh="标签符合 GB 7718",
        metric_en="Label meets GB 7718",
        type="boolean",
        mandatory=False,
    ),
]


def clauses() -> list[ClauseIn]:
    return [
        ClauseIn(number=n, title_zh=tz, title_en=te, requirement_zh=rz, requirement_en=re_)
        for n, tz, te, rz, re_ in CLAUSES
    ]


def criteria() -> list[CriterionIn]:
    return [CriterionIn.model_validate(item, strict=False) for item in CRITERIA]


def seed_standard(ctx: DemoContext) -> None:
    """Create and publish version 1.0 of the brand's quality standard."""
    session = ctx.session
    admin = caller_for(ctx.users["association_admin"])
    standard = session.scalar(select(Standard).where(Standard.code == CODE))
    if standard is None:
        standard = services.create_standard(
            session,
            admin,
            BRAND_SLUG,
            code=CODE,
            title_zh="祁门红茶 质量要求",
            title_en="Qimen Black Tea — Quality Requirements",
        )
    version = next((v for v in standard.versions if v.version == VERSION), None)
    if version is None:
        version = services.create_version(
            session,
            admin,
            standard.id,
            version=VERSION,
            effective_from=date(2024, 6, 1),
            clauses=clauses(),
            criteria=criteria(),
        )
    if version.status == VersionStatus.DRAFT:
        version = services.publish_version(session, admin, version.id)
    ctx.result["standard"] = {
        "code": standard.code,
        "version": version.version,
        "content_hash": version.content_hash,
        "url": f"{ctx.base_url}/brands/{BRAND_SLUG}/standards/{version.id}",
        "version_id": version.id,
    }
