"""On a phone, the certificate registers and the portal's lists show each row as a
card of "label  value" lines: nothing to scroll sideways, every value next to its column's
name, and the header's sort links offered above the cards. On a desktop they stay ordinary
tables. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser import DESKTOP, PHONE, LiveServer, sign_in

pytestmark = pytest.mark.browser

# (path, signed in as): the public register, and portal lists of every role (every portal list
# stacks; these have rows in the demo).
SCREENS = [
    ("/certificates", None),
    ("/portal/certificates", "association_admin"),
    ("/portal/register/certificates", "government_viewer"),
    ("/portal/transparency", "government_viewer"),
    ("/portal/register/members", "government_viewer"),
    ("/portal/memberships", "association_admin"),
    ("/portal/audits", "association_admin"),
    ("/portal/activity", "association_admin"),
    ("/portal/label-orders", "firm_admin"),
    ("/portal/products", "firm_admin"),
]

_LAYOUT = """table => {
  const box = table.closest('.scroll');
  const rows = [...table.querySelectorAll('tbody tr')];
  const first = rows[0].querySelectorAll('td');
  return {
    rowDisplay: getComputedStyle(rows[0]).display,
    headVisible: table.querySelector('thead').getBoundingClientRect().height > 1,
    boxScrolls: box ? box.scrollWidth > box.clientWidth : false,
    tableWidth: table.getBoundingClientRect().width,
    labels: [...first].map(td => getComputedStyle(td, '::before').content),
    cellsInOneRow: new Set([...first].map(td => Math.round(td.getBoundingClientRect().top))).size,
  };
}"""


def _layout(page: Any, server: LiveServer, path: str) -> dict[str, Any]:
    response = page.goto(f"{server.url}{path}")
    assert response is not None and response.status == 200, path
    return page.eval_on_selector("main table.stacked", _LAYOUT)  # type: ignore[no-any-return]


@pytest.mark.parametrize(("path", "role"), SCREENS, ids=[path for path, _ in SCREENS])
def test_registers_and_log_entries_stack_into_cards_on_a_phone(
    live_server, browser, artifacts_dir: Path, path: str, role: str | None
) -> None:
    desktop = browser.new_context(viewport=DESKTOP, locale="en-GB")
    desktop_page = desktop.new_page()
    if role is not None:
        sign_in(desktop_page, live_server, role)
    phone = browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        storage_state=desktop.storage_state(),
    )
    phone_page = phone.new_page()
    try:
        wide = _layout(desktop_page, live_server, path)
        assert wide["rowDisplay"] == "table-row" and wide["headVisible"]
        assert wide["cellsInOneRow"] == 1  # side by side, as a table

        narrow = _layout(phone_page, live_server, path)
        name = path.strip("/").replace("/", "-")
        phone_page.screenshot(path=str(artifacts_dir / f"stacked-{name}-phone.png"), full_page=True)
        assert narrow["rowDisplay"] == "block" and not narrow["headVisible"]
        assert not narrow["boxScrolls"] and narrow["tableWidth"] <= PHONE["width"]
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert narrow["cellsInOneRow"] > 1  # one line per column
        # Each value carries its column's name (Chinese here), taken from the table's header.
        headers = phone_page.eval_on_selector_all(
            "main table.stacked thead th", "ths => ths.map(th => th.textContent.trim())"
        )
        shown = [label.strip('"') for label in narrow["labels"]]
        assert [label for label in shown if label != "none"] == [
            header.rstrip(" ▲▼") for header in headers if header
        ]
        assert any("\u4e00" <= character <= "\u9fff" for character in "".join(shown))
    finally:
        desktop.close()
        phone.close()


_SORT_LINKS = """nav => ({
  visible: nav.getBoundingClientRect().height > 1,
  links: [...nav.querySelectorAll('a')].map(a => ({
    text: a.textContent.trim(),
    href: a.getAttribute('href'),
    current: a.hasAttribute('aria-current'),
  })),
})"""


def test_a_phone_can_sort_a_stacked_table_without_its_header(live_server, browser) -> None:
    # The hidden header row took its sort links with it; phones get them above the cards.
    desktop = browser.new_context(viewport=DESKTOP, locale="en-GB")
    wide = desktop.new_page()
    sign_in(wide, live_server, "association_admin")
    phone = browser.new_context(
        viewport=PHONE,
        locale="en-GB",
        is_mobile=True,
        has_touch=True,
        storage_state=desktop.storage_state(),
    )
    try:
        page = phone.new_page()
        page.goto(f"{live_server.url}/portal/certificates")
        header = page.eval_on_selector_all(
            "main table.stacked thead th a",
            "links => links.map(a => ({text: a.textContent.trim(), href: a.getAttribute('href')}))",
        )
        offered = page.eval_on_selector("main nav.sort-links", _SORT_LINKS)
        assert offered["visible"] and header
        assert [(link["text"], link["href"]) for link in offered["links"]] == [
            (link["text"], link["href"]) for link in header
        ]
        target = next(link for link in offered["links"] if not link["current"])
        page.click(f"main nav.sort-links a[href='{target['href']}']")
        page.wait_for_load_state()
        now = page.eval_on_selector("main nav.sort-links", _SORT_LINKS)
        chosen = next(link for link in now["links"] if link["current"])
        assert chosen["text"].rstrip(" ▲▼") == target["text"].rstrip(" ▲▼")
        assert chosen["text"].endswith("▲")  # a new column sorts ascending first

        wide.goto(f"{live_server.url}/portal/certificates")
        assert not wide.eval_on_selector("main nav.sort-links", _SORT_LINKS)["visible"]
    finally:
        phone.close()
        desktop.close()
