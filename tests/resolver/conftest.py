"""Helpers for resolver tests: demo codes as paths, and clients that look like shoppers."""

from __future__ import annotations

from itertools import count
from typing import Any

import pytest

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
_addresses = count(1)


def path_of(demo: dict[str, Any], key: str) -> str:
    """The path of a demo unit's Digital Link (``unit``, ``unit_inactive``, ...)."""
    return demo[key]["digital_link"].removeprefix(demo["base_url"])


class Shopper:
    """A test client with its own address and browser, so it hashes as one distinct client."""

    def __init__(self, app: Any, name: str | None = None) -> None:
        self.client = app.test_client()
        number = next(_addresses)
        self.address = f"198.51.{number // 250}.{number % 250 + 1}"
        self.agent = f"Mozilla/5.0 (test shopper {name or number})"

    def get(self, path: str, accept: str = "application/json", **headers: str) -> Any:
        return self.client.get(
            path,
            headers={"Accept": accept, "User-Agent": self.agent, **headers},
            environ_base={"REMOTE_ADDR": self.address},
        )

    def head(self, path: str, accept: str = "application/json") -> Any:
        return self.client.head(
            path,
            headers={"Accept": accept, "User-Agent": self.agent},
            environ_base={"REMOTE_ADDR": self.address},
        )

    def post(self, path: str, accept: str = BROWSER, **kwargs: Any) -> Any:
        return self.client.post(
            path,
            headers={"Accept": accept, "User-Agent": self.agent},
            environ_base={"REMOTE_ADDR": self.address},
            **kwargs,
        )


@pytest.fixture
def shopper(app: Any) -> Shopper:
    return Shopper(app)


@pytest.fixture
def new_shopper(app: Any) -> Any:
    return lambda name=None: Shopper(app, name)


@pytest.fixture
def users(session: Any) -> Any:
    """``users("firm_admin")``: the demo user's ``Caller``, for calling services directly."""
    from sqlalchemy import select

    from app.auth.models import User
    from app.auth.services import caller_for

    emails = {
        "association_admin": "admin@qimen-tea.example",
        "association_staff": "staff@qimen-tea.example",
        "firm_admin": "admin@hongxiang-tea.example",
        "firm_staff": "staff@hongxiang-tea.example",
        "firm2_admin": "admin@shanyuan-tea.example",
        "government_viewer": "viewer@qimen-amr.example",
    }

    def caller(role: str) -> Any:
        return caller_for(session.scalar(select(User).where(User.email == emails[role])))

    return caller


@pytest.fixture(autouse=True)
def _fresh_resolver_caches() -> Any:
    """Each test starts with empty per-process caches (rolled-back data must not linger)."""
    from app.resolver import cache

    cache.clear_all()
    yield
    cache.clear_all()
