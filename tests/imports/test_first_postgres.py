"""A first register on PostgreSQL (imports.first.postgres): chunks are prepared on one thread
and COPYed on another while the stage sends the next ones. Whatever fails on either thread,
in whichever chunk, the import raises that error and leaves no register behind; the session
goes on working."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import psycopg
import pytest
from sqlalchemy import bindparam, text

from imports.first import postgres
from tests.imports.test_first import register_of
from tests.imports.test_formats import register_row, run_import, write_register

pytestmark = pytest.mark.postgres_only  # COPY


class Broken(Exception):
    """What the preparation of a chunk raises in these tests."""


def many_chunks(monkeypatch, tmp_path, rows: int = 400):
    monkeypatch.setenv("DISPATCH_IMPORT_BLOCK_BYTES", "2000")  # a chunk every few rows
    return write_register(tmp_path, [register_row(i) for i in range(1, rows + 1)])


def fail_on_chunk(monkeypatch, method: str, chunk: int, fail) -> list[int]:
    """Make ``Copier.<method>`` call ``fail`` instead on its ``chunk``-th call; return the
    list the calls are counted in."""
    real = getattr(postgres.Copier, method)
    calls = []

    def wrapper(copier, *args):
        calls.append(1)
        if len(calls) == chunk:
            return fail(copier, real, *args)
        return real(copier, *args)

    monkeypatch.setattr(postgres.Copier, method, wrapper)
    return calls


def bad_data(copier, real, prepared):
    """COPY the chunk's first table with a value its id column cannot take."""
    name, columns, _data = prepared[0]
    fields = len(columns.split(","))
    real(copier, [(name, columns, b"not-a-number" + b",x" * (fields - 1) + b"\n")])


def broken(copier, real, tables):
    raise Broken("the chunk could not be laid out")


@pytest.mark.parametrize(("method", "fail", "error"), [
    ("_copy_all", bad_data, psycopg.errors.InvalidTextRepresentation),
    ("_prepare", broken, Broken),
])
def test_a_chunk_that_fails_midway_raises_its_error_and_leaves_no_register(
        db_session, create_landlord, tmp_path, monkeypatch, method, fail, error):
    landlord = create_landlord()
    path = many_chunks(monkeypatch, tmp_path)
    calls = fail_on_chunk(monkeypatch, method, 4, fail)

    with pytest.raises(error):
        run_import(db_session, landlord, path)

    assert len(calls) >= 4  # chunks before the broken one were copied
    assert register_of(db_session, landlord.id) == register_of(db_session, -1)  # nothing
    assert db_session.execute(text("SELECT count(*) FROM objects WHERE landlord_id = :l"),
                              {"l": landlord.id}).scalar() == 0


def test_the_next_first_import_after_a_failed_one_builds_the_whole_register(
        db_session, create_landlord, tmp_path, monkeypatch):
    landlord = create_landlord()
    path = many_chunks(monkeypatch, tmp_path)
    fail_on_chunk(monkeypatch, "_copy_all", 3, bad_data)
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        run_import(db_session, landlord, path)
    monkeypatch.undo()
    monkeypatch.setenv("DISPATCH_IMPORT_BLOCK_BYTES", "2000")

    summary = run_import(db_session, landlord, path)

    assert (summary.status, summary.added) == ("accepted", 400)
    assert len(register_of(db_session, landlord.id)["objects"]) == 400


def test_a_first_import_analyzes_the_register_in_its_own_unit_of_work(
        db_session, create_landlord, tmp_path):
    from imports.service import REGISTER_TABLES


    def estimated() -> dict:
        return dict(db_session.execute(text(
            "SELECT relname, reltuples FROM pg_class WHERE relname IN :names"
        ).bindparams(bindparam("names", expanding=True)), {"names": REGISTER_TABLES}).all())

    rows = [register_row(n, hyresgast2_namn=f"Bo Ek {n}") for n in range(1, 41)]
    summary = run_import(db_session, create_landlord(), write_register(tmp_path, rows))

    assert summary.added == 40
    # Counted by ANALYZE (never analyzed: -1), the import's own rows included, before commit.
    counts = estimated()
    assert counts["objects"] >= 40 and counts["people"] >= 80
    assert counts["agreement_parties"] >= 80 and counts["entrances"] >= 40


@pytest.mark.parametrize(("increment", "runs", "ids"), [
    (1, [(1001, 5)], [1001, 1002, 1003, 1004, 1005]),  # drawn without a gap: one run
    (3, [(1001, 1), (1004, 1), (1007, 1), (1010, 1), (1013, 1)],  # a gap after every id
     [1001, 1004, 1007, 1010, 1013]),
])
def test_the_ids_one_statement_draws_come_back_as_their_runs(db_session, increment, runs, ids):
    raw = db_session.connection().connection.driver_connection
    raw.execute(f"CREATE TEMP SEQUENCE drawn START 1001 INCREMENT {increment}")
    copier = postgres.Copier(raw, 1, datetime.now(UTC))
    try:
        oid = raw.execute("SELECT 'drawn'::regclass::oid").fetchone()[0]
        copier.sequences = dict.fromkeys(postgres.ID_TABLES, oid)
        none = pl.Series([], dtype=pl.Int64)
        copier._reserve({**dict.fromkeys(postgres.ID_TABLES, none),
                         "people": pl.Series(range(5), dtype=pl.Int64)})
    finally:
        copier.close()

    assert copier.maps["people"].runs == runs
    assert [copier.maps["people"](n) for n in range(5)] == ids
