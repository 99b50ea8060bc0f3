"""Operator commands: ``flask --app wsgi db|org|user|token ...``.

Each command runs in one transaction: it commits at the end or changes nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import click
from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from flask import current_app
from flask.cli import AppGroup
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.auth import services as auth
from app.auth.models import OrgKind, Role, User
from app.errors import AppError
from app.extensions import db

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


@contextmanager
def cli_transaction() -> Iterator[Session]:
    """One session for a CLI command: commit on success, roll back and exit 1 on a domain error."""
    from app.activity.services import record_activity

    session = db.new_session(writer=True)
    try:
        yield session
        context = click.get_current_context(silent=True)
        record_activity(
            session,
            None,
            action=f"cli:{context.command_path if context else 'unknown'}",
            method="CLI",
            path="",
            status=0,
            request_id=None,
        )
        session.commit()
    except AppError as error:
        session.rollback()
        details = "; ".join(f"{e.field}: {e.message}" for e in error.errors)
        raise click.ClickException(error.detail + (f" ({details})" if details else "")) from None
    except DBAPIError:
        session.rollback()
        # A newcomer's first command before `db upgrade` (or after pulling a new version) fails
        # on a missing table or column: say what to run instead of a driver traceback.
        behind = _schema_behind()
        if behind is None:
            raise
        raise click.ClickException(
            f"The database schema is {behind}: run `flask --app wsgi db upgrade` first."
        ) from None
    finally:
        session.close()


def _schema_behind() -> str | None:
    """How the database's schema lags this code's migrations, or None when it is at head."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return None
    if not current:
        return "not created yet"
    return f"at {', '.join(sorted(current))}, this version needs {', '.join(sorted(heads))}"


Schema = TypeVar("Schema", bound=BaseModel)


def check_options(schema: type[Schema], options: dict[str, str], **values: object) -> Schema:
    """Validate option values with the API's own request schema, so a command accepts exactly
    what the API accepts; a bad value is a usage error (exit 2) naming the option. ``options``
    maps schema fields to option names."""
    try:
        return schema.model_validate(values)
    except ValidationError as error:
        problem = error.errors(include_url=False, include_input=False)[0]
        field = str(problem["loc"][0]) if problem["loc"] else ""
        message = (
            "does not have the expected form"
            if problem["type"] == "string_pattern_mismatch"
            else problem["msg"]
        )
        raise click.BadParameter(message, param_hint=options.get(field, field)) from None


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", current_app.config["DATABASE_URL"].replace("%", "%%"))
    config.attributes["flask_app"] = current_app._get_current_object()  # type: ignore[attr-defined]
    return config


db_cli = AppGroup("db", help="Database migrations (Alembic).")


@contextmanager
def _alembic_errors() -> Iterator[None]:
    """Alembic's own refusals (an unknown revision, say) as one line and exit 1."""
    try:
        yield
    except CommandError as error:
        raise click.ClickException(str(error)) from None


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: head)."""
    url = current_app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    with _alembic_errors():
        command.upgrade(alembic_config(), revision)


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION."""
    with _alembic_errors():
        command.downgrade(alembic_config(), revision)


@db_cli.command("current")
def db_current() -> None:
    """Show the database's revision."""
    command.current(alembic_config(), verbose=True)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True)
def db_revision(message: str, autogenerate: bool) -> None:
    """Create a migration (autogenerated from the models by default)."""
    command.revision(alembic_config(), message=message, autogenerate=autogenerate)


@db_cli.command("check")
def db_check() -> None:
    """Fail when the models and the migrations disagree."""
    command.check(alembic_config())


org_cli = AppGroup("org", help="Organisations.")


