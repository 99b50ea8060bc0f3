"""Turning a resolution into what people and machines read: the verdict JSON, the RFC 9264
linkset with GS1 link types, the ``Link`` header, and the words for each verdict and reason in
the shopper's language.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import format_date, get_translations

from app.certificates.credentials import status_reason_text
from app.gs1.digital_link import encode_dl_value
from app.i18n import current_locale, local_text
from app.resolver import cache
from app.resolver.negotiation import LINKSET, link_type_uri
from app.resolver.services import Resolution
from app.resolver.verdicts import (
    CodeFacts,
    Level,
    PartyFacts,
    Reason,
    Verdict,
    certificate_problems,
)


def _l(message: str) -> str:
    """Mark a text for the catalogue; it is translated where it is shown, by :func:`tr`."""
    return message


_TRANSLATED: dict[tuple[str, str], str] = {}


def tr(message: str, **values: Any) -> str:
    """``message`` in the current language, with ``values`` filled in. Translations are looked
    up once per language and process: a verdict shows a dozen texts and is asked for often."""
    key = (current_locale(), message)
    text = _TRANSLATED.get(key)
    if text is None:
        text = _TRANSLATED[key] = get_translations().ugettext(message)
    return text % values if values else text


VERDICT_TITLES = {
    Verdict.NOT_FOUND: _l("Code not found"),
    Verdict.BLOCKED: _l("Blocked code"),
    Verdict.NOT_ACTIVATED: _l("Code not activated"),
    Verdict.NOT_VALID: _l("Not valid: certification not in force"),
    Verdict.GENUINE_WITH_WARNING: _l("Genuine, with a warning"),
    Verdict.GENUINE: _l("Genuine"),
}
# NOT_VALID for a product taken off the market says so: the certification may well be in force.
RESTRICTED_TITLES = {
    "product_recalled": _l("Not valid: this product is recalled"),
    "product_on_hold": _l("Not valid: this product is on hold"),
}


VERDICT_ADVICE = {
    Verdict.NOT_FOUND: _l(
        "This code is not in the official register. The product may be counterfeit: do not "
        "rely on the label, and please report it."
    ),
    Verdict.BLOCKED: _l(
        "This label was blocked by the producer (for example lost or stolen labels). Do not "
        "trust this pack; please report where you found it."
    ),
    Verdict.NOT_ACTIVATED: _l(
        "This label was printed but never released for sale. It may have leaked from the "
        "printer: please report where you found it."
    ),
    Verdict.NOT_VALID: _l(
        "The label is ours, but the product may not bear the brand mark today. See why below."
    ),
    Verdict.GENUINE_WITH_WARNING: _l(
        "The label is registered and certified, but something looks unusual. Check the pack "
        "carefully and see the warnings below."
    ),
    Verdict.GENUINE: _l(
        "This product is registered, its producer is certified, and the label is valid."
    ),
}
RESTRICTED_ADVICE = {
    "product_recalled": _l(
        "The label is ours, but this product has been recalled: do not eat or use it, and see "
        "why below."
    ),
    "product_on_hold": _l(
        "The label is ours, but this product is held back from sale while it is checked. See "
        "why below."
    ),
}


def _restriction(verdict: Verdict, reason_codes: Any) -> str | None:
    """A recall or hold behind a NOT_VALID verdict: what a shopper must know first, whatever
    else is wrong (the certification may well be in force)."""
    if verdict is not Verdict.NOT_VALID:
        return None
    codes = set(reason_codes or ())
    return next((code for code in RESTRICTED_TITLES if code in codes), None)


def verdict_title(verdict: Verdict, reason_codes: Any = ()) -> str:
    """The verdict's title in the current language, naming a recall or hold when there is one."""
    restriction = _restriction(verdict, reason_codes)
    return tr(RESTRICTED_TITLES[restriction] if restriction else VERDICT_TITLES[verdict])


def verdict_advice(verdict: Verdict, reason_codes: Any = ()) -> str:
    """What the shopper should do, in the current language (a recall: do not use it)."""
    restriction = _restriction(verdict, reason_codes)
    return tr(RESTRICTED_ADVICE[restriction] if restriction else VERDICT_ADVICE[verdict])


