"""Issuer keys and DIDs: generation, sealing, rotation, revocation, DID documents.

Each association signs with one active Ed25519 key at a time. Rotation retires it (recording
the end of its window) and creates the next; revocation marks a compromised key as unusable
from a given instant. Every key ever used stays in the association's DID document, so
certificates signed inside a key's window keep verifying. Private keys exist only sealed in
their row (:mod:`app.keystore`); they are opened in memory to sign and never leave the process.

Every signing operation of an association starts with :func:`lock_issuer`, which locks the
active key's row: issuance, status changes, rotation and revocation of one association are
serialised, so status list bits, index allocation and numbering never race.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from flask_babel import gettext
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app.auth.models import Organisation, OrgKind
from app.auth.principal import Caller
from app.certificates import ledger
from app.certificates.did import IssuerKeyInfo, build_did_document, did_web, format_instant
from app.certificates.errors import (
    InvalidRevocationDate,
    IssuerKeyAlreadyRevoked,
    IssuerKeyNotFound,
    NotAnIssuer,
)
from app.certificates.models import IssuerKey, KeyStatus
from app.certificates.multibase import encode_ed25519_multikey
from app.db import utcnow
from app.errors import FieldError
from app.keystore import open_private_key, seal_private_key

CONTEXT_PATH = "/contexts/brandtrace/v1"
# Opened private keys by public key; bounded, and only ever holds keys of this deployment.
_OPENED: dict[str, Ed25519PrivateKey] = {}
_OPENED_MAX = 256


def base_url() -> str:
    return str(current_app.config["BASE_URL"])


def context_url() -> str:
    """The brandtrace JSON-LD context, served by this deployment."""
    return base_url() + CONTEXT_PATH


def issuer_did(organisation: Organisation) -> str:
    """``did:web:<host>:orgs:<slug>``; its document is served at ``/orgs/<slug>/did.json``."""
    return did_web(base_url(), "orgs", organisation.slug)


def _whole_second(moment: datetime) -> datetime:
    # Proofs carry whole-second ``created`` times; windows use the same precision so a
    # signature made in the key's first second is inside its window.
    return moment.replace(microsecond=0)


def _seal_label(public_key_multibase: str) -> str:
    return f"brandtrace:issuer-key:{public_key_multibase}"


@dataclass(frozen=True)
class SigningKey:
    """The active key of an issuer, opened for signing: use it, never log or return it."""

    key: IssuerKey
    private_key: Ed25519PrivateKey
    verification_method: str
    issuer_did: str

    def __repr__(self) -> str:  # never print key material, even by accident
        return f"SigningKey({self.verification_method})"


def require_issuer(session: Session, organisation_id: int) -> Organisation:
    """The organisation, if it may issue (an association); ``NotAnIssuer`` otherwise."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or organisation.kind != OrgKind.ASSOCIATION:
        raise NotAnIssuer("Only associations hold issuer keys and issue certificates.")
    return organisation


def _create_key(
    session: Session, organisation: Organisation, now: datetime, actor: Caller | None = None
) -> IssuerKey:
    private_key = Ed25519PrivateKey.generate()
    multikey = encode_ed25519_multikey(private_key.public_key().public_bytes_raw())
    count = session.scalar(
        select(func.count())
        .select_from(IssuerKey)
        .where(IssuerKey.organisation_id == organisation.id)
    )
    key = IssuerKey(
        organisation_id=organisation.id,
        fragment=f"key-{(count or 0) + 1}",
        public_key_multibase=multikey,
        sealed_private_key=seal_private_key(
            private_key,
            label=_seal_label(multikey),
            secret_key=current_app.config["SECRET_KEY"],
        ),
        status=KeyStatus.ACTIVE,
        valid_from=_whole_second(now),
    )
    session.add(key)
    session.flush()
    _OPENED[multikey] = private_key
    ledger.record_key_event(
        session,
        "key.added",
        key,
        verification_method=f"{issuer_did(organisation)}#{key.fragment}",
        organisation_id=organisation.id,
        actor=actor,
    )
    return key


_ACTIVE_KEY = select(IssuerKey).where(
    IssuerKey.organisation_id == bindparam("organisation_id"),
    IssuerKey.status == KeyStatus.ACTIVE,
)
# Built once: every signing operation of an association starts with this statement.
_LOCK_ACTIVE_KEY = _ACTIVE_KEY.with_for_update(of=IssuerKey).execution_options(
    populate_existing=True
)


