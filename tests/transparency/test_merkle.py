"""RFC 6962 / 9162 Merkle trees: published vectors, generated proofs, sigstore cross-checks."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sigstore._internal.merkle import verify_merkle_inclusion
from sigstore.errors import VerificationError

from app.transparency.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    MissingNodeError,
    NodeID,
    ProofError,
    consistency_plan,
    consistency_proof,
    full_nodes_for_append,
    inclusion_plan,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_nodes,
    resolve_plan,
    root_from_reader,
    root_hash,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.vectors import vector_path

MAX_SIZE = 70


def _probes(kind: str) -> list[Path]:
    return sorted(vector_path("rfc6962", kind).rglob("*.json"))


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(f"entry {i}".encode()) for i in range(n)]


@pytest.fixture(scope="module")
def tree() -> MemoryTree:
    return MemoryTree(_leaves(MAX_SIZE))


@pytest.fixture(scope="module")
def leaves() -> list[bytes]:
    return _leaves(MAX_SIZE)


# --- Published vectors ----------------------------------------------------------------------


def test_vector_counts() -> None:
    # Guards against a glob silently matching nothing: the README promises 196 probes.
    assert len(_probes("inclusion")) + len(_probes("consistency")) == 196


@pytest.mark.parametrize(
    "path", _probes("inclusion"), ids=lambda p: str(p.relative_to(p.parents[2]))
)
def test_inclusion_vectors(path: Path) -> None:
    probe: dict[str, Any] = json.loads(path.read_text())
    args = (
        _b64(probe["leafHash"]),
        probe["leafIdx"],
        probe["treeSize"],
        [_b64(p) for p in probe["proof"] or []],
        _b64(probe["root"]),
    )
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize(
    "path", _probes("consistency"), ids=lambda p: str(p.relative_to(p.parents[2]))
)
def test_consistency_vectors(path: Path) -> None:
    probe: dict[str, Any] = json.loads(path.read_text())
    args = (
        probe["size1"],
        probe["size2"],
        _b64(probe["root1"]),
        _b64(probe["root2"]),
        [_b64(p) for p in probe["proof"] or []],
    )
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_roots_of_standard_leaves() -> None:
    known = json.loads(vector_path("signed-note-and-merkle.json").read_text())
    section = known["rfc6962_roots_of_standard_leaves"]
    hashes = [leaf_hash(bytes.fromhex(h)) for h in section["leaves_hex"]]
    roots = section["roots_by_size"]
    assert sorted(map(int, roots)) == list(range(9))
    tree = MemoryTree(hashes)
    for size_text, want in roots.items():
        size = int(size_text)
        assert root_hash(hashes[:size]).hex() == want
        assert root_from_reader(tree, size).hex() == want


def test_basic_hashes() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert root_hash([]) == EMPTY_ROOT


# --- Generated proofs -----------------------------------------------------------------------


def test_reader_roots_match_full_recomputation(tree: MemoryTree, leaves: list[bytes]) -> None:
    for size in range(MAX_SIZE + 1):
        assert root_from_reader(tree, size) == root_hash(leaves[:size])


def test_generated_inclusion_proofs_verify(tree: MemoryTree, leaves: list[bytes]) -> None:
    for size in range(1, MAX_SIZE + 1):
        root = root_hash(leaves[:size])
        for index in range(size):
            proof = inclusion_proof(tree, index, size)
            verify_inclusion(leaves[index], index, size, proof, root)
            # The same proof must not vouch for a neighbour, nor for the next, larger tree.
            if size > 1:
                with pytest.raises(ProofError):
                    verify_inclusion(leaves[(index + 1) % size], index, size, proof, root)
            if size < MAX_SIZE:
                bigger_root = root_hash(leaves[: size + 1])
                with pytest.raises(ProofError):
                    verify_inclusion(leaves[index], index, size + 1, proof, bigger_root)


def test_generated_consistency_proofs_verify(tree: MemoryTree, leaves: list[bytes]) -> None:
    roots = [root_hash(leaves[:n]) for n in range(MAX_SIZE + 1)]
    for new in range(1, MAX_SIZE + 1):
        for old in range(1, new + 1):
            proof = consistency_proof(tree, old, new)
            verify_consistency(old, new, roots[old], roots[new], proof)
            if old < new:
                with pytest.raises(ProofError):
                    verify_consistency(old, new, roots[old - 1], roots[new], proof)
                with pytest.raises(ProofError):
                    verify_consistency(old, new, roots[old], roots[new], proof[:-1])
                with pytest.raises(ProofError):
                    verify_consistency(old, new, roots[old], roots[new], [*proof, roots[new]])


def test_proof_lengths_match_rfc_examples(tree: MemoryTree) -> None:
    # RFC 9162 2.1.5: in the 7-leaf tree, leaf 3's path is [c, g, i]: 3 hashes; leaf 6's is [l, k].
    assert len(inclusion_proof(tree, 3, 7)) == 3
    assert len(inclusion_proof(tree, 6, 7)) == 2
    # Consistency proofs 3->7: [c, d, g, l]; 4->7: [l]; 6->7: [i, j, k].
    assert len(consistency_proof(tree, 3, 7)) == 4
    assert len(consistency_proof(tree, 4, 7)) == 1
    assert len(consistency_proof(tree, 6, 7)) == 3
    assert consistency_proof(tree, 7, 7) == []


def test_plans_reject_impossible_requests(tree: MemoryTree) -> None:
    with pytest.raises(ProofError):
        inclusion_plan(5, 5)
    with pytest.raises(ProofError):
        inclusion_plan(0, 0)
    with pytest.raises(ProofError):
        consistency_plan(0, 5)
    with pytest.raises(ProofError):
        consistency_plan(6, 5)
    with pytest.raises(MissingNodeError):
        inclusion_proof(tree, 0, MAX_SIZE + 1)


def test_verifiers_reject_edge_cases(leaves: list[bytes]) -> None:
    root1 = leaves[0]
    with pytest.raises(ProofError, match="not below"):
        verify_inclusion(leaves[0], 1, 1, [], root1)
    with pytest.raises(ProofError, match="not below"):
        verify_inclusion(leaves[0], 0, 0, [], EMPTY_ROOT)
    with pytest.raises(ProofError, match="too long"):
        verify_inclusion(leaves[0], 0, 1, [leaves[1]], root1)
    with pytest.raises(ProofError, match="too short"):
        verify_inclusion(leaves[0], 0, 2, [], root_hash(leaves[:2]))
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 3, EMPTY_ROOT, root_hash(leaves[:3]), [])
    with pytest.raises(ProofError, match="smaller"):
        verify_consistency(3, 2, root_hash(leaves[:3]), root_hash(leaves[:2]), [])
    with pytest.raises(ProofError, match="not empty"):
        verify_consistency(2, 2, root_hash(leaves[:2]), root_hash(leaves[:2]), [root1])
    with pytest.raises(ProofError, match="empty"):
        verify_consistency(2, 3, root_hash(leaves[:2]), root_hash(leaves[:3]), [])
    verify_consistency(2, 2, root_hash(leaves[:2]), root_hash(leaves[:2]), [])


# --- Storage model --------------------------------------------------------------------------


def test_memory_tree_stores_exactly_the_complete_subtrees(tree: MemoryTree) -> None:
    leaves = _leaves(MAX_SIZE)
    for level in range(7):
        count = MAX_SIZE >> level
        hashes = tree.get_hashes(level, 0, count)
        for index, h in enumerate(hashes):
            span = leaves[index << level : (index + 1) << level]
            assert h == root_hash(span)
            assert subtree_hash(tree, level, index) == h
        with pytest.raises(MissingNodeError):
            tree.get_hashes(level, count, count + 1)


@pytest.mark.parametrize("old_size", [0, 1, 5, 8, 13, 31, 32, 33])
def test_full_nodes_for_append_matches_memory_tree(old_size: int) -> None:
    leaves = _leaves(MAX_SIZE)
    before = MemoryTree(leaves[:old_size])
    after = MemoryTree(leaves)
    created = full_nodes_for_append(before, old_size, leaves[old_size:])
    expected = {
        (level, index)
        for level in range(8)
        for index in range(MAX_SIZE >> level)
        if (index + 1) << level > old_size
    }
    assert {(n.level, n.index) for n in created} == expected
    assert len(created) == len(expected)
    for node in created:
        assert node.hash == after.get_hashes(node.level, node.index, node.index + 1)[0]


def test_plans_resolve_from_one_batch_of_nodes(tree: MemoryTree) -> None:
    # What the service does: collect the plan's nodes, fetch them in one query, then assemble.
    for plan, expected in [
        (inclusion_plan(37, 61), inclusion_proof(tree, 37, 61)),
        (consistency_plan(13, 61), consistency_proof(tree, 13, 61)),
    ]:
        wanted = {node for step in plan for node in step}
        fetched = {n: subtree_hash(tree, n.level, n.index) for n in wanted}
        assert resolve_plan(plan, fetched) == expected
        fetched.popitem()
        with pytest.raises(MissingNodeError):
            resolve_plan(plan, fetched)


def test_range_nodes_decomposition() -> None:
    assert range_nodes(0, 7) == [NodeID(2, 0), NodeID(1, 2), NodeID(0, 6)]
    assert range_nodes(8, 13) == [NodeID(2, 2), NodeID(0, 12)]
    with pytest.raises(ValueError, match="aligned"):
        range_nodes(1, 4)


class CountingReader:
    """Stands in for the node table of a 1,000,000-leaf log without building it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.reads = 0

    def get_hashes(self, level: int, start: int, end: int) -> list[bytes]:
        assert (end << level) <= self.size, "only complete subtrees are stored"
        self.reads += end - start
        return [hashlib.sha256(f"{level}/{i}".encode()).digest() for i in range(start, end)]


