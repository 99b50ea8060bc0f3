"""WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi ...``."""

import sys

from app import create_app
from config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    # A bad setting is the operator's to fix: one line naming it, not a traceback. Exit status
    # 3 is gunicorn's "worker failed to boot", which stops the server instead of restarting
    # workers that cannot start.
    print(f"brandtrace: configuration error: {error}", file=sys.stderr)
    raise SystemExit(3) from None
