"""Helpers of the firm's portal pages: messages next to fields in the page's language, domain
errors mapped onto the fields they concern, one-time form tokens against double submits, and the
small display helpers the pages share.

The API's schemas and services speak English (problem+json is for machines); people get the
same rule explained in their language, from the rule code, with the English text as a fallback
for rules this table does not know yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import flash, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from app.auth.principal import Caller
from app.errors import AppError, FieldError, Forbidden, NotFound
from app.extensions import db
from app.gs1.identifiers import GS1SyntaxError, compute_check_digit
from app.i18n import current_locale
from app.portal.forms import FormResult, parse_form
from app.portal.submissions import (
    TOKEN_FIELD,
    InvalidFormToken,
    claim_form_token,
    new_form_token,
    record_form_result,
)
from app.portal.tables import Filter

M = TypeVar("M", bound=BaseModel)

GENERAL = "__all__"
"""Key of the message shown above a form (not tied to one field)."""


def bilingual(zh: str | None, en: str | None) -> str:
    """A bilingual data field in the page's language (the other one when it is empty)."""
    return (zh if current_locale() == "zh_CN" else en) or zh or en or ""


def when(value: Any) -> str:
    """A stored UTC time as pages show it."""
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


def choice_filter(key: str, label: Any, column: Any, labels: Mapping[Any, Any]) -> Filter:
    """A table filter on an enum column, offering its values by their labels."""
    return Filter(
        key,
        label,
        lambda statement, value: statement.where(column == value),
        choices=[(str(getattr(v, "value", v)), text) for v, text in labels.items()],
    )


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _pydantic_message(item: Mapping[str, Any]) -> str:
    kind = item["type"]
    ctx = item.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return gettext("Required.")
    if kind == "string_too_short":
        return gettext("At least %(count)s characters.", count=ctx.get("min_length"))
    if kind == "string_too_long":
        return gettext(
            "Too long: at most %(count)s characters are allowed.", count=ctx.get("max_length")
        )
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return gettext("Enter a whole number.")
    if kind == "greater_than":
        return gettext("More than %(value)s.", value=_number(ctx.get("gt")))
    if kind in ("float_parsing", "float_type", "finite_number"):
        return gettext("Enter a number.")
    if kind == "string_pattern_mismatch":
        return gettext("Not in the expected form.")
    if kind == "too_long":
        return gettext("Too many: at most %(count)s.", count=ctx.get("max_length"))
    if kind == "greater_than_equal":
        return gettext("At least %(value)s.", value=_number(ctx.get("ge")))
    if kind == "less_than_equal":
        return gettext("At most %(value)s.", value=_number(ctx.get("le")))
    if kind in ("enum", "literal_error"):
        return gettext("Choose one of the options.")
    if kind in ("bool_parsing", "bool_type"):
        return gettext("Choose yes or no.")
    return str(item["msg"])


def parse(schema: type[M], form: MultiDict[str, str]) -> FormResult[M]:
    """:func:`app.portal.forms.parse_form` with its messages in the page's language; text is
    trimmed first, so a field of spaces counts as empty."""
    form = MultiDict([(key, value.strip()) for key, value in form.items(multi=True)])
    result = parse_form(schema, form)
    if result.errors:
        try:
            schema.model_validate(result.values, strict=False)
        except ValidationError as error:
            result.errors = {}
            for item in error.errors(include_url=False):
                key = str(item["loc"][0]) if item["loc"] else GENERAL
                result.errors.setdefault(key, _pydantic_message(item))
    return result


def _check_digit_message(value: str) -> str:
    try:
        expected = compute_check_digit(value[:-1])
    except GS1SyntaxError:
        return gettext("The check digit (the last digit) is wrong.")
    return gettext(
        "The check digit (the last digit) is %(given)s; for these digits it must be %(expected)s.",
        given=value[-1],
        expected=expected,
    )


def _registration_message(rule: str, value: str) -> str | None:
    """A firm's registration number refused (see ``app.brands.services.validate_registration``)."""
    if rule == "required":
        return gettext("Give your firm's registration number.")
    if rule == "matches_record":
        return gettext("This differs from the registration number on record for your firm.")
    if rule == "pattern":
        return gettext("Use 4 to 64 letters, digits and dashes.")
    if rule == "length":
        return gettext(
            "A unified social credit code has 18 characters; this one has %(count)s.",
            count=len(value),
        )
    if rule == "check_character":
        return gettext("The check character (the last one) is wrong.")
    if rule in ("charset", "registration_authority", "organization_type", "division_code"):
        return gettext("This is not a valid unified social credit code.")
    return None


