"""The transparency log: append entries, integrate them into the tree, sign checkpoints, prove.

How other domains use it (inside their own transaction, next to the record they describe)::

    from app.transparency.entry import EntryType
    from app.transparency.services import append_entry

    entry = append_entry(
        session,
        entry_type=EntryType.CERTIFICATE_ISSUED,
        record_type="certificate",
        record_id=certificate.id,
        content=credential_json,          # bytes, or a JSON object hashed in RFC 8785 form
        organisation_id=caller.organisation_id,
    )
    certificate.log_index = entry.log_index

The entry commits or rolls back with the caller's transaction. Just before any transaction that
appended entries commits, its entries are integrated: their tree nodes are inserted and a new
checkpoint is signed and stored, in the same commit. So every committed entry is covered by a
stored checkpoint, read paths never need to write, and a rolled-back transaction leaves neither
entries nor nodes nor checkpoints (and gives its indices back: there are never gaps).

Concurrency: indices come from the single ``log_state`` row, incremented with one
``UPDATE ... RETURNING`` that holds the row lock (PostgreSQL) or the database write lock (SQLite,
whose writers begin with BEGIN IMMEDIATE, see ``app.db``) until the transaction ends. Appending
transactions are therefore serialised, which is what a gap-free, duplicate-free index needs.

Services flush and never commit, like every service here.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from sqlalchemy import Select, Table, and_, bindparam, event, or_, select
from sqlalchemy.orm import Session, make_transient_to_detached

from app.auth.models import Organisation
from app.db import BulkInsert, blob, run_sql, utcnow
from app.errors import FieldError
from app.keystore import open_private_key, seal_private_key
from app.transparency import merkle, tiles
from app.transparency.entry import (
    Entry,
    EntryFormatError,
    EntryType,
    make_entry,
    make_sibling_entry,
)
from app.transparency.errors import (
    CheckpointNotFound,
    IndexOutOfRange,
    InvalidLogEntry,
    InvalidProofRequest,
    LeafHashNotFound,
    LogEntryNotFound,
    LogIntegrityError,
    LogNotStarted,
    MalformedLeafHash,
    TileNotFound,
    TreeSizeBeyondLog,
)
from app.transparency.models import LogCheckpoint, LogEntry, LogKey, LogNode, LogState
from app.transparency.note import (
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    format_verifier_key,
    sign_checkpoint,
)

INTEGRATION_BATCH = 4096
"""Entries read and turned into nodes per step of :func:`integrate` (bounds memory, not size)."""

_PENDING = "brandtrace.transparency.pending"
_APPENDED = "brandtrace.transparency.appended"
_SIGNERS = "brandtrace.transparency.signers"
_HEX_RE = re.compile(r"^[0-9a-fA-F]{64}$")

# The hot paths (appending, integrating, proving) use Core statements on the session's
# connection: the ORM's bulk-persistence machinery costs more than the SQL itself here.
_NODES: Table = LogNode.__table__  # type: ignore[assignment]
_CHECKPOINTS: Table = LogCheckpoint.__table__  # type: ignore[assignment]
_ENTRIES: Table = LogEntry.__table__  # type: ignore[assignment]
_ENTRY_COLUMNS = (
    "log_index",
    "entry_type",
    "record_type",
    "record_id",
    "content_sha256",
    "organisation_id",
    "occurred_at",
    "entry",
    "leaf_hash",
    "created_at",
)
_CHECKPOINT_COLUMNS = ("tree_size", "root_hash", "note", "created_at")
_LOG_KEY = select(LogKey).order_by(LogKey.id).limit(1)
_LATEST_CHECKPOINT = select(LogCheckpoint).order_by(LogCheckpoint.tree_size.desc()).limit(1)
# The statements every appending transaction runs, as plain SQL for the driver (see
# app.db.driver_execute): SQLAlchemy's execution machinery costs more than running them.
_RESERVE = (
    "UPDATE log_state SET next_index = next_index + {p} WHERE id = 1 "
    "RETURNING next_index, integrated_size"
)
_INTEGRATED = "UPDATE log_state SET integrated_size = {p} WHERE id = 1"
_LEAF_HASHES = (
    "SELECT leaf_hash FROM log_entries WHERE log_index >= {p} AND log_index < {p} "
    "ORDER BY log_index"
)


# --- The log's identity ---------------------------------------------------------------------


def origin_for(base_url: str) -> str:
    """The log origin for a deployment: ``<host[:port] of the base URL>/log``."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    return f"{host}:{parts.port}/log" if parts.port else f"{host}/log"


def log_key(session: Session) -> LogKey | None:
    """The log's key, or None before the log has started (one log, one key per deployment)."""
    return session.scalar(_LOG_KEY)


def _sealing_label(origin: str) -> str:
    return f"transparency-log:{origin}"


