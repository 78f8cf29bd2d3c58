"""A landlord's first register takes the staged path (imports.first: a stage process parses,
the writer copies with INSERT ... SELECT on SQLite, with COPY on PostgreSQL). It must build
exactly the register the general path builds for the same file, and keep the rules of any
import. The suite runs on SQLite and on PostgreSQL (TEST_DATABASE_URL): each test here
compares the staged path of that database with its general path."""

from __future__ import annotations

import csv
import random

import polars as pl
import pytest
from sqlalchemy import select, text

from dispatch.models import RentalObject
from imports.apply import Applier, Rejected
from imports.first import columnar, postgres, writer
from imports.readers import open_table
from tests.imports.test_formats import register_row, run_import, write_register


def on_postgres(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def varied_rows(count: int = 300, seed: int = 7) -> list[dict]:
    """Rows with every shape the format allows, a few bad ones and duplicates among them."""
    rnd = random.Random(seed)
    streets = ["Götgatan", "Ringvägen", "Åsögatan", "Sankt Eriksgatan", "1:a Långgatan"]
    rows = []
    for n in range(1, count + 1):
        entrance = rnd.randrange(12)
        street = streets[entrance % len(streets)]
        letter = rnd.choice(["", " B", "b", "B"]) if entrance % 3 == 0 else ""
        row = register_row(
            n,
            gatuadress=f"{street} {entrance + 1}{letter}",
            postnummer=rnd.choice(["118 46", "11846", " 118 46 "]),
            ort=rnd.choice(["Stockholm", " Stockholm", "Stockholm  "]),
            fastighetsbeteckning=rnd.choice([None, f"Söder {entrance}:1", f"Söder  {entrance}:1"]),
            lagenhetsnummer=rnd.choice(["1101", "1204", "0902", None]),
            vaning=rnd.choice([None, "3", "-1"]),
            portkod=rnd.choice([None, "1234", f"{entrance:04d}", "#4711"]),
            lat=rnd.choice([None, f"{59.31 + entrance / 1000:.4f}",
                            f"{59.31 + entrance / 1000:.4f}".replace(".", ",")]),
            lon=f"{18.07 + entrance / 1000:.4f}",
            rum=rnd.choice([None, "2", "2,5", "3.0"]),
            yta=rnd.choice([None, "61,5", "70", "1 204,25"]),
            hyra=rnd.choice(["8500", "8 500,50", None]),
            objektstyp=rnd.choice([None, "Lägenhet", "lgh", "LOKAL", "parkering", "förråd"]),
            avtalsnummer=rnd.choice([f"A{n:05d}", f"A{n:05d}", f"A{n // 3:05d}", None]),
            kundnummer=rnd.choice([f"K{n:05d}", f"K{n % 40:05d}", None]),
            hyresgast_namn=rnd.choice([f"Anna  Lindqvist {n}", None, f"Björn Ek {n}"]),
            hyresgast_telefon=rnd.choice([f"070-{n:07d}", f"+46 70 {n:07d}", None,
                                          f"+358 40 {n:07d}"]),
            hyresgast_epost=rnd.choice([None, f"Anna.{n}@Example.SE"]),
            hyresgast2_namn=rnd.choice([None, None, f"Cecilia Berg {n}"]),
            hyresgast2_telefon=rnd.choice([None, f"08-{n:06d}"]),
            avtal_fran=rnd.choice([None, "2019-04-01", "2021-12-31T00:00:00"]),
            avtal_till=rnd.choice([None, None, "2026-02-28", "2027-03-31T00:00:00"]),
            hyresgast_personnummer=rnd.choice(SWEDISH_TEST_NUMBERS + FINNISH_TEST_NUMBERS
                                              + [None]),
            hyresgast2_personnummer=rnd.choice([None, None, "19130401+2931", "131052-308T"]),
        )
        if row["lat"] is None:
            row["lon"] = None
            if rnd.random() < 0.5:  # SWEREF 99 TM instead
                row["sweref_n"], row["sweref_e"] = "6580822", rnd.choice(["674032", "674 032"])
        rows.append(row)
    # Bad rows (well under 5 percent) and duplicates.
    rows[10]["postnummer"] = "1184"
    rows[20]["hyresgast_telefon"] = "12"
    rows[30]["objektsnummer"] = rows[5]["objektsnummer"]
    rows[40]["lat"], rows[40]["lon"] = "12.5", "18.07"
    rows[50]["sweref_n"], rows[50]["sweref_e"], rows[50]["lat"], rows[50]["lon"] = (
        "6200000", "150000", None, None)  # in SWEREF's range, off the map (Denmark)
    rows[60]["hyra"] = "åtta tusen"
    rows[70]["avtal_fran"] = "2021-02-30"
    rows[80]["objektsnummer"] = "  "
    rows[90]["lagenhetsnummer"] = "12"
    rows[100]["hyresgast_epost"] = "inte en adress"
    rows[110]["objektsnummer"] = rows[20]["objektsnummer"]  # the first of them was bad
    rows[120]["hyresgast_personnummer"] = "19900101-2386"  # a wrong check digit
    rows[130]["avtal_till"] = "2026-02-30"
    rows[140]["hyresgast2_personnummer"] = "131052-308X"
    return rows


# Skatteverket's and DVV's published test numbers (../shared/domain-rules.md), in the ways
# registers write them: with or without century and hyphen, a samordningsnummer, a centenarian.
SWEDISH_TEST_NUMBERS = ["199001012385", "19900101-2385", "900101-2385", "201701012393",
                        "199908072391", "200002292399", "701063-2391", "19130401+2931"]
FINNISH_TEST_NUMBERS = ["131052-308T", "010594Y9032", "131052-308t"]


def register_of(session, landlord_id: int) -> dict:
    """The landlord's whole register, with every id replaced by what identifies it."""
    def rows(sql: str) -> list[tuple]:
        return [tuple(r) for r in session.execute(text(sql), {"l": landlord_id})]

    objects = rows(
        "SELECT o.objektsnummer, o.object_type, o.lagenhetsnummer, o.floor, o.rooms, "
        "o.area_m2, o.rent_sek, o.row_hash, o.retired_at IS NULL, e.address_key "
        "FROM objects o JOIN entrances e ON e.id = o.entrance_id WHERE o.landlord_id = :l")
    entrances = rows(
        "SELECT e.address_key, e.street, e.street_number, e.street_letter, e.postnummer, e.ort, "
        "e.lat, e.lon, e.position_source, e.door_code, p.designation FROM entrances e "
        "LEFT JOIN properties p ON p.id = e.property_id WHERE e.landlord_id = :l")
    properties = rows("SELECT designation FROM properties WHERE landlord_id = :l")
    links = rows(
        "SELECT a.id, o.objektsnummer, ao.ends_on FROM agreement_objects ao "
        "JOIN agreements a ON a.id = ao.agreement_id JOIN objects o ON o.id = ao.object_id "
        "WHERE a.landlord_id = :l")
    parties = rows(
        "SELECT ap.agreement_id, ap.position, p.name, p.phone, p.email, p.kundnummer, "
        "p.personnummer "
        "FROM agreement_parties ap JOIN people p ON p.id = ap.person_id "
        "JOIN agreements a ON a.id = ap.agreement_id WHERE a.landlord_id = :l")
    agreements = {}
    for agreement_id, number, starts_on, ends_on in rows(
            "SELECT id, avtalsnummer, starts_on, ends_on FROM agreements WHERE landlord_id = :l"):
        agreements[agreement_id] = [number, starts_on, ends_on, set(), set()]
    for agreement_id, objektsnummer, ends_on in links:
        agreements[agreement_id][3].add((objektsnummer, ends_on))
    for agreement_id, *party in parties:
        agreements[agreement_id][4].add(tuple(party))
    people = rows("SELECT name, phone, email, kundnummer, personnummer FROM people "
                  "WHERE landlord_id = :l")
    return {
        "objects": sorted(objects, key=repr),
        "entrances": sorted(entrances, key=repr),
        "properties": sorted(properties),
        "agreements": sorted(
            (repr((n, s, e, sorted(o, key=repr), sorted(p, key=repr)))
             for n, s, e, o, p in agreements.values())),
        "people": sorted(people, key=repr),
    }


def apply_file(session, landlord, path, *, staged: bool):
    table = open_table(path)
    try:
        applier = Applier(session, landlord, staged=staged)
        applier.run(table)
    finally:
        table.close()
    session.flush()
    return applier.outcome


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_staged_first_import_builds_the_register_the_general_path_builds(
        db_session, create_landlord, tmp_path, monkeypatch, fmt):
    results = staged_results(monkeypatch)
    rows = varied_rows()
    path = write_register(tmp_path, rows, fmt=fmt)
    staged, general = create_landlord("STAGED"), create_landlord("ROWS")

    by_stage = apply_file(db_session, staged, path, staged=True)
    by_rows = apply_file(db_session, general, path, staged=False)

    assert by_stage.errors == by_rows.errors
    assert [line for line, _c, _r in by_stage.errors] == [*range(12, 103, 10), 122, 132, 142]
    assert (by_stage.rows, by_stage.added, by_stage.not_placed) == (
        by_rows.rows, by_rows.added, by_rows.not_placed)
    assert register_of(db_session, staged.id) == register_of(db_session, general.id)
    assert by_stage.added == 287
    assert [r.columnar for r in results] == [fmt == "csv"]  # the staged side was staged


def test_the_staged_path_is_taken_for_a_first_register_only(db_session, create_landlord,
                                                             tmp_path, monkeypatch):
    results = staged_results(monkeypatch)
    landlord = create_landlord()

    def row(i: int, **values) -> dict:
        return register_row(i, fastighetsbeteckning=f"Söder {i % 3}:1",
                            hyresgast2_namn=f"Bo Ek {i}" if i % 2 else None, **values)

    rows = [row(i) for i in range(1, 21)]
    path = write_register(tmp_path, rows)

    run_import(db_session, landlord, path)
    rows[3] = row(4, hyra="9100")
    # New rows on the general path: new ids from the sequences (PostgreSQL) or past the
    # largest (SQLite), which must not meet the ids the staged path used.
    rows += [row(i, gatuadress=f"Ringvägen {i}") for i in (21, 22)]
    rows[-1]["fastighetsbeteckning"] = "Ring 1:1"
    summary = run_import(db_session, landlord, write_register(tmp_path, rows, name="second"))

    assert len(results) == 1
    assert (summary.added, summary.changed, summary.unchanged) == (2, 1, 19)
    obj = db_session.scalar(
        select(RentalObject).where(RentalObject.objektsnummer == "1234-01-0004"))
    assert float(obj.rent_sek) == 9100
    register = register_of(db_session, landlord.id)
    assert (len(register["people"]), len(register["properties"])) == (33, 4)


def test_a_first_import_that_breaks_a_rule_leaves_no_register(db_session, create_landlord,
                                                              tmp_path):
    landlord = create_landlord()
    rows = [register_row(i) for i in range(1, 101)]
    for i in range(0, 60, 10):
        rows[i]["postnummer"] = "1"  # 6 of 100 rows bad: more than 5 percent

    summary = run_import(db_session, landlord, write_register(tmp_path, rows))

    assert (summary.status, summary.reason, summary.skipped) == ("rejected", "too_many_errors", 6)
    assert register_of(db_session, landlord.id)["objects"] == []


def test_a_file_that_cannot_be_read_to_its_end_raises_and_writes_nothing(
        db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    path = write_register(tmp_path, [register_row(i) for i in range(1, 5000)])
    with path.open("a", encoding="utf-8", newline="") as f:  # a cell csv will not read
        f.write("1234-99-0001;Storgatan 1;118 46;" + "x" * 200_000 + "\r\n")

    table = open_table(path)
    with pytest.raises(csv.Error):
        Applier(db_session, landlord).run(table)
    table.close()

    assert register_of(db_session, landlord.id)["objects"] == []


def test_a_dry_run_of_a_first_import_reports_everything_and_keeps_nothing(
        db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    summary = run_import(db_session, landlord,
                         write_register(tmp_path, [register_row(i) for i in range(1, 31)]),
                         dry_run=True)

    assert (summary.status, summary.added, summary.dry_run) == ("accepted", 30, True)
    assert register_of(db_session, landlord.id)["objects"] == []


def test_rejected_is_raised_for_an_empty_first_file(db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    path = tmp_path / "empty.csv"
    path.write_text("objektsnummer;gatuadress;postnummer;ort\r\n", encoding="utf-8")
    table = open_table(path)
    with pytest.raises(Rejected):
        Applier(db_session, landlord).run(table)
    table.close()


# -- the column-at-a-time stage (imports.first.columnar) --------------------------------------

def staged_results(monkeypatch) -> list:
    """Collects what every staged import's stage process returned (on either database)."""
    results = []
    real = writer.run_stage

    def spy(*args, **kwargs):
        staged = real(*args, **kwargs)
        results.append(staged)
        return staged

    monkeypatch.setattr(writer, "run_stage", spy)
    return results


def write_plain(path, rows: list[dict], *, delimiter=";", eol="\r\n", bom=False,
                extra_lines=()) -> None:
    """A CSV file written by hand (no quoting), with ``extra_lines`` (lists of cells) after
    the rows: short rows, long rows, rows of empty cells, as exports have them."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = [delimiter.join(columns)]
    lines += [delimiter.join("" if row.get(c) is None else str(row[c]) for c in columns)
              for row in rows]
    lines += [delimiter.join(cells) for cells in extra_lines]
    path.write_text(("\ufeff" if bom else "") + eol.join(lines) + eol, encoding="utf-8",
                    newline="")


def awkward_rows() -> list[dict]:
    """Values a column check must not judge differently from RowParser."""
    rows = varied_rows(300, seed=11)
    rows[1]["hyresgast_namn"] = "Anna\x1cBerg"          # str.strip/split treat 0x1C as space
    rows[2]["hyresgast_namn"] = "\x1f Bo Ek"
    rows[3]["hyresgast_epost"] = "Åsa.Öst@Exempel.SE"   # not ASCII: lower() decides
    rows[4]["hyresgast_telefon"] = "+358 40 123 4567"   # Finnish
    rows[5]["hyresgast_telefon"] = "(08) 123 45 67"
    rows[6]["hyresgast_telefon"] = "070\u00a0123\u00a045\u00a067"
    rows[7]["gatuadress"] = "Götgatan\u00a012\u00a0B"
    rows[8]["hyresgast_namn"] = "\u2003Cecilia\u2003 Berg "
    rows[9]["portkod"] = " 12 34 "
    rows[12]["hyresgast2_namn"], rows[12]["hyresgast_namn"] = "Dag Ek", None
    rows[12]["hyresgast_telefon"] = rows[12]["hyresgast_epost"] = None
    rows[13]["objektstyp"] = "Förråd"
    rows[14]["lagenhetsnummer"] = "١٢٠١"                 # Arabic-Indic digits: \d matches
    rows[15]["hyresgast_telefon"] = "070-١٢٣٤٥٦٧"
    rows[16]["hyra"], rows[16]["yta"] = "08500", "0,00000001"   # str(Decimal): 8500, 1E-8
    rows[17]["avtal_fran"], rows[17]["rum"] = "0999-01-01", "-2"
    rows[18]["lat"], rows[18]["lon"] = "+59.3150", "18.0710"    # float() takes a plus
    rows[19]["hyresgast_personnummer"] = "\u2003900101-2385 "   # spaces around it
    rows[21]["hyresgast_personnummer"] = "9001012385"           # no hyphen, no century
    rows[22]["hyresgast_namn"] = rows[22]["hyresgast_telefon"] = None
    rows[22]["hyresgast_epost"] = None                          # a tenant by number alone
    rows[22]["hyresgast_personnummer"] = "199908072391"
    rows[23]["avtal_till"] = "2026-2-28"                        # not ISO: an error
    return rows


@pytest.mark.parametrize(("delimiter", "eol", "bom", "block"), [
    (";", "\r\n", False, None), ("\t", "\n", True, None), (";", "\n", True, None),
    (";", "\r\n", False, "1500"), ("\t", "\n", True, "777")])
def test_the_column_stage_builds_the_register_the_general_path_builds(
        db_session, create_landlord, tmp_path, monkeypatch, delimiter, eol, bom, block):
    # With small blocks, entrances, agreements, kundnummer and duplicates span blocks.
    if block:
        monkeypatch.setenv("DISPATCH_IMPORT_BLOCK_BYTES", block)
    results = staged_results(monkeypatch)
    rows = awkward_rows()
    width = len(dict.fromkeys(key for row in rows for key in row))
    path = tmp_path / "register.csv"
    write_plain(path, rows, delimiter=delimiter, eol=eol, bom=bom, extra_lines=[
        [""] * width,                                            # a row of empty cells
        ["  "] + [""] * (width - 1),                             # spaces only
        ["9999-01-0001", "Ringvägen 3", "118 46", "Stockholm"],  # short: the rest empty
        list(register_row(9998).values())[:4] + [""] * (width - 4) + ["extra", "cells"],
    ])
    staged, general = create_landlord("STAGED"), create_landlord("ROWS")

    by_stage = apply_file(db_session, staged, path, staged=True)
    by_rows = apply_file(db_session, general, path, staged=False)

    assert [r.columnar for r in results] == [True]
    assert by_stage.errors == by_rows.errors
    assert (by_stage.rows, by_stage.added, by_stage.not_placed) == (
        by_rows.rows, by_rows.added, by_rows.not_placed)
    assert register_of(db_session, staged.id) == register_of(db_session, general.id)
    assert by_stage.added > 100


@pytest.mark.parametrize("variant", ["quoted", "cp1252", "blank line", "bare CR"])
def test_a_file_polars_would_read_differently_is_staged_row_by_row(
        db_session, create_landlord, tmp_path, monkeypatch, variant):
    results = staged_results(monkeypatch)
    rows = [register_row(i) for i in range(1, 41)]
    path = tmp_path / "register.csv"
    if variant == "quoted":  # a quoted cell with the delimiter and a line break in it
        rows[3]["hyresgast_namn"] = "Ek; Bo\r\noch Berg"
        path = write_register(tmp_path, rows)
    elif variant == "cp1252":
        path = write_register(tmp_path, rows, encoding="cp1252")
    else:
        write_plain(path, rows)
        data = path.read_bytes()
        cut = data.index(b"\r\n", 500)
        path.write_bytes(data[:cut] + (b"\r\n\r\n" if variant == "blank line" else b"\r")
                         + data[cut + 2:])
    staged, general = create_landlord("STAGED"), create_landlord("ROWS")

    by_stage = apply_file(db_session, staged, path, staged=True)
    by_rows = apply_file(db_session, general, path, staged=False)

    assert [r.columnar for r in results] == [False]
    assert by_stage.errors == by_rows.errors
    assert register_of(db_session, staged.id) == register_of(db_session, general.id)


def test_the_column_stage_strips_exactly_what_str_strip_strips():
    assert set(columnar.PY_SPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


@pytest.mark.parametrize(("body", "is_columnar"), [
    (b"a;b\r\n1;2\r\n3;4\r\n", True),
    (b"a;b\n1;2\n3;4", True),
    (b"a;b\r\n1;2\r3;4\r\n", False),       # a bare CR ends a line for csv, not for polars
    (b"a;b\r\n1;2\r\n3;4\r", False),
    (b"a;b\r\n1;2\r\n\r\n3;4\r\n", False),  # a blank line: csv counts it, polars skips it
    (b"a;b\n1;2\n\n3;4\n", False),
    (b'a;b\r\n1;"2"\r\n', False),           # quoting
    (b"\r\na;b\r\n1;2\r\n", False),         # the header is not on the first line
])
@pytest.mark.parametrize("scan", [3, 4, 5, 1 << 20])
def test_only_a_file_polars_reads_as_csv_does_goes_to_the_column_stage(
        tmp_path, monkeypatch, body, is_columnar, scan):
    monkeypatch.setattr(columnar, "SCAN", scan)  # blocks that split CRLF and blank lines
    path = tmp_path / "register.csv"
    path.write_bytes(body)
    table = open_table(path)
    table.close()
    if is_columnar:
        columnar.check_file(table)
    else:
        with pytest.raises(columnar.NotColumnar):
            columnar.check_file(table)


@pytest.mark.parametrize("body", [
    "objektsnummer;gatuadress\r\n1;Götgatan 1\r\n".encode(),
    "\ufeffobjektsnummer\tgatuadress\n1\tGötgatan 1\n".encode(),
    "objektsnummer,gatuadress,ort\n1,Götgatan 1,Sthlm\n".encode(),
])
def test_the_column_stage_reads_the_header_as_open_table_does(tmp_path, body):
    path = tmp_path / "register.csv"
    path.write_bytes(body)
    table = open_table(path)
    table.close()
    plain = columnar.open_plain(path)
    assert (plain.kind, plain.encoding, plain.delimiter, plain.header) == (
        table.kind, table.encoding, table.delimiter, table.header)
    columnar.check_file(plain)


@pytest.mark.parametrize("scan", [4, 1 << 20])
@pytest.mark.parametrize("body", [
    "objektsnummer;gatuadress\r\n1;Götgatan 1\r\n".encode("cp1252"),  # Windows-1252
    b"objektsnummer;gatuadress\r\n1;G\xf6tgatan 1\r\n",  # a plain header, then a 1252 byte
])
def test_a_file_that_is_not_utf8_throughout_is_not_for_the_column_stage(
        tmp_path, monkeypatch, body, scan):
    monkeypatch.setattr(columnar, "SCAN", scan)
    path = tmp_path / "register.csv"
    path.write_bytes(body)
    with pytest.raises(columnar.NotColumnar):
        columnar.check_file(columnar.open_plain(path))


def test_an_xlsx_file_is_not_for_the_column_stage(tmp_path):
    path = tmp_path / "register.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(columnar.NotColumnar):
        columnar.open_plain(path)


def test_a_stage_that_fails_after_chunks_were_copied_leaves_no_register(
        db_session, create_landlord, tmp_path, monkeypatch):
    monkeypatch.setenv("DISPATCH_IMPORT_BLOCK_BYTES", "2000")  # many chunks before the bad one
    landlord = create_landlord()
    path = tmp_path / "register.csv"
    write_plain(path, [register_row(i) for i in range(1, 200)])
    with path.open("a", encoding="utf-8", newline="") as f:  # a cell csv will not read
        f.write("1234-99-0001;Storgatan 1;118 46;" + "x" * 200_000 + "\r\n")
    loaded = []
    real = writer.run_stage
    monkeypatch.setattr(writer, "run_stage", lambda path, output, load, progress=None, **kw: real(
        path, output, lambda *chunk: loaded.append(1) or load(*chunk), progress, **kw))

    with pytest.raises(csv.Error):
        run_import(db_session, landlord, path)

    assert len(loaded) > 5
    assert register_of(db_session, landlord.id)["objects"] == []


# -- PostgreSQL: ids drawn from the sequences (imports.first.postgres) ----------------------

def test_an_id_map_follows_the_runs_the_sequence_gave():
    ids = postgres.IdMap()
    ids.add([(101, 3)])
    ids.add([(104, 2), (200, 2)])  # the first run goes on where the last one stopped

    assert [ids(n) for n in range(7)] == [101, 102, 103, 104, 105, 200, 201]
    assert (ids.locals, ids.offsets) == ([0, 5], [101, 195])
    numbers = pl.Series([0, None, 5, 6, 4, 2], dtype=pl.Int64)
    assert ids.series(pl, numbers).to_list() == [101, None, 200, 201, 105, 103]
    one = postgres.IdMap()
    one.add([(7, 2)])
    assert one.series(pl, numbers.head(2)).to_list() == [7, None]


@pytest.mark.postgres_only  # ids from sequences
def test_ids_others_draw_meanwhile_leave_gaps_and_the_same_register(
        db_session, create_landlord, tmp_path, monkeypatch, request):
    monkeypatch.setenv("DISPATCH_IMPORT_BLOCK_BYTES", "1500")
    sequences = {name: db_session.execute(
        text(f"SELECT pg_get_serial_sequence('{name}', 'id')")).scalar()
        for name in postgres.ID_TABLES}
    real_reserve = postgres.Copier._reserve
    other = db_session.connection().engine.connect()  # another session
    request.addfinalizer(other.close)

    def reserve(copier, new):  # the other session draws from every sequence in between
        with other.begin():
            for sequence in sequences.values():
                other.execute(text("SELECT nextval(:s) FROM generate_series(1, 3)"),
                              {"s": sequence})
        real_reserve(copier, new)

    monkeypatch.setattr(postgres.Copier, "_reserve", reserve)
    maps = []
    real_copy = postgres.copy_staged
    monkeypatch.setattr(postgres, "copy_staged",
                        lambda *a, **k: (lambda r: maps.append(r[1]) or r)(real_copy(*a, **k)))
    rows = awkward_rows()
    path = tmp_path / "register.csv"
    write_plain(path, rows)
    staged, general = create_landlord("STAGED"), create_landlord("ROWS")

    by_stage = apply_file(db_session, staged, path, staged=True)
    by_rows = apply_file(db_session, general, path, staged=False)

    assert len(maps) == 1
    assert all(len(maps[0][name].offsets) > 1 for name in postgres.ID_TABLES)  # gaps
    assert by_stage.errors == by_rows.errors
    assert register_of(db_session, staged.id) == register_of(db_session, general.id)
    for name, sequence in sequences.items():  # every id used was drawn from its sequence
        largest = db_session.execute(text(
            f"SELECT max(id) FROM {name} WHERE landlord_id = :l"), {"l": staged.id}).scalar()  # noqa: S608
        last = db_session.execute(text(f"SELECT last_value FROM {sequence}")).scalar()  # noqa: S608
        assert largest is not None and last >= largest
