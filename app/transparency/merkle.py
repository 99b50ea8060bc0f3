"""RFC 6962 / RFC 9162 Merkle tree hashing, proof generation and proof verification.

Pure module: standard library only, no Flask, no database, no network.

Storage model ("tile model"): the log stores, for every level ``k``, the hash of every *complete*
subtree, node ``(k, i)`` covering leaves ``[i * 2**k, (i + 1) * 2**k)``. Level 0 holds the leaf
hashes. Proofs and roots are assembled from O(log n) of those stored nodes, plus at most one
"right edge" range of a tree whose size is not a power of two, which is itself folded from
O(log n) stored nodes. Nothing here ever rehashes the whole tree, so generating a proof in a log of
1,000,000 leaves reads a few dozen stored hashes, not a million.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

HASH_SIZE = 32

# RFC 6962 section 2.1 domain separation prefixes: leaf and interior hashes can never collide.
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256 of the empty string: the root hash of the empty tree."""


class ProofError(ValueError):
    """A Merkle inclusion or consistency proof is malformed or does not verify."""


class MissingNodeError(LookupError):
    """A hash reader could not supply a stored node hash the computation needs."""


@dataclass(frozen=True, slots=True)
class NodeID:
    """A complete subtree: ``level`` k, ``index`` i covers leaves [i*2^k, (i+1)*2^k)."""

    level: int
    index: int


@dataclass(frozen=True, slots=True)
class Node:
    """A complete subtree hash to be stored at (``level``, ``index``)."""

    level: int
    index: int
    hash: bytes


class HashReader(Protocol):
    """Read access to stored complete-subtree hashes (the service backs this with a table)."""

    def get_hashes(self, level: int, start: int, end: int) -> Sequence[bytes]:
        """Return the hashes of nodes ``start .. end-1`` at ``level``, in order.

        Only complete subtrees are ever requested. Implementations must return exactly
        ``end - start`` hashes or raise :class:`MissingNodeError`.
        """
        ...


def leaf_hash(entry: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || entry)."""
    return hashlib.sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (n >= 2): where RFC 6962 splits D[n]."""
    return 1 << ((n - 1).bit_length() - 1)


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """Merkle Tree Hash (RFC 9162 2.1.1) of a list of leaf hashes, computed in full.

    O(n) hashing; meant for small trees, tests and offline audits. The service should use
    :func:`root_from_reader`, which reads O(log n) stored nodes instead.
    """
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(root_hash(leaf_hashes[:k]), root_hash(leaf_hashes[k:]))


# --- Planning: which stored nodes a root or proof needs -------------------------------------


def range_nodes(begin: int, end: int) -> list[NodeID]:
    """Complete subtrees that make up MTH(D[begin:end]), left to right.

    ``begin`` must be aligned so that [begin, end) is a subtree of some RFC 6962 tree: a multiple
    of the largest power of two <= end - begin (always true for the ranges proofs use). The hash of
    the range is the right fold of the returned nodes' hashes (see :func:`fold_range`).
    """
    if not 0 <= begin < end:
        raise ValueError(f"empty or negative range [{begin}, {end})")
    nodes: list[NodeID] = []
    pos = begin
    remaining = end - begin
    # The RFC split at the largest power of two below n is exactly the binary decomposition of n.
    for level in range(remaining.bit_length() - 1, -1, -1):
        if remaining >> level & 1:
            if pos % (1 << level):
                raise ValueError(f"range [{begin}, {end}) is not aligned to a subtree")
            nodes.append(NodeID(level, pos >> level))
            pos += 1 << level
    return nodes


