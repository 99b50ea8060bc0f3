"""Real-browser testing: the app served over HTTP on 127.0.0.1 and Debian's Chromium driven by
Playwright (``executable_path``; Playwright's own browser download does not work here).

Browser tests use the ``live_server`` fixture, which serves its own database (migrated and
seeded with the demo, committed for real) so the browser and the test see the same data.
Set ``BRANDTRACE_REQUIRE_BROWSER=1`` (CI does) to make a missing Chromium a failure instead
of a skip.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.audits.demo import RESULTS
from tests.conftest import fresh_database, make_test_config, migrate_and_seed

CHROMIUM = os.environ.get("BRANDTRACE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {"width": 390, "height": 844}
# axe-core's rules for WCAG 2.0 and 2.1, levels A and AA, and its best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
DESKTOP = {"width": 1280, "height": 900}


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


def require_chromium() -> None:
    if chromium_available():
        return
    if os.environ.get("BRANDTRACE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"Chromium not found at {CHROMIUM}; install Debian's chromium package")
    pytest.skip(f"Chromium not found at {CHROMIUM} (CI installs it)")


@dataclass
class LiveServer:
    """The app served over real HTTP, with the demo it was seeded with."""

    url: str
    app: Any
    demo: dict[str, Any]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, key_dir: Path) -> Iterator[LiveServer]:
    with fresh_database(tmp_path_factory.mktemp("live"), "live") as database_url:
        server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
        port = server.socket.getsockname()[1]
        base_url = f"http://127.0.0.1:{port}"
        config = make_test_config(database_url, key_dir) | {"BASE_URL": base_url}
        application = create_app(config)
        server.app = application
        demo = migrate_and_seed(application)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield LiveServer(url=base_url, app=application, demo=demo)
        finally:
            server.shutdown()
            thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    """A fresh phone-sized page (its own cookies), Chinese preferred."""
    context = browser.new_context(
        viewport=PHONE, locale="zh-CN", device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def desktop_page(browser: Any) -> Iterator[Any]:
    """A fresh desktop-sized page (its own cookies), English preferred."""
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def sign_in(page: Any, server: LiveServer, role: str) -> None:
    """Sign a demo user in through the real form."""
    account = server.demo["users"][role]
    page.goto(f"{server.url}/login")
    page.fill("input[name=email]", account["username"])
    page.fill("input[name=password]", account["password"])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def fill_audit_results(page: Any) -> None:
    """Type the demo audit's results (``app.audits.demo.RESULTS``) into the open audit's form."""
    for key, value, finding in RESULTS:
        if isinstance(value, bool):
            page.select_option(f"#f-value-{key}", "yes" if value else "no")
        elif key == "origin":
            page.select_option(f"#f-value-{key}", str(value))
        else:
            page.fill(f"#f-value-{key}", str(value))
        if finding:
            page.fill(f"#f-finding-{key}", finding)


def _axe_source() -> str:
    # axe-core as the axe-playwright-python package ships it (a test dependency only).
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text("utf-8")


def accessibility_violations(page: Any) -> list[str]:
    """What axe-core finds wrong on the page as it stands (WCAG 2.0/2.1 A and AA, and best
    practices), one line per rule broken. The script is evaluated through the browser's
    debugging protocol, which the pages' Content-Security-Policy does not govern."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [
        f"{violation['impact']} {violation['id']} ({violation['help']}) at "
        f"{', '.join(str(node['target']) for node in violation['nodes'][:3])}"
        for violation in result["violations"]
    ]
