"""Multibase, base58btc and Ed25519 Multikey encodings (W3C Controlled Identifiers, Data Integrity).

Pure module: standard library only, so the offline verifier can use it without the service.

- base58btc uses the Bitcoin alphabet; each leading zero byte is written as a leading ``1``.
- Multibase prefixes supported: ``z`` (base58btc) and ``u`` (base64url without padding).
- An Ed25519 public-key Multikey is ``"z" + base58btc(0xed 0x01 || 32-byte key)`` (``z6Mk...``);
  the secret-key form is ``"z" + base58btc(0x80 0x26 || 32-byte seed)`` (``z3u2...``).
"""

from __future__ import annotations

import base64
import binascii
import re

__all__ = [
    "BASE58_ALPHABET",
    "ED25519_PRIV_MULTICODEC",
    "ED25519_PUB_MULTICODEC",
    "MultibaseError",
    "b58decode",
    "b58encode",
    "b64url_decode",
    "b64url_encode",
    "decode_ed25519_multikey",
    "decode_ed25519_secret_multikey",
    "encode_ed25519_multikey",
    "encode_ed25519_secret_multikey",
    "multibase_decode",
    "multibase_encode",
]

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {ch: i for i, ch in enumerate(BASE58_ALPHABET)}

# Multicodec varint prefixes (https://github.com/multiformats/multicodec/blob/master/table.csv).
ED25519_PUB_MULTICODEC = b"\xed\x01"
ED25519_PRIV_MULTICODEC = b"\x80\x26"
# Other key types people paste by mistake; named so the error says what was given.
_KNOWN_KEY_MULTICODECS = {
    b"\xe7\x01": "secp256k1-pub",
    b"\x80\x24": "p256-pub",
    b"\x81\x24": "p384-pub",
    b"\xec\x01": "x25519-pub",
    b"\xeb\x01": "bls12_381-g2-pub",
    b"\x85\x24": "rsa-pub",
    b"\xed\x01": "ed25519-pub",
    b"\x80\x26": "ed25519-priv",
    b"\x12\x00": "p256-pub code 0x1200 written without varint encoding",
}
_ED25519_KEY_LEN = 32

_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")


class MultibaseError(ValueError):
    """A multibase, base58btc, base64url or Multikey string is malformed or of the wrong kind."""


# Ten base58 digits fit in 59 bits: converting ten at a time keeps the big-integer arithmetic
# (the slow part for 64-byte signatures) to a tenth.
_CHUNK = 10
_CHUNK_BASE = 58**_CHUNK
_B58_BYTE_VALUES = bytes(_B58_INDEX.get(chr(code), 0xFF) for code in range(256))
# Every pair of digits (58**2 = 3364 two-character strings): each ten-digit chunk is written
# with four small divisions and five lookups instead of ten of each.
_PAIR_BASE = 58 * 58
_B58_PAIRS = [high + low for high in BASE58_ALPHABET for low in BASE58_ALPHABET]