def log_verifier(key: LogKey) -> NoteVerifier:
    """The note verifier of the log key (name = origin)."""
    return NoteVerifier.from_public_key(
        key.origin, Ed25519PublicKey.from_public_bytes(key.public_key)
    )


def log_vkey(key: LogKey) -> str:
    """The log's verifier key in C2SP ``vkey`` form: ``<origin>+<key id>+<base64 key>``."""
    return format_verifier_key(log_verifier(key))


@dataclass(frozen=True)
class _SigningKey:
    """What signing a checkpoint needs of the log key."""

    origin: str
    key_id: str
    sealed_private_key: str


# Plain SQL for the driver: every integration reads the key, and loading (or refreshing) the
# ORM object cost more than the rest of a small integration.
_SIGNING_KEY = "SELECT origin, key_id, sealed_private_key FROM log_keys ORDER BY id LIMIT 1"


def _signing_key(session: Session) -> _SigningKey | None:
    rows = run_sql(session.connection(), _SIGNING_KEY, ())
    return _SigningKey(*rows[0]) if rows else None


def _signer(key: LogKey | _SigningKey) -> NoteSigner:
    # Opening the sealed key costs a key derivation; keep opened signers per process.
    cache: dict[str, NoteSigner] = current_app.extensions.setdefault(_SIGNERS, {})
    signer = cache.get(key.sealed_private_key)
    if signer is None:
        private_key = open_private_key(
            key.sealed_private_key,
            label=_sealing_label(key.origin),
            secret_key=current_app.config["SECRET_KEY"],
        )
        signer = NoteSigner.from_private_key(key.origin, private_key)
        if signer.key_id.hex() != key.key_id:
            raise LogIntegrityError("the log's sealed private key does not match its public key")
        cache[key.sealed_private_key] = signer
    return signer


def _create_log_key(session: Session) -> LogKey:
    origin = origin_for(current_app.config["BASE_URL"])
    private_key = Ed25519PrivateKey.generate()
    signer = NoteSigner.from_private_key(origin, private_key)
    key = LogKey(
        origin=origin,
        key_id=signer.key_id.hex(),
        public_key=private_key.public_key().public_bytes_raw(),
        sealed_private_key=seal_private_key(
            private_key, label=_sealing_label(origin), secret_key=current_app.config["SECRET_KEY"]
        ),
    )
    session.add(key)
    session.flush()
    return key


def _key_entry(session: Session, key: LogKey, index: int) -> None:
    """The log's first entry: its own key (``key.added``), so the key is part of the history."""
    vkey = log_vkey(key)
    entry = make_entry(
        entry_type=EntryType.KEY_ADDED,
        record_type="log_key",
        record_id=key.id,
        content={"origin": key.origin, "vkey": vkey},
        occurred_at=key.created_at,
        organisation=None,
        details={"purpose": "transparency_log", "vkey": vkey},
    )
    _insert_entries(session, index, [(entry, None)])


# --- Appending ------------------------------------------------------------------------------


def _reserve(session: Session, count: int) -> tuple[int, int]:
    """Take the sequencer lock and ``count`` indices; returns (first index, integrated size).

    ``count`` 0 only takes the lock. One UPDATE both locks and reads, so SQLite never has to
    upgrade a read snapshot to a write (which fails under concurrency) and PostgreSQL always reads
    the latest committed counter after waiting for the lock. It does not flush the session:
    entries appended in a row are inserted together when the session next flushes.
    """
    ((next_index, integrated_size),) = run_sql(session.connection(), _RESERVE, (count,))
    return next_index - count, integrated_size


def _insert_entries(
    session: Session, first: int, entries: Sequence[tuple[Entry, int | None]]
) -> None:
    """Insert ``(entry, organisation id)`` pairs at indices ``first, first + 1, ...``: one
    executemany of plain rows on the session's connection, no ORM objects (building and
    flushing those cost more than the SQL)."""
    insert = BulkInsert(session.connection(), _ENTRIES, _ENTRY_COLUMNS)
    bind = insert.bind
    created_at = bind("created_at", utcnow())
    # A batch's entries usually share their type and time: convert each distinct one once.
    types: dict[EntryType, Any] = {}
    times: dict[datetime, Any] = {}
    # The leaf hashes computed here, for this transaction's integration (which checks them
    # against the stored ones before it trusts them).
    appended: dict[int, bytes] = session.info.setdefault(_APPENDED, {})
    rows = []
    for offset, (entry, organisation_id) in enumerate(entries):
        canonical = entry.canonical
        entry_type = types.get(entry.entry_type)
        if entry_type is None:
            entry_type = types[entry.entry_type] = bind("entry_type", entry.entry_type)
        occurred_at = times.get(entry.occurred_at)
        if occurred_at is None:
            occurred_at = times[entry.occurred_at] = bind("occurred_at", entry.occurred_at)
        leaf = appended[first + offset] = merkle.leaf_hash(canonical)
        rows.append(
            (
                first + offset,
                entry_type,
                entry.record_type,
                entry.record_id,
                entry.content_sha256,
                organisation_id,
                occurred_at,
                blob(canonical),
                blob(leaf),
                created_at,
            )
        )
    insert.execute(rows)
    session.info[_PENDING] = True


