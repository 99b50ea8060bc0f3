"""Browser sessions signed out before their cookies expire are recorded, so that a copy of the
cookie stops working at sign-out.

Revision ID: 0110_ended_sessions
Revises: 0100_capture_declared
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0110_ended_sessions"
down_revision: str | Sequence[str] | None = "0100_capture_declared"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ended_sessions",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_ended_sessions")),
    )
    op.create_index(
        op.f("ix_ended_sessions_expires_at"), "ended_sessions", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ended_sessions_expires_at"), table_name="ended_sessions")
    op.drop_table("ended_sessions")
