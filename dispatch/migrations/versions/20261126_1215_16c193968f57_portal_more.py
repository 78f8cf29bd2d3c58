"""portal_more: legacy PINs, server-side identification orders, issue 15

Revision ID: 16c193968f57
Revises: 30c853420ad7
Create Date: 2026-11-26 12:15:00

Reserved at the start of the seventh session for the engineer working on issue 15: fill in
upgrade()/downgrade() (and this docstring) with that work's schema changes.
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '16c193968f57'
down_revision = '30c853420ad7'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
