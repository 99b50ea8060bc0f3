"""Sealing private keys for storage: AES-256-GCM under a key derived from the secret key.

Private signing keys (associations' issuer keys, the transparency log's key) are stored only
sealed, in the database row of the record that owns them, so that creating a key commits or
rolls back with that record and every app server sees the same keys. The sealing key is
derived with HKDF-SHA256 from ``BRANDTRACE_SECRET_KEY``; the label (for example the key's
verification-method id) is bound as associated data, so a sealed key cannot be swapped
between records unnoticed. Nothing here ever logs or returns key bytes to HTTP callers.
"""

from __future__ import annotations

import base64
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT = "brandtrace-sealed-key-v1"


class KeySealError(ValueError):
    """A sealed key could not be opened: wrong secret key, wrong label, or tampered data."""


def _sealing_key(secret_key: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"brandtrace-keystore-v1", info=b"seal-ed25519"
    ).derive(secret_key.encode())


def seal_private_key(private_key: Ed25519PrivateKey, *, label: str, secret_key: str) -> str:
    """The private key as a sealed JSON string, safe to store in a database column."""
    raw = private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    nonce = os.urandom(12)
    ciphertext = AESGCM(_sealing_key(secret_key)).encrypt(nonce, raw, label.encode())
    return json.dumps(
        {
            "format": FORMAT,
            "alg": "Ed25519",
            "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(ciphertext).decode(),
        }
    )


def open_private_key(sealed: str, *, label: str, secret_key: str) -> Ed25519PrivateKey:
    """Open a key sealed by :func:`seal_private_key` with the same label and secret key."""
    try:
        data = json.loads(sealed)
        if data.get("format") != FORMAT or data.get("alg") != "Ed25519":
            raise KeySealError("unknown sealed key format")
        raw = AESGCM(_sealing_key(secret_key)).decrypt(
            base64.b64decode(data["nonce"]), base64.b64decode(data["ciphertext"]), label.encode()
        )
    except (InvalidTag, KeyError, TypeError, ValueError) as error:
        if isinstance(error, KeySealError):
            raise
        raise KeySealError(
            "cannot open the sealed key (was BRANDTRACE_SECRET_KEY changed?)"
        ) from None
    return Ed25519PrivateKey.from_private_bytes(raw)
