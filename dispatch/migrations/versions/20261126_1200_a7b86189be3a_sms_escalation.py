"""sms_escalation: SMS messages and escalation steps, issue 19

Revision ID: a7b86189be3a
Revises: b7c3e19a4d52
Create Date: 2026-11-26 12:00:00

Every SMS the escalation sends (``sms_messages``: to a car's phone or the duty supervisor,
why, which job/alarm/car, which step, its text, the gateway's id, status and attempts) and the
car's phone number (``patrols.phone``, E.164).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7b86189be3a'
down_revision = 'b7c3e19a4d52'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('patrols') as batch:
        batch.add_column(sa.Column('phone', sa.String(length=20), nullable=True))
    op.create_table(
        'sms_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('recipient_kind', sa.String(length=20), nullable=False),
        sa.Column('to_number', sa.String(length=20), nullable=True),
        sa.Column('reason', sa.String(length=30), nullable=False),
        sa.Column('escalation_key', sa.String(length=80), nullable=False),
        sa.Column('step', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=True),
        sa.Column('alarm_id', sa.Integer(), nullable=True),
        sa.Column('patrol_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('gateway_id', sa.String(length=80), nullable=True),
        sa.Column('error', sa.String(length=200), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['job_id'], ['jobs.id'],
                                name='fk_sms_messages_job_id_jobs', ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['alarm_id'], ['patrol_alarms.id'],
                                name='fk_sms_messages_alarm_id_patrol_alarms',
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['patrol_id'], ['patrols.id'],
                                name='fk_sms_messages_patrol_id_patrols', ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_sms_messages'),
        sa.UniqueConstraint('escalation_key', 'recipient_kind',
                            name='uq_sms_messages_escalation_key'),
    )
    op.create_index('ix_sms_messages_status_next', 'sms_messages',
                    ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_sms_messages_job_id', 'sms_messages', ['job_id'], unique=False)
    op.create_index('ix_sms_messages_gateway_id', 'sms_messages', ['gateway_id'], unique=False)


def downgrade():
    op.drop_index('ix_sms_messages_gateway_id', table_name='sms_messages')
    op.drop_index('ix_sms_messages_job_id', table_name='sms_messages')
    op.drop_index('ix_sms_messages_status_next', table_name='sms_messages')
    op.drop_table('sms_messages')
    with op.batch_alter_table('patrols') as batch:
        batch.drop_column('phone')
