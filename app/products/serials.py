"""Unguessable serial numbers for unit codes (GS1 AI 21).

Serials are 14 characters of Crockford's base-32 alphabet (digits and upper-case letters
without I, L, O and U, which people confuse with 1 and 0 or read as words): 70 bits drawn from
the operating system's CSPRNG. All characters are in GS1 character set 82 and in the unreserved
URI set, so a serial is never percent-encoded in a Digital Link URI and prints unambiguously.
Pure module: standard library only.
"""

from __future__ import annotations

import base64
import math
import secrets

__all__ = ["SERIAL_ALPHABET", "SERIAL_BITS", "SERIAL_LENGTH", "draw_serials"]

SERIAL_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SERIAL_LENGTH = 14
SERIAL_BITS = int(SERIAL_LENGTH * math.log2(len(SERIAL_ALPHABET)))  # 70

# base64.b32encode turns every 5 random bytes into 8 characters of 5 uniform bits each (in C,
# which is what makes drawing a million serials take well under a second); translating its
# alphabet to Crockford's keeps each character uniform.
_RFC4648 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TO_CROCKFORD = bytes.maketrans(_RFC4648, SERIAL_ALPHABET.encode("ascii"))
_BYTES_PER_SERIAL = 10  # 16 base-32 characters, of which the first 14 are used


def draw_serials(count: int) -> list[str]:
    """``count`` distinct random serials (distinct within the call; uniqueness per GTIN across
    calls is the database's unique constraint)."""
    serials: list[str] = []
    seen: set[str] = set()
    while len(serials) < count:
        missing = count - len(serials)
        encoded = base64.b32encode(secrets.token_bytes(_BYTES_PER_SERIAL * missing))
        text = encoded.translate(_TO_CROCKFORD).decode("ascii")
        for start in range(0, 16 * missing, 16):
            serial = text[start : start + SERIAL_LENGTH]
            if serial not in seen:
                seen.add(serial)
                serials.append(serial)
    return serials
