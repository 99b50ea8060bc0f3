"""C2SP signed notes and checkpoints: published known answers, tampering, sigstore cross-check."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sigstore._internal.rekor.checkpoint import SignedCheckpoint
from sigstore._internal.trust import Keyring, RekorKeyring
from sigstore._utils import KeyID
from sigstore.errors import VerificationError
from sigstore_models.common import v1 as common_v1

from app.transparency.merkle import MemoryTree, leaf_hash
from app.transparency.note import (
    Checkpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    format_checkpoint,
    format_signer_key,
    format_verifier_key,
    key_id,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    parse_signer_key,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    sign_note_with,
    signature_line,
)
from tests.vectors import vector_path

ORIGIN = "brandtrace.example/log"


@pytest.fixture(scope="module")
def known() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(vector_path("signed-note-and-merkle.json").read_text())
    return data


@pytest.fixture(scope="module")
def go(known: dict[str, Any]) -> dict[str, str]:
    section: dict[str, str] = known["go_sumdb_note_example"]
    return section


@pytest.fixture(scope="module")
def log_signer() -> NoteSigner:
    return NoteSigner.from_private_key(ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes(32)))


def _checkpoint(size: int = 5) -> Checkpoint:
    tree = MemoryTree(leaf_hash(bytes([i])) for i in range(size))
    return Checkpoint(ORIGIN, size, tree.root())


# --- Published known answers ----------------------------------------------------------------


def test_spec_example_verifies(known: dict[str, Any]) -> None:
    example = known["c2sp_spec_example"]
    verifier = parse_verifier_key(example["vkey"])
    assert verifier.key_id.hex() == "530d903a"
    assert format_verifier_key(verifier) == example["vkey"]
    assert open_note(example["note"], [verifier]) == (
        "This is an example message.\n",
        ["example.com/foo"],
    )


def test_go_example_keys_round_trip(go: dict[str, str]) -> None:
    signer = parse_signer_key(go["peter_skey"])
    assert signer.name == "PeterNeumann"
    assert signer.key_id.hex() == "c74f20a3"
    assert format_signer_key(signer) == go["peter_skey"]
    assert format_verifier_key(signer.verifier()) == go["peter_vkey"]
    assert parse_verifier_key(go["peter_vkey"]) == signer.verifier()


def test_go_example_signature_is_deterministic(go: dict[str, str]) -> None:
    signer = parse_signer_key(go["peter_skey"])
    assert signature_line(go["text"], signer) == go["peter_signature_line"]
    assert sign_note(go["text"], signer.name, signer.private_key) == (
        go["text"] + "\n" + go["peter_signature_line"]
    )


def test_go_example_with_two_signatures(go: dict[str, str]) -> None:
    # The vector spells this note as an expression: text + "\n" + both signature lines.
    note = go["text"] + "\n" + go["peter_signature_line"] + go["enoch_signature_line"]
    peter = parse_verifier_key(go["peter_vkey"])
    enoch = parse_verifier_key(go["enoch_vkey"])
    assert open_note(note, [peter, enoch]) == (go["text"], ["PeterNeumann", "EnochRoot"])
    # A signature by a key the caller does not trust is ignored, not an error.
    assert open_note(note, [enoch]) == (go["text"], ["EnochRoot"])
    with pytest.raises(NoteError, match="not signed by any known key"):
        open_note(note, [])


# --- Rejections -----------------------------------------------------------------------------


def test_tampered_text_is_rejected(go: dict[str, str]) -> None:
    peter = parse_verifier_key(go["peter_vkey"])
    note = go["text"].replace("answer", "Answer") + "\n" + go["peter_signature_line"]
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(note, [peter])


def test_tampered_signature_is_rejected(go: dict[str, str]) -> None:
    peter = parse_verifier_key(go["peter_vkey"])
    line = go["peter_signature_line"]
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[-1] ^= 1
    bad = f"\u2014 PeterNeumann {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(go["text"] + "\n" + bad, [peter])


def test_bad_signature_by_known_key_rejects_whole_note(go: dict[str, str]) -> None:
    # Enoch's line signs the same text; relabelled with Peter's key id it must not verify, even
    # though Enoch's own good signature is present too.
    enoch_line = go["enoch_signature_line"]
    raw = base64.b64decode(enoch_line.split(" ")[2])
    forged_raw = bytes.fromhex("c74f20a3") + raw[4:]
    forged = f"\u2014 PeterNeumann {base64.b64encode(forged_raw).decode()}\n"
    note = go["text"] + "\n" + forged + enoch_line
    verifiers = [parse_verifier_key(go["peter_vkey"]), parse_verifier_key(go["enoch_vkey"])]
    with pytest.raises(NoteError, match="invalid signature by PeterNeumann"):
        open_note(note, verifiers)


def test_same_name_other_key_id_is_unknown(go: dict[str, str]) -> None:
    other = NoteSigner.from_private_key("PeterNeumann", Ed25519PrivateKey.generate())
    note = go["text"] + "\n" + go["peter_signature_line"]
    with pytest.raises(NoteError, match="not signed by any known key"):
        open_note(note, [other.verifier()])


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        ("no signatures\n", "no blank line"),
        ("text\n\n", "at least one"),
        ("text\n\n\u2014 PeterNeumann AAAA", "at least one"),
        ("text\n\n- PeterNeumann AAAAAAA=\n", "malformed signature line"),
        ("text\n\n\u2014 PeterNeumann\n", "malformed signature line"),
        ("text\n\n\u2014 Peter+Neumann AAAAAAA=\n", "invalid key name"),
        ("text\n\n\u2014 PeterNeumann AAAA\n", "too short"),
        ("text\n\n\u2014 PeterNeumann AAAAAA!=\n", "not valid base64"),
        ("text\n\n\u2014 PeterNeumann AAAAAAB=\n", "not canonical"),
        ("te\txt\n\n\u2014 PeterNeumann AAAAAAA=\n", "control character"),
        ("text\r\n\n\u2014 PeterNeumann AAAAAAA=\n", "control character"),
    ],
)
def test_malformed_notes_are_rejected(go: dict[str, str], note: str, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        open_note(note, [parse_verifier_key(go["peter_vkey"])])


def test_too_many_signatures_are_rejected(go: dict[str, str]) -> None:
    note = go["text"] + "\n" + go["peter_signature_line"] * 101
    with pytest.raises(NoteError, match="more than 100"):
        open_note(note, [parse_verifier_key(go["peter_vkey"])])
    # Repeats up to the limit are accepted and reported once.
    note = go["text"] + "\n" + go["peter_signature_line"] * 16
    assert open_note(note, [parse_verifier_key(go["peter_vkey"])])[1] == ["PeterNeumann"]


def test_text_may_contain_blank_lines(log_signer: NoteSigner) -> None:
    text = "first\n\nsecond\n"
    assert open_note(sign_note_with(text, [log_signer]), [log_signer.verifier()])[0] == text


def test_signing_rejects_bad_text_and_names() -> None:
    key = Ed25519PrivateKey.generate()
    with pytest.raises(NoteError, match="newline"):
        sign_note("no newline", "example.com/k", key)
    with pytest.raises(NoteError, match="control character"):
        sign_note("bell\a\n", "example.com/k", key)
    for name in ("", "a b", "a+b", "a\u3000b"):
        with pytest.raises(NoteError, match="invalid key name"):
            sign_note("text\n", name, key)


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+AhpcAcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_malformed_verifier_keys_are_rejected(vkey: str) -> None:
    with pytest.raises(NoteError):
        parse_verifier_key(vkey)


def test_signer_key_must_be_marked_private(go: dict[str, str]) -> None:
    with pytest.raises(NoteError, match="PRIVATE"):
        parse_signer_key(go["peter_skey"].removeprefix("PRIVATE+KEY+"))


def test_key_id_definition() -> None:
    key = Ed25519PrivateKey.generate().public_key()
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert key_id("n", key) == hashlib.sha256(b"n\n\x01" + raw).digest()[:4]


# --- Checkpoints ----------------------------------------------------------------------------


def test_checkpoint_format_and_parse_round_trip() -> None:
    cp = Checkpoint(ORIGIN, 20852163, bytes(range(32)), ("ext one", "ext two"))
    text = format_checkpoint(cp)
    assert text == (
        f"{ORIGIN}\n20852163\n{base64.b64encode(bytes(range(32))).decode()}\next one\next two\n"
    )
    assert parse_checkpoint(text) == cp
    empty = Checkpoint(ORIGIN, 0, bytes(32))
    assert parse_checkpoint(format_checkpoint(empty)) == empty


def test_spec_checkpoint_example_parses() -> None:
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    cp = parse_checkpoint(text)
    assert (cp.origin, cp.size, len(cp.root_hash)) == ("example.com/behind-the-sofa", 20852163, 32)


ROOT_B64 = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    "text",
    [
        f"o\n5\n{ROOT_B64}",  # no final newline
        "o\n5\n",  # no root line
        f"\n5\n{ROOT_B64}\n",  # empty origin
        f"o\n05\n{ROOT_B64}\n",  # leading zero
        f"o\n+5\n{ROOT_B64}\n",
        f"o\n 5\n{ROOT_B64}\n",
        f"o\n5_0\n{ROOT_B64}\n",
        f"o\n-1\n{ROOT_B64}\n",
        f"o\n\u0665\n{ROOT_B64}\n",  # Arabic-Indic digit five: str.isdigit() alone accepts it
        f"o\n{2**64}\n{ROOT_B64}\n",
        f"o\n{'9' * 5000}\n{ROOT_B64}\n",
        "o\n5\n" + base64.b64encode(bytes(31)).decode() + "\n",
        "o\n5\n" + ROOT_B64.rstrip("=") + "\n",
        f"o\n5\n{ROOT_B64}\n\n",  # empty extension line
    ],
)
def test_malformed_checkpoints_are_rejected(text: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(text)


def test_signed_checkpoint_round_trip(log_signer: NoteSigner) -> None:
    cp = _checkpoint()
    note = sign_checkpoint(cp, log_signer)
    assert open_checkpoint(note, log_signer.verifier()) == (cp, [ORIGIN])

    witness = NoteSigner.from_private_key("witness.example/w1", Ed25519PrivateKey.generate())
    cosigned = note + signature_line(format_checkpoint(cp), witness)
    assert open_checkpoint(cosigned, log_signer.verifier(), [witness.verifier()]) == (
        cp,
        [ORIGIN, "witness.example/w1"],
    )
    with pytest.raises(NoteError, match="not signed by the log key"):
        open_checkpoint(
            sign_note_with(format_checkpoint(cp), [witness]),
            log_signer.verifier(),
            [witness.verifier()],
        )


def test_checkpoint_origin_must_name_the_log(log_signer: NoteSigner) -> None:
    other = Checkpoint("other.example/log", 1, bytes(32))
    with pytest.raises(NoteError, match="origin"):
        open_checkpoint(sign_checkpoint(other, log_signer), log_signer.verifier())


# --- Independent implementation: sigstore ---------------------------------------------------


def _sigstore_keyring(verifier: NoteVerifier) -> RekorKeyring:
    der = verifier.public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    # sigstore's protobuf-JSON models take bytes fields base64-encoded.
    public_key = common_v1.PublicKey(
        raw_bytes=base64.b64encode(der), key_details=common_v1.PublicKeyDetails.PKIX_ED25519
    )
    return RekorKeyring(Keyring([public_key]))


def test_sigstore_verifies_our_signed_checkpoint(log_signer: NoteSigner) -> None:
    cp = _checkpoint(13)
    note = sign_checkpoint(cp, log_signer)
    parsed = SignedCheckpoint.from_text(note)
    # sigstore matches the signature's 4-byte key hint against key_id[:4]; passing the C2SP key ID
    # makes it pick our signature, then its keyring checks the Ed25519 signature over the text.
    parsed.signed_note.verify(_sigstore_keyring(log_signer.verifier()), KeyID(log_signer.key_id))
    assert parsed.checkpoint.origin == cp.origin
    assert parsed.checkpoint.log_size == cp.size
    assert parsed.checkpoint.log_hash == cp.root_hash.hex()
    assert parsed.checkpoint.other_content == []


def test_sigstore_rejects_tampered_checkpoint(log_signer: NoteSigner) -> None:
    note = sign_checkpoint(_checkpoint(13), log_signer)
    tampered = note.replace("\n13\n", "\n14\n", 1)
    keyring = _sigstore_keyring(log_signer.verifier())
    with pytest.raises(VerificationError):
        SignedCheckpoint.from_text(tampered).signed_note.verify(keyring, KeyID(log_signer.key_id))
    with pytest.raises(NoteError):
        open_checkpoint(tampered, log_signer.verifier())
