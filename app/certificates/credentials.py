"""Certificates as W3C Verifiable Credentials 2.0: building, signing, issuing, and the
lifecycle (suspend, reinstate, withdraw, cancel, renew, re-issue, expire).

A certificate is issued all or nothing: its number, its two status list slots, its signed
credential, its first lifecycle event and its transparency-log entry are written in the
caller's transaction, and any failure rolls all of it back.

The credential follows the UN Transparency Protocol's Digital Conformity Credential:
the subject is a ``ConformityAttestation`` issued to the firm (``issuedToParty``), against a
``referenceStandard`` (code, version, content hash), for a ``scope`` of products (GS1 Digital
Link URIs of their GTINs) and facilities, backed by an ``assessment`` (the audit and its
decision), plus what a regional brand adds: the brand, the mark licence and its label quota.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import astuple, dataclass
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from flask_babel import gettext
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from app.auth.models import Organisation, OrgKind, Role
from app.auth.principal import Caller
from app.certificates import keys, ledger, status
from app.certificates.dataintegrity import format_created, jcs, sign_canonical_documents
from app.certificates.errors import (
    CancellationNotAllowed,
    CertificateCancelled,
    CertificateNotFound,
    CertificateNotInForce,
    CertificateWithdrawn,
    InvalidCertificateRequest,
    InvalidTransition,
    LabelQuotaExceeded,
)
from app.certificates.models import (
    LIVE_STATUSES,
    Certificate,
    CertificateEvent,
    CertificateEventKind,
    CertificateNumberSequence,
    CertificateStatus,
    StatusPurpose,
)
from app.certificates.statuslist import build_status_list_entry
from app.certificates.verifier import (
    BRAND_CERTIFICATE_TYPE,
    VC_V2_CONTEXT,
    signed_after_revocation,
)
from app.db import BulkInsert, driver_execute, placeholder, run_sql, utcnow
from app.errors import FieldError
from app.gs1.digital_link import build_path_uri
from app.gs1.identifiers import GS1SyntaxError, normalize_gtin

MAX_VALIDITY = timedelta(days=5 * 366)
_CERTIFICATES: Table = Certificate.__table__  # type: ignore[assignment]
_EVENTS: Table = CertificateEvent.__table__  # type: ignore[assignment]
_SEQUENCES: Table = CertificateNumberSequence.__table__  # type: ignore[assignment]
# Plain SQL for the driver (see app.db.run_sql), as every issuance runs it.
_TAKE_NUMBERS = (
    "UPDATE certificate_number_sequences SET last_value = last_value + {p} "
    "WHERE organisation_id = {p} AND year = {p} RETURNING last_value"
)
# Plain SQL for the driver: what the credentials and rows state of the firms (loading and
# refreshing their ORM objects cost more per batch than the rest of its reads).
_HOLDERS = (
    "SELECT id, kind, name_zh, name_en, registration_number, registration_scheme "
    "FROM organisations WHERE id IN ({ids})"
)
# The columns an issuance writes, in the order its rows are built (per certificate, then what
# one request's certificates share). Those that start NULL (status reason, suspended until) are
# left out: the driver binds None far slower than a number or a string.
_CERTIFICATE_COLUMNS = (
    "number",
    "mark_licence_number",
    "revocation_list_id",
    "revocation_index",
    "suspension_list_id",
    "suspension_index",
    "credential_json",
    "proof_value",
    "log_index",
    "issuer_id",
    "firm_id",
    "brand_id",
    "decision_id",
    "standard_version_id",
    "issuer_key_id",
    "status",
    "status_changed_at",
    "valid_from",
    "valid_until",
    "holder_name_zh",
    "holder_name_en",
    "holder_registration_number",
    "standard_code",
    "standard_version",
    "standard_content_hash",
    "scope_gtins",
    "scope_sites",
    "label_quota",
    "labels_issued",
    "issued_at",
    "created_at",
    # Written only when some certificate of the batch has one (NULL otherwise).
    "previous_certificate_id",
    "issued_by_user_id",
)
_EVENT_COLUMNS = (
    "certificate_id",
    "kind",
    "actor_organisation_id",
    "occurred_at",
    # Written only when some event of the batch has one (NULL otherwise).
    "reason",
    "related_certificate_id",
    "actor_user_id",
)
MAX_LABEL_QUOTA = 100_000_000
USCC_SCHEME = {
    "id": "https://www.gsxt.gov.cn",
    "name": "Unified Social Credit Code (GB 32100-2015)",
}


@dataclass(frozen=True)
class Site:
    """A production site in a certificate's scope."""

    name: str
    address: str | None = None
    gln: str | None = None

    def as_dict(self) -> dict[str, Any]:
        site: dict[str, Any] = {"name": self.name}
        if self.address:
            site["address"] = self.address
        if self.gln:
            site["gln"] = self.gln
        return site


@dataclass(frozen=True)
class StandardRef:
    """The standard version a certificate attests conformity to, as published."""

    code: str
    version: str
    content_hash: str
    title: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class BrandRef:
    """The regional brand whose mark the certificate licenses."""

    name_zh: str
    name_en: str
    url: str | None = None


@dataclass(frozen=True)
class AssessmentRef:
    """The evaluation behind the certificate: the audit and the decision that granted it."""

    audit_url: str | None
    assessment_date: date
    decision_url: str | None = None
    decided_on: date | None = None
    # (URL, description, SHA-256 hex) of each evidence file of the audit.
    evidence: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class CertificateFacts:
    """Everything a certificate states, resolved and checked by the caller except where
    :func:`issue_certificates` validates it (GTINs, sites, quota, validity). Build them from a
    granted decision with :func:`app.certificates.issuance.facts_from_decision`."""

    firm_id: int
    brand_id: int
    decision_id: int
    standard_version_id: int
    standard: StandardRef
    gtins: Sequence[str]
    sites: Sequence[Site]
    label_quota: int
    valid_from: datetime
    valid_until: datetime
    brand: BrandRef | None = None
    assessment: AssessmentRef | None = None
    previous: Certificate | None = None
    event: CertificateEventKind = CertificateEventKind.ISSUED
    reason: str | None = None
    labels_issued: int = 0


def number_prefix(organisation: Organisation) -> str:
    """Initials of the association's slug: ``qimen-tea-association`` -> ``QTA``."""
    return "".join(part[0] for part in organisation.slug.split("-") if part).upper()[:8]


def certificate_path(number: str) -> str:
    return f"/certificates/{number}"


def certificate_url(number: str) -> str:
    """The public page of a certificate, also the credential's ``id``."""
    return keys.base_url() + certificate_path(number)


def credential_url(number: str) -> str:
    """Where the signed credential is served, byte for byte as issued."""
    return certificate_url(number) + "/credential.json"


