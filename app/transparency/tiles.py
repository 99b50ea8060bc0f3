"""c2sp.org/tlog-tiles: tile and entry-bundle paths, which tiles a tree has, and their contents.

A tile at tile level L holds up to 256 consecutive Merkle node hashes from tree level 8*L (tile
height 8): hash i of tile N is the complete subtree (8*L, N*256 + i). Full tiles hold 256 hashes,
the rightmost ones may be partial (1-255 hashes, path suffix ``.p/<W>``).

Pure module: standard library only, no Flask, no database, no network.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from app.transparency.merkle import HASH_SIZE, HashReader, MissingNodeError

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes, 8,192 bytes per full tile
MAX_LEVEL = 63
MAX_ENTRY_SIZE = 0xFFFF  # entries are uint16 length-prefixed in bundles
_MAX_INDEX = 2**64  # tree sizes are uint64 in every log format we interoperate with


class TilePathError(ValueError):
    """A tile or entry-bundle path is not in the canonical c2sp.org/tlog-tiles form."""


class TileFormatError(ValueError):
    """Tile or entry-bundle bytes are malformed."""


@dataclass(frozen=True, slots=True)
class Tile:
    """A Merkle hash tile: tile ``level`` L, ``index`` N, ``width`` W (256 = full)."""

    level: int
    index: int
    width: int = TILE_WIDTH

    @property
    def path(self) -> str:
        """The tile's path ``tile/<L>/<N>[.p/<W>]``."""
        return tile_path(self.level, self.index, self.width)


@dataclass(frozen=True, slots=True)
class EntryBundle:
    """A bundle of log entries: ``index`` N of level 0, ``width`` W entries (256 = full)."""

    index: int
    width: int = TILE_WIDTH

    @property
    def path(self) -> str:
        """The bundle's path ``tile/entries/<N>[.p/<W>]``."""
        return entries_path(self.index, self.width)


def _check_width(width: int) -> None:
    if not 1 <= width <= TILE_WIDTH:
        raise TilePathError(f"tile width {width} is outside 1..{TILE_WIDTH}")


def encode_index(index: int) -> str:
    """Tile index N as 3-digit path elements, all but the last prefixed with ``x``.

    1234067 -> ``x001/x234/067``; 5 -> ``005``.
    """
    if not 0 <= index < _MAX_INDEX:
        raise TilePathError(f"tile index {index} is out of range")
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


