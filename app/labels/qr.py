"""QR codes for labels, rendered as PNG or SVG, byte-for-byte deterministic.

The ``qrcode`` package computes the module matrix (version, mask and segments are chosen
deterministically from the content and error-correction level); this module draws it. PNG is
written directly (1-bit greyscale, zlib) so rendering needs no imaging library and the same
input always gives the same bytes, which lets the HTTP layer use a content hash as ETag.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from xml.sax.saxutils import escape

import qrcode
import qrcode.constants

__all__ = [
    "DEFAULT_BORDER",
    "DEFAULT_SCALE",
    "EC_LEVELS",
    "QRMatrix",
    "encode",
    "render_png",
    "render_svg",
    "scale_for_size",
]

EC_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
#: ISO/IEC 18004 asks for a quiet zone of 4 modules around the symbol.
DEFAULT_BORDER = 4
DEFAULT_SCALE = 8


@dataclass(frozen=True)
class QRMatrix:
    """A QR symbol without its quiet zone: ``rows[y][x]`` is True for a dark module."""

    rows: tuple[tuple[bool, ...], ...]
    version: int
    ec: str

    @property
    def width(self) -> int:
        """Modules per side (21 for version 1, +4 per version)."""
        return len(self.rows)


def encode(content: str, ec: str = "M") -> QRMatrix:
    """The QR symbol for ``content`` at error-correction level ``ec`` (L, M, Q or H), in the
    smallest version that holds it."""
    if ec not in EC_LEVELS:
        raise ValueError(f"error-correction level must be one of L, M, Q, H, not {ec!r}")
    code = qrcode.QRCode(version=None, error_correction=EC_LEVELS[ec], border=0)
    code.add_data(content)
    code.make(fit=True)
    rows = tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())
    return QRMatrix(rows=rows, version=int(code.version), ec=ec)


def scale_for_size(matrix: QRMatrix, size: int | None, border: int = DEFAULT_BORDER) -> int:
    """Whole pixels per module so that the image is at most ``size`` pixels wide (at least 1
    pixel per module; ``DEFAULT_SCALE`` when no size is asked for). Whole pixels keep module
    edges sharp, which scanners need."""
    if size is None:
        return DEFAULT_SCALE
    return max(1, size // (matrix.width + 2 * border))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def render_png(
    matrix: QRMatrix, *, scale: int = DEFAULT_SCALE, border: int = DEFAULT_BORDER
) -> bytes:
    """A 1-bit greyscale PNG: ``scale`` pixels per module, ``border`` modules of quiet zone."""
    if scale < 1 or border < 0:
        raise ValueError("scale must be >= 1 and border >= 0")
    total = matrix.width + 2 * border
    side = total * scale
    padding = "0" * (-side % 8)
    light_row = b"\x00" + int("1" * side + padding, 2).to_bytes((side + 7) // 8, "big")
    quiet = light_row * (border * scale)
    lines = [quiet]
    for row in matrix.rows:
        bits = "1" * (border * scale)
        bits += "".join(("0" if dark else "1") * scale for dark in row)
        bits += "1" * (border * scale) + padding
        line = b"\x00" + int(bits, 2).to_bytes((side + 7) // 8, "big")
        lines.append(line * scale)
    lines.append(quiet)
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(lines), 9))
        + _chunk(b"IEND", b"")
    )


def dark_runs(matrix: QRMatrix) -> list[tuple[int, int, int]]:
    """Horizontal runs of dark modules as (x, y, length), row by row: what vector renderers
    draw (one rectangle per run instead of per module)."""
    runs = []
    for y, row in enumerate(matrix.rows):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append((start, y, x - start))
            else:
                x += 1
    return runs


def render_svg(
    matrix: QRMatrix,
    *,
    size: int | None = None,
    border: int = DEFAULT_BORDER,
    title: str | None = None,
) -> str:
    """An SVG in module units (one path), ``size`` pixels wide (default 8 per module)."""
    if border < 0:
        raise ValueError("border must be >= 0")
    total = matrix.width + 2 * border
    pixels = size if size is not None else total * DEFAULT_SCALE
    path = "".join(f"M{x + border} {y + border}h{n}v1h-{n}z" for x, y, n in dark_runs(matrix))
    label = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 {total} {total}" '
        f'width="{pixels}" height="{pixels}" shape-rendering="crispEdges" role="img">'
        f'{label}<rect width="{total}" height="{total}" fill="#fff"/>'
        f'<path fill="#000" d="{path}"/></svg>\n'
    )
