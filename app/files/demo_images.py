"""Small images and documents drawn in code, for the demo and the tests (no binary files in
the repository, no image library at run time)."""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, pixel: object) -> bytes:
    """An RGB PNG whose colour at (x, y) is ``pixel(x, y)`` -> (r, g, b)."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type: none
        for x in range(width):
            rows.extend(pixel(x, y))  # type: ignore[operator]
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )


def tea_logo(size: int = 96) -> bytes:
    """A round tea-red seal with a green leaf on cream: the demo brand's logo."""
    centre = (size - 1) / 2

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        dx, dy = x - centre, y - centre
        radius = (dx * dx + dy * dy) ** 0.5
        # A leaf: an ellipse tilted 45 degrees inside the seal.
        u, v = (dx + dy) / 1.414, (dx - dy) / 1.414
        if (u / (size * 0.30)) ** 2 + (v / (size * 0.13)) ** 2 <= 1:
            return (46, 125, 50) if abs(v) > 1.2 else (200, 230, 201)
        if radius <= size * 0.47:
            return (139, 46, 26) if radius >= size * 0.40 else (250, 240, 222)
        return (255, 255, 255)

    return png(size, size, pixel)


def minimal_pdf(text: str = "Laboratory test report") -> bytes:
    """A one-page PDF with one line of (ASCII) text."""
    safe = text.encode("ascii", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 14 Tf 72 720 Td (" + safe + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)
