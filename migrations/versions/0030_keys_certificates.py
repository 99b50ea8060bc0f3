"""issuer keys, status lists, certificates and their events

Revision ID: 0030_keys
Revises: 0010_brands, 0020_tlog
Create Date: 2026-11-28 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0030_keys'
down_revision: str | Sequence[str] | None = ('0010_brands', '0020_tlog')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('certificate_number_sequences',
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_certificate_number_sequences_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('organisation_id', 'year', name=op.f('pk_certificate_number_sequences'))
    )
    op.create_table('issuer_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('fragment', sa.String(length=32), nullable=False),
    sa.Column('public_key_multibase', sa.String(length=64), nullable=False),
    sa.Column('sealed_private_key', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revocation_reason', sa.String(length=500), nullable=True),
    sa.Column('revocation_recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_issuer_keys_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issuer_keys')),
    sa.UniqueConstraint('organisation_id', 'fragment', name=op.f('uq_issuer_keys_organisation_id_fragment')),
    sa.UniqueConstraint('public_key_multibase', name=op.f('uq_issuer_keys_public_key_multibase'))
    )
    with op.batch_alter_table('issuer_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issuer_keys_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('uq_issuer_keys_one_active', ['organisation_id'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('status_lists',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('size_bits', sa.Integer(), nullable=False),
    sa.Column('bits', sa.LargeBinary(), nullable=False),
    sa.Column('allocated', sa.Integer(), nullable=False),
    sa.Column('credential_json', sa.Text(), nullable=False),
    sa.Column('etag', sa.String(length=64), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_status_lists_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_lists')),
    sa.UniqueConstraint('organisation_id', 'purpose', 'sequence', name=op.f('uq_status_lists_organisation_id_purpose_sequence'))
    )
    with op.batch_alter_table('status_lists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_lists_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('certificates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('issuer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('firm_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('decision_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('standard_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('issuer_key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.String(length=500), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('suspended_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('holder_name_zh', sa.String(length=200), nullable=False),
    sa.Column('holder_name_en', sa.String(length=200), nullable=False),
    sa.Column('holder_registration_number', sa.String(length=64), nullable=True),
    sa.Column('standard_code', sa.String(length=64), nullable=False),
    sa.Column('standard_version', sa.String(length=32), nullable=False),
    sa.Column('standard_content_hash', sa.String(length=100), nullable=False),
    sa.Column('scope_gtins', sa.JSON(), nullable=False),
    sa.Column('scope_sites', sa.JSON(), nullable=False),
    sa.Column('mark_licence_number', sa.String(length=48), nullable=False),
    sa.Column('label_quota', sa.Integer(), nullable=False),
    sa.Column('labels_issued', sa.Integer(), nullable=False),
    sa.Column('revocation_list_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('revocation_index', sa.Integer(), nullable=False),
    sa.Column('suspension_list_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('suspension_index', sa.Integer(), nullable=False),
    sa.Column('previous_certificate_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('credential_json', sa.Text(), nullable=False),
    sa.Column('proof_value', sa.String(length=100), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('log_index', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('labels_issued >= 0 AND labels_issued <= label_quota', name=op.f('ck_certificates_label_quota_held')),
    sa.CheckConstraint('valid_from < valid_until', name=op.f('ck_certificates_validity_ordered')),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_certificates_brand_id_brands')),
    sa.ForeignKeyConstraint(['decision_id'], ['audit_decisions.id'], name=op.f('fk_certificates_decision_id_audit_decisions')),
    sa.ForeignKeyConstraint(['firm_id'], ['organisations.id'], name=op.f('fk_certificates_firm_id_organisations')),
    sa.ForeignKeyConstraint(['issued_by_user_id'], ['users.id'], name=op.f('fk_certificates_issued_by_user_id_users')),
    sa.ForeignKeyConstraint(['issuer_id'], ['organisations.id'], name=op.f('fk_certificates_issuer_id_organisations')),
    sa.ForeignKeyConstraint(['issuer_key_id'], ['issuer_keys.id'], name=op.f('fk_certificates_issuer_key_id_issuer_keys')),
    sa.ForeignKeyConstraint(['previous_certificate_id'], ['certificates.id'], name=op.f('fk_certificates_previous_certificate_id_certificates')),
    sa.ForeignKeyConstraint(['revocation_list_id'], ['status_lists.id'], name=op.f('fk_certificates_revocation_list_id_status_lists')),
    sa.ForeignKeyConstraint(['standard_version_id'], ['standard_versions.id'], name=op.f('fk_certificates_standard_version_id_standard_versions')),
    sa.ForeignKeyConstraint(['suspension_list_id'], ['status_lists.id'], name=op.f('fk_certificates_suspension_list_id_status_lists')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('mark_licence_number', name=op.f('uq_certificates_mark_licence_number')),
    sa.UniqueConstraint('number', name=op.f('uq_certificates_number')),
    sa.UniqueConstraint('revocation_list_id', 'revocation_index', name=op.f('uq_certificates_revocation_list_id_revocation_index')),
    sa.UniqueConstraint('suspension_list_id', 'suspension_index', name=op.f('uq_certificates_suspension_list_id_suspension_index'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_brand_id'), ['brand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_decision_id'), ['decision_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_firm_id'), ['firm_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_holder_registration_number'), ['holder_registration_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_issuer_id'), ['issuer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_valid_until'), ['valid_until'], unique=False)

    op.create_table('certificate_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('certificate_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('suspended_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('related_certificate_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('actor_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('actor_organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_organisation_id'], ['organisations.id'], name=op.f('fk_certificate_events_actor_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_certificate_events_actor_user_id_users')),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_certificate_events_certificate_id_certificates')),
    sa.ForeignKeyConstraint(['related_certificate_id'], ['certificates.id'], name=op.f('fk_certificate_events_related_certificate_id_certificates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_events'))
    )
    with op.batch_alter_table('certificate_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_events_certificate_id'), ['certificate_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('certificate_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_events_certificate_id'))

    op.drop_table('certificate_events')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_valid_until'))
        batch_op.drop_index(batch_op.f('ix_certificates_status'))
        batch_op.drop_index(batch_op.f('ix_certificates_issuer_id'))
        batch_op.drop_index(batch_op.f('ix_certificates_holder_registration_number'))
        batch_op.drop_index(batch_op.f('ix_certificates_firm_id'))
        batch_op.drop_index(batch_op.f('ix_certificates_decision_id'))
        batch_op.drop_index(batch_op.f('ix_certificates_brand_id'))

    op.drop_table('certificates')
    with op.batch_alter_table('status_lists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_lists_organisation_id'))

    op.drop_table('status_lists')
    with op.batch_alter_table('issuer_keys', schema=None) as batch_op:
        batch_op.drop_index('uq_issuer_keys_one_active', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index(batch_op.f('ix_issuer_keys_organisation_id'))

    op.drop_table('issuer_keys')
    op.drop_table('certificate_number_sequences')
