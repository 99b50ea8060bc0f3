"""Demo: the county tea brand 祁门红茶 / Qimen Black Tea, its co-builders and two member firms."""

from __future__ import annotations

from datetime import date
from io import BytesIO

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.auth.services import caller_for
from app.brands import services
from app.brands.models import Brand, CoBuilderRole, MarkType, Membership, MembershipStatus
from app.demo.seed import DemoContext
from app.files.demo_images import tea_logo

BRAND_SLUG = "qimen-black-tea"
BRAND = dict(
    slug=BRAND_SLUG,
    name_zh="祁门红茶",
    name_en="Qimen Black Tea",
    region_code="CN-AH",
    region_name_zh="安徽省黄山市祁门县",
    region_name_en="Qimen County, Huangshan, Anhui",
    category_zh="红茶",
    category_en="Black tea",
    story_zh=(
        "祁门红茶创制于清光绪年间，产于黄山西麓的祁门县。当地山高林密、云雾缭绕，"
        "祁门槠叶种鲜叶经萎凋、揉捻、发酵、烘干精制而成，形成独特的“祁门香”。\n"
        "祁门县茶业协会联合县市场监督管理局和安徽茶产业联盟共建这一区域品牌，"
        "依据团体标准审核会员企业，让消费者买到的每一盒都名副其实。"
    ),
    story_en=(
        "Qimen black tea has been made since the Guangxu reign of the Qing dynasty in Qimen "
        "County, on the western slopes of Mount Huangshan. Leaves of the local Qimen Zhuye "
        "cultivar, grown among misty forested hills, are withered, rolled, oxidised and dried "
        "into a tea with the famous 'Keemun aroma'.\n"
        "The Qimen County Tea Industry Association builds this regional brand together with the "
        "county's market regulator and the Anhui Tea Industry Alliance, and audits its member "
        "firms against a published standard, so that every box is what it says."
    ),
)
TRADEMARK = dict(
    registration_number="8868537",
    office="国家知识产权局 CNIPA",
    nice_classes=[30],
    mark_type=MarkType.CERTIFICATION,
    registered_on=date(2012, 3, 14),
    expires_on=date(2032, 3, 13),
)
CO_BUILDERS = (("government", CoBuilderRole.SUPERVISOR), ("alliance", CoBuilderRole.PROMOTER))
MEMBERS = (
    ("firm_admin", "红香茶业申请加入祁门红茶区域品牌，拥有历口镇初制所与精制车间。"),
    ("firm2_admin", "山源茶业申请加入祁门红茶区域品牌，茶园位于祁门县箬坑乡。"),
)


def seed_brand(ctx: DemoContext) -> None:
    """The brand with its mark, logo and co-builders; both demo firms approved as members."""
    session = ctx.session
    admin = caller_for(ctx.users["association_admin"])
    brand = session.scalar(select(Brand).where(Brand.slug == BRAND_SLUG))
    if brand is None:
        brand = services.create_brand(session, admin, **BRAND)
    if brand.mark_registration_number is None:
        services.set_trademark(session, admin, BRAND_SLUG, **TRADEMARK)  # type: ignore[arg-type]
    if brand.logo_file_id is None:
        upload = FileStorage(
            stream=BytesIO(tea_logo()), filename="qimen-black-tea.png", content_type="image/png"
        )
        services.set_logo(session, admin, BRAND_SLUG, upload)
    present = {co.organisation_id for co in brand.co_builders}
    for key, role in CO_BUILDERS:
        organisation = ctx.organisations[key]
        if organisation.id not in present:
            services.add_co_builder(
                session, admin, BRAND_SLUG, organisation_slug=organisation.slug, role=role
            )
    for user_key, message in MEMBERS:
        firm_admin = caller_for(ctx.users[user_key])
        open_membership = session.scalar(
            select(Membership).where(
                Membership.brand_id == brand.id,
                Membership.firm_id == firm_admin.organisation_id,
                Membership.open_key.is_not(None),
            )
        )
        if open_membership is None:
            open_membership = services.apply_for_membership(
                session,
                firm_admin,
                BRAND_SLUG,
                registration_scheme=None,
                registration_number=None,
                message=message,
            )
        if open_membership.status == MembershipStatus.APPLIED:
            services.change_membership(session, admin, open_membership.id, "approve")
    ctx.result["brand"] = {"slug": BRAND_SLUG, "url": f"{ctx.base_url}/brands/{BRAND_SLUG}"}
