"""tenant_accounts, tenant_identifications, tenant_legacy_pins, landlord_account_policies:
tenants' accounts and their strong identification (issue 15)

Revision ID: a91f3c5e7b20
Revises: c1c4aa78f102
Create Date: 2026-11-26 08:50:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a91f3c5e7b20'
down_revision = 'c1c4aa78f102'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'tenant_accounts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('password_hash', sa.String(length=255), nullable=True),
        sa.Column('password_rule', sa.String(length=10), nullable=False),
        sa.Column('identified_by', sa.String(length=10), nullable=False),
        sa.Column('must_choose_password', sa.Boolean(), nullable=False),
        sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('locale', sa.String(length=5), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('agreement_ended_on', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('email'),
    )
    op.create_index('ix_tenant_accounts_person_id', 'tenant_accounts', ['person_id'])
    op.create_table(
        'tenant_identifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('method', sa.String(length=10), nullable=False),
        sa.Column('staff_user_id', sa.Integer(), nullable=True),
        sa.Column('document', sa.String(length=20), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_user_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_tenant_identifications_person_id', 'tenant_identifications',
                    ['person_id'])
    op.create_table(
        'tenant_legacy_pins',
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('pin_hash', sa.String(length=255), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('person_id'),
    )
    op.create_table(
        'landlord_account_policies',
        sa.Column('landlord_id', sa.Integer(), nullable=False),
        sa.Column('register_from_signing', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['landlord_id'], ['landlords.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('landlord_id'),
    )


def downgrade():
    op.drop_table('landlord_account_policies')
    op.drop_table('tenant_legacy_pins')
    op.drop_index('ix_tenant_identifications_person_id', table_name='tenant_identifications')
    op.drop_table('tenant_identifications')
    op.drop_index('ix_tenant_accounts_person_id', table_name='tenant_accounts')
    op.drop_table('tenant_accounts')