REASON_TEXTS: Mapping[str, Any] = {
    "unknown_gtin": _l("No product with GTIN %(gtin)s is registered."),
    "unknown_batch": _l("The product exists, but it has no batch %(lot)s."),
    "unknown_serial": _l("The product exists, but no label has serial %(serial)s."),
    "lot_mismatch": _l(
        "No label with this serial number was issued for batch %(printed)s: the label may be "
        "copied."
    ),
    "signature_mismatch": _l(
        "The label's printed signature is not the one issued with this serial number."
    ),
    "code_blacklisted": _l("The producer blocked this label: %(reason)s"),
    "code_not_activated": _l("The label was never activated for sale."),
    "no_certificate": _l("No certificate covers this product."),
    "certificate_suspended": _l("Certificate %(number)s is suspended: %(reason)s"),
    "certificate_withdrawn": _l("Certificate %(number)s was withdrawn: %(reason)s"),
    "certificate_expired": _l("Certificate %(number)s has expired."),
    "certificate_cancelled": _l("Certificate %(number)s was cancelled by its holder: %(reason)s"),
    "certificate_superseded": _l("Certificate %(number)s was replaced by a newer one."),
    "certificate_scope_excludes": _l(
        "Certificate %(number)s no longer covers this product: the association narrowed its scope."
    ),
    "certificate_not_in_force": _l("Certificate %(number)s is not in force."),
    "certificate_key_revoked": _l(
        "The signature of certificate %(number)s can no longer be trusted (the association "
        "revoked the key that made it): the association must re-issue the certificate."
    ),
    "label_key_revoked": _l(
        "The signature printed on this label can no longer be trusted (the association revoked "
        "the key that made it): the label must be re-issued."
    ),
    "label_key_revoked_after_issue": _l(
        "This pack is registered as genuine, but the key that signed its label was revoked "
        "after the label was issued: apps that check the printed signature offline will "
        "reject it. Rely on this official check."
    ),
    "certificate_not_yet_valid": _l("Certificate %(number)s is not valid before %(valid_from)s."),
    "surveillance_overdue": _l("The surveillance audit of certificate %(number)s is overdue."),
    "surveillance_refused": _l(
        "The latest surveillance audit of certificate %(number)s was not passed."
    ),
    "product_recalled": _l("This product is recalled: %(reason)s"),
    "product_on_hold": _l("This product is on hold pending checks: %(reason)s"),
    "many_scans": _l(
        "This label has been checked by unusually many people: it may have been copied."
    ),
    "many_clients": _l(
        "This label was checked from many different phones within a short time: it may have "
        "been copied."
    ),
    "scanned_after_consumed": _l(
        "This pack was already marked as opened or used: its packaging may be reused."
    ),
    "label_data_mismatch": _l(
        "The date printed in the code (%(printed)s) differs from the batch record (%(recorded)s)."
    ),
    "product_level_code": _l(
        "This code identifies the product, not this very pack: it cannot prove that this pack "
        "is genuine."
    ),
    "batch_level_code": _l(
        "This code identifies a batch, not this very pack: it cannot prove that this pack is "
        "genuine."
    ),
    "foreign_link_host": _l(
        "The link you entered points to %(host)s, not to this official site. Genuine labels "
        "always point to %(official)s."
    ),
}
NO_REASON = _l("not stated")
CERTIFICATE_STATUSES = {
    "active": _l("active"),
    "suspended": _l("suspended"),
    "withdrawn": _l("withdrawn"),
    "cancelled": _l("cancelled by its holder"),
    "superseded": _l("superseded by a newer certificate"),
    "expired": _l("expired"),
}


# --- GS1 syntax errors, for people ------------------------------------------------------------

# What is wrong with a typed or scanned code, by ``GS1SyntaxError.rule``; the error's own
# ``message`` is English for developers and the API. Texts with values are used only when the
# error carries them (``params``), else the plain text of the rule.
SYNTAX_FIELDS = {
    "gtin": _l("GTIN"),
    "lot": _l("Batch"),
    "serial": _l("Serial number"),
}
SYNTAX_TEXTS: Mapping[str, tuple[str, ...]] = {
    "required": (_l("Type the code printed under the QR code."),),
    "required.gtin": (_l("Enter the GTIN: the 8 to 14 digits after (01)."),),
    "empty_value": (_l("This part of the code is empty."),),
    "numeric": (_l("Use only the digits 0 to 9."),),
    "check_digit": (
        _l(
            "The last digit (the check digit) is %(found)s but should be %(expected)s: check "
            "that every digit was typed correctly."
        ),
        _l("The last digit (the check digit) does not fit: check that every digit was typed."),
    ),
    "length": (
        _l("It must be %(min)s to %(max)s characters long, not %(found)s."),
        _l("It must have %(allowed)s digits, not %(found)s."),
        _l("It does not have the right length."),
    ),
    "charset82": (
        _l("The character “%(char)s” (position %(position)s) cannot appear in a product code."),
        _l("It contains a character that cannot appear in a product code."),
    ),
    "uri_syntax": (
        _l("The character “%(char)s” cannot appear in a product code."),
        _l("This is not a valid link to a product code."),
    ),
    "percent_encoding": (_l("The link is damaged: it holds a broken escape sequence."),),
    "hri_syntax": (_l("Type the code as printed, e.g. (01)09520123456788(10)LOT(21)SERIAL."),),
    "unrecognised": (
        _l("Type the link printed under the QR code, or the text printed as (01)…(10)…(21)…."),
    ),
    "not_a_uri": (
        _l("Give an EPC URN, a GS1 Digital Link or another absolute address (such as urn:uuid:…)."),
    ),
    "too_long": (_l("The code is too long."),),
    "query_too_long": (_l("The link is too long."),),
    "too_many_parameters": (_l("The link is too long."),),
    "duplicate_ai": (_l("A part of the code appears twice."),),
    "invalid_date": (_l("A date in the code does not exist."),),
}
SYNTAX_FALLBACK = _l("This is not a valid product code: check what you typed.")


