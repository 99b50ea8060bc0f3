"""The certificates domain's public services, in one place for other domains to import.

The implementations live in focused modules:

- :mod:`app.certificates.keys`: issuer keys and DIDs (generation, rotation, revocation,
  DID documents, the active signing key);
- :mod:`app.certificates.status`: Bitstring Status Lists (random slots, bit flips, signing);
- :mod:`app.certificates.credentials`: building and signing credentials, the lifecycle, the
  standing of a certificate, label quota reservations;
- :mod:`app.certificates.issuance`: issuing and renewing on granted audit decisions;
- :mod:`app.certificates.verification`: verifying a presented credential against the register;
- :mod:`app.certificates.register`: the public register (search, public description).

What labels (issue 5) need:

- ``certificate_in_force_for(session, firm_id, gtin)``: the firm's certificate in force whose
  scope covers the GTIN, or None (a product may bear the mark only while there is one);
- ``reserve_label_quota(session, certificate_id, count)`` / ``release_label_quota(...)``:
  count labels against ``label_quota`` under a row lock (``LabelQuotaExceeded`` when full,
  ``CertificateNotInForce`` when not in force);
- ``signing_key(session, association)``: the association's active key, opened, to sign
  compact label signatures (its ``verification_method`` is the ``kid`` to bind in).
"""

from app.certificates.credentials import (
    cancel_certificate,
    certificate_in_force_for,
    effective_status,
    expire_certificates,
    get_certificate,
    get_certificate_for,
    is_in_force,
    issue_certificates,
    live_certificates_of,
    reinstate_certificate,
    reissue_certificate,
    release_label_quota,
    reserve_label_quota,
    standing,
    status_reason_text,
    suspend_certificate,
    withdraw_certificate,
)
from app.certificates.issuance import issue_certificate, renew_certificate
from app.certificates.keys import (
    did_document,
    issuer_did,
    revoke_key,
    rotate_key,
    signing_key,
)
from app.certificates.register import describe, search_register
from app.certificates.verification import verify_credential

__all__ = [
    "cancel_certificate",
    "certificate_in_force_for",
    "describe",
    "did_document",
    "effective_status",
    "expire_certificates",
    "get_certificate",
    "get_certificate_for",
    "is_in_force",
    "issue_certificate",
    "issue_certificates",
    "issuer_did",
    "live_certificates_of",
    "reinstate_certificate",
    "reissue_certificate",
    "release_label_quota",
    "renew_certificate",
    "reserve_label_quota",
    "revoke_key",
    "rotate_key",
    "search_register",
    "signing_key",
    "standing",
    "status_reason_text",
    "suspend_certificate",
    "verify_credential",
    "withdraw_certificate",
]
