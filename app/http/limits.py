"""Rate limiting: the app's Flask-Limiter, with a lean path for the hottest routes, and its
counters kept in this process when no Redis server shares them, or while it is out of reach.

The ``limits`` library's memory storage starts a new thread a hundredth of a second after
each change to drop expired entries, so under a steady stream of requests it starts a thread
every few requests, and the request that starts it waits for it. This storage drops expired
entries at most once per ``SWEEP_SECONDS`` instead, from the request that finds a sweep due.
Counting, and so every limit, is the library's own (expired entries never count anyway).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, after_this_request, request
from flask.wrappers import Response
from flask_limiter import Limiter
from flask_limiter.constants import HeaderNames
from flask_limiter.util import get_qualified_name
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.strategies import RateLimiter
from limits.util import WindowStats
from werkzeug.exceptions import TooManyRequests
from werkzeug.http import http_date

SCHEME = "brandtrace-memory"

View = TypeVar("View", bound=Callable[..., Any])
Counted = TypeVar("Counted")


class LocalMemoryStorage(MemoryStorage):
    """``memory://`` without its clean-up threads (``brandtrace-memory://``)."""

    STORAGE_SCHEME: list[str] = [SCHEME]  # noqa: RUF012 (an instance attribute in the base class)
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()  # the one the base class starts
        self.timer.join()
        self._next_sweep = 0.0

    # The base class calls this (name-mangled) hook on every change to schedule its clean-up.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=64)
def _parsed(value: str) -> tuple[RateLimitItem, ...]:
    # Shortest window first, the order in which Flask-Limiter checks them and whose first
    # limit its headers describe.
    return tuple(sorted(parse_many(value))) if value else ()


#: while the shared rate-limit storage is unreachable, one warning per this many seconds
OUTAGE_REPORT_SECONDS = 60.0


