"""Keep the zh_CN catalogues complete: ``python -m tools.i18n update`` / ``check``.

Each package that has a ``translations/`` folder owns the messages of its own files; the
top-level ``app/translations`` owns the rest (shared templates, errors, system pages).
``update`` adds new message ids (empty translations to fill in) and drops obsolete ones;
``check`` lists ids without a Chinese translation, and ids translated differently in two
catalogues, and exits non-zero if there are any.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

APP = Path(__file__).resolve().parent.parent / "app"
METHOD_MAP = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
    "lazy_ngettext": (1, 2),
    "_l": None,
}
LOCALE = "zh_CN"


def owners() -> list[Path]:
    """Package folders that own a catalogue, the app root last."""
    found = sorted((p.parent for p in APP.glob("*/translations")), key=str)
    return [*found, APP]


MessageId = str | tuple[str, ...]


def messages(owner: Path) -> Iterator[tuple[MessageId, str, int]]:
    """(message id, file, line) for every translatable string owned by ``owner``; a plural
    message (``ngettext``) has the tuple (singular, plural) as its id."""
    others = [p for p in owners() if p != owner and p != APP]
    for filename, lineno, message, _comments, _context in extract_from_dir(
        owner,
        METHOD_MAP,
        keywords=KEYWORDS,
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        path = owner / filename
        if owner == APP and any(other in path.parents for other in others):
            continue
        msgid = tuple(message[:2]) if isinstance(message, tuple) else message
        if msgid and all(msgid):
            yield msgid, str(path.relative_to(APP.parent)), lineno


def _singular(msgid: MessageId) -> str:
    return msgid[0] if isinstance(msgid, tuple) else msgid


def po_path(owner: Path) -> Path:
    return owner / "translations" / LOCALE / "LC_MESSAGES" / "messages.po"


def load(owner: Path) -> Catalog:
    path = po_path(owner)
    if path.exists():
        with path.open("rb") as handle:
            return read_po(handle, locale=LOCALE)
    return Catalog(locale=LOCALE, project="brandtrace")


def update() -> None:
    for owner in owners():
        found: dict[MessageId, list[tuple[str, int]]] = {}
        for msgid, filename, lineno in messages(owner):
            found.setdefault(msgid, []).append((filename, lineno))
        if not found and not po_path(owner).exists():
            continue
        old = load(owner)
        new = Catalog(locale=LOCALE, project="brandtrace")
        for msgid, locations in sorted(found.items(), key=lambda item: _singular(item[0])):
            existing = old.get(_singular(msgid))
            string: str | tuple[str, ...] = existing.string if existing else ""
            if isinstance(msgid, tuple) and not isinstance(string, tuple):
                string = ("",) * new.num_plurals
            new.add(msgid, string, locations=locations)
        path = po_path(owner)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, new, width=100, omit_header=False, sort_output=True)
        print(f"{path.relative_to(APP.parent)}: {len(found)} messages")


def missing() -> list[tuple[str, str]]:
    """(catalogue, message id) pairs that lack a Chinese translation."""
    gaps = []
    for owner in owners():
        catalog = load(owner)
        for msgid, filename, lineno in messages(owner):
            entry = catalog.get(_singular(msgid))
            translated = entry is not None and (
                all(entry.string) if isinstance(entry.string, tuple) else bool(entry.string)
            )
            if entry is None or not translated or entry.fuzzy:
                gaps.append(
                    (
                        str(po_path(owner).relative_to(APP.parent)),
                        f"{msgid!r} ({filename}:{lineno})",
                    )
                )
    return gaps


def conflicts(catalogues: Iterable[Path] | None = None) -> dict[str, dict[str, str]]:
    """Message ids translated differently in different catalogues: {id: {catalogue: text}}.

    ``app.i18n`` merges every catalogue into one, so only one of the translations would show,
    on every page. Where the meaning differs, the English source should differ too.
    """
    if catalogues is None:
        catalogues = [po_path(owner) for owner in owners() if po_path(owner).exists()]
    seen: dict[str, dict[str, str]] = {}
    for path in catalogues:
        with Path(path).open("rb") as handle:
            catalog = read_po(handle, locale=LOCALE)
        name = str(path.relative_to(APP.parent)) if APP.parent in path.parents else str(path)
        for message in catalog:
            if not message.id or not message.string or message.fuzzy:
                continue
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            text = message.string if isinstance(message.string, str) else " | ".join(message.string)
            seen.setdefault(msgid, {})[name] = text
    return {msgid: found for msgid, found in sorted(seen.items()) if len(set(found.values())) > 1}


def main(argv: list[str]) -> int:
    if argv[:1] == ["update"]:
        update()
        return 0
    if argv[:1] == ["check"]:
        gaps = missing()
        for catalogue, msgid in gaps:
            print(f"{catalogue}: missing {msgid}")
        clashes = conflicts()
        for msgid, found in clashes.items():
            print(f"translated differently: {msgid!r}")
            for catalogue, text in found.items():
                print(f"    {catalogue}: {text}")
        return 1 if gaps or clashes else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
