"""EPCIS events keep the time and reason of their errorDeclaration in columns, for the
EXISTS_errorDeclaration, GE_/LT_errorDeclarationTime and EQ_errorReason queries; the events
declared erroneous so far are filled in.

Revision ID: 0130_error_declarations
Revises: 0120_event_references
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0130_error_declarations"
down_revision: str | Sequence[str] | None = "0120_event_references"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("epcis_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("error_declaration_time", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("error_reason", sa.String(length=500), nullable=True))
        batch_op.create_index(
            "ix_epcis_events_error_declaration_time", ["error_declaration_time"], unique=False
        )
    _fill_in()


def _fill_in() -> None:
    # The columns capture writes, from the stored documents (the same function, so that old
    # and new declarations are found alike).
    from app.db import UTCDateTime
    from app.trace.capture import error_declaration_columns

    bind = op.get_bind()
    events = sa.table(
        "epcis_events",
        sa.column("id"),
        sa.column("document", sa.JSON()),
        sa.column("error_declaration_time", UTCDateTime()),
        sa.column("error_reason"),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(events.c.id, events.c.document)
            .where(events.c.id > last)
            .order_by(events.c.id)
            .limit(500)
        ).all()
        if not rows:
            return
        for event_id, document in rows:
            declared_at, reason = error_declaration_columns(document.get("errorDeclaration"))
            if declared_at is not None:
                bind.execute(
                    sa.update(events)
                    .where(events.c.id == event_id)
                    .values(error_declaration_time=declared_at, error_reason=reason)
                )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("epcis_events", schema=None) as batch_op:
        batch_op.drop_index("ix_epcis_events_error_declaration_time")
        batch_op.drop_column("error_reason")
        batch_op.drop_column("error_declaration_time")
