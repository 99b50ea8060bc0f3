"""consumer scans, alerts and fake reports

Revision ID: 0060_resolver
Revises: 0050_trace
Create Date: 2026-11-28 14:36:23.183363
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0060_resolver"
down_revision: str | Sequence[str] | None = '0050_trace'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('scan_shoppers',
    sa.Column('unit_key', sa.String(length=64), nullable=False),
    sa.Column('client_hash', sa.String(length=32), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_counted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('unit_key', 'client_hash', name=op.f('pk_scan_shoppers'))
    )
    op.create_table('scan_tallies',
    sa.Column('unit_key', sa.String(length=64), nullable=False),
    sa.Column('scan_count', sa.Integer(), nullable=False),
    sa.Column('shopper_count', sa.Integer(), nullable=False),
    sa.Column('first_scanned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_scanned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consumed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('consumed_by', sa.String(length=32), nullable=True),
    sa.Column('open_warnings', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('unit_key', name=op.f('pk_scan_tallies'))
    )
    op.create_table('scans',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('scanned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('answer', sa.String(length=16), nullable=False),
    sa.Column('gtin', sa.String(length=14), nullable=False),
    sa.Column('lot', sa.String(length=20), nullable=True),
    sa.Column('serial', sa.String(length=20), nullable=True),
    sa.Column('verdict', sa.String(length=24), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=True),
    sa.Column('unit_key', sa.String(length=64), nullable=True),
    sa.Column('unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('firm_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('association_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('client_hash', sa.String(length=32), nullable=False),
    sa.Column('is_repeat', sa.Boolean(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('located_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['association_id'], ['organisations.id'], name=op.f('fk_scans_association_id_organisations')),
    sa.ForeignKeyConstraint(['firm_id'], ['organisations.id'], name=op.f('fk_scans_firm_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scans'))
    )
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.create_index('ix_scans_association_id_id', ['association_id', 'id'], unique=False)
        batch_op.create_index('ix_scans_brand_id_id', ['brand_id', 'id'], unique=False)
        batch_op.create_index('ix_scans_firm_id_id', ['firm_id', 'id'], unique=False)
        batch_op.create_index('ix_scans_unit_key_scanned_at', ['unit_key', 'scanned_at'], unique=False)

    op.create_table('fake_reports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submission_key', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('gtin', sa.String(length=14), nullable=True),
    sa.Column('lot', sa.String(length=20), nullable=True),
    sa.Column('serial', sa.String(length=20), nullable=True),
    sa.Column('verdict', sa.String(length=24), nullable=True),
    sa.Column('scan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('firm_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('association_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('description', sa.String(length=2000), nullable=True),
    sa.Column('contact', sa.String(length=200), nullable=True),
    sa.Column('photo_file_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('client_hash', sa.String(length=32), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('review_note', sa.String(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['association_id'], ['organisations.id'], name=op.f('fk_fake_reports_association_id_organisations')),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_fake_reports_brand_id_brands')),
    sa.ForeignKeyConstraint(['firm_id'], ['organisations.id'], name=op.f('fk_fake_reports_firm_id_organisations')),
    sa.ForeignKeyConstraint(['photo_file_id'], ['stored_files.id'], name=op.f('fk_fake_reports_photo_file_id_stored_files')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_fake_reports_product_id_products')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_fake_reports_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['scan_id'], ['scans.id'], name=op.f('fk_fake_reports_scan_id_scans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fake_reports')),
    sa.UniqueConstraint('submission_key', name=op.f('uq_fake_reports_submission_key'))
    )
    with op.batch_alter_table('fake_reports', schema=None) as batch_op:
        batch_op.create_index('ix_fake_reports_association_id_id', ['association_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fake_reports_brand_id'), ['brand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fake_reports_status'), ['status'], unique=False)

    op.create_table('scan_rules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('is_enabled', sa.Boolean(), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=True),
    sa.Column('window_minutes', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_scan_rules_brand_id_brands')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_scan_rules_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_rules')),
    sa.UniqueConstraint('brand_id', 'kind', name=op.f('uq_scan_rules_brand_id_kind'))
    )
    op.create_table('scan_alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('open_key', sa.String(length=120), nullable=True),
    sa.Column('gtin', sa.String(length=14), nullable=False),
    sa.Column('lot', sa.String(length=20), nullable=True),
    sa.Column('serial', sa.String(length=20), nullable=True),
    sa.Column('unit_key', sa.String(length=64), nullable=True),
    sa.Column('unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('firm_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('association_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('occurrences', sa.Integer(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('resolution', sa.String(length=32), nullable=True),
    sa.Column('resolution_note', sa.String(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['association_id'], ['organisations.id'], name=op.f('fk_scan_alerts_association_id_organisations')),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_scan_alerts_brand_id_brands')),
    sa.ForeignKeyConstraint(['firm_id'], ['organisations.id'], name=op.f('fk_scan_alerts_firm_id_organisations')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_scan_alerts_product_id_products')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_scan_alerts_resolved_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit_codes.id'], name=op.f('fk_scan_alerts_unit_id_unit_codes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_alerts')),
    sa.UniqueConstraint('open_key', name=op.f('uq_scan_alerts_open_key'))
    )
    with op.batch_alter_table('scan_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_scan_alerts_association_id_id', ['association_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scan_alerts_brand_id'), ['brand_id'], unique=False)
        batch_op.create_index('ix_scan_alerts_firm_id_id', ['firm_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scan_alerts_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('scan_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scan_alerts_status'))
        batch_op.drop_index('ix_scan_alerts_firm_id_id')
        batch_op.drop_index(batch_op.f('ix_scan_alerts_brand_id'))
        batch_op.drop_index('ix_scan_alerts_association_id_id')

    op.drop_table('scan_alerts')
    op.drop_table('scan_rules')
    with op.batch_alter_table('fake_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fake_reports_status'))
        batch_op.drop_index(batch_op.f('ix_fake_reports_brand_id'))
        batch_op.drop_index('ix_fake_reports_association_id_id')

    op.drop_table('fake_reports')
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.drop_index('ix_scans_unit_key_scanned_at')
        batch_op.drop_index('ix_scans_firm_id_id')
        batch_op.drop_index('ix_scans_brand_id_id')
        batch_op.drop_index('ix_scans_association_id_id')

    op.drop_table('scans')
    op.drop_table('scan_tallies')
    op.drop_table('scan_shoppers')
