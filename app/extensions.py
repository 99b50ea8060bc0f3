"""Unbound extensions, bound to the app in ``create_app``."""

from flask_babel import Babel
from flask_limiter import Limiter

from app.db import Database
from app.http.client import client_address

db = Database()
babel = Babel()
limiter = Limiter(key_func=client_address, default_limits=[], headers_enabled=True)
