"""Register import: the import history, the landlord's register version and the
``dispatch import-register`` command (CONTRACT.md)."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select

from dispatch.models import Landlord, RegisterImport
from tests.imports.test_formats import (
    assert_accepted,
    objects_by_number,
    register_row,
    register_state,
    run_import,
    write_register,
)


def _version(session, landlord) -> int:
    return register_state(session, landlord.id)["version"]


def test_the_import_history_records_who_which_file_and_what_it_did(db_session, create_landlord,
                                                                   tmp_path):
    landlord = create_landlord()
    assert_accepted(run_import(db_session, landlord,
                               write_register(tmp_path, [register_row(i) for i in range(1, 31)])))
    rows = [register_row(i) for i in range(2, 31)]  # 1 is retired
    rows[0] = register_row(2, hyra="9100")  # changed
    rows[5] = register_row(7, postnummer="7")  # skipped
    rows += [register_row(31, lat=None, lon=None)]  # added, not placed
    path = write_register(tmp_path, rows, name="Acme maj 2026")

    summary = run_import(db_session, landlord, path, actor="ops@example.se")

    row = db_session.get(RegisterImport, summary.import_id)
    assert (row.landlord_id, row.actor, row.user_id) == (landlord.id, "ops@example.se", None)
    assert row.filename == "Acme maj 2026.csv"
    assert row.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() == summary.sha256
    assert row.size_bytes == path.stat().st_size
    assert (row.status, row.forced, row.dry_run) == ("accepted", False, False)
    assert (row.rows_total, row.added, row.changed, row.retired, row.unchanged, row.skipped,
            row.not_placed) == (30, 1, 1, 1, 27, 1, 1)
    assert row.error_report.splitlines()[1].startswith("7;postnummer;")
    assert row.started_at <= row.finished_at


def test_a_rejected_import_is_recorded_too(db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    rows = [{k: v for k, v in register_row(i).items() if k != "ort"} for i in range(1, 4)]

    summary = run_import(db_session, landlord, write_register(tmp_path, rows),
                         filename="upload.csv", actor="admin@example.se")

    row = db_session.get(RegisterImport, summary.import_id)
    assert (row.status, row.filename, row.actor) == ("rejected", "upload.csv", "admin@example.se")
    assert "ort" in row.message


def test_register_version_counts_accepted_imports_only(db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    rows = [register_row(i) for i in range(1, 11)]
    start = _version(db_session, landlord)

    assert_accepted(run_import(db_session, landlord, write_register(tmp_path, rows)))
    assert _version(db_session, landlord) == start + 1

    rejected = run_import(db_session, landlord, write_register(tmp_path, rows[:2], name="cut"))
    assert rejected.status == "rejected"
    assert _version(db_session, landlord) == start + 1

    dry = run_import(db_session, landlord, write_register(tmp_path, rows[1:], name="dry"),
                     dry_run=True)
    assert dry.status == "accepted" and dry.dry_run
    assert _version(db_session, landlord) == start + 1

    rows[3] = register_row(4, hyra="9100")
    assert_accepted(run_import(db_session, landlord, write_register(tmp_path, rows, name="next")))
    assert _version(db_session, landlord) == start + 2
    db_session.refresh(landlord)
    assert landlord.register_version == start + 2


# -- the command line ------------------------------------------------------------------


def _cli(runner, *args):
    return runner.invoke(args=["import-register", *args])


def test_cli_json_prints_one_summary_object_and_exits_0_when_accepted(runner, db_session,
                                                                      create_landlord, tmp_path):
    landlord = create_landlord(code="ACME")
    path = write_register(tmp_path, [register_row(i) for i in range(1, 6)])

    result = _cli(runner, "--landlord", "acme", str(path), "--json")

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert isinstance(summary, dict)
    assert (summary["status"], summary["landlord"], summary["file"]) == ("accepted", "ACME",
                                                                        "register.csv")
    assert (summary["rows"], summary["added"], summary["dry_run"]) == (5, 5, False)
    assert len(objects_by_number(db_session, landlord.id)) == 5
    row = db_session.get(RegisterImport, summary["import_id"])
    assert row.actor.startswith("cli:") and row.sha256 == summary["sha256"]


def test_cli_exits_1_when_the_file_is_rejected(runner, db_session, create_landlord, tmp_path):
    landlord = create_landlord(code="ACME")
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")

    result = _cli(runner, "--landlord", "ACME", str(path), "--json")

    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    assert (summary["status"], summary["reason"]) == ("rejected", "structure")
    assert db_session.scalars(select(RegisterImport.status)
                              .where(RegisterImport.landlord_id == landlord.id)).all() == [
        "rejected"]


def test_cli_dry_run_and_force_reach_the_import(runner, db_session, create_landlord, tmp_path):
    landlord = create_landlord(code="ACME")
    rows = [register_row(i) for i in range(1, 11)]
    assert _cli(runner, "--landlord", "ACME", str(write_register(tmp_path, rows))).exit_code == 0
    half = str(write_register(tmp_path, rows[:5], name="half"))

    dry = _cli(runner, "--landlord", "ACME", half, "--json", "--dry-run", "--force")

    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["retired"] == 5
    assert all(o.retired_at is None for o in objects_by_number(db_session, landlord.id).values())
    refused = _cli(runner, "--landlord", "ACME", half, "--json")
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["reason"] == "too_many_retired"
    forced = _cli(runner, "--landlord", "ACME", half, "--json", "--force")
    assert forced.exit_code == 0
    assert json.loads(forced.stdout)["forced"] is True
    retired = [n for n, o in objects_by_number(db_session, landlord.id).items() if o.retired_at]
    assert len(retired) == 5


def test_cli_without_json_prints_a_readable_summary(runner, create_landlord, tmp_path):
    create_landlord(code="ACME")
    rows = [register_row(i) for i in range(1, 30)] + [register_row(30, postnummer="1")]

    result = _cli(runner, "--landlord", "ACME", str(write_register(tmp_path, rows)))

    assert result.exit_code == 0, result.output
    assert "Importerad: register.csv för ACME" in result.stdout  # Swedish: the default
    assert "tillagda 29" in result.stdout and "överhoppade 1" in result.stdout
    assert "rad 31, postnummer: inte fem siffror: '1'" in result.stdout


@pytest.mark.parametrize(("locale", "words"), [
    ("fi", ["Tuotu", "30 riviä: lisätty 29", "rivi 31, postnummer: ei viisi numeroa: '1'"]),
    ("en", ["Imported", "30 rows: added 29", "line 31, postnummer: not five digits: '1'"]),
])
def test_cli_prints_its_summary_and_messages_in_the_configured_language(
        app, runner, create_landlord, tmp_path, locale, words):
    create_landlord(code="ACME")
    rows = [register_row(i) for i in range(1, 30)] + [register_row(30, postnummer="1")]
    app.config["BABEL_DEFAULT_LOCALE"] = locale

    result = _cli(runner, "--landlord", "ACME", str(write_register(tmp_path, rows)))

    for word in words:
        assert word in result.stdout


def test_cli_json_lists_the_first_errors_as_objects(runner, create_landlord, tmp_path):
    create_landlord(code="ACME")
    rows = [register_row(i) for i in range(1, 30)] + [register_row(30, postnummer="1")]

    result = _cli(runner, "--landlord", "ACME", str(write_register(tmp_path, rows)), "--json")

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert list(summary) == [
        "import_id", "landlord", "file", "sha256", "status", "dry_run", "forced", "rows",
        "added", "changed", "retired", "unchanged", "skipped", "not_placed", "reason",
        "message", "warnings", "errors", "error_count", "seconds"]
    assert (summary["skipped"], summary["error_count"]) == (1, 1)
    [error] = summary["errors"]
    assert (error["line"], error["column"]) == (31, "postnummer") and error["reason"]


def test_cli_exits_2_for_an_unknown_landlord(runner, db_session, tmp_path):
    path = write_register(tmp_path, [register_row(1)])

    result = _cli(runner, "--landlord", "NOPE", str(path), "--json")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "ingen hyresvärd med koden" in result.stderr
    assert db_session.scalars(select(RegisterImport)).all() == []


def test_cli_exits_2_for_a_missing_file_or_landlord_option(runner, create_landlord, tmp_path):
    create_landlord(code="ACME")
    assert _cli(runner, "--landlord", "ACME", str(tmp_path / "nope.csv")).exit_code == 2
    assert _cli(runner, str(write_register(tmp_path, [register_row(1)]))).exit_code == 2


def test_landlord_register_version_is_visible_through_the_orm(db_session, create_landlord,
                                                              tmp_path):
    landlord = create_landlord()
    assert_accepted(run_import(db_session, landlord,
                               write_register(tmp_path, [register_row(1)])))
    db_session.expire_all()
    fresh = db_session.scalar(select(Landlord).where(Landlord.id == landlord.id))
    assert fresh.register_version == 1
