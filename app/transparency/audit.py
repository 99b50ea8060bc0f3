"""``log verify``: recompute the whole log from its stored entries and check what is stored.

Read only. Streams the entries in batches, so memory stays flat for any log size.
"""

from __future__ import annotations

import base64
import bisect
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.transparency import merkle
from app.transparency.entry import EntryFormatError, parse_entry
from app.transparency.models import LogCheckpoint, LogEntry, LogNode, LogState
from app.transparency.note import NoteError, NoteVerifier, open_checkpoint, parse_verifier_key
from app.transparency.services import NodeReader, log_key, log_verifier, log_vkey

AUDIT_BATCH = 4096
APPEND_ONLY_TABLES = ("log_entries", "log_nodes", "log_checkpoints", "log_keys")


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


@dataclass(frozen=True)
class AuditProblem:
    """One thing the audit found wrong: a stable ``code``, the ``facts`` that say where (sizes,
    indices, hashes), and the English sentence ``log verify`` prints (``str()``). Pages say it
    in the reader's language from ``code`` and ``facts``."""

    code: str
    message: str
    facts: Mapping[str, str | int] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


@dataclass
class AuditReport:
    """What ``flask --app wsgi log verify`` found: counts, the recomputed root, and problems."""

    origin: str | None = None
    entries: int = 0
    integrated_size: int = 0
    nodes: int = 0
    checkpoints: int = 0
    root_hash: bytes | None = None
    problems: list[AuditProblem] = field(default_factory=list)
    problem_count: int = 0
    max_problems: int = 50

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def problem(self, code: str, message: str, **facts: str | int) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(AuditProblem(code, message, facts))