@dataclass(frozen=True)
class NewEntry:
    """One entry for :func:`append_entries`; the fields are :func:`append_entry`'s."""

    entry_type: EntryType | str
    record_type: str
    record_id: str | int
    content: bytes | Mapping[str, Any]
    organisation_id: int | None
    occurred_at: datetime | None = None
    details: Mapping[str, Any] | None = None


def append_entry(
    session: Session,
    *,
    entry_type: EntryType | str,
    record_type: str,
    record_id: str | int,
    content: bytes | Mapping[str, Any],
    organisation_id: int | None,
    occurred_at: datetime | None = None,
    details: Mapping[str, Any] | None = None,
) -> LogEntry:
    """Append one entry to the transparency log, in the caller's transaction.

    - ``entry_type``: an :class:`~app.transparency.entry.EntryType` (stable strings such as
      ``certificate.issued``; add a member there for a new kind of event).
    - ``record_type`` / ``record_id``: what the entry is about (``"certificate"``, ``42``);
      ``record_type`` is ``[a-z][a-z0-9_]*``, the id at most 200 characters.
    - ``content``: the record's content. Bytes are hashed as given; a mapping is hashed as the
      SHA-256 of its RFC 8785 (JCS) canonical JSON. Only the hash enters the log.
    - ``organisation_id``: the acting organisation (its slug is written into the entry), or
      None for the deployment itself.
    - ``occurred_at``: when it happened (default: now, UTC).
    - ``details``: optional small facts a reader needs without the record, e.g.
      ``{"event_hash_id": "ni:///sha-256;...?ver=CBV2.0"}`` or
      ``{"codes_sha256": "<hex>", "code_count": 500}``
      (names ``[a-z][a-z0-9_]*``, values strings, integers, booleans or null; at most 16).

    The entry's index is assigned at once (``entry.log_index``) and is final once the caller's
    transaction commits; the entry is integrated into the tree and covered by a signed checkpoint
    in that same commit. Raises :class:`~app.transparency.errors.InvalidLogEntry` (422) for
    fields outside the format. The first entry ever appended is preceded by the log's own key.
    To append many entries at once (an EPCIS document's events), use :func:`append_entries`.
    """
    item = NewEntry(
        entry_type, record_type, record_id, content, organisation_id, occurred_at, details
    )
    return _append(session, [item], field_prefix=None)[0]


def append_entries(session: Session, entries: Sequence[NewEntry]) -> list[LogEntry]:
    """Append several entries, in order and with consecutive indices, in the caller's
    transaction: one round trip to the sequencer and one batch of inserts for all of them.

    Same rules as :func:`append_entry`; nothing is appended if any entry is invalid (the field
    errors are then named ``entries[<position>].<field>``).
    """
    return _append(session, entries, field_prefix="entries")


def append_entry_indices(session: Session, entries: Sequence[NewEntry]) -> range:
    """:func:`append_entries` for bulk writers that need only the indices (a batch of hundreds
    of certificates): the same checks and the same rows, but no :class:`LogEntry` objects are
    built or loaded. Returns the consecutive indices given to ``entries``, in order.
    """
    first = _append_rows(session, entries, field_prefix="entries")
    return range(first, first + len(entries))


def _append(
    session: Session, items: Sequence[NewEntry], *, field_prefix: str | None
) -> list[LogEntry]:
    if not items:
        return []
    first = _append_rows(session, items, field_prefix=field_prefix)
    # The caller gets the stored rows as (persistent) objects, loaded in one query.
    return list(
        session.scalars(
            select(LogEntry)
            .where(LogEntry.log_index >= first, LogEntry.log_index < first + len(items))
            .order_by(LogEntry.log_index)
        )
    )


def _not_in_format(where: str, exc: EntryFormatError) -> InvalidLogEntry:
    return InvalidLogEntry(
        "The log entry is not in the entry format.",
        errors=[FieldError(f"{where}{exc.field}", exc.rule, exc.message)],
    )


