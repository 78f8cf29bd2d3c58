"""A re-import counts as changed only the rows whose values differ: the same data in another
encoding, or with the newer optional columns (``avtal_till``, ``hyresgast_personnummer``,
``hyresgast2_personnummer``) added empty or left out again, leaves every other row unchanged.

An export may leave the newer columns out (what the register holds then stays); a row's
digest reads an empty cell of one as the column being absent (``RowParser.digest``, and the
column stage's copy of it), so an export that gains them empty, as the user's register with an
empty ``hyresgast_personnummer`` column did, is not "2474 changed"."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import text

from dispatch.demo import demo_register_rows
from dispatch.demo import write_register as write_demo_register
from dispatch.demo.data import fictional_phone_numbers
from imports.rows import RowParser, digest_of
from tests.imports.test_first import apply_file, register_of, staged_results, write_plain
from tests.imports.test_formats import register_row, run_import, write_register

NEWER = ["avtal_till", "hyresgast_personnummer", "hyresgast2_personnummer"]
HEADER = ["objektsnummer", "gatuadress", "postnummer", "ort", "hyra", "avtal_fran"]
VALUES = ["1", "Götgatan 1", "11846", "Stockholm", "8500", "2021-04-01"]


def _digest(header: list[str], values: list[str]) -> str:
    parser = RowParser(header)
    return parser.digest(parser.clean(values))


@pytest.mark.parametrize("newer", [NEWER[:1], NEWER[1:2], NEWER[2:], NEWER[:2], NEWER])
def test_an_empty_newer_cell_gives_the_digest_of_a_file_without_that_column(newer):
    assert _digest([*HEADER, *newer], [*VALUES, *[""] * len(newer)]) == _digest(HEADER, VALUES)
    # Also with the columns elsewhere in the file (the digest is in KNOWN's order).
    assert _digest([*newer, *HEADER], [*[""] * len(newer), *VALUES]) == _digest(HEADER, VALUES)


def test_a_newer_value_still_changes_the_digest_and_says_which_column_it_is_in():
    without = _digest(HEADER, VALUES)
    first = _digest([*HEADER, *NEWER], [*VALUES, "", "199001012385", ""])
    second = _digest([*HEADER, *NEWER], [*VALUES, "", "", "199001012385"])
    assert len({without, first, second}) == 3
    # A value in a file with fewer newer columns reads as in a file with the others empty.
    assert first == _digest([*HEADER, "avtal_till", "hyresgast_personnummer"],
                            [*VALUES, "", "199001012385"])


def test_digests_of_files_without_the_newer_columns_are_what_they_were():
    """Only the newer columns' empty cells are left out, so the digests already stored stay
    valid: the old formula (every known column the file has, empty older cells included)."""
    header = [*HEADER, "kundnummer"]
    values = [*VALUES, ""]
    # KNOWN's order: ... hyra, kundnummer, avtal_fran.
    old = digest_of("\x1f".join(["1", "Götgatan 1", "11846", "Stockholm", "8500", "",
                                  "2021-04-01"]))
    assert _digest(header, values) == old
    assert _digest([*header, *NEWER], [*values, "", "", ""]) == old


def _summary(outcome) -> tuple[int, int, int, int]:
    return outcome.added, outcome.changed, outcome.unchanged, outcome.retired


@pytest.mark.parametrize("first_path", ["column stage", "row stage", "general"])
def test_adding_or_dropping_empty_newer_columns_changes_only_rows_whose_values_differ(
        db_session, create_landlord, tmp_path, monkeypatch, first_path):
    """The user's case on every first-import path: an export with empty personnummer (and
    avtal_till) columns, one address changed and new rows counts 1 changed, not every row;
    the older export again (no such columns) counts only that address back as changed."""
    results = staged_results(monkeypatch)
    rows = [register_row(n) for n in range(1, 41)]
    rows[7]["hyra"] = None  # an empty older cell too
    first = tmp_path / "first.csv"
    if first_path == "row stage":  # Windows-1252: not for the column stage
        write_register(tmp_path, rows, name="first", encoding="cp1252")
    else:
        write_plain(first, rows)
    landlord = create_landlord()
    outcome = apply_file(db_session, landlord, first, staged=first_path != "general")
    assert outcome.added == 40
    expected = {"general": [], "row stage": [False], "column stage": [True]}[first_path]
    assert [r.columnar for r in results] == expected

    wider = [{**row, "hyresgast_personnummer": None, "avtal_till": None} for row in rows]
    wider[2]["gatuadress"] = "Götgatan 3A"
    wider += [register_row(n, hyresgast_personnummer="199001012385") for n in (41, 42)]
    second = run_import(db_session, landlord, write_register(
        tmp_path, wider, name="wider", encoding="cp1252"))
    assert second.status == "accepted"
    assert _summary(second) == (2, 1, 39, 0)

    again = run_import(db_session, landlord, write_register(tmp_path, wider[:40],
                                                            name="older", encoding="utf-8-sig"))
    assert _summary(again) == (0, 0, 40, 2)  # the two new rows retired, nothing changed

    back = [{k: v for k, v in row.items() if k not in NEWER} for row in rows]
    third = run_import(db_session, landlord, write_register(tmp_path, back, name="back"))
    assert _summary(third) == (0, 1, 39, 0)  # only Götgatan 3A → 3


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-8-sig"])
def test_the_demo_register_again_with_an_empty_personnummer_column_changes_nothing(
        db_session, create_landlord, tmp_path, encoding):
    """The demo's own register (``dispatch demo``'s writer, UTF-8 with BOM, no personnummer
    column) and then the same rows in any accepted encoding with an empty
    ``hyresgast_personnummer`` column: every row unchanged, both ways."""
    phones = fictional_phone_numbers()
    random.Random(3).shuffle(phones)
    rows = list(demo_register_rows(1, random.Random(3), phones))
    demo = tmp_path / "register-demo.csv"
    write_demo_register(demo, rows)
    landlord = create_landlord()
    assert run_import(db_session, landlord, demo).added == len(rows)
    before = register_of(db_session, landlord.id)

    wider = [{**row, "hyresgast_personnummer": None} for row in rows]
    outcome = run_import(db_session, landlord, write_register(
        tmp_path, wider, name="wider", encoding=encoding))
    assert outcome.status == "accepted"
    assert _summary(outcome) == (0, 0, len(rows), 0)
    assert register_of(db_session, landlord.id) == before

    rewritten = tmp_path / "register-demo-again.csv"
    rewritten.write_text(demo.read_text(encoding="utf-8-sig"), encoding=encoding, newline="")
    assert _summary(run_import(db_session, landlord, rewritten, dry_run=True)) == (
        0, 0, len(rows), 0)


def _personnummer(session, landlord_id: int) -> dict:
    return dict(session.execute(text(
        "SELECT kundnummer, personnummer FROM people WHERE landlord_id = :l"),
        {"l": landlord_id}).all())


def test_a_number_a_row_had_and_no_longer_has_is_cleared_and_counted_as_changed(
        db_session, create_landlord, tmp_path):
    """An empty cell is a real change where the row had a number: the row is changed and the
    number goes; rows that never had one stay unchanged, and so do numbers the register got
    elsewhere (the demo's test numbers) on rows the file does not change."""
    landlord = create_landlord()
    rows = [register_row(n) for n in range(1, 11)]
    rows[0]["hyresgast_personnummer"] = "199001012385"
    run_import(db_session, landlord, write_register(tmp_path, rows, name="first"))
    db_session.execute(text("UPDATE people SET personnummer = '201701012393' "
                            "WHERE landlord_id = :l AND kundnummer = 'K00005'"),
                       {"l": landlord.id})

    rows[0]["hyresgast_personnummer"] = None
    outcome = run_import(db_session, landlord, write_register(tmp_path, rows, name="second"))
    assert _summary(outcome) == (0, 1, 9, 0)
    numbers = _personnummer(db_session, landlord.id)
    assert numbers["K00001"] is None and numbers["K00005"] == "201701012393"


def test_a_register_imported_by_earlier_code_with_empty_newer_columns_is_unchanged_too(
        db_session, create_landlord, tmp_path, monkeypatch):
    """Digests stored before empty newer cells were left out (the user's register after its
    import with the empty personnummer column) still match the same rows: the demo file
    without the column, or the same file in UTF-8, counts only real changes."""
    def earlier(parser, cleaned):  # the digest as the earlier code computed it
        return digest_of("\x1f".join(parser._pick_digest(cleaned))[:-1])

    rows = [register_row(n) for n in range(1, 21)]
    wider = [{**row, "hyresgast_personnummer": None, "avtal_till": None} for row in rows]
    landlord = create_landlord()
    with monkeypatch.context() as patch:
        patch.setattr(RowParser, "digest", earlier)
        apply_file(db_session, landlord, write_register(tmp_path, wider, name="earlier"),
                   staged=False)
    hashes = {h for (h,) in db_session.execute(text(
        "SELECT row_hash FROM objects WHERE landlord_id = :l"), {"l": landlord.id})}
    assert len(hashes) == 20

    same = run_import(db_session, landlord, write_register(
        tmp_path, wider, name="same", encoding="cp1252"), dry_run=True)
    assert _summary(same) == (0, 0, 20, 0)
    rows[4]["hyra"] = "9900"
    narrower = run_import(db_session, landlord, write_register(tmp_path, rows, name="narrower"))
    assert _summary(narrower) == (0, 1, 19, 0)
