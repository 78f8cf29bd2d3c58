"""presence: a table of its own for tablets' presence, issue 12

Revision ID: 636390529217
Revises: 16c193968f57
Create Date: 2026-11-26 12:20:00

Reserved at the start of the seventh session for the engineer working on issue 12 (presence, cluster): fill in
upgrade()/downgrade() (and this docstring) with that work's schema changes.
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '636390529217'
down_revision = '16c193968f57'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
