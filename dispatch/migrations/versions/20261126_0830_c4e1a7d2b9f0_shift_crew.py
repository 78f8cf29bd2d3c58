"""api_tokens.crew: the people on the car at a tablet's shift log-in; incident_reports.crew:
the crew that wrote the report (issue 13)

Revision ID: c4e1a7d2b9f0
Revises: 7d2f4a9c1e83
Create Date: 2026-11-26 08:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4e1a7d2b9f0'
down_revision = '7d2f4a9c1e83'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('crew', sa.JSON(), nullable=True))
    with op.batch_alter_table('incident_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('crew', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('incident_reports', schema=None) as batch_op:
        batch_op.drop_column('crew')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('crew')
