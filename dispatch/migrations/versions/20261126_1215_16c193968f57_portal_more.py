"""portal_more: tenant_pending_identifications, strong identifications under way kept on the
server (a BankID order with its QR secret, a Finnish e-identification's state, nonce and PKCE
verifier), so that the session cookie holds only their random id (issue 15)

Revision ID: 16c193968f57
Revises: 30c853420ad7
Create Date: 2026-11-26 12:15:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '16c193968f57'
down_revision = '30c853420ad7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'tenant_pending_identifications',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_tenant_pending_identifications_expires_at',
                    'tenant_pending_identifications', ['expires_at'])


def downgrade():
    op.drop_index('ix_tenant_pending_identifications_expires_at',
                  table_name='tenant_pending_identifications')
    op.drop_table('tenant_pending_identifications')
