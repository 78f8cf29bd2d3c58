"""phone hash index: people's phone numbers in a hash index on PostgreSQL, issue 12

The screen pop and the register look a caller up by the whole E.164 number, never by a prefix
or in order: a hash index answers that as a B-tree does, and a register's new people go into
it at about half the backend's CPU (their numbers come in random order, so every B-tree insert
lands on another leaf page: 3.3-3.8 CPU s against 2.0 for a million numbers into an index of
900,000 others; bench/README.md). SQLite has no hash index and keeps its B-tree.

Revision ID: df1ad5013abf
Revises: 636390529217
Create Date: 2026-11-26 19:00:00
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'df1ad5013abf'
down_revision = '636390529217'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index('ix_people_phone', table_name='people')
    op.create_index('ix_people_phone', 'people', ['phone'], unique=False,
                    postgresql_using='hash')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index('ix_people_phone', table_name='people')
    op.create_index('ix_people_phone', 'people', ['phone'], unique=False)
