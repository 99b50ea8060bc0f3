"""Association portal pages for certificates and signing keys: issue from a granted decision
(scope within the audit, label quota, validity), the register of the association's
certificates, suspend / reinstate / withdraw (confirmation page; final) / cancel on the
holder's request (confirmation page; final) / renew with reasons, the holder firm's own
cancellation of a certificate it gives up (its admins, after a confirmation), and the issuer
keys (rotate after a confirmation; private keys are never shown)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from sqlalchemy import select

from app.association.forms import Outcome, parse, submit, validate
from app.audits.models import Audit, AuditDecision, AuditKind, DecisionOutcome
from app.audits.services import GrantedDecision, get_granted_decision
from app.auth.models import Organisation, OrgKind, Role
from app.auth.principal import Caller, allow
from app.brands.models import Brand
from app.certificates import credentials, issuance, keys, register
from app.certificates.did import did_web_document_url
from app.certificates.errors import CertificateNotFound, IssuerKeyNotFound
from app.certificates.models import LIVE_STATUSES, Certificate, CertificateStatus
from app.certificates.schemas import (
    IssueCertificate,
    ReissueCertificate,
    RenewCertificate,
    RevokeKey,
    StatusChange,
    SuspendCertificate,
)
from app.certificates.web import EVENT_LABELS, REASON_LABELS, STATUS_LABELS
from app.db import utcnow
from app.extensions import db
from app.http.api import set_activity_target
from app.http.converters import id_param
from app.http.web import page
from app.portal.nav import nav_item
from app.portal.tables import Column, Filter, build_table

bp = Blueprint("certificates_portal", __name__, url_prefix="/portal", template_folder="templates")

ASSOCIATION = allow([OrgKind.ASSOCIATION])
# Issuing and status decisions belong to admins and staff, never auditors (maker-checker).
DECIDERS = allow([OrgKind.ASSOCIATION], [Role.ADMIN, Role.STAFF])
ADMINS = allow([OrgKind.ASSOCIATION], [Role.ADMIN])
# A firm gives up its own certificate through its admins only.
HOLDER_ADMINS = allow([OrgKind.ENTERPRISE], [Role.ADMIN])
SECTION = lazy_gettext("Association")

nav_item(
    SECTION, lazy_gettext("Certificates"), "certificates_portal.certificates", ASSOCIATION, 150
)
nav_item(
    SECTION, lazy_gettext("Signing keys"), "certificates_portal.signing_keys", ASSOCIATION, 160
)

KEY_STATUSES = {
    "active": lazy_gettext("Active: signs now"),
    "retired": lazy_gettext("Retired: its signatures stay valid"),
    "revoked": lazy_gettext("Revoked: signatures from the revocation on fail"),
}


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "certificate_status_label": lambda value: str(STATUS_LABELS.get(value, value)),
        "standing_label": lambda value: str(REASON_LABELS.get(value, value)),
        "event_label": lambda value: str(EVENT_LABELS.get(value, value)),
        "key_status_label": lambda value: str(KEY_STATUSES.get(value, value)),
        "status_reason_text": credentials.status_reason_text,
    }


def _day_start(text: str) -> str | None:
    """A form date as the ISO instant at 00:00 UTC (the schemas want aware times)."""
    try:
        return datetime.combine(date.fromisoformat(text), time(), UTC).isoformat()
    except ValueError:
        return text or None


# ---- the association's certificates -------------------------------------------------------


def _holder_filter(statement: Any, value: str) -> Any:
    return statement.where(
        Certificate.holder_name_zh.contains(value, autoescape=True)
        | Certificate.holder_name_en.ilike(f"%{value}%")
        | (Certificate.number == value.strip().upper())
    )


def _uncovered_decisions(caller: Caller) -> list[tuple[AuditDecision, list[str]]]:
    """Granted initial or renewal decisions of the association with audited products no live
    certificate of the decision covers yet (ready for a certificate; a granted surveillance
    audit keeps existing certificates in force instead), on firms that are members of the
    brand since before the decision (the issuance rule: a firm that left and joined again
    needs a new audit)."""
    decisions = db.session.scalars(
        select(AuditDecision)
        .join(Audit, Audit.id == AuditDecision.audit_id)
        .join(Brand, Brand.id == Audit.brand_id)
        .where(
            Brand.owner_id == caller.organisation_id,
            AuditDecision.outcome == DecisionOutcome.GRANTED,
            Audit.kind != AuditKind.SURVEILLANCE,
        )
        .order_by(AuditDecision.decided_at.desc())
        .limit(50)
    )
    ready = []
    for decision in decisions:
        if not issuance.may_back_certificates(
            db.session,
            decided_at=decision.decided_at,
            brand_id=decision.audit.brand_id,
            firm_id=decision.audit.firm_id,
        ):
            continue
        covered = _covered(decision.id)
        missing = [p.gtin for p in decision.audit.products if p.gtin not in covered]
        if missing:
            ready.append((decision, missing))
    return ready


def _covered(decision_id: int) -> dict[str, str]:
    """GTIN -> number of the live certificate of the decision that covers it."""
    return issuance.covered_products(db.session, decision_id)


@page(bp, "/certificates", access=ASSOCIATION)
def certificates(caller: Caller) -> ResponseReturnValue:
    """The certificates the association issued, with their status and label use."""
    statement = select(Certificate).where(Certificate.issuer_id == caller.organisation_id)
    table = build_table(
        db.session,
        statement,
        columns=[
            Column("number", lazy_gettext("Number"), sort=Certificate.id),
            Column("holder", lazy_gettext("Holder"), sort=Certificate.holder_name_en),
            Column("standard", lazy_gettext("Standard")),
            Column("status", lazy_gettext("Status"), sort=Certificate.status),
            Column("valid_until", lazy_gettext("Valid until"), sort=Certificate.valid_until),
            Column("labels", lazy_gettext("Labels issued / quota"), sort=Certificate.labels_issued),
        ],
        filters=[
            Filter(
                "status",
                lazy_gettext("Status"),
                register.filter_by_status,
                choices=[
                    (status.value, STATUS_LABELS[status.value]) for status in CertificateStatus
                ],
            ),
            Filter("q", lazy_gettext("Holder or number"), _holder_filter),
        ],
        args=request.args,
        default_sort="number",
    )
    standings = {c.id: credentials.standing(db.session, c) for c in table.rows}
    statuses = {c.id: credentials.effective_status(c) for c in table.rows}
    return render_template(
        "certificates/portal/certificates.html",
        table=table,
        standings=standings,
        statuses=statuses,
        overdue=credentials.overdue_suspensions(db.session, issuer_id=caller.organisation_id),
        ready=_uncovered_decisions(caller) if caller.role in (Role.ADMIN, Role.STAFF) else [],
        may_issue=caller.role in (Role.ADMIN, Role.STAFF),
    )


def _issue_page(
    granted: GrantedDecision | None,
    ready: list[tuple[AuditDecision, list[str]]],
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> ResponseReturnValue:
    covered = _covered(granted.decision_id) if granted else {}
    return (
        render_template(
            "certificates/portal/issue.html",
            granted=granted,
            ready=ready,
            covered=covered,
            values=values,
            errors=errors,
        ),
        status,
    )


@page(bp, "/certificates/issue", access=DECIDERS, methods=("GET", "POST"))
def issue(caller: Caller) -> ResponseReturnValue:
    """Issue a certificate on a granted decision: scope within the audit, label quota,
    validity (``?decision=<id>``; without it, the decisions ready for a certificate)."""
    decision_id = id_param(request.values, "decision")
    if decision_id is None:
        return _issue_page(None, _uncovered_decisions(caller), values={}, errors={})
    granted = get_granted_decision(
        db.session, decision_id, owner_organisation_id=caller.organisation_id
    )
    if request.method == "GET":
        covered = _covered(decision_id)
        values: dict[str, Any] = {
            "gtins": [p.gtin for p in granted.products if p.gtin not in covered],
            "sites": [str(index) for index in range(len(granted.sites))],
            "validity_months": "36",
            "label_quota": "",
        }
        effective = granted.standard_effective_from
        if effective is not None and effective > utcnow().date():
            # Issued ahead of a scheduled standard version: valid from the day it takes effect.
            values["valid_from"] = effective.isoformat()
        return _issue_page(granted, [], values=values, errors={})
    form = request.form
    values = {
        "gtins": form.getlist("gtins"),
        "sites": form.getlist("sites"),
        "label_quota": (form.get("label_quota") or "").strip(),
        "validity_months": (form.get("validity_months") or "").strip(),
        "valid_from": (form.get("valid_from") or "").strip(),
    }
    data: dict[str, Any] = {
        "decision_id": decision_id,
        "label_quota": values["label_quota"],
        "gtins": values["gtins"],
        "sites": _chosen_sites(granted, form.getlist("sites")),
    }
    if values["validity_months"]:
        data["validity_months"] = values["validity_months"]
    if values["valid_from"]:
        data["valid_from"] = _day_start(values["valid_from"])
    outcome = submit(
        validate(IssueCertificate, data),
        lambda body: issuance.issue_certificate(
            db.session,
            caller,
            decision_id,
            label_quota=body.label_quota,
            gtins=body.gtins,
            sites=[credentials.Site(s.name, s.address, s.gln) for s in body.sites or []],
            valid_from=body.valid_from,
            validity_months=body.validity_months,
        ),
    )
    if outcome.result is None:
        # Scope messages name a list position (gtins-1); the list is one group of boxes.
        errors = {key.split("-")[0]: message for key, message in outcome.errors.items()}
        return _issue_page(granted, [], values=values, errors=errors, status=outcome.status)
    number = outcome.result.number
    set_activity_target("certificate", number)
    flash(gettext("Certificate %(number)s was issued and signed.", number=number), "success")
    return redirect(url_for("certificates_portal.certificate", number=number), code=303)


def _issued(caller: Caller, number: str) -> Certificate:
    """A certificate the caller's association issued (any other answers 404)."""
    certificate = db.session.scalar(
        select(Certificate).where(
            Certificate.number == number, Certificate.issuer_id == caller.organisation_id
        )
    )
    if certificate is None:
        raise CertificateNotFound(
            gettext("Your association issued no certificate %(number)s.", number=number)
        )
    return certificate


