"""Register import: the file variants register-format.md promises to accept.

The helpers at the top (building a register file from dicts, running an import, reading the
register back) are shared by the other ``test_import_*`` modules.
"""

from __future__ import annotations

import codecs
import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text

from dispatch.models import Agreement, AgreementObject, Entrance, Person, RentalObject
from imports.apply import Applier
from imports.readers import open_table
from imports.service import import_register
from imports.summary import Summary

# -- helpers shared by the test_import_* modules -----------------------------------------


def register_row(n: int, **values) -> dict:
    """A valid register row for object ``n`` (its own address, tenant and agreement);
    ``values`` override or add columns (a value of None leaves the cell empty)."""
    row = {
        "objektsnummer": f"1234-01-{n:04d}",
        "gatuadress": f"Götgatan {n}",
        "postnummer": "118 46",
        "ort": "Stockholm",
        "lagenhetsnummer": "1102",
        "lat": f"{59.31 + n / 10000:.4f}",
        "lon": "18.0713",
        "hyra": "8500",
        "avtalsnummer": f"A{n:05d}",
        "kundnummer": f"K{n:05d}",
        "hyresgast_namn": f"Anna Lindqvist {n}",
        "hyresgast_telefon": f"070-{n:07d}",
    }
    row.update(values)
    return row


def e164(n: int) -> str:
    """The stored form of ``register_row(n)``'s tenant phone number."""
    return f"+4670{n:07d}"


def write_register(
    directory: Path,
    rows: list[dict],
    *,
    name: str = "register",
    fmt: str = "csv",
    encoding: str = "utf-8",
    delimiter: str = ";",
    columns: list[str] | None = None,
) -> Path:
    """Write ``rows`` as a register file in ``directory`` and return its path.

    The header is ``columns`` or, by default, every key of the rows in order of first
    appearance, written exactly as given (so a test can spell a column `` LÄGENHETSNUMMER ``).
    CSV values are written with ``str``; XLSX cells keep their Python type (float, int,
    datetime), as a spreadsheet holds them. None is an empty cell.
    """
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    table = [list(columns)] + [[row.get(c) for c in columns] for row in rows]
    if fmt == "xlsx":
        from openpyxl import Workbook

        path = directory / f"{name}.xlsx"
        workbook = Workbook()
        sheet = workbook.active
        for values in table:
            sheet.append(values)
        workbook.save(path)
        return path
    assert fmt == "csv", fmt
    path = directory / f"{name}.csv"
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, delimiter=delimiter, lineterminator="\r\n")
        for values in table:
            writer.writerow(["" if v is None else str(v) for v in values])
    return path


def run_import(session, landlord, path: Path, **options) -> Summary:
    """``import_register`` as the CLI calls it, then a flush (the caller commits)."""
    options.setdefault("actor", "test")
    summary = import_register(session, landlord, path, **options)
    session.flush()
    return summary


def _rows(session, sql: str, landlord_id: int) -> list[tuple]:
    return sorted((tuple(r) for r in session.execute(text(sql), {"l": landlord_id})), key=repr)


def register_state(session, landlord_id: int) -> dict:
    """Everything an import may change for one landlord, read with SQL (no ORM cache)."""
    session.expire_all()
    return {
        "objects": _rows(session, "SELECT id, objektsnummer, entrance_id, object_type, "
                         "lagenhetsnummer, floor, rooms, area_m2, rent_sek, row_hash, retired_at, "
                         "updated_at FROM objects WHERE landlord_id = :l", landlord_id),
        "entrances": _rows(session, "SELECT id, street, street_number, street_letter, postnummer, "
                           "ort, address_key, lat, lon, position_source, door_code "
                           "FROM entrances WHERE landlord_id = :l", landlord_id),
        "properties": _rows(session, "SELECT id, designation FROM properties "
                            "WHERE landlord_id = :l", landlord_id),
        "people": _rows(session, "SELECT id, name, phone, email, kundnummer, updated_at "
                        "FROM people WHERE landlord_id = :l", landlord_id),
        "agreements": _rows(session, "SELECT id, avtalsnummer, starts_on, ends_on "
                            "FROM agreements WHERE landlord_id = :l", landlord_id),
        "links": _rows(session, "SELECT ao.agreement_id, ao.object_id FROM agreement_objects ao "
                       "JOIN agreements a ON a.id = ao.agreement_id WHERE a.landlord_id = :l",
                       landlord_id),
        "parties": _rows(session, "SELECT p.agreement_id, p.person_id, p.position "
                         "FROM agreement_parties p JOIN agreements a ON a.id = p.agreement_id "
                         "WHERE a.landlord_id = :l", landlord_id),
        "version": session.scalar(text("SELECT register_version FROM landlords WHERE id = :l"),
                                  {"l": landlord_id}),
    }


