"""Imports every model module so that ``Base.metadata`` is complete (Alembic, tests)."""

import importlib

MODEL_MODULES = (
    "app.auth.models",
    "app.activity.models",
    "app.files.models",
    "app.brands.models",
    "app.standards.models",
    "app.audits.models",
    "app.certificates.models",
    "app.transparency.models",
    "app.products.models",
    "app.portal.submissions",
    "app.trace.models",
    "app.resolver.models",
)


def import_all_models() -> None:
    for module in MODEL_MODULES:
        importlib.import_module(module)
