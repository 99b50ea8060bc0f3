"""Bitstring Status List v1.0: the spec's examples, bit order, encoding limits and documents."""

import base64
import gzip
import random
import zlib
from typing import Any

import pytest

from app.certificates.statuslist import (
    MIN_BITS,
    Bitstring,
    StatusListError,
    build_status_list_credential,
    build_status_list_entry,
    check_status,
    decode,
    random_free_index,
)

# The all-clear 131,072-bit list, as printed in the Bitstring Status List v1.0 examples.
SPEC_EMPTY_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
LIST_URL = "https://brandtrace.example/status/revocation/1"


def _encode_raw(payload: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


def test_spec_example_decodes_to_131072_clear_bits() -> None:
    bits = decode(SPEC_EMPTY_LIST)
    assert bits.size == MIN_BITS
    assert bits.to_bytes() == bytes(MIN_BITS // 8)
    assert list(bits.set_indices()) == []


def test_empty_list_encodes_as_in_the_spec() -> None:
    # Same deflate level as the spec's example; tied to zlib's deflate, which CPython bundles.
    assert Bitstring().encode() == SPEC_EMPTY_LIST


def test_bit_order_is_most_significant_first() -> None:
    bits = Bitstring()
    bits.set(0, True)
    bits.set(9, True)
    bits.set(MIN_BITS - 1, True)
    raw = bits.to_bytes()
    assert raw[0] == 0x80
    assert raw[1] == 0x40
    assert raw[-1] == 0x01
    assert list(bits.set_indices()) == [0, 9, MIN_BITS - 1]


def test_set_and_clear() -> None:
    bits = Bitstring()
    bits.set(94567, True)
    assert bits.get(94567)
    assert not bits.get(94566)
    assert not bits.get(94568)
    bits.set(94567, False)
    assert not bits.get(94567)
    assert bits == Bitstring()


def test_round_trip_and_deterministic_encoding() -> None:
    bits = Bitstring(MIN_BITS * 2)
    for index in (0, 7, 8, 1234, 94567, MIN_BITS * 2 - 1):
        bits.set(index, True)
    encoded = bits.encode()
    assert encoded.startswith("uH4sI")  # gzip magic under base64url
    assert "=" not in encoded
    decoded = decode(encoded)
    assert decoded == bits
    assert decoded.size == MIN_BITS * 2
    assert decoded.encode() == encoded


def test_gzip_header_has_zero_mtime() -> None:
    payload = base64.urlsafe_b64decode(Bitstring().encode()[1:] + "==")
    assert payload[:3] == b"\x1f\x8b\x08"
    assert payload[4:8] == b"\x00\x00\x00\x00"


def test_decodes_lists_from_other_gzip_writers() -> None:
    raw = bytearray(MIN_BITS // 8)
    raw[5] = 0x21
    encoded = _encode_raw(gzip.compress(bytes(raw), compresslevel=9, mtime=1_700_000_000))
    assert list(decode(encoded).set_indices()) == [42, 47]


@pytest.mark.parametrize("size", [8, MIN_BITS - 8, MIN_BITS + 1])
def test_size_must_be_whole_bytes_and_at_least_the_minimum(size: int) -> None:
    with pytest.raises(StatusListError) as info:
        Bitstring(size)
    assert info.value.code == "STATUS_LIST_LENGTH_ERROR"


def test_decode_rejects_a_list_below_the_minimum() -> None:
    with pytest.raises(StatusListError, match="STATUS_LIST_LENGTH_ERROR"):
        decode(_encode_raw(gzip.compress(bytes(1024), mtime=0)))


@pytest.mark.parametrize(
    "bad",
    [
        SPEC_EMPTY_LIST[1:],  # no multibase prefix
        "z" + SPEC_EMPTY_LIST[1:],
        SPEC_EMPTY_LIST + "=",  # padding
        "u" + base64.b64encode(b"\xfb\xff" * 20).decode(),  # standard alphabet
        _encode_raw(b"not gzip at all"),
        _encode_raw(zlib.compress(bytes(MIN_BITS // 8))),  # zlib, not gzip
        SPEC_EMPTY_LIST[:-8],  # truncated stream
        _encode_raw(gzip.compress(bytes(MIN_BITS // 8), mtime=0) + b"junk"),
    ],
)
def test_decode_rejects_malformed_lists(bad: str) -> None:
    with pytest.raises(StatusListError) as info:
        decode(bad)
    assert info.value.code == "STATUS_LIST_DECODING_ERROR"


def test_decode_stops_a_gzip_bomb_at_the_cap() -> None:
    bomb = _encode_raw(zlib.compress(bytes(64 * 1024 * 1024), 9, wbits=31))
    assert len(bomb) < 100_000
    with pytest.raises(StatusListError, match="exceeds"):
        decode(bomb)
    with pytest.raises(StatusListError, match="exceeds 1000 bytes"):
        decode(SPEC_EMPTY_LIST, max_bytes=1000)


def test_index_checks() -> None:
    bits = Bitstring()
    with pytest.raises(IndexError):
        bits.get(MIN_BITS)
    with pytest.raises(IndexError):
        bits.set(-1, True)
    with pytest.raises(TypeError):
        bits.get(True)


# --- random index assignment ------------------------------------------------------------------


def test_random_free_index_avoids_used_and_stays_in_range() -> None:
    rng = random.Random(7)
    used: set[int] = set()
    for _ in range(200):
        index = random_free_index(used, rng=rng)
        assert 0 <= index < MIN_BITS
        assert index not in used
        used.add(index)
    # Random, not sequential: 200 draws out of 131,072 are spread out.
    assert max(used) - min(used) > MIN_BITS // 2


def test_random_free_index_in_a_crowded_list_returns_the_only_gaps() -> None:
    size = MIN_BITS
    free = {3, 77_777, size - 1}
    used = [i for i in range(size) if i not in free]
    seen = {random_free_index(used, size, rng=random.Random(seed)) for seed in range(30)}
    assert seen == free


def test_random_free_index_full_list() -> None:
    with pytest.raises(StatusListError) as info:
        random_free_index(range(MIN_BITS), MIN_BITS)
    assert info.value.code == "STATUS_LIST_FULL"


def test_random_free_index_without_rng_uses_the_system_generator() -> None:
    assert random_free_index(set(range(1, MIN_BITS))) == 0
    assert random_free_index({0}) != 0


# --- documents -------------------------------------------------------------------------------


def _list_credential(bits: Bitstring, purpose: str = "revocation") -> dict[str, Any]:
    return build_status_list_credential(
        list_url=LIST_URL,
        issuer="did:web:brandtrace.example:orgs:anji-tea",
        status_purpose=purpose,
        encoded_list=bits.encode(),
        valid_from="2025-01-01T00:00:00Z",
    )


def test_status_list_credential_shape() -> None:
    credential = build_status_list_credential(
        list_url="https://example.com/credentials/status/3",
        issuer="did:example:12345",
        status_purpose="revocation",
        encoded_list=SPEC_EMPTY_LIST,
        valid_from="2021-04-05T14:27:40Z",
        valid_until="2021-05-05T14:27:40Z",
    )
    assert credential == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "https://example.com/credentials/status/3",
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "did:example:12345",
        "validFrom": "2021-04-05T14:27:40Z",
        "validUntil": "2021-05-05T14:27:40Z",
        "credentialSubject": {
            "id": "https://example.com/credentials/status/3#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": SPEC_EMPTY_LIST,
        },
    }


def test_status_list_entry_matches_the_spec_example() -> None:
    entry = build_status_list_entry(
        list_url="https://example.com/credentials/status/3",
        index=94567,
        status_purpose="revocation",
    )
    assert entry == {
        "id": "https://example.com/credentials/status/3#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://example.com/credentials/status/3",
    }


def test_builders_reject_unknown_purpose_and_negative_index() -> None:
    with pytest.raises(StatusListError, match="statusPurpose"):
        build_status_list_entry(list_url=LIST_URL, index=1, status_purpose="refresh")
    with pytest.raises(StatusListError, match="RANGE_ERROR"):
        build_status_list_entry(list_url=LIST_URL, index=-1, status_purpose="revocation")
    with pytest.raises(StatusListError, match="statusPurpose"):
        _list_credential(Bitstring(), purpose="revoked")


def test_check_status_reads_the_entry_bit() -> None:
    bits = Bitstring()
    bits.set(94567, True)
    credential = _list_credential(bits)
    revoked = build_status_list_entry(list_url=LIST_URL, index=94567, status_purpose="revocation")
    fine = build_status_list_entry(list_url=LIST_URL, index=94568, status_purpose="revocation")
    assert check_status(revoked, credential) is True
    assert check_status(fine, credential) is False


def test_check_status_with_a_predecoded_bitstring_gives_the_same_answers() -> None:
    bits = Bitstring()
    bits.set(7, True)
    credential = _list_credential(bits)
    decoded = decode(credential["credentialSubject"]["encodedList"])
    for index, expected in ((7, True), (8, False)):
        entry = build_status_list_entry(list_url=LIST_URL, index=index, status_purpose="revocation")
        assert check_status(entry, credential, bitstring=decoded) is expected
    entry["statusListIndex"] = str(MIN_BITS)
    with pytest.raises(StatusListError, match="RANGE_ERROR"):
        check_status(entry, credential, bitstring=decoded)


def test_check_status_refuses_mismatches() -> None:
    credential = _list_credential(Bitstring())
    entry = build_status_list_entry(list_url=LIST_URL, index=5, status_purpose="suspension")
    with pytest.raises(StatusListError, match="differs from list purpose"):
        check_status(entry, credential)
    other = build_status_list_entry(list_url=LIST_URL + "0", index=5, status_purpose="revocation")
    with pytest.raises(StatusListError, match="different status list"):
        check_status(other, credential)


@pytest.mark.parametrize("index", [str(MIN_BITS), "-1", "1e3", " 5", "9" * 40])
def test_check_status_range_errors(index: str) -> None:
    credential = _list_credential(Bitstring())
    entry = build_status_list_entry(list_url=LIST_URL, index=0, status_purpose="revocation")
    entry["statusListIndex"] = index
    with pytest.raises(StatusListError) as info:
        check_status(entry, credential)
    assert info.value.code == "RANGE_ERROR"
