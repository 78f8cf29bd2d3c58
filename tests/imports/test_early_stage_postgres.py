"""A landlord's first register on PostgreSQL: as on SQLite, the stage process (here the one
whose chunks go to COPY as Arrow) starts before the importing process checks the file, and an
import that does not need it ends it untold."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.orm import Session

from dispatch.core.extensions import db
from dispatch.models import Landlord
from imports import service
from tests.conftest import _fresh_database_url, make_app
from tests.imports.test_early_stage import stages  # noqa: F401 (the fixture)
from tests.imports.test_import_beside_writers import register_csv, register_rows, run_import

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def pg_live(tmp_path, tmp_path_factory, monkeypatch):
    """A migrated PostgreSQL database of its own with one landlord, and an engine on it (the
    CLI's set-up: the import's session on an engine, not on the tests' shared connection)."""
    url, drop = _fresh_database_url(tmp_path_factory, "earlypg")
    monkeypatch.setenv("DISPATCH_INSTANCE", str(tmp_path / "instance"))
    with make_app(url, tmp_path / "instance").app_context():
        upgrade()
        db.engine.dispose()  # the app's pooled connections, closed before the drop
    engine = sa.create_engine(url)
    with Session(engine) as session:
        session.add(Landlord(code="ACME", name="Acme Bostäder"))
        session.commit()
    yield engine
    engine.dispose()
    drop()


def test_a_first_register_on_postgres_is_copied_from_the_stage_started_before_the_check(
        pg_live, tmp_path, monkeypatch, stages):  # noqa: F811 (the fixture)
    order: list[str] = []
    real_sha = service.file_sha256
    monkeypatch.setattr(service, "file_sha256",
                        lambda path: order.append(f"sha after {len(stages)} stage") or
                        real_sha(path))
    summary = run_import(pg_live, register_csv(tmp_path / "acme.csv", 120))

    assert summary.status == "accepted" and summary.added == 120
    assert order == ["sha after 1 stage"]  # started before the file was read
    assert len(stages) == 1 and stages[0].told and stages[0].output == "arrow"
    assert stages[0].process.returncode is not None  # ended, and waited for
    assert len(register_rows(pg_live)["objects"]) == 120


def test_a_landlord_with_a_register_on_postgres_starts_no_stage_before_its_import(
        pg_live, tmp_path, stages):  # noqa: F811 (the fixture)
    run_import(pg_live, register_csv(tmp_path / "acme.csv", 50))
    stages.clear()

    summary = run_import(pg_live, register_csv(tmp_path / "again.csv", 60))

    assert summary.status == "accepted" and summary.added == 10 and summary.unchanged == 50
    assert stages == []


def test_a_refused_first_register_on_postgres_ends_its_early_stage_untold(
        pg_live, tmp_path, stages):  # noqa: F811 (the fixture)
    path = tmp_path / "nul.csv"
    register_csv(path, 30)
    with path.open("ab") as f:
        f.write(b"A-99;G\x00tgatan 1;118 46;Stockholm\n")

    summary = run_import(pg_live, path)

    assert summary.status == "rejected" and summary.reason == "nul_byte"
    assert len(stages) == 1 and not stages[0].told
    assert stages[0].process.returncode is not None
    assert all(rows == [] for rows in register_rows(pg_live).values())
