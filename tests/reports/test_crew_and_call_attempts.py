"""Reports that stand up (issue 13): the report names the staff on the car, who wrote it (the
crew at submission) and who can testify, and lists the patrol's call attempts to the
disturbed tenant (when, answered or not; never the number) on the page, the print view, in the
PDF and as the CSV's "call attempts" column, in Swedish and Finnish."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from flask_babel import refresh
from pypdf import PdfReader

from dispatch.models import JobEvent
from dispatch.reports.service import release_report
from tests.support.reports_helpers import local

pytest_plugins = ["tests.support.reports"]

CALLED = local(2026, 11, 26, 1, 53)


@pytest.fixture
def released(db_session, create_user, acme, make_report):
    """A released report written by Anna Berg and Cecilia Dahl, who can testify, after two
    calls to the tenant (the first not answered, the second answered)."""
    report = make_report(acme, at=CALLED, released=None)
    report.crew = ["Anna Berg", "Cecilia Dahl"]
    for n, answered in enumerate((False, True)):
        db_session.add(JobEvent(job_id=report.job_id, kind="call_attempt",
                                at=CALLED + timedelta(minutes=10 + n), client_event_id=f"c{n}",
                                details={"number": "+46701234567", "answered": answered}))
    db_session.flush()
    release_report(db_session, report, create_user(role="operator"))
    return report


def _csv(client):
    answer = client.get("/reports/export.csv?from=2026-11-25&to=2026-11-25")
    return list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff")),
                               delimiter=";"))


def test_the_report_page_names_the_crew_writer_witnesses_and_lists_the_calls(
        client, auth, released):
    auth.login("kontakt@acme.se")
    for path in (f"/reports/{released.id}", f"/reports/{released.id}/print"):
        page = client.get(path).get_data(as_text=True)
        assert "Personal i bilen</dt><dd class=\"crew\">Anna Berg, Cecilia Dahl" in page, path
        assert "Skriven av</dt><dd class=\"written-by\">Anna Berg, Cecilia Dahl (Jour)" in page
        assert "Personal som kan vittna</dt><dd class=\"witnesses\">Anna Berg, Cecilia Dahl" in page
        assert "2 samtalsförsök, 1 besvarat" in page
        assert "02:03 – Svarade inte" in page and "02:04 – Svarade" in page
        assert "070" not in page and "+4670" not in page  # the number stays in the call centre


def test_the_report_page_in_finnish_names_the_crew_and_the_calls(
        client, auth, create_user, acme, released):
    create_user(role="landlord", landlord=acme, email="fi@acme.se").locale = "fi"
    auth.login("fi@acme.se")
    refresh()  # (the tests' app context outlives requests: its cached locale is Swedish)
    page = client.get(f"/reports/{released.id}").get_data(as_text=True)
    assert "Auton henkilökunta" in page and "2 soittoyritystä, 1 vastattu" in page
    assert "Ei vastannut" in page


def test_the_csv_has_the_crew_the_witnesses_the_writer_and_the_call_attempts(
        client, auth, released):
    auth.login("kontakt@acme.se")
    [row] = _csv(client)
    assert row["Samtalsförsök"] == "2 samtalsförsök, 1 besvarat"
    assert row["Personal i bilen"] == "Anna Berg, Cecilia Dahl"
    assert row["Skriven av"] == "Anna Berg, Cecilia Dahl"
    assert row["Personal som kan vittna"] == "Anna Berg, Cecilia Dahl"


def test_a_report_without_calls_or_crew_leaves_those_cells_empty(
        client, auth, db_session, create_user, acme, make_report):
    report = make_report(acme, at=CALLED, released=None)
    release_report(db_session, report, create_user(role="operator"))
    auth.login("kontakt@acme.se")
    [row] = _csv(client)
    assert row["Samtalsförsök"] == "" and row["Personal i bilen"] == ""
    page = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "samtalsförsök" not in page and "Personal i bilen" not in page


def test_the_pdf_names_the_crew_writer_witnesses_and_the_calls(client, auth, released):
    auth.login("kontakt@acme.se")
    pdf = client.get(f"/reports/{released.id}.pdf")
    assert pdf.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Personal i bilen" in text and "Anna Berg, Cecilia Dahl" in text
    assert "Skriven av" in text and "Personal som kan vittna" in text
    assert "2 samtalsförsök, 1 besvarat" in text
    assert "02:03 – Svarade inte" in text and "02:04 – Svarade" in text
    assert "070" not in text and "4670" not in text
