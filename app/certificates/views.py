"""Certificates API: issuer keys, certificates and their lifecycle, the public register and
credential verification."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from app.auth.models import OrgKind, Role
from app.auth.principal import PUBLIC, Caller, allow
from app.certificates import credentials, issuance, keys, register, verification
from app.certificates.did import did_web_document_url
from app.certificates.models import IssuerKey
from app.certificates.schemas import (
    CertificateListQuery,
    CertificateOut,
    IssueCertificate,
    IssuerKeysOut,
    RegisterItemOut,
    RegisterQuery,
    ReissueCertificate,
    RenewCertificate,
    RevocationOut,
    RevokeKey,
    RotateKey,
    RotationOut,
    SiteIn,
    StatusChange,
    SuspendCertificate,
    VerificationOut,
    VerifyCredential,
)
from app.extensions import db, limiter
from app.http.api import route, set_activity_target
from app.http.pagination import PageResult
from app.http.schemas import Page

bp = Blueprint("certificates", __name__, url_prefix="/api/v1")

ASSOCIATION_ADMINS = allow([OrgKind.ASSOCIATION], [Role.ADMIN], "certificates:write")
# Issuing and status decisions belong to the association's admins and staff, not auditors:
# the person who audits does not decide (maker-checker).
ASSOCIATION_DECIDERS = allow([OrgKind.ASSOCIATION], [Role.ADMIN, Role.STAFF], "certificates:write")
ASSOCIATION_READERS = allow([OrgKind.ASSOCIATION], scope="certificates:read")
HOLDERS_AND_ISSUERS = allow([OrgKind.ASSOCIATION, OrgKind.ENTERPRISE], scope="certificates:read")
# Cancellation is the holder's choice: the firm's admins give a certificate up, or the
# association's admins and staff record it on the firm's request (the service checks which).
CANCELLERS = allow(
    [OrgKind.ASSOCIATION, OrgKind.ENTERPRISE], [Role.ADMIN, Role.STAFF], "certificates:write"
)
VERIFY_RATE = "120 per minute"


def _verify_rate() -> str:
    # Per client address; app.config["CERTIFICATES_VERIFY_RATE"] overrides the default.
    return str(current_app.config.get("CERTIFICATES_VERIFY_RATE", VERIFY_RATE))


def _sites(sites: list[SiteIn] | None) -> list[credentials.Site] | None:
    return None if sites is None else [credentials.Site(s.name, s.address, s.gln) for s in sites]


def _key_out(organisation_did: str, key: IssuerKey) -> dict[str, Any]:
    return {
        "verification_method": f"{organisation_did}#{key.fragment}",
        "fragment": key.fragment,
        "public_key_multibase": key.public_key_multibase,
        "status": key.status,
        "valid_from": key.valid_from,
        "valid_until": key.valid_until,
        "revoked_at": key.revoked_at,
        "revocation_reason": key.revocation_reason,
    }


@route(bp, "/issuer/keys", access=ASSOCIATION_READERS, response=IssuerKeysOut, area="certificates")
def list_issuer_keys(caller: Caller) -> dict[str, Any]:
    """The association's DID and every signing key it has had, with their windows."""
    organisation = keys.require_issuer(db.session, caller.organisation_id)
    did = keys.issuer_did(organisation)
    return {
        "did": did,
        "did_document_url": did_web_document_url(did),
        "keys": [_key_out(did, key) for key in keys.list_keys(db.session, organisation.id)],
    }


@route(
    bp,
    "/issuer/keys/rotate",
    methods=("POST",),
    access=ASSOCIATION_ADMINS,
    body=RotateKey,
    response=RotationOut,
    status=201,
    area="certificates",
)
def rotate_issuer_key(caller: Caller, body: RotateKey) -> dict[str, Any]:
    """Retire the signing key and start a new one (the first key when there is none).

    Certificates signed with the retired key stay valid; status lists are re-signed."""
    organisation = keys.require_issuer(db.session, caller.organisation_id)
    result = keys.rotate_key(db.session, organisation, actor=caller)
    did = keys.issuer_did(organisation)
    set_activity_target("issuer_key", result.active.fragment)
    return {
        "retired": _key_out(did, result.retired) if result.retired else None,
        "active": _key_out(did, result.active),
    }


