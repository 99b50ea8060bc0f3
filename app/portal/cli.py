"""``flask --app wsgi portal ...``: upkeep of the portal's own tables."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli import cli_transaction
from app.portal.submissions import KEPT_FOR, prune_form_tokens

portal_cli = AppGroup("portal", help="Upkeep of the web portal's tables.")


@portal_cli.command("prune-form-tokens")
def prune_tokens() -> None:
    """Forget one-time form tokens claimed more than a week ago (run daily, like
    ``certificates expire``; each person's own old tokens also go as they submit forms)."""
    with cli_transaction() as session:
        deleted = prune_form_tokens(session)
    click.echo(f"Deleted {deleted} form tokens older than {KEPT_FOR.days} days.")
