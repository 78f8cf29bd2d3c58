"""The scheduler: every job in one list, Stockholm wall-clock times across daylight saving."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dispatch.scheduler import SCHEDULE, build_scheduler

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_every_scheduled_job_is_registered_with_its_id(app):
    scheduler = build_scheduler(app)
    assert {job.id for job in scheduler.get_jobs()} == {job.id for job in SCHEDULE}


@pytest.mark.parametrize(
    "after",
    [
        datetime(2026, 3, 28, 12, 0, tzinfo=STOCKHOLM),  # the night clocks go forward
        datetime(2026, 10, 24, 12, 0, tzinfo=STOCKHOLM),  # the night clocks go back
    ],
)
def test_purge_runs_once_at_0330_local_time_on_daylight_saving_nights(app, after):
    scheduler = build_scheduler(app)
    trigger = scheduler.get_job("purge-reports").trigger
    first = trigger.get_next_fire_time(None, after)
    second = trigger.get_next_fire_time(first, first.replace(minute=31))
    assert (first.hour, first.minute) == (3, 30)
    assert first.date().day == after.day + 1
    assert (second - first).days == 1 or second.date().day == first.date().day + 1


def test_no_job_runs_in_the_hour_daylight_saving_repeats_or_skips():
    for job in SCHEDULE:
        assert job.cron.get("hour") != 2, job.id
