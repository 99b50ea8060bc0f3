"""Content negotiation with q-weights: browsers get the page, machines what they ask for."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from app.resolver.negotiation import (
    Answer,
    choose,
    link_type_uri,
    normalise_link_type,
    wants_machine_answer,
)

CHROME = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,"
    "*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SAFARI = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
WECHAT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/wxpic,image/tpg,*/*;q=0.8"


def accept(header: str) -> MIMEAccept:
    return parse_accept_header(header, MIMEAccept)


@pytest.mark.parametrize("header", [CHROME, FIREFOX, SAFARI, WECHAT, "*/*", "", "text/*"])
def test_browsers_and_wildcards_get_the_page(header) -> None:
    assert choose(accept(header), None).answer is Answer.PAGE


@pytest.mark.parametrize(
    ("header", "answer", "media"),
    [
        ("application/json", Answer.VERDICT, "application/json"),
        ("application/json, text/html;q=0.9", Answer.VERDICT, "application/json"),
        ("text/html;q=0.1, application/json", Answer.VERDICT, "application/json"),
        ("application/*", Answer.VERDICT, "application/json"),
        ("application/problem+json", Answer.VERDICT, "application/json"),
        ("application/linkset+json", Answer.LINKSET, "application/linkset+json"),
        (
            "application/linkset+json, application/json;q=0.5",
            Answer.LINKSET,
            "application/linkset+json",
        ),
        ("application/json;q=0, text/html", Answer.PAGE, "text/html"),
        # q-weights, not order, decide: the JSON wins here although it is listed last.
        (
            "text/html;q=0.4, application/xhtml+xml;q=0.4, application/json;q=0.5",
            Answer.VERDICT,
            "application/json",
        ),
    ],
)
def test_machines_get_what_they_weight_highest(header, answer, media) -> None:
    choice = choose(accept(header), None)
    assert (choice.answer, choice.media_type) == (answer, media)


def test_nothing_acceptable_is_406() -> None:
    assert choose(accept("image/png"), None).answer is Answer.NOT_ACCEPTABLE


def test_link_type_asks_for_the_linkset_or_a_redirect() -> None:
    assert choose(accept(CHROME), "linkset").answer is Answer.LINKSET
    assert choose(accept(CHROME), "all").answer is Answer.LINKSET
    # The linkset is labelled application/json for a client that prefers plain JSON.
    assert choose(accept("application/json"), "linkset").media_type == "application/json"
    assert choose(accept(CHROME), "linkset").media_type == "application/linkset+json"
    redirect = choose(accept(CHROME), "https://gs1.org/voc/pip")
    assert (redirect.answer, redirect.link_type) == (Answer.REDIRECT, "gs1:pip")


@pytest.mark.parametrize(
    "value",
    [
        "gs1:certificationInfo",
        "https://gs1.org/voc/certificationInfo",
        "http://gs1.org/voc/certificationInfo",
        "https://ref.gs1.org/voc/certificationInfo",
    ],
)
def test_gs1_link_types_are_one_type_however_written(value) -> None:
    assert normalise_link_type(value) == "gs1:certificationInfo"
    assert link_type_uri(normalise_link_type(value)) == "https://gs1.org/voc/certificationInfo"


def test_errors_go_to_people_as_pages_and_to_machines_as_problems() -> None:
    assert not wants_machine_answer(accept(CHROME))
    assert not wants_machine_answer(accept(""))
    assert wants_machine_answer(accept("application/json"))
    assert wants_machine_answer(accept("application/linkset+json"))
