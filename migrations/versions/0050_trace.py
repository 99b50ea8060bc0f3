"""traceability events, locations, partners, recalls

Revision ID: 0050_trace
Revises: 0040_products
Create Date: 2026-11-28 14:15:18.271569
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0050_trace'
down_revision: str | Sequence[str] | None = '0040_products'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('epcis_locations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('gln', sa.String(length=13), nullable=False),
    sa.Column('extension', sa.String(length=20), nullable=True),
    sa.Column('uri', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_epcis_locations_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_epcis_locations')),
    sa.UniqueConstraint('organisation_id', 'uri', name=op.f('uq_epcis_locations_organisation_id_uri'))
    )
    with op.batch_alter_table('epcis_locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_epcis_locations_uri'), ['uri'], unique=False)

    op.create_table('epcis_capture_jobs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('capture_id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('error_behaviour', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('captured_count', sa.Integer(), nullable=False),
    sa.Column('duplicate_count', sa.Integer(), nullable=False),
    sa.Column('rejected_count', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('document_sha256', sa.String(length=64), nullable=False),
    sa.Column('document_bytes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_epcis_capture_jobs_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_epcis_capture_jobs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_epcis_capture_jobs')),
    sa.UniqueConstraint('capture_id', name=op.f('uq_epcis_capture_jobs_capture_id'))
    )
    with op.batch_alter_table('epcis_capture_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_epcis_capture_jobs_org_id', ['organisation_id', 'id'], unique=False)

    op.create_table('epcis_partner_authorisations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('partner_organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('gtins', sa.JSON(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_epcis_partner_authorisations_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_epcis_partner_authorisations_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['partner_organisation_id'], ['organisations.id'], name=op.f('fk_epcis_partner_authorisations_partner_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_epcis_partner_authorisations'))
    )
    with op.batch_alter_table('epcis_partner_authorisations', schema=None) as batch_op:
        batch_op.create_index('ix_epcis_partner_authorisations_org', ['organisation_id'], unique=False)
        batch_op.create_index('ix_epcis_partner_authorisations_partner', ['partner_organisation_id'], unique=False)

    op.create_table('epcis_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('hash_id', sa.String(length=100), nullable=False),
    sa.Column('epcis_event_id', sa.String(length=512), nullable=False),
    sa.Column('event_type', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=True),
    sa.Column('event_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('time_zone_offset', sa.String(length=6), nullable=False),
    sa.Column('record_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('biz_step', sa.String(length=500), nullable=True),
    sa.Column('disposition', sa.String(length=500), nullable=True),
    sa.Column('read_point', sa.String(length=500), nullable=True),
    sa.Column('biz_location', sa.String(length=500), nullable=True),
    sa.Column('capture_job_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['capture_job_id'], ['epcis_capture_jobs.id'], name=op.f('fk_epcis_events_capture_job_id_epcis_capture_jobs')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_epcis_events_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_epcis_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_epcis_events')),
    sa.UniqueConstraint('epcis_event_id', name=op.f('uq_epcis_events_epcis_event_id')),
    sa.UniqueConstraint('hash_id', name=op.f('uq_epcis_events_hash_id'))
    )
    with op.batch_alter_table('epcis_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_epcis_events_biz_location'), ['biz_location'], unique=False)
        batch_op.create_index(batch_op.f('ix_epcis_events_biz_step'), ['biz_step'], unique=False)
        batch_op.create_index(batch_op.f('ix_epcis_events_capture_job_id'), ['capture_job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_epcis_events_disposition'), ['disposition'], unique=False)
        batch_op.create_index('ix_epcis_events_event_time_id', ['event_time', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_epcis_events_event_type'), ['event_type'], unique=False)
        batch_op.create_index('ix_epcis_events_org_id', ['organisation_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_epcis_events_read_point'), ['read_point'], unique=False)
        batch_op.create_index('ix_epcis_events_record_time_id', ['record_time', 'id'], unique=False)

    op.create_table('recalls',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('gtin', sa.String(length=14), nullable=False),
    sa.Column('lot', sa.String(length=20), nullable=False),
    sa.Column('owner_organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('placed_by_organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('placed_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('lift_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_recalls_batch_id_batches')),
    sa.ForeignKeyConstraint(['lifted_by_user_id'], ['users.id'], name=op.f('fk_recalls_lifted_by_user_id_users')),
    sa.ForeignKeyConstraint(['owner_organisation_id'], ['organisations.id'], name=op.f('fk_recalls_owner_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['placed_by_organisation_id'], ['organisations.id'], name=op.f('fk_recalls_placed_by_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['placed_by_user_id'], ['users.id'], name=op.f('fk_recalls_placed_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recalls'))
    )
    with op.batch_alter_table('recalls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recalls_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index('ix_recalls_gtin_lot_status', ['gtin', 'lot', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_recalls_owner_organisation_id'), ['owner_organisation_id'], unique=False)

    op.create_table('epcis_event_certifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reference', sa.String(length=500), nullable=False),
    sa.Column('certificate_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_epcis_event_certifications_certificate_id_certificates')),
    sa.ForeignKeyConstraint(['event_id'], ['epcis_events.id'], name=op.f('fk_epcis_event_certifications_event_id_epcis_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_epcis_event_certifications'))
    )
    with op.batch_alter_table('epcis_event_certifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_epcis_event_certifications_certificate_id'), ['certificate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_epcis_event_certifications_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_epcis_event_certifications_reference'), ['reference'], unique=False)

    op.create_table('epcis_event_epcs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('uri', sa.String(length=500), nullable=False),
    sa.Column('gtin', sa.String(length=14), nullable=True),
    sa.Column('lot', sa.String(length=20), nullable=True),
    sa.Column('serial', sa.String(length=30), nullable=True),
    sa.Column('quantity', sa.Float(), nullable=True),
    sa.Column('uom', sa.String(length=8), nullable=True),
    sa.Column('owner_organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['epcis_events.id'], name=op.f('fk_epcis_event_epcs_event_id_epcis_events')),
    sa.ForeignKeyConstraint(['owner_organisation_id'], ['organisations.id'], name=op.f('fk_epcis_event_epcs_owner_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_epcis_event_epcs'))
    )
    with op.batch_alter_table('epcis_event_epcs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_epcis_event_epcs_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_epcis_event_epcs_gtin_lot', ['gtin', 'lot'], unique=False)
        batch_op.create_index('ix_epcis_event_epcs_uri_event_id', ['uri', 'event_id'], unique=False)

    op.create_table('epcis_event_organisations',
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('relation', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['epcis_events.id'], name=op.f('fk_epcis_event_organisations_event_id_epcis_events')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_epcis_event_organisations_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('event_id', 'organisation_id', 'relation', name=op.f('pk_epcis_event_organisations'))
    )
    with op.batch_alter_table('epcis_event_organisations', schema=None) as batch_op:
        batch_op.create_index('ix_epcis_event_organisations_org_event', ['organisation_id', 'event_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('epcis_event_organisations', schema=None) as batch_op:
        batch_op.drop_index('ix_epcis_event_organisations_org_event')

    op.drop_table('epcis_event_organisations')
    with op.batch_alter_table('epcis_event_epcs', schema=None) as batch_op:
        batch_op.drop_index('ix_epcis_event_epcs_uri_event_id')
        batch_op.drop_index('ix_epcis_event_epcs_gtin_lot')
        batch_op.drop_index(batch_op.f('ix_epcis_event_epcs_event_id'))

    op.drop_table('epcis_event_epcs')
    with op.batch_alter_table('epcis_event_certifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_epcis_event_certifications_reference'))
        batch_op.drop_index(batch_op.f('ix_epcis_event_certifications_event_id'))
        batch_op.drop_index(batch_op.f('ix_epcis_event_certifications_certificate_id'))

    op.drop_table('epcis_event_certifications')
    with op.batch_alter_table('recalls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recalls_owner_organisation_id'))
        batch_op.drop_index('ix_recalls_gtin_lot_status')
        batch_op.drop_index(batch_op.f('ix_recalls_batch_id'))

    op.drop_table('recalls')
    with op.batch_alter_table('epcis_events', schema=None) as batch_op:
        batch_op.drop_index('ix_epcis_events_record_time_id')
        batch_op.drop_index(batch_op.f('ix_epcis_events_read_point'))
        batch_op.drop_index('ix_epcis_events_org_id')
        batch_op.drop_index(batch_op.f('ix_epcis_events_event_type'))
        batch_op.drop_index('ix_epcis_events_event_time_id')
        batch_op.drop_index(batch_op.f('ix_epcis_events_disposition'))
        batch_op.drop_index(batch_op.f('ix_epcis_events_capture_job_id'))
        batch_op.drop_index(batch_op.f('ix_epcis_events_biz_step'))
        batch_op.drop_index(batch_op.f('ix_epcis_events_biz_location'))

    op.drop_table('epcis_events')
    with op.batch_alter_table('epcis_partner_authorisations', schema=None) as batch_op:
        batch_op.drop_index('ix_epcis_partner_authorisations_partner')
        batch_op.drop_index('ix_epcis_partner_authorisations_org')

    op.drop_table('epcis_partner_authorisations')
    with op.batch_alter_table('epcis_capture_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_epcis_capture_jobs_org_id')

    op.drop_table('epcis_capture_jobs')
    with op.batch_alter_table('epcis_locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_epcis_locations_uri'))

    op.drop_table('epcis_locations')
