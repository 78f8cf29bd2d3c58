"""Reports that stand up: an operator's correction is marked as such and keeps what the patrol
wrote (review page, the landlord's page, print view, PDF, CSV); the night is named by both its
dates the same everywhere; the service's daytime contact is on the report; the review list says
when, where (with the flat), which patrol, what and how it was described."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from dispatch.models import AuditEvent, Job, ReportRevision
from dispatch.reports.labels import night_dates, night_name
from dispatch.reports.pdf import _Pdf
from dispatch.reports.service import correct_report, release_report, submit_report
from tests.support.reports_helpers import local

pytest_plugins = ["tests.support.reports"]

ORIGINAL = "Hög musik från lägenheten ovanför; den boende sänkte efter samtal."
CORRECTED = "Hög musik från lgh 1202; den boende sänkte efter samtal kl. 01.58."


@pytest.fixture
def corrected(db_session, create_user, acme, make_report):
    """A report of the night 25–26 November 2026 (the call at 01:53 on the 26th) whose text
    and outcome an operator corrected before releasing it."""
    operator = create_user(role="operator", email="op@jour.se")
    operator.name = "Olle Operatör"
    report = make_report(acme, at=local(2026, 11, 26, 1, 53), released=None)
    correct_report(db_session, report, operator, {"text": CORRECTED,
                                                 "outcome": "not_stopped"})
    return report


def test_the_review_page_marks_a_correction_and_shows_the_patrols_original(
        client, auth, corrected):
    auth.login("op@jour.se")
    page = client.get(f"/reports/{corrected.id}/edit").get_data(as_text=True)
    assert 'class="correction" data-field="text"' in page
    assert "Rättad av operatören (Olle Operatör)" in page
    assert f"Patrullens ursprungliga text:</span> <span class=\"prose\">{ORIGINAL}" in page
    assert 'data-field="outcome"' in page and "Störningen upphörde" in page
    assert 'data-field="observations"' not in page  # not corrected, not marked
    queue = client.get("/reports/review").get_data(as_text=True)
    assert "rättad" in queue


def test_the_landlord_reads_the_correction_and_the_original_on_page_and_print(
        client, auth, db_session, create_user, corrected):
    release_report(db_session, corrected, create_user(role="operator"))
    auth.login("kontakt@acme.se")
    for path in (f"/reports/{corrected.id}", f"/reports/{corrected.id}/print"):
        page = client.get(path).get_data(as_text=True)
        assert CORRECTED in page
        assert "Rättad av operatören" in page and ORIGINAL in page, path


def test_a_field_set_back_to_what_the_patrol_wrote_is_no_correction(
        db_session, create_user, corrected):
    from dispatch.reports.service import corrections

    operator = create_user(role="operator")
    correct_report(db_session, corrected, operator, {"text": ORIGINAL})
    assert set(corrections(db_session, corrected)) == {"outcome"}
    first = db_session.scalars(select(ReportRevision).where(
        ReportRevision.report_id == corrected.id).order_by(ReportRevision.id)).first()
    assert first.changes["text"] == [ORIGINAL, CORRECTED]  # the patrol's text is kept


def test_the_csv_names_the_night_case_patrol_source_and_the_correction(
        client, auth, db_session, create_user, corrected):
    release_report(db_session, corrected, create_user(role="operator"))
    auth.login("kontakt@acme.se")
    answer = client.get("/reports/export.csv?from=2026-11-25&to=2026-11-25")
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff")),
                               delimiter=";"))
    assert len(rows) == 1
    row = rows[0]
    job = db_session.get(Job, corrected.job_id)
    assert row["Natt"] == "Natten 25–26 november 2026"
    assert row["Ärendenummer"] == str(job.complaint_id)
    assert row["Ärende"] == "Hög musik sedan 22" and row["Misstänkt källa"] == ""
    assert row["Patrull"] == "Jour"
    assert row["Rapporttext"] == CORRECTED
    assert row["Rättad av operatören"] == "Resultat, Rapporttext"
    assert f"Rapporttext: {ORIGINAL}" in row["Patrullens ursprungliga text"]
    assert "Resultat: Störningen upphörde" in row["Patrullens ursprungliga text"]


def test_the_pdf_carries_the_night_the_correction_and_the_daytime_contact(
        app, client, auth, db_session, create_user, corrected, monkeypatch):
    release_report(db_session, corrected, create_user(role="operator"))
    written: list[str] = []
    for method in ("cell", "multi_cell"):
        original = getattr(_Pdf, method)

        def spy(self, w=None, h=None, text="", *args, _original=original, **kwargs):
            written.append(str(text))
            return _original(self, w, h, text, *args, **kwargs)

        monkeypatch.setattr(_Pdf, method, spy)
    app.config["DAYTIME_CONTACT"] = "info@jour.example, 08-555 000 00"
    auth.login("kontakt@acme.se")
    pdf = client.get(f"/reports/{corrected.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = "\n".join(written)
    assert "Natten 25–26 november 2026" in text
    assert CORRECTED in text and ORIGINAL in text and "Rättad av operatören" in text
    assert "info@jour.example, 08-555 000 00" in text


def test_the_night_is_named_by_both_its_dates_in_every_language(app):
    with app.test_request_context(), force_locale("sv"):
        assert night_name(date(2026, 11, 25)) == "Natten 25–26 november 2026"
        assert night_dates(date(2026, 11, 30)) == "30 november–1 december 2026"
        assert night_dates(date(2026, 12, 31)) == "31 december 2026–1 januari 2027"
    with app.test_request_context(), force_locale("fi"):
        assert night_name("2026-11-25") == "Yö 25.–26. marraskuuta 2026"
    with app.test_request_context(), force_locale("en"):
        assert night_name("2026-11-25") == "Night of November 25–26, 2026"


def test_the_report_page_names_the_night_and_carries_the_daytime_contact(
        app, client, auth, corrected):
    app.config["DAYTIME_CONTACT"] = "info@jour.example, 08-555 000 00"
    auth.login("op@jour.se")
    page = client.get(f"/reports/{corrected.id}").get_data(as_text=True)
    assert "Natten 25–26 november 2026" in page
    assert "Natten till" not in page
    assert "Frågor om rapporten dagtid: info@jour.example, 08-555 000 00" in page


def test_the_review_list_shows_time_address_with_flat_patrol_category_and_description(
        client, auth, corrected):
    auth.login("op@jour.se")
    page = client.get("/reports/review").get_data(as_text=True)
    row = page[page.index(f'id="review-{corrected.id}"'):]
    row = row[:row.index("</tr>")]
    assert "2026-11-26 01:53" in row
    assert "Götgatan 12B" in row and ", lgh 1102" in row, row
    assert "Jour" in row and "Musik" in row and "Hög musik sedan 22" in row
    assert "1 rapport väntar på granskning." in page


def test_a_submission_and_a_correction_are_audited(db_session, create_user, corrected):
    job = db_session.get(Job, corrected.job_id)
    actions = db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.subject == f"report:{corrected.id}")).all()
    assert actions.count("report.submitted") == 1 and "report.corrected" in actions
    # The patrol sends its report again before release: that too is audited.
    submit_report(db_session, job, patrol_id=job.patrol_id,
                  data={"outcome": "stopped", "text": "Ny version."})
    again = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "report.submitted").order_by(AuditEvent.id.desc())).first()
    assert again.details["again"] is True and again.details["patrol_id"] == job.patrol_id
