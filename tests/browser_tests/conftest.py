from collections.abc import Iterator

import pytest

from app.extensions import limiter
from tests.browser import browser, desktop_page, live_server, phone_page  # noqa: F401 - fixtures


@pytest.fixture(autouse=True)
def _fresh_rate_limits(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every browser test signs its people in afresh, all from 127.0.0.1: the sign-in limit (10
    a minute per address) must not carry over from one test to the next, or the journeys fail
    with 429 depending on which tests share a worker."""
    if "live_server" in request.fixturenames:
        with request.getfixturevalue("live_server").app.app_context():
            limiter.reset()
    yield
