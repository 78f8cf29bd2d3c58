"""A first register copied into the live SQLite database chunk by chunk (``Plan.copy_chunk``)
goes in on a connection whose foreign keys are off; each chunk's references are checked
set-wise before it goes in (``Plan._check_chunk``). A chunk that points at no row of the
import is refused and the register keeps nothing of the file; the connection goes back to
the pool with its foreign keys on.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dispatch.core import database
from imports import plan
from imports.first.staging import StageFailed
from tests.imports.test_import_beside_writers import (
    live,  # noqa: F401 (the fixture)
    register_csv,
    register_rows,
    run_import,
)

pytestmark = pytest.mark.sqlite_only

# One broken stage output each: (which chunk, statement on the chunk's staging tables, the
# in-memory schema ``imports.first.writer.STAGE``).
BROKEN = {
    "an object's entrance beyond the entrances copied": (
        2, "UPDATE import_stage.objects SET entrance_id = entrance_id + 1000 WHERE id % 7 = 3"),
    "a tenant on an agreement that no chunk made": (
        1, "UPDATE import_stage.parties SET agreement_id = -1 WHERE rowid = 1"),
    "a party whose person is not an integer id": (
        3, "UPDATE import_stage.parties SET person_id = CAST(person_id AS TEXT)"),
    "an entrance's property that is not there": (
        2, "UPDATE import_stage.entrances SET property_id = 99999 WHERE rowid = 1"),
    "one object's entrance as a real number": (
        2, "UPDATE import_stage.objects SET entrance_id = entrance_id + 0.5 WHERE rowid = 2"),
    "one object's entrance as text among integers": (
        2, "UPDATE import_stage.objects SET entrance_id = CAST(entrance_id AS TEXT) "
           "WHERE rowid = 3"),
    "new objects that skip an id": (
        2, "UPDATE import_stage.objects SET id = id + 1"),
    "new agreements that repeat the last chunk's ids": (
        2, "UPDATE import_stage.objects SET agreement_id = agreement_id - 5 "
           "WHERE agreement_id IS NOT NULL"),
}


def break_chunk(monkeypatch, number: int, statement: str) -> list[int]:
    """Run ``statement`` on the ``number``-th chunk's staging tables before it is checked."""
    real = plan.Plan._check_chunk
    seen: list[int] = []

    def check(self, raw):
        seen.append(1)
        if len(seen) == number:
            raw.execute(statement)
        return real(self, raw)

    monkeypatch.setattr(plan.Plan, "_check_chunk", check)
    return seen


@pytest.mark.parametrize("broken", BROKEN, ids=list(BROKEN))
def test_a_chunk_whose_references_point_at_no_row_of_the_import_is_refused_and_nothing_stays(
        live, tmp_path, monkeypatch, broken):  # noqa: F811 (the fixture)
    monkeypatch.setenv("DISPATCH_IMPORT_BLOCK_BYTES", "2000")  # many chunks
    number, statement = BROKEN[broken]
    chunks = break_chunk(monkeypatch, number, statement)

    with pytest.raises(StageFailed):
        run_import(live, register_csv(tmp_path / "acme.csv", 300))

    assert len(chunks) == number  # refused at that chunk, before it went in
    assert all(rows == [] for rows in register_rows(live).values())
    monkeypatch.setattr(plan.Plan, "_check_chunk", plan.Plan.__dict__["_check_chunk"])
    assert run_import(live, register_csv(tmp_path / "good.csv", 30)).added == 30


def test_the_chunks_of_a_good_register_pass_the_checks_and_every_reference_holds(
        live, tmp_path, monkeypatch):  # noqa: F811 (the fixture)
    monkeypatch.setenv("DISPATCH_IMPORT_BLOCK_BYTES", "2000")
    chunks = break_chunk(monkeypatch, 0, "")

    summary = run_import(live, register_csv(tmp_path / "acme.csv", 300))

    assert summary.status == "accepted" and summary.added == 300
    assert len(chunks) > 5
    with live.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert conn.exec_driver_sql("SELECT count(*) FROM agreement_parties").scalar() == 300


def test_the_copy_connection_goes_back_to_the_pool_with_its_foreign_keys_on(
        live, tmp_path, monkeypatch):  # noqa: F811 (the fixture)
    monkeypatch.setenv("DISPATCH_IMPORT_BLOCK_BYTES", "2000")
    run_import(live, register_csv(tmp_path / "acme.csv", 100))

    connections = [live.connect() for _ in range(3)]  # the pool's, the copy's among them
    try:
        for conn in connections:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        for conn in connections:
            conn.close()


def test_a_landlord_removed_while_its_first_register_went_in_leaves_no_rows_behind(
        live, tmp_path, monkeypatch):  # noqa: F811 (the fixture)
    monkeypatch.setenv("DISPATCH_IMPORT_BLOCK_BYTES", "2000")
    removed = []

    def after_turn():
        if not removed:
            with database.intent("write"), live.begin() as conn:
                conn.exec_driver_sql("DELETE FROM landlords WHERE code = 'ACME'")
            removed.append(1)

    monkeypatch.setattr(plan.Plan, "after_turn", staticmethod(after_turn))
    # It fails (where it finds the landlord gone first), and the rows that went in after the
    # removal, which no foreign key stopped, are removed with the rest.
    with pytest.raises((LookupError, sa.exc.InvalidRequestError)):
        run_import(live, register_csv(tmp_path / "acme.csv", 300))

    assert removed
    assert all(rows == [] for rows in register_rows(live).values())
