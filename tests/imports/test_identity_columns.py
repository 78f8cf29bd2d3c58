"""The register's newer columns (issue 15): ``avtal_till`` → agreements.ends_on and the
tenants' ``hyresgast_personnummer`` / ``hyresgast2_personnummer`` → people.personnummer,
checked with python-stdnum and stored once (Swedish numbers in the 12-digit form, a Finnish
henkilötunnus as written). A bad number is a row error that names its line and column and
never the number, on every path: the general one, the staged first import (row stage and
column stage) and, with TEST_DATABASE_URL, PostgreSQL's COPY. Only the official test numbers
of ../shared/domain-rules.md appear here."""

from __future__ import annotations

import json
import logging
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from imports.rows import RowError, RowParser, identity_number
from tests.imports.test_first import apply_file, register_of, staged_results, write_plain
from tests.imports.test_formats import register_row, run_import, write_register

STORED = [
    ("199001012385", "199001012385"),
    ("19900101-2385", "199001012385"),
    ("900101-2385", "199001012385"),
    ("9001012385", "199001012385"),
    ("201701012393", "201701012393"),
    ("200002292399", "200002292399"),
    ("640823-3234", "196408233234"),
    ("19130401+2931", "191304012931"),  # a centenarian's plus
    ("701063-2391", "197010632391"),  # a samordningsnummer: day + 60, kept so
    ("131052-308T", "131052-308T"),  # henkilötunnus, as written
    ("131052-308t", "131052-308T"),
    ("010594Y9032", "010594Y9032"),  # the 1900s' new century sign, a test number (9xx)
]
BAD = ["19900101-2386", "900101-2384", "701063-2392", "19900230-2385", "131052-308X",
       "310294-1234", "1990", "ÅÄÖ"]


@pytest.mark.parametrize(("raw", "stored"), STORED)
def test_identity_numbers_are_stored_in_the_twelve_digit_form_or_as_a_hetu(raw, stored):
    assert identity_number(raw, "hyresgast_personnummer") == stored


@pytest.mark.parametrize("raw", BAD)
def test_a_bad_identity_number_is_refused_without_its_value(raw):
    with pytest.raises(RowError) as caught:
        identity_number(raw, "hyresgast2_personnummer")
    assert caught.value.column == "hyresgast2_personnummer"
    assert raw not in str(caught.value) and raw not in caught.value.reason


def test_the_parser_reads_the_new_columns_into_the_row():
    parser = RowParser(["objektsnummer", "gatuadress", "postnummer", "ort", "avtal_till",
                        "Hyresgäst personnummer", "HYRESGAST2_PERSONNUMMER"])
    row = parser.parse(2, parser.clean(["1", "Götgatan 1", "11846", "Stockholm", "2026-02-28",
                                        "900101-2385", "131052-308T"]))
    assert row.ends_on == date(2026, 2, 28)
    assert [t.personnummer for t in row.tenants] == ["199001012385", "131052-308T"]


def test_a_file_without_the_new_columns_keeps_its_row_digests():
    header = ["objektsnummer", "gatuadress", "postnummer", "ort", "hyra"]
    values = ["1", "Götgatan 1", "11846", "Stockholm", "8500"]
    with_empty = RowParser([*header, "avtal_till", "hyresgast_personnummer"])
    old = RowParser(header)
    # Empty new columns read as absent ones (test_unchanged_rows.py): no row changes by them.
    assert old.digest(old.clean(values)) == with_empty.digest(with_empty.clean([*values, "",
                                                                                 ""]))
    # The digest is the known columns the file has, in their order: older exports unchanged.
    from imports.rows import digest_of
    assert old.digest(old.clean(values)) == digest_of("\x1f".join(["1", "Götgatan 1", "11846",
                                                                    "Stockholm", "8500"]))


def _rows_with_identities(count: int = 40) -> list[dict]:
    numbers = [raw for raw, _ in STORED]
    rows = []
    for n in range(1, count + 1):
        rows.append(register_row(
            n,
            avtal_till="2027-03-31" if n % 3 == 0 else None,
            hyresgast_personnummer=numbers[n % len(numbers)],
            hyresgast2_namn=f"Bo Ek {n}" if n % 4 == 0 else None,
            hyresgast2_personnummer="131052-308T" if n % 4 == 0 else None,
        ))
    rows[4]["hyresgast_personnummer"] = "19900101-2386"  # line 6: bad
    return rows


def _people(session, landlord_id: int) -> dict:
    """kundnummer or name → personnummer."""
    return {(k or n): p for k, n, p in session.execute(text(
        "SELECT kundnummer, name, personnummer FROM people WHERE landlord_id = :l"),
        {"l": landlord_id})}


