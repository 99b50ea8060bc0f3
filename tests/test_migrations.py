"""Migrations and models agree, there is one head, and the chain runs down and up again."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.cli import alembic_config
from app.db import Base
from app.extensions import db
from app.models import import_all_models
from tests.conftest import fresh_database, other_app


def test_exactly_one_head(app) -> None:
    with app.app_context():
        heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}; chain them"


def test_models_match_the_migrated_schema(app) -> None:
    """The test database was built by the real migrations; the models must describe it exactly."""
    import_all_models()
    with app.app_context():
        assert db.engine is not None
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "render_as_batch": connection.dialect.name == "sqlite"},
            )
            differences = compare_metadata(context, Base.metadata)
    assert differences == [], f"models and migrations disagree: {differences}"


def test_downgrade_to_base_and_upgrade_again(tmp_path: Path, key_dir: Path) -> None:
    with (
        fresh_database(tmp_path, "roundtrip") as url,
        other_app(url, key_dir) as scratch,
        scratch.app_context(),
    ):
        config = alembic_config()
        command.upgrade(config, "head")
        command.downgrade(config, "base")
        command.upgrade(config, "head")