@pytest.mark.parametrize("size", [1_000_000, 2**20, 2**20 + 1, 999_999_999])
def test_proofs_at_scale_read_logarithmically_many_nodes(size: int) -> None:
    bound = 2 * size.bit_length() + 2
    for index in (0, size // 3, size - 2, size - 1):
        reader = CountingReader(size)
        assert len(inclusion_proof(reader, index, size)) <= size.bit_length()
        assert reader.reads <= bound
    for old in (1, size // 2, size - 1):
        reader = CountingReader(size)
        consistency_proof(reader, old, size)
        assert reader.reads <= bound
    reader = CountingReader(size)
    root_from_reader(reader, size)
    assert reader.reads == size.bit_count()


def test_proofs_from_a_large_real_tree_verify() -> None:
    size = 3 * 2**14 + 5
    leaves = _leaves(size)
    tree = MemoryTree(leaves)
    root = tree.root()
    for index in (0, 1, 2**14, size - 6, size - 1):
        verify_inclusion(leaves[index], index, size, inclusion_proof(tree, index, size), root)
    old = 2**14 + 3
    proof = consistency_proof(tree, old, size)
    verify_consistency(old, size, tree.root(old), root, proof)


# --- Independent implementation: sigstore ---------------------------------------------------


def _sigstore_entry(entry: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> Any:
    # verify_merkle_inclusion only reads these attributes of a Rekor TransparencyLogEntry; a full
    # entry would need a signed Rekor response we do not have.
    inclusion = SimpleNamespace(log_index=index, tree_size=size, hashes=proof, root_hash=root)
    return SimpleNamespace(
        _inner=SimpleNamespace(inclusion_proof=inclusion, canonicalized_body=entry)
    )


def test_sigstore_accepts_our_inclusion_proofs(tree: MemoryTree) -> None:
    checked = 0
    for size in (1, 2, 7, 13, 32, 33, MAX_SIZE):
        root = tree.root(size)
        for index in range(size):
            proof = inclusion_proof(tree, index, size)
            verify_merkle_inclusion(
                _sigstore_entry(f"entry {index}".encode(), index, size, proof, root)
            )
            checked += 1
    assert checked == 1 + 2 + 7 + 13 + 32 + 33 + MAX_SIZE


def test_sigstore_rejects_what_we_reject(tree: MemoryTree) -> None:
    # Sanity check that the oracle is actually checking: a tampered proof fails in both.
    proof = inclusion_proof(tree, 5, 13)
    proof[1] = bytes(32)
    root = tree.root(13)
    with pytest.raises(VerificationError):
        verify_merkle_inclusion(_sigstore_entry(b"entry 5", 5, 13, proof, root))
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(b"entry 5"), 5, 13, proof, root)


# --- Right edge (what integrators, auditors and monitors keep) -------------------------------


def test_right_edge_appends_in_any_chunks_to_the_same_tree(leaves: list[bytes]) -> None:
    from app.transparency.merkle import RightEdge

    for chunks in ([MAX_SIZE], [1] * MAX_SIZE, [3, 13, 16, 1, 37]):
        edge = RightEdge()
        created = []
        position = 0
        for chunk in chunks:
            created += edge.append(leaves[position : position + chunk])
            position += chunk
            assert edge.size == position
            assert edge.root() == root_hash(leaves[:position])
        assert created == full_nodes_for_append(MemoryTree(), 0, leaves)


def test_right_edge_resumes_from_saved_hashes(leaves: list[bytes]) -> None:
    from app.transparency.merkle import RightEdge

    first = RightEdge()
    first.append(leaves[:29])
    resumed = RightEdge(29, first.hashes)
    resumed.append(leaves[29:])
    assert resumed.root() == root_hash(leaves)
    assert RightEdge().root() == EMPTY_ROOT
    with pytest.raises(ValueError, match="right-edge hashes"):
        RightEdge(29, first.hashes[:-1])
    with pytest.raises(MissingNodeError):
        resumed.get_hashes(0, 0, 1)