def objects_by_number(session, landlord_id: int) -> dict[str, RentalObject]:
    """The landlord's objects (retired ones too), by objektsnummer, freshly loaded."""
    session.expire_all()
    return {o.objektsnummer: o for o in session.scalars(
        select(RentalObject).where(RentalObject.landlord_id == landlord_id))}


def entrances_of(session, landlord_id: int) -> list[Entrance]:
    session.expire_all()
    return list(session.scalars(select(Entrance).where(Entrance.landlord_id == landlord_id)
                                .order_by(Entrance.id)))


def assert_accepted(summary: Summary) -> None:
    assert summary.status == "accepted", (summary.reason, summary.message, summary.errors)
    assert summary.errors == [], summary.errors


def registered(session, landlord, directory: Path, rows: list[dict]) -> dict:
    """Import ``rows`` as ``landlord``'s register, check that it was accepted, and return the
    register's state after it (``register_state``)."""
    assert_accepted(run_import(session, landlord, write_register(directory, rows)))
    return register_state(session, landlord.id)


# -- container: encodings, delimiters, XLSX ----------------------------------------------

SWEDISH_ADDRESSES = [
    ("Åsögatan 5", "Västerås"),
    ("Ängsvägen 12 B", "Örebro"),
    ("Östra Ågatan 3", "Uppsala"),
    ("Hälsingegatan 40", "Skövde"),
]