def _ends(session, landlord_id: int) -> dict:
    return {a: (e.isoformat() if hasattr(e, "isoformat") else e) for a, e in session.execute(
        text("SELECT avtalsnummer, ends_on FROM agreements WHERE landlord_id = :l"),
        {"l": landlord_id})}


@pytest.mark.parametrize("path_taken", ["general", "row stage", "column stage"])
def test_every_path_stores_the_numbers_and_the_end_date_and_reports_a_bad_one_by_column(
        db_session, create_landlord, tmp_path, monkeypatch, path_taken):
    results = staged_results(monkeypatch)
    rows = _rows_with_identities()
    fmt = "xlsx" if path_taken == "row stage" else "csv"
    path = write_register(tmp_path, rows, fmt=fmt)
    landlord, general = create_landlord("PATH"), create_landlord("GENERAL")

    outcome = apply_file(db_session, landlord, path, staged=path_taken != "general")
    reference = apply_file(db_session, general, path, staged=False)

    assert outcome.errors == [(6, "hyresgast_personnummer",
                               "not a valid personnummer, samordningsnummer or henkilötunnus")]
    assert "19900101-2386" not in outcome.error_csv() + json.dumps(outcome.as_json())
    people = _people(db_session, landlord.id)
    assert people["K00001"] == "199001012385"  # STORED[1]
    assert people["K00008"] == "197010632391"
    assert people["K00009"] == people["K00010"] == "131052-308T"
    assert people["Bo Ek 4"] == "131052-308T"
    assert people["K00002"] == "199001012385"
    ends = _ends(db_session, landlord.id)
    assert ends["A00003"] == "2027-03-31" and ends["A00004"] is None
    assert register_of(db_session, landlord.id) == register_of(db_session, general.id)
    assert reference.errors == outcome.errors
    expected = {"general": [], "row stage": [False], "column stage": [True]}[path_taken]
    assert [r.columnar for r in results[:len(expected)]] == expected


def test_the_column_stage_across_blocks_agrees_with_the_general_path(
        db_session, create_landlord, tmp_path, monkeypatch):
    monkeypatch.setenv("DISPATCH_IMPORT_BLOCK_BYTES", "700")
    results = staged_results(monkeypatch)
    rows = _rows_with_identities(120)
    rows[30]["hyresgast_personnummer"] = " 131052-308t "
    rows[31]["avtal_till"] = "2026-13-01"
    rows[32]["hyresgast_personnummer"] = "701063-2392"
    rows[33]["kundnummer"] = rows[3]["kundnummer"]  # the same person named again
    path = tmp_path / "register.csv"
    write_plain(path, rows)
    staged, general = create_landlord("STAGED"), create_landlord("ROWS")

    by_stage = apply_file(db_session, staged, path, staged=True)
    by_rows = apply_file(db_session, general, path, staged=False)

    assert [r.columnar for r in results] == [True]
    assert by_stage.errors == by_rows.errors
    assert [(line, column) for line, column, _ in by_stage.errors] == [
        (6, "hyresgast_personnummer"), (33, "avtal_till"), (34, "hyresgast_personnummer")]
    assert register_of(db_session, staged.id) == register_of(db_session, general.id)


