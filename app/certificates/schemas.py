"""Request and response schemas of the certificates API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, Field, StringConstraints, field_validator

from app.certificates.models import CertificateEventKind, CertificateStatus, KeyStatus
from app.http.schemas import PageQuery, RequestSchema, ResponseSchema
from app.transparency.schemas import InclusionProofOut

# Reasons are public and final (DID documents, the log, certificate pages): blank is no reason.
Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    Field(description="Why (recorded and shown publicly)."),
]


class IssuerKeyOut(ResponseSchema):
    """A public view of an issuer key: never any private material."""

    verification_method: str
    fragment: str
    public_key_multibase: str
    status: KeyStatus
    valid_from: datetime
    valid_until: datetime | None
    revoked_at: datetime | None = Field(description="Signatures from this instant on fail.")
    revocation_reason: str | None


class IssuerKeysOut(ResponseSchema):
    did: str
    did_document_url: str
    keys: list[IssuerKeyOut]


class RotateKey(RequestSchema):
    reason: Reason | None = None


class RotationOut(ResponseSchema):
    retired: IssuerKeyOut | None
    active: IssuerKeyOut


class RevokeKey(RequestSchema):
    revoked_from: AwareDatetime | None = Field(
        None,
        description="Compromised since (default: now; not before the key's valid_from); "
        "signatures from then on fail.",
    )
    reason: Reason


class RevocationOut(ResponseSchema):
    key: IssuerKeyOut
    replacement: IssuerKeyOut | None
    affected_certificates: list[str] = Field(
        description="Live (active or suspended) certificates signed with the key since the "
        "revocation instant: re-issue them, they no longer verify."
    )


class SiteIn(RequestSchema):
    name: str = Field(min_length=1, max_length=200)
    address: str | None = Field(None, max_length=300)
    gln: str | None = Field(None, pattern=r"^[0-9]{13}$")


class ScopeSiteOut(ResponseSchema):
    """A production site in a certificate's scope."""

    name: str
    address: str | None = None
    gln: str | None = None


class IssueCertificate(RequestSchema):
    decision_id: int = Field(description="The granted audit decision the certificate rests on.")
    label_quota: int = Field(ge=0, le=100_000_000, description="Labels the mark licence allows.")
    gtins: list[str] | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="Products in scope (default: those of the audit).",
    )
    sites: list[SiteIn] | None = Field(
        None, min_length=1, max_length=50, description="Sites in scope (default: the audit's)."
    )
    valid_from: AwareDatetime | None = Field(None, description="Default: now.")
    validity_months: int = Field(36, ge=1, le=60)


class RenewCertificate(RequestSchema):
    decision_id: int = Field(description="The granted decision of the re-certification audit.")
    label_quota: int | None = Field(None, ge=0, le=100_000_000)
    validity_months: int = Field(36, ge=1, le=60)
    reason: Reason | None = None


class ReissueCertificate(RequestSchema):
    gtins: list[str] | None = Field(None, min_length=1, max_length=500)
    sites: list[SiteIn] | None = Field(None, min_length=1, max_length=50)
    label_quota: int | None = Field(None, ge=0, le=100_000_000)
    reason: Reason


class SuspendCertificate(RequestSchema):
    reason: Reason
    until: AwareDatetime | None = Field(None, description="Planned end of the suspension.")


class StatusChange(RequestSchema):
    reason: Reason


class PartyOut(ResponseSchema):
    slug: str
    name_zh: str
    name_en: str
    registration_number: str | None = None


class EventOut(ResponseSchema):
    kind: CertificateEventKind
    reason: str | None
    suspended_until: datetime | None
    related_certificate: str | None
    occurred_at: datetime
    by: str | None = Field(description="The acting organisation's name (English).")
    by_zh: str | None = Field(description="The acting organisation's name (Chinese).")


class StandardOut(ResponseSchema):
    code: str
    version: str
    content_hash: str


NOT_IN_FORCE = Field(
    description="Why the certificate is not in force: suspended, withdrawn, cancelled, "
    "superseded, key_revoked (signed by an issuer key revoked from an instant at or before "
    "its proof: to be re-issued), expired, not_yet_valid, surveillance_overdue or "
    "surveillance_refused (null: in force)."
)


class CertificateOut(ResponseSchema):
    id: int
    number: str
    status: CertificateStatus = Field(
        description="The status as of now: a certificate past its validity is expired even "
        "before the daily sweep records it."
    )
    status_reason: str | None
    suspension_overdue: bool = Field(
        description="Suspended and the planned end (suspended_until) has passed: it stays "
        "suspended until the issuer reinstates or withdraws it."
    )
    in_force: bool
    not_in_force_because: str | None = NOT_IN_FORCE
    next_surveillance_due_on: date | None
    issuer: PartyOut
    issuer_did: str
    holder: PartyOut
    standard: StandardOut
    gtins: list[str]
    sites: list[ScopeSiteOut]
    mark_licence_number: str
    label_quota: int
    labels_issued: int
    valid_from: datetime
    valid_until: datetime
    suspended_until: datetime | None
    issued_at: datetime
    log_index: int | None = Field(description="Index of the issuance in the transparency log.")
    transparency: InclusionProofOut | None = Field(
        None,
        description=(
            "Inclusion proof of the issuance entry against the latest signed checkpoint; check "
            "it offline with the log's verifier key from /log/vkey. Null while the entry "
            "awaits a checkpoint."
        ),
    )
    replaces: str | None
    replaced_by: str | None
    latest_replacement: str | None = Field(
        description=(
            "The newest certificate of the chain of renewals and re-issues that replaced this "
            "one (the end of the replaced_by links); null when it is not replaced."
        )
    )
    url: str
    vc_url: str
    status_list_urls: list[str]
    events: list[EventOut]


class RegisterItemOut(ResponseSchema):
    id: int
    number: str
    status: CertificateStatus
    suspension_overdue: bool
    in_force: bool
    not_in_force_because: str | None = NOT_IN_FORCE
    next_surveillance_due_on: date | None
    holder: PartyOut
    standard: StandardOut
    valid_from: datetime
    valid_until: datetime
    url: str


class RegisterQuery(PageQuery):
    q: str | None = Field(
        None,
        max_length=100,
        description="Certificate number or firm name (zh or en), whole or in part, or a "
        "registration number; empty or blank means no filter, as on the register page.",
    )
    status: CertificateStatus | None = Field(
        None, description="Only certificates with this status; empty means any status."
    )

    @field_validator("q", "status", mode="before")
    @classmethod
    def _blank_is_no_filter(cls, value: Any) -> Any:
        # The register page's search form sends ``q=`` and ``status=`` when nothing is chosen.
        if isinstance(value, str) and not value.strip():
            return None
        return value


class CertificateListQuery(PageQuery):
    status: CertificateStatus | None = None


class VerifyCredential(RequestSchema):
    verifiableCredential: dict[str, Any] = Field(
        description="The credential to verify, as issued (JSON object)."
    )


class CheckOut(ResponseSchema):
    name: str
    status: str = Field(description="pass, fail, skip or unknown")
    code: str | None
    message: str


class RegisterStatusOut(ResponseSchema):
    number: str
    status: CertificateStatus
    in_force: bool
    url: str


class VerificationOut(ResponseSchema):
    verdict: str = Field(description="valid, invalid or indeterminate")
    checked_at: datetime
    credential_id: str | None
    issuer: str | None
    verification_method: str | None
    checks: list[CheckOut]
    register_entry: RegisterStatusOut | None = Field(
        description="The register's current record of the certificate, when it is one of ours."
    )
