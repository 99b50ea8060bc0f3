"""Print-ready label sheets as PDF, written as a stream of bytes page by page.

Each label is a QR code (vector rectangles, so it prints sharp at any resolution) with its
human-readable identifiers under it in Courier. The document is produced incrementally: only
the current page is ever held in memory, plus one integer per PDF object (byte offsets for the
cross-reference table), so even an order of a million labels streams in a few megabytes.
Standard fonts (Courier) need no embedding, and GS1 character set 82 is plain ASCII, so every
identifier prints as is.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from app.labels.qr import dark_runs, encode

__all__ = ["A4_LAYOUT", "Label", "SheetLayout", "iter_label_sheet_pdf"]

MM = 72 / 25.4  # PDF points per millimetre
COURIER_ADVANCE = 0.6  # every Courier glyph is 600/1000 em wide


@dataclass(frozen=True)
class Label:
    """One label: the text its QR code carries and the lines printed under the code."""

    content: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class SheetLayout:
    """A grid of equal cells on a page; sizes in millimetres, text in points."""

    page_width: float = 210.0
    page_height: float = 297.0
    margin: float = 10.0
    columns: int = 4
    rows: int = 6
    qr_size: float = 30.0
    quiet_zone: int = 4
    font_size: float = 6.5
    ec: str = "M"

    @property
    def per_page(self) -> int:
        return self.columns * self.rows


A4_LAYOUT = SheetLayout()


def _number(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def _pdf_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"({escaped})"


def _draw_label(
    label: Label, x: float, y_top: float, cell_width: float, layout: SheetLayout
) -> str:
    """Content-stream operators for one label whose cell starts at (x, y_top) in points."""
    matrix = encode(label.content, layout.ec)
    total = matrix.width + 2 * layout.quiet_zone
    qr_points = layout.qr_size * MM
    module = qr_points / total
    left = x + (cell_width - qr_points) / 2
    ops = []
    for mx, my, run in dark_runs(matrix):
        px = left + (mx + layout.quiet_zone) * module
        py = y_top - (my + layout.quiet_zone + 1) * module
        ops.append(f"{_number(px)} {_number(py)} {_number(run * module)} {_number(module)} re")
    ops.append("f")
    baseline = y_top - qr_points - layout.font_size
    for line in label.lines:
        width = len(line) * COURIER_ADVANCE * layout.font_size
        tx = x + (cell_width - width) / 2
        ops.append(
            f"BT /F1 {_number(layout.font_size)} Tf {_number(tx)} {_number(baseline)} Td "
            f"{_pdf_string(line)} Tj ET"
        )
        baseline -= layout.font_size * 1.25
    return "\n".join(ops)


def _page_content(labels: list[Label], layout: SheetLayout) -> bytes:
    width = layout.page_width * MM
    height = layout.page_height * MM
    margin = layout.margin * MM
    cell_w = (width - 2 * margin) / layout.columns
    cell_h = (height - 2 * margin) / layout.rows
    parts = ["0 g"]
    for index, label in enumerate(labels):
        row, column = divmod(index, layout.columns)
        parts.append(
            _draw_label(
                label, margin + column * cell_w, height - margin - row * cell_h, cell_w, layout
            )
        )
    return "\n".join(parts).encode("ascii")


class _Writer:
    """Numbers objects, remembers their byte offsets and yields their bytes."""

    def __init__(self) -> None:
        self.offset = 0
        self.offsets: dict[int, int] = {}

    def emit(self, data: bytes) -> bytes:
        self.offset += len(data)
        return data

    def obj(self, number: int, body: bytes) -> bytes:
        self.offsets[number] = self.offset
        return self.emit(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")


def iter_label_sheet_pdf(
    labels: Iterable[Label], layout: SheetLayout = A4_LAYOUT, *, title: str = "Labels"
) -> Iterator[bytes]:
    """Yield a PDF document of ``labels`` on as many pages as needed, one page at a time.

    An empty ``labels`` gives one blank page (a PDF needs at least one page to be valid).
    """
    if not title.isascii():
        raise ValueError("the title must be ASCII")
    writer = _Writer()
    catalog, pages, font, info = 1, 2, 3, 4
    next_number = 5
    yield writer.emit(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    yield writer.obj(
        font, b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>"
    )
    media_box = f"[0 0 {_number(layout.page_width * MM)} {_number(layout.page_height * MM)}]"
    page_numbers: list[int] = []

    def page(batch: list[Label]) -> Iterator[bytes]:
        nonlocal next_number
        page_number, content_number = next_number, next_number + 1
        next_number += 2
        page_numbers.append(page_number)
        stream = zlib.compress(_page_content(batch, layout), 6)
        yield writer.obj(
            content_number,
            f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode()
            + stream
            + b"\nendstream",
        )
        yield writer.obj(
            page_number,
            (
                f"<< /Type /Page /Parent {pages} 0 R /MediaBox {media_box} "
                f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {content_number} 0 R >>"
            ).encode(),
        )

    batch: list[Label] = []
    for label in labels:
        batch.append(label)
        if len(batch) == layout.per_page:
            yield from page(batch)
            batch = []
    if batch or not page_numbers:
        yield from page(batch)

    kids = " ".join(f"{number} 0 R" for number in page_numbers)
    yield writer.obj(
        pages, f"<< /Type /Pages /Kids [{kids}] /Count {len(page_numbers)} >>".encode()
    )
    yield writer.obj(catalog, f"<< /Type /Catalog /Pages {pages} 0 R >>".encode())
    yield writer.obj(info, f"<< /Title {_pdf_string(title)} /Producer (brandtrace) >>".encode())
    xref_at = writer.offset
    count = next_number
    lines = [f"xref\n0 {count}\n", "0000000000 65535 f \n"]
    lines += [f"{writer.offsets[number]:010d} 00000 n \n" for number in range(1, count)]
    lines.append(
        f"trailer\n<< /Size {count} /Root {catalog} 0 R /Info {info} 0 R >>\n"
        f"startxref\n{xref_at}\n%%EOF\n"
    )
    yield writer.emit("".join(lines).encode())
