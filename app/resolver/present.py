"""Turning a resolution into what people and machines read: the verdict JSON, the RFC 9264
linkset with GS1 link types, the ``Link`` header, and the words for each verdict and reason in
the shopper's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from flask_babel import gettext, lazy_gettext

from app.gs1.digital_link import encode_dl_value
from app.resolver.negotiation import LINKSET, link_type_uri
from app.resolver.services import Resolution
from app.resolver.verdicts import CodeFacts, Level, PartyFacts, Reason, Verdict

VERDICT_TITLES = {
    Verdict.NOT_FOUND: lazy_gettext("Code not found"),
    Verdict.BLOCKED: lazy_gettext("Blocked code"),
    Verdict.NOT_ACTIVATED: lazy_gettext("Code not activated"),
    Verdict.NOT_VALID: lazy_gettext("Not valid: certification not in force"),
    Verdict.GENUINE_WITH_WARNING: lazy_gettext("Genuine, with a warning"),
    Verdict.GENUINE: lazy_gettext("Genuine"),
}
VERDICT_ADVICE = {
    Verdict.NOT_FOUND: lazy_gettext(
        "This code is not in the official register. The product may be counterfeit: do not "
        "rely on the label, and please report it."
    ),
    Verdict.BLOCKED: lazy_gettext(
        "This label was blocked by the producer (for example lost or stolen labels). Do not "
        "trust this pack; please report where you found it."
    ),
    Verdict.NOT_ACTIVATED: lazy_gettext(
        "This label was printed but never released for sale. It may have leaked from the "
        "printer: please report where you found it."
    ),
    Verdict.NOT_VALID: lazy_gettext(
        "The label is ours, but the product may not bear the brand mark today. See why below."
    ),
    Verdict.GENUINE_WITH_WARNING: lazy_gettext(
        "The label is registered and certified, but something looks unusual. Check the pack "
        "carefully and see the warnings below."
    ),
    Verdict.GENUINE: lazy_gettext(
        "This product is registered, its producer is certified, and the label is valid."
    ),
}
REASON_TEXTS: Mapping[str, Any] = {
    "unknown_gtin": lazy_gettext("No product with GTIN %(gtin)s is registered."),
    "unknown_batch": lazy_gettext("The product exists, but it has no batch %(lot)s."),
    "unknown_serial": lazy_gettext("The product exists, but no label has serial %(serial)s."),
    "lot_mismatch": lazy_gettext(
        "The serial exists, but under batch %(recorded)s, not %(printed)s as on this label."
    ),
    "signature_mismatch": lazy_gettext(
        "The label's printed signature is not the one issued with this serial number."
    ),
    "code_blacklisted": lazy_gettext("The producer blocked this label: %(reason)s"),
    "code_not_activated": lazy_gettext("The label was never activated for sale."),
    "no_certificate": lazy_gettext("No certificate covers this product."),
    "certificate_suspended": lazy_gettext("Certificate %(number)s is suspended: %(reason)s"),
    "certificate_withdrawn": lazy_gettext("Certificate %(number)s was withdrawn: %(reason)s"),
    "certificate_expired": lazy_gettext("Certificate %(number)s has expired."),
    "certificate_cancelled": lazy_gettext("Certificate %(number)s was cancelled."),
    "certificate_superseded": lazy_gettext("Certificate %(number)s was replaced by a newer one."),
    "certificate_not_in_force": lazy_gettext("Certificate %(number)s is not in force."),
    "certificate_not_yet_valid": lazy_gettext(
        "Certificate %(number)s is not valid before %(valid_from)s."
    ),
    "surveillance_overdue": lazy_gettext(
        "The surveillance audit of certificate %(number)s is overdue."
    ),
    "surveillance_refused": lazy_gettext(
        "The latest surveillance audit of certificate %(number)s was not passed."
    ),
    "product_recalled": lazy_gettext("This product is recalled: %(reason)s"),
    "product_on_hold": lazy_gettext("This product is on hold pending checks: %(reason)s"),
    "many_scans": lazy_gettext(
        "This label has been checked by unusually many people: it may have been copied."
    ),
    "many_clients": lazy_gettext(
        "This label was checked from many different phones within a short time: it may have "
        "been copied."
    ),
    "scanned_after_consumed": lazy_gettext(
        "This pack was already marked as opened or used: its packaging may be reused."
    ),
    "label_data_mismatch": lazy_gettext(
        "The date printed in the code (%(printed)s) differs from the batch record (%(recorded)s)."
    ),
    "product_level_code": lazy_gettext(
        "This code identifies the product, not this very pack: it cannot prove that this pack "
        "is genuine."
    ),
    "batch_level_code": lazy_gettext(
        "This code identifies a batch, not this very pack: it cannot prove that this pack is "
        "genuine."
    ),
    "foreign_link_host": lazy_gettext(
        "The link you entered points to %(host)s, not to this official site. Genuine labels "
        "always point to %(official)s."
    ),
}
NO_REASON = lazy_gettext("not stated")


def reason_message(reason: Reason) -> str:
    """A reason in the current language, with its values filled in."""
    template = REASON_TEXTS.get(reason.code)
    if template is None:
        return reason.code
    params = {key: value for key, value in reason.params.items()}
    params.setdefault("reason", str(NO_REASON))
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(template).split("%(")[0].strip()


def verdict_icon(verdict: Verdict) -> str:
    """Icon name per verdict: a shape as well as a colour, so nobody relies on colour alone."""
    return {
        Verdict.GENUINE: "check",
        Verdict.GENUINE_WITH_WARNING: "warning",
        Verdict.NOT_VALID: "cross",
        Verdict.NOT_ACTIVATED: "cross",
        Verdict.BLOCKED: "stop",
        Verdict.NOT_FOUND: "question",
    }[verdict]


DISPLAY_TIMEZONE = "Asia/Shanghai"


def format_day(value: Any) -> str:
    """A date for shoppers, in their language; instants are shown in the brand's time zone."""
    from datetime import date
    from zoneinfo import ZoneInfo

    from flask import current_app
    from flask_babel import format_date

    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        zone = ZoneInfo(current_app.config.get("RESOLVER_TIMEZONE", DISPLAY_TIMEZONE))
        value = value.astimezone(zone).date()
    if not isinstance(value, date):
        return str(value)
    return str(format_date(value, format="long"))


