"""C2SP signed notes (c2sp.org/signed-note, Ed25519) and checkpoints (c2sp.org/tlog-checkpoint).

Pure module: standard library and ``cryptography`` only, no Flask, no database, no network.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

ALG_ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash + space opens every signature line
MAX_SIGNATURES = 100  # the spec asks for a limit of at least 16; Go's sumdb/note uses 100
_PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"
_HASH_SIZE = 32


class NoteError(ValueError):
    """A signed note, key string or checkpoint is malformed or does not verify.

    ``rule`` names the rule a key string broke (``parts``, ``name``, ``key_id``, ``base64``,
    ``algorithm``, ``key_id_mismatch``; empty otherwise) and ``value`` the offending text, so
    that callers can explain it in the reader's language rather than show this English message.
    """

    def __init__(self, message: str, *, rule: str = "", value: str = "") -> None:
        super().__init__(message)
        self.rule = rule
        self.value = value


def _b64decode(text: str, what: str) -> bytes:
    """Strict standard base64: padding required, no stray characters, canonical encoding."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"{what} is not valid base64", rule="base64") from exc
    # Non-canonical encodings (non-zero trailing bits) would give one value two spellings.
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError(f"{what} is not canonical base64", rule="base64")
    return raw


def _check_key_name(name: str) -> None:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise NoteError(
            f"invalid key name {name!r}: must be non-empty, no spaces, no '+'",
            rule="name",
            value=name,
        )


def _check_note_chars(text: str, what: str) -> None:
    if any(c < " " and c != "\n" for c in text):
        raise NoteError(f"{what} contains an ASCII control character other than newline")


def _raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """Ed25519 key ID: SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4]."""
    material = name.encode() + b"\n" + bytes([ALG_ED25519]) + _raw_public_key(public_key)
    return hashlib.sha256(material).digest()[:4]


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted Ed25519 note key: its name, 4-byte key ID and public key."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    @classmethod
    def from_public_key(cls, name: str, public_key: Ed25519PublicKey) -> NoteVerifier:
        """Build a verifier, deriving the key ID as the spec recommends."""
        _check_key_name(name)
        return cls(name, key_id(name, public_key), public_key)

    def verify(self, text: bytes, signature: bytes) -> bool:
        """True when ``signature`` is this key's Ed25519 signature of ``text``."""
        try:
            self.public_key.verify(signature, text)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class NoteSigner:
    """An Ed25519 note signing key with its name and key ID."""

    name: str
    key_id: bytes
    private_key: Ed25519PrivateKey

    @classmethod
    def from_private_key(cls, name: str, private_key: Ed25519PrivateKey) -> NoteSigner:
        """Build a signer, deriving the key ID from the public half."""
        _check_key_name(name)
        return cls(name, key_id(name, private_key.public_key()), private_key)

    def verifier(self) -> NoteVerifier:
        """The matching verifier."""
        return NoteVerifier(self.name, self.key_id, self.private_key.public_key())


def _split_key_string(text: str, what: str) -> tuple[str, bytes, bytes]:
    # Base64 may itself contain '+', so only the first two '+' separate fields (as in Go's note).
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise NoteError(f"{what} must be <name>+<hex key id>+<base64 key>", rule="parts")
    name, hex_id, b64 = parts
    _check_key_name(name)
    # The key ID is exactly 8 lowercase hex digits, as written by the reference implementation.
    if len(hex_id) != 8 or any(c not in "0123456789abcdef" for c in hex_id):
        raise NoteError(
            f"{what} key id {hex_id!r} is not 8 lowercase hex digits", rule="key_id", value=hex_id
        )
    key = _b64decode(b64, f"{what} key")
    if len(key) != 33 or key[0] != ALG_ED25519:
        raise NoteError(
            f"{what} is not an Ed25519 key (0x01 followed by 32 bytes)", rule="algorithm"
        )
    return name, bytes.fromhex(hex_id), key[1:]


