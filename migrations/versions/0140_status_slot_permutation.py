"""Status list indices come from a keyed permutation of each list's allocation counter.

Each new status list gets a random ``slot_key``; the n-th certificate of the list gets the
index the key's permutation gives n (app.certificates.status). Indices are then distinct by
construction, and the unique constraints on (list, index), whose random keys cost an index
page per certificate, go. Lists made before have no key and take no new certificates: the next
issuance opens a keyed list (their bits still change as their certificates do).

The log entries' index on organisation_id goes too: no query uses it, organisations are never
deleted, and every appended entry paid for it.

Revision ID: 0140_status_slot_permutation
Revises: 0130_error_declarations
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0140_status_slot_permutation"
down_revision: str | Sequence[str] | None = "0130_error_declarations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Without batch mode: recreating log_entries on SQLite would drop its append-only triggers.
    op.drop_index("ix_log_entries_organisation_id", table_name="log_entries")
    with op.batch_alter_table("status_lists", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slot_key", sa.LargeBinary(length=32), nullable=True))
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_constraint(
            "uq_certificates_revocation_list_id_revocation_index", type_="unique"
        )
        batch_op.drop_constraint(
            "uq_certificates_suspension_list_id_suspension_index", type_="unique"
        )


def downgrade() -> None:
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_certificates_revocation_list_id_revocation_index",
            ["revocation_list_id", "revocation_index"],
        )
        batch_op.create_unique_constraint(
            "uq_certificates_suspension_list_id_suspension_index",
            ["suspension_list_id", "suspension_index"],
        )
    with op.batch_alter_table("status_lists", schema=None) as batch_op:
        batch_op.drop_column("slot_key")
    op.create_index("ix_log_entries_organisation_id", "log_entries", ["organisation_id"])