def _append_rows(session: Session, items: Sequence[NewEntry], *, field_prefix: str | None) -> int:
    """Check, number and insert ``items``; returns the first index (``items`` may be empty)."""
    slugs: dict[int, str] = {}
    built: list[tuple[Entry, int | None]] = []
    previous: NewEntry | None = None
    for position, item in enumerate(items):
        where = f"{field_prefix}[{position}]." if field_prefix else ""  # for errors
        if (
            previous is not None
            and item.occurred_at is not None
            and item.occurred_at == previous.occurred_at
            and item.entry_type == previous.entry_type
            and item.record_type == previous.record_type
            and item.organisation_id == previous.organisation_id
        ):
            # Another record of a run of the same kind (a batch of certificates, an EPCIS
            # document's events): the shared fields were checked with the first.
            try:
                entry = make_sibling_entry(
                    built[-1][0],
                    record_id=item.record_id,
                    content=item.content,
                    details=item.details,
                )
            except EntryFormatError as exc:
                raise _not_in_format(where, exc) from None
            built.append((entry, item.organisation_id))
            continue
        previous = item
        organisation = None
        if item.organisation_id is not None:
            if item.organisation_id not in slugs:
                found = session.get(Organisation, item.organisation_id)
                if found is None:
                    raise InvalidLogEntry(
                        "The acting organisation does not exist.",
                        errors=[
                            FieldError(
                                f"{where}organisation_id",
                                "unknown",
                                f"no organisation {item.organisation_id}",
                            )
                        ],
                    )
                slugs[item.organisation_id] = found.slug
            organisation = slugs[item.organisation_id]
        try:
            entry = make_entry(
                entry_type=item.entry_type,
                record_type=item.record_type,
                record_id=item.record_id,
                content=item.content,
                occurred_at=item.occurred_at or utcnow(),
                organisation=organisation,
                details=item.details,
            )
        except EntryFormatError as exc:
            raise _not_in_format(where, exc) from None
        built.append((entry, item.organisation_id))
    if not built:
        return 0
    first, _ = _reserve(session, len(built))
    if first == 0 and log_key(session) is None:
        # The log starts here: its own key becomes entry 0 and the caller's entries follow.
        _key_entry(session, _create_log_key(session), 0)
        first = _reserve(session, 1)[0] - len(built) + 1
    _insert_entries(session, first, built)
    return first


def ensure_log(session: Session) -> LogKey:
    """Start the log if it has not started: create its key and append ``key.added`` for it.

    Idempotent; returns the log key. Safe under concurrency (it holds the sequencer lock).
    """
    _reserve(session, 0)
    key = log_key(session)
    if key is None:
        key = _create_log_key(session)
        index, _ = _reserve(session, 1)
        _key_entry(session, key, index)
    return key


