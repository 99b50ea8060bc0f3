"""Applying a criterion to a measured value: type check and pass/fail.

Pure functions over anything shaped like a :class:`~app.standards.models.Criterion`.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from app.standards.models import Comparator, ValueType


class CriterionLike(Protocol):
    key: str
    value_type: ValueType
    comparator: Comparator | None
    threshold: float | None
    threshold_max: float | None
    allowed_values: list[str] | None


def value_type_error(criterion: CriterionLike, value: Any) -> str | None:
    """Why ``value`` cannot be a measurement of ``criterion`` (None when it can): a number
    criterion takes a finite JSON number, a choice criterion a string, a boolean one true/false."""
    if criterion.value_type == ValueType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "this criterion is measured as a number"
        if not math.isfinite(value):
            return "the number must be finite"
        return None
    if criterion.value_type == ValueType.CHOICE:
        if not isinstance(value, str) or not value.strip():
            return "this criterion takes one of its allowed values, as text"
        return None
    if not isinstance(value, bool):
        return "this criterion is a yes/no finding: send true or false"
    return None


def passes(criterion: CriterionLike, value: Any) -> bool:
    """Whether a (type-checked) value meets the criterion."""
    if criterion.value_type == ValueType.BOOLEAN:
        return value is True
    if criterion.value_type == ValueType.CHOICE:
        return value.strip() in (criterion.allowed_values or [])
    number = float(value)
    threshold = criterion.threshold
    assert threshold is not None and criterion.comparator is not None
    match criterion.comparator:
        case Comparator.LT:
            return number < threshold
        case Comparator.LE:
            return number <= threshold
        case Comparator.EQ:
            return number == threshold
        case Comparator.GE:
            return number >= threshold
        case Comparator.GT:
            return number > threshold
        case Comparator.BETWEEN:
            assert criterion.threshold_max is not None
            return threshold <= number <= criterion.threshold_max
    raise AssertionError(criterion.comparator)


COMPARATOR_SYMBOLS = {
    Comparator.LT: "<",
    Comparator.LE: "≤",
    Comparator.EQ: "=",
    Comparator.GE: "≥",
    Comparator.GT: ">",
}


def format_number(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e15 else repr(value)


def requirement_text(criterion: CriterionLike, unit: str | None = None) -> str:
    """A short requirement such as ``≤ 7 %``, ``5–10 %`` or one of the allowed values."""
    suffix = f" {unit}" if unit else ""
    if criterion.value_type == ValueType.NUMBER and criterion.threshold is not None:
        if criterion.comparator == Comparator.BETWEEN and criterion.threshold_max is not None:
            return (
                f"{format_number(criterion.threshold)}–{format_number(criterion.threshold_max)}"
                f"{suffix}"
            )
        assert criterion.comparator is not None
        symbol = COMPARATOR_SYMBOLS[criterion.comparator]
        return f"{symbol} {format_number(criterion.threshold)}{suffix}"
    if criterion.value_type == ValueType.CHOICE:
        return " / ".join(criterion.allowed_values or [])
    return "✓"
