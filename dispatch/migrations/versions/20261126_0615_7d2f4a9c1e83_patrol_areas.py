"""patrols: the car's patrol area (GeoJSON) and when it last changed

Revision ID: 7d2f4a9c1e83
Revises: de373d3ce3cf
Create Date: 2026-11-26 06:15:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '7d2f4a9c1e83'
down_revision = 'de373d3ce3cf'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('patrols', schema=None) as batch_op:
        batch_op.add_column(sa.Column('area_geojson', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('area_changed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('patrols', schema=None) as batch_op:
        batch_op.drop_column('area_changed_at')
        batch_op.drop_column('area_geojson')