def parse_verifier_key(vkey: str) -> NoteVerifier:
    """Parse ``<name>+<hex key id>+<base64(0x01 || public key)>``; the key ID must match."""
    name, kid, raw = _split_key_string(vkey, "verifier key")
    verifier = NoteVerifier.from_public_key(name, Ed25519PublicKey.from_public_bytes(raw))
    if verifier.key_id != kid:
        raise NoteError(
            "verifier key id does not match its name and public key", rule="key_id_mismatch"
        )
    return verifier


def parse_signer_key(skey: str) -> NoteSigner:
    """Parse ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>``."""
    if not skey.startswith(_PRIVATE_KEY_PREFIX):
        raise NoteError("signer key must start with PRIVATE+KEY+")
    name, kid, seed = _split_key_string(skey[len(_PRIVATE_KEY_PREFIX) :], "signer key")
    signer = NoteSigner.from_private_key(name, Ed25519PrivateKey.from_private_bytes(seed))
    if signer.key_id != kid:
        raise NoteError("signer key id does not match its name and public key")
    return signer


def format_verifier_key(verifier: NoteVerifier) -> str:
    """Verifier key string ``<name>+<hex key id>+<base64(0x01 || public key)>``."""
    raw = bytes([ALG_ED25519]) + _raw_public_key(verifier.public_key)
    return f"{verifier.name}+{verifier.key_id.hex()}+{base64.b64encode(raw).decode()}"


def format_signer_key(signer: NoteSigner) -> str:
    """Signer key string ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>``; a secret."""
    seed = signer.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    raw = base64.b64encode(bytes([ALG_ED25519]) + seed).decode()
    return f"{_PRIVATE_KEY_PREFIX}{signer.name}+{signer.key_id.hex()}+{raw}"


def signature_line(text: str, signer: NoteSigner) -> str:
    """One signature line ``— <name> <base64(key id || signature)>\\n`` over ``text``."""
    _check_text(text)
    signature = signer.private_key.sign(text.encode())
    encoded = base64.b64encode(signer.key_id + signature).decode()
    return f"{SIGNATURE_PREFIX}{signer.name} {encoded}\n"


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    _check_note_chars(text, "note text")


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Sign ``text`` (which must end in a newline) with one Ed25519 key; returns the signed note."""
    signer = NoteSigner.from_private_key(name, private_key)
    return sign_note_with(text, [signer])


def sign_note_with(text: str, signers: Sequence[NoteSigner]) -> str:
    """Sign ``text`` with several keys (for example the log and a witness), in the given order."""
    if not signers:
        raise NoteError("a signed note needs at least one signature")
    return text + "\n" + "".join(signature_line(text, s) for s in signers)


@dataclass(frozen=True)
class NoteSignature:
    """One parsed signature line."""

    name: str
    key_id: bytes
    signature: bytes


def parse_note(note: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and signature lines, checking only the format."""
    _check_note_chars(note, "note")
    # The text ends at the *last* blank line: the text itself may contain blank lines.
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise NoteError("note must end with at least one newline-terminated signature line")
    signatures: list[NoteSignature] = []
    for line in block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"malformed signature line {line!r}")
        name, sep, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not sep or not b64:
            raise NoteError(f"malformed signature line {line!r}")
        _check_key_name(name)
        raw = _b64decode(b64, "signature")
        if len(raw) < 5:
            raise NoteError("signature is too short to hold a key id and a signature")
        signatures.append(NoteSignature(name, raw[:4], raw[4:]))
        if len(signatures) > MAX_SIGNATURES:
            raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")
    return text, signatures


