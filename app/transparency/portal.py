"""The transparency log's state in the portal: the latest checkpoint, the verifier key, recent
entries, and whether the monitor check passes (optionally against a key the person pinned);
a full audit of the stored log on request. Read only, for every signed-in person (the log is
public; government bodies and alliances are the ones who watch it).
"""

from __future__ import annotations

import base64

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from sqlalchemy import select

from app.auth.models import Organisation
from app.auth.principal import allow
from app.extensions import db
from app.http.web import page
from app.portal.nav import nav_item
from app.portal.tables import Column, Filter, build_table
from app.transparency import monitor, services
from app.transparency.audit import audit_log
from app.transparency.entry import EntryType
from app.transparency.models import LogEntry

bp = Blueprint("transparency_portal", __name__, url_prefix="/portal", template_folder="templates")

READERS = allow()
SECTION = lazy_gettext("Oversight")

nav_item(
    SECTION,
    lazy_gettext("Transparency log"),
    "transparency_portal.log_state",
    READERS,
    order=530,
)

ENTRY_TYPE_LABELS = {
    EntryType.STANDARD_VERSION_PUBLISHED: lazy_gettext("Standard version published"),
    EntryType.CERTIFICATE_ISSUED: lazy_gettext("Certificate issued"),
    EntryType.CERTIFICATE_SUSPENDED: lazy_gettext("Certificate suspended"),
    EntryType.CERTIFICATE_REINSTATED: lazy_gettext("Certificate reinstated"),
    EntryType.CERTIFICATE_WITHDRAWN: lazy_gettext("Certificate withdrawn"),
    EntryType.CERTIFICATE_RENEWED: lazy_gettext("Certificate renewed"),
    EntryType.CERTIFICATE_CANCELLED: lazy_gettext("Certificate cancelled by its holder"),
    EntryType.LABEL_ORDER_ISSUED: lazy_gettext("Label order issued"),
    EntryType.EPCIS_EVENT_CAPTURED: lazy_gettext("Traceability event captured"),
    EntryType.KEY_ADDED: lazy_gettext("Key added"),
    EntryType.KEY_ROTATED: lazy_gettext("Key rotated"),
    EntryType.KEY_REVOKED: lazy_gettext("Key revoked"),
}
MAX_VKEY = 400


def _pinned_key() -> str | None:
    value = (request.args.get("vkey") or "").strip()
    return value[:MAX_VKEY] or None


def _vkey_problem(exc: ValueError) -> str:
    """Why the pinned key is not a verifier key, in the reader's language: the rule it broke
    picks the sentence. Translated here, at request time, as a plain ``str`` that templates
    escape (the key is whatever the link said)."""
    rule, value = getattr(exc, "rule", ""), getattr(exc, "value", "")
    if rule == "parts":
        return gettext("Not a verifier key: it must be a name, a key ID and a key joined by “+”.")
    if rule == "name":
        return gettext("Not a verifier key: the name must not be empty nor contain spaces or “+”.")
    if rule == "key_id":
        return gettext(
            "Not a verifier key: the key ID “%(key_id)s” is not 8 lowercase hexadecimal digits.",
            key_id=value,
        )
    if rule == "base64":
        return gettext("Not a verifier key: the key after the key ID is not valid base64.")
    if rule == "algorithm":
        return gettext("Not a verifier key: the key after the key ID is not an Ed25519 key.")
    if rule == "key_id_mismatch":
        return gettext("Not a verifier key: its key ID does not match its name and key.")
    return gettext("Not a verifier key.")


@page(bp, "/transparency", access=READERS)
def log_state() -> ResponseReturnValue:
    """The log at a glance and the monitor check, then the newest entries."""
    pinned = _pinned_key()
    errors: dict[str, str] = {}
    health = None
    status = 200
    try:
        health = monitor.check_log(db.session, pinned_vkey=pinned)
    except monitor.PinnedKeyError as exc:
        errors["vkey"] = _vkey_problem(exc)
        status = 422
        health = monitor.check_log(db.session)
    size = health.tree_size if health else 0
    table = build_table(
        db.session,
        select(LogEntry).where(LogEntry.log_index < size),
        columns=[
            Column("log_index", lazy_gettext("Index"), sort=LogEntry.log_index),
            Column("entry_type", lazy_gettext("What happened"), sort=LogEntry.entry_type),
            Column("record", lazy_gettext("Logged record")),
            Column("organisation", lazy_gettext("Organisation")),
            Column("occurred_at", lazy_gettext("When"), sort=LogEntry.occurred_at),
            Column("leaf_hash", lazy_gettext("Leaf hash")),
        ],
        filters=[
            Filter(
                "type",
                lazy_gettext("What happened"),
                lambda s, v: s.where(LogEntry.entry_type == v),
                choices=[(str(k), str(v)) for k, v in ENTRY_TYPE_LABELS.items()],
            )
        ],
        args=request.args,
        default_sort="log_index",
    )
    table.extra_args = {"vkey": pinned} if pinned else {}
    organisations = {
        organisation.id: organisation
        for organisation in db.session.scalars(
            select(Organisation).where(
                Organisation.id.in_({row.organisation_id for row in table.rows} or {0})
            )
        )
    }
    return render_template(
        "transparency/portal/log_state.html",
        health=health,
        table=table,
        organisations=organisations,
        type_labels=ENTRY_TYPE_LABELS,
        values={"vkey": pinned or ""},
        errors=errors,
        root=base64.b64encode(health.root_hash).decode() if health else None,
        recent=monitor.RECENT_ENTRIES,
    ), status


@page(bp, "/transparency/audit", access=READERS)
def log_audit() -> ResponseReturnValue:
    """Recompute the whole log from its stored entries (``log verify``) and show the report."""
    pinned = _pinned_key()
    errors: dict[str, str] = {}
    try:
        report = audit_log(db.session, vkey=pinned)
    except ValueError as exc:  # a malformed pinned key
        errors["vkey"] = _vkey_problem(exc)
        report = audit_log(db.session)
    return render_template(
        "transparency/portal/log_audit.html",
        report=report,
        values={"vkey": pinned or ""},
        errors=errors,
        root=base64.b64encode(report.root_hash).decode() if report.root_hash else None,
        summary=services.log_summary(db.session) if report.checkpoints else None,
    ), 422 if errors else 200