@route(
    bp,
    "/issuer/keys/<fragment>/revoke",
    methods=("POST",),
    access=ASSOCIATION_ADMINS,
    body=RevokeKey,
    response=RevocationOut,
    area="certificates",
)
def revoke_issuer_key(caller: Caller, fragment: str, body: RevokeKey) -> dict[str, Any]:
    """Revoke a compromised key from a date on: signatures made since then no longer verify.

    Revoking the active key rotates first. The answer lists the certificates to re-issue."""
    organisation = keys.require_issuer(db.session, caller.organisation_id)
    result = keys.revoke_key(
        db.session,
        organisation,
        fragment,
        revoked_from=body.revoked_from,
        reason=body.reason,
        actor=caller,
    )
    did = keys.issuer_did(organisation)
    set_activity_target("issuer_key", fragment)
    return {
        "key": _key_out(did, result.key),
        "replacement": _key_out(did, result.replacement) if result.replacement else None,
        "affected_certificates": result.affected_certificates,
    }


@route(
    bp,
    "/certificates",
    access=HOLDERS_AND_ISSUERS,
    query=CertificateListQuery,
    response=Page[RegisterItemOut],
    area="certificates",
)
def list_certificates(caller: Caller, query: CertificateListQuery) -> PageResult[Any]:
    """Certificates the caller's association issued, or the caller's firm holds."""
    page = register.list_certificates(
        db.session, caller, status_filter=query.status, limit=query.limit, cursor=query.cursor
    )
    return PageResult(
        [register.summarise(db.session, c) for c in page.items], page.limit, page.next_cursor
    )


@route(
    bp,
    "/certificates",
    methods=("POST",),
    access=ASSOCIATION_DECIDERS,
    body=IssueCertificate,
    response=CertificateOut,
    status=201,
    area="certificates",
)
def issue_certificate(caller: Caller, body: IssueCertificate) -> tuple[dict[str, Any], Any]:
    """Issue a signed certificate on a granted audit decision (all or nothing).

    The scope defaults to the audited products and sites; a narrower one may be given."""
    certificate = issuance.issue_certificate(
        db.session,
        caller,
        body.decision_id,
        label_quota=body.label_quota,
        gtins=body.gtins,
        sites=_sites(body.sites),
        valid_from=body.valid_from,
        validity_months=body.validity_months,
    )
    set_activity_target("certificate", certificate.number)
    location = credentials.certificate_url(certificate.number)
    return register.describe(db.session, certificate), {"Location": location}


@route(
    bp,
    "/certificates/<number>",
    access=HOLDERS_AND_ISSUERS,
    response=CertificateOut,
    area="certificates",
)
def get_certificate(caller: Caller, number: str) -> dict[str, Any]:
    """One certificate of the caller's association or firm, with its history."""
    certificate = credentials.get_certificate_for(db.session, caller, number)
    return register.describe(db.session, certificate)


@route(
    bp,
    "/certificates/<number>/suspend",
    methods=("POST",),
    access=ASSOCIATION_DECIDERS,
    body=SuspendCertificate,
    response=CertificateOut,
    area="certificates",
)
def suspend_certificate(caller: Caller, number: str, body: SuspendCertificate) -> dict[str, Any]:
    """Suspend an active certificate (reason, optional planned end): flips its suspension bit."""
    set_activity_target("certificate", number)
    certificate = credentials.suspend_certificate(
        db.session, caller, number, reason=body.reason, until=body.until
    )
    return register.describe(db.session, certificate)


@route(
    bp,
    "/certificates/<number>/reinstate",
    methods=("POST",),
    access=ASSOCIATION_DECIDERS,
    body=StatusChange,
    response=CertificateOut,
    area="certificates",
)
def reinstate_certificate(caller: Caller, number: str, body: StatusChange) -> dict[str, Any]:
    """Reinstate a suspended certificate: clears its suspension bit."""
    set_activity_target("certificate", number)
    certificate = credentials.reinstate_certificate(db.session, caller, number, reason=body.reason)
    return register.describe(db.session, certificate)


