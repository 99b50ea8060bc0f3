"""The canonical JSON of a standard version, its content hash, and the diff of two versions.

Pure module (standard library and ``rfc8785``): a verifier can recompute a published version's
hash from the document we serve, with no access to our database.

The canonical document (format ``brandtrace-standard-version/1``)::

    {
      "format": "brandtrace-standard-version/1",
      "standard": {"code": "T/QMTA 001-2024", "title": {"en": "...", "zh": "..."}},
      "version": "1.0",
      "effective_from": "2024-06-01" | null,
      "clauses": [
        {"number": "4.1", "title": {"en": "...", "zh": "..."},
         "requirement": {"en": "...", "zh": "..."}}
      ],
      "criteria": [
        {"key": "moisture", "clause": "5.1" | null,
         "metric": {"en": "Moisture", "zh": "水分"}, "unit": "%" | null, "method": "..." | null,
         "type": "number" | "choice" | "boolean",
         "comparator": "lt" | "le" | "eq" | "ge" | "gt" | "between" | null,
         "threshold": 7 | null, "threshold_max": null, "allowed_values": ["..."] | null,
         "mandatory": true}
      ]
    }

Clauses and criteria keep the order the standard gives them (order is content). Every text is
stripped and NFC-normalised before it is stored, thresholds are finite IEEE 754 doubles, and
every key is always present (``null`` when empty), so the same content always yields the same
document. The bytes are RFC 8785 (JSON Canonicalization Scheme): keys sorted by UTF-16 code
units, no whitespace, numbers in their shortest ECMAScript form (``7.0`` is written ``7``),
UTF-8. The content hash is ``SHA-256(those bytes)`` in lower-case hex.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import rfc8785

FORMAT = "brandtrace-standard-version/1"


def normalise_text(value: str) -> str:
    """Strip and NFC-normalise: visually identical text must hash identically."""
    return unicodedata.normalize("NFC", value.strip())


def bilingual(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh": zh}


def canonical_bytes(document: Mapping[str, Any]) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of ``document``."""
    return rfc8785.dumps(document)


def content_hash(document: Mapping[str, Any]) -> str:
    """SHA-256 (lower-case hex) of the canonical bytes of ``document``."""
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def _changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    before, after = _flatten(old), _flatten(new)
    return {
        name: {"from": before.get(name), "to": after.get(name)}
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


def _diff_items(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]], key: str
) -> dict[str, Any]:
    before = {item[key]: item for item in old}
    after = {item[key]: item for item in new}
    changed = []
    for name in after:
        if name in before:
            changes = _changes(before[name], after[name])
            if changes:
                changed.append({key: name, "changes": changes})
    return {
        "added": [item for name, item in after.items() if name not in before],
        "removed": [item for name, item in before.items() if name not in after],
        "changed": changed,
    }


def diff_documents(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """What changed from ``old`` to ``new``: header fields, then clauses matched by number and
    criteria matched by key, each as ``added``, ``removed`` and ``changed`` (field paths such as
    ``title.en`` or ``threshold`` with their ``from`` and ``to`` values)."""
    header_old = {k: v for k, v in old.items() if k not in ("clauses", "criteria")}
    header_new = {k: v for k, v in new.items() if k not in ("clauses", "criteria")}
    return {
        "header": _changes(header_old, header_new),
        "clauses": _diff_items(old["clauses"], new["clauses"], "number"),
        "criteria": _diff_items(old["criteria"], new["criteria"], "key"),
    }
