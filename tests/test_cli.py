"""Operator commands and the demo seed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.auth.models import Organisation, User

REQUIRED_ROLES = {
    "association_admin",
    "association_auditor",
    "firm_admin",
    "firm2_admin",
    "government_viewer",
}


def test_org_user_and_token_commands_create_working_accounts(app) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "org",
            "create",
            "--slug",
            "cli-firm",
            "--kind",
            "enterprise",
            "--name-zh",
            "命令行公司",
            "--name-en",
            "CLI Co.",
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "user",
            "create",
            "--org",
            "cli-firm",
            "--email",
            "ops@cli.example",
            "--name",
            "Ops",
            "--role",
            "admin",
            "--password",
            "a-long-password-1",
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=["token", "create", "--email", "ops@cli.example", "--name", "ci", "--scope", "*:read"]
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.get_json()["organisation"]["slug"] == "cli-firm"
    assert me.get_json()["token_scopes"] == ["*:read"]


def test_cli_errors_are_clear_and_change_nothing(app, session) -> None:
    runner = app.test_cli_runner()
    before = session.scalar(select(func.count()).select_from(Organisation))
    result = runner.invoke(
        args=[
            "org",
            "create",
            "--slug",
            "Bad Slug!",
            "--kind",
            "enterprise",
            "--name-zh",
            "x",
            "--name-en",
            "x",
        ]
    )
    assert result.exit_code != 0 and "slug" in result.output.lower()
    result = runner.invoke(
        args=[
            "user",
            "create",
            "--org",
            "hongxiang-tea",
            "--email",
            "x@y.example",
            "--name",
            "X",
            "--role",
            "staff",
            "--password",
            "short",
        ]
    )
    assert result.exit_code != 0 and "10" in result.output
    assert session.scalar(select(func.count()).select_from(Organisation)) == before


def test_demo_seed_json_prints_only_json_with_the_contract_keys(app) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["base_url"] == app.config["BASE_URL"]
    assert set(data["tokens"]) >= REQUIRED_ROLES and set(data["users"]) >= REQUIRED_ROLES
    for role in REQUIRED_ROLES:
        assert data["users"][role]["username"] and data["users"][role]["password"]
        response = app.test_client().get(
            "/api/v1/me", headers={"Authorization": f"Bearer {data['tokens'][role]}"}
        )
        assert response.status_code == 200


def test_demo_seed_twice_does_not_duplicate(app, session) -> None:
    runner = app.test_cli_runner()
    counts = []
    for _ in range(2):
        assert runner.invoke(args=["demo", "seed", "--json"]).exit_code == 0
        counts.append(
            (
                session.scalar(select(func.count()).select_from(Organisation)),
                session.scalar(select(func.count()).select_from(User)),
            )
        )
    assert counts[0] == counts[1]


def test_demo_users_can_sign_in_with_the_printed_passwords(app, demo) -> None:
    from app.auth.services import authenticate_password

    with app.app_context():
        from app.extensions import db

        session = db.new_session()
        for role in REQUIRED_ROLES:
            account = demo["users"][role]
            assert (
                authenticate_password(session, account["username"], account["password"]).email
                == account["username"]
            )
        session.close()


def _org_create(runner, slug: str, *extra: str):
    return runner.invoke(
        args=[
            "org",
            "create",
            "--slug",
            slug,
            "--kind",
            "enterprise",
            "--name-zh",
            "命令行公司",
            "--name-en",
            "CLI Co.",
            *extra,
        ]
    )


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--name-zh", " "], "--name-zh"),
        (["--name-en", ""], "--name-en"),
        # 91340000MA2N0C3X06 is a valid USCC; its last character is the check character.
        (["--registration-number", "91340000MA2N0C3X0A"], "--registration-number"),
        (["--region-code", "XX"], "--region-code"),
    ],
)
def test_org_create_refuses_what_the_api_would_refuse(app, session, extra, option) -> None:
    result = _org_create(app.test_cli_runner(), "cli-bad", *extra)
    assert result.exit_code == 2, result.output
    assert option in result.output
    assert session.scalar(select(Organisation).where(Organisation.slug == "cli-bad")) is None


def test_org_create_keeps_a_valid_uscc_and_region(app, session) -> None:
    result = _org_create(
        app.test_cli_runner(),
        "cli-good",
        "--registration-number",
        "91340000ma2n0c3x06",
        "--region-code",
        "cn-ah",
    )
    assert result.exit_code == 0, result.output
    organisation = session.scalar(select(Organisation).where(Organisation.slug == "cli-good"))
    assert organisation.registration_number == "91340000MA2N0C3X06"
    assert organisation.registration_scheme == "uscc"
    assert organisation.region_code == "CN-AH"


@pytest.mark.parametrize(
    ("email", "name", "option"),
    [("not-an-email", "Ops", "--email"), ("ops@cli.example", "", "--name")],
)
def test_user_create_refuses_what_the_api_would_refuse(app, session, email, name, option) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "user",
            "create",
            "--org",
            "hongxiang-tea",
            "--email",
            email,
            "--name",
            name,
            "--role",
            "staff",
            "--password",
            "a-long-password-1",
        ]
    )
    assert result.exit_code == 2, result.output
    assert option in result.output
    assert "a-long-password-1" not in result.output
    assert session.scalar(select(User).where(User.email == email)) is None


def test_token_create_refuses_an_empty_name(app, demo) -> None:
    email = demo["users"]["firm_admin"]["username"]
    result = app.test_cli_runner().invoke(args=["token", "create", "--email", email, "--name", ""])
    assert result.exit_code == 2, result.output
    assert "--name" in result.output
    assert not result.stdout.strip()


def test_db_upgrade_to_an_unknown_revision_is_one_line(app) -> None:
    result = app.test_cli_runner().invoke(args=["db", "upgrade", "no-such-revision"])
    assert result.exit_code == 1
    assert "no-such-revision" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_commands_on_a_database_not_yet_migrated_say_what_to_run(tmp_path) -> None:
    from alembic import command

    from app import create_app
    from app.cli import _schema_behind, alembic_config
    from tests.conftest import make_test_config

    fresh = create_app(make_test_config(f"sqlite:///{tmp_path / 'new.sqlite3'}", tmp_path))
    runner = fresh.test_cli_runner()
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 1
    assert "not created yet: run `flask --app wsgi db upgrade` first" in result.output
    assert "Traceback" not in result.output
    # One migration behind: it says where the database is and what this version needs.
    with fresh.app_context():
        command.upgrade(alembic_config(), "head")
        assert _schema_behind() is None
        command.downgrade(alembic_config(), "-1")
        behind = _schema_behind()
        assert behind is not None and behind.startswith("at ") and "this version needs" in behind
        command.upgrade(alembic_config(), "head")
    assert runner.invoke(args=["demo", "seed", "--json"]).exit_code == 0
