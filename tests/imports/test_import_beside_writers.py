"""An import on SQLite reads, checks and lays out its file without the live database's writer
turn (``imports.plan``), and changes the register in one short transaction at the end: other
writers (the web process's threads, other processes) go on while it reads; a rejected file
never touches the register and its record stays; two imports of one landlord run one after
the other. Each test has a migrated SQLite file of its own and sessions outside the suite's
rolled-back transaction, as the CLI and the admin page's import process have.
"""

from __future__ import annotations

import sqlite3
import threading

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.orm import Session

from dispatch.core import database
from dispatch.models import Landlord, RegisterImport
from imports import apply, plan, service
from imports.service import import_register
from tests.conftest import make_app

pytestmark = pytest.mark.sqlite_only

HEADER = ("objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;lat;lon;avtalsnummer;"
          "kundnummer;hyresgast_namn;hyresgast_telefon\n")


def register_csv(path, rows: int, *, rent_phone: str = "070-123 45 67", bad: int = 0):
    """A register of ``rows`` objects on a street, 10 to an entrance; the first ``bad`` rows
    have a postnummer that is not five digits."""
    lines = [HEADER]
    for n in range(rows):
        postnummer = "1184" if n < bad else "118 46"
        lines.append(f"A-{n};Götgatan {n // 10 + 1};{postnummer};Stockholm;{1101 + n % 10};"
                     f"59.31;18.07;AV-{n};K-{n};Anna Andersson {n};{rent_phone}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def live(tmp_path, monkeypatch):
    """A migrated SQLite file with one landlord, and an engine on it (the app's SQLite
    set-up: WAL, one writer at a time)."""
    monkeypatch.setenv("DISPATCH_INSTANCE", str(tmp_path / "instance"))
    url = f"sqlite:///{tmp_path / 'live.db'}"
    with make_app(url, tmp_path / "instance").app_context():
        upgrade()
    engine = sa.create_engine(url)
    with Session(engine) as session:
        session.add(Landlord(code="ACME", name="Acme Bostäder"))
        session.commit()
    # A write that gets no turn within 5 s fails (WriteTimeout) instead of waiting 30 s.
    monkeypatch.setattr(database, "_write_wait_s", 5.0)
    yield engine
    engine.dispose()


def run_import(engine, path, **kwargs):
    """``import_register`` as the CLI runs it: its own session, committed at the end."""
    with Session(engine) as session, database.intent("write"):
        landlord = session.scalar(sa.select(Landlord).where(Landlord.code == "ACME"))
        summary = import_register(session, landlord, path, actor="test", **kwargs)
        session.commit()
    return summary


def register_rows(engine) -> dict[str, list]:
    with engine.connect() as conn:
        return {table: sorted(map(tuple, conn.exec_driver_sql(f"SELECT * FROM {table}")))  # noqa: S608
                for table in ("properties", "entrances", "objects", "agreements", "people",
                              "agreement_objects", "agreement_parties")}


def writes_elsewhere(engine, db_file) -> dict:
    """Write on another thread of this process (the app's one-writer machinery) and on a
    connection of its own (another process's view, BEGIN IMMEDIATE with a 5 s busy wait);
    return what each saw: its error, if any, and the landlord's objects it could read."""
    seen: dict = {}

    def thread_write():
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO landlords (code, name, country, "
                                     "quiet_night_mail, register_version, created_at) VALUES "
                                     "('OTHER', 'Other', 'SE', 0, 0, '2026-01-01 00:00:00')")
                seen["objects"] = conn.exec_driver_sql(  # shown: not retired (nor hidden)
                    "SELECT count(*) FROM objects o JOIN landlords l ON l.id = o.landlord_id "
                    "WHERE l.code = 'ACME' AND o.retired_at IS NULL").scalar()
            seen["thread"] = None
        except Exception as exc:  # noqa: BLE001 (what the test reports)
            seen["thread"] = exc

    thread = threading.Thread(target=thread_write)
    thread.start()
    thread.join(timeout=30)
    raw = sqlite3.connect(db_file, timeout=5, isolation_level=None)
    try:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("UPDATE landlords SET name = 'Other AB' WHERE code = 'OTHER'")
        raw.execute("COMMIT")
        seen["process"] = None
    except sqlite3.OperationalError as exc:
        seen["process"] = exc
    finally:
        raw.close()
    return seen


def test_other_writers_go_on_while_a_first_import_reads_its_file(live, tmp_path, monkeypatch):
    # Small blocks: the column stage sends many chunks, and progress is reported between them.
    monkeypatch.setenv("DISPATCH_IMPORT_BLOCK_BYTES", "2000")
    path = register_csv(tmp_path / "acme.csv", 300)
    seen: list[dict] = []

    def progress(done: int, total: int) -> None:
        if not seen and done < total:  # the file is being read: the import's long phase
            seen.append(writes_elsewhere(live, tmp_path / "live.db"))

    summary = run_import(live, path, progress=progress)
    assert summary.status == "accepted" and summary.added == 300
    assert seen == [{"thread": None, "process": None, "objects": 0}]  # new rows not yet shown
    assert len(register_rows(live)["objects"]) == 300


def test_other_writers_go_on_while_a_reimport_compares_its_rows(live, tmp_path, monkeypatch):
    run_import(live, register_csv(tmp_path / "first.csv", 300))
    before = register_rows(live)
    monkeypatch.setattr(apply, "CHUNK_ROWS", 50)  # progress is reported after each chunk
    seen: list[dict] = []

    def progress(done: int, total: int) -> None:
        if not seen and done < total:
            seen.append(writes_elsewhere(live, tmp_path / "live.db"))

    changed = register_csv(tmp_path / "second.csv", 300, rent_phone="070-765 43 21")
    summary = run_import(live, changed, progress=progress)
    assert summary.status == "accepted" and summary.changed == 300
    assert seen == [{"thread": None, "process": None, "objects": 300}]
    after = register_rows(live)
    assert after["objects"] != before["objects"] and len(after["objects"]) == 300
    assert {row[3] for row in after["people"]} == {"+46707654321"}


@pytest.mark.parametrize("first", [True, False], ids=["first import", "re-import"])
def test_a_rejected_file_leaves_the_register_as_it_was_and_its_record_stays(live, tmp_path,
                                                                             first):
    if not first:
        run_import(live, register_csv(tmp_path / "good.csv", 100))
    before = register_rows(live)
    summary = run_import(live, register_csv(tmp_path / "bad.csv", 100, bad=20))
    assert summary.status == "rejected" and summary.reason == "too_many_errors"
    assert register_rows(live) == before
    with Session(live) as session:
        record = session.get(RegisterImport, summary.import_id)
        assert (record.status, record.filename, record.skipped) == ("rejected", "bad.csv", 20)
    assert not list(tmp_path.glob(".import-*"))  # no staging file left behind


def test_a_dry_run_leaves_the_register_as_it_was(live, tmp_path):
    summary = run_import(live, register_csv(tmp_path / "acme.csv", 100), dry_run=True)
    assert summary.status == "accepted" and summary.added == 100
    assert register_rows(live)["objects"] == []


def test_two_imports_of_one_landlord_run_one_after_the_other(live, tmp_path, monkeypatch):
    monkeypatch.setenv("DISPATCH_IMPORT_BLOCK_BYTES", "2000")
    path = register_csv(tmp_path / "acme.csv", 300)
    second: dict = {}
    thread = threading.Thread(target=lambda: second.update(summary=run_import(live, path)))

    def progress(done: int, total: int) -> None:
        if not second:
            second["started"] = True
            thread.start()  # while the first one reads the file

    first = run_import(live, path, progress=progress)
    thread.join(timeout=60)
    assert first.status == "accepted" and first.added == 300
    assert second["summary"].status == "unchanged"  # it read the register the first made
    assert len(register_rows(live)["objects"]) == 300


def test_a_first_register_goes_in_in_turns_hidden_until_its_apply(live, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setattr(plan, "TURN_ROWS", 40)  # 300 objects: eight turns for them alone
    turns, seen = [], []

    def after_turn():
        # Between two turns: the writer's turn is free, and no object is shown yet.
        turns.append(1)
        if len(turns) == 5:
            seen.append(writes_elsewhere(live, tmp_path / "live.db"))
            with live.connect() as conn:
                seen.append(conn.exec_driver_sql(
                    "SELECT count(*) FROM objects WHERE retired_at IS NULL").scalar())

    monkeypatch.setattr(plan.Plan, "after_turn", staticmethod(after_turn))
    summary = run_import(live, register_csv(tmp_path / "acme.csv", 300))
    assert summary.status == "accepted" and summary.added == 300
    assert len(turns) > 8
    assert seen[0]["thread"] is None and seen[0]["process"] is None and seen[1] == 0
    objects = register_rows(live)["objects"]
    assert len(objects) == 300 and {row[11] for row in objects} == {None}  # all shown


def test_a_first_import_stopped_between_its_turns_and_its_apply_leaves_nothing_behind(
        live, tmp_path, monkeypatch):
    path = register_csv(tmp_path / "acme.csv", 300)

    def stopped(self, session, landlord_id):
        raise KeyboardInterrupt  # as if the process were killed after copying in turns

    with monkeypatch.context() as patch:
        patch.setattr(plan.Plan, "apply", stopped)
        patch.setattr(service, "remove_hidden", lambda engine, landlord_id: 0)  # killed
        with pytest.raises(KeyboardInterrupt):
            run_import(live, path)
    left = register_rows(live)["objects"]
    assert len(left) == 300 and {row[11] for row in left} == {plan.HIDDEN}  # none shown
    summary = run_import(live, path)
    assert summary.status == "accepted" and summary.added == 300
    rows = register_rows(live)
    assert len(rows["objects"]) == 300 and {row[11] for row in rows["objects"]} == {None}
    assert len(rows["entrances"]) == 30


def test_a_first_register_goes_in_chunk_by_chunk_while_the_stage_reads_on(
        live, tmp_path, monkeypatch):
    # Small blocks: the stage sends many chunks; each goes in (hidden) as it comes.
    monkeypatch.setenv("DISPATCH_IMPORT_BLOCK_BYTES", "2000")
    from imports.first import writer

    stage = {"done": False}
    real = writer.run_stage

    def run_stage(*args, **kwargs):
        try:
            return real(*args, **kwargs)
        finally:
            stage["done"] = True

    turns = []

    def after_turn():
        with live.connect() as conn:
            in_table, shown = conn.exec_driver_sql(
                "SELECT count(*), count(*) FILTER (WHERE retired_at IS NULL) FROM objects"
            ).one()
        turns.append((stage["done"], in_table, shown))

    monkeypatch.setattr(writer, "run_stage", run_stage)
    monkeypatch.setattr(plan.Plan, "after_turn", staticmethod(after_turn))
    summary = run_import(live, register_csv(tmp_path / "acme.csv", 300))

    assert summary.status == "accepted" and summary.added == 300
    # Rows went in while the stage had more of the file to read.
    assert any(0 < in_table < 300 for done, in_table, _shown in turns if not done)
    assert {shown for _done, _in, shown in turns} == {0}  # none shown before the apply
    assert all(done is False for done, _in, _shown in turns)  # nothing left for afterwards
    objects = register_rows(live)["objects"]
    assert len(objects) == 300 and {row[11] for row in objects} == {None}


def test_a_first_register_whose_stage_fails_after_chunks_went_in_leaves_nothing(
        live, tmp_path, monkeypatch):
    monkeypatch.setenv("DISPATCH_IMPORT_BLOCK_BYTES", "2000")
    path = register_csv(tmp_path / "acme.csv", 300)
    with path.open("a", encoding="utf-8") as f:  # a last cell csv will not read
        f.write("A-999;Götgatan 99;118 46;" + "x" * 200_000 + "\n")
    turns = []
    monkeypatch.setattr(plan.Plan, "after_turn", staticmethod(lambda: turns.append(1)))

    with pytest.raises(Exception, match="field larger than field limit"):
        run_import(live, path)

    assert turns  # chunks had gone in
    rows = register_rows(live)
    assert rows["objects"] == [] and rows["entrances"] == [] and rows["people"] == []
    assert run_import(live, register_csv(tmp_path / "good.csv", 30)).added == 30


def test_a_first_register_whose_keys_were_taken_before_its_first_chunk_plans_again(
        live, tmp_path, monkeypatch):
    # Someone adds a person after the plan counted its keys, before the first chunk goes in.
    real = plan.Plan.copy_chunk
    added = []

    def copy_chunk(self, offsets, chunk, rows):
        if not added:
            with live.begin() as conn:
                conn.exec_driver_sql(
                    "INSERT INTO people (name, created_at, updated_at) "
                    "VALUES ('Someone', '2026-01-01 00:00:00', '2026-01-01 00:00:00')")
            added.append(1)
        return real(self, offsets, chunk, rows)

    monkeypatch.setattr(plan.Plan, "copy_chunk", copy_chunk)
    summary = run_import(live, register_csv(tmp_path / "acme.csv", 50))

    assert summary.status == "accepted" and summary.added == 50
    rows = register_rows(live)
    assert len(rows["objects"]) == 50 and len(rows["people"]) == 51
