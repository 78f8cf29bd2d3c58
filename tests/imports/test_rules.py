"""Register import: the rules of register-format.md's "Semantics" (placing rows on the map,
bad rows, rejections, retiring, dry runs, re-imports)."""

from __future__ import annotations

import codecs

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from dispatch.models import RegisterImport
from dispatch.register.queries import tenants_by_phone
from imports.messages import localise
from tests.imports.test_formats import (
    assert_accepted,
    e164,
    entrances_of,
    objects_by_number,
    register_row,
    register_state,
    registered,
    run_import,
    write_register,
)

# -- rows without coordinates -------------------------------------------------------------


@pytest.mark.parametrize("placed_first", [True, False], ids=["earlier-row", "later-row"])
def test_row_without_coordinates_takes_those_of_another_row_at_the_same_address(
        db_session, create_landlord, tmp_path, placed_first):
    landlord = create_landlord()
    placed = register_row(1, gatuadress="Ringvägen 100 A", lat="59.3081", lon="18.0765")
    unplaced = register_row(2, gatuadress="Ringvägen 100A", lat=None, lon=None)
    rows = [placed, unplaced] if placed_first else [unplaced, placed]
    path = write_register(tmp_path, rows)

    summary = run_import(db_session, landlord, path)

    assert_accepted(summary)
    assert summary.not_placed == 0
    [entrance] = entrances_of(db_session, landlord.id)
    assert (entrance.lat, entrance.lon) == pytest.approx((59.3081, 18.0765))
    objects = objects_by_number(db_session, landlord.id)
    assert objects["1234-01-0002"].entrance.placed


def test_coordinates_given_chunks_later_still_reach_the_entrance(db_session, create_landlord,
                                                                 tmp_path, monkeypatch):
    # The importer applies the file in chunks; here a chunk is two rows, so the placed row
    # (and the changed door code) come after the entrance was written.
    monkeypatch.setattr("imports.apply.CHUNK_ROWS", 2)
    landlord = create_landlord()
    rows = [register_row(1, gatuadress="Ringvägen 100 A", lat=None, lon=None, portkod="1234"),
            register_row(2), register_row(3), register_row(4),
            register_row(5, gatuadress="Ringvägen 100A", lat="59.3081", lon="18.0765",
                         portkod="4321")]
    path = write_register(tmp_path, rows)

    summary = run_import(db_session, landlord, path)

    assert_accepted(summary)
    assert summary.not_placed == 0
    entrance = objects_by_number(db_session, landlord.id)["1234-01-0001"].entrance
    assert (entrance.lat, entrance.lon, entrance.door_code) == (59.3081, 18.0765, "4321")


