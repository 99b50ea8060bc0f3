"""Structured logs: one JSON object per line, each carrying the request id."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from flask import g, has_app_context

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is None and has_app_context():
            request_id = g.get("request_id")
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str) -> None:
    """Send brandtrace's logs to stderr as JSON lines (idempotent across app instances)."""
    root = logging.getLogger("brandtrace")
    logger_app = logging.getLogger("app")
    # Flask-Limiter's own logger: the rate-limit storage's outage warnings belong in the same
    # JSON lines as everything else an operator watches.
    limits = logging.getLogger("flask-limiter")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        for logger in (root, logger_app):
            logger.addHandler(handler)
            logger.propagate = False
        limits.addHandler(handler)  # still propagating: whoever listens at the root hears it
    root.setLevel(level)
    logger_app.setLevel(level)
    limits.setLevel(level)