def fold_range(hashes: Sequence[bytes]) -> bytes:
    """Combine the hashes of :func:`range_nodes` (left to right) into the range's MTH."""
    if not hashes:
        raise ValueError("cannot fold an empty range")
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_plan(index: int, size: int) -> list[list[NodeID]]:
    """Stored nodes needed for PATH(index, D[size]) (RFC 9162 2.1.3.1), leaf to root.

    Each element of the result is one proof hash, given as the list of complete subtrees whose
    right fold is that hash: one node, except for at most one partial right-edge sibling. The
    service can fetch every node of the plan in one query.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    plan: list[list[NodeID]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            plan.append(range_nodes(lo + k, hi))
            hi = lo + k
        else:
            plan.append(range_nodes(lo, lo + k))
            lo += k
    plan.reverse()  # the RFC lists the path from the leaf upwards
    return plan


def consistency_plan(old_size: int, new_size: int) -> list[list[NodeID]]:
    """Stored nodes needed for PROOF(old_size, D[new_size]) (RFC 9162 2.1.4.1).

    Same shape as :func:`inclusion_plan`. Empty when the sizes are equal; ``old_size`` must be at
    least 1 because a consistency proof from the empty tree is meaningless.
    """
    if not 0 < old_size <= new_size:
        raise ProofError(
            f"consistency proof needs 0 < old_size <= new_size, got {old_size}, {new_size}"
        )
    plan: list[list[NodeID]] = []
    lo, hi, m = 0, new_size, old_size
    # ``complete`` is the RFC's flag b: true while the subtree is still the whole old tree, whose
    # root the verifier already knows and so need not be sent.
    complete = True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            plan.append(range_nodes(lo + k, hi))
            hi = lo + k
        else:
            plan.append(range_nodes(lo, lo + k))
            lo += k
            m -= k
            complete = False
    if not complete:
        plan.append(range_nodes(lo, hi))
    plan.reverse()
    return plan


# --- Reading stored nodes ------------------------------------------------------------------


def _read_node(reader: HashReader, node: NodeID) -> bytes:
    hashes = reader.get_hashes(node.level, node.index, node.index + 1)
    if len(hashes) != 1:
        raise MissingNodeError(f"stored node {node} is missing")
    return hashes[0]


def _resolve(reader: HashReader, plan: Iterable[Sequence[NodeID]]) -> list[bytes]:
    return [fold_range([_read_node(reader, node) for node in nodes]) for nodes in plan]


def resolve_plan(plan: Iterable[Sequence[NodeID]], hashes: Mapping[NodeID, bytes]) -> list[bytes]:
    """Turn a proof plan into proof hashes from nodes fetched beforehand (e.g. in one query).

    ``hashes`` must hold every node of the plan: ``{node for step in plan for node in step}``.
    """
    try:
        return [fold_range([hashes[node] for node in nodes]) for nodes in plan]
    except KeyError as exc:
        raise MissingNodeError(f"stored node {exc.args[0]} is missing") from exc


def subtree_hash(reader: HashReader, level: int, index: int) -> bytes:
    """Hash of the complete subtree (``level``, ``index``): a single stored node read."""
    return _read_node(reader, NodeID(level, index))


def root_from_reader(reader: HashReader, size: int) -> bytes:
    """Root hash of the tree's first ``size`` leaves, from at most log2(size)+1 stored nodes."""
    if size < 0:
        raise ValueError(f"negative tree size {size}")
    if size == 0:
        return EMPTY_ROOT
    return _resolve(reader, [range_nodes(0, size)])[0]


def inclusion_proof(reader: HashReader, index: int, size: int) -> list[bytes]:
    """Inclusion proof of leaf ``index`` in the tree of ``size`` leaves (RFC 9162 2.1.3.1).

    Reads O(log size) stored nodes (at most about 2*log2(size)); never recomputes the tree.
    """
    return _resolve(reader, inclusion_plan(index, size))


def consistency_proof(reader: HashReader, old_size: int, new_size: int) -> list[bytes]:
    """Consistency proof from ``old_size`` to ``new_size`` (RFC 9162 2.1.4.1).

    Reads O(log new_size) stored nodes; never recomputes the tree.
    """
    return _resolve(reader, consistency_plan(old_size, new_size))


# --- Appending ------------------------------------------------------------------------------


def right_edge(size: int) -> list[NodeID]:
    """The complete subtrees of a tree of ``size`` leaves that can still gain a parent on append.

    One per set bit of ``size``, largest first; their hashes are all an appender needs to know.
    """
    return range_nodes(0, size) if size else []


def full_nodes_for_append(
    reader: HashReader, size: int, new_leaf_hashes: Sequence[bytes]
) -> list[Node]:
    """Every complete node that appears when ``new_leaf_hashes`` are appended at ``size``.

    Includes the level-0 nodes (the new leaf hashes themselves) and each node at level k whose
    2^k leaves become complete, in the order they complete. The service inserts these rows in a
    batch. Reads only the O(log size) right-edge nodes of the existing tree.
    """
    stack = [Node(node.level, node.index, _read_node(reader, node)) for node in right_edge(size)]
    created: list[Node] = []
    for offset, h in enumerate(new_leaf_hashes):
        if len(h) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(h)}")
        node = Node(0, size + offset, h)
        created.append(node)
        # Two adjacent subtrees of equal height on the stack are siblings: merge until none are.
        while stack and stack[-1].level == node.level:
            left = stack.pop()
            node = Node(node.level + 1, left.index >> 1, node_hash(left.hash, node.hash))
            created.append(node)
        stack.append(node)
    return created


