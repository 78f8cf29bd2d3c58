"""Alembic migrations: one head, and upgrading an empty database gives exactly the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import Migrate

from dispatch.core.database import MIGRATIONS_DIR
from dispatch.core.extensions import db


def test_migrations_have_a_single_head(app):
    config = app.extensions["migrate"].migrate.get_config(MIGRATIONS_DIR)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgraded_database_matches_the_models(app):
    # The suite's database was built by `upgrade()` from empty (see conftest), on SQLite or
    # PostgreSQL as the run was set up; nothing may differ from the models.
    assert isinstance(app.extensions["migrate"].migrate, Migrate)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_migration_files_are_named_by_date_so_they_sort():
    import re
    from pathlib import Path

    names = [p.name for p in Path(MIGRATIONS_DIR, "versions").glob("*.py")]
    assert names and all(re.match(r"^\d{8}_\d{4}_[0-9a-f]+_\w+\.py$", n) for n in names)