# --- links ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """One typed link (RFC 8288 / RFC 9264 target) from an anchor."""

    rel: str
    href: str
    title: str
    type: str = "text/html"
    hreflang: tuple[str, ...] = ("zh-CN", "en")


def _path(gtin: str, lot: str | None = None, serial: str | None = None) -> str:
    path = f"/01/{gtin}"
    if lot is not None:
        path += f"/10/{encode_dl_value(lot)}"
    if serial is not None:
        path += f"/21/{encode_dl_value(serial)}"
    return path


def anchors(facts: CodeFacts, base_url: str) -> list[tuple[Level, str]]:
    """The identified item and every level above it, most specific first."""
    levels = [(facts.level, base_url + _path(facts.gtin, facts.lot, facts.serial))]
    if facts.level is not Level.PRODUCT and facts.lot is not None and facts.serial is not None:
        levels.append((Level.BATCH, base_url + _path(facts.gtin, facts.lot)))
    if facts.level is not Level.PRODUCT:
        levels.append((Level.PRODUCT, base_url + _path(facts.gtin)))
    return levels


def verification_url(base_url: str, anchor: str) -> str:
    """The verification page of an item: ``/verify`` followed by its Digital Link path."""
    return base_url + "/verify" + anchor[len(base_url) :]


def _localised(name_zh: str, name_en: str) -> str:
    from app.i18n import current_locale

    return name_zh if current_locale() == "zh_CN" else name_en


def _name(party: PartyFacts | None) -> str:
    return "" if party is None else _localised(party.name_zh, party.name_en)


