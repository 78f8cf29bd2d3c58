"""presence: a table of its own for tablets' presence, issue 12

The cars' presence stamps and last positions (``last_seen_at``, ``lat``, ``lon``,
``accuracy_m``, ``position_at``) move from ``patrols`` to ``patrol_presence`` (one row per car,
upserted by the web processes), so that the stamps never lock the car rows dispatching reads
and updates. The nearest-car index moves with them: ``ix_patrols_status_lat_lon`` becomes
``ix_patrol_presence_lat_lon``.

The columns are dropped with a plain ``ALTER TABLE ... DROP COLUMN`` (SQLite 3.35+), not a
batch copy of the table: on SQLite, dropping ``patrols`` to copy it would cascade to every
table whose foreign key points at it (deliveries, positions, jobs).

Revision ID: 636390529217
Revises: 16c193968f57
Create Date: 2026-11-26 12:20:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '636390529217'
down_revision = '16c193968f57'
branch_labels = None
depends_on = None

_MOVED = ("last_seen_at", "lat", "lon", "accuracy_m", "position_at")


def upgrade():
    op.create_table(
        'patrol_presence',
        sa.Column('patrol_id', sa.Integer(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('lat', sa.Double(), nullable=True),
        sa.Column('lon', sa.Double(), nullable=True),
        sa.Column('accuracy_m', sa.Double(), nullable=True),
        sa.Column('position_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['patrol_id'], ['patrols.id'],
                                name=op.f('fk_patrol_presence_patrol_id_patrols'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('patrol_id', name=op.f('pk_patrol_presence')),
    )
    op.create_index('ix_patrol_presence_lat_lon', 'patrol_presence', ['lat', 'lon'],
                    unique=False)
    columns = ", ".join(_MOVED)
    op.execute(f"INSERT INTO patrol_presence (patrol_id, {columns}) "  # noqa: S608
               f"SELECT id, {columns} FROM patrols")
    op.drop_index('ix_patrols_status_lat_lon', table_name='patrols')
    for column in _MOVED:
        op.drop_column('patrols', column)


def downgrade():
    op.add_column('patrols', sa.Column('lat', sa.Double(), nullable=True))
    op.add_column('patrols', sa.Column('lon', sa.Double(), nullable=True))
    op.add_column('patrols', sa.Column('accuracy_m', sa.Double(), nullable=True))
    op.add_column('patrols', sa.Column('position_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('patrols', sa.Column('last_seen_at', sa.DateTime(timezone=True),
                                       nullable=True))
    for column in _MOVED:
        op.execute(f"UPDATE patrols SET {column} = (SELECT pp.{column} "  # noqa: S608
                   "FROM patrol_presence pp WHERE pp.patrol_id = patrols.id)")
    op.create_index('ix_patrols_status_lat_lon', 'patrols', ['status', 'lat', 'lon'],
                    unique=False)
    op.drop_index('ix_patrol_presence_lat_lon', table_name='patrol_presence')
    op.drop_table('patrol_presence')
