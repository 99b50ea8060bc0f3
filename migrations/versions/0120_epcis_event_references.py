"""EPCIS events' business transactions, sources and destinations get a row each, so that
EQ_bizTransaction_<type>, EQ_source_<type> and EQ_destination_<type> queries are index lookups;
the events stored so far are filled in.

Revision ID: 0120_event_references
Revises: 0110_ended_sessions
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0120_event_references"
down_revision: str | Sequence[str] | None = "0110_ended_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "epcis_event_references",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=500), nullable=True),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["epcis_events.id"],
            name=op.f("fk_epcis_event_references_event_id_epcis_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_event_references")),
    )
    with op.batch_alter_table("epcis_event_references", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_epcis_event_references_event_id"), ["event_id"], unique=False
        )
        batch_op.create_index(
            "ix_epcis_event_references_lookup", ["kind", "value", "event_id"], unique=False
        )
    _fill_in()


def _fill_in() -> None:
    # The rows capture writes, from the stored documents (the same function, so that old and
    # new events are found alike).
    from app.trace.capture import event_references

    bind = op.get_bind()
    events = sa.table("epcis_events", sa.column("id"), sa.column("document", sa.JSON()))
    references = sa.table(
        "epcis_event_references",
        sa.column("event_id"),
        sa.column("kind"),
        sa.column("type"),
        sa.column("value"),
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
        values = [
            {"event_id": event_id, "kind": kind, "type": type_, "value": value}
            for event_id, document in rows
            for kind, type_, value in event_references(document)
        ]
        if values:
            bind.execute(sa.insert(references), values)
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("epcis_event_references", schema=None) as batch_op:
        batch_op.drop_index("ix_epcis_event_references_lookup")
        batch_op.drop_index(batch_op.f("ix_epcis_event_references_event_id"))
    op.drop_table("epcis_event_references")