def product_name(facts: CodeFacts) -> str:
    """The product's name in the current language ("" when unknown)."""
    product = facts.product
    return "" if product is None else _localised(product.name_zh, product.name_en)


def item_links(resolution: Resolution, base_url: str) -> list[tuple[str, list[Link]]]:
    """(anchor, links) for the identified item and each level above it (GS1 resolver: links
    of every level up to the primary key are included)."""
    facts = resolution.facts
    found = resolution.verdict is not Verdict.NOT_FOUND
    result: list[tuple[str, list[Link]]] = []
    for position, (level, anchor) in enumerate(anchors(facts, base_url)):
        if position > 0 and not found:
            break
        page = verification_url(base_url, anchor)
        title = gettext("Verify this product")
        links = [
            Link("gs1:defaultLink", page, title),
            Link("gs1:verificationService", page, title),
        ]
        if found and level is Level.PRODUCT and facts.product:
            # The product-level verification page is the product's information page unless
            # the firm publishes one of its own.
            links.append(Link("gs1:pip", facts.product.url or page, gettext("Product information")))
            if facts.brand and facts.brand.url:
                links.append(
                    Link(
                        "gs1:homepage",
                        facts.brand.url,
                        gettext("Brand: %(name)s", name=_name(facts.brand)),
                    )
                )
            if facts.certificate and facts.certificate.url:
                links.append(
                    Link(
                        "gs1:certificationInfo",
                        facts.certificate.url,
                        gettext("Certificate %(number)s", number=facts.certificate.number),
                    )
                )
                vc_url = facts.certificate.extra.get("vc_url")
                if vc_url:
                    links.append(
                        Link(
                            "gs1:certificationInfo",
                            str(vc_url),
                            gettext(
                                "Certificate %(number)s (signed credential)",
                                number=facts.certificate.number,
                            ),
                            type="application/vc+ld+json",
                            hreflang=(),
                        )
                    )
        if found and level is not Level.PRODUCT:
            journey_url = (facts.unit.journey_url if facts.unit else None) or (
                facts.batch.journey_url if facts.batch else None
            )
            # The verification page shows the journey (events, or that none are recorded).
            links.append(
                Link(
                    "gs1:traceability",
                    journey_url or page + "#journey",
                    gettext("Where it came from"),
                )
            )
        result.append((anchor, links))
    return result


def find_link(groups: list[tuple[str, list[Link]]], link_type: str) -> Link | None:
    """The most specific link of ``link_type`` (``gs1:pip`` form)."""
    for _anchor, links in groups:
        for link in links:
            if link.rel == link_type:
                return link
    return None


def linkset_document(
    groups: list[tuple[str, list[Link]]], resolution: Resolution, item_description: str
) -> dict[str, Any]:
    """RFC 9264 JSON linkset; the verification link carries the verdict as a target
    attribute (``verdict``, an array of strings as RFC 9264 requires for extensions)."""
    contexts = []
    for position, (anchor, links) in enumerate(groups):
        context: dict[str, Any] = {"anchor": anchor}
        if position == 0 and item_description:
            context["itemDescription"] = item_description
        for link in links:
            target: dict[str, Any] = {"href": link.href, "title": link.title, "type": link.type}
            if link.hreflang:
                target["hreflang"] = list(link.hreflang)
            if position == 0 and link.rel == "gs1:verificationService":
                target["verdict"] = [resolution.verdict.value]
            context.setdefault(link_type_uri(link.rel), []).append(target)
        contexts.append(context)
    return {"linkset": contexts}


