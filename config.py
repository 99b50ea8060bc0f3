"""Configuration read from the environment and validated at start-up.

Every setting has one environment variable (documented in the README). ``load_config`` turns
them into Flask config keys and fails with a ``ConfigError`` naming the variable and the rule
when a value is wrong, so a misconfigured server never starts half-working.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

ENVIRONMENTS = ("development", "production", "testing")


class ConfigError(RuntimeError):
    """A setting from the environment has a bad value."""


def _base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"BRANDTRACE_BASE_URL={value!r} must be an absolute http(s) URL such as "
            "https://brand.example.org"
        )
    if parts.query or parts.fragment or parts.path not in ("", "/"):
        raise ConfigError(
            f"BRANDTRACE_BASE_URL={value!r} must be an origin without path, query or fragment"
        )
    return f"{parts.scheme}://{parts.netloc}"


def _database_url(value: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise ConfigError(f"BRANDTRACE_DATABASE_URL is not a database URL: {exc}") from exc
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            "BRANDTRACE_DATABASE_URL must point at SQLite (sqlite:///path) or PostgreSQL "
            "(postgresql+psycopg://user@host/db)"
        )
    if url.get_backend_name() == "postgresql":
        if url.drivername == "postgresql":
            # Name the driver we install, whatever SQLAlchemy's default for plain URLs is.
            url = url.set(drivername="postgresql+psycopg")
        elif url.drivername != "postgresql+psycopg":
            raise ConfigError(
                "BRANDTRACE_DATABASE_URL: use the psycopg driver (postgresql+psycopg://)"
            )
    return url.render_as_string(hide_password=False)


def _development_secret_key() -> str:
    """Generate the development secret once and keep it, so sessions survive restarts."""
    path = INSTANCE_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    # Written whole under a name of its own, then linked into place: processes starting at once
    # (server workers, parallel tests) never read a half-written key, and the first one wins.
    draft = path.with_name(f"secret_key.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        with contextlib.suppress(FileExistsError):  # another process got there first
            os.link(draft, path)
    finally:
        draft.unlink()
    return path.read_text().strip()


def _positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} must be a whole number") from None
    if number <= 0:
        raise ConfigError(f"{name}={value!r} must be positive")
    return number


def load_config(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read and validate ``BRANDTRACE_*`` variables into Flask config keys."""
    env = os.environ if environ is None else environ
    environment = env.get("BRANDTRACE_ENV", "development")
    if environment not in ENVIRONMENTS:
        raise ConfigError(
            f"BRANDTRACE_ENV={environment!r} must be one of {', '.join(ENVIRONMENTS)}"
        )

    database_url = _database_url(
        env.get("BRANDTRACE_DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'brandtrace.sqlite3'}"
    )
    base_url = _base_url(env.get("BRANDTRACE_BASE_URL", "http://127.0.0.1:5000"))

    secret_key = env.get("BRANDTRACE_SECRET_KEY", "")
    if not secret_key:
        if environment == "production":
            raise ConfigError(
                "BRANDTRACE_SECRET_KEY is required in production: set it to a random string "
                "of at least 32 characters, e.g. from "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        secret_key = _development_secret_key()
    elif len(secret_key) < 32:
        raise ConfigError("BRANDTRACE_SECRET_KEY must be at least 32 characters long")

    key_dir = Path(env.get("BRANDTRACE_KEY_DIR") or PROJECT_ROOT / "certs")
    if key_dir.exists() and not key_dir.is_dir():
        raise ConfigError(f"BRANDTRACE_KEY_DIR={str(key_dir)!r} exists and is not a directory")

    redis_url = env.get("BRANDTRACE_REDIS_URL") or None
    if redis_url:
        scheme = urlsplit(redis_url).scheme
        if scheme == "unix":
            # redis-py's spelling of a socket path; the rate-limit storage knows it as this.
            redis_url = "redis+unix" + redis_url[len("unix") :]
        elif scheme not in ("redis", "rediss", "redis+unix"):
            raise ConfigError(
                f"BRANDTRACE_REDIS_URL={redis_url!r} must be a redis://, rediss:// or "
                "unix:// (socket path) URL"
            )

    log_level = env.get("BRANDTRACE_LOG_LEVEL", "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(
            f"BRANDTRACE_LOG_LEVEL={log_level!r} must be DEBUG, INFO, WARNING or ERROR"
        )

    max_request_bytes = _positive_int(
        "BRANDTRACE_MAX_REQUEST_BYTES",
        env.get("BRANDTRACE_MAX_REQUEST_BYTES", str(16 * 1024 * 1024)),
    )
    proxies = int(env.get("BRANDTRACE_TRUSTED_PROXIES", "0") or 0)
    epcis_max_bytes = _positive_int(
        "BRANDTRACE_EPCIS_CAPTURE_MAX_BYTES",
        env.get("BRANDTRACE_EPCIS_CAPTURE_MAX_BYTES", str(8 * 1024 * 1024)),
    )
    epcis_max_events = _positive_int(
        "BRANDTRACE_EPCIS_CAPTURE_MAX_EVENTS",
        env.get("BRANDTRACE_EPCIS_CAPTURE_MAX_EVENTS", "10000"),
    )
    # How far ahead of our clock a captured eventTime may be (capturers' clocks drift).
    epcis_future_tolerance = _positive_int(
        "BRANDTRACE_EPCIS_FUTURE_TOLERANCE_SECONDS",
        env.get("BRANDTRACE_EPCIS_FUTURE_TOLERANCE_SECONDS", "3600"),
    )

    secure_cookies = base_url.startswith("https://")
    return {
        "ENV_NAME": environment,
        "TESTING": environment == "testing",
        "DATABASE_URL": database_url,
        "BASE_URL": base_url,
        "SECRET_KEY": secret_key,
        "KEY_DIR": str(key_dir),
        "REDIS_URL": redis_url,
        "LOG_LEVEL": log_level,
        "MAX_CONTENT_LENGTH": max_request_bytes,
        "TRUSTED_PROXIES": proxies,
        "EPCIS_CAPTURE_MAX_BYTES": epcis_max_bytes,
        "EPCIS_CAPTURE_MAX_EVENTS": epcis_max_events,
        "EPCIS_FUTURE_TOLERANCE_SECONDS": epcis_future_tolerance,
        # Argon2id cost: OWASP's minimum is 19 MiB, t=2; tests lower it to keep the suite fast.
        "PASSWORD_HASH_MEMORY_KIB": 19 * 1024,
        "PASSWORD_HASH_TIME_COST": 2,
        "SESSION_COOKIE_NAME": "__Host-brandtrace" if secure_cookies else "brandtrace_session",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "RATELIMIT_ENABLED": True,
        "JSON_SORT_KEYS": False,
    }
