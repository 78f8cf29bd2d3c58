"""The SMS escalation's steps (issue 19) in the report's time line, named in the reader's
language (as in the job history), with nothing of their details: no number, no text."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dispatch.models import JobEvent
from dispatch.reports.service import release_report
from tests.support.reports_helpers import local

pytest_plugins = ["tests.support.reports"]

CALLED = local(2026, 11, 26, 1, 53)


@pytest.fixture
def released(db_session, create_user, acme, make_report):
    report = make_report(acme, at=CALLED, released=None)
    for n, kind in enumerate(("check_in_missed", "sms_to_car", "sms_car_delivered",
                              "sms_to_supervisor", "sms_supervisor_failed")):
        db_session.add(JobEvent(job_id=report.job_id, kind=kind, client_event_id=f"e{n}",
                                at=CALLED + timedelta(minutes=20 + n),
                                details={"sms_id": 1, "why": "checkin_missed",
                                         "to": "+46701740699"}))
    db_session.flush()
    release_report(db_session, report, create_user(role="operator"))
    return report


def test_the_report_names_the_sms_steps_in_swedish_and_shows_no_number(client, auth, released):
    auth.login("kontakt@acme.se")
    page = client.get(f"/reports/{released.id}").get_data(as_text=True)
    for text in ("SMS till bilens telefon", "SMS till bilen levererat",
                 "SMS till arbetsledaren i tjänst", "SMS till arbetsledaren misslyckades"):
        assert text in page, text
    assert "Annat steg i uppdraget" not in page
    assert "46701740699" not in page and "checkin_missed" not in page