def _validate(
    facts: CertificateFacts, normalised: dict[str, str] | None = None
) -> tuple[list[str], list[dict[str, Any]]]:
    """The request's GTINs in GTIN-14 form and its sites as JSON objects, or
    :class:`InvalidCertificateRequest` naming every invalid field. ``normalised`` remembers
    the valid GTINs seen (a batch's requests name the same products again and again)."""
    errors: list[FieldError] = []
    gtins: list[str] = []
    known = {} if normalised is None else normalised
    for position, gtin in enumerate(facts.gtins):
        if type(gtin) is str and gtin in known:
            gtins.append(known[gtin])
            continue
        try:
            gtins.append(normalize_gtin(gtin, f"gtins/{position}"))
        except GS1SyntaxError as error:
            errors.append(FieldError(f"/gtins/{position}", error.rule, error.message))
        else:
            if type(gtin) is str:
                known[gtin] = gtins[-1]
    if not facts.gtins:
        errors.append(FieldError("/gtins", "min_items", "name at least one product GTIN"))
    if len(set(gtins)) != len(gtins):
        errors.append(FieldError("/gtins", "unique", "a GTIN is listed twice"))
    if not facts.sites:
        errors.append(FieldError("/sites", "min_items", "name at least one production site"))
    if not 0 <= facts.label_quota <= MAX_LABEL_QUOTA:
        errors.append(FieldError("/label_quota", "range", f"0 to {MAX_LABEL_QUOTA} labels"))
    elif facts.labels_issued > facts.label_quota:
        errors.append(
            FieldError(
                "/label_quota",
                "below_issued",
                f"{facts.labels_issued} labels were already issued under this licence",
            )
        )
    if facts.valid_until <= facts.valid_from:
        errors.append(FieldError("/valid_until", "after_valid_from", "must be after valid_from"))
    elif facts.valid_until - facts.valid_from > MAX_VALIDITY:
        errors.append(FieldError("/valid_until", "max_validity", "at most five years of validity"))
    if errors:
        raise InvalidCertificateRequest("The certificate request is not valid.", errors=errors)
    return gtins, [site.as_dict() for site in facts.sites]


@dataclass(frozen=True)
class Holder:
    """The firm a certificate is issued to, as its credential and register row name it."""

    id: int
    kind: OrgKind
    name_zh: str
    name_en: str
    registration_number: str | None
    registration_scheme: str | None


def _holders(session: Session, ids: Iterable[int]) -> dict[int, Holder]:
    session.flush()  # as a query of the ORM would: pending changes to a firm are read
    wanted = sorted(set(ids))
    connection = session.connection()
    marker = placeholder(connection)
    rows = driver_execute(
        connection, _HOLDERS.format(ids=", ".join([marker] * len(wanted))), tuple(wanted)
    )
    return {row[0]: Holder(row[0], OrgKind(row[1]), row[2], row[3], row[4], row[5]) for row in rows}


def _holder_party(holder: Organisation | Holder) -> dict[str, Any]:
    party: dict[str, Any] = {"name": holder.name_zh, "nameEn": holder.name_en}
    if holder.registration_number:
        party["registeredId"] = holder.registration_number
        if holder.registration_scheme == "uscc":
            party["idScheme"] = {"type": ["IdentifierScheme"], **USCC_SCHEME}
    return party


def _reference_standard(ref: StandardRef) -> dict[str, Any]:
    standard: dict[str, Any] = {
        "type": ["Standard"],
        "code": ref.code,
        "version": ref.version,
        "contentHash": ref.content_hash,
    }
    if ref.url:
        standard["id"] = ref.url
    if ref.title:
        standard["name"] = ref.title
    return standard


def _brand(ref: BrandRef) -> dict[str, Any]:
    brand: dict[str, Any] = {"name": ref.name_zh, "nameEn": ref.name_en}
    if ref.url:
        brand["id"] = ref.url
    return brand


def _assessment(ref: AssessmentRef) -> dict[str, Any]:
    assessment: dict[str, Any] = {
        "type": ["ConformityAssessment"],
        "assessmentDate": ref.assessment_date.isoformat(),
        "conformance": True,
    }
    if ref.audit_url:
        assessment["id"] = ref.audit_url
    if ref.decision_url:
        assessment["decision"] = ref.decision_url
    if ref.decided_on:
        assessment["decisionDate"] = ref.decided_on.isoformat()
    if ref.evidence:
        assessment["auditEvidence"] = [
            {"id": url, "name": name, "sha256": digest} for url, name, digest in ref.evidence
        ]
    return assessment


@dataclass(frozen=True)
class _Shared:
    """What every credential of a batch states alike, as JSON values (plain or canonical)."""

    context: Any
    credential_type: Any
    subject_type: Any
    issuer: Any


# orjson writes JCS's bytes for the documents of CredentialWriter.canonical (see there); with
# these options it refuses, instead of writing differently, what JCS would write otherwise or
# not at all: integers beyond 2**53, subclasses of str and int, dates and dataclasses.
_ORJSON_AS_JCS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_STRICT_INTEGER
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


@dataclass(frozen=True)
class CredentialParts:
    """What one certificate's credential states of its own: its numbers, holder, request,
    checked scope (``gtins`` in GTIN-14 form, ``sites`` as JSON objects) and status entries."""

    number: str
    licence_number: str
    holder: Organisation | Holder
    facts: CertificateFacts
    gtins: Sequence[str]
    sites: Sequence[dict[str, Any]]
    status_entries: Sequence[dict[str, Any]]