def field_message(item: FieldError, field: str, values: Mapping[str, Any], error: AppError) -> str:
    """One domain field error in the page's language (known rules), else its own text."""
    rule = item.rule
    value = str(values.get(field) or "")
    if field == "registration_number":
        return _registration_message(rule, value) or item.message
    if rule == "check_digit":
        return _check_digit_message(value)
    if rule == "numeric":
        return gettext("Use the digits 0-9 only.")
    if rule == "length":
        if field == "gtin":
            return gettext(
                "A GTIN has 8, 12, 13 or 14 digits; this one has %(count)s.", count=len(value)
            )
        if field.endswith("gln"):
            return gettext("A GLN has 13 digits; this one has %(count)s.", count=len(value))
        if field in ("production_date", "best_before_date", "expiry_date"):
            return gettext("Give the date as YYYY-MM-DD (or GS1 YYMMDD).")
        return gettext("1 to 20 characters.")
    if rule == "empty_value":
        return gettext("Required.")
    if rule == "charset82":
        return gettext(
            "Only the letters A-Z and a-z, the digits 0-9 and the signs %(signs)s are allowed "
            "here (no spaces, no Chinese characters).",
            signs="!\"%&'()*+,-./:;<=>?_",
        )
    if rule == "invalid_date":
        return gettext("This date does not exist.")
    if rule == "date_order":
        return gettext("May not be before the production date.")
    if rule == "unique" and field == "gtin":
        return gettext("This GTIN is registered already.")
    if rule == "unique" and field == "lot":
        return gettext("This product has a batch with this lot number already.")
    if rule == "label_quota":
        left = error.extra.get("labels_left")
        if left is not None:
            return gettext(
                "Only %(left)s labels are left of the certificate's quota of %(quota)s.",
                left=left,
                quota=error.extra.get("label_quota"),
            )
        return gettext("This is more labels than the certificate's quota has left.")
    if rule == "not_covered":
        return gettext(
            "No certificate in force covers this product's GTIN: it may not bear the brand "
            "mark, and no labels can be ordered for it."
        )
    if rule == "required" and field == "file":
        return gettext("Choose a file.")
    if rule == "max_size":
        return gettext("The file is too large.")
    if rule in ("svg_refused", "content_type"):
        return gettext("Send a PNG, JPEG or WebP picture.")
    if rule == "max_items":
        return gettext("This product has as many pictures as allowed; remove one first.")
    if rule == "active_recall":
        return gettext(
            "This batch has an active hold or recall of this kind already; lift it first or "
            "choose the other kind."
        )
    if rule == "state":
        return gettext("This step is not possible in the order's current state.")
    return item.message


def apply_error(
    error: AppError, errors: dict[str, str], values: Mapping[str, Any], fields: Iterable[str]
) -> None:
    """Put a domain error's field errors next to the form's ``fields``; the rest (and an error
    without field details) above the form."""
    known = set(fields)
    for item in error.errors:
        field = item.field.strip("/").split("/")[0].removeprefix("query.")
        message = field_message(item, field, values, error)
        if field in known:
            errors.setdefault(field, message)
        else:
            errors[GENERAL] = message
    if isinstance(error, InvalidFormToken):
        errors[GENERAL] = gettext(
            "This form is out of date or incomplete; check it and submit it again."
        )
    elif not error.errors:
        errors[GENERAL] = error.detail


# --- one-time form tokens ---------------------------------------------------------------------


def form_token() -> str:
    """The token to put in the form being shown: the one it was posted with when the form is
    shown again (it was not used, since the work failed), else a fresh one."""
    posted = request.form.get(TOKEN_FIELD, "") if request.method == "POST" else ""
    return posted or new_form_token()


def repeated_submission(caller: Caller) -> ResponseReturnValue | None:
    """Claim the posted form's one-time token, in the request's transaction.

    None: the form's first submission, go ahead (then call :func:`remember_result`). A
    response: the form was submitted already, return it (a redirect to what the first
    submission made; nothing is done twice). Raises :class:`InvalidFormToken` (an AppError that
    :func:`apply_error` explains) for a missing, malformed or foreign token.
    """
    earlier = claim_form_token(db.session, caller, request.form.get(TOKEN_FIELD))
    if earlier is None:
        return None
    flash(gettext("This form was submitted already; it was not done a second time."), "info")
    return redirect(earlier or request.path, code=303)


def remember_result(url: str) -> None:
    """Record where this form's first submission led, for its repeats."""
    record_form_result(db.session, request.form.get(TOKEN_FIELD, ""), url)


# --- one way to handle a posted form ----------------------------------------------------------


@dataclass
class Submission:
    """What became of a posted form: ``response`` (a redirect) when it was done or was a repeat,
    else what was typed and the errors, to show the form again (status 422)."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    response: ResponseReturnValue | None = None


def submit(
    schema: type[M],
    fields: Iterable[str],
    action: Callable[[M], tuple[str, str]],
    *,
    once: Caller | None = None,
    data: MultiDict[str, str] | None = None,
) -> Submission:
    """Validate the posted form with ``schema`` and run ``action(model)``, which does the work
    through a service and returns (where to go next, what to tell the person).

    With ``once`` (the caller), the form's one-time token is claimed first, so a repeat of the
    form goes to what the first submission made. Domain errors land next to ``fields`` (the rest
    above the form); another organisation's records (404) and refusals (403) are not form errors
    and answer as such. Nothing is committed unless the work succeeds. ``data`` replaces the
    posted fields (when the page adds one of its own).
    """
    form = parse(schema, request.form if data is None else data)
    result = Submission(values=form.values, errors=form.errors)
    if form.model is None:
        return result
    try:
        if once is not None:
            result.response = repeated_submission(once)
            if result.response is not None:
                return result
        target, message = action(form.model)
    except (NotFound, Forbidden):
        raise
    except AppError as error:
        apply_error(error, result.errors, result.values, fields)
        return result
    if once is not None:
        remember_result(target)
    flash(message, "success")
    result.response = redirect(target, code=303)
    return result
