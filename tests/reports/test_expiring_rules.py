"""Which reports the morning mail announces as about to be deleted: released ones only (a
contact never hears of a report it cannot read yet), those passing retention within the
asked span, its start included and its end not (``expiring`` in dispatch/reports/retention.py)."""

from __future__ import annotations

from datetime import timedelta

from dispatch import models
from dispatch.models import utcnow
from dispatch.reports.retention import expiring

DAYS = 90


def _report(db_session, landlord, created_at, status):
    complaint = models.Complaint(landlord_id=landlord.id, address="Götgatan 12B",
                                 category="music", created_at=created_at,
                                 call_received_at=created_at)
    job = models.Job(complaint=complaint, status="done", created_at=created_at)
    db_session.add_all([complaint, job])
    db_session.flush()
    report = models.IncidentReport(job_id=job.id, landlord_id=landlord.id, status=status,
                                   created_at=created_at, submitted_at=created_at,
                                   released_at=created_at if status == "released" else None)
    db_session.add(report)
    db_session.flush()
    return report.id


def _expiring(db_session, start, end):
    return [row[0] for row in expiring(db_session, start=start, end=end, retention_days=DAYS)]


def test_only_released_reports_are_announced_as_expiring(db_session, create_landlord):
    landlord = create_landlord()
    at = utcnow().replace(microsecond=0) - timedelta(days=DAYS - 7)
    released = _report(db_session, landlord, at, "released")
    _report(db_session, landlord, at, "submitted")

    start = at + timedelta(days=DAYS) - timedelta(hours=1)
    assert _expiring(db_session, start, start + timedelta(days=1)) == [released]


def test_the_span_includes_its_start_and_not_its_end(db_session, create_landlord):
    landlord = create_landlord()
    at = utcnow().replace(microsecond=0) - timedelta(days=DAYS - 7)
    first = _report(db_session, landlord, at, "released")
    last = _report(db_session, landlord, at + timedelta(days=1), "released")

    start = at + timedelta(days=DAYS)  # when the first passes retention
    assert _expiring(db_session, start, start + timedelta(days=1)) == [first]
    assert _expiring(db_session, start + timedelta(seconds=1),
                     start + timedelta(days=1, seconds=1)) == [last]
