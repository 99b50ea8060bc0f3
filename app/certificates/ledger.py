"""What this domain appends to the transparency log (issue 8), in the same transaction as the
record it describes.

TODO(issue 8): the log's ``append_entry`` service has not landed yet. These two functions are
the only call sites: once it lands, make them call it (entry type, record id, SHA-256 of the
record's content, acting organisation) and nothing else in this package needs to change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from app.auth.principal import Caller

if TYPE_CHECKING:
    from app.certificates.models import Certificate, IssuerKey

# Entry types, as named in issue 8.
CERTIFICATE_EVENTS = (
    "certificate.issued",
    "certificate.suspended",
    "certificate.reinstated",
    "certificate.withdrawn",
    "certificate.renewed",
)
KEY_EVENTS = ("key.added", "key.rotated", "key.revoked")


def record_certificate_event(
    session: Session,
    entry_type: str,
    certificate: Certificate,
    *,
    actor: Caller | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append a certificate entry to the transparency log (issue 8; not wired yet)."""
    assert entry_type in CERTIFICATE_EVENTS, entry_type
    # TODO(issue 8): append_entry(session, type=entry_type, record_id=certificate.number,
    #     content_sha256=sha256(certificate.credential_json), organisation_id=
    #     certificate.issuer_id, actor=actor, details=details)


def record_key_event(
    session: Session,
    entry_type: str,
    key: IssuerKey,
    *,
    organisation_id: int,
    actor: Caller | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append an issuer-key entry to the transparency log (issue 8; not wired yet)."""
    assert entry_type in KEY_EVENTS, entry_type
    # TODO(issue 8): append_entry(session, type=entry_type, record_id=<verification method>,
    #     content_sha256=sha256(public key multibase + window), organisation_id=..., ...)
