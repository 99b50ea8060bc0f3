"""What the association's portal forms share: nested rows, localised messages, domain errors.

The portal validates HTML forms with the API's own pydantic schemas (``app.portal.forms``).
These helpers add what the association's larger forms need: repeated rows (clauses,
criteria, products, sites) named ``<list>-<index>-<field>``, validation messages in the page's
language, and domain errors (``FieldError`` with JSON pointers such as ``/clauses/0/number``)
placed next to the field they are about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from flask_babel import gettext, lazy_gettext
from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from app.errors import AppError
from app.extensions import db
from app.i18n import current_locale, local_text
from app.portal.forms import FormResult, parse_form

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

# The most rows one form may carry (the API's own limits are lower or equal).
MAX_ROWS = 500
SUMMARY = "__all__"


def field_key(location: Iterable[Any]) -> str:
    """The form name of a location: ``("clauses", 0, "number")`` -> ``clauses-0-number``."""
    return "-".join(str(part) for part in location)


def pointer_key(pointer: str) -> str:
    """The form name of a domain error's field: ``/clauses/0/number`` -> ``clauses-0-number``."""
    return field_key(part for part in pointer.strip("/").split("/") if part)


def _message(item: Mapping[str, Any]) -> str:
    """A pydantic error in the page's language (the API keeps pydantic's English)."""
    kind = str(item.get("type", ""))
    ctx = item.get("ctx") or {}
    empty = isinstance(item.get("input"), str) and not item["input"].strip()
    if kind == "missing" or (kind == "string_too_short" and (empty or ctx.get("min_length") == 1)):
        return gettext("Required.")
    if kind == "string_too_short":
        return gettext("At least %(count)s characters.", count=ctx.get("min_length"))
    if kind == "string_too_long":
        return gettext("At most %(count)s characters.", count=ctx.get("max_length"))
    if kind == "string_pattern_mismatch":
        return gettext("Not in the expected format.")
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return gettext("Enter a whole number.")
    if kind in ("float_parsing", "float_type", "finite_number"):
        return gettext("Enter a number.")
    if kind in ("greater_than_equal", "greater_than"):
        return gettext("At least %(limit)s.", limit=ctx.get("ge", ctx.get("gt")))
    if kind in ("less_than_equal", "less_than"):
        return gettext("At most %(limit)s.", limit=ctx.get("le", ctx.get("lt")))
    if kind in ("enum", "literal_error"):
        return gettext("Choose one of the options.")
    if kind.startswith(("date", "datetime", "timezone")):
        return gettext("Enter a date as YYYY-MM-DD.")
    if kind == "too_short":
        return gettext("Give at least %(count)s.", count=ctx.get("min_length"))
    if kind == "too_long":
        return gettext("At most %(count)s entries.", count=ctx.get("max_length"))
    if kind == "bool_parsing":
        return gettext("Choose yes or no.")
    return str(item.get("msg", kind))


def localised_errors(error: ValidationError) -> dict[str, str]:
    """Pydantic's errors keyed by form name, first message per field, in the page's language."""
    errors: dict[str, str] = {}
    for item in error.errors(include_url=False):
        errors.setdefault(field_key(item["loc"]) or SUMMARY, _message(item))
    return errors


def validate(schema: type[M], values: dict[str, Any]) -> FormResult[M]:
    """Validate already-shaped ``values`` (nested lists of dicts allowed) with ``schema``,
    converting strings as a form needs (lax mode)."""
    try:
        return FormResult(model=schema.model_validate(values, strict=False), values=values)
    except ValidationError as error:
        return FormResult(model=None, values=values, errors=localised_errors(error))


def parse(schema: type[M], form: MultiDict[str, str]) -> FormResult[M]:
    """``app.portal.forms.parse_form`` with messages in the page's language."""
    result = parse_form(schema, form)
    return result if result.ok else validate(schema, result.values)


def failed_status(error: AppError) -> int:
    """The status of a form shown again after a domain refusal: the error's own 4xx."""
    return error.status if 400 <= error.status < 500 else 422


def local_name(record: Any) -> str:
    """A record's ``name_zh`` or ``name_en``, in the page's language."""
    return str(local_text(record.name_zh, record.name_en))