def _quote_header(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def link_header(groups: list[tuple[str, list[Link]]], linkset_url: str) -> str:
    """The ``Link`` header: the linkset, then every link of the identified item. Non-ASCII
    titles use ``title*`` (RFC 8187) since header values are Latin-1."""
    parts = [f'<{linkset_url}>; rel="linkset"; type="{LINKSET}"']
    if groups:
        for link in groups[0][1]:
            rel = link_type_uri(link.rel)
            if link.title.isascii():
                title = f'title="{_quote_header(link.title)}"'
            else:
                title = f"title*=UTF-8''{quote(link.title, safe='')}"
            parts.append(f'<{link.href}>; rel="{rel}"; {title}; type="{link.type}"')
    return ", ".join(parts)


# --- verdict JSON ------------------------------------------------------------------------------


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _party(party: PartyFacts | None) -> dict[str, Any] | None:
    if party is None:
        return None
    document: dict[str, Any] = {
        "slug": party.slug,
        "name": {"zh-CN": party.name_zh, "en": party.name_en},
        "url": party.url,
    }
    if party.registration_number:
        document["registration_number"] = party.registration_number
    document.update(party.extra)
    return document


def verdict_document(
    resolution: Resolution,
    *,
    base_url: str,
    official_host: str,
    links: list[tuple[str, list[Link]]],
    journey: list[dict[str, Any]] | None,
    log: dict[str, Any] | None,
    checked_at: datetime,
) -> dict[str, Any]:
    """The verdict as JSON, in the order a client reads it: verdict, why, what, who."""
    from app.resolver.verdicts import certificate_problems

    facts = resolution.facts
    link = resolution.link
    decision = resolution.decision
    certificate = facts.certificate
    document: dict[str, Any] = {
        "verdict": decision.verdict.value,
        "title": str(VERDICT_TITLES[decision.verdict]),
        "summary": str(VERDICT_ADVICE[decision.verdict]),
        "reasons": [
            {"code": reason.code, "message": reason_message(reason), **dict(reason.params)}
            for reason in decision.reasons
        ],
        "level": facts.level.value,
        "code": {
            "gtin": link.gtin,
            "lot": link.lot,
            "serial": link.serial,
            "data": dict(link.data),
            "digital_link": base_url + link.canonical_path(),
        },
        "product": None,
        "firm": _party(facts.firm),
        "brand": _party(facts.brand),
        "certificate": None,
        "batch": None,
    }
    if facts.product is not None:
        document["product"] = {
            "gtin": facts.product.gtin,
            "name": {"zh-CN": facts.product.name_zh, "en": facts.product.name_en},
            "url": facts.product.url,
            "image_url": facts.product.image_url,
        }
    if certificate is not None:
        document["certificate"] = {
            "number": certificate.number,
            "status": certificate.status,
            "status_reason": certificate.status_reason,
            "in_force": not certificate_problems(certificate, checked_at.astimezone(UTC).date()),
            "standard": {
                "code": certificate.standard_code,
                "version": certificate.standard_version,
            },
            "valid_from": _date(certificate.valid_from),
            "valid_until": _date(certificate.valid_until),
            "next_surveillance_due": _date(certificate.next_surveillance_due),
            "url": certificate.url,
            **{k: v for k, v in certificate.extra.items()},
        }
    if facts.batch is not None:
        document["batch"] = {
            "lot": facts.batch.lot,
            "production_date": _date(facts.batch.production_date),
            "best_before_date": _date(facts.batch.best_before_date),
            "expiry_date": _date(facts.batch.expiry_date),
            "site": facts.batch.site,
            "restriction": facts.batch.restriction,
        }
    tally = resolution.tally
    document["scans"] = (
        {
            "count": tally.scan_count,
            "shoppers": tally.shopper_count,
            "first_scanned_at": tally.first_scanned_at.isoformat(),
            "last_scanned_at": tally.last_scanned_at.isoformat(),
        }
        if tally is not None
        else None
    )
    document["journey"] = journey or None
    document["log"] = log
    anchor = links[0][0] if links else base_url + link.canonical_path()
    document["links"] = {
        "verification_page": verification_url(base_url, anchor),
        "linkset": anchor + "?linkType=linkset",
        "report": base_url + "/report" + "?" + "code=" + quote(link.canonical_path(), safe="/"),
        "by_type": {link_type_uri(item.rel): item.href for item in (links[0][1] if links else [])},
    }
    document["official_domain"] = official_host
    document["checked_at"] = checked_at.astimezone(UTC).isoformat()
    return document