@route(
    bp,
    "/certificates/<number>/withdraw",
    methods=("POST",),
    access=ASSOCIATION_DECIDERS,
    body=StatusChange,
    response=CertificateOut,
    area="certificates",
)
def withdraw_certificate(caller: Caller, number: str, body: StatusChange) -> dict[str, Any]:
    """Withdraw a certificate for good: sets its revocation bit."""
    set_activity_target("certificate", number)
    certificate = credentials.withdraw_certificate(db.session, caller, number, reason=body.reason)
    return register.describe(db.session, certificate)


@route(
    bp,
    "/certificates/<number>/cancel",
    methods=("POST",),
    access=CANCELLERS,
    body=StatusChange,
    response=CertificateOut,
    area="certificates",
)
def cancel_certificate(caller: Caller, number: str, body: StatusChange) -> dict[str, Any]:
    """Cancel a certificate its holder gives up (final): sets its revocation bit.

    The holder firm's admins cancel their own certificate; the issuing association's admins
    and staff record a cancellation the firm asked for. The firm's staff are refused (403)."""
    set_activity_target("certificate", number)
    certificate = credentials.cancel_certificate(db.session, caller, number, reason=body.reason)
    return register.describe(db.session, certificate)


@route(
    bp,
    "/certificates/<number>/renew",
    methods=("POST",),
    access=ASSOCIATION_DECIDERS,
    body=RenewCertificate,
    response=CertificateOut,
    status=201,
    area="certificates",
)
def renew_certificate(caller: Caller, number: str, body: RenewCertificate) -> dict[str, Any]:
    """Renew on the granted decision of a re-certification audit: a new certificate that
    references and replaces this one."""
    set_activity_target("certificate", number)
    certificate = issuance.renew_certificate(
        db.session,
        caller,
        number,
        body.decision_id,
        label_quota=body.label_quota,
        validity_months=body.validity_months,
        reason=body.reason,
    )
    return register.describe(db.session, certificate)


@route(
    bp,
    "/certificates/<number>/reissue",
    methods=("POST",),
    access=ASSOCIATION_DECIDERS,
    body=ReissueCertificate,
    response=CertificateOut,
    status=201,
    area="certificates",
)
def reissue_certificate(caller: Caller, number: str, body: ReissueCertificate) -> dict[str, Any]:
    """Re-issue with a changed scope or label quota: a new certificate replaces this one."""
    set_activity_target("certificate", number)
    certificate = credentials.reissue_certificate(
        db.session,
        caller,
        number,
        gtins=body.gtins,
        sites=_sites(body.sites),
        label_quota=body.label_quota,
        reason=body.reason,
    )
    return register.describe(db.session, certificate)


@route(
    bp,
    "/register/certificates",
    access=PUBLIC,
    query=RegisterQuery,
    response=Page[RegisterItemOut],
    area="register",
)
def search_register(query: RegisterQuery) -> PageResult[Any]:
    """Search the public register by certificate number, firm name or registration number."""
    page = register.search_register(
        db.session, q=query.q, status_filter=query.status, limit=query.limit, cursor=query.cursor
    )
    return PageResult(
        [register.summarise(db.session, c) for c in page.items], page.limit, page.next_cursor
    )


@route(
    bp,
    "/register/certificates/<number>",
    access=PUBLIC,
    response=CertificateOut,
    area="register",
)
def register_entry(number: str) -> dict[str, Any]:
    """A certificate of the public register: facts, current status and history."""
    return register.describe(db.session, credentials.get_certificate(db.session, number))


@route(
    bp,
    "/verify/credential",
    methods=("POST",),
    access=PUBLIC,
    body=VerifyCredential,
    response=VerificationOut,
    area="verify",
)
@limiter.limit(_verify_rate)
def verify_credential(body: VerifyCredential) -> dict[str, Any]:
    """Verify a credential: every check (well-formed, issuer, key window, signature, validity,
    revocation, suspension, standard, register) and the overall verdict.

    The same checks run offline with ``python -m app.verify``."""
    outcome = verification.verify_credential(db.session, body.verifiableCredential)
    certificate = outcome.certificate
    return {
        **outcome.report.as_dict(),
        "register_entry": (
            {
                "number": certificate.number,
                "status": credentials.effective_status(certificate),
                "in_force": outcome.in_force,
                "url": credentials.certificate_url(certificate.number),
            }
            if certificate is not None
            else None
        ),
    }