def append_only_guards(session: Session) -> dict[str, set[str]]:
    """Which operations (UPDATE, DELETE) enabled triggers refuse, per append-only log table."""
    guarded: dict[str, set[str]] = {table: set() for table in APPEND_ONLY_TABLES}
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text(
                "SELECT c.relname, t.tgtype FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
                "WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' "
                "AND p.proname = 'brandtrace_append_only'"
            )
        )
        for table, tgtype in rows:
            # pg_trigger.tgtype bits: 8 = DELETE, 16 = UPDATE.
            operations = {name for bit, name in ((8, "DELETE"), (16, "UPDATE")) if tgtype & bit}
            guarded.setdefault(table, set()).update(operations)
    else:
        rows = session.execute(
            text("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
        )
        for table, sql in rows:
            head = sql.upper().split(" BEGIN ", 1)[0]
            if "RAISE(ABORT" in sql.upper() and " WHEN " not in head:
                operations = {name for name in ("UPDATE", "DELETE") if f"BEFORE {name}" in head}
                guarded.setdefault(table, set()).update(operations)
    return {table: guarded[table] for table in APPEND_ONLY_TABLES}


def audit_log(session: Session, *, vkey: str | None = None) -> AuditReport:
    """Recompute the whole tree from the stored entries and check everything stored against it.

    Checks, streaming in batches (memory stays flat for any log size): entries are numbered
    0..n-1 without gaps and in the canonical entry format, their columns agree with their bytes,
    every stored node equals the node recomputed from the entries and no extra node exists, every
    checkpoint is validly signed by the log key (or by ``vkey`` when given: pin it, since whoever
    can edit the database can also swap the key row) and its root equals the recomputed root of
    its size, the counters agree, and the append-only triggers are in place. Read only.
    """
    report = AuditReport()
    key = log_key(session)
    verifier: NoteVerifier | None = None
    if key is not None:
        verifier = log_verifier(key)
        report.origin = key.origin
        if key.key_id != verifier.key_id.hex():
            report.problem(
                "key-id-mismatch", "the log key's stored key id does not match its public key"
            )
    if vkey is not None:
        pinned = parse_verifier_key(vkey)
        if key is not None and (pinned.name, pinned.key_id) != (
            key.origin,
            bytes.fromhex(key.key_id),
        ):
            report.problem(
                "key-not-pinned",
                f"the database's log key {log_vkey(key)} is not the pinned key {vkey}",
                stored=log_vkey(key),
                pinned=vkey,
            )
        verifier = pinned

    state = session.get(LogState, 1)
    if state is None:
        report.problem("state-missing", "the log_state row is missing")
        return report
    report.entries = session.scalar(select(func.count()).select_from(LogEntry)) or 0
    report.integrated_size = size = state.integrated_size
    if report.entries != state.next_index:
        report.problem(
            "sequencer-count",
            f"the sequencer says {state.next_index} entries were appended but {report.entries} "
            "are stored",
            appended=state.next_index,
            stored=report.entries,
        )

    checkpoints = session.execute(
        select(LogCheckpoint.tree_size, LogCheckpoint.root_hash, LogCheckpoint.note).order_by(
            LogCheckpoint.tree_size
        )
    ).all()
    report.checkpoints = len(checkpoints)
    signed_roots: dict[int, bytes] = {}
    for row in checkpoints:
        if verifier is None:
            report.problem("no-key", "checkpoints exist but the log has no key to check them with")
            break
        try:
            signed, _ = open_checkpoint(row.note, verifier)
        except NoteError as exc:
            report.problem(
                "checkpoint-signature",
                f"checkpoint of size {row.tree_size}: {exc}",
                size=row.tree_size,
            )
            continue
        if signed.size != row.tree_size or signed.root_hash != row.root_hash:
            report.problem(
                "checkpoint-row",
                f"checkpoint of size {row.tree_size}: its signed note says size {signed.size}, "
                f"root {_b64(signed.root_hash)}, but the row says root {_b64(row.root_hash)}",
                size=row.tree_size,
                signed_size=signed.size,
                signed_root=_b64(signed.root_hash),
                row_root=_b64(row.root_hash),
            )
        signed_roots[signed.size] = signed.root_hash
        if row.tree_size > size:
            report.problem(
                "checkpoint-beyond",
                f"checkpoint of size {row.tree_size} is beyond the integrated size {size}",
                size=row.tree_size,
                integrated=size,
            )
    if checkpoints and checkpoints[-1].tree_size != size:
        report.problem(
            "latest-checkpoint-size",
            f"the latest checkpoint has size {checkpoints[-1].tree_size} but {size} entries "
            "are integrated",
            size=checkpoints[-1].tree_size,
            integrated=size,
        )

    _audit_tree(session, report, size, signed_roots)

    counts: dict[int, int] = {
        level: count
        for level, count in session.execute(
            select(LogNode.level, func.count()).group_by(LogNode.level)
        )
    }
    report.nodes = sum(counts.values())
    for level in sorted(set(counts) | set(range(size.bit_length()))):
        expected = size >> level
        if counts.get(level, 0) != expected:
            report.problem(
                "node-count",
                f"level {level} holds {counts.get(level, 0)} nodes; a tree of {size} entries "
                f"has {expected}",
                level=level,
                held=counts.get(level, 0),
                size=size,
                expected=expected,
            )

    for table, operations in append_only_guards(session).items():
        for operation in sorted({"UPDATE", "DELETE"} - operations):
            report.problem(
                "not-append-only",
                f"{table} is not append-only: no trigger refuses {operation}",
                table=table,
                operation=operation,
            )
    return report


def _audit_tree(
    session: Session, report: AuditReport, size: int, signed_roots: Mapping[int, bytes]
) -> None:
    """Rebuild the tree from the entries batch by batch, comparing every node with the stored
    one and the root at every signed checkpoint's size with the signed root."""
    edge = merkle.RightEdge()
    stops = sorted(signed_roots)
    position = 0
    reader = NodeReader(session)
    while position < size:
        end = min(position + AUDIT_BATCH, size)
        rows = session.execute(
            select(LogEntry)
            .where(LogEntry.log_index >= position, LogEntry.log_index < end)
            .order_by(LogEntry.log_index)
        ).scalars()
        leaves: list[bytes] = []
        for offset, entry in enumerate(rows):
            index = position + offset
            if entry.log_index != index:
                report.problem(
                    "entry-missing",
                    f"entry {index} is missing (the next stored is {entry.log_index})",
                    index=index,
                    next=entry.log_index,
                )
                return
            data = _stored_bytes(report, index, "entry", entry.entry)
            recorded = _stored_bytes(report, index, "leaf hash", entry.leaf_hash)
            leaves.append(merkle.leaf_hash(data))
            _audit_entry(report, entry, data, leaves[-1], recorded)
        if len(leaves) != end - position:
            report.problem(
                "entries-missing",
                f"entries {position + len(leaves)} to {end - 1} are missing",
                first=position + len(leaves),
                last=end - 1,
            )
            return
        # Checkpoints are usually far more frequent than batches (one per appending transaction):
        # stop the in-memory tree at each of their sizes rather than splitting the reads.
        created: list[merkle.Node] = []
        for stop in stops[bisect.bisect_right(stops, position) : bisect.bisect_right(stops, end)]:
            created += edge.append(leaves[edge.size - position : stop - position])
            if edge.root() != signed_roots[stop]:
                report.problem(
                    "checkpoint-root",
                    f"checkpoint of size {stop}: its signed root {_b64(signed_roots[stop])} is "
                    f"not the root recomputed from the entries, {_b64(edge.root())}",
                    size=stop,
                    signed_root=_b64(signed_roots[stop]),
                    computed_root=_b64(edge.root()),
                )
        created += edge.append(leaves[edge.size - position :])
        _compare_nodes(reader, report, created)
        position = end
    report.root_hash = edge.root()


def _stored_bytes(report: AuditReport, index: int, what: str, value: object) -> bytes:
    """A binary column as bytes. SQLite keeps whatever type is written, so a row edited by
    hand may hold text: that is reported, and its UTF-8 form is checked like any bytes."""
    if isinstance(value, bytes):
        return value
    report.problem(
        "entry-not-bytes" if what == "entry" else "leaf-hash-not-bytes",
        f"entry {index}: its {what} is stored as {type(value).__name__}, not as bytes (the "
        "row was written outside the application)",
        index=index,
        stored_type=type(value).__name__,
    )
    return str(value).encode()


def _audit_entry(
    report: AuditReport, entry: LogEntry, data: bytes, leaf: bytes, recorded: bytes
) -> None:
    index = entry.log_index
    if leaf != recorded:
        report.problem(
            "entry-rewritten",
            f"entry {index}: its bytes hash to leaf {_b64(leaf)} but its row records "
            f"{_b64(recorded)} (the entry was changed after it was logged)",
            index=index,
            leaf=_b64(leaf),
            recorded=_b64(recorded),
        )
    try:
        parsed = parse_entry(data)
    except EntryFormatError as exc:
        report.problem(
            "entry-format",
            f"entry {index}: not in the entry format: {exc}",
            index=index,
            field=exc.field,
        )
        return
    if (
        parsed.entry_type != entry.entry_type
        or parsed.record_type != entry.record_type
        or parsed.record_id != entry.record_id
        or parsed.content_sha256 != entry.content_sha256
        or parsed.occurred_at != entry.occurred_at
    ):
        report.problem(
            "entry-columns",
            f"entry {index}: its columns disagree with its logged bytes",
            index=index,
        )


def _compare_nodes(reader: NodeReader, report: AuditReport, created: Sequence[merkle.Node]) -> None:
    by_level: dict[int, list[merkle.Node]] = defaultdict(list)
    for node in created:
        by_level[node.level].append(node)
    for level in sorted(by_level):
        nodes = by_level[level]
        first, last = nodes[0].index, nodes[-1].index
        stored: dict[int, bytes] = {
            index: value
            for index, value in reader.session.execute(
                select(LogNode.node_index, LogNode.hash).where(
                    LogNode.level == level,
                    LogNode.node_index >= first,
                    LogNode.node_index <= last,
                )
            )
        }
        for node in nodes:
            have = stored.get(node.index)
            if have is None:
                report.problem(
                    "node-missing",
                    f"node ({level}, {node.index}) is missing",
                    level=level,
                    index=node.index,
                )
            elif have != node.hash:
                what = f"leaf {node.index}" if level == 0 else f"node ({level}, {node.index})"
                report.problem(
                    "leaf-mismatch" if level == 0 else "node-mismatch",
                    f"{what}: the stored tree holds {_b64(have)} but the entries give "
                    f"{_b64(node.hash)}",
                    level=level,
                    index=node.index,
                    stored=_b64(have),
                    computed=_b64(node.hash),
                )
