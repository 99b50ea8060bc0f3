"""``flask --app wsgi keys ...`` (issuer keys) and ``flask --app wsgi certificates ...``.

Each command runs in one transaction (:func:`app.cli.cli_transaction`): it commits at the end
or changes nothing. No command ever prints private key material.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from flask.cli import AppGroup

from app.auth import services as auth
from app.auth.models import OrgKind
from app.certificates import credentials, keys
from app.certificates.did import did_web_document_url
from app.certificates.errors import NotAnIssuer
from app.certificates.models import StatusList
from app.cli import check_options, cli_transaction

keys_cli = AppGroup("keys", help="Issuer signing keys (Ed25519) and DIDs of associations.")
certificates_cli = AppGroup("certificates", help="Certificates: expiry sweep, offline bundles.")


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date-time", param_hint="--from"
        ) from None
    if moment.tzinfo is None:
        raise click.BadParameter(
            f"{value!r} needs a time zone, e.g. 2026-03-01T00:00:00Z", param_hint="--from"
        )
    return moment.astimezone(UTC)


@keys_cli.command("list")
@click.option("--org", "org_slug", required=True, help="The association's slug.")
def keys_list(org_slug: str) -> None:
    """List an association's keys with their validity windows."""
    with cli_transaction() as session:
        organisation = auth.get_organisation(session, org_slug)
        if organisation.kind != OrgKind.ASSOCIATION:
            # Only associations publish a DID document: a firm's "DID" would lead nowhere.
            raise NotAnIssuer("Only associations hold issuer keys and issue certificates.")
        did = keys.issuer_did(organisation)
        click.echo(f"{did}  ({did_web_document_url(did)})")
        for key in keys.list_keys(session, organisation.id):
            until = key.valid_until.isoformat() if key.valid_until else "-"
            revoked = f" revoked from {key.revoked_at.isoformat()}" if key.revoked_at else ""
            click.echo(
                f"  #{key.fragment}\t{key.status.value}\t{key.public_key_multibase}\t"
                f"{key.valid_from.isoformat()} .. {until}{revoked}"
            )


@keys_cli.command("rotate")
@click.option("--org", "org_slug", required=True, help="The association's slug.")
def keys_rotate(org_slug: str) -> None:
    """Retire the active key and start signing with a new one (or create the first key)."""
    with cli_transaction() as session:
        organisation = auth.get_organisation(session, org_slug)
        result = keys.rotate_key(session, organisation)
        if result.retired is not None:
            click.echo(f"retired #{result.retired.fragment}")
        click.echo(f"active #{result.active.fragment} {result.active.public_key_multibase}")


@keys_cli.command("revoke")
@click.option("--org", "org_slug", required=True, help="The association's slug.")
@click.option("--key", "fragment", required=True, help="The key's fragment, e.g. key-1.")
@click.option("--from", "revoked_from", default=None, help="Compromised since (default: now).")
@click.option("--reason", required=True)
def keys_revoke(org_slug: str, fragment: str, revoked_from: str | None, reason: str) -> None:
    """Revoke a compromised key from a date on; lists the certificates to re-issue."""
    from app.certificates.schemas import RevokeKey

    # The reason is recorded and shown publicly: the API's rules apply.
    reason = check_options(RevokeKey, {"reason": "--reason"}, reason=reason).reason
    moment = _instant(revoked_from)
    with cli_transaction() as session:
        organisation = auth.get_organisation(session, org_slug)
        result = keys.revoke_key(
            session,
            organisation,
            fragment,
            revoked_from=moment,
            reason=reason,
        )
        click.echo(f"revoked #{fragment} from {result.key.revoked_at}")
        if result.replacement is not None:
            click.echo(f"active #{result.replacement.fragment}")
        for number in result.affected_certificates:
            click.echo(f"re-issue: {number}")


@certificates_cli.command("expire")
def certificates_expire() -> None:
    """Mark certificates whose validity has ended as expired (run daily)."""
    with cli_transaction() as session:
        expired = credentials.expire_certificates(session)
        for certificate in expired:
            click.echo(f"expired {certificate.number}")
        click.echo(f"{len(expired)} certificate(s) expired", err=True)


@certificates_cli.command("sweep")
def certificates_sweep() -> None:
    """The daily certificate job (run it from cron or a systemd timer): record expiries and list
    suspensions whose planned end has passed, for their issuers to reinstate or withdraw."""
    with cli_transaction() as session:
        result = credentials.sweep_certificates(session)
        for certificate in result.expired:
            click.echo(f"expired {certificate.number}")
        for certificate in result.suspensions_overdue:
            click.echo(
                f"suspension overdue {certificate.number} (planned end "
                f"{certificate.suspended_until:%Y-%m-%d}; reinstate or withdraw)"
            )
        click.echo(
            f"{len(result.expired)} certificate(s) expired, "
            f"{len(result.suspensions_overdue)} suspension(s) past their planned end",
            err=True,
        )


@certificates_cli.command("export")
@click.argument("number")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write credential.json, did.json and the status lists into.",
)
def certificates_export(number: str, out_dir: Path) -> None:
    """Write what the offline verifier needs for one certificate, as published."""
    with cli_transaction() as session:
        certificate = credentials.get_certificate(session, number)
        document = keys.did_document(session, certificate.issuer)
        files = {
            "credential.json": certificate.credential_json,
            "did.json": json.dumps(document, ensure_ascii=False, indent=2),
        }
        for list_id, name in (
            (certificate.revocation_list_id, "revocation.json"),
            (certificate.suspension_list_id, "suspension.json"),
        ):
            found = session.get(StatusList, list_id)
            assert found is not None
            files[name] = found.credential_json
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            for name, text in files.items():
                (out_dir / name).write_text(text, encoding="utf-8")
        except OSError as error:
            raise click.ClickException(
                f"cannot write into {out_dir}: {error.strerror or error}"
            ) from None
        names = [str(out_dir / "revocation.json"), str(out_dir / "suspension.json")]
        click.echo(
            "python -m app.verify --credential {0}/credential.json --did {0}/did.json "
            "--status-list {1} --status-list {2}".format(out_dir, *names)
        )
