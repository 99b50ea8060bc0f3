"""The transparency log's tables: entries, stored tree nodes, signed checkpoints, the log key.

Entries, nodes, checkpoints and keys are append-only: database triggers (see the migration)
refuse UPDATE and DELETE, and no code path issues either. ``log_state`` is the one mutable row:
the sequencer that hands out gap-free indices and records how far the tree is integrated.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntId, CreatedAt, IntPK, StrEnumType, UTCDateTime
from app.transparency.entry import EntryType


class LogState(Base):
    """The single sequencer row (id 1), created by the migration.

    Appenders increment ``next_index`` with one ``UPDATE ... RETURNING``, which takes the row lock
    on PostgreSQL (and the write lock on SQLite) until their transaction ends: indices are handed
    out one transaction at a time, and a rolled-back transaction gives its indices back, so there
    are never gaps or duplicates. ``integrated_size`` is how many entries the stored tree holds.
    """

    __tablename__ = "log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    next_index: Mapped[int] = mapped_column(BigInteger)
    integrated_size: Mapped[int] = mapped_column(BigInteger)


class LogKey(Base):
    """The log's Ed25519 signing key; the private half only sealed (``app.keystore``)."""

    __tablename__ = "log_keys"

    id: Mapped[IntPK]
    # The log's origin and the key's name (c2sp.org/tlog-checkpoint): fixed when the log starts.
    origin: Mapped[str] = mapped_column(String(200), unique=True)
    key_id: Mapped[str] = mapped_column(String(8))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    sealed_private_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[CreatedAt]


class LogEntry(Base):
    """One leaf of the log. ``entry`` holds the exact bytes that are hashed; the other columns
    repeat its fields for lookups (``log verify`` checks they agree)."""

    __tablename__ = "log_entries"
    __table_args__ = (Index("ix_log_entries_record", "record_type", "record_id"),)

    log_index: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=False)
    entry_type: Mapped[EntryType] = mapped_column(StrEnumType(EntryType, 40))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(200))
    content_sha256: Mapped[str] = mapped_column(String(64))
    # Not indexed: no query looks entries up by organisation, and organisations are never
    # deleted (an index would cost every appended entry a write).
    organisation_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("organisations.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    entry: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    created_at: Mapped[CreatedAt]


class LogNode(Base):
    """A complete subtree's hash: ``level`` k, ``node_index`` i covers leaves [i*2^k, (i+1)*2^k).

    Level 0 holds the leaf hashes. Keyed by (level, node_index) rather than a surrogate id: a log
    of n entries has about 2n of these rows, and every read is by that key or a range of it.
    """

    __tablename__ = "log_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogCheckpoint(Base):
    """A signed checkpoint (c2sp.org/tlog-checkpoint), stored before it is ever served."""

    __tablename__ = "log_checkpoints"

    id: Mapped[IntPK]
    # Unique: the log never signs two checkpoints of one size (that would be a fork).
    tree_size: Mapped[int] = mapped_column(BigInteger, unique=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[CreatedAt]
