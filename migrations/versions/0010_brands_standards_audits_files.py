"""brands standards audits files

Revision ID: 0010_brands
Revises: 0001_accounts
Create Date: 2026-11-28 13:58:58.397678
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010_brands'
down_revision: str | Sequence[str] | None = '0001_accounts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('stored_files',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=True),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('uploaded_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_stored_files_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_stored_files_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_files'))
    )
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_files_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stored_files_sha256'), ['sha256'], unique=False)

    op.create_table('brands',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('region_code', sa.String(length=16), nullable=False),
    sa.Column('region_name_zh', sa.String(length=200), nullable=False),
    sa.Column('region_name_en', sa.String(length=200), nullable=False),
    sa.Column('category_zh', sa.String(length=100), nullable=False),
    sa.Column('category_en', sa.String(length=100), nullable=False),
    sa.Column('story_zh', sa.Text(), nullable=False),
    sa.Column('story_en', sa.Text(), nullable=False),
    sa.Column('logo_file_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('mark_registration_number', sa.String(length=32), nullable=True),
    sa.Column('mark_office', sa.String(length=100), nullable=True),
    sa.Column('mark_nice_classes', sa.JSON(), nullable=True),
    sa.Column('mark_type', sa.String(length=16), nullable=True),
    sa.Column('mark_registered_on', sa.Date(), nullable=True),
    sa.Column('mark_expires_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['logo_file_id'], ['stored_files.id'], name=op.f('fk_brands_logo_file_id_stored_files')),
    sa.ForeignKeyConstraint(['owner_id'], ['organisations.id'], name=op.f('fk_brands_owner_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_brands')),
    sa.UniqueConstraint('slug', name=op.f('uq_brands_slug'))
    )
    with op.batch_alter_table('brands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_brands_owner_id'), ['owner_id'], unique=False)

    op.create_table('brand_co_builders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_brand_co_builders_brand_id_brands')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_brand_co_builders_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_brand_co_builders')),
    sa.UniqueConstraint('brand_id', 'organisation_id', name=op.f('uq_brand_co_builders_brand_id_organisation_id'))
    )
    with op.batch_alter_table('brand_co_builders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_brand_co_builders_brand_id'), ['brand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_brand_co_builders_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('brand_memberships',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('firm_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('open_key', sa.String(length=64), nullable=True),
    sa.Column('registration_scheme', sa.String(length=16), nullable=False),
    sa.Column('registration_number', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('applied_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('member_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_changed_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['applied_by_id'], ['users.id'], name=op.f('fk_brand_memberships_applied_by_id_users')),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_brand_memberships_brand_id_brands')),
    sa.ForeignKeyConstraint(['firm_id'], ['organisations.id'], name=op.f('fk_brand_memberships_firm_id_organisations')),
    sa.ForeignKeyConstraint(['status_changed_by_id'], ['users.id'], name=op.f('fk_brand_memberships_status_changed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_brand_memberships')),
    sa.UniqueConstraint('open_key', name=op.f('uq_brand_memberships_open_key'))
    )
    with op.batch_alter_table('brand_memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_brand_memberships_brand_id'), ['brand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_brand_memberships_firm_id'), ['firm_id'], unique=False)

    op.create_table('standards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('title_zh', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_standards_brand_id_brands')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standards')),
    sa.UniqueConstraint('code', name=op.f('uq_standards_code'))
    )
    with op.batch_alter_table('standards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standards_brand_id'), ['brand_id'], unique=False)

    op.create_table('standard_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('standard_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.Column('canonical_json', sa.Text(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('withdrawal_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_standard_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_standard_versions_published_by_id_users')),
    sa.ForeignKeyConstraint(['standard_id'], ['standards.id'], name=op.f('fk_standard_versions_standard_id_standards')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'], name=op.f('fk_standard_versions_withdrawn_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standard_versions')),
    sa.UniqueConstraint('standard_id', 'version', name=op.f('uq_standard_versions_standard_id_version'))
    )
    with op.batch_alter_table('standard_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standard_versions_content_hash'), ['content_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_standard_versions_standard_id'), ['standard_id'], unique=False)

    op.create_table('audits',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('firm_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('standard_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('audited_on', sa.Date(), nullable=True),
    sa.Column('follows_audit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('auditor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('overall_result', sa.String(length=8), nullable=True),
    sa.Column('signed_off_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_off_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['auditor_id'], ['users.id'], name=op.f('fk_audits_auditor_id_users')),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_audits_brand_id_brands')),
    sa.ForeignKeyConstraint(['firm_id'], ['organisations.id'], name=op.f('fk_audits_firm_id_organisations')),
    sa.ForeignKeyConstraint(['follows_audit_id'], ['audits.id'], name=op.f('fk_audits_follows_audit_id_audits')),
    sa.ForeignKeyConstraint(['signed_off_by_id'], ['users.id'], name=op.f('fk_audits_signed_off_by_id_users')),
    sa.ForeignKeyConstraint(['standard_version_id'], ['standard_versions.id'], name=op.f('fk_audits_standard_version_id_standard_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audits'))
    )
    with op.batch_alter_table('audits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audits_brand_id'), ['brand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audits_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_audits_firm_id'), ['firm_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audits_follows_audit_id'), ['follows_audit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audits_standard_version_id'), ['standard_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audits_status'), ['status'], unique=False)

    op.create_table('standard_clauses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('title_zh', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=False),
    sa.Column('requirement_zh', sa.Text(), nullable=False),
    sa.Column('requirement_en', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['standard_versions.id'], name=op.f('fk_standard_clauses_version_id_standard_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standard_clauses')),
    sa.UniqueConstraint('version_id', 'number', name=op.f('uq_standard_clauses_version_id_number'))
    )
    with op.batch_alter_table('standard_clauses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standard_clauses_version_id'), ['version_id'], unique=False)

    op.create_table('standard_criteria',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('clause_number', sa.String(length=32), nullable=True),
    sa.Column('metric_zh', sa.String(length=200), nullable=False),
    sa.Column('metric_en', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=True),
    sa.Column('method', sa.String(length=200), nullable=True),
    sa.Column('value_type', sa.String(length=16), nullable=False),
    sa.Column('comparator', sa.String(length=16), nullable=True),
    sa.Column('threshold', sa.Double(), nullable=True),
    sa.Column('threshold_max', sa.Double(), nullable=True),
    sa.Column('allowed_values', sa.JSON(), nullable=True),
    sa.Column('is_mandatory', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['standard_versions.id'], name=op.f('fk_standard_criteria_version_id_standard_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standard_criteria')),
    sa.UniqueConstraint('version_id', 'key', name=op.f('uq_standard_criteria_version_id_key'))
    )
    with op.batch_alter_table('standard_criteria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standard_criteria_version_id'), ['version_id'], unique=False)

    op.create_table('audit_decisions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('audit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('surveillance_interval_months', sa.Integer(), nullable=True),
    sa.Column('next_surveillance_due_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], name=op.f('fk_audit_decisions_audit_id_audits')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_audit_decisions_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_decisions')),
    sa.UniqueConstraint('audit_id', name=op.f('uq_audit_decisions_audit_id'))
    )
    op.create_table('audit_evidence_files',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('audit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('file_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('criterion_key', sa.String(length=64), nullable=True),
    sa.Column('uploaded_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], name=op.f('fk_audit_evidence_files_audit_id_audits')),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_audit_evidence_files_file_id_stored_files')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_audit_evidence_files_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_evidence_files'))
    )
    with op.batch_alter_table('audit_evidence_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_evidence_files_audit_id'), ['audit_id'], unique=False)

    op.create_table('audit_measurements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('audit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('criterion_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('value_number', sa.Double(), nullable=True),
    sa.Column('value_text', sa.String(length=200), nullable=True),
    sa.Column('value_bool', sa.Boolean(), nullable=True),
    sa.Column('finding', sa.Text(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('recorded_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], name=op.f('fk_audit_measurements_audit_id_audits')),
    sa.ForeignKeyConstraint(['criterion_id'], ['standard_criteria.id'], name=op.f('fk_audit_measurements_criterion_id_standard_criteria')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_audit_measurements_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_measurements')),
    sa.UniqueConstraint('audit_id', 'criterion_id', name=op.f('uq_audit_measurements_audit_id_criterion_id'))
    )
    with op.batch_alter_table('audit_measurements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_measurements_audit_id'), ['audit_id'], unique=False)

    op.create_table('audit_products',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('audit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('gtin', sa.String(length=14), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], name=op.f('fk_audit_products_audit_id_audits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_products')),
    sa.UniqueConstraint('audit_id', 'gtin', name=op.f('uq_audit_products_audit_id_gtin'))
    )
    with op.batch_alter_table('audit_products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_products_audit_id'), ['audit_id'], unique=False)

    op.create_table('audit_sites',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('audit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('gln', sa.String(length=13), nullable=True),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], name=op.f('fk_audit_sites_audit_id_audits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_sites'))
    )
    with op.batch_alter_table('audit_sites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_sites_audit_id'), ['audit_id'], unique=False)




def downgrade() -> None:
    with op.batch_alter_table('audit_sites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_sites_audit_id'))

    op.drop_table('audit_sites')
    with op.batch_alter_table('audit_products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_products_audit_id'))

    op.drop_table('audit_products')
    with op.batch_alter_table('audit_measurements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_measurements_audit_id'))

    op.drop_table('audit_measurements')
    with op.batch_alter_table('audit_evidence_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_evidence_files_audit_id'))

    op.drop_table('audit_evidence_files')
    op.drop_table('audit_decisions')
    with op.batch_alter_table('standard_criteria', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standard_criteria_version_id'))

    op.drop_table('standard_criteria')
    with op.batch_alter_table('standard_clauses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standard_clauses_version_id'))

    op.drop_table('standard_clauses')
    with op.batch_alter_table('audits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audits_status'))
        batch_op.drop_index(batch_op.f('ix_audits_standard_version_id'))
        batch_op.drop_index(batch_op.f('ix_audits_follows_audit_id'))
        batch_op.drop_index(batch_op.f('ix_audits_firm_id'))
        batch_op.drop_index(batch_op.f('ix_audits_due_on'))
        batch_op.drop_index(batch_op.f('ix_audits_brand_id'))

    op.drop_table('audits')
    with op.batch_alter_table('standard_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standard_versions_standard_id'))
        batch_op.drop_index(batch_op.f('ix_standard_versions_content_hash'))

    op.drop_table('standard_versions')
    with op.batch_alter_table('standards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standards_brand_id'))

    op.drop_table('standards')
    with op.batch_alter_table('brand_memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_brand_memberships_firm_id'))
        batch_op.drop_index(batch_op.f('ix_brand_memberships_brand_id'))

    op.drop_table('brand_memberships')
    with op.batch_alter_table('brand_co_builders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_brand_co_builders_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_brand_co_builders_brand_id'))

    op.drop_table('brand_co_builders')
    with op.batch_alter_table('brands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_brands_owner_id'))

    op.drop_table('brands')
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_files_sha256'))
        batch_op.drop_index(batch_op.f('ix_stored_files_organisation_id'))

    op.drop_table('stored_files')

