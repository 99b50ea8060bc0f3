"""Certificates: status list allocation counters in a row of their own (an issuance no longer
rewrites the list's 17 kB row on SQLite).

Revision ID: 0071_status_list_counters
Revises: 0090_portal_firm
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0071_status_list_counters"
down_revision: str | Sequence[str] | None = "0090_portal_firm"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "status_list_counters",
        sa.Column("status_list_id", ID, autoincrement=False, nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["status_list_id"],
            ["status_lists.id"],
            name=op.f("fk_status_list_counters_status_list_id_status_lists"),
        ),
        sa.PrimaryKeyConstraint("status_list_id", name=op.f("pk_status_list_counters")),
    )
    op.execute(
        "INSERT INTO status_list_counters (status_list_id, allocated) "
        "SELECT id, allocated FROM status_lists"
    )
    with op.batch_alter_table("status_lists", schema=None) as batch_op:
        batch_op.drop_column("allocated")


def downgrade() -> None:
    with op.batch_alter_table("status_lists", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("allocated", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE status_lists SET allocated = COALESCE((SELECT allocated FROM "
        "status_list_counters WHERE status_list_counters.status_list_id = status_lists.id), 0)"
    )
    with op.batch_alter_table("status_lists", schema=None) as batch_op:
        batch_op.alter_column("allocated", server_default=None)
    op.drop_table("status_list_counters")