class CredentialWriter:
    """Builds the credentials one issuer signs in one batch, and writes their RFC 8785 form.

    The credential follows the UN Transparency Protocol's Digital Conformity Credential (see
    the module's docstring). :meth:`document` gives it as a plain JSON document;
    :meth:`canonical` gives ``jcs(document(...))`` without canonicalising a whole document:
    what the batch shares (contexts, types, issuer) and what one firm's certificates share
    (the holder) are canonicalised once with :func:`jcs` and put in as ``orjson`` fragments,
    and ``orjson`` writes the rest with sorted keys. That is JCS byte for byte here: every
    member name is an ASCII constant, so code point order is JCS's UTF-16 order; strings are
    escaped alike; and the only numbers are integers, which :data:`_ORJSON_AS_JCS` keeps within
    JCS's exact range. What orjson refuses (a lone surrogate, a float quota) goes through
    :func:`jcs`.

    Both take a request's checked values as :func:`issue_certificates` has them: ``gtins`` in
    GTIN-14 form and ``sites`` as JSON objects.
    """

    def __init__(self, *, base_url: str, issuer_did: str, issuer: Organisation) -> None:
        self.base_url = base_url
        self.context = [VC_V2_CONTEXT, base_url + keys.CONTEXT_PATH]
        # build_path_uri(base, [("01", gtin)]), with the base URL checked once for all GTINs;
        # a GTIN-14 is digits, which percent-encoding leaves as they are.
        self._link_base = build_path_uri(base_url, []) + "/01/"
        self._plain = _Shared(
            context=self.context,
            credential_type=["VerifiableCredential", BRAND_CERTIFICATE_TYPE],
            subject_type=["ConformityAttestation", "Attestation"],
            issuer={"id": issuer_did, "name": issuer.name_zh, "nameEn": issuer.name_en},
        )
        self._canonical = _Shared(*(orjson.Fragment(jcs(value)) for value in astuple(self._plain)))
        self._holders: dict[Organisation | Holder, orjson.Fragment] = {}
        # Canonical fragments of the standard, brand and assessment parts, by value: a batch's
        # requests from one decision state the same ones.
        self._fragments: dict[Any, Any] = {}

    def document(self, parts: CredentialParts) -> dict[str, Any]:
        """The unsigned credential of a certificate (a plain JSON document)."""
        return self._build(self._plain, _holder_party(parts.holder), parts, _plain_part)

    def _fragment(self, build: Any, ref: Any) -> Any:
        key = (build, ref)
        try:
            fragment = self._fragments.get(key)
        except TypeError:  # a part given as something unhashable
            return build(ref)
        if fragment is None:
            value = build(ref)
            try:
                fragment = orjson.Fragment(jcs(value))
            except ValueError:  # not JCS-encodable: left to the whole document's fallback
                return value
            self._fragments[key] = fragment
        return fragment

    def canonical(self, parts: CredentialParts) -> bytes:
        """``jcs(document(parts))``, written directly."""
        holder_party = self._holders.get(parts.holder)
        if holder_party is None:
            holder_party = orjson.Fragment(jcs(_holder_party(parts.holder)))
            self._holders[parts.holder] = holder_party
        if type(parts.facts.label_quota) is int:
            try:
                return orjson.dumps(
                    self._build(self._canonical, holder_party, parts, self._fragment),
                    option=_ORJSON_AS_JCS,
                )
            except orjson.JSONEncodeError:
                pass
        return jcs(self.document(parts))

    def _build(
        self, shared: _Shared, holder_party: Any, parts: CredentialParts, part: Any
    ) -> dict[str, Any]:
        number, facts = parts.number, parts.facts
        page = f"{self.base_url}{certificate_path(number)}"
        link_base = self._link_base
        subject: dict[str, Any] = {
            "id": page + "#attestation",
            "type": shared.subject_type,
            "attestationType": "certification",
            "certificateNumber": number,
            "issuedToParty": holder_party,
            "referenceStandard": part(_reference_standard, facts.standard),
            "scope": {
                "products": [{"id": link_base + gtin, "gtin": gtin} for gtin in parts.gtins],
                "facilities": list(parts.sites),
            },
            "markLicence": {"licenceNumber": parts.licence_number, "labelQuota": facts.label_quota},
        }
        if facts.brand is not None:
            subject["brand"] = part(_brand, facts.brand)
        if facts.assessment is not None:
            subject["assessment"] = [part(_assessment, facts.assessment)]
        if facts.previous is not None:
            subject["replaces"] = f"{self.base_url}{certificate_path(facts.previous.number)}"
        return {
            "@context": shared.context,
            "id": page,
            "type": shared.credential_type,
            "name": f"Regional brand certificate {number}",
            "issuer": shared.issuer,
            "validFrom": format_created(facts.valid_from),
            "validUntil": format_created(facts.valid_until),
            "credentialSubject": subject,
            "credentialStatus": list(parts.status_entries),
        }


def _optional(columns: tuple[str, ...], wanted: tuple[bool, ...]) -> tuple[str, ...]:
    """``columns`` whose last ``len(wanted)`` (optional) ones are kept where ``wanted``."""
    fixed = len(columns) - len(wanted)
    return columns[:fixed] + tuple(
        column for column, keep in zip(columns[fixed:], wanted, strict=True) if keep
    )


def _plain_part(build: Any, ref: Any) -> Any:
    return build(ref)


