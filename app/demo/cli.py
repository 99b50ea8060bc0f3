"""``flask --app wsgi demo seed [--json]``: load the demo (idempotent)."""

from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.auth.models import Organisation
from app.cli import cli_transaction
from app.demo.seed import seed_demo

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (and nothing else) on stdout."
)
@click.option("--if-empty", is_flag=True, help="Do nothing when organisations exist already.")
def seed(as_json: bool, if_empty: bool) -> None:
    """Load the demo: an association with its regional brand, member firms, observers, users."""
    with cli_transaction() as session:
        if if_empty and session.scalar(select(func.count()).select_from(Organisation)):
            click.echo("database not empty: demo not loaded", err=True)
            return
        result = seed_demo(session, current_app.config["BASE_URL"])
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        click.echo(f"demo loaded at {result['base_url']}; sign in with:")
        for role, account in result["users"].items():
            click.echo(f"  {role:22} {account['username']}  /  {account['password']}")