# Domain errors name the rule they apply. Services word their messages in English (the API's
# language); a page in Chinese shows these words for the rules that association forms meet.
_ALWAYS = {"required", "unique"}
_RULE_WORDS = {
    "required": lazy_gettext("Required."),
    "unique": lazy_gettext("Already taken, or given twice."),
    "min_items": lazy_gettext("Add at least one."),
    "pattern": lazy_gettext("Not in the expected format."),
    "exists": lazy_gettext("Not found."),
    "approved_member": lazy_gettext("The firm is not a current member of the brand."),
    "range": lazy_gettext("Out of the allowed range."),
    "granted": lazy_gettext("The decision did not grant certification."),
    "audited": lazy_gettext("Not part of what was audited."),
    "withdrawn_version": lazy_gettext("The standard version was withdrawn."),
    "published_version": lazy_gettext("The standard version is not in use."),
    "current_version": lazy_gettext("Use the version in force."),
    "svg_refused": lazy_gettext("SVG files are not accepted."),
    "content_type": lazy_gettext("This type of file is not accepted."),
    "claimed_type_mismatch": lazy_gettext("The file's content does not match its type."),
    "max_size": lazy_gettext("The file is too large."),
    "max_length": lazy_gettext("Too long."),
    "surveillance_overdue": lazy_gettext("The surveillance audit is overdue."),
    "transition": lazy_gettext("Not possible in the current status."),
    "signed_off_only": lazy_gettext("Not possible in the current status."),
    "open_only": lazy_gettext("Not possible in the current status."),
    "draft_only": lazy_gettext("Not possible in the current status."),
    "published_only": lazy_gettext("Not possible in the current status."),
    "published_is_immutable": lazy_gettext("Not possible in the current status."),
    "same_standard": lazy_gettext("Choose versions of the same standard."),
    "same_holder": lazy_gettext("The decision is about another firm or brand."),
    "new_decision": lazy_gettext("Choose a new decision (of a re-certification audit)."),
    "owner_is_fixed": lazy_gettext("The owner is fixed; choose supervisor or promoter."),
    "organisation_kind": lazy_gettext("This kind of organisation cannot take this role."),
    "not_in_future": lazy_gettext("Cannot be in the future."),
    "not_future": lazy_gettext("Cannot be in the future."),
    "future": lazy_gettext("Must be in the future."),
    "mandatory_result": lazy_gettext("Every mandatory criterion needs a result."),
    "maker_checker": lazy_gettext("You took part in this audit."),
    "failed_audit": lazy_gettext("The audit's overall result is fail."),
    "label_quota": lazy_gettext("Below the labels already issued."),
    "iso3166_2": lazy_gettext("Use an ISO 3166-2 code such as CN-AH."),
    "criterion_exists": lazy_gettext("No such criterion in this version."),
    "clause_exists": lazy_gettext("No such clause in this version."),
    "already_certified": lazy_gettext("Already covered by a live certificate."),
    "after_valid_from": lazy_gettext("Must be after the start of validity."),
    "standard_effective": lazy_gettext("Not before the standard version takes effect."),
    "after_registered_on": lazy_gettext("Must be after the registration date."),
    "greater_than_threshold": lazy_gettext("Must be greater than the threshold."),
    "not_allowed": lazy_gettext("Leave this empty for this kind of criterion."),
    "check_digit": lazy_gettext("The check digit is wrong."),
    "length": lazy_gettext("Wrong number of characters."),
    "numeric": lazy_gettext("Digits only."),
}


def _rule_message(rule: str, message: str) -> str:
    if rule.startswith("value_type"):
        rule = "value_type"
    words = _RULE_WORDS.get(rule) or (
        lazy_gettext("This value does not fit the criterion.") if rule == "value_type" else None
    )
    if words is not None and (rule in _ALWAYS or current_locale() != "en"):
        return str(words)
    return message


def apply_errors(error: AppError, errors: dict[str, str], *, rows: RowMap | None = None) -> None:
    """Place a domain error's field messages next to their fields and its detail on top.

    ``rows`` maps list positions the service saw back to the form rows they came from (blank
    rows are left out before validation)."""
    for item in error.errors:
        key = pointer_key(item.field)
        if rows is not None:
            key = rows.form_key(key)
        errors.setdefault(key, _rule_message(item.rule, item.message))
    errors[SUMMARY] = error.detail


@dataclass
class Outcome(Generic[T]):
    """What a form's submission came to: the action's result, or what to show again (the
    typed ``values``, the ``errors`` next to fields and the status of the page)."""

    result: T | None
    values: dict[str, Any]
    errors: dict[str, str]
    status: int

    @property
    def ok(self) -> bool:
        return not self.errors

    @classmethod
    def blank(cls) -> Outcome[Any]:
        """Nothing submitted yet: an empty form."""
        return cls(None, {}, {}, 200)


