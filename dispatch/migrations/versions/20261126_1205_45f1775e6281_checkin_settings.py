"""checkin_settings: check-in intervals per landlord and category; how an alarm ended, issue 19

Revision ID: 45f1775e6281
Revises: a7b86189be3a
Create Date: 2026-11-26 12:05:00

``checkin_settings``: an admin's check-in interval for a landlord, a category, or one
landlord's jobs of one category (the most specific wins; none: the ``CHECKIN_*`` settings).
``patrol_alarms.resolution``: how a standing alarm ended (an operator, the crew's check-in, the
job leaving the site), for the console's "handled tonight" and the figures.
``ix_api_tokens_kind_label``: a car's tokens by call sign (the crew shown with an alarm: with
2,000 tablets, a third of an alarm's time was that lookup's scan).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '45f1775e6281'
down_revision = 'a7b86189be3a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'checkin_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('landlord_id', sa.Integer(), nullable=True),
        sa.Column('category', sa.String(length=20), nullable=True),
        sa.Column('interval_s', sa.Integer(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changed_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['landlord_id'], ['landlords.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('landlord_id', 'category'),
    )
    with op.batch_alter_table('patrol_alarms') as batch:
        batch.add_column(sa.Column('resolution', sa.String(length=20), nullable=True))
    # Alarms already acknowledged: by an operator when one is named, else cleared by the server.
    op.execute("UPDATE patrol_alarms SET resolution = 'operator' "
               "WHERE acknowledged_at IS NOT NULL AND acknowledged_by_id IS NOT NULL")
    op.execute("UPDATE patrol_alarms SET resolution = 'check_in' "
               "WHERE acknowledged_at IS NOT NULL AND acknowledged_by_id IS NULL")
    op.create_index('ix_api_tokens_kind_label', 'api_tokens', ['kind', 'label'], unique=False)


def downgrade():
    op.drop_index('ix_api_tokens_kind_label', table_name='api_tokens')
    with op.batch_alter_table('patrol_alarms') as batch:
        batch.drop_column('resolution')
    op.drop_table('checkin_settings')
