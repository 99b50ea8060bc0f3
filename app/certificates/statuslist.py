"""W3C Bitstring Status List v1.0: the bits, their encoding, and the documents that carry them.

Pure module (standard library only). Conventions from the spec:

- bit ``i`` is ``0x80 >> (i % 8)`` of byte ``i // 8`` (most significant bit first);
- a list holds at least 131,072 bits (16 KiB) so one credential hides in the crowd;
- ``encodedList`` = ``"u"`` + base64url-no-padding(GZIP(bytes)).

brandtrace keeps separate lists for ``revocation`` (final) and ``suspension`` (reversible), and
assigns indices in an order nobody can predict (a keyed pseudo-random permutation of each list,
see :mod:`app.certificates.status`) so neighbouring indices reveal nothing.
Signing the list credential is :mod:`app.certificates.dataintegrity`'s job.
"""

from __future__ import annotations

import random
import re
import secrets
import zlib
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from app.certificates.multibase import MultibaseError, b64url_decode, b64url_encode

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MIN_BITS",
    "STATUS_PURPOSES",
    "Bitstring",
    "StatusListError",
    "build_status_list_credential",
    "build_status_list_entry",
    "check_status",
    "decode",
    "random_free_index",
]

MIN_BITS = 131_072
# Cap on the decompressed list: 16 MiB = 134 million entries, far above any real list, and a
# gzip bomb stops there instead of exhausting memory.
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
STATUS_PURPOSES = ("revocation", "suspension")
VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"

# zlib's default level; it is what produced the spec's example encodings, and a fixed level
# keeps re-encoding the same bits stable.
_GZIP_LEVEL = 6
_GZIP_WBITS = 31  # 16 + MAX_WBITS: gzip wrapper, header mtime 0, no file name
_INDEX_RE = re.compile(r"[0-9]{1,15}")  # bounded: int() of huge strings is slow


class StatusListError(ValueError):
    """A status list or entry is unusable; ``code`` uses the spec's error names.

    Codes: ``STATUS_LIST_LENGTH_ERROR``, ``STATUS_LIST_DECODING_ERROR``, ``RANGE_ERROR``,
    ``STATUS_VERIFICATION_ERROR``, ``STATUS_LIST_FULL``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message  # without the code, for reports that show the code apart


class Bitstring:
    """A fixed-size list of status bits, all clear at creation."""

    __slots__ = ("_bits",)

    def __init__(self, size: int = MIN_BITS) -> None:
        """Create ``size`` clear bits; ``size`` is a multiple of 8 and at least 131,072."""
        _check_size(size)
        self._bits = bytearray(size // 8)

    @classmethod
    def from_bytes(cls, data: bytes) -> Bitstring:
        """Wrap raw (decompressed) list bytes, enforcing the minimum length."""
        _check_size(len(data) * 8)
        bitstring = cls.__new__(cls)
        bitstring._bits = bytearray(data)
        return bitstring

    @property
    def size(self) -> int:
        """Number of bits."""
        return len(self._bits) * 8

    def _locate(self, index: int) -> tuple[int, int]:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError("status list index must be an int")
        if not 0 <= index < self.size:
            raise IndexError(f"status list index {index} outside 0..{self.size - 1}")
        return index // 8, 0x80 >> (index % 8)

    def get(self, index: int) -> bool:
        """Whether bit ``index`` is set."""
        byte, mask = self._locate(index)
        return bool(self._bits[byte] & mask)

    def set(self, index: int, value: bool) -> None:
        """Set (``True``) or clear (``False``) bit ``index``."""
        byte, mask = self._locate(index)
        if value:
            self._bits[byte] |= mask
        else:
            self._bits[byte] &= ~mask & 0xFF

    def set_indices(self) -> Iterator[int]:
        """Indices of the set bits, ascending."""
        for byte_index, byte in enumerate(self._bits):
            if byte:
                for bit in range(8):
                    if byte & (0x80 >> bit):
                        yield byte_index * 8 + bit

    def to_bytes(self) -> bytes:
        """The raw bytes, most significant bit first."""
        return bytes(self._bits)

    def encode(self) -> str:
        """The spec's ``encodedList``: ``"u"`` + base64url(GZIP(bytes)); deterministic."""
        return "u" + b64url_encode(zlib.compress(self._bits, _GZIP_LEVEL, wbits=_GZIP_WBITS))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bitstring):
            return NotImplemented
        return self._bits == other._bits

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable

    def __repr__(self) -> str:
        return f"Bitstring(size={self.size}, set={sum(1 for _ in self.set_indices())})"


def _check_size(bits: int) -> None:
    if bits < MIN_BITS or bits % 8:
        raise StatusListError(
            "STATUS_LIST_LENGTH_ERROR",
            f"a status list needs a multiple of 8 bits, at least {MIN_BITS}; got {bits}",
        )


