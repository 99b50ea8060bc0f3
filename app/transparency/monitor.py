"""The monitor check behind the portal's transparency page: the outside monitor's own client
code (:func:`app.transparency.client.monitor_log`) run in process against this deployment's log.

It asks what any outside monitor asks: is the latest checkpoint validly signed by the log key;
does it extend the previous stored checkpoint (a consistency proof, the same one
``/log/proof/consistency`` serves); and do the recent entries, read from the entry bundles
``/log/tile/entries/...`` serves, hash to exactly the leaves and the root the checkpoint signs.
Proofs, tiles and bundles come from the services behind the public read API, so the check sees
what an outside party is served. Read only.

The start of each round is a stored checkpoint whose signature is checked first; the stored
nodes on its right edge must fold to its signed root (``MonitorState`` checks that), so nothing
is taken on trust from the database except the key, which the person may pin instead.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import AppError
from app.transparency import merkle, services
from app.transparency.client import Fetch, LogAlarm, MonitorError, MonitorState, monitor_log
from app.transparency.models import LogCheckpoint
from app.transparency.note import NoteError, NoteVerifier, open_checkpoint, parse_verifier_key

#: how many of the newest entries are re-derived from the entry bundles on every check
RECENT_ENTRIES = 256


class CheckStatus:
    PASSED = "passed"
    FAILED = "failed"  # the log misbehaved: keep the evidence
    ERROR = "error"  # the check could not run
    SKIPPED = "skipped"  # nothing to check yet


@dataclass(frozen=True)
class Check:
    """One question the monitor asked, and its answer. ``kind`` names the question
    (``signature``, ``consistency``, ``entries``); ``facts`` are numbers for the message."""

    kind: str
    status: str
    facts: dict[str, int] = field(default_factory=dict)
    detail: str | None = None
    evidence: dict[str, object] = field(default_factory=dict)
    #: what a failed check found (``LogAlarm.code``) and its values, for words in any language
    problem: str = ""
    problem_facts: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in (CheckStatus.PASSED, CheckStatus.SKIPPED)


@dataclass(frozen=True)
class LogHealth:
    """The log's state and whether the monitor check passes."""

    origin: str
    vkey: str
    pinned_vkey: str | None
    tree_size: int
    root_hash: bytes
    checkpoint: str
    checkpoint_at: datetime
    previous_size: int | None
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


class PinnedKeyError(ValueError):
    """The key a person asked to check against is not a verifier key; ``rule`` and ``value``
    say why (see :class:`~app.transparency.note.NoteError`)."""

    def __init__(self, problem: NoteError) -> None:
        super().__init__(str(problem))
        self.rule = problem.rule
        self.value = problem.value


def local_fetcher(session: Session, latest: LogCheckpoint) -> Fetch:
    """A :data:`~app.transparency.client.Fetch` answering from the services behind the read
    API, with ``checkpoint`` fixed to ``latest`` (one snapshot for the whole check)."""

    def fetch(path: str) -> bytes:
        try:
            if path == "checkpoint":
                return latest.note.encode("utf-8")
            if path == "vkey":
                return (services.current_vkey(session) + "\n").encode("utf-8")
            if path.startswith("tile/"):
                return services.read_tile(session, path).data
            parts = urlsplit(path)
            if parts.path == "proof/consistency":
                query = parse_qs(parts.query)
                proof = services.consistency_proof(
                    session, int(query["from"][0]), int(query["to"][0])
                )
                return json.dumps(proof.as_json()).encode("utf-8")
        except AppError as exc:
            raise MonitorError(f"{path}: {exc.detail}") from None
        except (KeyError, ValueError) as exc:
            raise MonitorError(f"{path}: {exc}") from None
        raise MonitorError(f"{path}: not a path of the log")

    return fetch


def _state_at(
    session: Session, checkpoint: LogCheckpoint, vkey: str, verifier: NoteVerifier
) -> MonitorState:
    """What a monitor would have saved after verifying ``checkpoint``: its signature is
    checked, and the stored right-edge nodes must fold to its signed root."""
    try:
        signed, _ = open_checkpoint(checkpoint.note, verifier)
    except NoteError as exc:
        raise LogAlarm(
            "bad-signature",
            f"the stored checkpoint of size {checkpoint.tree_size} is not validly signed: {exc}",
            {"checkpoint": checkpoint.note},
            code="stored-checkpoint-signature",
            facts={"size": checkpoint.tree_size},
        ) from exc
    nodes = merkle.right_edge(signed.size)
    fetched = services.NodeReader(session).fetch(nodes)
    if any(node not in fetched for node in nodes):
        raise MonitorError(f"stored tree nodes of the tree of size {signed.size} are missing")
    stored_root = merkle.RightEdge(signed.size, [fetched[node] for node in nodes]).root()
    if stored_root != signed.root_hash:
        raise LogAlarm(
            "fork",
            f"the stored checkpoint of size {signed.size} signs the root "
            f"{_b64(signed.root_hash)}, but the log's tree of that size has the root "
            f"{_b64(stored_root)}: the log signed a history it does not hold",
            {"checkpoint": checkpoint.note},
            code="stored-root-mismatch",
            facts={
                "size": signed.size,
                "signed_root": _b64(signed.root_hash),
                "stored_root": _b64(stored_root),
            },
        )
    return MonitorState.from_json(
        {
            "vkey": vkey,
            "size": signed.size,
            "root_hash": _b64(signed.root_hash),
            "checkpoint": checkpoint.note,
            "right_edge": [_b64(fetched[node]) for node in nodes],
        }
    )


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _round(
    session: Session,
    fetch: Fetch,
    start: LogCheckpoint | None,
    vkey: str,
    verifier: NoteVerifier,
) -> tuple[int, int]:
    """One monitor round from ``start`` (None: the empty tree) to the latest checkpoint;
    returns the range of entries re-derived."""
    if start is None:
        _, outcome = monitor_log(fetch, None, vkey=vkey)
    else:
        _, outcome = monitor_log(fetch, _state_at(session, start, vkey, verifier))
    return outcome.size - outcome.entries_checked, outcome.size


