"""The association portal's form helpers: repeated rows, localised messages, domain errors."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from app.association.forms import RowMap, apply_errors, pointer_key, read_rows, validate
from app.errors import FieldError, InvalidInput
from app.standards.schemas import VersionContent


def test_pointers_become_form_names() -> None:
    assert pointer_key("/clauses/0/number") == "clauses-0-number"
    assert pointer_key("reason") == "reason" and pointer_key("/") == ""


def test_rows_skip_blank_and_removed_ones_and_remember_their_place() -> None:
    form = MultiDict(
        {
            "items-count": "4",
            "items-0-name": "first",
            "items-1-name": " ",
            "items-2-name": "second",
            "items-2-tags": "a\n\nb",
            "items-3-name": "gone",
            "items-3-remove": "1",
        }
    )
    rows = read_rows(form, "items", ("name", "tags"), default_count=2, lists=("tags",))
    assert rows.items == [{"name": "first"}, {"name": "second", "tags": ["a", "b"]}]
    assert rows.positions == [0, 2] and rows.values["items-2-tags"] == "a\n\nb"
    mapping = RowMap({"items": rows.positions})
    assert mapping.form_key("items-1-name") == "items-2-name"
    assert (
        mapping.form_key("items-7-name") == "items-7-name" and mapping.form_key("other") == "other"
    )


def test_row_counts_are_bounded() -> None:
    rows = read_rows(MultiDict({"x-count": "100000"}), "x", ("a",), default_count=1)
    assert rows.count == 500
    assert read_rows(MultiDict({"x-count": "many"}), "x", ("a",), default_count=3).count == 3


def test_validation_messages_follow_the_page_language(app) -> None:
    with app.test_request_context("/?lang=zh-CN"):
        result = validate(VersionContent, {"clauses": [{"number": "1", "title_zh": "x" * 301}]})
        assert result.errors["clauses-0-title_zh"] == "最多 300 个字符。"
        assert result.errors["clauses-0-title_en"] == "必填。"
    with app.test_request_context("/?lang=en"):
        result = validate(VersionContent, {"effective_from": "soon"})
        assert result.errors == {"effective_from": "Enter a date as YYYY-MM-DD."}


def test_domain_errors_go_next_to_their_rows(app) -> None:
    error = InvalidInput(
        "The version's content is not valid.",
        errors=[
            FieldError("/criteria/1/clause", "clause_exists", "no clause 9 in this version"),
            FieldError("/version", "unique", "this version label is taken"),
        ],
    )
    errors: dict[str, str] = {}
    with app.test_request_context("/?lang=en"):
        apply_errors(error, errors, rows=RowMap({"criteria": [0, 3]}))
    assert errors == {
        "criteria-3-clause": "no clause 9 in this version",
        "version": "Already taken, or given twice.",
        "__all__": "The version's content is not valid.",
    }


def test_domain_messages_are_worded_by_rule_on_chinese_pages(app) -> None:
    error = InvalidInput(
        "The version's content is not valid.",
        errors=[
            FieldError("/criteria/0/clause", "clause_exists", "no clause 9 in this version"),
            FieldError("/results/0/value", "value_type_number", "measured as a number"),
            FieldError("/other", "a_rule_without_words", "kept as the service said it"),
        ],
    )
    errors: dict[str, str] = {}
    with app.test_request_context("/?lang=zh-CN"):
        apply_errors(error, errors)
    assert errors["criteria-0-clause"] == "此版本中没有该条款。"
    assert errors["results-0-value"] == "该值不符合指标的测定方式。"
    assert errors["other"] == "kept as the service said it"