def open_note(note: str, verifiers: Iterable[NoteVerifier]) -> tuple[str, list[str]]:
    """Verify a signed note; return its text and the names of the keys that verified it.

    Per the spec, signatures by unknown keys (name and key ID not both known) are ignored, a
    known key's bad signature rejects the whole note, and at least one known key must verify.
    Raises :class:`NoteError`.
    """
    text, signatures = parse_note(note)
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for v in verifiers:
        if (v.name, v.key_id) in known:
            raise NoteError(f"two verifiers share name {v.name!r} and key id {v.key_id.hex()}")
        known[(v.name, v.key_id)] = v
    verified: list[str] = []
    seen: set[tuple[str, bytes]] = set()
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if not verifier.verify(text.encode(), sig.signature):
            raise NoteError(f"invalid signature by {sig.name}")
        if (sig.name, sig.key_id) not in seen:
            seen.add((sig.name, sig.key_id))
            verified.append(sig.name)
    if not verified:
        raise NoteError("note is not signed by any known key")
    return text, verified


# --- Checkpoints ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A log's signed tree head: origin, tree size, RFC 6962 root hash, optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()


def _check_checkpoint(cp: Checkpoint) -> None:
    if not cp.origin or "\n" in cp.origin:
        raise NoteError("checkpoint origin must be a non-empty single line")
    if not 0 <= cp.size < 2**64:
        raise NoteError("checkpoint size must be an unsigned 64-bit integer")
    if len(cp.root_hash) != _HASH_SIZE:
        raise NoteError(f"checkpoint root hash must be {_HASH_SIZE} bytes")
    for line in cp.extensions:
        if not line or "\n" in line:
            raise NoteError("checkpoint extension lines must be non-empty single lines")
    _check_note_chars(cp.origin + "".join(cp.extensions), "checkpoint")


def format_checkpoint(cp: Checkpoint) -> str:
    """Checkpoint note text: ``<origin>\\n<size>\\n<base64 root>\\n`` then extension lines."""
    _check_checkpoint(cp)
    lines = [cp.origin, str(cp.size), base64.b64encode(cp.root_hash).decode(), *cp.extensions]
    return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse checkpoint note text strictly (decimal size without leading zeros, 32-byte root)."""
    if not text.endswith("\n"):
        raise NoteError("checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("checkpoint needs origin, size and root hash lines")
    origin, size_text, root_text, *extensions = lines
    # int() alone would accept "+5", " 5", "05" and "5_000"; the spec allows only plain digits.
    if not size_text.isascii() or not size_text.isdigit():
        raise NoteError(f"checkpoint size {size_text!r} is not a decimal number")
    if len(size_text) > 20:  # 2**64 has 20 digits; also keeps int() away from huge inputs
        raise NoteError("checkpoint size is too large")
    if len(size_text) > 1 and size_text[0] == "0":
        raise NoteError(f"checkpoint size {size_text!r} has leading zeros")
    cp = Checkpoint(
        origin=origin,
        size=int(size_text),
        root_hash=_b64decode(root_text, "checkpoint root hash"),
        extensions=tuple(extensions),
    )
    _check_checkpoint(cp)
    return cp


def sign_checkpoint(cp: Checkpoint, signer: NoteSigner) -> str:
    """Format and sign a checkpoint; the key name should equal the origin (tlog-checkpoint)."""
    return sign_note_with(format_checkpoint(cp), [signer])


def open_checkpoint(
    note: str, log_verifier: NoteVerifier, witnesses: Iterable[NoteVerifier] = ()
) -> tuple[Checkpoint, list[str]]:
    """Verify a signed checkpoint from the log named like its origin; return it and the signers.

    The log's own signature is mandatory; witness cosignatures are reported when they verify.
    """
    text, names = open_note(note, [log_verifier, *witnesses])
    if log_verifier.name not in names:
        raise NoteError(f"checkpoint is not signed by the log key {log_verifier.name}")
    cp = parse_checkpoint(text)
    if cp.origin != log_verifier.name:
        raise NoteError(f"checkpoint origin {cp.origin!r} is not the log {log_verifier.name!r}")
    return cp, names
