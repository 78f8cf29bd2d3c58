"""Nights run from 06:00 to 06:00 local time, named by the evening; what is released in one
goes in the next morning's mail. The nightly deletion runs at 03:30 local time (after the
hour daylight saving skips or repeats), and something that passes retention goes in the first
deletion at or after that moment (dispatch/reports/nights.py)."""

from __future__ import annotations

from datetime import date

import pytest

from dispatch.reports.nights import morning_of, night_of, purge_day, purge_start
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


@pytest.mark.parametrize("hour, minute, night", [
    (0, 0, 14), (1, 30, 14), (5, 59, 14), (6, 0, 15), (23, 59, 15)])
def test_a_night_runs_from_six_to_six_and_is_named_by_its_evening(hour, minute, night):
    assert night_of(local(2026, 1, 15, hour, minute), STOCKHOLM) == date(2026, 1, night)


@pytest.mark.parametrize("hour, morning", [(1, 15), (5, 15), (6, 16), (22, 16)])
def test_what_is_released_in_a_night_goes_in_the_next_mornings_mail(hour, morning):
    assert morning_of(local(2026, 1, 15, hour, 0), STOCKHOLM) == date(2026, 1, morning)
