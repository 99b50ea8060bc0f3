"""EPCIS capture jobs count the stored events they declared erroneous apart from duplicates.

Revision ID: 0100_capture_declared
Revises: 0090_portal_firm
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0100_capture_declared"
down_revision: str | Sequence[str] | None = "0090_portal_firm"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("epcis_capture_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("declared_count", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("epcis_capture_jobs", schema=None) as batch_op:
        batch_op.drop_column("declared_count")
