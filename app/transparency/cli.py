"""``flask --app wsgi log verify|monitor|integrate``: audit, watch and maintain the log.

Exit codes: 0 all good; 1 the log failed a check (``verify`` found a problem, ``monitor`` raised
an alarm: a bad signature, a fork or a rewritten entry); 2 the check could not run (bad
arguments such as a malformed ``--vkey``, the log is unreachable, a malformed response or state
file).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli import cli_transaction
from app.extensions import db
from app.transparency import audit, client, services
from app.transparency.note import NoteError, parse_verifier_key

log_cli = AppGroup("log", help="Transparency log: verify, monitor, integrate.")

ALARM_EXIT = 1
ERROR_EXIT = 2


def _b64(value: bytes | None) -> str:
    return base64.b64encode(value).decode() if value is not None else "-"


def _verifier_key(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A well-formed verifier key, else a usage error (exit 2): a mistyped key is bad input,
    not a log that failed a check."""
    if value is not None:
        try:
            parse_verifier_key(value)
        except NoteError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return value


@log_cli.command("verify")
@click.option(
    "--vkey",
    default=None,
    callback=_verifier_key,
    help="Check checkpoints against this pinned verifier key instead of the database's.",
)
def verify(vkey: str | None) -> None:
    """Recompute the whole tree from the stored entries and check every stored node and
    checkpoint (signature and root) against it. Read only."""
    session = db.new_session()
    try:
        report = audit.audit_log(session, vkey=vkey)
    finally:
        session.rollback()
        session.close()
    if not report.ok:
        click.echo(f"log {report.origin}: FAILED with {report.problem_count} problem(s):", err=True)
        for problem in report.problems:
            click.echo(f"  - {problem}", err=True)
        if report.problem_count > len(report.problems):
            click.echo(f"  ... and {report.problem_count - len(report.problems)} more", err=True)
        raise SystemExit(ALARM_EXIT)
    click.echo(
        f"log {report.origin}: ok: {report.entries} entries, {report.nodes} nodes and "
        f"{report.checkpoints} checkpoints verified; tree size {report.integrated_size}, "
        f"root {_b64(report.root_hash)}"
    )


@log_cli.command("monitor")
@click.argument("base_url")
@click.option(
    "--state",
    "state_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file remembering the pinned key and the last verified checkpoint.",
)
@click.option("--vkey", default=None, help="The log's verifier key (pinned on first use if not).")
@click.option(
    "--audit-all",
    is_flag=True,
    help="Re-derive the whole tree from every entry, not just the new ones.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="Seconds to wait for each request.",
)
def monitor(
    base_url: str, state_path: Path, vkey: str | None, audit_all: bool, timeout: float
) -> None:
    """Watch the log at BASE_URL (any deployment) as an outside observer.

    Fetches the checkpoint, checks its signature with the pinned key, checks it extends the
    last checkpoint seen, and re-derives the new entries' leaf hashes from the entry bundles.
    Exits 1 on a bad signature, a fork or a rewritten entry (keep the evidence printed).
    """
    try:
        state = client.load_state(state_path)
        new_state, outcome = client.monitor_log(
            client.http_fetcher(base_url, timeout=timeout),
            state,
            vkey=vkey,
            audit_all=audit_all,
        )
        client.save_state(state_path, new_state)
    except client.LogAlarm as alarm:
        click.echo(f"ALARM ({alarm.kind}): {alarm.message}", err=True)
        if alarm.evidence:
            click.echo("evidence:", err=True)
            click.echo(json.dumps(alarm.evidence, indent=2, ensure_ascii=False), err=True)
        raise SystemExit(ALARM_EXIT) from None
    except client.MonitorError as exc:
        click.echo(f"monitor error: {exc}", err=True)
        raise SystemExit(ERROR_EXIT) from None
    if outcome.pinned_now:
        click.echo(
            f"pinned the log key on first use: {new_state.vkey} (compare it with one obtained "
            "out of band)"
        )
    click.echo(
        f"log {outcome.origin}: ok: size {outcome.previous_size} -> {outcome.size}, "
        f"{outcome.entries_checked} entries checked, root {_b64(outcome.root_hash)}"
    )


@log_cli.command("integrate")
def integrate() -> None:
    """Start the log if needed, integrate pending entries and sign a checkpoint."""
    with cli_transaction() as session:
        services.ensure_log(session)
        checkpoint = services.integrate(session)
        assert checkpoint is not None
        size, root = checkpoint.tree_size, checkpoint.root_hash
    click.echo(f"checkpoint: tree size {size}, root {_b64(root)}")