def _failure(kind: str, exc: Exception, facts: dict[str, int]) -> Check:
    if isinstance(exc, LogAlarm):
        return Check(
            kind,
            CheckStatus.FAILED,
            facts,
            exc.message,
            exc.evidence,
            problem=exc.code,
            problem_facts=exc.facts,
        )
    return Check(kind, CheckStatus.ERROR, facts, str(exc))


def check_log(
    session: Session, *, pinned_vkey: str | None = None, recent: int = RECENT_ENTRIES
) -> LogHealth | None:
    """Run the monitor check (see the module docstring); None before the log has started.

    ``pinned_vkey`` is the verifier key the person holds (C2SP vkey form); without it the
    log's own key is used. Raises :class:`PinnedKeyError` for a malformed pinned key.
    """
    latest = services.latest_checkpoint(session)
    key = services.log_key(session)
    if latest is None or key is None:
        return None
    if pinned_vkey is not None:
        try:
            verifier = parse_verifier_key(pinned_vkey.strip())
        except NoteError as exc:
            raise PinnedKeyError(exc) from None
        vkey = pinned_vkey.strip()
    else:
        vkey = services.log_vkey(key)
        verifier = services.log_verifier(key)
    fetch = local_fetcher(session, latest)
    checks: list[Check] = []

    try:
        open_checkpoint(latest.note, verifier)
    except NoteError as exc:
        checks.append(
            Check(
                "signature",
                CheckStatus.FAILED,
                {"size": latest.tree_size},
                str(exc),
                {"checkpoint": latest.note},
                problem="checkpoint-signature",
                problem_facts={"name": verifier.name},
            )
        )
    else:
        checks.append(Check("signature", CheckStatus.PASSED, {"size": latest.tree_size}))

    previous = session.scalar(
        select(LogCheckpoint)
        .where(LogCheckpoint.tree_size < latest.tree_size)
        .order_by(LogCheckpoint.tree_size.desc())
        .limit(1)
    )
    covered_from = latest.tree_size
    if previous is None:
        checks.append(Check("consistency", CheckStatus.SKIPPED, {"size": latest.tree_size}))
    else:
        facts = {"from": previous.tree_size, "to": latest.tree_size}
        try:
            covered_from, _ = _round(session, fetch, previous, vkey, verifier)
        except (LogAlarm, MonitorError) as exc:
            checks.append(_failure("consistency", exc, facts))
        else:
            checks.append(Check("consistency", CheckStatus.PASSED, facts))

    # Re-derive at least ``recent`` entries: from the newest checkpoint that far back (or from
    # the empty tree), unless the round above already covered them.
    wanted_from = max(0, latest.tree_size - recent)
    if covered_from > wanted_from or not checks[-1].ok:
        base = session.scalar(
            select(LogCheckpoint)
            .where(LogCheckpoint.tree_size <= wanted_from)
            .order_by(LogCheckpoint.tree_size.desc())
            .limit(1)
        )
        try:
            first, end = _round(session, fetch, base, vkey, verifier)
        except (LogAlarm, MonitorError) as exc:
            start = base.tree_size if base is not None else 0
            checks.append(_failure("entries", exc, {"from": start, "to": latest.tree_size}))
        else:
            checks.append(Check("entries", CheckStatus.PASSED, {"from": first, "to": end}))
    else:
        checks.append(
            Check("entries", CheckStatus.PASSED, {"from": covered_from, "to": latest.tree_size})
        )

    return LogHealth(
        origin=key.origin,
        vkey=services.log_vkey(key),
        pinned_vkey=vkey if pinned_vkey is not None else None,
        tree_size=latest.tree_size,
        root_hash=latest.root_hash,
        checkpoint=latest.note,
        checkpoint_at=latest.created_at,
        previous_size=previous.tree_size if previous is not None else None,
        checks=checks,
    )
