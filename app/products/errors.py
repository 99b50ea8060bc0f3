"""Errors of the products domain (products, batches, label orders, unit codes)."""

from app.errors import Conflict, FieldError, InvalidInput, NotFound
from app.gs1.identifiers import GS1SyntaxError


class InvalidGS1Value(InvalidInput):
    """A GTIN, lot, serial, GLN or date that breaks a GS1 rule (the field error says which)."""

    slug = "invalid-gs1-value"


def gs1_error(error: GS1SyntaxError, field: str) -> InvalidGS1Value:
    """The HTTP-neutral domain error for a :class:`GS1SyntaxError` on input ``field``."""
    return InvalidGS1Value(error.message, errors=[FieldError(field, error.rule, error.message)])


class DuplicateGTIN(Conflict):
    slug = "duplicate-gtin"


class DuplicateLot(Conflict):
    slug = "duplicate-lot"


class OrderStateConflict(Conflict):
    """The label order is not in a state that allows this step."""

    slug = "label-order-state"


class QuotaExceeded(Conflict):
    """The order would take more labels than the certificate's quota has left."""

    slug = "label-quota-exceeded"


class NotCovered(Conflict):
    """No certificate in force covers the product's GTIN."""

    slug = "gtin-not-certified"


class CodeGenerationFailed(Conflict):
    slug = "code-generation-failed"


class UnitNotFound(NotFound):
    slug = "unit-not-found"