def _active_key(session: Session, organisation_id: int, *, lock: bool) -> IssuerKey | None:
    return session.scalar(
        _LOCK_ACTIVE_KEY if lock else _ACTIVE_KEY, {"organisation_id": organisation_id}
    )


def lock_issuer(session: Session, organisation: Organisation) -> IssuerKey:
    """Lock the association's active key row (creating the first key if there is none) and
    return it: the one serialisation point of every signing operation of the association."""
    if organisation.kind != OrgKind.ASSOCIATION:
        raise NotAnIssuer("Only associations hold issuer keys and issue certificates.")
    key = _active_key(session, organisation.id, lock=True)
    if key is None:
        # First key: lock the organisation row so two first issuances cannot both create one.
        session.scalar(
            select(Organisation.id)
            .where(Organisation.id == organisation.id)
            .with_for_update(of=Organisation)
        )
        key = _active_key(session, organisation.id, lock=True) or _create_key(
            session, organisation, utcnow()
        )
    return key


def lock_issuer_id(session: Session, organisation_id: int) -> IssuerKey:
    """:func:`lock_issuer` for an association known by its id."""
    organisation = session.get(Organisation, organisation_id)
    assert organisation is not None
    return lock_issuer(session, organisation)


def _open(key: IssuerKey, session: Session) -> Ed25519PrivateKey:
    private_key = _OPENED.get(key.public_key_multibase)
    if private_key is None:
        # The column itself, not the entity: its deferral (the sealed key is never loaded
        # with the row) does not apply to a column select, and no loader option is needed.
        sealed = session.scalar(select(IssuerKey.sealed_private_key).where(IssuerKey.id == key.id))
        assert sealed is not None
        private_key = open_private_key(
            sealed,
            label=_seal_label(key.public_key_multibase),
            secret_key=current_app.config["SECRET_KEY"],
        )
        if len(_OPENED) >= _OPENED_MAX:
            _OPENED.clear()
        _OPENED[key.public_key_multibase] = private_key
    return private_key


def signing_key(session: Session, organisation: Organisation) -> SigningKey:
    """Lock the issuer (see :func:`lock_issuer`) and open its active key for signing.

    Issue 5 (labels) signs compact label signatures with this key: the verification method
    id is the ``kid`` to bind into them.
    """
    key = lock_issuer(session, organisation)
    did = issuer_did(organisation)
    return SigningKey(
        key=key,
        private_key=_open(key, session),
        verification_method=f"{did}#{key.fragment}",
        issuer_did=did,
    )


def list_keys(session: Session, organisation_id: int) -> list[IssuerKey]:
    """Every key the association ever had, oldest first."""
    return list(
        session.scalars(
            select(IssuerKey)
            .where(IssuerKey.organisation_id == organisation_id)
            .order_by(IssuerKey.id)
        )
    )


def key_infos(keys: Sequence[IssuerKey]) -> list[IssuerKeyInfo]:
    return [
        IssuerKeyInfo(
            fragment=key.fragment,
            public_key_multibase=key.public_key_multibase,
            valid_from=key.valid_from,
            valid_until=key.valid_until,
            revoked_at=key.revoked_at,
        )
        for key in keys
    ]


def did_document(session: Session, organisation: Organisation) -> dict[str, object] | None:
    """The association's DID document, or None when it has no key yet (or is no issuer)."""
    if organisation.kind != OrgKind.ASSOCIATION:
        return None
    keys = list_keys(session, organisation.id)
    if not keys:
        return None
    return build_did_document(
        issuer_did(organisation), key_infos(keys), extra_contexts=[context_url()]
    )


@dataclass(frozen=True)
class RotationResult:
    """A rotation: the key that was retired (None for the first key) and the new one."""

    retired: IssuerKey | None
    active: IssuerKey


def rotate_key(
    session: Session, organisation: Organisation, *, actor: Caller | None = None
) -> RotationResult:
    """Retire the active key (its window ends now) and start signing with a new one.

    Status lists are re-signed with the new key so that every list served was signed by the
    active key. Certificates signed with the old key stay valid: its window covers them.
    """
    from app.certificates import status

    if organisation.kind != OrgKind.ASSOCIATION:
        raise NotAnIssuer("Only associations hold issuer keys and issue certificates.")
    now = utcnow()
    old = _active_key(session, organisation.id, lock=True)
    if old is not None:
        old.status = KeyStatus.RETIRED
        old.valid_until = _whole_second(now)
        # Free the one-active-key slot before the new key takes it.
        session.flush()
    new = _create_key(session, organisation, now, actor)
    if old is not None:
        ledger.record_key_event(
            session,
            "key.rotated",
            old,
            verification_method=f"{issuer_did(organisation)}#{old.fragment}",
            organisation_id=organisation.id,
            actor=actor,
            details={"replaced_by": new.fragment},
        )
    status.resign_lists(session, organisation)
    return RotationResult(retired=old, active=new)


