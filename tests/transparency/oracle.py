"""The independent implementation: sigstore's RFC 6962 inclusion and signed-note verifiers.

Both helpers raise ``sigstore.errors.VerificationError`` when sigstore rejects what we made.
"""

from __future__ import annotations

import base64
from types import SimpleNamespace
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sigstore._internal.merkle import verify_merkle_inclusion
from sigstore._internal.rekor.checkpoint import SignedCheckpoint
from sigstore._internal.trust import Keyring, RekorKeyring
from sigstore._utils import KeyID
from sigstore_models.common import v1 as common_v1

from app.transparency.note import NoteVerifier


def sigstore_verify_inclusion(
    entry: bytes, index: int, size: int, proof: list[bytes], root: bytes
) -> None:
    """sigstore recomputes the leaf hash from ``entry`` and walks the proof to ``root``."""
    # verify_merkle_inclusion only reads these attributes of a Rekor TransparencyLogEntry.
    inclusion = SimpleNamespace(log_index=index, tree_size=size, hashes=proof, root_hash=root)
    stand_in: Any = SimpleNamespace(
        _inner=SimpleNamespace(inclusion_proof=inclusion, canonicalized_body=entry)
    )
    verify_merkle_inclusion(stand_in)


def sigstore_verify_checkpoint(note: str, verifier: NoteVerifier) -> Any:
    """sigstore parses the signed checkpoint and checks the Ed25519 signature; returns it."""
    der = verifier.public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    public_key = common_v1.PublicKey(
        raw_bytes=base64.b64encode(der), key_details=common_v1.PublicKeyDetails.PKIX_ED25519
    )
    parsed = SignedCheckpoint.from_text(note)
    parsed.signed_note.verify(RekorKeyring(Keyring([public_key])), KeyID(verifier.key_id))
    return parsed.checkpoint
