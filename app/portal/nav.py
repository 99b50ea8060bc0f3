"""The portal's navigation, built from the same access rules as the pages themselves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.auth.principal import Access, Caller


@dataclass(frozen=True)
class NavItem:
    """One menu entry: shown only to callers its access rule allows."""

    section: Any  # lazy_gettext text
    label: Any
    endpoint: str
    access: Access
    order: int = 100


NAV: list[NavItem] = []


def nav_item(section: Any, label: Any, endpoint: str, access: Access, order: int = 100) -> None:
    """Add a menu entry (domains call this next to their page declarations)."""
    if not any(item.endpoint == endpoint for item in NAV):
        NAV.append(NavItem(section, label, endpoint, access, order))


def nav_for(caller: Caller | None) -> list[tuple[str, list[NavItem]]]:
    """The caller's menu: sections in order, each with the entries the caller may use."""
    sections: dict[str, list[NavItem]] = {}
    for item in sorted(NAV, key=lambda entry: (entry.order, str(entry.label))):
        if caller is not None and item.access.allows(caller):
            sections.setdefault(str(item.section), []).append(item)
    return list(sections.items())
