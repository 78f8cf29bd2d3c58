"""A register file is accepted with up to 5 % bad rows (skipped and reported) and rejected
above that (register-format.md; ``MAX_BAD_SHARE`` in imports/apply.py): the limit itself
is still accepted."""

from __future__ import annotations

from tests.imports.test_formats import register_row, run_import, write_register


def _rows(count: int, bad: set[int]) -> list[dict]:
    return [register_row(i, **({"postnummer": "1184"} if i in bad else {}))
            for i in range(1, count + 1)]


def test_exactly_five_percent_bad_rows_is_still_imported(db_session, create_landlord, tmp_path):
    path = write_register(tmp_path, _rows(20, {7}))

    summary = run_import(db_session, create_landlord(), path)

    assert summary.status == "accepted", summary.message
    assert (summary.rows, summary.added, summary.skipped) == (20, 19, 1)


def test_exactly_five_percent_of_a_hundred_rows_is_still_imported(db_session, create_landlord,
                                                                  tmp_path):
    path = write_register(tmp_path, _rows(100, {3, 20, 41, 77, 99}))

    summary = run_import(db_session, create_landlord(), path)

    assert summary.status == "accepted", summary.message
    assert (summary.rows, summary.skipped) == (100, 5)


def test_one_bad_row_more_than_five_percent_rejects_the_file(db_session, create_landlord,
                                                             tmp_path):
    path = write_register(tmp_path, _rows(20, {7, 13}))

    summary = run_import(db_session, create_landlord(), path)

    assert (summary.status, summary.reason) == ("rejected", "too_many_errors")
    assert summary.skipped == 2 and summary.rows == 20
