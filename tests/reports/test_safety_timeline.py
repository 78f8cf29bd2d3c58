"""Alarms in the report's time line (issue 19): the car's alarm (silent or not), the operator's
acknowledgement with the operator's name, the crew's check-ins and a missed check-in stand
between the report's own steps by time, on the page, in the PDF and in the CSV's "alarms and
check-ins" column, translated; a kind of job step the report does not know (an SMS step, say)
is a generic line with its time and nothing of its details; never the door code."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from pypdf import PdfReader

from dispatch.models import JobEvent
from dispatch.reports.nights import zone
from dispatch.reports.service import document, release_report
from tests.support.reports_helpers import local

pytest_plugins = ["tests.support.reports"]

CALLED = local(2026, 11, 26, 1, 53)


@pytest.fixture
def released(db_session, create_user, acme, make_report):
    """A released report whose car raised a silent alarm (acknowledged by Olle Operatör),
    checked in, then missed a check-in; and one SMS step of a kind the report does not know."""
    report = make_report(acme, at=CALLED, released=None)
    operator = create_user(role="operator", email="olle@example.se")
    operator.name = "Olle Operatör"
    steps = [("alarm_raised", 5, None, {"alarm_id": 1, "alarm_kind": "silent"}),
             ("alarm_acknowledged", 6, operator.id, {"alarm_id": 1}),
             ("check_in", 7, None, None),
             ("check_in_missed", 19, None, {"alarm_id": 2, "interval_s": 600}),
             ("sms_sent", 21, None, {"to": "+46701234567", "portkod": "4711"})]
    for n, (kind, minutes, user_id, details) in enumerate(steps):
        db_session.add(JobEvent(job_id=report.job_id, kind=kind, user_id=user_id,
                                at=CALLED + timedelta(minutes=minutes), client_event_id=f"s{n}",
                                details=details))
    db_session.flush()
    release_report(db_session, report, create_user(role="operator"))
    return report


def test_the_time_line_holds_the_alarms_and_check_ins_in_time_order_after_the_call(
        db_session, released):
    steps = document(db_session, released, zone("Europe/Stockholm"))["timeline"]
    events = [s["event"] for s in steps]
    assert events[0] == "call"
    assert events[-5:] == ["alarm_raised", "alarm_acknowledged", "check_in", "check_in_missed",
                           "sms_sent"]
    acknowledged = steps[events.index("alarm_acknowledged")]
    assert acknowledged["by"] == "Olle Operatör"
    assert all("portkod" not in s and "to" not in s for s in steps)


def test_the_report_page_says_the_alarms_and_check_ins_in_swedish(client, auth, released):
    auth.login("kontakt@acme.se")
    page = client.get(f"/reports/{released.id}").get_data(as_text=True)
    for text in ("Tyst larm från bilen", "Larmet kvitterat av Olle Operatör",
                 "Avstämning: allt väl", "Avstämning missad: operatören larmades",
                 "Annat steg i uppdraget"):
        assert text in page, text
    assert "2026-11-26 01:58" in page and "2026-11-26 02:12" in page
    assert "4711" not in page and "46701234567" not in page


def test_the_pdf_has_the_alarms_and_check_ins(client, auth, released):
    auth.login("kontakt@acme.se")
    pdf = client.get(f"/reports/{released.id}.pdf")
    assert pdf.status_code == 200
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(
        io.BytesIO(pdf.data)).pages).split())  # a long label wraps within its column
    assert "Tyst larm från bilen" in text and "Larmet kvitterat av Olle Operatör" in text
    assert "Avstämning missad: operatören larmades" in text and "2026-11-26 02:12" in text
    assert "4711" not in text and "46701234567" not in text


def test_the_csv_has_the_alarms_and_check_ins_on_one_line(client, auth, released):
    auth.login("kontakt@acme.se")
    answer = client.get("/reports/export.csv?from=2026-11-25&to=2026-11-25")
    [row] = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff")),
                                delimiter=";"))
    assert row["Larm och avstämningar"] == (
        "01:58 Tyst larm från bilen; 01:59 Larmet kvitterat av Olle Operatör; "
        "02:00 Avstämning: allt väl; 02:12 Avstämning missad: operatören larmades; "
        "02:14 Annat steg i uppdraget")
    assert row["Samtal mottaget"].endswith("01:53")


def test_a_report_without_alarms_has_its_five_steps_and_an_empty_cell(
        client, auth, db_session, create_user, acme, make_report):
    report = make_report(acme, at=CALLED, released=None)
    release_report(db_session, report, create_user(role="operator"))
    steps = document(db_session, report, zone("Europe/Stockholm"))["timeline"]
    assert [s["event"] for s in steps] == ["call", "dispatched", "acknowledged", "arrived", "left"]
    auth.login("kontakt@acme.se")
    answer = client.get("/reports/export.csv?from=2026-11-25&to=2026-11-25")
    [row] = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff")),
                                delimiter=";"))
    assert row["Larm och avstämningar"] == ""