@dataclass(frozen=True)
class RevocationResult:
    """A key revocation: the key, its replacement when it was the active key, and the
    numbers of the live certificates it signed from the revocation instant on (now invalid:
    re-issue them; ended certificates it signed are not re-issued, so not listed)."""

    key: IssuerKey
    replacement: IssuerKey | None
    affected_certificates: list[str]


def revoke_key(
    session: Session,
    organisation: Organisation,
    fragment: str,
    *,
    revoked_from: datetime | None,
    reason: str,
    actor: Caller | None = None,
) -> RevocationResult:
    """Revoke a compromised key from ``revoked_from`` (default: now) on.

    ``revoked_from`` lies within the key's life: not in the future, not before the key's
    ``valid_from`` (422 ``invalid-revocation-date``, nothing changed).

    Signatures whose proof was created at or after that instant no longer verify; earlier
    ones do. Revoking the active key rotates first. Status lists are re-signed with the
    active key, since lists signed after the instant would otherwise stop verifying.
    """
    from app.certificates import status
    from app.certificates.models import LIVE_STATUSES, Certificate

    if organisation.kind != OrgKind.ASSOCIATION:
        raise NotAnIssuer("Only associations hold issuer keys and issue certificates.")
    now = utcnow()
    effective = _whole_second(revoked_from or now)
    if effective > now:
        raise InvalidRevocationDate(
            gettext("A key is revoked from now or from a past instant, not from the future."),
            errors=[
                FieldError("revoked_from", "not_future", gettext("Give a time no later than now."))
            ],
        )
    lock_issuer(session, organisation)
    key = session.scalar(
        select(IssuerKey)
        .where(IssuerKey.organisation_id == organisation.id, IssuerKey.fragment == fragment)
        .with_for_update(of=IssuerKey)
        .execution_options(populate_existing=True)
    )
    if key is None:
        raise IssuerKeyNotFound(f"No key {fragment!r} for this association.")
    if key.status == KeyStatus.REVOKED:
        raise IssuerKeyAlreadyRevoked(
            f"Key {fragment} was already revoked from {key.revoked_at:%Y-%m-%dT%H:%M:%SZ}."
        )
    if effective < key.valid_from:
        # Nothing was signed with the key before its window began: a revocation from before
        # then says nothing more and is most likely a mistyped date.
        since = format_instant(key.valid_from)
        raise InvalidRevocationDate(
            gettext(
                "Key %(key)s signs only from %(since)s on; revoke it from that instant or later.",
                key=fragment,
                since=since,
            ),
            errors=[
                FieldError(
                    "revoked_from",
                    "not_before_key",
                    gettext("Give a time no earlier than %(since)s.", since=since),
                )
            ],
            extra={"key_valid_from": since},
        )
    replacement = None
    if key.status == KeyStatus.ACTIVE:
        replacement = rotate_key(session, organisation, actor=actor).active
    key.status = KeyStatus.REVOKED
    key.revoked_at = effective
    key.revocation_reason = reason
    key.revocation_recorded_at = now
    session.flush()
    ledger.record_key_event(
        session,
        "key.revoked",
        key,
        verification_method=f"{issuer_did(organisation)}#{key.fragment}",
        organisation_id=organisation.id,
        actor=actor,
        details={"revoked_from": format_instant(effective), "reason": reason},
    )
    status.resign_lists(session, organisation)
    # Only live certificates can be re-issued: cancelled, withdrawn, superseded or expired
    # ones stay ended, so they are not on the list to re-issue.
    affected = list(
        session.scalars(
            select(Certificate.number)
            .where(
                Certificate.issuer_key_id == key.id,
                Certificate.issued_at >= effective,
                Certificate.status.in_(LIVE_STATUSES),
            )
            .order_by(Certificate.id)
        )
    )
    return RevocationResult(key=key, replacement=replacement, affected_certificates=affected)