class RightEdge:
    """Just the right edge of a tree: its O(log n) maximal complete subtrees, largest first.

    Enough to append leaves (a :class:`HashReader` for :func:`full_nodes_for_append`) and to
    compute the root, without the rest of the tree: what an integrator, an auditor streaming a
    whole log, or a monitor checking new entries against a signed root needs to keep.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        nodes = right_edge(size)
        if len(hashes) != len(nodes):
            raise ValueError(f"a tree of size {size} has {len(nodes)} right-edge hashes")
        self.size = size
        self._hashes = dict(zip(nodes, hashes, strict=True))

    @property
    def hashes(self) -> list[bytes]:
        """The right edge's hashes in :func:`right_edge` order (largest subtree first)."""
        return [self._hashes[node] for node in right_edge(self.size)]

    def get_hashes(self, level: int, start: int, end: int) -> list[bytes]:
        """Right-edge nodes only; anything else raises :class:`MissingNodeError`."""
        try:
            return [self._hashes[NodeID(level, i)] for i in range(start, end)]
        except KeyError as exc:
            raise MissingNodeError(f"node {exc.args[0]} is not on the right edge") from None

    def append(self, leaf_hashes: Sequence[bytes]) -> list[Node]:
        """Append leaves; returns the complete nodes created, as :func:`full_nodes_for_append`."""
        created = full_nodes_for_append(self, self.size, leaf_hashes)
        self.size += len(leaf_hashes)
        # Only the new right edge is kept: look its nodes up among those just created (by
        # plain tuples, cheaper to build than thousands of NodeIDs) or the old edge.
        fresh = {(node.level, node.index): node.hash for node in created}
        self._hashes = {
            node: fresh[node.level, node.index]
            if (node.level, node.index) in fresh
            else self._hashes[node]
            for node in right_edge(self.size)
        }
        return created

    def root(self) -> bytes:
        """Root hash of the tree of :attr:`size` leaves."""
        return fold_range(self.hashes) if self.size else EMPTY_ROOT


class MemoryTree:
    """An in-memory append-only tree keeping every complete node per level (a :class:`HashReader`).

    For tests, benchmarks and offline tools; appending is amortised O(1) hashes per leaf.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return len(self._levels[0])

    def append(self, leaf_hash_: bytes) -> None:
        """Append one leaf hash, completing any parent subtrees it closes."""
        if len(leaf_hash_) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf_hash_)}")
        level, h = 0, leaf_hash_
        while True:
            row = self._levels[level]
            row.append(h)
            if len(row) % 2:
                return
            h = node_hash(row[-2], row[-1])
            level += 1
            if level == len(self._levels):
                self._levels.append([])

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append several leaf hashes in order."""
        for h in leaf_hashes:
            self.append(h)

    def get_hashes(self, level: int, start: int, end: int) -> list[bytes]:
        """Stored complete-subtree hashes ``start .. end-1`` at ``level``."""
        if level < 0 or start < 0 or level >= len(self._levels):
            raise MissingNodeError(f"no nodes stored at level {level}")
        row = self._levels[level]
        if end > len(row) or start > end:
            raise MissingNodeError(f"nodes [{start}, {end}) at level {level} are not complete")
        return row[start:end]

    def root(self, size: int | None = None) -> bytes:
        """Root hash of the first ``size`` leaves (default: all)."""
        return root_from_reader(self, self.size if size is None else size)


# --- Verification (RFC 9162 2.1.3.2 and 2.1.4.2) ---------------------------------------------


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{name} must be {HASH_SIZE} bytes, got {len(value)}")


def root_from_inclusion_proof(
    leaf_hash_: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """Root hash implied by an inclusion proof (RFC 9162 2.1.3.2 steps 1-5 without the compare)."""
    if index < 0 or index >= size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")
    _check_hash("leaf hash", leaf_hash_)
    fn, sn, r = index, size - 1, leaf_hash_
    for p in proof:
        _check_hash("proof hash", p)
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # Skip levels where this node has no right sibling (the right edge of the tree).
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return r


def verify_inclusion(
    leaf_hash_: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash_`` is leaf ``index`` of the tree (``size``, ``root``).

    Raises :class:`ProofError` with the reason when it is not.
    """
    calculated = root_from_inclusion_proof(leaf_hash_, index, size, proof)
    if calculated != root:
        raise ProofError("inclusion proof does not lead to the expected root hash")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree (``new_size``, ``new_root``) extends (``old_size``, ``old_root``).

    RFC 9162 2.1.4.2. ``old_size`` must be at least 1: every tree trivially extends the empty
    tree, so a proof from size 0 proves nothing and is rejected (as the published vectors
    require). Equal sizes need an empty proof and equal roots. Raises :class:`ProofError`.
    """
    if old_size < 0:
        raise ProofError(f"negative old size {old_size}")
    if new_size < old_size:
        raise ProofError(f"new size {new_size} is smaller than old size {old_size}")
    if old_size == 0:
        raise ProofError("a consistency proof from the empty tree is meaningless")
    if old_size == new_size:
        if proof:
            raise ProofError("sizes are equal but the consistency proof is not empty")
        if old_root != new_root:
            raise ProofError("sizes are equal but the root hashes differ")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    _check_hash("old root", old_root)
    _check_hash("new root", new_root)
    for p in proof:
        _check_hash("proof hash", p)

    path = list(proof)
    # A power-of-two old tree is a complete subtree of the new one, so its root is not sent.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != old_root:
        raise ProofError("consistency proof does not lead to the old root hash")
    if sr != new_root:
        raise ProofError("consistency proof does not lead to the new root hash")