def _suffix(width: int) -> str:
    _check_width(width)
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """Path of a hash tile: ``tile/<L>/<N>`` plus ``.p/<W>`` when partial (1 <= W < 256)."""
    if not 0 <= level <= MAX_LEVEL:
        raise TilePathError(f"tile level {level} is outside 0..{MAX_LEVEL}")
    return f"tile/{level}/{encode_index(index)}{_suffix(width)}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """Path of an entry bundle: ``tile/entries/<N>`` plus ``.p/<W>`` when partial."""
    return f"tile/entries/{encode_index(index)}{_suffix(width)}"


# Lenient shape only; canonical form (no leading zeros, x prefixes, width range) is enforced by
# re-encoding the parsed values and comparing, so there is a single spelling per resource.
_PATH_RE = re.compile(
    r"tile/(?P<level>entries|[0-9]{1,2})/(?P<index>(?:x[0-9]{3}/){0,6}[0-9]{3})"
    r"(?:\.p/(?P<width>[0-9]{1,3}))?"
)


def parse_tile_path(path: str) -> Tile | EntryBundle:
    """Parse ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]`` (no URL prefix).

    Rejects anything but the canonical encoding (leading zeros in L or W, W of 0 or >= 256,
    missing ``x`` prefixes, redundant leading ``x000`` groups) with :class:`TilePathError`.
    """
    match = _PATH_RE.fullmatch(path)
    if match is None:
        raise TilePathError(
            f"{path!r} is not a tile path: "
            "expected tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]"
        )
    index = int(match["index"].replace("x", "").replace("/", ""))
    width = TILE_WIDTH if match["width"] is None else int(match["width"])
    if match["width"] is not None and width >= TILE_WIDTH:
        raise TilePathError(f"{path!r}: partial tile width {width} must be below {TILE_WIDTH}")
    parsed: Tile | EntryBundle
    try:
        if match["level"] == "entries":
            parsed = EntryBundle(index, width)
        else:
            parsed = Tile(int(match["level"]), index, width)
        canonical = parsed.path
    except TilePathError as exc:
        raise TilePathError(f"{path!r}: {exc}") from exc
    if canonical != path:
        raise TilePathError(f"non-canonical tile path {path!r} (expected {canonical!r})")
    return parsed


# --- Which tiles a tree has -----------------------------------------------------------------


def tile_width(level: int, index: int, size: int) -> int:
    """Width of tile (``level``, ``index``) in a tree of ``size`` leaves; 0 if it does not exist."""
    hashes = size >> (TILE_HEIGHT * level)  # complete nodes at tree level 8*level
    return max(0, min(TILE_WIDTH, hashes - index * TILE_WIDTH))


def tiles_for_size(size: int) -> Iterator[Tile]:
    """Every hash tile (full, then the partial one) at each level of a tree of ``size`` leaves.

    A tree of 70,000 leaves has 273 full and one 112-wide tile at level 0, one full and one
    17-wide at level 1, and one 1-wide at level 2 (the spec's example).
    """
    if size < 0:
        raise ValueError(f"negative tree size {size}")
    level = 0
    while (hashes := size >> (TILE_HEIGHT * level)) > 0:
        for index in range(hashes // TILE_WIDTH):
            yield Tile(level, index)
        if hashes % TILE_WIDTH:
            yield Tile(level, hashes // TILE_WIDTH, hashes % TILE_WIDTH)
        level += 1


def changed_tiles(old_size: int, new_size: int) -> list[Tile]:
    """Tiles a log must publish when it grows from ``old_size`` to ``new_size``.

    Only the tiles whose width differs between the two sizes, so O(number of new tiles), not
    O(size): partial tiles of the new checkpoint and tiles that became full.
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"tree sizes must satisfy 0 <= {old_size} <= {new_size}")
    result: list[Tile] = []
    level = 0
    while (new_hashes := new_size >> (TILE_HEIGHT * level)) > 0:
        old_hashes = old_size >> (TILE_HEIGHT * level)
        for index in range(old_hashes // TILE_WIDTH, (new_hashes - 1) // TILE_WIDTH + 1):
            width = tile_width(level, index, new_size)
            if width != tile_width(level, index, old_size):
                result.append(Tile(level, index, width))
        level += 1
    return result


# --- Tile and bundle contents ---------------------------------------------------------------


def tile_hashes(reader: HashReader, tile: Tile) -> list[bytes]:
    """The node hashes of ``tile``, read in one range request from the stored complete nodes."""
    start = tile.index * TILE_WIDTH
    hashes = list(reader.get_hashes(TILE_HEIGHT * tile.level, start, start + tile.width))
    if len(hashes) != tile.width:
        raise MissingNodeError(f"tile {tile.path} needs {tile.width} hashes, got {len(hashes)}")
    return hashes


def encode_tile(hashes: Sequence[bytes]) -> bytes:
    """Tile body: the hashes concatenated (32 bytes each, 1 to 256 of them)."""
    if not 1 <= len(hashes) <= TILE_WIDTH:
        raise TileFormatError(f"a tile holds 1..{TILE_WIDTH} hashes, got {len(hashes)}")
    if any(len(h) != HASH_SIZE for h in hashes):
        raise TileFormatError(f"tile hashes must be {HASH_SIZE} bytes")
    return b"".join(hashes)


def decode_tile(data: bytes, width: int = TILE_WIDTH) -> list[bytes]:
    """Split a tile body of ``width`` hashes, rejecting a body of the wrong length."""
    _check_width(width)
    if len(data) != width * HASH_SIZE:
        raise TileFormatError(f"tile of width {width} must be {width * HASH_SIZE} bytes")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Entry bundle body: each entry as a big-endian uint16 length followed by its bytes."""
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise TileFormatError(f"a bundle holds 1..{TILE_WIDTH} entries, got {len(entries)}")
    parts: list[bytes] = []
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise TileFormatError(f"entry of {len(entry)} bytes exceeds {MAX_ENTRY_SIZE}")
        parts.append(len(entry).to_bytes(2, "big") + entry)
    return b"".join(parts)


def decode_entry_bundle(data: bytes, width: int | None = None) -> list[bytes]:
    """Parse an entry bundle; with ``width``, also require exactly that many entries."""
    entries: list[bytes] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise TileFormatError("entry bundle ends inside a length prefix")
        length = int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        if pos + length > len(data):
            raise TileFormatError("entry bundle ends inside an entry")
        entries.append(data[pos : pos + length])
        pos += length
    if width is not None and len(entries) != width:
        raise TileFormatError(f"entry bundle has {len(entries)} entries, expected {width}")
    if len(entries) > TILE_WIDTH:
        raise TileFormatError(f"entry bundle has more than {TILE_WIDTH} entries")
    return entries
