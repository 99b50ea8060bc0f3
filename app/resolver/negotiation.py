"""Which answer a resolver request gets: the page, the verdict JSON, the linkset or a redirect.

The community resolver sent JSON to browsers because it read ``Accept`` headers without their
``q=`` weights; here Werkzeug's parser ranks every offer by quality and then specificity, so a
browser's ``text/html,...,*/*;q=0.8`` gets the page and ``Accept: application/json`` the JSON.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from werkzeug.datastructures import MIMEAccept

HTML = "text/html"
JSON = "application/json"
LINKSET = "application/linkset+json"
PROBLEM = "application/problem+json"

GS1_VOC = "https://gs1.org/voc/"
GS1_VOC_PREFIXES = ("https://ref.gs1.org/voc/", "http://gs1.org/voc/", "https://gs1.org/voc/")
LINKSET_TYPES = frozenset({"linkset", "all"})


class Answer(enum.StrEnum):
    PAGE = "page"
    VERDICT = "verdict"
    LINKSET = "linkset"
    REDIRECT = "redirect"
    NOT_ACCEPTABLE = "not_acceptable"


@dataclass(frozen=True)
class Choice:
    """The negotiated answer: its kind, media type, and for redirects the link type."""

    answer: Answer
    media_type: str | None = None
    link_type: str | None = None


def normalise_link_type(value: str) -> str:
    """``gs1:pip``, ``https://gs1.org/voc/pip`` and ``https://ref.gs1.org/voc/pip`` are one link
    type, written ``gs1:pip``; ``linkset`` and ``all`` are the linkset; others are kept."""
    value = value.strip()
    for prefix in GS1_VOC_PREFIXES:
        if value.startswith(prefix):
            return "gs1:" + value[len(prefix) :]
    return value


def link_type_uri(link_type: str) -> str:
    """The full relation URI of a ``gs1:`` link type (RFC 8288 extension relation type)."""
    if link_type.startswith("gs1:"):
        return GS1_VOC + link_type[4:]
    return link_type


def choose(accept: MIMEAccept, link_type: str | None) -> Choice:
    """Pick the answer for a resolver request from ``Accept`` and ``?linkType=``."""
    if link_type:
        normalised = normalise_link_type(link_type)
        if normalised in LINKSET_TYPES:
            # A client that prefers plain JSON gets the same linkset labelled application/json.
            media = accept.best_match([LINKSET, JSON]) or LINKSET
            return Choice(Answer.LINKSET, media)
        return Choice(Answer.REDIRECT, link_type=normalised)
    best = accept.best_match([HTML, JSON, LINKSET, PROBLEM]) if accept else HTML
    if best is None:
        return Choice(Answer.NOT_ACCEPTABLE)
    if best == HTML:
        return Choice(Answer.PAGE, HTML)
    if best == LINKSET:
        return Choice(Answer.LINKSET, LINKSET)
    return Choice(Answer.VERDICT, JSON)


def wants_machine_answer(accept: MIMEAccept) -> bool:
    """For errors: problem+json unless the client prefers HTML (by quality, then order)."""
    if not accept:
        return False
    return accept.best_match([HTML, JSON, PROBLEM, LINKSET]) not in (None, HTML)