def test_a_bad_number_never_reaches_a_log_the_record_or_the_error_report(
        db_session, create_landlord, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    landlord = create_landlord()
    summary = run_import(db_session, landlord, write_register(tmp_path, _rows_with_identities()))

    assert summary.status == "accepted"
    assert [(line, column) for line, column, _ in summary.errors] == [
        (6, "hyresgast_personnummer")]
    stored = db_session.execute(text(
        "SELECT error_report, message, warnings FROM register_imports WHERE id = :i"),
        {"i": summary.import_id}).one()
    written = " ".join(str(v) for v in stored) + caplog.text
    assert "6;hyresgast_personnummer;" in stored[0]
    for raw in ("19900101-2386", "199001012386", "900101-2386"):
        assert raw not in written


def test_a_reimport_changes_the_numbers_and_the_end_date_and_an_older_export_keeps_them(
        db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    rows = [register_row(n, hyresgast_personnummer="199001012385", avtal_till=None)
            for n in range(1, 11)]
    run_import(db_session, landlord, write_register(tmp_path, rows, name="first"))
    agreement_ids = dict(db_session.execute(text(
        "SELECT avtalsnummer, id FROM agreements WHERE landlord_id = :l"),
        {"l": landlord.id}).all())

    rows[1]["hyresgast_personnummer"] = "201701012393"
    rows[2]["avtal_till"] = "2026-02-28"
    second = run_import(db_session, landlord, write_register(tmp_path, rows, name="second"))

    assert (second.changed, second.unchanged) == (2, 8)
    assert _people(db_session, landlord.id)["K00002"] == "201701012393"
    assert _ends(db_session, landlord.id)["A00003"] == "2026-02-28"

    # Notice withdrawn: the end date goes again, and the agreement stays the same one.
    rows[2]["avtal_till"] = None
    run_import(db_session, landlord, write_register(tmp_path, rows, name="third"))
    assert _ends(db_session, landlord.id)["A00003"] is None
    assert dict(db_session.execute(text(
        "SELECT avtalsnummer, id FROM agreements WHERE landlord_id = :l"),
        {"l": landlord.id}).all()) == agreement_ids

    # An export without the new columns changes other fields and leaves the numbers be.
    rows[2]["avtal_till"] = "2026-02-28"
    run_import(db_session, landlord, write_register(tmp_path, rows, name="fourth"))
    older = [{k: v for k, v in row.items() if k not in ("hyresgast_personnummer",
                                                          "avtal_till")} for row in rows]
    older[1]["hyresgast_namn"] = "Anna Lindqvist-Berg"
    older[2]["hyra"] = "9100"
    summary = run_import(db_session, landlord, write_register(tmp_path, older, name="older"))
    assert summary.status == "accepted"
    people = _people(db_session, landlord.id)
    assert people["K00002"] == "201701012393" and people["K00003"] == "199001012385"
    assert _ends(db_session, landlord.id)["A00003"] == "2026-02-28"


def _stdnum_reference(raw: str) -> str | None:
    """What python-stdnum alone says of a Swedish number (a samordningsnummer's day - 60 for
    the date check), as the 12-digit form; None when it refuses it."""
    from stdnum import luhn
    from stdnum.exceptions import ValidationError
    from stdnum.se import personnummer

    try:
        number = personnummer.compact(raw)
        if len(number) not in (11, 13) or number[-5] not in "-+":
            return None
        at = len(number) - 7
        day = int(number[at:at + 2])
        shifted = f"{number[:at]}{day - 60:02d}{number[at + 2:]}" if day > 60 else number
        personnummer.get_birth_date(shifted)
        luhn.validate((number[:-5] + number[-4:])[-10:])
        if not (number[:-5] + number[-4:]).isdigit():
            return None
        born = personnummer.get_birth_date(shifted)
    except (ValidationError, ValueError):
        return None
    return f"{born.year:04d}{number[-9:-5]}{number[-4:]}"


@given(st.integers(0, 99), st.integers(0, 13), st.integers(0, 92), st.integers(0, 9999),
       st.sampled_from(["", "-", "+"]), st.sampled_from(["", "19", "20", "18"]))
@settings(max_examples=3000, deadline=None)
def test_the_quick_check_says_what_python_stdnum_says(yy, mm, dd, tail, sign, century):
    raw = f"{century}{yy:02d}{mm:02d}{dd:02d}{sign}{tail:04d}"
    try:
        ours = identity_number(raw, "hyresgast_personnummer")
    except RowError:
        ours = None
    assert ours == _stdnum_reference(raw), raw


def test_the_column_check_of_swedish_numbers_agrees_with_the_general_path(
        db_session, create_landlord, tmp_path, monkeypatch):
    import random

    results = staged_results(monkeypatch)
    rnd = random.Random(5)
    rows = []
    for n in range(1, 401):
        century = rnd.choice(["", "19", "20"])
        number = (f"{century}{rnd.randrange(100):02d}{rnd.choice([1, 2, 12, 13]):02d}"
                  f"{rnd.choice([1, 28, 29, 31, 61, 89, 91]):02d}{rnd.choice(['', '-', '+'])}"
                  f"{rnd.randrange(10000):04d}")
        rows.append(register_row(n, hyresgast_personnummer=number))
    # Mostly bad numbers (one in ten has a right check digit): let the rows through anyway.
    monkeypatch.setattr("imports.apply.MAX_BAD_SHARE", 1.0)
    path = tmp_path / "register.csv"
    write_plain(path, rows)
    staged, general = create_landlord("STAGED"), create_landlord("ROWS")

    by_stage = apply_file(db_session, staged, path, staged=True)
    by_rows = apply_file(db_session, general, path, staged=False)

    assert [r.columnar for r in results] == [True]
    assert by_stage.errors == by_rows.errors and 20 < by_stage.added < 200
    assert register_of(db_session, staged.id) == register_of(db_session, general.id)