class OutageProofLimiter(RateLimiter):
    """The configured strategy over a shared storage (Redis), counting in this process while
    that storage is out of reach and in the shared one again as soon as it answers.

    Each process then counts on its own, which is weaker than one shared count, but a flood of
    reports or a password-guessing run is still refused (the limits never fail open), and no
    request fails because of the outage. Every limit, ``limit``'s and ``fast_limit``'s, counts
    through here, so they fall back and recover together, with one warning a minute at most.

    Flask-Limiter's own in-memory fallback (``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``) is left
    off: it falls back and recovers only in the checks of ``limit``, which ``fast_limit``
    bypasses (the scan routes would go on counting in this process after Redis is back, until
    a report or a sign-in happened to look), and turning it on makes the ``before_request``
    hook run on every route (see ``AppLimiter._hook_has_limits``).
    """

    #: while the shared storage is unreachable, one request a process per this many seconds
    #: tries it again (an unanswered try costs that request the storage's socket timeout)
    RETRY_SECONDS = 10.0

    def __init__(self, shared: RateLimiter, logger: logging.Logger) -> None:
        super().__init__(shared.storage)
        self.shared = shared
        self.local = type(shared)(LocalMemoryStorage())
        self.logger = logger
        errors = shared.storage.base_exceptions
        # What an unreachable storage raises; anything else is a fault of ours, and is raised.
        self._outage_errors: tuple[type[Exception], ...] = (
            StorageError,
            *(errors if isinstance(errors, tuple) else (errors,)),
        )
        self._is_down = False
        self._retry_at = 0.0
        self._reported_until = 0.0

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        return self._dispatch(lambda limiter: limiter.hit(item, *identifiers, cost=cost))

    def test(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        return self._dispatch(lambda limiter: limiter.test(item, *identifiers, cost=cost))

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        return self._dispatch(lambda limiter: limiter.get_window_stats(item, *identifiers))

    def clear(self, item: RateLimitItem, *identifiers: str) -> None:
        self._dispatch(lambda limiter: limiter.clear(item, *identifiers))

    def _dispatch(self, count: Callable[[RateLimiter], Counted]) -> Counted:
        if self._is_down:
            now = time.monotonic()
            if now < self._retry_at:
                return count(self.local)
            self._retry_at = now + self.RETRY_SECONDS
        try:
            counted = count(self.shared)
        except self._outage_errors as error:
            self._report_outage(error)
            return count(self.local)
        if self._is_down:
            self._is_down = False
            self.logger.info("rate-limit storage answers again; counting there again")
        return counted

    def _report_outage(self, error: Exception) -> None:
        now = time.monotonic()
        self._is_down = True
        self._retry_at = now + self.RETRY_SECONDS
        if now >= self._reported_until:
            self._reported_until = now + OUTAGE_REPORT_SECONDS
            self.logger.warning(
                "rate-limit storage unreachable (%s); counting in this process meanwhile", error
            )


def _count(
    strategy: RateLimiter, items: tuple[RateLimitItem, ...], identifiers: tuple[str, ...]
) -> tuple[RateLimitItem | None, RateLimitItem, float, int]:
    """Hit every limit until one is breached: (the breached limit or None, the limit the
    headers describe, its window's reset time, what remains of it)."""
    breached = next((item for item in items if not strategy.hit(item, *identifiers)), None)
    shown = breached or items[0]
    reset, remaining = strategy.get_window_stats(shown, *identifiers)
    return breached, shown, reset, remaining


class AppLimiter(Limiter):
    """Flask-Limiter, minus the work it does per request that has nothing to check.

    Flask-Limiter works out which limits apply to a request afresh each time (routes, blueprints,
    exemptions, defaults), in its ``before_request`` hook for every route and again in the
    decorator of a limited view: about 0.3 ms of a 3.5 ms scan, measured in process.
    """

    #: the strategy every limit counts through (``limiter``)
    _counting: RateLimiter | None = None

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        self._counting = None
        if not self.enabled:
            return  # Flask-Limiter builds no strategy then
        shared = super().limiter
        # In-process storage fails only through a fault of ours: nothing to fall back from.
        if not isinstance(shared.storage, MemoryStorage):
            self._counting = OutageProofLimiter(shared, self.logger)

    @property
    def limiter(self) -> RateLimiter:
        return self._counting or super().limiter

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        # The before_request hook applies only application, default, blueprint and meta limits
        # (and the in-memory fallback's); decorated views check their own. With none of those
        # configured, as here, it has nothing to do on any route. (Flask-Limiter 4's own
        # attributes: tests/http/test_limits.py checks that default limits still apply.)
        if in_middleware and not self._hook_has_limits():
            return
        super()._check_request_limit(callable_name, in_middleware)

    def _hook_has_limits(self) -> bool:
        manager = self.limit_manager
        return bool(
            manager._application_limits
            or manager._default_limits
            or manager._blueprint_limits
            or self._meta_limits
            # Flask-Limiter's own fallback, left off (see OutageProofLimiter): on, it would
            # bring the hook back on every route.
            or self._in_memory_fallback_enabled
        )

    def fast_limit(
        self, limit_value: str | Callable[[], str], *, methods: tuple[str, ...]
    ) -> Callable[[View], View]:
        """``limit(limit_value, methods=methods)`` for the hottest routes, at a fraction of its
        cost: the same limits, counted by the same strategy in the same storage under the same
        keys (per ``key_func`` and endpoint), the same ``X-RateLimit-*`` and ``Retry-After``
        headers, the same 429 (raised for the app's error handler), off when the limiter is.

        Only what those routes need: no exemptions, conditional deductions, costs, shared
        scopes or breach callbacks (use ``limit`` for those). While a shared storage (Redis) is
        out of reach, it counts in this process, as ``limit`` does (``OutageProofLimiter``)."""
        counted = frozenset(method.upper() for method in methods)

        def decorator(view: View) -> View:
            # Keeps default limits, should any be configured, out of the before_request hook
            # for this view, as ``limit`` does for the views it decorates.
            self._marked_for_limiting.add(get_qualified_name(view))

            @functools.wraps(view)
            def limited(*args: Any, **kwargs: Any) -> Any:
                if request.method in counted and self.enabled and self.initialized:
                    self._hit(limit_value() if callable(limit_value) else limit_value)
                return view(*args, **kwargs)

            return limited  # type: ignore[return-value]

        return decorator

    def _hit(self, value: str) -> None:
        items = _parsed(value)
        if not items:
            return
        assert self._key_func is not None
        identifiers: tuple[str, ...] = (self._key_func(), self.identify_request())
        if self._key_prefix:
            identifiers = (self._key_prefix, *identifiers)
        breached, shown, reset, remaining = _count(self.limiter, items, identifiers)
        if self._headers_enabled:
            self._send_headers(shown.amount, remaining, int(reset + 1))
        if breached is not None:
            self.logger.info(
                "ratelimit %s (%s) exceeded at endpoint: %s",
                breached,
                identifiers[-2],
                identifiers[-1],
            )
            raise TooManyRequests()

    def _send_headers(self, amount: int, remaining: int, reset_at: int) -> None:
        names = self._header_mapping

        # On whatever answers the request, the 429 and errors included, as Flask-Limiter does.
        @after_this_request
        def add_headers(response: Response) -> Response:
            response.headers[names[HeaderNames.LIMIT]] = str(amount)
            response.headers[names[HeaderNames.REMAINING]] = str(remaining)
            response.headers[names[HeaderNames.RESET]] = str(reset_at)
            response.headers[names[HeaderNames.RETRY_AFTER]] = (
                http_date(reset_at)
                if self._retry_after == "http-date"
                else str(int(reset_at - time.time()))
            )
            return response