def decode(encoded_list: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Bitstring:
    """Decode an ``encodedList``; only the multibase ``u`` (base64url, no padding) form is valid.

    Decompression stops after ``max_bytes`` so a gzip bomb is rejected, not expanded.
    Raises :class:`StatusListError`.
    """
    if not isinstance(encoded_list, str) or not encoded_list.startswith("u"):
        raise StatusListError(
            "STATUS_LIST_DECODING_ERROR", "encodedList must be multibase base64url ('u' prefix)"
        )
    try:
        compressed = b64url_decode(encoded_list[1:])
    except MultibaseError as exc:
        raise StatusListError("STATUS_LIST_DECODING_ERROR", str(exc)) from exc
    inflater = zlib.decompressobj(wbits=_GZIP_WBITS)
    try:
        data = inflater.decompress(compressed, max_bytes + 1)
    except zlib.error as exc:
        raise StatusListError("STATUS_LIST_DECODING_ERROR", f"not GZIP data: {exc}") from exc
    if len(data) > max_bytes:
        raise StatusListError(
            "STATUS_LIST_LENGTH_ERROR", f"decompressed list exceeds {max_bytes} bytes"
        )
    if not inflater.eof:
        raise StatusListError("STATUS_LIST_DECODING_ERROR", "GZIP stream is truncated")
    if inflater.unused_data:
        raise StatusListError("STATUS_LIST_DECODING_ERROR", "trailing data after GZIP stream")
    return Bitstring.from_bytes(data)


def random_free_index(
    used: Collection[int], size: int = MIN_BITS, *, rng: random.Random | None = None
) -> int:
    """A uniformly random index in ``0..size-1`` not in ``used`` (indices already assigned).

    Takes the set of *assigned* indices, not a :class:`Bitstring`: a clear bit also belongs to
    every credential in good standing, so the bits cannot tell which indices are free.
    ``rng`` defaults to the OS CSPRNG. Raises ``StatusListError`` (``STATUS_LIST_FULL``).
    """
    rng = rng or secrets.SystemRandom()
    taken = used if isinstance(used, set | frozenset) else set(used)
    free_count = size - sum(1 for i in taken if 0 <= i < size)
    if free_count <= 0:
        raise StatusListError("STATUS_LIST_FULL", f"all {size} indices are assigned")
    if free_count * 2 >= size:
        # Mostly empty: rejection sampling needs fewer than two draws on average.
        while True:
            candidate = rng.randrange(size)
            if candidate not in taken:
                return candidate
    # Crowded: pick the k-th free index directly so the loop cannot run long.
    target = rng.randrange(free_count)
    for candidate in range(size):
        if candidate not in taken:
            if target == 0:
                return candidate
            target -= 1
    raise AssertionError("unreachable: free_count was positive")  # pragma: no cover


def _check_purpose(status_purpose: str) -> None:
    if status_purpose not in STATUS_PURPOSES:
        raise StatusListError(
            "STATUS_VERIFICATION_ERROR",
            f"statusPurpose {status_purpose!r} is not one of {', '.join(STATUS_PURPOSES)}",
        )


def build_status_list_credential(
    *,
    list_url: str,
    issuer: str,
    status_purpose: str,
    encoded_list: str,
    valid_from: str,
    valid_until: str | None = None,
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` published at ``list_url``."""
    _check_purpose(status_purpose)
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
    }
    if valid_until is not None:
        credential["validUntil"] = valid_until
    credential["credentialSubject"] = {
        "id": f"{list_url}#list",
        "type": "BitstringStatusList",
        "statusPurpose": status_purpose,
        "encodedList": encoded_list,
    }
    return credential


def build_status_list_entry(*, list_url: str, index: int, status_purpose: str) -> dict[str, Any]:
    """The ``credentialStatus`` entry pointing at bit ``index`` of the list at ``list_url``."""
    _check_purpose(status_purpose)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise StatusListError("RANGE_ERROR", f"statusListIndex must be an int >= 0, got {index!r}")
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": status_purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def check_status(
    entry: Mapping[str, Any],
    status_list_credential: Mapping[str, Any],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    bitstring: Bitstring | None = None,
) -> bool:
    """Whether the entry's bit is set (revoked or suspended, per its purpose), offline.

    Checks that the entry names this list and the same purpose, that the index is in range,
    and decodes the list. It does not verify the list credential's proof or validity period;
    do that first. A verifier checking many entries against one list passes the list's
    ``bitstring``, decoded once, instead of decoding it per entry. Raises
    :class:`StatusListError`.
    """
    if entry.get("type") != "BitstringStatusListEntry":
        raise StatusListError(
            "STATUS_VERIFICATION_ERROR", "entry is not a BitstringStatusListEntry"
        )
    if entry.get("statusListCredential") != status_list_credential.get("id"):
        raise StatusListError(
            "STATUS_VERIFICATION_ERROR", "entry points at a different status list credential"
        )
    subject = status_list_credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != "BitstringStatusList":
        raise StatusListError("STATUS_VERIFICATION_ERROR", "credentialSubject is not a list")
    purpose = entry.get("statusPurpose")
    _check_purpose(str(purpose))
    if subject.get("statusPurpose") != purpose:
        raise StatusListError(
            "STATUS_VERIFICATION_ERROR",
            f"entry purpose {purpose!r} differs from list purpose {subject.get('statusPurpose')!r}",
        )
    raw_index = entry.get("statusListIndex")
    if not isinstance(raw_index, str) or not _INDEX_RE.fullmatch(raw_index):
        raise StatusListError(
            "RANGE_ERROR", f"statusListIndex {raw_index!r} is not a decimal of at most 15 digits"
        )
    if bitstring is None:
        encoded_list = subject.get("encodedList")
        if not isinstance(encoded_list, str):
            raise StatusListError("STATUS_LIST_DECODING_ERROR", "encodedList missing")
        bitstring = decode(encoded_list, max_bytes=max_bytes)
    index = int(raw_index)
    if index >= bitstring.size:
        raise StatusListError("RANGE_ERROR", f"index {index} outside a {bitstring.size}-bit list")
    return bitstring.get(index)
