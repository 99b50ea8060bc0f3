"""c2sp.org/tlog-tiles: paths, which tiles exist, and tile contents against the Merkle tree."""

from __future__ import annotations

import pytest

from app.transparency.merkle import (
    MemoryTree,
    MissingNodeError,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
)
from app.transparency.tiles import (
    TILE_WIDTH,
    EntryBundle,
    Tile,
    TileFormatError,
    TilePathError,
    changed_tiles,
    decode_entry_bundle,
    decode_tile,
    encode_entry_bundle,
    encode_index,
    encode_tile,
    entries_path,
    parse_tile_path,
    tile_hashes,
    tile_path,
    tile_width,
    tiles_for_size,
)

# --- Paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "encoded"),
    [
        (0, "000"),
        (5, "005"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),  # the spec's example
        (2**64 - 1, "x018/x446/x744/x073/x709/x551/615"),
    ],
)
def test_index_encoding(index: int, encoded: str) -> None:
    assert encode_index(index) == encoded


def test_paths() -> None:
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(2, 1, 17) == "tile/2/001.p/17"
    assert tile_path(63, 0, 255) == "tile/63/000.p/255"
    assert entries_path(1234067) == "tile/entries/x001/x234/067"
    assert entries_path(273, 112) == "tile/entries/273.p/112"


@pytest.mark.parametrize(
    "args", [(-1, 0, 256), (64, 0, 256), (0, -1, 256), (0, 2**64, 256), (0, 0, 0), (0, 0, 257)]
)
def test_invalid_tile_coordinates(args: tuple[int, int, int]) -> None:
    with pytest.raises(TilePathError):
        tile_path(*args)


@pytest.mark.parametrize(
    ("path", "parsed"),
    [
        ("tile/0/000", Tile(0, 0)),
        ("tile/0/x001/x234/067", Tile(0, 1234067)),
        ("tile/1/x001/x234/067.p/8", Tile(1, 1234067, 8)),
        ("tile/63/999.p/255", Tile(63, 999, 255)),
        ("tile/entries/x001/x234/067", EntryBundle(1234067)),
        ("tile/entries/000.p/1", EntryBundle(0, 1)),
    ],
)
def test_parse_tile_path(path: str, parsed: Tile | EntryBundle) -> None:
    assert parse_tile_path(path) == parsed
    assert parsed.path == path


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/0",  # index not zero-padded to 3 digits
        "tile/0/1234",
        "tile/0/001/234/067",  # missing x prefixes
        "tile/0/x001/x234/x067",  # x on the last element
        "tile/0/x000/001",  # redundant leading group
        "tile/00/001",  # leading zero in level
        "tile/01/001",
        "tile/64/001",  # level out of range
        "tile/-1/001",
        "tile/0/001.p/0",  # width out of range
        "tile/0/001.p/256",
        "tile/0/001.p/300",
        "tile/0/001.p/08",  # leading zero in width
        "tile/0/001.p/",
        "tile/0/001.p",
        "tile/0/001/",
        "/tile/0/001",
        "tile/data/001",
        "tile/entries/001.p/256",
        "tile/0/x018/x446/x744/x073/x709/x551/616",  # index 2**64
        "tile/0/x001/x001/x001/x001/x001/x001/x001/001",
        "tile/0/\u0661\u0662\u0663",  # non-ASCII digits
        "tile/0/001\n",
    ],
)
def test_parse_rejects_non_canonical_paths(path: str) -> None:
    with pytest.raises(TilePathError):
        parse_tile_path(path)


def test_paths_round_trip_for_many_indices() -> None:
    for index in [*range(0, 3000, 7), 999_999, 1_000_000, 10**12 + 1]:
        for width in (1, 128, 255, 256):
            tile = Tile(index % 64, index, width)
            assert parse_tile_path(tile.path) == tile
            bundle = EntryBundle(index, width)
            assert parse_tile_path(bundle.path) == bundle


# --- Which tiles exist ----------------------------------------------------------------------


def test_spec_example_tree_of_70000() -> None:
    tiles = list(tiles_for_size(70_000))
    level0 = [t for t in tiles if t.level == 0]
    assert len(level0) == 274
    assert sum(t.width == TILE_WIDTH for t in level0) == 273
    assert level0[-1] == Tile(0, 273, 112)
    assert [t for t in tiles if t.level > 0] == [Tile(1, 0), Tile(1, 1, 17), Tile(2, 0, 1)]


def test_tree_of_256_has_a_width_one_level_1_tile() -> None:
    assert list(tiles_for_size(256)) == [Tile(0, 0), Tile(1, 0, 1)]
    assert list(tiles_for_size(0)) == []


def test_tile_width() -> None:
    assert tile_width(0, 273, 70_000) == 112
    assert tile_width(0, 272, 70_000) == TILE_WIDTH
    assert tile_width(0, 274, 70_000) == 0
    assert tile_width(2, 0, 70_000) == 1
    assert tile_width(3, 0, 70_000) == 0


@pytest.mark.parametrize(
    ("old", "new"), [(0, 1), (0, 70_000), (255, 256), (256, 257), (1000, 70_000), (5, 5)]
)
def test_changed_tiles_are_exactly_the_differences(old: int, new: int) -> None:
    before = set(tiles_for_size(old))
    after = set(tiles_for_size(new))
    assert set(changed_tiles(old, new)) == after - before


