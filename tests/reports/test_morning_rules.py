"""What the morning mail plans: the reports released from 06:00 the day before until 06:00
that morning, and reports to be deleted announced seven days ahead (``WARN_DAYS``), each row
naming the day they go (``plan`` in dispatch/reports/morning.py)."""

from __future__ import annotations

from datetime import date

from dispatch import models
from dispatch.reports.morning import plan
from tests.support.reports_helpers import STOCKHOLM, local

MORNING = date(2026, 1, 15)


def test_the_mail_says_reports_go_seven_days_after_the_morning(db_session, create_landlord,
                                                               create_user):
    quiet = create_landlord(code="QUIET")
    quiet.quiet_night_mail = True
    create_user(role="landlord", landlord=quiet, email="kontakt@quiet.se")

    [row] = plan(db_session, MORNING, tz=STOCKHOLM, retention_days=90,
                 now=local(2026, 1, 15, 6, 0))

    assert row["content"]["goes_on"] == "2026-01-22"
    assert (row["content"]["reports"], row["content"]["expiring"]) == (0, [])


def _released(db_session, landlord, released_at):
    complaint = models.Complaint(landlord_id=landlord.id, address="Götgatan 12B",
                                 category="music", created_at=released_at,
                                 call_received_at=released_at)
    job = models.Job(complaint=complaint, status="done", created_at=released_at)
    db_session.add_all([complaint, job])
    db_session.flush()
    db_session.add(models.IncidentReport(job_id=job.id, landlord_id=landlord.id,
                                         status="released", created_at=released_at,
                                         submitted_at=released_at, released_at=released_at))
    db_session.flush()


def test_a_morning_counts_the_reports_released_from_six_the_day_before_until_six(
        db_session, create_landlord, create_user):
    acme = create_landlord()
    create_user(role="landlord", landlord=acme, email="kontakt@acme.se")
    for at in (local(2026, 1, 14, 5, 59), local(2026, 1, 14, 6, 0), local(2026, 1, 15, 5, 59),
               local(2026, 1, 15, 6, 0)):
        _released(db_session, acme, at)

    [row] = plan(db_session, MORNING, tz=STOCKHOLM, retention_days=90,
                 now=local(2026, 1, 15, 6, 0))

    assert row["content"]["reports"] == 2  # 06:00 on the 14th up to 05:59 on the 15th
    assert row["content"]["waiting_review"] == 0