def b58encode(data: bytes) -> str:
    """Encode bytes as base58btc (Bitcoin alphabet), keeping leading zero bytes as ``1``."""
    zeros = len(data) - len(data.lstrip(b"\x00"))
    num = int.from_bytes(data, "big")
    pairs = _B58_PAIRS
    parts: list[str] = []
    append = parts.append
    while num:
        num, chunk = divmod(num, _CHUNK_BASE)
        # Operators rather than divmod() calls: these are machine-sized integers.
        d4 = chunk % _PAIR_BASE
        chunk //= _PAIR_BASE
        d3 = chunk % _PAIR_BASE
        chunk //= _PAIR_BASE
        d2 = chunk % _PAIR_BASE
        chunk //= _PAIR_BASE
        d1 = chunk % _PAIR_BASE
        append(pairs[chunk // _PAIR_BASE] + pairs[d1] + pairs[d2] + pairs[d3] + pairs[d4])
    parts.reverse()
    # The last chunk was padded with zero digits ("1"); they are not part of the number.
    return "1" * zeros + "".join(parts).lstrip("1")


def b58decode(text: str) -> bytes:
    """Decode base58btc text; raise :class:`MultibaseError` naming the first invalid character."""
    if not text.isascii():
        pos, ch = next((i, c) for i, c in enumerate(text) if not c.isascii())
        raise MultibaseError(f"invalid base58btc character {ch!r} at position {pos}")
    values = text.encode("ascii").translate(_B58_BYTE_VALUES)
    bad = values.find(0xFF)
    if bad >= 0:
        raise MultibaseError(f"invalid base58btc character {text[bad]!r} at position {bad}")
    num = 0
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        value = 0
        for digit in chunk:
            value = value * 58 + digit
        num = num * 58 ** len(chunk) + value
    zeros = len(text) - len(text.lstrip("1"))
    body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    return b"\x00" * zeros + body


def b64url_encode(data: bytes) -> str:
    """Encode bytes as base64url without padding (RFC 4648 section 5)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url strictly: padding, ``+``/``/`` and whitespace are rejected."""
    # urlsafe_b64decode silently drops unknown characters, so validate the alphabet first.
    if not _B64URL_RE.fullmatch(text):
        raise MultibaseError("invalid base64url (unpadded) text")
    if len(text) % 4 == 1:
        raise MultibaseError("invalid base64url length")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:  # pragma: no cover - excluded by the checks above
        raise MultibaseError(f"invalid base64url: {exc}") from exc


def multibase_encode(data: bytes, base: str = "z") -> str:
    """Encode bytes as multibase: ``"z"`` base58btc or ``"u"`` base64url (no padding)."""
    if base == "z":
        return "z" + b58encode(data)
    if base == "u":
        return "u" + b64url_encode(data)
    raise MultibaseError(f"unsupported multibase prefix {base!r} (supported: 'z', 'u')")


def multibase_decode(text: str, *, expect: str | None = None) -> bytes:
    """Decode a ``z`` or ``u`` multibase string; with ``expect``, only that prefix is accepted."""
    if not isinstance(text, str) or not text:
        raise MultibaseError("multibase value must be a non-empty string")
    prefix, body = text[0], text[1:]
    if expect is not None and prefix != expect:
        raise MultibaseError(f"expected multibase prefix {expect!r}, got {prefix!r}")
    if prefix == "z":
        return b58decode(body)
    if prefix == "u":
        return b64url_decode(body)
    raise MultibaseError(f"unsupported multibase prefix {prefix!r} (supported: 'z', 'u')")


def _decode_multikey(text: str, codec: bytes, what: str) -> bytes:
    raw = multibase_decode(text, expect="z")
    header = raw[:2]
    if header != codec:
        name = _KNOWN_KEY_MULTICODECS.get(header, f"unknown multicodec 0x{header.hex()}")
        raise MultibaseError(f"not an {what} Multikey: multicodec is {name}")
    key = raw[2:]
    if len(key) != _ED25519_KEY_LEN:
        raise MultibaseError(f"{what} Multikey must hold 32 key bytes, got {len(key)}")
    return key


def _check_key_len(raw: bytes) -> None:
    if len(raw) != _ED25519_KEY_LEN:
        raise MultibaseError(f"Ed25519 key must be 32 bytes, got {len(raw)}")


def encode_ed25519_multikey(public_key: bytes) -> str:
    """Multikey (``z6Mk...``) for a raw 32-byte Ed25519 public key."""
    _check_key_len(public_key)
    return multibase_encode(ED25519_PUB_MULTICODEC + public_key, "z")


def decode_ed25519_multikey(text: str) -> bytes:
    """Raw 32-byte Ed25519 public key from a Multikey; other key types raise naming their codec."""
    return _decode_multikey(text, ED25519_PUB_MULTICODEC, "Ed25519 public")


def encode_ed25519_secret_multikey(seed: bytes) -> str:
    """Secret-key Multikey (``z3u2...``) for a raw 32-byte Ed25519 private key (seed)."""
    _check_key_len(seed)
    return multibase_encode(ED25519_PRIV_MULTICODEC + seed, "z")


def decode_ed25519_secret_multikey(text: str) -> bytes:
    """Raw 32-byte Ed25519 private key (seed) from a secret-key Multikey."""
    return _decode_multikey(text, ED25519_PRIV_MULTICODEC, "Ed25519 secret")