def syntax_message(error: Any, *, with_field: bool = True) -> str:
    """A :class:`~app.gs1.identifiers.GS1SyntaxError` in the current language, for people."""
    params = {key: value for key, value in error.params.items() if value is not None}
    text = ""
    templates = SYNTAX_TEXTS.get(f"{error.rule}.{error.field}") or SYNTAX_TEXTS.get(error.rule, ())
    for template in templates:
        if "%(" not in template:
            text = tr(template)
            break
        try:
            text = tr(template) % params
        except (KeyError, TypeError, ValueError):
            continue
        break
    if not text:
        text = tr(SYNTAX_FALLBACK)
    field = SYNTAX_FIELDS.get(error.field)
    if with_field and field is not None and error.rule != "required":
        return tr(_l("%(part)s: %(problem)s"), part=tr(field), problem=text)
    return text


def reason_values(reason: Reason) -> dict[str, Any]:
    """A reason's values as people read them: a certificate's status reason that the system
    wrote itself (its expiry) in the current language, everything else as given."""
    params = dict(reason.params)
    if reason.code.startswith("certificate_") and "reason" in params:
        params["reason"] = status_reason_text(params["reason"])
    return params


def reason_message(reason: Reason) -> str:
    """A reason in the current language, with its values filled in."""
    template = REASON_TEXTS.get(reason.code)
    if template is None:
        return reason.code
    params = reason_values(reason)
    params.setdefault("reason", tr(NO_REASON))
    try:
        return tr(template, **params)
    except (KeyError, TypeError, ValueError):
        return tr(template).split("%(")[0].strip()


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


def _name(party: PartyFacts | None) -> str:
    return "" if party is None else local_text(party.name_zh, party.name_en)


def product_name(facts: CodeFacts) -> str:
    """The product's name in the current language ("" when unknown)."""
    product = facts.product
    return "" if product is None else local_text(product.name_zh, product.name_en)


def item_links(resolution: Resolution, base_url: str) -> list[tuple[str, list[Link]]]:
    """(anchor, links) for the identified item and each level above it (GS1 resolver: links
    of every level up to the primary key are included). The levels above a pack are the same
    for every pack of a batch, so they are built once per language and kept a while."""
    facts = resolution.facts
    found = resolution.verdict is not Verdict.NOT_FOUND
    result: list[tuple[str, list[Link]]] = []
    for position, (level, anchor) in enumerate(anchors(facts, base_url)):
        if position > 0 and not found:
            break
        if position == 0:
            result.append((anchor, _level_links(facts, level, anchor, base_url, found)))
            continue
        key = (
            current_locale(),
            anchor,
            facts.product.url if facts.product else None,
            (facts.brand.url, facts.brand.name_zh, facts.brand.name_en) if facts.brand else None,
            (facts.certificate.number, facts.certificate.url) if facts.certificate else None,
        )
        links = cache.LINKS.get_or_set(
            key, functools.partial(_level_links, facts, level, anchor, base_url, True)
        )
        result.append((anchor, links))
    return result


def _level_links(
    facts: CodeFacts, level: Level, anchor: str, base_url: str, found: bool
) -> list[Link]:
    page = verification_url(base_url, anchor)
    title = tr(_l("Verify this product"))
    links = [
        Link("gs1:defaultLink", page, title),
        Link("gs1:verificationService", page, title),
    ]
    if not found:
        return links
    if level is Level.PRODUCT and facts.product:
        # The product-level verification page is the product's information page unless the
        # firm publishes one of its own.
        links.append(Link("gs1:pip", facts.product.url or page, tr(_l("Product information"))))
        if facts.brand and facts.brand.url:
            links.append(
                Link(
                    "gs1:homepage",
                    facts.brand.url,
                    tr(_l("Brand: %(name)s"), name=_name(facts.brand)),
                )
            )
        if facts.certificate and facts.certificate.url:
            number = facts.certificate.number
            links.append(
                Link(
                    "gs1:certificationInfo",
                    facts.certificate.url,
                    tr(_l("Certificate %(number)s"), number=number),
                )
            )
            vc_url = facts.certificate.extra.get("vc_url")
            if vc_url:
                links.append(
                    Link(
                        "gs1:certificationInfo",
                        str(vc_url),
                        tr(_l("Certificate %(number)s (signed credential)"), number=number),
                        type="application/vc+ld+json",
                        hreflang=(),
                    )
                )
    if level is not Level.PRODUCT:
        # The verification page shows the journey (events, or that none are recorded).
        links.append(Link("gs1:traceability", page + "#journey", tr(_l("Where it came from"))))
    return links


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
    facts = resolution.facts
    link = resolution.link
    decision = resolution.decision
    certificate = facts.certificate
    document: dict[str, Any] = {
        "verdict": decision.verdict.value,
        "title": verdict_title(decision.verdict, decision.reason_codes),
        "summary": verdict_advice(decision.verdict, decision.reason_codes),
        "reasons": [
            {"code": reason.code, "message": reason_message(reason), **reason_values(reason)}
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
            "status_label": tr(CERTIFICATE_STATUSES.get(certificate.status, certificate.status)),
            "status_reason": status_reason_text(certificate.status_reason),
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