def _details(certificate: Certificate) -> dict[str, Any]:
    return register.describe(db.session, certificate)


@page(bp, "/certificates/<number>", access=ASSOCIATION)
def certificate(caller: Caller, number: str) -> ResponseReturnValue:
    """One certificate: facts, standing, history and the lifecycle actions its status allows."""
    found = _issued(caller, number)
    return render_template(
        "certificates/portal/certificate.html",
        c=_details(found),
        certificate_audit_id=db.session.get(AuditDecision, found.decision_id).audit_id,  # type: ignore[union-attr]
        may_decide=caller.role in (Role.ADMIN, Role.STAFF),
        renewals=_renewal_decisions(found) if found.status in LIVE_STATUSES else [],
    )


# ---- lifecycle ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A lifecycle change offered on a confirmation page: its form, its words, and the
    service that carries it out."""

    schema: type[StatusChange] | type[SuspendCertificate]
    heading: Any
    hint: Any
    done: Any
    apply: Callable[[Caller, str, Any], Certificate]


def _cancel(caller: Caller, number: str, body: StatusChange) -> Certificate:
    return credentials.cancel_certificate(db.session, caller, number, reason=body.reason)


CHANGES = {
    "suspend": Change(
        SuspendCertificate,
        lazy_gettext("Suspend certificate %(number)s"),
        lazy_gettext(
            "The certificate stops being in force at once: its suspension bit is set in the "
            "signed status list, consumers scanning its labels see that it is not valid, and no "
            "labels can be ordered on it. A suspension can be lifted (reinstated)."
        ),
        lazy_gettext("Certificate %(number)s is suspended."),
        lambda caller, number, body: credentials.suspend_certificate(
            db.session, caller, number, reason=body.reason, until=body.until
        ),
    ),
    "reinstate": Change(
        StatusChange,
        lazy_gettext("Reinstate certificate %(number)s"),
        lazy_gettext(
            "The suspension is lifted: the certificate is in force again if it is within its "
            "validity and its surveillance is not overdue."
        ),
        lazy_gettext("Certificate %(number)s is reinstated."),
        lambda caller, number, body: credentials.reinstate_certificate(
            db.session, caller, number, reason=body.reason
        ),
    ),
    "withdraw": Change(
        StatusChange,
        lazy_gettext("Withdraw certificate %(number)s"),
        lazy_gettext(
            "Withdrawal is final: the certificate's revocation bit is set for good, it can never "
            "be reinstated or renewed, and every label printed on it shows as not valid."
        ),
        lazy_gettext("Certificate %(number)s is withdrawn."),
        lambda caller, number, body: credentials.withdraw_certificate(
            db.session, caller, number, reason=body.reason
        ),
    ),
    "cancel": Change(
        StatusChange,
        lazy_gettext("Cancel certificate %(number)s at the holder's request"),
        lazy_gettext(
            "Record that the holder gives this certificate up (it stops the product, leaves the "
            "brand, ...). Cancellation is final: the certificate's revocation bit is set for "
            "good, it can never be reinstated or renewed, and every label printed on it shows "
            "as not valid. The register shows it as cancelled by its holder, not withdrawn."
        ),
        lazy_gettext("Certificate %(number)s is cancelled."),
        _cancel,
    ),
    "give_up": Change(
        StatusChange,
        lazy_gettext("Cancel certificate %(number)s"),
        lazy_gettext(
            "Your firm gives this certificate up, for instance because it stops the product or "
            "leaves the brand. Cancellation is final: the certificate's revocation bit is set "
            "for good, it can never be reinstated or renewed, no more labels can be ordered on "
            "it, and every label printed on it shows as not valid. To hold a certificate again "
            "your firm needs a new audit and decision."
        ),
        lazy_gettext("Certificate %(number)s is cancelled."),
        _cancel,
    ),
}
FINAL_CHANGES = ("withdraw", "cancel", "give_up")


def _lifecycle(
    caller: Caller,
    number: str,
    action: str,
    *,
    found: Certificate | None = None,
    page_url: str | None = None,
) -> ResponseReturnValue:
    """The confirmation page of a change and its form; ``page_url`` is where the change
    comes from and leads back to (default: the association's page of the certificate)."""
    change = CHANGES[action]
    found = found or _issued(caller, number)
    page_url = page_url or url_for("certificates_portal.certificate", number=number)
    outcome = Outcome.blank()
    if request.method == "POST":
        form_data = request.form.copy()
        until = (form_data.get("until") or "").strip()
        if action == "suspend":
            # A date picker gives a day; the service wants an instant (its start, UTC).
            form_data.setlist("until", [_day_start(until) or ""] if until else [])
        outcome = submit(
            parse(change.schema, form_data), lambda body: change.apply(caller, number, body)
        )
        if outcome.ok:
            flash(str(change.done) % {"number": number}, "success")
            return redirect(page_url, code=303)
        outcome.values["until"] = until
    return (
        render_template(
            "certificates/portal/lifecycle.html",
            c=_details(found),
            action=action,
            is_final=action in FINAL_CHANGES,
            page_url=page_url,
            heading=str(change.heading) % {"number": number},
            hint=change.hint,
            values=outcome.values,
            errors=outcome.errors,
        ),
        outcome.status,
    )


@page(bp, "/certificates/<number>/suspend", access=DECIDERS, methods=("GET", "POST"))
def suspend(caller: Caller, number: str) -> ResponseReturnValue:
    """Suspend an active certificate, with a reason and an optional planned end."""
    return _lifecycle(caller, number, "suspend")


@page(bp, "/certificates/<number>/reinstate", access=DECIDERS, methods=("GET", "POST"))
def reinstate(caller: Caller, number: str) -> ResponseReturnValue:
    """Lift a certificate's suspension, with a reason."""
    return _lifecycle(caller, number, "reinstate")


@page(bp, "/certificates/<number>/withdraw", access=DECIDERS, methods=("GET", "POST"))
def withdraw(caller: Caller, number: str) -> ResponseReturnValue:
    """Confirm, then withdraw a certificate for good, with a reason."""
    return _lifecycle(caller, number, "withdraw")


@page(bp, "/certificates/<number>/cancel", access=DECIDERS, methods=("GET", "POST"))
def cancel(caller: Caller, number: str) -> ResponseReturnValue:
    """Confirm, then record the cancellation the holder asked for (final), with a reason."""
    return _lifecycle(caller, number, "cancel")


@page(bp, "/firm/certificates/<number>/cancel", access=HOLDER_ADMINS, methods=("GET", "POST"))
def give_up(caller: Caller, number: str) -> ResponseReturnValue:
    """The holder firm confirms, then cancels its own certificate for good, with a reason."""
    held = db.session.scalar(
        select(Certificate).where(
            Certificate.number == number, Certificate.firm_id == caller.organisation_id
        )
    )
    if held is None:
        raise CertificateNotFound(
            gettext("Your firm holds no certificate %(number)s.", number=number)
        )
    return _lifecycle(
        caller,
        number,
        "give_up",
        found=held,
        page_url=url_for("certificates_web.certificate_page", number=number),
    )


def _renewal_decisions(certificate: Certificate) -> list[AuditDecision]:
    """Granted decisions on the same firm and brand, other than the certificate's own, that
    a renewal may rest on: made during the firm's current membership, and with no audited
    product another live certificate of the decision already covers (renewing on such a
    decision is refused: that certificate is re-issued instead)."""
    decisions = list(
        db.session.scalars(
            select(AuditDecision)
            .join(Audit, Audit.id == AuditDecision.audit_id)
            .where(
                Audit.firm_id == certificate.firm_id,
                Audit.brand_id == certificate.brand_id,
                AuditDecision.outcome == DecisionOutcome.GRANTED,
                AuditDecision.id != certificate.decision_id,
            )
            .order_by(AuditDecision.decided_at.desc())
        )
    )
    return [
        decision
        for decision in decisions
        if issuance.may_back_certificates(
            db.session,
            decided_at=decision.decided_at,
            brand_id=certificate.brand_id,
            firm_id=certificate.firm_id,
        )
        and not (
            {p.gtin for p in decision.audit.products}
            & issuance.covered_products(
                db.session, decision.id, replacing=certificate.number
            ).keys()
        )
    ]


@page(bp, "/certificates/<number>/renew", access=DECIDERS, methods=("GET", "POST"))
def renew(caller: Caller, number: str) -> ResponseReturnValue:
    """Renew on the granted decision of a re-certification audit: a new certificate replaces
    this one."""
    found = _issued(caller, number)
    outcome = Outcome.blank()
    outcome.values = {"validity_months": "36", "label_quota": str(found.label_quota)}
    if request.method == "POST":
        outcome = submit(
            parse(RenewCertificate, request.form),
            lambda body: issuance.renew_certificate(
                db.session,
                caller,
                number,
                body.decision_id,
                label_quota=body.label_quota,
                validity_months=body.validity_months,
                reason=body.reason,
            ),
        )
        if outcome.result is not None:
            renewed = outcome.result.number
            flash(
                gettext(
                    "Certificate %(new)s renews and replaces %(old)s.", new=renewed, old=number
                ),
                "success",
            )
            return redirect(url_for("certificates_portal.certificate", number=renewed), code=303)
    decisions = _renewal_decisions(found)
    return (
        render_template(
            "certificates/portal/renew.html",
            c=_details(found),
            decisions=[
                (
                    d.id,
                    gettext(
                        "Decision %(id)s on audit %(audit)s of %(date)s",
                        id=d.id,
                        audit=d.audit_id,
                        date=d.decided_at.date().isoformat(),
                    ),
                )
                for d in decisions
            ],
            values=outcome.values,
            errors=outcome.errors,
        ),
        outcome.status,
    )


@page(bp, "/certificates/<number>/reissue", access=DECIDERS, methods=("GET", "POST"))
def reissue(caller: Caller, number: str) -> ResponseReturnValue:
    """Re-issue with a changed scope (within the audit) or label quota, with a reason: a new
    certificate replaces this one and keeps its labels issued and end of validity."""
    found = _issued(caller, number)
    granted = get_granted_decision(db.session, found.decision_id)
    outcome = Outcome.blank()
    outcome.values = {
        "gtins": list(found.scope_gtins),
        "sites": [
            str(index)
            for index, site in enumerate(granted.sites)
            if site.name in {s["name"] for s in found.scope_sites}
        ],
        "label_quota": str(found.label_quota),
    }
    if request.method == "POST":
        form = request.form
        data = {
            "gtins": form.getlist("gtins"),
            "sites": _chosen_sites(granted, form.getlist("sites")),
            "label_quota": (form.get("label_quota") or "").strip() or None,
            "reason": (form.get("reason") or "").strip(),
        }
        outcome = submit(
            validate(ReissueCertificate, data),
            lambda body: credentials.reissue_certificate(
                db.session,
                caller,
                number,
                gtins=body.gtins,
                sites=[credentials.Site(s.name, s.address, s.gln) for s in body.sites or []],
                label_quota=body.label_quota,
                reason=body.reason,
            ),
        )
        if outcome.result is not None:
            replacement = outcome.result.number
            flash(
                gettext("Certificate %(new)s replaces %(old)s.", new=replacement, old=number),
                "success",
            )
            return redirect(
                url_for("certificates_portal.certificate", number=replacement), code=303
            )
        outcome.values = {
            "gtins": data["gtins"],
            "sites": form.getlist("sites"),
            "label_quota": form.get("label_quota") or "",
            "reason": data["reason"],
        }
        outcome.errors = {key.split("-")[0]: m for key, m in outcome.errors.items()}
    return (
        render_template(
            "certificates/portal/reissue.html",
            c=_details(found),
            granted=granted,
            covered={g: n for g, n in _covered(found.decision_id).items() if n != number},
            values=outcome.values,
            errors=outcome.errors,
        ),
        outcome.status,
    )


def _chosen_sites(granted: GrantedDecision, indices: Sequence[str]) -> list[dict[str, Any]]:
    """The audited sites ticked on a form (boxes carry the site's position in the audit)."""
    sites = granted.sites
    return [
        {"name": site.name, "address": site.address or None, "gln": site.gln}
        for site in (sites[int(i)] for i in indices if i.isdigit() and int(i) < len(sites))
    ]


# ---- signing keys ----------------------------------------------------------------------------


@page(bp, "/keys", access=ASSOCIATION)
def signing_keys(caller: Caller) -> ResponseReturnValue:
    """The association's DID and every signing key it has had, with their windows (public
    keys only: private keys never leave the sealed store)."""
    organisation = keys.require_issuer(db.session, caller.organisation_id)
    did = keys.issuer_did(organisation)
    return render_template(
        "certificates/portal/keys.html",
        did=did,
        did_url=did_web_document_url(did),
        local_did_url=url_for("certificates_web.did_document", slug=organisation.slug),
        keys=keys.list_keys(db.session, organisation.id),
        may_rotate=caller.role == Role.ADMIN,
    )


def _revocation_instant(text: str) -> str | None:
    """A ``datetime-local`` value (read as UTC) as an ISO instant; None when it is not one."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC).isoformat() if moment.tzinfo is None else None


@page(bp, "/keys/<fragment>/revoke", access=ADMINS, methods=("GET", "POST"))
def revoke_key(caller: Caller, fragment: str) -> ResponseReturnValue:
    """Confirm, then revoke a compromised key from an instant on, with a reason (final)."""
    organisation: Organisation = keys.require_issuer(db.session, caller.organisation_id)
    key = next(
        (k for k in keys.list_keys(db.session, organisation.id) if k.fragment == fragment), None
    )
    if key is None:
        raise IssuerKeyNotFound(gettext("No key %(key)s for this association.", key=fragment))
    outcome = Outcome.blank()
    if request.method == "POST":
        form_data = request.form.copy()
        typed = (form_data.get("revoked_from") or "").strip()
        instant = _revocation_instant(typed) if typed else None
        form_data.setlist("revoked_from", [instant] if instant else [])
        form = parse(RevokeKey, form_data)
        if typed and instant is None:
            form.errors["revoked_from"] = gettext("Enter a date and time (UTC).")
            form.model = None
        outcome = submit(
            form,
            lambda body: keys.revoke_key(
                db.session,
                organisation,
                fragment,
                revoked_from=body.revoked_from,
                reason=body.reason,
                actor=caller,
            ),
        )
        outcome.values["revoked_from"] = typed
        if outcome.result is not None:
            result = outcome.result
            revoked_at = result.key.revoked_at
            assert revoked_at is not None
            said = [
                gettext(
                    "Key %(key)s is revoked from %(when)s UTC on.",
                    key=fragment,
                    when=revoked_at.strftime("%Y-%m-%d %H:%M:%S"),
                )
            ]
            if result.replacement is not None:
                said.append(gettext("Key %(key)s signs now.", key=result.replacement.fragment))
            if result.affected_certificates:
                said.append(
                    gettext(
                        "These certificates no longer verify; re-issue them: %(numbers)s.",
                        numbers=", ".join(result.affected_certificates),
                    )
                )
            flash(" ".join(said), "success")
            return redirect(url_for("certificates_portal.signing_keys"), code=303)
    return (
        render_template(
            "certificates/portal/revoke_key.html",
            key=key,
            values=outcome.values,
            errors=outcome.errors,
            now=datetime.now(UTC),
        ),
        outcome.status,
    )


@page(bp, "/keys/rotate", access=ADMINS, methods=("GET", "POST"))
def rotate_key(caller: Caller) -> ResponseReturnValue:
    """Confirm, then retire the signing key and start a new one."""
    organisation: Organisation = keys.require_issuer(db.session, caller.organisation_id)
    current = next(
        (k for k in keys.list_keys(db.session, organisation.id) if k.status == "active"), None
    )
    if request.method == "POST":
        if current is not None and request.form.get("key") != current.fragment:
            # A second click of the same form: the key it meant to rotate is already retired.
            refusal = gettext(
                "That key was already rotated; nothing changed. Key %(key)s signs now.",
                key=current.fragment,
            )
            return render_template(
                "certificates/portal/rotate.html", current=current, refusal=refusal
            ), 409
        result = keys.rotate_key(db.session, organisation, actor=caller)
        set_activity_target("issuer_key", result.active.fragment)
        flash(
            gettext(
                "Key %(new)s now signs; %(old)s is retired and its signatures stay valid.",
                new=result.active.fragment,
                old=result.retired.fragment if result.retired else "—",
            ),
            "success",
        )
        return redirect(url_for("certificates_portal.signing_keys"), code=303)
    return render_template("certificates/portal/rotate.html", current=current, refusal=None)