@org_cli.command("create")
@click.option("--slug", required=True, help="Stable public name, used in URLs and DIDs.")
@click.option("--kind", type=click.Choice([k.value for k in OrgKind]), required=True)
@click.option("--name-zh", required=True)
@click.option("--name-en", required=True)
@click.option(
    "--registration-number",
    default=None,
    help="18 characters: a Unified Social Credit Code, check character included.",
)
@click.option("--region-code", default=None, help="ISO 3166-2 code, e.g. CN-AH.")
def org_create(
    slug: str,
    kind: str,
    name_zh: str,
    name_en: str,
    registration_number: str | None,
    region_code: str | None,
) -> None:
    """Register an organisation."""
    name_zh, name_en = name_zh.strip(), name_en.strip()
    for name, hint in ((name_zh, "--name-zh"), (name_en, "--name-en")):
        if not name or len(name) > 200:
            raise click.BadParameter("give a name of 1 to 200 characters", param_hint=hint)
    if registration_number is not None and len(registration_number.strip()) == 18:
        from app.gs1.identifiers import GS1SyntaxError
        from app.gs1.uscc import validate_uscc

        try:
            registration_number = validate_uscc(registration_number.strip())
        except GS1SyntaxError as error:
            raise click.BadParameter(str(error), param_hint="--registration-number") from None
    if region_code is not None:
        from app.brands.services import validate_region

        try:
            region_code = validate_region(region_code)
        except AppError:
            raise click.BadParameter(
                f"{region_code!r} is not an ISO 3166-2 subdivision code such as CN-AH",
                param_hint="--region-code",
            ) from None
    with cli_transaction() as session:
        organisation = auth.create_organisation(
            session,
            slug=slug,
            kind=OrgKind(kind),
            name_zh=name_zh,
            name_en=name_en,
            registration_number=registration_number,
            region_code=region_code,
            registration_scheme="uscc"
            if registration_number and len(registration_number) == 18
            else None,
        )
        click.echo(f"created organisation {organisation.slug} (id {organisation.id})")


@org_cli.command("list")
def org_list() -> None:
    """List organisations."""
    from app.auth.models import Organisation

    with cli_transaction() as session:
        for organisation in session.scalars(select(Organisation).order_by(Organisation.id)):
            click.echo(f"{organisation.slug}\t{organisation.kind}\t{organisation.name_en}")


user_cli = AppGroup("user", help="People.")


@user_cli.command("create")
@click.option("--org", "org_slug", required=True)
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted for when omitted; never pass it on a shared machine's command line.",
)
def user_create(org_slug: str, email: str, display_name: str, role: str, password: str) -> None:
    """Add a person to an organisation."""
    from app.auth.schemas import UserCreate

    check_options(
        UserCreate,
        {"email": "--email", "display_name": "--name", "role": "--role", "password": "--password"},
        email=email.strip(),
        display_name=display_name,
        role=Role(role),
        password=password,
    )
    with cli_transaction() as session:
        organisation = auth.get_organisation(session, org_slug)
        user = auth.create_user(
            session,
            organisation=organisation,
            email=email,
            display_name=display_name,
            role=Role(role),
            password=password,
        )
        click.echo(f"created user {user.email} (id {user.id}) in {organisation.slug}")


token_cli = AppGroup("token", help="API tokens.")


@token_cli.command("create")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--name", required=True)
@click.option("--scope", "scopes", multiple=True, default=("*:read", "*:write"), show_default=True)
@click.option("--days", type=int, default=90, show_default=True)
def token_create(email: str, name: str, scopes: tuple[str, ...], days: int) -> None:
    """Create an API token; the secret is printed once, on stdout."""
    from app.auth.schemas import TokenCreate

    check_options(
        TokenCreate,
        {"name": "--name", "scopes": "--scope", "expires_in_days": "--days"},
        name=name,
        scopes=list(scopes),
        expires_in_days=days,
    )
    with cli_transaction() as session:
        user = session.scalar(select(User).where(User.email == auth.normalise_email(email)))
        if user is None:
            raise click.ClickException(f"no user {email}")
        issued = auth.issue_token(
            session, user, name=name, scopes=scopes, expires_in=timedelta(days=days)
        )
        click.echo(
            f"token {issued.token.id} expires {issued.token.expires_at.isoformat()}", err=True
        )
        sys.stdout.write(issued.secret + "\n")


@token_cli.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke an API token by id."""
    from app.auth.models import ApiToken
    from app.db import utcnow

    with cli_transaction() as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            raise click.ClickException(f"no token {token_id}")
        token.revoked_at = token.revoked_at or utcnow()
        click.echo(f"revoked token {token_id}")
