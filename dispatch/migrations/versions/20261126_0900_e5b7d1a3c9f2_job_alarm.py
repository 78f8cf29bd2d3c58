"""jobs.alarm and jobs.alarm_at: the acknowledgement timer's alarm while it stands (issue 13)

Revision ID: e5b7d1a3c9f2
Revises: a91f3c5e7b20
Create Date: 2026-11-26 09:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e5b7d1a3c9f2'
down_revision = 'a91f3c5e7b20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alarm', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('alarm_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('alarm_at')
        batch_op.drop_column('alarm')
