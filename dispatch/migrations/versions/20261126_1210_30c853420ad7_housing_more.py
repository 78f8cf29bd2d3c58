"""housing_more: guarantors, references, exchanges and second-hand letting, issue 16

Revision ID: 30c853420ad7
Revises: 45f1775e6281
Create Date: 2026-11-26 12:10:00

Reserved at the start of the seventh session for the engineer working on issue 16: fill in
upgrade()/downgrade() (and this docstring) with that work's schema changes.
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '30c853420ad7'
down_revision = '45f1775e6281'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