def _allocate_numbers(session: Session, issuer: Organisation, count: int, year: int) -> list[int]:
    # Under the issuer lock: nobody else allocates numbers for this association meanwhile.
    # One UPDATE ... RETURNING on the session's connection (the ORM's read, then flush, costs
    # more than the issuance of a certificate).
    taken = run_sql(session.connection(), _TAKE_NUMBERS, (count, issuer.id, year))
    last = taken[0][0] if taken else None
    if last is None:
        session.connection().execute(
            _SEQUENCES.insert().values(organisation_id=issuer.id, year=year, last_value=count)
        )
        last = count
    return list(range(last - count + 1, last + 1))


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate just issued: its register id and number, the signed credential exactly
    as stored and served (UTF-8), and the index of its transparency-log entry."""

    id: int
    number: str
    credential: bytes
    log_index: int | None

    @functools.cached_property
    def credential_json(self) -> str:
        """The signed credential as text (decoded when asked: a batch's callers rarely do)."""
        return self.credential.decode("utf-8")


def issue_certificates(
    session: Session,
    issuer: Organisation,
    requests: Sequence[CertificateFacts],
    *,
    actor: Caller | None = None,
) -> list[IssuedCertificate]:
    """Issue one signed certificate per request, all or nothing, in one pass.

    Numbers, status list slots (one revocation and one suspension bit each, in an order
    nobody can predict: see :mod:`app.certificates.status`),
    the signed credentials, the ``issued``/``renewed``/``reissued`` events and the log
    entries are written in the caller's transaction. Previous certificates named in the
    requests are superseded (their revocation bit is set). The firm and standard facts are
    the caller's to check (see :mod:`app.certificates.issuance`).
    """
    if not requests:
        return []
    # Identical requests (one facts object issued many times) are validated once.
    validated: dict[int, tuple[list[str], list[dict[str, Any]]]] = {}
    normalised: dict[str, str] = {}
    checked = []
    for facts in requests:
        if id(facts) not in validated:
            validated[id(facts)] = _validate(facts, normalised)
        checked.append(validated[id(facts)])
    firms = _holders(session, (facts.firm_id for facts in requests))
    for facts in requests:
        firm = firms.get(facts.firm_id)
        if firm is None or firm.kind != OrgKind.ENTERPRISE:
            raise InvalidCertificateRequest(
                "Certificates are issued to firms (enterprise organisations).",
                errors=[FieldError("/firm", "enterprise", "not a firm")],
            )
    signing = keys.signing_key(session, issuer)
    previous_ids = [facts.previous.id for facts in requests if facts.previous is not None]
    if previous_ids:
        # Lock the certificates being replaced before the log's sequencer is taken (below),
        # in the order every other writer of a certificate row takes them: no deadlock with a
        # label order counting against the old certificate.
        session.scalars(
            select(Certificate)
            .where(Certificate.id.in_(previous_ids))
            .with_for_update(of=Certificate)
            .execution_options(populate_existing=True)
        ).all()
    for facts in requests:
        if facts.previous is not None:
            check_replaceable(facts.previous)
    now = utcnow()
    prefix = number_prefix(issuer)
    numbers = _allocate_numbers(session, issuer, len(requests), now.year)
    revocation = status.allocate(session, issuer, StatusPurpose.REVOCATION, len(requests), signing)
    suspension = status.allocate(session, issuer, StatusPurpose.SUSPENSION, len(requests), signing)
    created = format_created(now)
    base_url = keys.base_url()
    list_urls = {
        status_list.id: status.list_url(issuer.slug, status_list.purpose, status_list.sequence)
        for status_list in {
            slot.status_list.id: slot.status_list for slot in revocation + suspension
        }.values()
    }
    numbers_text = [f"{prefix}-{now.year}-{value:06d}" for value in numbers]
    licences = [f"{prefix}-ML-{now.year}-{value:06d}" for value in numbers]

    writer = CredentialWriter(base_url=base_url, issuer_did=signing.issuer_did, issuer=issuer)

    def canonical_documents() -> Iterator[bytes]:
        for position, facts in enumerate(requests):
            gtins, sites = checked[position]
            yield writer.canonical(
                CredentialParts(
                    number=numbers_text[position],
                    licence_number=licences[position],
                    holder=firms[facts.firm_id],
                    facts=facts,
                    gtins=gtins,
                    sites=sites,
                    status_entries=[
                        build_status_list_entry(
                            list_url=list_urls[slot.status_list.id],
                            index=slot.index,
                            status_purpose=slot.status_list.purpose.value,
                        )
                        for slot in (revocation[position], suspension[position])
                    ],
                )
            )

    signed: list[bytes] = []
    proof_values: list[str] = []
    for text, proof_value in sign_canonical_documents(
        canonical_documents(),
        signing.private_key,
        context=writer.context,
        verification_method=signing.verification_method,
        created=created,
    ):
        signed.append(text)
        proof_values.append(proof_value)
    # The log entries are known before the rows exist: their indices are stored with them.
    log_indices = ledger.record_issuances(
        session,
        [
            ledger.IssuanceEntry(
                "certificate.renewed"
                if facts.event == CertificateEventKind.RENEWED
                else "certificate.issued",
                number,
                text,
                {"replaces": facts.previous.number} if facts.previous else None,
            )
            for number, text, facts in zip(numbers_text, signed, requests, strict=True)
        ],
        issuer_id=issuer.id,
        actor=actor,
        occurred_at=now,
    )
    actor_user_id = actor.user_id if actor else None
    connection = session.connection()
    # The optional columns (at the end of the rows) are written only when some row fills
    # them: binding None costs the driver four times a number, and most batches renew nothing.
    any_previous = any(facts.previous is not None for facts in requests)
    any_reason = any(facts.reason is not None for facts in requests)
    by_user = actor_user_id is not None
    certificates = BulkInsert(
        connection,
        _CERTIFICATES,
        _optional(_CERTIFICATE_COLUMNS, (any_previous, by_user)),
        utf8_columns=("credential_json",),
    )
    bind = certificates.bind
    credential_text = certificates.text
    # Values shared by a batch, or by one request's certificates, are converted once; so are
    # the validity times and scopes that requests repeat.
    now_bound = bind("issued_at", now)
    active = bind("status", CertificateStatus.ACTIVE)
    per_request: dict[int, tuple[Any, ...]] = {}
    converted: dict[tuple[str, Any], Any] = {}

    def bind_once(column: str, key: Any, value: Any) -> Any:
        try:
            return converted[column, key]
        except KeyError:
            result = converted[column, key] = bind(column, value)
            return result
        except TypeError:  # an unhashable key
            return bind(column, value)

    rows: list[tuple[Any, ...]] = []
    for position, facts in enumerate(requests):
        shared = per_request.get(id(facts))
        if shared is None:
            gtins, sites = checked[position]
            firm = firms[facts.firm_id]
            shared = (
                issuer.id,
                firm.id,
                facts.brand_id,
                facts.decision_id,
                facts.standard_version_id,
                signing.key.id,
                active,
                now_bound,
                bind_once("valid_from", facts.valid_from, facts.valid_from),
                bind_once("valid_until", facts.valid_until, facts.valid_until),
                firm.name_zh,
                firm.name_en,
                firm.registration_number,
                facts.standard.code,
                facts.standard.version,
                facts.standard.content_hash,
                bind_once("scope_gtins", tuple(gtins), gtins),
                bind_once("scope_sites", tuple(facts.sites), sites),
                facts.label_quota,
                facts.labels_issued,
                now_bound,
                now_bound,
            )
            if any_previous:
                shared += (facts.previous.id if facts.previous else None,)
            if by_user:
                shared += (actor_user_id,)
            per_request[id(facts)] = shared
        rev, sus = revocation[position], suspension[position]
        rows.append(
            (
                numbers_text[position],
                licences[position],
                rev.status_list.id,
                rev.index,
                sus.status_list.id,
                sus.index,
                credential_text(signed[position]),
                proof_values[position],
                log_indices[position],
                *shared,
            )
        )
    id_of: dict[str, int] = dict(certificates.execute_returning(rows, ("number", "id")))
    ids = [id_of[number] for number in numbers_text]
    events = BulkInsert(
        connection, _EVENTS, _optional(_EVENT_COLUMNS, (any_reason, any_previous, by_user))
    )
    kinds = {kind: events.bind("kind", kind) for kind in {facts.event for facts in requests}}
    occurred = events.bind("occurred_at", now)
    actor_organisation_id = actor.organisation_id if actor else issuer.id
    event_rows = []
    for certificate_id, facts in zip(ids, requests, strict=True):
        event: tuple[Any, ...] = (
            certificate_id,
            kinds[facts.event],
            actor_organisation_id,
            occurred,
        )
        if any_reason:
            event += (facts.reason,)
        if any_previous:
            event += (facts.previous.id if facts.previous else None,)
        if by_user:
            event += (actor_user_id,)
        event_rows.append(event)
    events.execute(event_rows)
    issued = [
        IssuedCertificate(
            id=certificate_id,
            number=number,
            credential=text,
            log_index=log_index,
        )
        for certificate_id, number, text, log_index in zip(
            ids, numbers_text, signed, log_indices, strict=True
        )
    ]
    superseded = [
        (facts.previous, new)
        for new, facts in zip(issued, requests, strict=True)
        if facts.previous is not None
    ]
    if superseded:
        _supersede(session, issuer, superseded, signing, actor, now)
    return issued


def _record(
    session: Session,
    certificate: Certificate,
    kind: CertificateEventKind,
    *,
    actor: Caller | None,
    reason: str | None = None,
    suspended_until: datetime | None = None,
    related: Certificate | IssuedCertificate | None = None,
    now: datetime | None = None,
) -> CertificateEvent:
    event = CertificateEvent(
        certificate_id=certificate.id,
        kind=kind,
        reason=reason,
        suspended_until=suspended_until,
        related_certificate_id=related.id if related else None,
        actor_user_id=actor.user_id if actor else None,
        actor_organisation_id=actor.organisation_id if actor else certificate.issuer_id,
        occurred_at=now or utcnow(),
    )
    session.add(event)
    return event


def check_replaceable(previous: Certificate) -> None:
    _refuse_if_cancelled(previous)
    if previous.status == CertificateStatus.WITHDRAWN:
        raise CertificateWithdrawn(
            f"Certificate {previous.number} was withdrawn; withdrawal is final and it cannot be "
            "renewed or re-issued."
        )
    if previous.status == CertificateStatus.SUPERSEDED:
        raise InvalidTransition(
            f"Certificate {previous.number} was already replaced; renew or re-issue its "
            "latest version."
        )


def _supersede(
    session: Session,
    issuer: Organisation,
    pairs: Iterable[tuple[Certificate, IssuedCertificate]],
    signing: keys.SigningKey,
    actor: Caller | None,
    now: datetime,
) -> None:
    changes: list[tuple[int, int, bool]] = []
    for old, new in pairs:
        if old.status == CertificateStatus.SUSPENDED:
            changes.append((old.suspension_list_id, old.suspension_index, False))
        old.status = CertificateStatus.SUPERSEDED
        # In both languages, as the public pages show it to shoppers reading either.
        old.status_reason = f"由 {new.number} 替代 / replaced by {new.number}"
        old.status_changed_at = now
        old.suspended_until = None
        changes.append((old.revocation_list_id, old.revocation_index, True))
        _record(session, old, CertificateEventKind.SUPERSEDED, actor=actor, related=new, now=now)
    status.set_bits(session, issuer, changes, signing)


# --- lookups ---------------------------------------------------------------------------------


def get_certificate_by_id(session: Session, certificate_id: int) -> Certificate:
    certificate = session.get(Certificate, certificate_id)
    if certificate is None:
        raise CertificateNotFound(f"No certificate {certificate_id}.")
    return certificate


def current_certificate(session: Session, certificate: Certificate) -> Certificate:
    """A renewed or re-issued certificate stands for its successor: labels printed under the
    old number stay valid while the new one is in force."""
    seen = {certificate.id}
    while certificate.status is CertificateStatus.SUPERSEDED:
        successor = session.scalar(
            select(Certificate)
            .where(Certificate.previous_certificate_id == certificate.id)
            .order_by(Certificate.id.desc())
            .limit(1)
        )
        if successor is None or successor.id in seen:
            break
        seen.add(successor.id)
        certificate = successor
    return certificate


def get_certificate(session: Session, number: str) -> Certificate:
    """A certificate of the public register by number."""
    certificate = session.scalar(select(Certificate).where(Certificate.number == number))
    if certificate is None:
        raise CertificateNotFound(
            gettext("No certificate %(number)s in the public register.", number=number)
        )
    return certificate


def get_certificate_for(session: Session, caller: Caller, number: str) -> Certificate:
    """A certificate the caller's organisation issued or holds (others answer 404)."""
    certificate = session.scalar(select(Certificate).where(Certificate.number == number))
    if certificate is None or caller.organisation_id not in (
        certificate.issuer_id,
        certificate.firm_id,
    ):
        raise CertificateNotFound(f"No certificate {number} for your organisation.")
    return certificate


def _for_issuer(
    session: Session, caller: Caller, number: str, *, lock: bool = False
) -> Certificate:
    statement = select(Certificate).where(
        Certificate.number == number, Certificate.issuer_id == caller.organisation_id
    )
    if lock:
        statement = statement.with_for_update(of=Certificate)
    certificate = session.scalar(statement)
    if certificate is None:
        raise CertificateNotFound(f"No certificate {number} issued by your association.")
    return certificate


@dataclass(frozen=True)
class Standing:
    """Whether a certificate is in force now, and if not, why.

    In force = status active AND now within validity AND surveillance not overdue (and the
    latest surveillance decision not refused). ``reason`` is None when in force, else one of
    ``suspended``, ``withdrawn``, ``cancelled``, ``superseded``, ``key_revoked`` (signed by a
    key revoked from an instant at or before the signature: re-issue it), ``expired``,
    ``not_yet_valid``, ``surveillance_overdue``, ``surveillance_refused``."""

    in_force: bool
    reason: str | None
    next_surveillance_due_on: date | None


def proof_created(certificate: Certificate) -> datetime:
    """The ``created`` time of the certificate's proof: its issuance, to the whole second (as
    :func:`format_created` writes it)."""
    return certificate.issued_at.replace(microsecond=0)


def signed_by_revoked_key(certificate: Certificate) -> bool:
    """Whether the certificate's signing key was revoked from an instant at or before its
    proof, so that every verifier refuses it (``KEY_REVOKED``): the verifier's own rule."""
    return signed_after_revocation(proof_created(certificate), certificate.issuer_key.revoked_at)


def standing(session: Session, certificate: Certificate, now: datetime | None = None) -> Standing:
    """The certificate's standing at ``now`` (default: the current time)."""
    from app.audits.models import AuditDecision, DecisionOutcome
    from app.audits.services import surveillance_status

    now = now or utcnow()
    decision = session.get(AuditDecision, certificate.decision_id)
    assert decision is not None
    surveillance = surveillance_status(session, decision, now.date())
    reason: str | None = None
    if certificate.status != CertificateStatus.ACTIVE:
        reason = certificate.status.value
    elif signed_by_revoked_key(certificate):
        reason = "key_revoked"
    elif now >= certificate.valid_until:
        reason = "expired"
    elif now < certificate.valid_from:
        reason = "not_yet_valid"
    elif surveillance.latest_outcome != DecisionOutcome.GRANTED:
        reason = "surveillance_refused"
    elif surveillance.overdue:
        reason = "surveillance_overdue"
    return Standing(reason is None, reason, surveillance.next_due_on)


def effective_status(certificate: Certificate, now: datetime | None = None) -> CertificateStatus:
    """The status as of ``now``: an active or suspended certificate past its validity is
    expired even before the daily sweep records it (the credential's ``validUntil`` says so
    to every verifier already)."""
    now = now or utcnow()
    if certificate.status in LIVE_STATUSES and certificate.valid_until <= now:
        return CertificateStatus.EXPIRED
    return certificate.status


def suspension_overdue(certificate: Certificate, now: datetime | None = None) -> bool:
    """The suspension's planned end has passed and the issuer has not yet decided.

    A suspension never lifts itself: reinstating needs the issuer to verify that the cause is
    corrected, and a cause left uncorrected ends in withdrawal (ISO/IEC 17065 7.11, ISO/IEC
    17021-1 9.6.5; China's certificate rules likewise). So the certificate stays suspended
    and is flagged as awaiting that decision."""
    now = now or utcnow()
    return (
        certificate.status == CertificateStatus.SUSPENDED
        and certificate.suspended_until is not None
        and certificate.suspended_until <= now
        and certificate.valid_until > now
    )


def is_in_force(session: Session, certificate: Certificate, now: datetime | None = None) -> bool:
    """In force = status active AND now within validity AND surveillance not overdue."""
    return standing(session, certificate, now).in_force


# --- lifecycle -------------------------------------------------------------------------------


def _issuer_of(session: Session, certificate: Certificate) -> Organisation:
    issuer = session.get(Organisation, certificate.issuer_id)
    assert issuer is not None
    return issuer


def suspend_certificate(
    session: Session,
    caller: Caller,
    number: str,
    *,
    reason: str,
    until: datetime | None = None,
) -> Certificate:
    """Suspend an active certificate (reversible): sets its suspension bit and re-signs the
    list; ``until`` is when the suspension is planned to end (a reinstatement or withdrawal
    decides)."""
    certificate = _for_issuer(session, caller, number)
    issuer, signing, now = _lock_for_change(session, certificate)
    if certificate.status == CertificateStatus.WITHDRAWN:
        raise CertificateWithdrawn(f"Certificate {number} was withdrawn; withdrawal is final.")
    if certificate.status != CertificateStatus.ACTIVE:
        raise InvalidTransition(
            f"Only an active certificate can be suspended; {number} is {certificate.status.value}."
        )
    if until is not None and until <= now:
        raise InvalidCertificateRequest(
            "A suspension ends in the future.",
            errors=[FieldError("/until", "future", "give a time after now")],
        )
    certificate.status = CertificateStatus.SUSPENDED
    certificate.status_reason = reason
    certificate.status_changed_at = now
    certificate.suspended_until = until
    status.set_bits(
        session,
        issuer,
        [(certificate.suspension_list_id, certificate.suspension_index, True)],
        signing,
    )
    _record(
        session,
        certificate,
        CertificateEventKind.SUSPENDED,
        actor=caller,
        reason=reason,
        suspended_until=until,
        now=now,
    )
    session.flush()
    ledger.record_status_change(
        session, "certificate.suspended", certificate, actor=caller, reason=reason
    )
    return certificate


def reinstate_certificate(
    session: Session, caller: Caller, number: str, *, reason: str
) -> Certificate:
    """Lift a suspension: clears the suspension bit and re-signs the list."""
    certificate = _for_issuer(session, caller, number)
    issuer, signing, now = _lock_for_change(session, certificate)
    if certificate.status == CertificateStatus.WITHDRAWN:
        raise CertificateWithdrawn(
            f"Certificate {number} was withdrawn; withdrawal is final and cannot be reinstated."
        )
    if certificate.status != CertificateStatus.SUSPENDED:
        raise InvalidTransition(
            f"Only a suspended certificate can be reinstated; {number} is "
            f"{certificate.status.value}."
        )
    if certificate.valid_until <= now:
        raise InvalidTransition(f"Certificate {number} has expired; renew it instead.")
    certificate.status = CertificateStatus.ACTIVE
    certificate.status_reason = reason
    certificate.status_changed_at = now
    certificate.suspended_until = None
    status.set_bits(
        session,
        issuer,
        [(certificate.suspension_list_id, certificate.suspension_index, False)],
        signing,
    )
    _record(
        session, certificate, CertificateEventKind.REINSTATED, actor=caller, reason=reason, now=now
    )
    session.flush()
    ledger.record_status_change(
        session, "certificate.reinstated", certificate, actor=caller, reason=reason
    )
    return certificate


def withdraw_certificate(
    session: Session, caller: Caller, number: str, *, reason: str
) -> Certificate:
    """Withdraw a certificate for good: sets its revocation bit (and clears a suspension)."""
    certificate = _for_issuer(session, caller, number)
    issuer, signing, now = _lock_for_change(session, certificate)
    if certificate.status in (CertificateStatus.WITHDRAWN, CertificateStatus.SUPERSEDED):
        raise InvalidTransition(f"Certificate {number} is already {certificate.status.value}.")
    _revoke(
        session,
        issuer,
        signing,
        certificate,
        CertificateStatus.WITHDRAWN,
        actor=caller,
        reason=reason,
        now=now,
    )
    return certificate


def cancel_certificate(
    session: Session, caller: Caller, number: str, *, reason: str
) -> Certificate:
    """Cancel a certificate its holder gives up (the firm stops the product, leaves the
    brand, ...): final, like a withdrawal, and like it sets the revocation bit (and clears a
    suspension), but the register records the holder's choice, not a sanction.

    The holder firm's admins cancel their own certificate; the issuing association's admins
    and staff record a cancellation the holder asked for. Other organisations are answered
    404 (they cannot tell it exists), the holder's staff and the issuer's other roles 403.
    Only an active or suspended certificate within its validity can be cancelled."""
    certificate = get_certificate_for(session, caller, number)
    if caller.organisation_id == certificate.firm_id:
        if caller.role != Role.ADMIN:
            raise CancellationNotAllowed(
                f"Only your firm's administrators can cancel certificate {number}."
            )
    elif caller.role not in (Role.ADMIN, Role.STAFF):
        raise CancellationNotAllowed(
            f"Only the association's admins and staff record the cancellation of {number}."
        )
    issuer, signing, now = _lock_for_change(session, certificate)
    if certificate.status == CertificateStatus.WITHDRAWN:
        raise CertificateWithdrawn(f"Certificate {number} was withdrawn; withdrawal is final.")
    if certificate.status not in LIVE_STATUSES:
        raise InvalidTransition(
            f"Only an active or suspended certificate can be cancelled; {number} is "
            f"{certificate.status.value}."
        )
    if certificate.valid_until <= now:
        raise InvalidTransition(f"Certificate {number} has expired; it cannot be cancelled.")
    _revoke(
        session,
        issuer,
        signing,
        certificate,
        CertificateStatus.CANCELLED,
        actor=caller,
        reason=reason,
        now=now,
    )
    return certificate


def live_certificates_of(
    session: Session, firm_id: int, brand_id: int, *, lock: bool = False
) -> list[Certificate]:
    """The firm's certificates for the brand that have not ended: active or suspended and
    within their validity (what :func:`cancel_certificate` accepts), oldest first.

    ``lock`` takes their row locks first; on PostgreSQL a certificate another transaction
    ended meanwhile is then re-read and left out instead of being cancelled a second time.
    Their issuers' signing locks come before them, the order every lifecycle change takes
    (:func:`_lock_for_change`), so that cancelling them next cannot wait for an issuer key held
    by a change that is itself waiting for one of these certificates."""
    statement = (
        select(Certificate)
        .where(
            Certificate.firm_id == firm_id,
            Certificate.brand_id == brand_id,
            Certificate.status.in_(LIVE_STATUSES),
            Certificate.valid_until > utcnow(),
        )
        .order_by(Certificate.id)
    )
    if lock:
        issuer_ids = session.scalars(
            statement.with_only_columns(Certificate.issuer_id).distinct().order_by(None)
        )
        for issuer_id in sorted(issuer_ids):
            keys.lock_issuer_id(session, issuer_id)
        statement = statement.with_for_update(of=Certificate).execution_options(
            populate_existing=True
        )
    return list(session.scalars(statement))


def lock_certificate(session: Session, certificate: Certificate) -> None:
    """Take the certificate's row lock and read it again (on PostgreSQL the latest committed
    state, after waiting for a transaction that holds the lock)."""
    session.refresh(certificate, with_for_update={"of": Certificate})


def _lock_for_change(
    session: Session, certificate: Certificate
) -> tuple[Organisation, keys.SigningKey, datetime]:
    """Before a lifecycle change: the issuer and its signing key, then the certificate's row
    lock with its state read again, and the moment of the change. A cancelled certificate is
    refused here for every change (cancellation is final)."""
    issuer = _issuer_of(session, certificate)
    signing = keys.signing_key(session, issuer)
    session.refresh(certificate, with_for_update={"of": Certificate})
    _refuse_if_cancelled(certificate)
    return issuer, signing, utcnow()


def _refuse_if_cancelled(certificate: Certificate) -> None:
    if certificate.status == CertificateStatus.CANCELLED:
        raise CertificateCancelled(
            f"Certificate {certificate.number} was cancelled at its holder's request; "
            "cancellation is final."
        )


# How each final status is recorded: the event, and the transparency log's entry type.
_ENDINGS = {
    CertificateStatus.WITHDRAWN: (CertificateEventKind.WITHDRAWN, "certificate.withdrawn"),
    CertificateStatus.CANCELLED: (CertificateEventKind.CANCELLED, "certificate.cancelled"),
}


def _revoke(
    session: Session,
    issuer: Organisation,
    signing: keys.SigningKey,
    certificate: Certificate,
    ending: CertificateStatus,
    *,
    actor: Caller,
    reason: str,
    now: datetime,
) -> None:
    # Withdrawal and cancellation end a certificate alike for every verifier (the revocation
    # bit, a suspension cleared); only the status, the event and the log entry tell them apart.
    kind, entry_type = _ENDINGS[ending]
    changes = [(certificate.revocation_list_id, certificate.revocation_index, True)]
    if certificate.status == CertificateStatus.SUSPENDED:
        changes.append((certificate.suspension_list_id, certificate.suspension_index, False))
    certificate.status = ending
    certificate.status_reason = reason
    certificate.status_changed_at = now
    certificate.suspended_until = None
    status.set_bits(session, issuer, changes, signing)
    _record(session, certificate, kind, actor=actor, reason=reason, now=now)
    session.flush()
    ledger.record_status_change(session, entry_type, certificate, actor=actor, reason=reason)


def reissue_facts(
    certificate: Certificate,
    *,
    gtins: Sequence[str] | None,
    sites: Sequence[Site] | None,
    label_quota: int | None,
    reason: str,
    standard: StandardRef,
    brand: BrandRef | None,
    assessment: AssessmentRef | None,
    now: datetime,
) -> CertificateFacts:
    """Facts of a re-issue (scope or quota change): same holder, standard and end of
    validity; labels already issued carry over to the new licence."""
    return CertificateFacts(
        firm_id=certificate.firm_id,
        brand_id=certificate.brand_id,
        decision_id=certificate.decision_id,
        standard_version_id=certificate.standard_version_id,
        standard=standard,
        gtins=list(gtins if gtins is not None else certificate.scope_gtins),
        sites=list(
            sites if sites is not None else [Site(**site) for site in certificate.scope_sites]
        ),
        label_quota=label_quota if label_quota is not None else certificate.label_quota,
        valid_from=now,
        valid_until=certificate.valid_until,
        brand=brand,
        assessment=assessment,
        previous=certificate,
        event=CertificateEventKind.REISSUED,
        reason=reason,
        labels_issued=certificate.labels_issued,
    )


def _refs_from_credential(
    certificate: Certificate,
) -> tuple[StandardRef, BrandRef | None, AssessmentRef | None]:
    # A re-issue restates what the certificate attested; the signed credential is the record.
    subject = json.loads(certificate.credential_json)["credentialSubject"]
    standard = subject["referenceStandard"]
    brand = subject.get("brand")
    assessment = (subject.get("assessment") or [None])[0]
    return (
        StandardRef(
            code=standard["code"],
            version=standard["version"],
            content_hash=standard["contentHash"],
            title=standard.get("name"),
            url=standard.get("id"),
        ),
        BrandRef(brand["name"], brand["nameEn"], brand.get("id")) if brand else None,
        AssessmentRef(
            audit_url=assessment.get("id"),
            assessment_date=date.fromisoformat(assessment["assessmentDate"]),
            decision_url=assessment.get("decision"),
            decided_on=(
                date.fromisoformat(assessment["decisionDate"])
                if assessment.get("decisionDate")
                else None
            ),
            evidence=tuple(
                (item["id"], item["name"], item["sha256"])
                for item in assessment.get("auditEvidence", [])
            ),
        )
        if assessment
        else None,
    )


def reissue_certificate(
    session: Session,
    caller: Caller,
    number: str,
    *,
    gtins: Sequence[str] | None,
    sites: Sequence[Site] | None,
    label_quota: int | None,
    reason: str,
) -> Certificate:
    """Re-issue a certificate with a changed scope or label quota: a new certificate (new
    number, same holder, standard and end of validity, labels issued carried over) that
    replaces the old one, whose revocation bit is set.

    Refused, with nothing changed: a withdrawn or already replaced certificate, one whose
    decision predates the holder's current membership (409), one whose standard version has
    not taken effect yet (409 ``standard-version-not-effective``: the re-issue is valid from
    now), a scope beyond the decision's audit (422), and products another live certificate
    of the same decision covers (409 ``decision-already-certified``: re-issue that one
    instead)."""
    from app.certificates.issuance import (
        check_not_covered,
        check_reissue_within_membership,
        check_standard_in_effect,
        check_within_audit,
    )

    certificate = _for_issuer(session, caller, number)
    check_replaceable(certificate)
    check_reissue_within_membership(session, certificate)
    now = utcnow()
    check_standard_in_effect(session, certificate.standard_version_id, now)
    if gtins is not None or sites is not None:
        # A re-issue rests on the same decision: its scope stays within that audit.
        scope = check_within_audit(session, certificate.decision_id, gtins, sites)
        if gtins is not None:
            # ... and takes no product another live certificate of the decision covers.
            check_not_covered(session, certificate.decision_id, scope, replacing=certificate.number)
    standard, brand, assessment = _refs_from_credential(certificate)
    facts = reissue_facts(
        certificate,
        gtins=gtins,
        sites=sites,
        label_quota=label_quota,
        reason=reason,
        standard=standard,
        brand=brand,
        assessment=assessment,
        now=now,
    )
    issued = issue_certificates(session, _issuer_of(session, certificate), [facts], actor=caller)
    replacement = session.get(Certificate, issued[0].id)
    assert replacement is not None
    return replacement


# The status reason the expiry sweep records. It is stored in English, as the register's
# record, and shown in the reader's language by :func:`status_reason_text`.
EXPIRY_REASON = "validity period ended"


def status_reason_text(reason: str | None) -> str | None:
    """A certificate's status reason for people, in the current language.

    The reason the system writes itself (:data:`EXPIRY_REASON`) is translated when shown;
    every other reason is someone's own words (a suspension, withdrawal or cancellation), or
    was written in both languages (a replacement, leaving a brand), and is shown as stored."""
    if reason == EXPIRY_REASON:
        return gettext("validity period ended")
    return reason


def expire_certificates(session: Session, *, now: datetime | None = None) -> list[Certificate]:
    """Mark active and suspended certificates past their validity as expired (no status bit:
    ``validUntil`` in the credential already says so)."""
    now = now or utcnow()
    expired = list(
        session.scalars(
            select(Certificate)
            .where(
                Certificate.status.in_(LIVE_STATUSES),
                Certificate.valid_until <= now,
            )
            .with_for_update(of=Certificate)
        )
    )
    for certificate in expired:
        certificate.status = CertificateStatus.EXPIRED
        certificate.status_reason = EXPIRY_REASON
        certificate.status_changed_at = now
        _record(session, certificate, CertificateEventKind.EXPIRED, actor=None, now=now)
    session.flush()
    return expired


def overdue_suspensions(
    session: Session, *, issuer_id: int | None = None, now: datetime | None = None
) -> list[Certificate]:
    """Suspended certificates whose planned end has passed, awaiting the issuer's decision
    (reinstate or withdraw), oldest planned end first."""
    now = now or utcnow()
    statement = select(Certificate).where(
        Certificate.status == CertificateStatus.SUSPENDED,
        Certificate.suspended_until <= now,
        Certificate.valid_until > now,
    )
    if issuer_id is not None:
        statement = statement.where(Certificate.issuer_id == issuer_id)
    return list(session.scalars(statement.order_by(Certificate.suspended_until, Certificate.id)))


@dataclass(frozen=True)
class SweepResult:
    expired: list[Certificate]
    suspensions_overdue: list[Certificate]


def sweep_certificates(session: Session, *, now: datetime | None = None) -> SweepResult:
    """The daily certificate job: record expiries, and list the suspensions whose planned end
    has passed so that their issuers decide. Verdicts never wait for it: standing and the
    register already treat a certificate past its validity as expired."""
    now = now or utcnow()
    return SweepResult(
        expired=expire_certificates(session, now=now),
        suspensions_overdue=overdue_suspensions(session, now=now),
    )


# --- what labels (issue 5) need ---------------------------------------------------------------


def certificate_in_force_for(
    session: Session, firm_id: int, gtin: str, *, now: datetime | None = None
) -> Certificate | None:
    """The firm's certificate in force whose scope covers ``gtin`` (any GTIN form), if any.

    A product may bear the brand mark only while this returns a certificate; its
    ``label_quota - labels_issued`` is what label orders may still use (reserve with
    :func:`reserve_label_quota`).
    """
    try:
        gtin14 = normalize_gtin(gtin)
    except GS1SyntaxError:
        return None
    now = now or utcnow()
    candidates = session.scalars(
        select(Certificate)
        .where(
            Certificate.firm_id == firm_id,
            Certificate.status == CertificateStatus.ACTIVE,
            Certificate.valid_from <= now,
            Certificate.valid_until > now,
        )
        .order_by(Certificate.valid_until.desc())
    )
    for certificate in candidates:
        if gtin14 in certificate.scope_gtins and is_in_force(session, certificate, now):
            return certificate
    return None


def reserve_label_quota(session: Session, certificate_id: int, count: int) -> Certificate:
    """Count ``count`` labels against the certificate's quota, safely under concurrency.

    Locks the certificate row (``SELECT ... FOR UPDATE``), checks that it is in force and
    that the quota holds, and increments ``labels_issued``; a concurrent order waits for the
    lock and sees the new count. The database's check constraint is the last line of defence.
    """
    if count <= 0:
        raise InvalidCertificateRequest(
            "Reserve a positive number of labels.",
            errors=[FieldError("count", "positive", "at least 1")],
        )
    certificate = session.scalar(
        select(Certificate)
        .where(Certificate.id == certificate_id)
        .with_for_update(of=Certificate)
        .execution_options(populate_existing=True)
    )
    if certificate is None:
        raise CertificateNotFound(f"No certificate {certificate_id}.")
    current = standing(session, certificate)
    if not current.in_force:
        raise CertificateNotInForce(
            f"Certificate {certificate.number} is not in force ({current.reason}).",
            extra={"reason": current.reason},
        )
    remaining = certificate.label_quota - certificate.labels_issued
    if count > remaining:
        raise LabelQuotaExceeded(
            f"Certificate {certificate.number} has {remaining} labels left of its quota of "
            f"{certificate.label_quota}; {count} were asked for.",
            errors=[FieldError("quantity", "label_quota", f"at most {remaining}")],
            extra={"remaining": remaining},
        )
    certificate.labels_issued += count
    session.flush()
    return certificate


def release_label_quota(session: Session, certificate_id: int, count: int) -> Certificate:
    """Give back ``count`` labels (a cancelled order), under the same row lock."""
    certificate = session.scalar(
        select(Certificate)
        .where(Certificate.id == certificate_id)
        .with_for_update(of=Certificate)
        .execution_options(populate_existing=True)
    )
    if certificate is None:
        raise CertificateNotFound(f"No certificate {certificate_id}.")
    certificate.labels_issued = max(0, certificate.labels_issued - count)
    session.flush()
    return certificate
