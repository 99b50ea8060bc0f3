"""Verification against the register: the pure verifier of
:mod:`app.certificates.verifier`, fed with documents built from the database.

The DID documents and status list credentials given to the verifier are exactly those this
service publishes (``/orgs/<slug>/did.json``, ``/orgs/<slug>/status/...``), so the offline
verifier given those files reaches the same verdict. On top, the service consults what only
it knows: the register (is this certificate ours, as issued?) and the published standards.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Organisation, OrgKind
from app.certificates import keys, status
from app.certificates.credentials import certificate_url, is_in_force
from app.certificates.did import did_web
from app.certificates.models import Certificate
from app.certificates.verifier import RegisterAnswer, Report, Verifier
from app.standards.models import Standard, StandardVersion, VersionStatus

_LIST_PATH = re.compile(r"^/orgs/([a-z0-9-]{1,64})/status/([a-z]+)/([0-9]{1,9})$")


class RegisterResolver:
    """Resolves this deployment's issuers, status lists, register and standards from the
    database; it is authoritative for DIDs under this host's ``orgs`` path."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.base_url = keys.base_url()
        self.did_prefix = did_web(self.base_url, "orgs") + ":"
        self._dids: dict[str, Mapping[str, Any] | None] = {}
        self._lists: dict[str, Mapping[str, Any] | None] = {}
        self._associations: dict[str, Organisation | None] = {}
        self._certificates: dict[str, Certificate | None] = {}

    def _association(self, slug: str) -> Organisation | None:
        if slug not in self._associations:
            self._associations[slug] = self.session.scalar(
                select(Organisation).where(
                    Organisation.slug == slug, Organisation.kind == OrgKind.ASSOCIATION
                )
            )
        return self._associations[slug]

    def did_document(self, did: str) -> Mapping[str, Any] | None:
        if did not in self._dids:
            document = None
            if self.is_authoritative(did):
                association = self._association(did.removeprefix(self.did_prefix))
                if association is not None:
                    document = keys.did_document(self.session, association)
            self._dids[did] = document
        return self._dids[did]

    def is_authoritative(self, did: str) -> bool:
        return did.startswith(self.did_prefix)

    def status_list(self, url: str) -> Mapping[str, Any] | None:
        if url not in self._lists:
            document = None
            match = _LIST_PATH.match(url.removeprefix(self.base_url))
            if url.startswith(self.base_url) and match:
                association = self._association(match[1])
                if association is not None:
                    found = status.find_list(self.session, association, match[2], int(match[3]))
                    document = json.loads(found.credential_json) if found else None
            self._lists[url] = document
        return self._lists[url]

    def standard_version(self, code: str, version: str, content_hash: str) -> bool | None:
        found = self.session.scalar(
            select(StandardVersion.status)
            .join(Standard, Standard.id == StandardVersion.standard_id)
            .where(
                Standard.code == code,
                StandardVersion.version == version,
                StandardVersion.content_hash == content_hash,
            )
        )
        # Superseded versions stay known: certificates issued under them remain meaningful.
        return found in (VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED)

    def certificate(self, credential: Mapping[str, Any]) -> Certificate | None:
        """The register's certificate named by the credential, if any."""
        subject = credential.get("credentialSubject")
        number = subject.get("certificateNumber") if isinstance(subject, Mapping) else None
        if not isinstance(number, str) or len(number) > 40:
            return None
        if number not in self._certificates:
            self._certificates[number] = self.session.scalar(
                select(Certificate).where(Certificate.number == number)
            )
        return self._certificates[number]

    def register_entry(self, credential: Mapping[str, Any]) -> RegisterAnswer | None:
        issuer = credential.get("issuer")
        issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
        if not isinstance(issuer_id, str) or not self.is_authoritative(issuer_id):
            return None
        certificate = self.certificate(credential)
        if certificate is None:
            return RegisterAnswer(
                False, "no certificate with this number is in the register", "NOT_REGISTERED"
            )
        proof = credential.get("proof")
        proof_value = proof.get("proofValue") if isinstance(proof, Mapping) else None
        if proof_value != certificate.proof_value or credential.get("id") != certificate_url(
            certificate.number
        ):
            return RegisterAnswer(
                False,
                f"certificate {certificate.number} is in the register, but not as presented",
                "NOT_AS_REGISTERED",
            )
        return RegisterAnswer(True, f"certificate {certificate.number} is in the register")


@dataclass(frozen=True)
class VerificationOutcome:
    """The verifier's report, and the register's current record when the certificate is ours."""

    report: Report
    certificate: Certificate | None
    in_force: bool


def verify_credential(
    session: Session, credential: Any, *, now: datetime | None = None
) -> VerificationOutcome:
    """Verify a presented credential with every check (see :mod:`app.certificates.verifier`)."""
    resolver = RegisterResolver(session)
    report = Verifier(resolver).verify(credential, now=now)
    certificate = resolver.certificate(credential) if isinstance(credential, Mapping) else None
    if certificate is not None and report.check("registered").status.value != "pass":
        certificate = None
    return VerificationOutcome(
        report=report,
        certificate=certificate,
        in_force=certificate is not None and is_in_force(session, certificate, now),
    )
