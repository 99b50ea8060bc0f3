"""Compact label signatures (format brandtrace-label-v1)."""

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.certificates.compact import (
    CompactSignatureError,
    label_message,
    sign_compact,
    verify_compact,
)
from app.certificates.multibase import decode_ed25519_secret_multikey
from tests.vectors import vector_path

GTIN = "09506000134352"  # GS1's example GTIN
KID = "did:web:brandtrace.example:orgs:anji-tea#key-1"
LABEL = {"gtin": GTIN, "lot": "ABC123", "serial": "12345", "key_id": KID}
# Regression vector for the v1 format: Ed25519 is deterministic, so the W3C test key always
# produces this signature. Changing it means the printed labels no longer verify.
KNOWN_SIGNATURE = (
    "AMwD1BNAOJ8jv6c6OkD0ev0duK7POTTbj1DGYQNwEWuOmBjL7dMmfDJ2Un9YLnLALweTFgAwhTlsRRCsPTKCCA"
)


@pytest.fixture(scope="module")
def private_key() -> Ed25519PrivateKey:
    key_pair = json.loads(vector_path("vc-di-eddsa", "keyPair.json").read_text())
    seed = decode_ed25519_secret_multikey(key_pair["privateKeyMultibase"])
    return Ed25519PrivateKey.from_private_bytes(seed)


def test_message_format_v1() -> None:
    assert label_message(**LABEL) == (
        b"brandtrace-label-v1\n"
        b'{"01":"09506000134352","10":"ABC123","21":"12345",'
        b'"kid":"did:web:brandtrace.example:orgs:anji-tea#key-1"}'
    )


def test_message_omits_absent_lot_and_serial() -> None:
    assert label_message(gtin=GTIN, lot=None, serial=None, key_id="k") == (
        b'brandtrace-label-v1\n{"01":"09506000134352","kid":"k"}'
    )


def test_known_signature(private_key: Ed25519PrivateKey) -> None:
    signature = sign_compact(private_key, **LABEL)
    assert signature == KNOWN_SIGNATURE
    assert len(signature) == 86
    assert verify_compact(signature, private_key.public_key(), **LABEL)


def test_verify_accepts_raw_public_key_bytes(private_key: Ed25519PrivateKey) -> None:
    raw = private_key.public_key().public_bytes_raw()
    assert verify_compact(KNOWN_SIGNATURE, raw, **LABEL)


@pytest.mark.parametrize(
    "change",
    [
        {"gtin": "09506000134369"},
        {"lot": "ABC124"},
        {"serial": "12346"},
        {"serial": None},
        {"key_id": "did:web:brandtrace.example:orgs:anji-tea#key-2"},
    ],
)
def test_verify_rejects_any_changed_identifier(
    change: dict[str, Any], private_key: Ed25519PrivateKey
) -> None:
    assert not verify_compact(KNOWN_SIGNATURE, private_key.public_key(), **{**LABEL, **change})


def test_lot_and_serial_cannot_be_swapped(private_key: Ed25519PrivateKey) -> None:
    signature = sign_compact(private_key, gtin=GTIN, lot="111", serial="222", key_id=KID)
    public = private_key.public_key()
    assert verify_compact(signature, public, gtin=GTIN, lot="111", serial="222", key_id=KID)
    assert not verify_compact(signature, public, gtin=GTIN, lot="222", serial="111", key_id=KID)


def test_verify_rejects_another_key() -> None:
    other = Ed25519PrivateKey.generate().public_key()
    assert not verify_compact(KNOWN_SIGNATURE, other, **LABEL)


@pytest.mark.parametrize(
    "signature",
    [
        "",
        KNOWN_SIGNATURE[:-1],
        KNOWN_SIGNATURE + "A",
        KNOWN_SIGNATURE + "==",
        KNOWN_SIGNATURE[:-1] + "B",  # same bytes, non-zero spare bits: not the canonical spelling
        KNOWN_SIGNATURE[:10] + "+" + KNOWN_SIGNATURE[11:],
    ],
)
def test_verify_rejects_malformed_signatures(
    signature: str, private_key: Ed25519PrivateKey
) -> None:
    assert not verify_compact(signature, private_key.public_key(), **LABEL)


def test_verify_never_raises_on_bad_identifiers_or_key(private_key: Ed25519PrivateKey) -> None:
    public = private_key.public_key()
    assert not verify_compact(KNOWN_SIGNATURE, public, **{**LABEL, "gtin": "123"})
    assert not verify_compact(KNOWN_SIGNATURE, public, **{**LABEL, "lot": "é"})
    assert not verify_compact(KNOWN_SIGNATURE, bytes(31), **LABEL)


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"gtin": "9506000134352"}, "14 digits"),
        ({"gtin": "09506000134353"}, "check digit"),
        ({"lot": ""}, r"AI \(10\)"),
        ({"lot": "A" * 21}, r"AI \(10\)"),
        ({"serial": "12 45"}, r"AI \(21\)"),
        ({"serial": "#1"}, r"AI \(21\)"),
        ({"key_id": ""}, "key_id"),
    ],
)
def test_sign_rejects_identifiers_outside_gs1_rules(
    fields: dict[str, str], match: str, private_key: Ed25519PrivateKey
) -> None:
    with pytest.raises(CompactSignatureError, match=match):
        sign_compact(private_key, **{**LABEL, **fields})
