"""PDF label sheets: valid PDF, every QR decodes to its label, identifiers printed, streamed."""

from __future__ import annotations

import pypdfium2 as pdfium
import zxingcpp

from app.labels.sheet import A4_LAYOUT, Label, iter_label_sheet_pdf


def labels(count: int, lot: str = "LOT(7)/A") -> list[Label]:
    return [
        Label(
            content=f"https://brand.example.test/01/06901234567892/10/{lot}/21/S{i:05d}",
            lines=("(01) 06901234567892", f"(10) {lot}", f"(21) S{i:05d}"),
        )
        for i in range(count)
    ]


def test_every_label_on_every_page_decodes_and_is_captioned() -> None:
    items = labels(30)
    document = pdfium.PdfDocument(b"".join(iter_label_sheet_pdf(items)))
    assert len(document) == 2  # 24 labels on the first page, 6 on the second
    decoded: list[str] = []
    text = ""
    for page in document:
        image = page.render(scale=3).to_pil()
        decoded += [
            result.text
            for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        ]
        text += page.get_textpage().get_text_range()
    assert sorted(decoded) == sorted(label.content for label in items)
    for label in items:
        for line in label.lines:
            assert line in text  # parentheses and slashes in lots print as they are


def test_empty_sheet_is_one_blank_valid_page() -> None:
    document = pdfium.PdfDocument(b"".join(iter_label_sheet_pdf([])))
    assert len(document) == 1


def test_output_is_streamed_page_by_page() -> None:
    pulled = 0

    def source():
        nonlocal pulled
        for label in labels(A4_LAYOUT.per_page * 3):
            pulled += 1
            yield label

    stream = iter_label_sheet_pdf(source())
    header = next(stream)
    assert header.startswith(b"%PDF-1.4")
    next(stream)  # the font
    next(stream)  # the first page's content
    assert pulled <= A4_LAYOUT.per_page + 1
    rest = b"".join(stream)
    assert rest.endswith(b"%%EOF\n")


def test_sheet_is_deterministic() -> None:
    first = b"".join(iter_label_sheet_pdf(labels(5)))
    assert first == b"".join(iter_label_sheet_pdf(labels(5)))
