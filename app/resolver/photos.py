"""Shoppers' photos keep no metadata: a phone's JPEG carries the place it was taken (GPS in
its Exif block), its serial number and more, and a report needs none of it.

Pure module: JPEG segments are read by their markers and the metadata segments (APP1 Exif
and XMP, APP13 IPTC, comments) are dropped; the image data is untouched.
"""

from __future__ import annotations

_SOI = b"\xff\xd8"
_DROPPED = frozenset({0xE1, 0xED, 0xFE})  # APP1 (Exif, XMP), APP13 (IPTC), COM
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_SOS = 0xDA


def strip_jpeg_metadata(data: bytes) -> bytes:
    """``data`` without its metadata segments; unchanged when it is not a well-formed JPEG
    (the upload checks refuse what is not an image)."""
    if not data.startswith(_SOI):
        return data
    out = bytearray(_SOI)
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return data
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _STANDALONE:
            out += data[position : position + 2]
            position += 2
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if length < 2 or position + 2 + length > len(data):
            return data
        if marker == _SOS:
            out += data[position:]  # the entropy-coded image to the end
            return bytes(out)
        if marker not in _DROPPED:
            out += data[position : position + 2 + length]
        position += 2 + length
    return data
