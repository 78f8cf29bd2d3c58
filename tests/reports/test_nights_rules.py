"""The nightly deletion runs at 03:30 local time (after the hour daylight saving skips or
repeats), and something that passes retention goes in the first deletion at or after that
moment (``purge_start``, ``purge_day`` in dispatch/reports/nights.py)."""

from __future__ import annotations

from datetime import date

import pytest

from dispatch.reports.nights import purge_day, purge_start
from tests.support.reports_helpers import STOCKHOLM, local


@pytest.mark.parametrize("day", [date(2026, 1, 15), date(2026, 3, 29), date(2026, 10, 25)])
def test_the_nightly_deletion_runs_at_half_past_three_local_time(day):
    assert purge_start(day, STOCKHOLM) == local(day.year, day.month, day.day, 3, 30)


@pytest.mark.parametrize("hour, minute, day", [
    (0, 0, 15), (3, 29, 15), (3, 30, 16), (12, 0, 16), (23, 59, 16)])
def test_what_passes_retention_goes_in_the_first_deletion_at_or_after_that_moment(
        hour, minute, day):
    due = local(2026, 1, 15, hour, minute)

    assert purge_day(due, STOCKHOLM) == date(2026, 1, day)
    assert purge_start(purge_day(due, STOCKHOLM), STOCKHOLM) >= due