@event.listens_for(Session, "before_commit")
def _integrate_before_commit(session: Session) -> None:
    """Integrate a transaction's own entries in its commit: every committed entry is covered
    by a stored checkpoint, so nothing is ever served from an unsigned tree."""
    if session.info.pop(_PENDING, False):
        integrate(session)
    session.info.pop(_APPENDED, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_entries(session: Session, previous_transaction: Any) -> None:
    # Only the outermost rollback discards everything appended; a rolled-back savepoint leaves
    # the entries appended around it pending.
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
    # Leaf hashes of entries a rolled-back savepoint appended are stale: forget them all (the
    # integration then reads the entries back instead).
    session.info.pop(_APPENDED, None)


# --- Reading stored nodes -------------------------------------------------------------------


@functools.cache
def _nodes_query(levels: int) -> Select:
    """Fetch nodes at ``levels`` distinct levels: ``(level = ? AND node_index IN (...)) OR ...``.

    One statement per number of levels, with bound parameters, so it is compiled once and then
    reused (SQLite plans it as one primary-key lookup per node; a row-value IN would scan).
    """
    return select(_NODES.c.level, _NODES.c.node_index, _NODES.c.hash).where(
        or_(
            *(
                and_(
                    _NODES.c.level == bindparam(f"level_{i}"),
                    _NODES.c.node_index.in_(bindparam(f"indices_{i}", expanding=True)),
                )
                for i in range(levels)
            )
        )
    )


class NodeReader:
    """A :class:`~app.transparency.merkle.HashReader` over the ``log_nodes`` table."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_hashes(self, level: int, start: int, end: int) -> list[bytes]:
        """Stored hashes ``start .. end-1`` at ``level``, in one range query."""
        if start >= end:
            return []
        hashes = list(
            self.session.connection().scalars(
                select(_NODES.c.hash)
                .where(
                    _NODES.c.level == level,
                    _NODES.c.node_index >= start,
                    _NODES.c.node_index < end,
                )
                .order_by(_NODES.c.node_index)
            )
        )
        if len(hashes) != end - start:
            raise merkle.MissingNodeError(f"nodes [{start}, {end}) at level {level} are missing")
        return hashes

    def fetch(self, nodes: Iterable[merkle.NodeID]) -> dict[merkle.NodeID, bytes]:
        """The hashes of ``nodes`` in one query (missing nodes are simply absent)."""
        by_level: dict[int, set[int]] = defaultdict(set)
        for node in nodes:
            by_level[node.level].add(node.index)
        if not by_level:
            return {}
        parameters: dict[str, Any] = {}
        for i, (level, indices) in enumerate(sorted(by_level.items())):
            parameters[f"level_{i}"] = level
            parameters[f"indices_{i}"] = sorted(indices)
        rows = self.session.connection().execute(_nodes_query(len(by_level)), parameters)
        return {merkle.NodeID(level, index): value for level, index, value in rows}


# --- Integrating ----------------------------------------------------------------------------


def latest_checkpoint(session: Session) -> LogCheckpoint | None:
    """The newest stored checkpoint, or None before the log has started."""
    return session.scalar(_LATEST_CHECKPOINT)


def _stored_leaves(session: Session, start: int, end: int) -> list[bytes]:
    """The leaf hashes of entries ``[start, end)``, each recomputed from the stored entry."""
    rows = (
        session.connection()
        .execute(
            select(_ENTRIES.c.log_index, _ENTRIES.c.entry, _ENTRIES.c.leaf_hash)
            .where(_ENTRIES.c.log_index >= start, _ENTRIES.c.log_index < end)
            .order_by(_ENTRIES.c.log_index)
        )
        .all()
    )
    leaves: list[bytes] = []
    for offset, row in enumerate(rows):
        if row.log_index != start + offset:
            raise LogIntegrityError(f"log entry {start + offset} is missing")
        leaf = merkle.leaf_hash(row.entry)
        if leaf != row.leaf_hash:
            raise LogIntegrityError(f"log entry {row.log_index} does not match its leaf hash")
        leaves.append(leaf)
    if len(leaves) != end - start:
        raise LogIntegrityError(f"log entries [{start + len(leaves)}, {end}) are missing")
    return leaves


def _appended_leaves(
    session: Session, appended: Mapping[int, bytes], start: int, end: int
) -> list[bytes] | None:
    """The leaf hashes of entries ``[start, end)`` when this transaction appended them all
    (it computed them from the very bytes it inserted) and the stored leaf hashes are the
    same; otherwise None (read them back with :func:`_stored_leaves`)."""
    leaves = [appended.get(index) for index in range(start, end)]
    if None in leaves:
        return None
    stored = [bytes(leaf) for (leaf,) in run_sql(session.connection(), _LEAF_HASHES, (start, end))]
    return stored if stored == leaves else None


def _right_edge(session: Session, size: int) -> dict[merkle.NodeID, bytes]:
    """The stored right-edge nodes of the tree of ``size`` (one per level), in one query."""
    nodes = merkle.right_edge(size)
    if not nodes:
        return {}
    # Placeholders only: the levels and indices are bound.
    template = "SELECT level, node_index, hash FROM log_nodes WHERE " + " OR ".join(  # noqa: S608
        ["(level = {p} AND node_index = {p})"] * len(nodes)
    )
    parameters = tuple(value for node in nodes for value in (node.level, node.index))
    return {
        merkle.NodeID(level, index): bytes(value)
        for level, index, value in run_sql(session.connection(), template, parameters)
    }


def integrate(session: Session) -> LogCheckpoint | None:
    """Integrate every pending entry into the tree and store a new signed checkpoint.

    Reads the entries after the integrated size in batches of :data:`INTEGRATION_BATCH`, inserts
    the complete-subtree nodes they create (existing nodes are only read, never rewritten: just
    the O(log n) right edge), then signs one checkpoint for the new size and stores it. Holds the
    sequencer lock, so it is safe to run next to appenders and other integrators. Returns the
    latest checkpoint (unchanged when nothing was pending; None for a log that has not started).
    Runs on its own before every commit of a transaction that appended entries; call it directly
    (or ``flask --app wsgi log integrate``) to integrate entries written by other means.
    """
    next_index, size = _reserve(session, 0)
    if next_index == size:
        return latest_checkpoint(session)
    key: LogKey | _SigningKey | None = _signing_key(session)
    if key is None:  # entries written before the log started: it starts now
        key = ensure_log(session)
        next_index, _ = _reserve(session, 0)
    fetched = _right_edge(session, size)
    try:
        edge = merkle.RightEdge(size, [fetched[node] for node in merkle.right_edge(size)])
    except KeyError as exc:
        raise LogIntegrityError(
            f"stored node {exc.args[0]} of the tree's right edge is missing"
        ) from None
    appended: dict[int, bytes] = session.info.get(_APPENDED, {})
    while size < next_index:
        end = min(size + INTEGRATION_BATCH, next_index)
        leaves = _appended_leaves(session, appended, size, end) or _stored_leaves(
            session, size, end
        )
        created = edge.append(leaves)
        BulkInsert(session.connection(), _NODES, ("level", "node_index", "hash")).execute(
            [(node.level, node.index, blob(node.hash)) for node in created]
        )
        size = end
    root = edge.root()
    checkpoint = LogCheckpoint(
        tree_size=size,
        root_hash=root,
        note=sign_checkpoint(Checkpoint(key.origin, size, root), _signer(key)),
        created_at=utcnow(),
    )
    # Inserted as a plain row and then attached as the persistent object it now is: the ORM's
    # flush of one new row costs more than the rest of a small integration.
    insert = BulkInsert(session.connection(), _CHECKPOINTS, _CHECKPOINT_COLUMNS)
    ((checkpoint.id,),) = insert.execute_returning(
        [
            (
                checkpoint.tree_size,
                checkpoint.root_hash,
                checkpoint.note,
                insert.bind("created_at", checkpoint.created_at),
            )
        ],
        ("id",),
    )
    make_transient_to_detached(checkpoint)
    session.add(checkpoint)
    run_sql(session.connection(), _INTEGRATED, (size,))
    session.info.pop(_PENDING, None)  # everything this session appended is now in the tree
    session.info.pop(_APPENDED, None)
    return checkpoint


# --- Reading the log ------------------------------------------------------------------------


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


@dataclass(frozen=True)
class InclusionProof:
    """An entry's inclusion proof against a stored, signed checkpoint that includes it.

    Checkable offline with :func:`app.transparency.client.verify_inclusion_bundle`.
    """

    log_index: int
    tree_size: int
    leaf_hash: bytes
    hashes: list[bytes]
    root_hash: bytes
    checkpoint: str
    entry: bytes

    def as_json(self) -> dict[str, Any]:
        """The bundle certificates and verdicts embed (hashes in standard base64)."""
        return {
            "log_index": self.log_index,
            "tree_size": self.tree_size,
            "leaf_hash": _b64(self.leaf_hash),
            "hashes": [_b64(h) for h in self.hashes],
            "root_hash": _b64(self.root_hash),
            "checkpoint": self.checkpoint,
            "entry": self.entry.decode("utf-8"),
        }


@dataclass(frozen=True)
class ConsistencyProof:
    """A consistency proof from ``old_size`` to a stored checkpoint of ``new_size``."""

    old_size: int
    new_size: int
    hashes: list[bytes]
    root_hash: bytes
    checkpoint: str

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.old_size,
            "to": self.new_size,
            "hashes": [_b64(h) for h in self.hashes],
            "root_hash": _b64(self.root_hash),
            "checkpoint": self.checkpoint,
        }


def current_checkpoint(session: Session) -> LogCheckpoint:
    """The latest stored checkpoint (404 ``log-not-started`` before the first)."""
    checkpoint = latest_checkpoint(session)
    if checkpoint is None:
        raise LogNotStarted("The transparency log has not signed a checkpoint yet.")
    return checkpoint


def checkpoint_of_size(
    session: Session, tree_size: int | None, *, field_name: str = "tree_size"
) -> LogCheckpoint:
    """The stored checkpoint of ``tree_size`` (default: the latest).

    400 ``tree-size-beyond-log`` beyond the latest checkpoint, 404 ``checkpoint-not-found`` for
    a size the log never signed (proofs are only given against signed checkpoints).
    """
    latest = current_checkpoint(session)
    if tree_size is None or tree_size == latest.tree_size:
        return latest
    if tree_size > latest.tree_size:
        raise TreeSizeBeyondLog(
            f"Tree size {tree_size} is beyond the log: its latest checkpoint has size "
            f"{latest.tree_size}.",
            errors=[FieldError(field_name, "beyond_log", f"at most {latest.tree_size}")],
            extra={"latest_tree_size": latest.tree_size},
        )
    checkpoint = session.scalar(select(LogCheckpoint).where(LogCheckpoint.tree_size == tree_size))
    if checkpoint is None:
        raise CheckpointNotFound(
            f"The log never signed a checkpoint of size {tree_size}; ask for the size of a "
            f"checkpoint you hold, or the latest ({latest.tree_size}).",
            errors=[FieldError(field_name, "no_checkpoint", "not the size of a signed checkpoint")],
            extra={"latest_tree_size": latest.tree_size},
        )
    return checkpoint


def parse_leaf_hash(value: str, *, field_name: str = "leaf_hash") -> bytes:
    """A leaf hash given as 64 hex digits or as base64 (standard or URL-safe) of 32 bytes.

    A ``+`` of standard base64 put unencoded in a query string arrives as a space (form
    encoding); base64 has no spaces, so each one is read back as the ``+`` it was."""
    raw: bytes | None = None
    if _HEX_RE.match(value.strip()):
        raw = bytes.fromhex(value.strip())
    else:
        text = value.strip("\t\r\n").replace(" ", "+")
        if len(text) != 44:
            text = value.strip().replace(" ", "+")
        if len(text) == 44:
            try:
                raw = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
            except (binascii.Error, ValueError):
                raw = None
    if raw is None or len(raw) != merkle.HASH_SIZE:
        raise MalformedLeafHash(
            "The leaf hash must be a SHA-256 hash: 64 hex digits or 44 base64 characters.",
            errors=[FieldError(field_name, "format", "64 hex digits or base64 of 32 bytes")],
        )
    return raw


def _entry_at(session: Session, index: int) -> LogEntry:
    entry = session.get(LogEntry, index)
    if entry is None:
        raise LogIntegrityError(f"log entry {index} is missing from an integrated tree")
    return entry


def _inclusion(session: Session, entry: LogEntry, checkpoint: LogCheckpoint) -> InclusionProof:
    plan = merkle.inclusion_plan(entry.log_index, checkpoint.tree_size)
    hashes = merkle.resolve_plan(
        plan, NodeReader(session).fetch(node for step in plan for node in step)
    )
    return InclusionProof(
        log_index=entry.log_index,
        tree_size=checkpoint.tree_size,
        leaf_hash=entry.leaf_hash,
        hashes=hashes,
        root_hash=checkpoint.root_hash,
        checkpoint=checkpoint.note,
        entry=entry.entry,
    )


def inclusion_proof(
    session: Session,
    *,
    index: int | None = None,
    leaf_hash: bytes | None = None,
    tree_size: int | None = None,
) -> InclusionProof:
    """Prove an entry (by index or by leaf hash) is in the checkpoint of ``tree_size``.

    ``tree_size`` defaults to the latest checkpoint and must be the size of a stored one. Read
    only: O(log n) stored nodes fetched in one query. By leaf hash, the lowest index with that
    hash inside the tree is proven.
    """
    if index is None and leaf_hash is None:
        raise InvalidProofRequest(
            "Give index or leaf_hash: one of them is required.",
            errors=[FieldError("index", "required", "give index or leaf_hash")],
        )
    if index is not None and leaf_hash is not None:
        raise InvalidProofRequest(
            "Give exactly one of index and leaf_hash.",
            errors=[FieldError("index", "one_of", "give index or leaf_hash, not both")],
        )
    checkpoint = checkpoint_of_size(session, tree_size)
    if leaf_hash is not None:
        entry = session.scalar(
            select(LogEntry)
            .where(LogEntry.leaf_hash == leaf_hash, LogEntry.log_index < checkpoint.tree_size)
            .order_by(LogEntry.log_index)
            .limit(1)
        )
        if entry is None:
            raise LeafHashNotFound(
                f"No entry with this leaf hash is in the tree of size {checkpoint.tree_size}.",
                errors=[FieldError("leaf_hash", "not_found", "not a leaf of this tree")],
            )
        return _inclusion(session, entry, checkpoint)
    assert index is not None
    if index >= checkpoint.tree_size:
        raise IndexOutOfRange(
            f"Index {index} is outside the tree of size {checkpoint.tree_size}.",
            errors=[FieldError("index", "out_of_range", f"below {checkpoint.tree_size}")],
            extra={"tree_size": checkpoint.tree_size},
        )
    return _inclusion(session, _entry_at(session, index), checkpoint)


def inclusion_bundle(session: Session, index: int) -> dict[str, Any]:
    """The offline-checkable proof that entry ``index`` is in the log, for embedding.

    Returns ``{"log_index", "tree_size", "leaf_hash", "hashes", "root_hash", "checkpoint",
    "entry"}`` (see :class:`InclusionProof`) against the latest checkpoint. Integrates first when
    the entry is not yet covered (it then must be called in a transaction that commits, such as
    the one that appended the entry). Raises ``LogEntryNotFound`` for an unknown index.
    """
    checkpoint = latest_checkpoint(session)
    if checkpoint is None or checkpoint.tree_size <= index:
        appended = session.scalar(select(LogState.next_index).where(LogState.id == 1)) or 0
        if not 0 <= index < appended:
            raise LogEntryNotFound(f"The log has no entry {index}.")
        checkpoint = integrate(session)
        assert checkpoint is not None
    entry = session.get(LogEntry, index)
    if entry is None:
        raise LogEntryNotFound(f"The log has no entry {index}.")
    return _inclusion(session, entry, checkpoint).as_json()


def consistency_proof(
    session: Session, old_size: int, new_size: int | None = None
) -> ConsistencyProof:
    """Prove the checkpoint of ``new_size`` (default: latest) extends the tree of ``old_size``.

    ``new_size`` must be a stored checkpoint's size; ``old_size`` between 1 and ``new_size``.
    """
    checkpoint = checkpoint_of_size(session, new_size, field_name="to")
    if old_size < 1:
        raise InvalidProofRequest(
            "The old size must be at least 1: every tree extends the empty tree, so a proof "
            "from size 0 proves nothing.",
            errors=[FieldError("from", "range", f"between 1 and {checkpoint.tree_size}")],
        )
    if old_size > checkpoint.tree_size:
        raise InvalidProofRequest(
            f"The old size {old_size} is larger than the new size {checkpoint.tree_size}: a "
            "consistency proof shows that a larger tree extends a smaller one, so 'from' must "
            "not exceed 'to'.",
            errors=[FieldError("from", "range", f"at most {checkpoint.tree_size} (the new size)")],
        )
    plan = merkle.consistency_plan(old_size, checkpoint.tree_size)
    hashes = merkle.resolve_plan(
        plan, NodeReader(session).fetch(node for step in plan for node in step)
    )
    return ConsistencyProof(
        old_size=old_size,
        new_size=checkpoint.tree_size,
        hashes=hashes,
        root_hash=checkpoint.root_hash,
        checkpoint=checkpoint.note,
    )


def get_entry(session: Session, index: int) -> LogEntry:
    """An entry covered by the latest checkpoint (404 ``log-entry-not-found`` otherwise)."""
    checkpoint = latest_checkpoint(session)
    if checkpoint is None or not 0 <= index < checkpoint.tree_size:
        raise LogEntryNotFound(
            f"The log has no entry {index}"
            + (f"; its entries are 0 to {checkpoint.tree_size - 1}." if checkpoint else ".")
        )
    return _entry_at(session, index)


def entries_for_record(session: Session, record_type: str, record_id: str | int) -> list[LogEntry]:
    """Every entry about one record, oldest first (for example a certificate's lifecycle)."""
    return list(
        session.scalars(
            select(LogEntry)
            .where(LogEntry.record_type == record_type, LogEntry.record_id == str(record_id))
            .order_by(LogEntry.log_index)
        )
    )


@dataclass(frozen=True)
class TileBody:
    """A tile or entry bundle's bytes; ``is_full`` tiles never change (cache them forever)."""

    data: bytes
    is_full: bool


def read_tile(session: Session, path: str) -> TileBody:
    """Serve ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]`` (c2sp.org/tlog-tiles).

    Only what the latest checkpoint covers: a tile of width W exists when the checkpoint's tree
    has at least W hashes in it (a partial tile stays valid for the older checkpoint it served).
    404 ``tile-not-found`` for anything else, including non-canonical paths.
    """
    try:
        parsed = tiles.parse_tile_path(path)
    except tiles.TilePathError as exc:
        # The parser's message already says what is wrong with which path: say it once.
        reason = str(exc)
        raise TileNotFound(f"{reason[:1].upper()}{reason[1:]}.") from None
    checkpoint = latest_checkpoint(session)
    size = checkpoint.tree_size if checkpoint else 0
    level = parsed.level if isinstance(parsed, tiles.Tile) else 0
    available = tiles.tile_width(level, parsed.index, size)
    if parsed.width > available:
        raise TileNotFound(
            f"The log's latest checkpoint (size {size}) has no {path}"
            + (f"; this tile has {available} hashes so far." if available else ".")
        )
    if isinstance(parsed, tiles.EntryBundle):
        start = parsed.index * tiles.TILE_WIDTH
        entries = list(
            session.scalars(
                select(LogEntry.entry)
                .where(LogEntry.log_index >= start, LogEntry.log_index < start + parsed.width)
                .order_by(LogEntry.log_index)
            )
        )
        if len(entries) != parsed.width:
            raise LogIntegrityError(f"entries of bundle {path} are missing")
        data = tiles.encode_entry_bundle(entries)
    else:
        data = tiles.encode_tile(tiles.tile_hashes(NodeReader(session), parsed))
    return TileBody(data, parsed.width == tiles.TILE_WIDTH)


@dataclass(frozen=True)
class LogSummary:
    """The log at a glance: its identity and latest checkpoint."""

    origin: str
    vkey: str
    tree_size: int
    root_hash: bytes
    checkpoint: str
    checkpoint_at: datetime


def current_vkey(session: Session) -> str:
    """The log's verifier key (404 ``log-not-started`` before the log has a key)."""
    key = log_key(session)
    if key is None:
        raise LogNotStarted("The transparency log has not started: it has no key yet.")
    return log_vkey(key)


def log_summary(session: Session) -> LogSummary:
    """Origin, verifier key and latest checkpoint (404 ``log-not-started`` before the first)."""
    checkpoint = current_checkpoint(session)
    key = log_key(session)
    if key is None:
        raise LogIntegrityError("the log has checkpoints but no key")
    return LogSummary(
        origin=key.origin,
        vkey=log_vkey(key),
        tree_size=checkpoint.tree_size,
        root_hash=checkpoint.root_hash,
        checkpoint=checkpoint.note,
        checkpoint_at=checkpoint.created_at,
    )
