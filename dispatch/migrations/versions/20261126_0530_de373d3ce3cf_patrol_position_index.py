"""patrols: index on (status, lat, lon) for the nearest-car read

Revision ID: de373d3ce3cf
Revises: 5a7c2e91b0d4
Create Date: 2026-11-26 05:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'de373d3ce3cf'
down_revision = '5a7c2e91b0d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('patrols', schema=None) as batch_op:
        batch_op.create_index('ix_patrols_status_lat_lon', ['status', 'lat', 'lon'], unique=False)


def downgrade():
    with op.batch_alter_table('patrols', schema=None) as batch_op:
        batch_op.drop_index('ix_patrols_status_lat_lon')