def test_rows_without_coordinates_and_no_geocoder_are_imported_as_not_placed(
        db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    rows = [register_row(1),
            register_row(2, gatuadress="Ringvägen 100 A", lat=None, lon=None),
            register_row(3, gatuadress="Ringvägen 100 A", lat=None, lon=None),
            register_row(4, gatuadress="Bondegatan 3", lat=None, lon=None)]
    path = write_register(tmp_path, rows)

    summary = run_import(db_session, landlord, path)

    assert_accepted(summary)
    assert (summary.added, summary.not_placed) == (4, 3)
    objects = objects_by_number(db_session, landlord.id)
    assert set(objects) == {f"1234-01-000{i}" for i in (1, 2, 3, 4)}
    assert [n for n, o in sorted(objects.items()) if not o.entrance.placed] == [
        "1234-01-0002", "1234-01-0003", "1234-01-0004"]
    assert {o.entrance.position_source for o in objects.values() if not o.entrance.placed} == {
        None}
    history = db_session.get(RegisterImport, summary.import_id)
    assert history.not_placed == 3


def test_a_geocoder_places_rows_without_coordinates_once_per_address(db_session, create_landlord,
                                                                     tmp_path):
    landlord = create_landlord()
    asked = []

    def geocoder(address):
        asked.append(address)
        return (59.3081, 18.0765) if address.startswith("Ringvägen") else None

    rows = [register_row(1),  # has coordinates: the geocoder is not asked for it
            register_row(2, gatuadress="Ringvägen 100 A", lat=None, lon=None),
            register_row(3, gatuadress="Ringvägen 100A", lat=None, lon=None),
            register_row(4, gatuadress="Okändgatan 1", lat=None, lon=None)]
    path = write_register(tmp_path, rows)

    summary = run_import(db_session, landlord, path, geocoder=geocoder)

    assert_accepted(summary)
    assert sorted(asked) == ["Okändgatan 1, 118 46 Stockholm", "Ringvägen 100A, 118 46 Stockholm"]
    assert summary.not_placed == 1  # the address the geocoder did not know
    ringvagen = objects_by_number(db_session, landlord.id)["1234-01-0002"].entrance
    assert (ringvagen.lat, ringvagen.lon, ringvagen.position_source) == (59.3081, 18.0765,
                                                                         "geocoder")


def test_a_geocoder_also_places_an_existing_entrance_still_without_coordinates(
        db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    rows = [register_row(1), register_row(2, gatuadress="Ringvägen 100 A", lat=None, lon=None)]
    assert run_import(db_session, landlord, write_register(tmp_path, rows)).not_placed == 1
    rows.append(register_row(3))

    summary = run_import(db_session, landlord, write_register(tmp_path, rows, name="second"),
                         geocoder=lambda address: (59.3081, 18.0765))

    assert_accepted(summary)
    assert summary.not_placed == 0
    entrance = objects_by_number(db_session, landlord.id)["1234-01-0002"].entrance
    assert (entrance.lat, entrance.lon, entrance.position_source) == (59.3081, 18.0765,
                                                                      "geocoder")


# -- bad rows ------------------------------------------------------------------------------


def test_duplicate_objektsnummer_is_reported_with_its_line_and_skipped(db_session,
                                                                       create_landlord, tmp_path):
    landlord = create_landlord()
    rows = [register_row(i) for i in range(1, 31)]
    rows.insert(5, register_row(2, gatuadress="Dubblettgatan 9"))  # line 7 repeats line 3
    path = write_register(tmp_path, rows)

    summary = run_import(db_session, landlord, path)

    assert summary.status == "accepted"
    assert (summary.rows, summary.added, summary.skipped) == (31, 30, 1)
    [(line, column, reason)] = summary.errors
    assert (line, column) == (7, "objektsnummer")
    assert "duplicate" in reason and "line 3" in reason
    kept = objects_by_number(db_session, landlord.id)["1234-01-0002"]
    assert kept.entrance.street_address == "Götgatan 2"
    assert "Dubblettgatan" not in {e.street for e in entrances_of(db_session, landlord.id)}


REQUIRED = ["objektsnummer", "gatuadress", "postnummer", "ort"]


@pytest.mark.parametrize("missing", REQUIRED)
def test_a_missing_required_column_rejects_the_whole_file(db_session, create_landlord, tmp_path,
                                                          missing):
    landlord = create_landlord()
    before = registered(db_session, landlord, tmp_path, [register_row(i) for i in range(1, 11)])
    rows = [{k: v for k, v in register_row(i, hyra="9999").items() if k != missing}
            for i in range(1, 12)]

    summary = run_import(db_session, landlord, write_register(tmp_path, rows, name="second"))

    assert (summary.status, summary.reason) == ("rejected", "missing_columns")
    assert missing in summary.message
    assert register_state(db_session, landlord.id) == before


HEADER = b"objektsnummer;gatuadress;postnummer;ort"


@pytest.mark.parametrize("content", [b"", b"\r\n  \r\n", HEADER + b"\r\n",
                                     codecs.BOM_UTF8 + HEADER],
                         ids=["empty", "blank-lines", "header-only", "header-only-bom"])
def test_an_empty_file_or_a_header_only_is_rejected(db_session, create_landlord, tmp_path,
                                                    content):
    landlord = create_landlord()
    before = registered(db_session, landlord, tmp_path, [register_row(i) for i in range(1, 6)])
    path = tmp_path / "empty.csv"
    path.write_bytes(content)

    summary = run_import(db_session, landlord, path)

    assert summary.status == "rejected"
    assert summary.accepted is False
    assert register_state(db_session, landlord.id) == before


def test_an_xlsx_with_an_empty_sheet_is_rejected(db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    path = write_register(tmp_path, [], columns=[], fmt="xlsx")

    summary = run_import(db_session, landlord, path)

    assert summary.status == "rejected"
    assert objects_by_number(db_session, landlord.id) == {}


@pytest.mark.parametrize(("content", "reason"), [
    (b"just one column\r\nand no delimiter\r\n", "structure"),
    (b"PK\x03\x04 not really a workbook", "structure"),
    (b"\x00\x01\x02binary", "nul_byte"),  # named as what it is (issue 14, finding 9)
], ids=["no-delimiter", "broken-zip", "binary"])
def test_a_file_that_is_not_a_table_is_rejected(db_session, create_landlord, tmp_path, content,
                                                 reason):
    landlord = create_landlord()
    path = tmp_path / "register.csv"
    path.write_bytes(content)

    summary = run_import(db_session, landlord, path)

    assert (summary.status, summary.reason) == ("rejected", reason)
    assert objects_by_number(db_session, landlord.id) == {}


def _rows_with_bad(count: int, bad: dict[int, dict], **values) -> list[dict]:
    """``count`` rows; the rows numbered in ``bad`` get those (invalid) values."""
    return [register_row(i, **{**values, **bad.get(i, {})}) for i in range(1, count + 1)]


def test_six_percent_bad_rows_reject_the_file_and_leave_the_register(db_session,
                                                                      create_landlord, tmp_path):
    landlord = create_landlord()
    before = registered(db_session, landlord, tmp_path, _rows_with_bad(50, {}))
    bad = {7: {"postnummer": "1184"}, 19: {"lat": "95.1"}, 33: {"hyra": "åtta tusen"}}
    path = write_register(tmp_path, _rows_with_bad(50, bad, hyra="9100"), name="second")

    summary = run_import(db_session, landlord, path)

    assert (summary.status, summary.reason) == ("rejected", "too_many_errors")
    assert summary.skipped == 3 and summary.rows == 50
    assert [line for line, _column, _reason in summary.errors] == [8, 20, 34]
    assert register_state(db_session, landlord.id) == before


def test_four_percent_bad_rows_are_skipped_and_reported_without_personal_data(
        db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    bad = {12: {"hyresgast_telefon": "070-12"}, 40: {"hyresgast_epost": "anna.lindqvist40 at x"}}
    rows = _rows_with_bad(50, bad)
    path = write_register(tmp_path, rows)

    summary = run_import(db_session, landlord, path)

    assert summary.status == "accepted"
    assert (summary.rows, summary.added, summary.skipped) == (50, 48, 2)
    assert [(line, column) for line, column, _reason in summary.errors] == [
        (13, "hyresgast_telefon"), (41, "hyresgast_epost")]
    assert all(reason for _line, _column, reason in summary.errors)
    objects = objects_by_number(db_session, landlord.id)
    assert "1234-01-0012" not in objects and "1234-01-0011" in objects
    report = db_session.get(RegisterImport, summary.import_id).error_report
    lines = report.splitlines()
    assert lines[0] == "rad;kolumn;fel"
    assert [line.split(";")[:2] for line in lines[1:]] == [["13", "hyresgast_telefon"],
                                                          ["41", "hyresgast_epost"]]
    personal = {v for row in rows for k, v in row.items()
                if k.startswith("hyresgast") or k == "kundnummer"}
    personal |= {e164(i) for i in range(1, 51)}
    for value in personal:
        assert value not in report
        assert value not in repr(summary.errors)
        assert value not in (summary.message or "")


def test_bad_rows_keep_their_objects_in_the_register(db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    assert_accepted(run_import(db_session, landlord,
                               write_register(tmp_path, _rows_with_bad(30, {}))))
    path = write_register(tmp_path, _rows_with_bad(30, {4: {"postnummer": "abc"}}), name="second")

    summary = run_import(db_session, landlord, path)

    assert summary.status == "accepted" and summary.retired == 0
    assert objects_by_number(db_session, landlord.id)["1234-01-0004"].retired_at is None


# -- retiring --------------------------------------------------------------------------------


def test_a_truncated_file_that_would_retire_half_the_register_is_refused(
        db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    rows = _rows_with_bad(20, {})
    before = registered(db_session, landlord, tmp_path, rows)

    summary = run_import(db_session, landlord, write_register(tmp_path, rows[:10], name="half"))

    assert (summary.status, summary.reason) == ("rejected", "too_many_retired")
    assert summary.retired == 10  # what the file would have done
    with force_locale("sv"):  # where the CLI shows it, it names --force
        assert "--force" in localise(summary.message)
    assert register_state(db_session, landlord.id) == before


def test_a_forced_truncated_file_retires_the_missing_objects_without_deleting_them(
        db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    rows = _rows_with_bad(20, {})
    assert_accepted(run_import(db_session, landlord, write_register(tmp_path, rows)))

    summary = run_import(db_session, landlord, write_register(tmp_path, rows[:10], name="half"),
                         force=True)

    assert_accepted(summary)
    assert (summary.forced, summary.retired, summary.unchanged) == (True, 10, 10)
    objects = objects_by_number(db_session, landlord.id)
    assert len(objects) == 20
    retired = sorted(n for n, o in objects.items() if o.retired_at is not None)
    assert retired == [f"1234-01-{i:04d}" for i in range(11, 21)]
    assert objects["1234-01-0015"].entrance.street_address == "Götgatan 15"
    # A tenant of a retired object no longer pops up; one of a kept object still does.
    assert tenants_by_phone(db_session, landlord.id, e164(15)) == []
    assert [t.objektsnummer for t in tenants_by_phone(db_session, landlord.id, e164(5))] == [
        "1234-01-0005"]


def test_retiring_at_most_a_fifth_of_the_register_needs_no_force(db_session, create_landlord,
                                                                 tmp_path):
    landlord = create_landlord()
    rows = _rows_with_bad(20, {})
    assert_accepted(run_import(db_session, landlord, write_register(tmp_path, rows)))

    summary = run_import(db_session, landlord, write_register(tmp_path, rows[:16], name="fewer"))

    assert_accepted(summary)
    assert summary.retired == 4


def test_a_retired_object_that_comes_back_is_active_again(db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    rows = _rows_with_bad(10, {})
    assert_accepted(run_import(db_session, landlord, write_register(tmp_path, rows)))
    assert_accepted(run_import(db_session, landlord,
                               write_register(tmp_path, rows[1:], name="without-1")))
    assert objects_by_number(db_session, landlord.id)["1234-01-0001"].retired_at is not None

    summary = run_import(db_session, landlord, write_register(tmp_path, rows, name="with-1"))

    assert_accepted(summary)
    assert (summary.added, summary.changed) == (0, 1)
    assert objects_by_number(db_session, landlord.id)["1234-01-0001"].retired_at is None
    assert len(tenants_by_phone(db_session, landlord.id, e164(1))) == 1


# -- dry runs and re-imports ------------------------------------------------------------------


COUNTS = ("status", "rows", "added", "changed", "retired", "unchanged", "skipped", "not_placed",
          "error_count", "errors", "warnings")


def test_a_dry_run_reports_what_the_import_would_do_and_changes_nothing(
        db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    before = registered(db_session, landlord, tmp_path, _rows_with_bad(20, {}))
    rows = _rows_with_bad(19, {3: {"hyra": "9100"}, 4: {"hyresgast_telefon": "070-7654321"},
                               8: {"postnummer": "x"}})  # object 20 is retired
    rows += [register_row(i, lat=None, lon=None, Extra="x") for i in (21, 22, 23)]
    path = write_register(tmp_path, rows, name="next")

    dry = run_import(db_session, landlord, path, dry_run=True)

    assert register_state(db_session, landlord.id) == before
    assert dry.dry_run is True
    real = run_import(db_session, landlord, path)
    assert {k: getattr(dry, k) for k in COUNTS} == {k: getattr(real, k) for k in COUNTS}
    assert (real.added, real.changed, real.retired, real.skipped, real.not_placed) == (3, 2, 1, 1,
                                                                                       3)
    assert register_state(db_session, landlord.id) != before


def test_the_same_file_imported_twice_changes_nothing_the_second_time(db_session,
                                                                      create_landlord, tmp_path):
    landlord = create_landlord()
    path = write_register(tmp_path, _rows_with_bad(10, {}))
    first = run_import(db_session, landlord, path)
    assert_accepted(first)
    before = register_state(db_session, landlord.id)

    second = run_import(db_session, landlord, path)

    assert second.status == "unchanged" and second.accepted
    assert (second.added, second.changed, second.retired) == (0, 0, 0)
    assert second.sha256 == first.sha256
    assert register_state(db_session, landlord.id) == before
    statuses = db_session.scalars(select(RegisterImport.status)
                                  .where(RegisterImport.landlord_id == landlord.id)
                                  .order_by(RegisterImport.id)).all()
    assert statuses == ["accepted", "unchanged"]


def test_a_reordered_file_with_the_same_content_changes_nothing(db_session, create_landlord,
                                                                tmp_path):
    landlord = create_landlord()
    rows = _rows_with_bad(30, {})
    # Two objects share an address, one of them without coordinates of its own.
    rows[4] = register_row(5, gatuadress="Götgatan 4", lat=None, lon=None)
    rows[9] = register_row(10, gatuadress="Götgatan 99", lat=None, lon=None)  # not placed
    before = registered(db_session, landlord, tmp_path, rows)
    reordered = list(reversed(rows))
    columns = list(reversed(list(rows[0])))

    summary = run_import(db_session, landlord,
                         write_register(tmp_path, reordered, name="reordered", columns=columns))

    assert_accepted(summary)
    assert (summary.added, summary.changed, summary.retired, summary.unchanged) == (0, 0, 0, 30)
    assert summary.not_placed == 1
    after = register_state(db_session, landlord.id)
    assert after["version"] == before["version"] + 1
    assert {k: v for k, v in after.items() if k != "version"} == {
        k: v for k, v in before.items() if k != "version"}
