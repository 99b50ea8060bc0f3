"""Rate limiting: the app's Flask-Limiter, with a lean path for the hottest routes, and its
counters kept in this process when no Redis server shares them.

The ``limits`` library's memory storage starts a new thread a hundredth of a second after
each change to drop expired entries, so under a steady stream of requests it starts a thread
every few requests, and the request that starts it waits for it. This storage drops expired
entries at most once per ``SWEEP_SECONDS`` instead, from the request that finds a sweep due.
Counting, and so every limit, is the library's own (expired entries never count anyway).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import after_this_request, request
from flask.wrappers import Response
from flask_limiter import Limiter
from flask_limiter.constants import HeaderNames
from flask_limiter.util import get_qualified_name
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import RateLimiter
from werkzeug.exceptions import TooManyRequests
from werkzeug.http import http_date

SCHEME = "brandtrace-memory"

View = TypeVar("View", bound=Callable[..., Any])


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

    #: ``fast_limit``'s counters in this process, while the shared storage is out of reach
    _local: RateLimiter | None = None
    _outage_reported_until = 0.0

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
        out of reach, it counts in this process instead of failing the request, and logs a
        warning once a minute."""
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
        try:
            breached, shown, reset, remaining = _count(self.limiter, items, identifiers)
        except Exception as error:
            if isinstance(self.storage, MemoryStorage):
                raise  # not an outage: a fault of ours
            # A shopper's scan must not fail because the shared counters (Redis) are out of
            # reach: this process counts on its own meanwhile, so floods are still refused.
            self._report_outage(error)
            breached, shown, reset, remaining = _count(self._local_limiter(), items, identifiers)
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

    def _local_limiter(self) -> RateLimiter:
        if self._local is None:
            # The configured strategy, over counters in this process.
            self._local = type(self.limiter)(LocalMemoryStorage())
        return self._local

    def _report_outage(self, error: Exception) -> None:
        now = time.monotonic()
        if now >= self._outage_reported_until:
            self._outage_reported_until = now + OUTAGE_REPORT_SECONDS
            self.logger.warning(
                "rate-limit storage unreachable (%s); counting in this process meanwhile", error
            )

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
