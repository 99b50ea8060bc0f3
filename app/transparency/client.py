"""What an outside party runs against a brandtrace log: offline proof checks and a monitor.

Pure module: standard library and ``cryptography`` only (through the other pure modules), no
Flask and no database, so a government observer can run it against any deployment.

- :func:`verify_inclusion_bundle` checks a bundle embedded in a certificate or a consumer verdict
  offline, against a pinned verifier key.
- :func:`monitor_log` is one round of a monitor: fetch the checkpoint, check its signature with
  the pinned key, check that it extends the last checkpoint seen (a consistency proof, and a
  second checkpoint of the same size must be identical), and re-derive the new entries' leaf
  hashes from the entry bundles to check that they make exactly the signed tree. It raises
  :class:`LogAlarm` on a bad signature, a fork or a rewritten entry.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.transparency import merkle, tiles
from app.transparency.entry import Entry, EntryFormatError, parse_entry
from app.transparency.note import (
    Checkpoint,
    NoteError,
    NoteVerifier,
    format_verifier_key,
    open_checkpoint,
    parse_verifier_key,
)

USER_AGENT = "brandtrace-log-monitor/1"


class BundleError(ValueError):
    """An inclusion bundle does not prove what it claims."""


class MonitorError(RuntimeError):
    """The monitor could not do its job (network, HTTP error, unreadable response or state)."""


class LogAlarm(Exception):
    """Evidence that the log misbehaved: ``kind`` is ``bad-signature``, ``fork``, ``rewrite``
    or ``bad-entry``; ``evidence`` holds what an observer should keep (signed notes, proofs).
    ``code`` names the exact finding and ``facts`` its sizes, indices and hashes, so that a
    page can say ``message`` (English, for the command line) in its reader's language."""

    def __init__(
        self,
        kind: str,
        message: str,
        evidence: Mapping[str, Any] | None = None,
        *,
        code: str = "",
        facts: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.evidence = dict(evidence or {})
        self.code = code or kind
        self.facts = dict(facts or {})


def _verifier(vkey: str | NoteVerifier) -> NoteVerifier:
    return parse_verifier_key(vkey) if isinstance(vkey, str) else vkey


def _unb64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise BundleError(f"{what} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BundleError(f"{what} is not base64") from exc


def verify_inclusion_bundle(
    bundle: Mapping[str, Any], vkey: str | NoteVerifier
) -> tuple[Checkpoint, Entry]:
    """Check an inclusion bundle (``inclusion_bundle``'s output) offline; return what it proves.

    The checkpoint must be signed by the pinned log key ``vkey``; the entry must hash to the leaf
    hash, and the proof must lead from that leaf at ``log_index`` to the checkpoint's root.
    Raises :class:`BundleError` saying what failed.
    """
    try:
        checkpoint, _ = open_checkpoint(str(bundle["checkpoint"]), _verifier(vkey))
        entry_bytes = str(bundle["entry"]).encode("utf-8")
        index, size = bundle["log_index"], bundle["tree_size"]
        if not isinstance(index, int) or not isinstance(size, int):
            raise BundleError("log_index and tree_size must be integers")
        if size != checkpoint.size:
            raise BundleError(f"the bundle's tree size {size} is not its checkpoint's")
        leaf = merkle.leaf_hash(entry_bytes)
        if leaf != _unb64(bundle["leaf_hash"], "leaf_hash"):
            raise BundleError("the entry does not hash to the bundle's leaf hash")
        hashes = [_unb64(h, "proof hash") for h in bundle["hashes"]]
        merkle.verify_inclusion(leaf, index, checkpoint.size, hashes, checkpoint.root_hash)
        return checkpoint, parse_entry(entry_bytes)
    except (KeyError, TypeError) as exc:
        raise BundleError(f"the bundle lacks or mistypes {exc}") from exc
    except (NoteError, merkle.ProofError, EntryFormatError) as exc:
        raise BundleError(str(exc)) from exc


# --- Monitor --------------------------------------------------------------------------------

Fetch = Callable[[str], bytes]
"""Fetch a path under the log's base (``checkpoint``, ``tile/entries/000``...), return the body."""


def http_fetcher(base_url: str, *, timeout: float = 30.0) -> Fetch:
    """A :data:`Fetch` over HTTP(S) for the deployment at ``base_url`` (its log is ``/log/``)."""
    base = base_url.rstrip("/") + "/log/"
    if not base.startswith(("http://", "https://")):
        raise MonitorError(f"{base_url!r} is not an http(s) URL")

    def fetch(path: str) -> bytes:
        request = urllib.request.Request(base + path, headers={"User-Agent": USER_AGENT})  # noqa: S310 - scheme checked above
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            raise MonitorError(f"GET {base + path}: HTTP {exc.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise MonitorError(f"GET {base + path}: {exc}") from None

    return fetch


@dataclass
class MonitorState:
    """What the monitor remembers between rounds: the pinned key and the last verified tree."""

    vkey: str
    size: int = 0
    root_hash: bytes = merkle.EMPTY_ROOT
    checkpoint: str | None = None
    right_edge: list[bytes] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "vkey": self.vkey,
            "size": self.size,
            "root_hash": base64.b64encode(self.root_hash).decode(),
            "checkpoint": self.checkpoint,
            "right_edge": [base64.b64encode(h).decode() for h in self.right_edge],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MonitorState:
        try:
            state = cls(
                vkey=str(data["vkey"]),
                size=int(data["size"]),
                root_hash=base64.b64decode(data["root_hash"], validate=True),
                checkpoint=data.get("checkpoint"),
                right_edge=[base64.b64decode(h, validate=True) for h in data["right_edge"]],
            )
            parse_verifier_key(state.vkey)
            edge = merkle.RightEdge(state.size, state.right_edge)
        except (KeyError, TypeError, ValueError) as exc:
            raise MonitorError(f"the monitor state is unreadable: {exc}") from exc
        if edge.root() != state.root_hash:
            raise MonitorError("the monitor state's right edge does not match its root hash")
        return state


def load_state(path: Path) -> MonitorState | None:
    """The state saved by the last round, or None when ``path`` does not exist yet."""
    if not path.exists():
        return None
    try:
        return MonitorState.from_json(json.loads(path.read_text()))
    except ValueError as exc:
        raise MonitorError(f"{path} is not a monitor state file: {exc}") from exc


def save_state(path: Path, state: MonitorState) -> None:
    """Write the state atomically: a crash never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        json.dump(state.to_json(), handle, indent=2)
        handle.write("\n")
    os.replace(tmp, path)


@dataclass(frozen=True)
class MonitorRound:
    """The outcome of one successful round."""

    origin: str
    previous_size: int
    size: int
    root_hash: bytes
    entries_checked: int
    pinned_now: bool


def _text(fetch: Fetch, path: str) -> str:
    try:
        return fetch(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MonitorError(f"{path}: not UTF-8 text: {exc}") from exc


def _json(fetch: Fetch, path: str) -> dict[str, Any]:
    try:
        data = json.loads(fetch(path))
    except ValueError as exc:
        raise MonitorError(f"{path}: not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MonitorError(f"{path}: not a JSON object")
    return data


def _hashes(data: Mapping[str, Any], path: str) -> list[bytes]:
    try:
        return [base64.b64decode(h, validate=True) for h in data["hashes"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise MonitorError(f"{path}: malformed proof hashes: {exc}") from exc


def monitor_log(
    fetch: Fetch,
    state: MonitorState | None,
    *,
    vkey: str | None = None,
    audit_all: bool = False,
) -> tuple[MonitorState, MonitorRound]:
    """One monitoring round; returns the new state to save and what was checked.

    The log key is ``vkey`` when given, else the one pinned in ``state``, else (first round
    only) the log's published ``vkey``, pinned on first use. The first round, and every round
    with ``audit_all``, re-derives the whole tree from all entries; later rounds check the new
    entries only, from the right edge of the last verified tree. Raises :class:`LogAlarm` on
    misbehaviour and :class:`MonitorError` when the log cannot be read.
    """
    if vkey is not None and state is not None and vkey != state.vkey:
        raise MonitorError(
            "--vkey differs from the key pinned in the state file; start a new state file to "
            "pin another key"
        )
    key_text = vkey if vkey is not None else state.vkey if state is not None else None
    pinned_now = key_text is None
    if key_text is None:
        key_text = _text(fetch, "vkey").strip()
    try:
        verifier = parse_verifier_key(key_text)
    except NoteError as exc:
        raise MonitorError(f"the verifier key is malformed: {exc}") from exc

    note = _text(fetch, "checkpoint")
    try:
        checkpoint, _ = open_checkpoint(note, verifier)
    except NoteError as exc:
        raise LogAlarm(
            "bad-signature",
            f"the checkpoint is not validly signed by {verifier.name}: {exc}",
            {"checkpoint": note},
            code="checkpoint-signature",
            facts={"name": verifier.name},
        ) from exc

    previous = state.size if state else 0
    if state is not None and state.size > 0:
        _check_extends(fetch, state, checkpoint, note)

    if state is None or audit_all:
        edge = merkle.RightEdge()
    else:
        edge = merkle.RightEdge(state.size, state.right_edge)
    start = edge.size
    _check_entries(fetch, edge, checkpoint)
    new_state = MonitorState(
        vkey=format_verifier_key(verifier),
        size=checkpoint.size,
        root_hash=checkpoint.root_hash,
        checkpoint=note,
        right_edge=edge.hashes,
    )
    return new_state, MonitorRound(
        origin=checkpoint.origin,
        previous_size=previous,
        size=checkpoint.size,
        root_hash=checkpoint.root_hash,
        entries_checked=checkpoint.size - start,
        pinned_now=pinned_now,
    )


def _check_extends(fetch: Fetch, state: MonitorState, checkpoint: Checkpoint, note: str) -> None:
    evidence = {"previous_checkpoint": state.checkpoint, "checkpoint": note}
    if checkpoint.size < state.size:
        raise LogAlarm(
            "fork",
            f"the log now shows {checkpoint.size} entries but earlier signed a tree of "
            f"{state.size}: it went back in time",
            evidence,
            code="size-shrank",
            facts={"size": checkpoint.size, "previous": state.size},
        )
    if checkpoint.size == state.size:
        if checkpoint.root_hash != state.root_hash:
            raise LogAlarm(
                "fork",
                f"two different checkpoints of size {checkpoint.size}, both signed by the log "
                "key: the log shows different histories to different people",
                evidence,
                code="split-view",
                facts={"size": checkpoint.size},
            )
        return
    path = f"proof/consistency?from={state.size}&to={checkpoint.size}"
    proof = _hashes(_json(fetch, path), path)
    try:
        merkle.verify_consistency(
            state.size, checkpoint.size, state.root_hash, checkpoint.root_hash, proof
        )
    except merkle.ProofError as exc:
        raise LogAlarm(
            "fork",
            f"the checkpoint of size {checkpoint.size} does not extend the one of size "
            f"{state.size} seen before ({exc}): the log's history was rewritten or forked",
            {**evidence, "consistency_proof": [base64.b64encode(h).decode() for h in proof]},
            code="not-consistent",
            facts={"size": checkpoint.size, "previous": state.size},
        ) from exc


def _check_entries(fetch: Fetch, edge: merkle.RightEdge, checkpoint: Checkpoint) -> None:
    """Extend ``edge`` with the entries up to the checkpoint, checking each against the tree."""
    size = checkpoint.size
    while edge.size < size:
        bundle = edge.size // tiles.TILE_WIDTH
        width = min(tiles.TILE_WIDTH, size - bundle * tiles.TILE_WIDTH)
        skip = edge.size - bundle * tiles.TILE_WIDTH
        entries_path = tiles.entries_path(bundle, width)
        leaves_path = tiles.tile_path(0, bundle, width)
        try:
            entries = tiles.decode_entry_bundle(fetch(entries_path), width)
            tree_leaves = tiles.decode_tile(fetch(leaves_path), width)
        except tiles.TileFormatError as exc:
            raise MonitorError(f"{entries_path}: {exc}") from exc
        leaves = []
        for offset in range(skip, width):
            index = bundle * tiles.TILE_WIDTH + offset
            leaf = merkle.leaf_hash(entries[offset])
            if leaf != tree_leaves[offset]:
                raise LogAlarm(
                    "rewrite",
                    f"entry {index} as served hashes to {base64.b64encode(leaf).decode()} but "
                    f"the log's tree holds {base64.b64encode(tree_leaves[offset]).decode()}: the "
                    "entry was changed after it was logged",
                    {"index": index, "entry": entries[offset].decode("utf-8", "replace")},
                    code="entry-rewritten",
                    facts={
                        "index": index,
                        "served": base64.b64encode(leaf).decode(),
                        "held": base64.b64encode(tree_leaves[offset]).decode(),
                    },
                )
            try:
                parse_entry(entries[offset])
            except EntryFormatError as exc:
                raise LogAlarm(
                    "bad-entry",
                    f"entry {index} is not in the log's entry format: {exc}",
                    code="entry-format",
                    facts={"index": index, "field": exc.field},
                ) from exc
            leaves.append(leaf)
        edge.append(leaves)
    if edge.root() != checkpoint.root_hash:
        raise LogAlarm(
            "rewrite",
            f"the log's entries do not make the tree its checkpoint of size {size} signs: "
            "entries or tree nodes were rewritten",
            {"computed_root": base64.b64encode(edge.root()).decode()},
            code="tree-mismatch",
            facts={"size": size},
        )
