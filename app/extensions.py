"""Unbound extensions, bound to the app in ``create_app``."""

from flask_babel import Babel

from app.db import Database
from app.http.client import client_address
from app.http.limits import AppLimiter

db = Database()
babel = Babel()
limiter = AppLimiter(key_func=client_address, default_limits=[], headers_enabled=True)
