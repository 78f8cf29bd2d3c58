"""checkin_settings: check-in intervals per landlord and category, issue 19

Revision ID: 45f1775e6281
Revises: a7b86189be3a
Create Date: 2026-11-26 12:05:00

Reserved at the start of the seventh session for the engineer working on issue 19 (supervisor view, check-in settings): fill in
upgrade()/downgrade() (and this docstring) with that work's schema changes.
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '45f1775e6281'
down_revision = 'a7b86189be3a'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
