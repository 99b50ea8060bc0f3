"""base58btc, multibase and Ed25519 Multikey against published examples and the W3C key pair."""

import json
import random

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.certificates.multibase import (
    BASE58_ALPHABET,
    MultibaseError,
    b58decode,
    b58encode,
    b64url_decode,
    b64url_encode,
    decode_ed25519_multikey,
    decode_ed25519_secret_multikey,
    encode_ed25519_multikey,
    encode_ed25519_secret_multikey,
    multibase_decode,
    multibase_encode,
)
from tests.vectors import vector_path

# Examples from draft-msporny-base58 (the IETF base58btc draft) and the multibase spec.
BASE58_EXAMPLES = [
    (b"Hello World!", "2NEpo7TZRRrLZSi2U"),
    (
        b"The quick brown fox jumps over the lazy dog.",
        "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z",
    ),
    (bytes.fromhex("0000287fb4cd"), "11233QC4"),
    (b"", ""),
    (b"\x00", "1"),
    (b"\x00\x00\x00", "111"),
]


@pytest.fixture(scope="module")
def key_pair() -> dict[str, str]:
    return json.loads(vector_path("vc-di-eddsa", "keyPair.json").read_text())


@pytest.mark.parametrize(("raw", "text"), BASE58_EXAMPLES)
def test_base58btc_known_answers(raw: bytes, text: str) -> None:
    assert b58encode(raw) == text
    assert b58decode(text) == raw


def test_multibase_spec_example() -> None:
    assert multibase_encode(b"yes mani !", "z") == "z7paNL19xttacUY"
    assert multibase_encode(b"yes mani !", "u") == "ueWVzIG1hbmkgIQ"
    assert multibase_decode("ueWVzIG1hbmkgIQ") == b"yes mani !"


@pytest.mark.parametrize("bad", ["0", "O", "I", "l", "+", " ", "abc0def"])
def test_base58btc_rejects_characters_outside_the_bitcoin_alphabet(bad: str) -> None:
    with pytest.raises(MultibaseError, match="invalid base58btc character"):
        b58decode(bad)


def test_base58btc_round_trips_leading_zeros() -> None:
    for raw in (b"\x00\x01", b"\x00\x00\xff\x00", bytes(range(40)), b"\x00" * 5 + b"\x80"):
        assert b58decode(b58encode(raw)) == raw


@pytest.mark.parametrize("bad", ["a=", "ab+c", "ab/c", "ab c", "a"])
def test_base64url_is_strict(bad: str) -> None:
    with pytest.raises(MultibaseError):
        b64url_decode(bad)


def test_base64url_has_no_padding() -> None:
    assert b64url_encode(b"\xfb\xff") == "-_8"
    assert b64url_decode("-_8") == b"\xfb\xff"


@pytest.mark.parametrize("bad", ["", "fdeadbeef", "Mabc", "Uabc="])
def test_multibase_rejects_unsupported_prefixes(bad: str) -> None:
    with pytest.raises(MultibaseError):
        multibase_decode(bad)


def test_multibase_expect_enforces_prefix() -> None:
    with pytest.raises(MultibaseError, match="expected multibase prefix 'z'"):
        multibase_decode("ueWVzIG1hbmkgIQ", expect="z")


def test_w3c_key_pair_secret_derives_the_published_public_multikey(
    key_pair: dict[str, str],
) -> None:
    seed = decode_ed25519_secret_multikey(key_pair["privateKeyMultibase"])
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    assert encode_ed25519_multikey(public) == key_pair["publicKeyMultibase"]
    assert decode_ed25519_multikey(key_pair["publicKeyMultibase"]) == public
    assert encode_ed25519_secret_multikey(seed) == key_pair["privateKeyMultibase"]


def test_ed25519_multikey_starts_with_z6mk() -> None:
    assert encode_ed25519_multikey(bytes(32)).startswith("z6Mk")


@pytest.mark.parametrize(
    ("header", "name"),
    [(b"\xe7\x01", "secp256k1-pub"), (b"\x80\x24", "p256-pub"), (b"\x12\x00", "p256-pub")],
)
def test_multikey_of_another_key_type_names_it(header: bytes, name: str) -> None:
    with pytest.raises(MultibaseError, match=f"multicodec is {name}"):
        decode_ed25519_multikey(multibase_encode(header + bytes(33), "z"))


def test_multikey_rejects_secret_key_as_public(key_pair: dict[str, str]) -> None:
    with pytest.raises(MultibaseError, match="ed25519-priv"):
        decode_ed25519_multikey(key_pair["privateKeyMultibase"])


def test_multikey_rejects_wrong_length_and_prefix() -> None:
    with pytest.raises(MultibaseError, match="32 key bytes, got 31"):
        decode_ed25519_multikey(multibase_encode(b"\xed\x01" + bytes(31), "z"))
    with pytest.raises(MultibaseError, match="expected multibase prefix 'z'"):
        decode_ed25519_multikey(multibase_encode(b"\xed\x01" + bytes(32), "u"))
    with pytest.raises(MultibaseError, match="must be 32 bytes"):
        encode_ed25519_multikey(bytes(33))


def _reference_b58encode(data: bytes) -> str:
    # The textbook digit-by-digit conversion, to check the chunked one against.
    num = int.from_bytes(data, "big")
    digits = ""
    while num:
        num, rem = divmod(num, 58)
        digits = BASE58_ALPHABET[rem] + digits
    return "1" * (len(data) - len(data.lstrip(b"\x00"))) + digits


def test_base58btc_matches_the_textbook_conversion_on_random_inputs() -> None:
    rng = random.Random(58)
    for length in [*range(0, 80), 200]:
        for zeros in (0, 1, 3):
            data = bytes(zeros) + rng.randbytes(length)
            text = _reference_b58encode(data)
            assert b58encode(data) == text
            assert b58decode(text) == data


@pytest.mark.parametrize("bad", ["é", "abc\u00e9", "z\x00"])
def test_base58btc_rejects_non_ascii_and_control_characters(bad: str) -> None:
    with pytest.raises(MultibaseError, match="invalid base58btc character"):
        b58decode(bad)
