"""What this domain appends to the transparency log (issue 8), in the same transaction as the
record it describes: certificates issued, renewed, suspended, reinstated, withdrawn and
cancelled, and issuer keys added, rotated and revoked.

The entry's content hash is the SHA-256 of the signed credential exactly as stored and served
(``/certificates/<number>/credential.json``), or of the key's verification method as published
in the DID document, so anyone holding either can find its entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from app.auth.principal import Caller
from app.certificates.did import format_instant
from app.transparency.entry import EntryType
from app.transparency.services import NewEntry, append_entry, append_entry_indices

if TYPE_CHECKING:
    from app.certificates.models import Certificate, IssuerKey
    from app.transparency.models import LogEntry

CERTIFICATE_EVENTS = {
    "certificate.issued": EntryType.CERTIFICATE_ISSUED,
    "certificate.suspended": EntryType.CERTIFICATE_SUSPENDED,
    "certificate.reinstated": EntryType.CERTIFICATE_REINSTATED,
    "certificate.withdrawn": EntryType.CERTIFICATE_WITHDRAWN,
    "certificate.cancelled": EntryType.CERTIFICATE_CANCELLED,
    "certificate.renewed": EntryType.CERTIFICATE_RENEWED,
}
KEY_EVENTS = {
    "key.added": EntryType.KEY_ADDED,
    "key.rotated": EntryType.KEY_ROTATED,
    "key.revoked": EntryType.KEY_REVOKED,
}


def _details(actor: Caller | None, details: Mapping[str, Any] | None) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    if actor is not None:
        merged["actor_user_id"] = actor.user_id
    for name, value in (details or {}).items():
        merged[name] = value if value is None or isinstance(value, bool | int) else str(value)[:500]
    return merged


def record_certificate_event(
    session: Session,
    entry_type: str,
    *,
    number: str,
    credential_json: str,
    issuer_id: int,
    actor: Caller | None = None,
    details: Mapping[str, Any] | None = None,
) -> LogEntry:
    """Append a certificate entry to the transparency log, in the caller's transaction."""
    return append_entry(
        session,
        entry_type=CERTIFICATE_EVENTS[entry_type],
        record_type="certificate",
        record_id=number,
        content=credential_json.encode("utf-8"),
        organisation_id=issuer_id,
        details=_details(actor, details),
    )


@dataclass(frozen=True)
class IssuanceEntry:
    """One issued (or renewed) certificate to log; ``credential`` is the signed credential
    exactly as stored and served (UTF-8 bytes)."""

    entry_type: str
    number: str
    credential: bytes
    details: Mapping[str, Any] | None = None


def record_issuances(
    session: Session,
    issuances: Sequence[IssuanceEntry],
    *,
    issuer_id: int,
    actor: Caller | None = None,
    occurred_at: datetime | None = None,
) -> Sequence[int]:
    """Append the entries of a batch of issued certificates at once (one trip to the log's
    sequencer, one batch of inserts), in order, in the caller's transaction; returns their
    log indices. ``occurred_at`` is the issuance time (default: now)."""
    return append_entry_indices(
        session,
        [
            NewEntry(
                entry_type=CERTIFICATE_EVENTS[item.entry_type],
                record_type="certificate",
                record_id=item.number,
                content=item.credential,
                organisation_id=issuer_id,
                occurred_at=occurred_at,
                details=_details(actor, item.details),
            )
            for item in issuances
        ],
    )


def record_status_change(
    session: Session,
    entry_type: str,
    certificate: Certificate,
    *,
    actor: Caller | None,
    reason: str,
) -> LogEntry:
    """Append a status change (suspended, reinstated, withdrawn, cancelled) of a certificate."""
    return record_certificate_event(
        session,
        entry_type,
        number=certificate.number,
        credential_json=certificate.credential_json,
        issuer_id=certificate.issuer_id,
        actor=actor,
        details={"reason": reason},
    )


def key_content(verification_method: str, key: IssuerKey) -> dict[str, Any]:
    """The key as its DID document publishes it (what the log entry's hash covers)."""
    content: dict[str, Any] = {
        "id": verification_method,
        "publicKeyMultibase": key.public_key_multibase,
        "validFrom": format_instant(key.valid_from),
    }
    if key.valid_until is not None:
        content["validUntil"] = format_instant(key.valid_until)
    if key.revoked_at is not None:
        content["revoked"] = format_instant(key.revoked_at)
    return content


def record_key_event(
    session: Session,
    entry_type: str,
    key: IssuerKey,
    *,
    verification_method: str,
    organisation_id: int,
    actor: Caller | None = None,
    details: Mapping[str, Any] | None = None,
) -> LogEntry:
    """Append an issuer-key entry to the transparency log, in the caller's transaction."""
    return append_entry(
        session,
        entry_type=KEY_EVENTS[entry_type],
        record_type="issuer_key",
        record_id=verification_method,
        content=key_content(verification_method, key),
        organisation_id=organisation_id,
        details=_details(actor, details),
    )