def test_windows_1252_file_keeps_swedish_letters_in_street_and_ort(db_session, create_landlord,
                                                                    tmp_path):
    landlord = create_landlord()
    rows = [register_row(i, gatuadress=street, ort=ort, hyresgast_namn="Åke Öhrström")
            for i, (street, ort) in enumerate(SWEDISH_ADDRESSES, start=1)]
    path = write_register(tmp_path, rows, encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the file really is Windows-1252, not UTF-8

    summary = run_import(db_session, landlord, path)

    assert_accepted(summary)
    stored = {(e.street_address, e.ort) for e in entrances_of(db_session, landlord.id)}
    assert stored == {("Åsögatan 5", "Västerås"), ("Ängsvägen 12B", "Örebro"),
                      ("Östra Ågatan 3", "Uppsala"), ("Hälsingegatan 40", "Skövde")}
    names = set(db_session.scalars(select(Person.name).where(Person.landlord_id == landlord.id)))
    assert names == {"Åke Öhrström"}


def test_utf8_bom_does_not_hide_the_first_column(db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    rows = [register_row(i, gatuadress="Sörgårdsvägen 7") for i in (1, 2)]
    path = write_register(tmp_path, rows, encoding="utf-8-sig")
    assert path.read_bytes().startswith(codecs.BOM_UTF8 + b"objektsnummer;")  # BOM + 1st column

    summary = run_import(db_session, landlord, path)

    assert_accepted(summary)
    assert summary.warnings == []
    assert set(objects_by_number(db_session, landlord.id)) == {"1234-01-0001", "1234-01-0002"}
    assert [e.street for e in entrances_of(db_session, landlord.id)] == ["Sörgårdsvägen"]


@pytest.mark.parametrize("delimiter", [";", ",", "\t"], ids=["semicolon", "comma", "tab"])
def test_each_delimiter_is_detected(db_session, create_landlord, tmp_path, delimiter):
    landlord = create_landlord()
    rows = [register_row(i, gatuadress=f"Ringvägen {100 + i} A", fastighetsbeteckning="Söder 12:34",
                         yta="62,5") for i in (1, 2, 3)]
    path = write_register(tmp_path, rows, delimiter=delimiter)

    summary = run_import(db_session, landlord, path)

    assert_accepted(summary)
    assert (summary.rows, summary.added) == (3, 3)
    objects = objects_by_number(db_session, landlord.id)
    assert objects["1234-01-0002"].entrance.street_address == "Ringvägen 102A"
    assert objects["1234-01-0002"].area_m2 == Decimal("62.5")
    assert objects["1234-01-0003"].entrance.real_property.designation == "Söder 12:34"


def test_xlsx_with_numeric_and_date_cells(db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    rows = [
        register_row(1, postnummer=11846, lat=59.3121, lon=18.0713, yta=62.5, rum=2, hyra=8450,
                     lagenhetsnummer=1102, avtal_fran=datetime(2021, 4, 1)),
        register_row(2, postnummer="118 46", lat=59.3125, lon=18.0719, yta=48, rum=1.5,
                     avtal_fran=datetime(2019, 10, 1, 0, 0)),
    ]
    path = write_register(tmp_path, rows, fmt="xlsx")

    summary = run_import(db_session, landlord, path)

    assert_accepted(summary)
    objects = objects_by_number(db_session, landlord.id)
    first, second = objects["1234-01-0001"], objects["1234-01-0002"]
    assert first.entrance.postnummer == "11846" == second.entrance.postnummer
    assert (first.entrance.lat, first.entrance.lon) == pytest.approx((59.3121, 18.0713))
    assert (first.area_m2, first.rooms, first.rent_sek) == (Decimal("62.5"), 2, 8450)
    assert second.rooms == Decimal("1.5")
    assert (first.lagenhetsnummer, first.floor) == ("1102", 1)
    starts = dict(db_session.execute(
        select(AgreementObject.object_id, Agreement.starts_on)
        .join(Agreement, Agreement.id == AgreementObject.agreement_id)).all())
    assert starts[first.id] == date(2021, 4, 1)
    assert starts[second.id] == date(2019, 10, 1)


# -- header ---------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", [" LÄGENHETSNUMMER ", "Lägenhetsnummer", "lagenhetsnummer"])
def test_header_names_ignore_case_spaces_and_swedish_letters(db_session, create_landlord,
                                                             tmp_path, spelling):
    landlord = create_landlord()
    row = {" Objektsnummer": "1234-01-1102", "GATUADRESS ": "Götgatan 12B", "Postnummer": "118 46",
           "ORT": "Stockholm", spelling: "1302", "Hyresgäst_Telefon": "070-123 45 67",
           "Hyresgäst namn": "Anna Lindqvist"}
    path = write_register(tmp_path, [row])

    summary = run_import(db_session, landlord, path)

    assert_accepted(summary)
    assert summary.warnings == []
    obj = objects_by_number(db_session, landlord.id)["1234-01-1102"]
    assert (obj.lagenhetsnummer, obj.floor) == ("1302", 3)
    person = db_session.scalar(select(Person).where(Person.landlord_id == landlord.id))
    assert (person.name, person.phone) == ("Anna Lindqvist", "+46701234567")


def test_unknown_columns_are_ignored_and_listed_in_a_warning(db_session, create_landlord,
                                                             tmp_path):
    landlord = create_landlord()
    rows = [register_row(i, **{"Färg på dörren": "röd", "Anteckning": "x"}) for i in (1, 2)]
    path = write_register(tmp_path, rows)

    summary = run_import(db_session, landlord, path)

    assert_accepted(summary)
    assert summary.added == 2
    assert len(summary.warnings) == 1
    assert "Färg på dörren" in summary.warnings[0] and "Anteckning" in summary.warnings[0]
    assert "objektsnummer" not in summary.warnings[0]


@pytest.mark.parametrize("staged", [True, False], ids=["first import", "general path"])
def test_cells_past_the_header_are_not_read_as_a_column(db_session, create_landlord,
                                                         tmp_path, staged):
    landlord = create_landlord()
    path = tmp_path / "register.csv"
    path.write_text(
        "objektsnummer;gatuadress;postnummer;ort;hyresgast_namn\r\n"
        "1234-01-0001;Götgatan 1;118 46;Stockholm;Anna Ek;inte-en-epost;0\r\n",
        encoding="utf-8")
    table = open_table(path)
    applier = Applier(db_session, landlord, staged=staged)
    applier.run(table)
    table.close()

    assert (applier.outcome.errors, applier.outcome.added) == ([], 1)
    person = db_session.scalar(select(Person).where(Person.landlord_id == landlord.id))
    assert (person.name, person.email, person.phone) == ("Anna Ek", None, None)


# -- values ---------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", "\t", ","], ids=["semicolon", "tab", "comma-quoted"])
def test_decimal_commas_in_lat_lon_and_yta(db_session, create_landlord, tmp_path, delimiter):
    landlord = create_landlord()
    rows = [register_row(1, lat="59,3121", lon="18,0713", yta="62,5"),
            register_row(2, lat="59,3197", lon="18,0719", yta="1 104,25")]
    path = write_register(tmp_path, rows, delimiter=delimiter)

    summary = run_import(db_session, landlord, path)

    assert_accepted(summary)
    objects = objects_by_number(db_session, landlord.id)
    first, second = objects["1234-01-0001"], objects["1234-01-0002"]
    assert (first.entrance.lat, first.entrance.lon) == pytest.approx((59.3121, 18.0713))
    assert (second.entrance.lat, second.entrance.lon) == pytest.approx((59.3197, 18.0719))
    assert (first.area_m2, second.area_m2) == (Decimal("62.5"), Decimal("1104.25"))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_sweref_99_tm_coordinates_are_converted_to_wgs84(db_session, create_landlord, tmp_path,
                                                         fmt):
    landlord = create_landlord()
    numeric = fmt == "xlsx"
    rows = [
        register_row(1, gatuadress="Sergels torg 1", lat=None, lon=None,
                     sweref_n=6581100.5 if numeric else "6581100,5",
                     sweref_e=674344.6 if numeric else "674344,6"),
        register_row(2, gatuadress="Slussplan 1", lat=None, lon=None,
                     sweref_n=6579683.4 if numeric else "6 579 683.4",
                     sweref_e=674808.8 if numeric else "674 808.8"),
    ]
    path = write_register(tmp_path, rows, fmt=fmt)

    summary = run_import(db_session, landlord, path)

    assert_accepted(summary)
    assert summary.not_placed == 0
    placed = {e.street: (e.lat, e.lon) for e in entrances_of(db_session, landlord.id)}
    assert placed["Sergels torg"] == pytest.approx((59.3326, 18.0649), abs=1e-4)
    assert placed["Slussplan"] == pytest.approx((59.3197, 18.0719), abs=1e-4)


def test_sweref_coordinates_outside_sweden_and_finland_are_a_row_error(db_session,
                                                                       create_landlord, tmp_path):
    landlord = create_landlord()
    rows = [register_row(i) for i in range(1, 40)]
    # Inside SWEREF 99 TM's range, but south of the Baltic: Lithuania, 54.8 N 22.8 E.
    rows.append(register_row(40, lat=None, lon=None, sweref_n=6_100_000, sweref_e=1_000_000))
    path = write_register(tmp_path, rows)

    summary = run_import(db_session, landlord, path)

    assert summary.status == "accepted"
    assert [(line, column) for line, column, _reason in summary.errors] == [(41, "sweref_n")]
    assert "1234-01-0040" not in objects_by_number(db_session, landlord.id)


def test_street_number_and_letter_are_split_and_one_address_is_one_entrance(
        db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    rows = [register_row(1, gatuadress="Götgatan 12 B"),
            register_row(2, gatuadress="Götgatan 12B"),
            register_row(3, gatuadress="götgatan  12 b"),
            register_row(4, gatuadress="Götgatan 12C")]
    path = write_register(tmp_path, rows)

    summary = run_import(db_session, landlord, path)

    assert_accepted(summary)
    entrances = entrances_of(db_session, landlord.id)
    assert [(e.street, e.street_number, e.street_letter, e.postnummer) for e in entrances] == [
        ("Götgatan", 12, "B", "11846"), ("Götgatan", 12, "C", "11846")]
    objects = objects_by_number(db_session, landlord.id)
    assert len({objects[f"1234-01-000{i}"].entrance_id for i in (1, 2, 3)}) == 1


@pytest.mark.parametrize(("raw", "stored"), [
    ("070-123 45 67", "+46701234567"),
    ("+46701234567", "+46701234567"),
    ("08-123 456 78", "+46812345678"),
    ("0046 8 12345678", "+46812345678"),
    ("+358 40 1234567", "+358401234567"),
])
def test_phone_numbers_are_stored_as_e164(db_session, create_landlord, tmp_path, raw, stored):
    landlord = create_landlord()
    path = write_register(tmp_path, [register_row(1, hyresgast_telefon=raw,
                                                  hyresgast2_namn="Bo Lindqvist",
                                                  hyresgast2_telefon=raw)])

    assert_accepted(run_import(db_session, landlord, path))

    phones = list(db_session.scalars(select(Person.phone).where(Person.landlord_id == landlord.id)))
    assert phones == [stored, stored]


def test_a_finnish_postnummer_excel_stored_as_a_number_gets_its_leading_zeros_back(
        db_session, create_landlord, tmp_path):
    from openpyxl import Workbook

    from dispatch.models import Entrance

    landlord = create_landlord()
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["objektsnummer", "gatuadress", "postnummer", "ort", "lat", "lon"])
    sheet.append(["FI-1", "Mannerheimintie 5", 100, "Helsinki", 60.1699, 24.9384])
    sheet.append(["SE-1", "Götgatan 12", 11846, "Stockholm", 59.3121, 18.0713])
    path = tmp_path / "fi.xlsx"
    workbook.save(path)
    assert_accepted(run_import(db_session, landlord, path))
    codes = sorted(db_session.scalars(select(Entrance.postnummer)))
    assert codes == ["00100", "11846"]
