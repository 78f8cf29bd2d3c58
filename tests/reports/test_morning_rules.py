"""What the morning mail plans: reports to be deleted are announced seven days ahead
(``WARN_DAYS``), and each row names the day they go (``plan`` in dispatch/reports/morning.py)."""

from __future__ import annotations

from datetime import date

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