def run(
    action: Callable[[], T],
    *,
    values: dict[str, Any] | None = None,
    rows: RowMap | None = None,
) -> Outcome[T]:
    """Carry out a domain action; a domain refusal rolls the request's work back (nothing
    changed) and puts its messages next to the fields they are about."""
    try:
        result = action()
    except AppError as error:
        db.session.rollback()
        errors: dict[str, str] = {}
        apply_errors(error, errors, rows=rows)
        return Outcome(None, values or {}, errors, failed_status(error))
    return Outcome(result, values or {}, {}, 200)


def submit(
    form: FormResult[M], action: Callable[[M], T], *, rows: RowMap | None = None
) -> Outcome[T]:
    """Run ``action`` on a valid form's model; an invalid form answers 422 with its errors."""
    model = form.model
    if model is None:
        errors = rows.remap(form.errors) if rows is not None else form.errors
        return Outcome(None, form.values, errors, 422)
    return run(lambda: action(model), values=form.values, rows=rows)


@dataclass
class RowMap:
    """Which form row each submitted list item came from, per list."""

    positions: dict[str, list[int]] = field(default_factory=dict)

    def form_key(self, key: str) -> str:
        name, _, rest = key.partition("-")
        index, _, tail = rest.partition("-")
        if name in self.positions and index.isdigit():
            position = int(index)
            rows = self.positions[name]
            if position < len(rows):
                return field_key([name, rows[position], *([tail] if tail else [])])
        return key

    def remap(self, errors: dict[str, str]) -> dict[str, str]:
        return {self.form_key(key): message for key, message in errors.items()}


def row_count(form: Mapping[str, str], name: str, default: int) -> int:
    """How many rows of list ``name`` the form shows (``<name>-count``), within bounds."""
    try:
        return min(max(int(form.get(f"{name}-count", default)), 0), MAX_ROWS)
    except ValueError:
        return default


@dataclass
class Rows:
    """The rows of one repeated group read from a form: the typed values of every shown row
    (for showing the form again) and the non-blank ones to validate."""

    values: dict[str, str]
    items: list[dict[str, Any]]
    positions: list[int]
    count: int


def read_rows(
    form: MultiDict[str, str],
    name: str,
    fields: Sequence[str],
    *,
    default_count: int,
    text_fields: Sequence[str] | None = None,
    checkboxes: Sequence[str] = (),
    lists: Sequence[str] = (),
) -> Rows:
    """Read rows ``<name>-<i>-<field>``; a row whose text fields are all empty, or whose
    ``remove`` box is ticked, is left out. ``lists`` fields hold one value per line;
    ``checkboxes`` are true when sent."""
    count = row_count(form, name, default_count)
    values: dict[str, str] = {f"{name}-count": str(count)}
    items: list[dict[str, Any]] = []
    positions: list[int] = []
    considered = text_fields if text_fields is not None else fields
    for index in range(count):
        prefix = f"{name}-{index}-"
        row = {item: (form.get(prefix + item) or "").strip() for item in fields}
        for item in fields:
            values[prefix + item] = row[item]
        for box in checkboxes:
            values[prefix + box] = "1" if form.get(prefix + box) else ""
        if form.get(prefix + "remove"):
            values[prefix + "remove"] = "1"
            continue
        if not any(row[item] for item in considered):
            continue
        item_values: dict[str, Any] = {}
        for item in fields:
            if item in lists:
                lines = [line.strip() for line in row[item].splitlines() if line.strip()]
                if lines:
                    item_values[item] = lines
            elif row[item]:
                item_values[item] = row[item]
        for box in checkboxes:
            item_values[box] = bool(form.get(prefix + box))
        items.append(item_values)
        positions.append(index)
    return Rows(values=values, items=items, positions=positions, count=count)


def row_values(
    name: str, fields: Sequence[str], items: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """Form values showing ``items`` (e.g. a draft's clauses) as rows of list ``name``."""
    values: dict[str, str] = {}
    for index, item in enumerate(items):
        for key in fields:
            value = item.get(key)
            if isinstance(value, bool):
                values[f"{name}-{index}-{key}"] = "1" if value else ""
            elif isinstance(value, list):
                values[f"{name}-{index}-{key}"] = "\n".join(str(v) for v in value)
            elif value is not None:
                values[f"{name}-{index}-{key}"] = _plain(value)
    return values


def _plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
