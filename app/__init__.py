"""brandtrace: regional brand certification and traceability.

``create_app`` is the only way to build the application. Imports of the domain packages happen
inside it, so the pure standard modules (``app.gs1``, ``app.transparency.merkle``, ...) can be
imported by offline tools without pulling in the web stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

# Blueprints in registration order: (module, attribute).
BLUEPRINTS = (
    ("app.system.views", "bp"),
    ("app.auth.views", "bp"),
    ("app.auth.web", "bp"),
    ("app.activity.views", "bp"),
    ("app.portal.views", "bp"),
    ("app.auth.portal", "bp"),
    ("app.brands.views", "bp"),
    ("app.standards.views", "bp"),
    ("app.audits.views", "bp"),
    ("app.certificates.views", "bp"),
    ("app.certificates.web", "bp"),
    ("app.transparency.views", "bp"),
    ("app.products.views", "bp"),
    ("app.observer.portal", "bp"),
    ("app.transparency.portal", "bp"),
    ("app.trace.views", "bp"),
    ("app.trace.portal", "bp"),
    ("app.resolver.views", "bp"),
    ("app.association.portal", "bp"),
    ("app.brands.portal", "bp"),
    ("app.standards.portal", "bp"),
    ("app.audits.portal", "bp"),
    ("app.certificates.portal", "bp"),
    ("app.products.portal", "bp"),
    ("app.resolver.portal", "bp"),
    ("app.firm.portal", "bp"),
)

CLI_GROUPS = (
    ("app.cli", "db_cli"),
    ("app.cli", "org_cli"),
    ("app.cli", "user_cli"),
    ("app.cli", "token_cli"),
    ("app.demo.cli", "demo_cli"),
    ("app.certificates.cli", "keys_cli"),
    ("app.certificates.cli", "certificates_cli"),
    ("app.transparency.cli", "log_cli"),
    ("app.portal.cli", "portal_cli"),
)


def blueprint_modules() -> list[Any]:
    """Import every module that declares endpoints (fills ``app.http.api.ENDPOINTS``)."""
    import importlib

    return [importlib.import_module(module_name) for module_name, _ in BLUEPRINTS]


def create_app(config_overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the brandtrace application from the environment plus ``config_overrides``."""
    import importlib

    from werkzeug.middleware.proxy_fix import ProxyFix

    from app.errors import register_error_handlers
    from app.extensions import db, limiter
    from app.http.converters import IdConverter, refuse_ids_out_of_range
    from app.http.hooks import register_request_hooks
    from app.i18n import init_i18n
    from app.logs import configure_logging
    from config import load_config

    app = Flask(__name__, instance_relative_config=False)
    app.config.update(load_config())
    if config_overrides:
        app.config.update(config_overrides)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    configure_logging(app.config["LOG_LEVEL"])
    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"], x_proto=1, x_host=1
        )

    # Before any blueprint: rules pick their converters when they are added.
    app.url_map.converters["int"] = IdConverter
    app.url_value_preprocessor(refuse_ids_out_of_range)
    db.init_app(app)
    # A moving window: a burst straddling a minute boundary cannot double the allowance.
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    from app.http.limits import SCHEME  # registers the in-process storage's scheme

    if not app.config.get("RATELIMIT_STORAGE_URI"):
        # Shared through Redis when configured, so several app servers enforce one limit;
        # else in this process (see app.http.limits).
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] or f"{SCHEME}://"
    if app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
        # A Redis that stops answering costs a request half a second, not the system's TCP
        # timeout of minutes, before the limits count in this process (app.http.limits).
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
        )
    limiter.init_app(app)
    init_i18n(app)
    register_request_hooks(app)
    register_error_handlers(app)

    for module_name, attribute in BLUEPRINTS:
        app.register_blueprint(getattr(importlib.import_module(module_name), attribute))
    for module_name, attribute in CLI_GROUPS:
        app.cli.add_command(getattr(importlib.import_module(module_name), attribute))
    return app