def test_changed_tiles_for_small_growth() -> None:
    assert changed_tiles(300, 301) == [Tile(0, 1, 45)]
    assert changed_tiles(511, 512) == [Tile(0, 1), Tile(1, 0, 2)]


# --- Contents -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_tree() -> tuple[MemoryTree, list[bytes]]:
    # 2 * 65536 + 300 leaves: full and partial tiles at levels 0 and 1, a partial one at level 2.
    entries = [f"entry {i}".encode() for i in range(2 * 256 * 256 + 300)]
    return MemoryTree(leaf_hash(e) for e in entries), entries


def test_tile_contents_match_the_tree(big_tree: tuple[MemoryTree, list[bytes]]) -> None:
    tree, entries = big_tree
    size = tree.size
    for tile in tiles_for_size(size):
        if tile.level == 0 and 3 <= tile.index < 510:
            continue  # the middle of level 0 adds time, not coverage
        hashes = tile_hashes(tree, tile)
        assert len(hashes) == tile.width
        if tile.level == 0:
            start = tile.index * TILE_WIDTH
            assert hashes == [leaf_hash(e) for e in entries[start : start + tile.width]]
        if tile.width == TILE_WIDTH:
            # A full tile's root is the matching hash in the tile one level up.
            parent = Tile(tile.level + 1, tile.index // TILE_WIDTH)
            assert tree.get_hashes(8 * parent.level, tile.index, tile.index + 1) == [
                root_hash(hashes)
            ]
        assert decode_tile(encode_tile(hashes), tile.width) == hashes


def test_root_from_tiles(big_tree: tuple[MemoryTree, list[bytes]]) -> None:
    # A client holding only the tiles can rebuild the root: level-2 partial tile, then the
    # partial tiles below it, all combined right to left.
    tree, _ = big_tree
    size = tree.size
    top = tile_hashes(tree, Tile(2, 0, tile_width(2, 0, size)))
    mid = tile_hashes(tree, Tile(1, 2, tile_width(1, 2, size)))
    low = tile_hashes(tree, Tile(0, 2 * 256 + 1, tile_width(0, 2 * 256 + 1, size)))
    assert (len(top), len(mid), len(low)) == (2, 1, 44)
    span0 = root_hash(top)  # the first 2 * 65536 leaves
    span1 = root_hash(mid)  # next 256 leaves
    span2 = root_hash(low)  # last 44 leaves
    assert node_hash(span0, node_hash(span1, span2)) == tree.root()
    assert inclusion_proof(tree, size - 1, size)[-1] == span0


def test_partial_tile_beyond_the_tree_is_missing(big_tree: tuple[MemoryTree, list[bytes]]) -> None:
    tree, _ = big_tree
    with pytest.raises(MissingNodeError):
        tile_hashes(tree, Tile(0, 2 * 256 + 1, 45))


def test_tile_bytes_are_strict() -> None:
    h = leaf_hash(b"x")
    assert encode_tile([h, h]) == h + h
    with pytest.raises(TileFormatError):
        encode_tile([])
    with pytest.raises(TileFormatError):
        encode_tile([h] * 257)
    with pytest.raises(TileFormatError):
        encode_tile([h[:31]])
    with pytest.raises(TileFormatError):
        decode_tile(h * 3, 2)
    with pytest.raises(TileFormatError):
        decode_tile(h * 256 + h)


def test_entry_bundle_encoding() -> None:
    entries = [b"", b"a", b"\x00" * 300, b"z" * 0xFFFF]
    data = encode_entry_bundle(entries)
    assert data[:2] == b"\x00\x00"
    assert data[2:5] == b"\x00\x01a"
    assert data[5:7] == (300).to_bytes(2, "big")
    assert decode_entry_bundle(data, width=4) == entries
    with pytest.raises(TileFormatError):
        encode_entry_bundle([b"z" * 0x10000])
    with pytest.raises(TileFormatError):
        encode_entry_bundle([])
    with pytest.raises(TileFormatError, match="length prefix"):
        decode_entry_bundle(b"\x00\x01a\x00")
    with pytest.raises(TileFormatError, match="inside an entry"):
        decode_entry_bundle(b"\x00\x02a")
    with pytest.raises(TileFormatError, match="expected 2"):
        decode_entry_bundle(b"\x00\x01a", width=2)
    with pytest.raises(TileFormatError, match="more than"):
        decode_entry_bundle(b"\x00\x00" * 257)


def test_entry_bundle_hashes_to_level_0_tile(big_tree: tuple[MemoryTree, list[bytes]]) -> None:
    tree, entries = big_tree
    bundle = EntryBundle(2 * 256 + 1, tile_width(0, 2 * 256 + 1, tree.size))
    start = bundle.index * TILE_WIDTH
    data = encode_entry_bundle(entries[start : start + bundle.width])
    decoded = decode_entry_bundle(data, bundle.width)
    assert [leaf_hash(e) for e in decoded] == tile_hashes(tree, Tile(0, bundle.index, bundle.width))
