"""A first register on PostgreSQL is COPYed in PostgreSQL's binary format (imports.first.postgres,
``binary_copy``): the server stores each value as sent instead of parsing text. A chunk's table
whose values do not all convert exactly (an int too large for its column, a date that is none,
a number with more decimals than the encoder keeps) goes as CSV text instead, which the server
reads, rounds or refuses as before. Either way the register is the one the general path
builds, times included."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from sqlalchemy import text

from imports.first import postgres
from tests.imports.test_first import apply_file, register_of, varied_rows
from tests.imports.test_formats import register_row, run_import, write_register

pytestmark = pytest.mark.postgres_only  # COPY

TABLES = ("properties", "entrances", "objects", "agreements", "people", "agreement_objects",
          "agreement_parties")


def formats_sent(monkeypatch) -> list[tuple[str, str]]:
    """(table, 'binary' or 'csv') of each COPY, in order."""
    sent = []
    real = postgres.Copier._copy

    def copy(copier, name, columns, data):
        first = data[0] if isinstance(data, list) else data
        sent.append((name, "binary" if postgres.is_binary(first) else "csv"))
        real(copier, name, columns, data)

    monkeypatch.setattr(postgres.Copier, "_copy", copy)
    return sent


def times_of(session, landlord_id: int) -> set:
    """Every created_at / updated_at the import wrote for the landlord."""
    return set(session.execute(text(
        "SELECT created_at FROM objects WHERE landlord_id = :l "
        "UNION SELECT updated_at FROM objects WHERE landlord_id = :l "
        "UNION SELECT created_at FROM agreements WHERE landlord_id = :l "
        "UNION SELECT created_at FROM people WHERE landlord_id = :l "
        "UNION SELECT updated_at FROM people WHERE landlord_id = :l"), {"l": landlord_id}
    ).scalars())


def test_every_table_goes_binary_and_builds_the_register_csv_builds(
        db_session, create_landlord, tmp_path, monkeypatch):
    path = write_register(tmp_path, varied_rows(300, seed=11))
    by_binary, by_text = create_landlord("BINARY"), create_landlord("TEXT")
    sent = formats_sent(monkeypatch)

    before = datetime.now(UTC)
    binary = run_import(db_session, by_binary, path)
    after = datetime.now(UTC)
    binary_sent = list(sent)
    sent.clear()
    monkeypatch.setattr(postgres, "BINARY_COPY", False)
    as_text = run_import(db_session, by_text, path)

    assert {table for table, _kind in binary_sent} == set(TABLES)
    assert {kind for _table, kind in binary_sent} == {"binary"}
    assert {kind for _table, kind in sent} == {"csv"}
    assert (binary.status, binary.added, binary.errors) == (
        as_text.status, as_text.added, as_text.errors)
    assert binary.added > 250
    assert register_of(db_session, by_binary.id) == register_of(db_session, by_text.id)
    # One instant, the import's own, in UTC (a time sent without its zone would be hours off).
    (instant,) = times_of(db_session, by_binary.id)
    assert before <= instant <= after
    (text_instant,) = times_of(db_session, by_text.id)
    assert text_instant.tzinfo is not None


def test_a_number_the_encoder_cannot_keep_exactly_goes_as_text_and_is_rounded_as_before(
        db_session, create_landlord, tmp_path, monkeypatch):
    rows = [register_row(n, hyra="8 500,123456789012345", yta="61,55", rum="2,25")
            for n in range(1, 6)]
    path = write_register(tmp_path, rows)
    staged, general = create_landlord("STAGED"), create_landlord("ROWS")
    sent = formats_sent(monkeypatch)

    by_stage = apply_file(db_session, staged, path, staged=True)
    by_rows = apply_file(db_session, general, path, staged=False)

    assert ("objects", "csv") in sent  # more decimals than the encoder keeps: as text
    assert ("people", "binary") in sent  # the other tables of the chunk still binary
    assert by_stage.added == by_rows.added == 5
    assert register_of(db_session, staged.id) == register_of(db_session, general.id)
    rents = db_session.execute(text(
        "SELECT DISTINCT rent_sek::text, area_m2::text, rooms::text FROM objects "
        "WHERE landlord_id = :l"), {"l": staged.id}).all()
    assert rents == [("8500.12", "61.55", "2.3")]  # PostgreSQL's rounding of the text


@pytest.mark.parametrize(("column", "kind", "value"), [
    ("floor", ("int4", -1), 2**31),  # larger than the column's int
    ("starts_on", ("date", -1), "2021-02-30"),  # no such day
    ("rent_sek", ("numeric", (10 << 16 | 2) + 4), "1.12345678901"),  # 11 decimals
    ("rent_sek", ("numeric", (10 << 16 | 2) + 4), "1" * 30),  # more than 38 digits with 10
    ("rent_sek", ("numeric", (10 << 16 | 2) + 4), "1E+3"),  # not written plainly
    ("name", ("bytea", -1), "x"),  # a type the encoder does not send
])
def test_a_value_that_does_not_convert_exactly_is_not_sent_binary(column, kind, value):
    frame = pl.DataFrame({column: [value]})

    with pytest.raises(postgres.NotBinary):
        postgres.binary_copy(pl, frame, {column: kind})


def test_values_that_convert_are_sent_as_postgresql_stores_them(db_session):
    raw = db_session.connection().connection.driver_connection
    raw.execute("CREATE TEMP TABLE sent (i int4, n numeric(8, 2), d date, t timestamptz, "
                "f float8, s varchar(20))")
    instant = datetime(2026, 11, 26, 14, 30, 15, 123456, tzinfo=UTC)
    frame = pl.DataFrame({
        "i": [-7, None], "n": ["1204.25", "-0.5"], "d": ["2019-04-01", None],
        "t": [instant, instant], "f": [59.3141592653589, None], "s": ["Åsögatan 1 B", ""],
    }, schema_overrides={"t": pl.Datetime("us", "UTC")})
    types = {"i": ("int4", -1), "n": ("numeric", (8 << 16 | 2) + 4), "d": ("date", -1),
             "t": ("timestamptz", -1), "f": ("float8", -1), "s": ("varchar", 24)}

    data = postgres.binary_copy(pl, frame, types)
    with raw.cursor() as cursor, cursor.copy("COPY sent FROM STDIN (FORMAT binary)") as copy:
        for piece in data:
            copy.write(piece)

    got = raw.execute("SELECT i, n::text, d::text, t, f, s FROM sent").fetchall()
    assert got == [(-7, "1204.25", "2019-04-01", instant, 59.3141592653589, "Åsögatan 1 B"),
                   (None, "-0.50", None, instant, None, "")]
