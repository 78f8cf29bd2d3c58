"""patrol_alarms: a car's call for help (överfallslarm), issue 19

Revision ID: b7c3e19a4d52
Revises: 9bdff9319ca6
Create Date: 2026-11-26 09:55:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7c3e19a4d52'
down_revision = '9bdff9319ca6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'patrol_alarms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patrol_id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('client_event_id', sa.String(length=64), nullable=True),
        sa.Column('lat', sa.Double(), nullable=True),
        sa.Column('lon', sa.Double(), nullable=True),
        sa.Column('accuracy_m', sa.Double(), nullable=True),
        sa.Column('position_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['patrol_id'], ['patrols.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('patrol_id', 'client_event_id'),
    )
    op.create_index('ix_patrol_alarms_standing', 'patrol_alarms',
                    ['acknowledged_at', 'raised_at'], unique=False)


def downgrade():
    op.drop_index('ix_patrol_alarms_standing', table_name='patrol_alarms')
    op.drop_table('patrol_alarms')
