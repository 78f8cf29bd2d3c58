"""A landlord's first register: the stage process is started before the importing process
checks the file (its SHA-256, the limits, the encoding), so that its start-up and its own check
overlap those (``imports.first.writer.WaitingStage``; on PostgreSQL the one whose chunks go to
COPY as Arrow). It parses nothing until it is told to go; an import that does not need it (a
landlord with a register, the same file again, a refused file) ends it untold, and the answers
are those of before. The imports run on the suite's database (SQLite or PostgreSQL).
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.orm import Session

from dispatch.core.extensions import db
from dispatch.models import Landlord
from imports import service
from imports.first import columnar, writer
from imports.first.staging import receive_frame
from imports.limits import Limits
from imports.limits import check_file as check_limits
from imports.readers import StructureError
from tests.conftest import _fresh_database_url, make_app
from tests.imports.test_import_beside_writers import (
    live,  # noqa: F401 (the fixture)
    register_csv,
    register_rows,
    run_import,
)


@pytest.fixture
def database(request, tmp_path, tmp_path_factory, monkeypatch):
    """An engine on a migrated database of its own with one landlord, as the CLI imports:
    ``live`` (SQLite) or, on PostgreSQL, a database made for the test."""
    if not os.environ.get("TEST_DATABASE_URL"):
        yield request.getfixturevalue("live")
        return
    url, drop = _fresh_database_url(tmp_path_factory, "early")
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


@pytest.fixture
def stages(monkeypatch) -> list[writer.WaitingStage]:
    """Every WaitingStage the imports start, and whether each was told to go."""
    started: list[writer.WaitingStage] = []
    real_init, real_go = writer.WaitingStage.__init__, writer.WaitingStage.go

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        self.told = False
        started.append(self)

    def go(self):
        self.told = True
        real_go(self)

    monkeypatch.setattr(writer.WaitingStage, "__init__", init)
    monkeypatch.setattr(writer.WaitingStage, "go", go)
    return started


def test_a_first_register_is_parsed_by_the_stage_started_before_the_file_was_checked(
        database, tmp_path, monkeypatch, stages):
    order: list[str] = []
    real_sha = service.file_sha256
    monkeypatch.setattr(service, "file_sha256",
                        lambda path: order.append(f"sha after {len(stages)} stage") or
                        real_sha(path))
    summary = run_import(database, register_csv(tmp_path / "acme.csv", 120))

    assert summary.status == "accepted" and summary.added == 120
    assert order == ["sha after 1 stage"]  # started before the file was read
    assert len(stages) == 1 and stages[0].told
    assert stages[0].output == ("arrow" if database.dialect.name == "postgresql" else "sqlite")
    assert stages[0].process.returncode is not None  # ended, and waited for
    assert len(register_rows(database)["objects"]) == 120


def test_a_landlord_with_a_register_starts_no_stage_before_its_import(
        database, tmp_path, stages):
    run_import(database, register_csv(tmp_path / "acme.csv", 50))
    stages.clear()

    summary = run_import(database, register_csv(tmp_path / "again.csv", 60))

    assert summary.status == "accepted" and summary.added == 10 and summary.unchanged == 50
    assert stages == []


def test_the_same_file_again_is_unchanged_and_its_early_stage_ends_untold(
        database, tmp_path, monkeypatch, stages):
    path = register_csv(tmp_path / "acme.csv", 40)
    run_import(database, path)
    # As if the register had been emptied since: the stage is started, then not needed.
    monkeypatch.setattr(service, "EMPTY_BEFORE_A_FIRST_REGISTER", ("properties",))  # none
    stages.clear()

    summary = run_import(database, path)

    assert summary.status == "unchanged"
    assert len(stages) == 1 and not stages[0].told
    assert stages[0].process.returncode is not None  # ended, and waited for


def test_a_refused_file_is_refused_with_the_same_message_and_its_stage_ends_untold(
        database, tmp_path, stages):
    path = tmp_path / "nul.csv"
    register_csv(path, 30)
    with path.open("ab") as f:
        f.write(b"A-99;G\x00tgatan 1;118 46;Stockholm\n")

    summary = run_import(database, path)

    assert summary.status == "rejected" and summary.reason == "nul_byte"
    assert "NUL" in summary.message and "(line 32)" in summary.message
    assert len(stages) == 1 and not stages[0].told
    assert stages[0].process.returncode is not None
    assert all(rows == [] for rows in register_rows(database).values())


@pytest.mark.sqlite_only  # no database: once is enough
def test_a_waiting_stage_whose_stdin_closes_without_go_sends_nothing_and_ends(tmp_path):
    stage = writer.WaitingStage(register_csv(tmp_path / "acme.csv", 10))
    stage.process.stdin.close()
    assert stage.process.wait(timeout=60) == 0
    assert receive_frame(stage.process.stdout) is None
    assert list(tmp_path.glob("*.sqlite")) == []
    stage.close()


@pytest.mark.sqlite_only  # no database: once is enough
def test_a_waiting_stage_told_to_go_parses_the_file_as_a_stage_started_then(tmp_path):
    path = register_csv(tmp_path / "acme.csv", 25)
    got: dict[str, list] = {"early": [], "late": []}
    for kind in got:
        started = writer.WaitingStage(path) if kind == "early" else None
        staged = writer.run_stage(path, "sqlite", lambda chunk, rows, kind=kind: got[kind].append(
            chunk.read_bytes() if chunk else rows), started=started)
        got[kind].append((staged.rows_total, staged.counts, sorted(staged.entrances)))
    assert got["early"] == got["late"] and got["early"][-1][0] == 25


# -- the column stage's own check, bounded by the limits ---------------------------------------

def plain(path):
    return columnar.open_plain(path)


@pytest.mark.sqlite_only  # no database: once is enough
def test_the_column_check_reads_a_file_of_many_blocks_and_finds_a_quote_in_a_late_one(
        tmp_path, monkeypatch):
    monkeypatch.setattr(columnar, "SCAN", 256)  # many blocks, lines split across them
    path = register_csv(tmp_path / "acme.csv", 200)
    columnar.check_file(plain(path), Limits())
    with path.open("a", encoding="utf-8") as f:
        f.write('A-999;"Götgatan 1";118 46;Stockholm\n')
    with pytest.raises(columnar.NotColumnar):
        columnar.check_file(plain(path), Limits())


@pytest.mark.parametrize(("limits", "extra"), [
    (Limits(line_bytes=300), "A-999;" + "x" * 2_000 + "\n"),
    (Limits(rows=150), ""),
], ids=["a line past the limit", "more rows than the limit"])
@pytest.mark.sqlite_only  # no database: once is enough
def test_the_column_check_stops_at_a_limit_and_leaves_the_refusal_to_the_row_rules(
        tmp_path, monkeypatch, limits, extra):
    monkeypatch.setattr(columnar, "SCAN", 256)
    path = register_csv(tmp_path / "acme.csv", 200)
    with path.open("a", encoding="utf-8") as f:
        f.write(extra)
    with pytest.raises(columnar.NotColumnar):
        columnar.check_file(plain(path), limits)
    columnar.check_file(plain(path), Limits(line_bytes=4_000))  # within the limits: fine
    with pytest.raises(StructureError):  # what the writer's own check says
        check_limits(path, limits)


@pytest.mark.sqlite_only  # no database: once is enough
def test_the_column_opener_does_not_read_a_header_past_the_line_limit(tmp_path):
    path = tmp_path / "long.csv"
    path.write_bytes(b"objektsnummer;" + b"x" * 5_000 + b"\n1;2\n")
    with pytest.raises(columnar.NotColumnar):
        columnar.open_plain(path, 1_000)
    assert columnar.open_plain(path, 10_000).header[0] == "objektsnummer"

