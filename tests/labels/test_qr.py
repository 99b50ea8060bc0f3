"""QR rendering: decoded by a real decoder (zxing-cpp), deterministic, options honoured."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
import resvg_py
import zxingcpp
from PIL import Image

from app.labels.qr import dark_runs, encode, render_png, render_svg, scale_for_size

URI = "https://brand.example.test/01/06901234567892/10/LOT2026-03/21/7K3M9QXN2B8WTC"


def decode_png(data: bytes) -> list[str]:
    return [
        result.text
        for result in zxingcpp.read_barcodes(
            Image.open(io.BytesIO(data)), formats=zxingcpp.BarcodeFormat.QRCode
        )
    ]


def decode_svg(svg: str) -> list[str]:
    # A real SVG renderer (resvg), then the same decoder.
    return decode_png(bytes(resvg_py.svg_to_bytes(svg_string=svg, background="#ffffff")))


@pytest.mark.parametrize("ec", ["L", "M", "Q", "H"])
def test_png_decodes_to_the_uri_at_every_error_correction_level(ec) -> None:
    matrix = encode(URI, ec)
    results = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(render_png(matrix))), formats=zxingcpp.BarcodeFormat.QRCode
    )
    assert [r.text for r in results] == [URI]
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode
    assert results[0].ec_level == ec


def test_higher_error_correction_needs_a_larger_symbol() -> None:
    assert encode(URI, "H").width > encode(URI, "L").width


@pytest.mark.parametrize("ec", ["L", "H"])
def test_svg_rasterised_decodes_to_the_uri(ec) -> None:
    assert decode_svg(render_svg(encode(URI, ec), size=400)) == [URI]


def test_png_geometry_follows_scale_and_quiet_zone() -> None:
    matrix = encode(URI)
    image = Image.open(io.BytesIO(render_png(matrix, scale=3, border=4)))
    assert image.size == ((matrix.width + 8) * 3,) * 2
    assert image.mode == "1"
    pixels = image.load()
    # The quiet zone is light all round; the top-left finder pattern starts right after it.
    assert all(pixels[x, y] for x in range(12) for y in range(image.size[1]))
    assert pixels[12, 12] == 0


def test_png_is_a_valid_png_whose_chunks_check() -> None:
    data = render_png(encode(URI), scale=2)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    offset = 8
    kinds = []
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + body) == crc
        kinds.append(kind)
        offset += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]


def test_rendering_is_deterministic() -> None:
    assert render_png(encode(URI)) == render_png(encode(URI))
    assert render_svg(encode(URI, "Q")) == render_svg(encode(URI, "Q"))
    assert render_png(encode(URI)) != render_png(encode(URI.replace("7K3M", "7K3N")))


def test_size_picks_whole_pixels_per_module_within_the_size() -> None:
    matrix = encode(URI)
    total = matrix.width + 8
    assert scale_for_size(matrix, total * 5 + 4) == 5
    assert scale_for_size(matrix, 10) == 1  # never below one pixel per module
    assert scale_for_size(matrix, None) == 8


def test_svg_without_quiet_zone_and_with_title() -> None:
    matrix = encode("x")
    svg = render_svg(matrix, border=0, title="a<b")
    assert f'viewBox="0 0 {matrix.width} {matrix.width}"' in svg
    assert "<title>a&lt;b</title>" in svg
    # Every dark module is covered by exactly one run.
    covered = {(x + i, y) for x, y, n in dark_runs(matrix) for i in range(n)}
    dark = {(x, y) for y, row in enumerate(matrix.rows) for x, cell in enumerate(row) if cell}
    assert covered == dark


@pytest.mark.parametrize("bad", [{"scale": 0}, {"border": -1}])
def test_bad_geometry_is_refused(bad) -> None:
    with pytest.raises(ValueError):
        render_png(encode("x"), **bad)


def test_unknown_error_correction_level_is_refused() -> None:
    with pytest.raises(ValueError, match="L, M, Q, H"):
        encode("x", "X")
