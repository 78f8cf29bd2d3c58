"""sms_escalation: SMS messages and escalation steps, issue 19

Revision ID: a7b86189be3a
Revises: b7c3e19a4d52
Create Date: 2026-11-26 12:00:00

Reserved at the start of the seventh session for the engineer working on issue 19 (SMS escalation): fill in
upgrade()/downgrade() (and this docstring) with that work's schema changes.
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = 'a7b86189be3a'
down_revision = 'b7c3e19a4d52'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
