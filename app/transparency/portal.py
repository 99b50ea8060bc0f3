"""The transparency log's state in the portal: the latest checkpoint, the verifier key, recent
entries, and whether the monitor check passes (optionally against a key the person pinned);
a full audit of the stored log on request. Read only, for every signed-in person (the log is
public; government bodies and alliances are the ones who watch it).
"""

from __future__ import annotations

import base64
from typing import Any

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
from app.transparency.audit import AuditProblem, audit_log
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
    EntryType.EPCIS_EVENT_ERROR_DECLARED: lazy_gettext("Traceability event declared erroneous"),
    EntryType.KEY_ADDED: lazy_gettext("Key added"),
    EntryType.KEY_ROTATED: lazy_gettext("Key rotated"),
    EntryType.KEY_REVOKED: lazy_gettext("Key revoked"),
}
MAX_VKEY = 400


def _l(message: str) -> str:
    """Mark a text for the catalogue; it is translated, with its values, where it is shown."""
    return message


# What the monitor found, by ``LogAlarm.code``; the alarm's own message is English, for the
# command line (``log monitor``). Values come from the alarm's facts.
ALARM_TEXTS = {
    "checkpoint-signature": _l("the checkpoint is not validly signed by %(name)s."),
    "size-shrank": _l(
        "the log now shows %(size)s entries but earlier signed a tree of %(previous)s: it went "
        "back in time."
    ),
    "split-view": _l(
        "two different checkpoints of size %(size)s, both signed by the log key: the log shows "
        "different histories to different people."
    ),
    "not-consistent": _l(
        "the checkpoint of size %(size)s does not extend the one of size %(previous)s seen "
        "before: the log's history was rewritten or forked."
    ),
    "entry-rewritten": _l(
        "entry %(index)s as served hashes to %(served)s but the log's tree holds %(held)s: the "
        "entry was changed after it was logged."
    ),
    "entry-format": _l("entry %(index)s is not in the log's entry format (%(field)s)."),
    "tree-mismatch": _l(
        "the log's entries do not make the tree its checkpoint of size %(size)s signs: entries "
        "or tree nodes were rewritten."
    ),
    "stored-checkpoint-signature": _l(
        "the stored checkpoint of size %(size)s is not validly signed."
    ),
    "stored-root-mismatch": _l(
        "the stored checkpoint of size %(size)s signs the root %(signed_root)s, but the log's "
        "tree of that size has the root %(stored_root)s: the log signed a history it does not "
        "hold."
    ),
}
# What ``log verify`` found, by ``AuditProblem.code`` (its message is the command's English).
AUDIT_TEXTS = {
    "key-id-mismatch": _l("the log key's stored key id does not match its public key"),
    "key-not-pinned": _l("the database's log key %(stored)s is not the pinned key %(pinned)s"),
    "state-missing": _l("the log's sequencer row (log_state) is missing"),
    "sequencer-count": _l(
        "the sequencer says %(appended)s entries were appended but %(stored)s are stored"
    ),
    "no-key": _l("checkpoints exist but the log has no key to check them with"),
    "checkpoint-signature": _l("checkpoint of size %(size)s: it is not validly signed"),
    "checkpoint-row": _l(
        "checkpoint of size %(size)s: its signed note says size %(signed_size)s, root "
        "%(signed_root)s, but the row says root %(row_root)s"
    ),
    "checkpoint-beyond": _l(
        "checkpoint of size %(size)s is beyond the integrated size %(integrated)s"
    ),
    "latest-checkpoint-size": _l(
        "the latest checkpoint has size %(size)s but %(integrated)s entries are integrated"
    ),
    "node-count": _l(
        "level %(level)s holds %(held)s nodes; a tree of %(size)s entries has %(expected)s"
    ),
    "not-append-only": _l("%(table)s is not append-only: no trigger refuses %(operation)s"),
    "entry-missing": _l("entry %(index)s is missing (the next stored is %(next)s)"),
    "entries-missing": _l("entries %(first)s to %(last)s are missing"),
    "checkpoint-root": _l(
        "checkpoint of size %(size)s: its signed root %(signed_root)s is not the root "
        "recomputed from the entries, %(computed_root)s"
    ),
    "entry-not-bytes": _l(
        "entry %(index)s: its entry is stored as %(stored_type)s, not as bytes (the row was "
        "written outside the application)"
    ),
    "leaf-hash-not-bytes": _l(
        "entry %(index)s: its leaf hash is stored as %(stored_type)s, not as bytes (the row "
        "was written outside the application)"
    ),
    "entry-rewritten": _l(
        "entry %(index)s: its bytes hash to leaf %(leaf)s but its row records %(recorded)s (the "
        "entry was changed after it was logged)"
    ),
    "entry-format": _l("entry %(index)s: not in the entry format (%(field)s)"),
    "entry-columns": _l("entry %(index)s: its columns disagree with its logged bytes"),
    "node-missing": _l("node (%(level)s, %(index)s) is missing"),
    "leaf-mismatch": _l(
        "leaf %(index)s: the stored tree holds %(stored)s but the entries give %(computed)s"
    ),
    "node-mismatch": _l(
        "node (%(level)s, %(index)s): the stored tree holds %(stored)s but the entries give "
        "%(computed)s"
    ),
}
# Names of what the monitor keeps as evidence (``LogAlarm.evidence``).
EVIDENCE_LABELS = {
    "checkpoint": lazy_gettext("Signed checkpoint"),
    "previous_checkpoint": lazy_gettext("Previous signed checkpoint"),
    "consistency_proof": lazy_gettext("Consistency proof"),
    "computed_root": lazy_gettext("Root recomputed from the entries"),
    "index": lazy_gettext("Entry index"),
    "entry": lazy_gettext("Entry as served"),
}


def _say(texts: dict[str, str], code: str, facts: Any, fallback: str) -> str:
    """A finding in the reader's language, with its values (``fallback``, the English, for a
    code without a text)."""
    text = texts.get(code)
    if text is None:
        return fallback
    try:
        return gettext(text, **dict(facts))
    except (KeyError, TypeError, ValueError):
        return fallback


def check_detail(check: monitor.Check) -> str | None:
    """What a failed monitor check found, or why it could not run, in the reader's language."""
    if check.status == monitor.CheckStatus.FAILED:
        return _say(ALARM_TEXTS, check.problem, check.problem_facts, check.detail or "")
    if check.status == monitor.CheckStatus.ERROR:
        return gettext("The check could not be completed; the technical detail is below.")
    return None


def audit_problem(problem: AuditProblem) -> str:
    """One problem the audit found, in the reader's language."""
    return _say(AUDIT_TEXTS, problem.code, problem.facts, problem.message)


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
        check_detail=check_detail,
        evidence_labels=EVIDENCE_LABELS,
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
        audit_problem=audit_problem,
        values={"vkey": pinned or ""},
        errors=errors,
        root=base64.b64encode(report.root_hash).decode() if report.root_hash else None,
        summary=services.log_summary(db.session) if report.checkpoints else None,
    ), 422 if errors else 200
