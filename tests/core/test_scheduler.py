"""The scheduler: every job in one list, Stockholm wall-clock times across daylight saving,
a missed morning mail sent on start the same morning, each run logged."""

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatch.scheduler import SCHEDULE, ScheduledJob, _logged, build_scheduler

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


# -- the morning mail ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("after", "utc_hour"),
    [
        (datetime(2026, 3, 28, 12, 0, tzinfo=STOCKHOLM), 4),  # summer time from that night
        (datetime(2026, 10, 24, 12, 0, tzinfo=STOCKHOLM), 5),  # winter time from that night
        (datetime(2026, 1, 14, 12, 0, tzinfo=STOCKHOLM), 5),
    ],
)
def test_the_morning_mail_goes_at_0600_stockholm_time_on_daylight_saving_mornings(
        app, after, utc_hour):
    trigger = build_scheduler(app).get_job("morning-mail").trigger
    fire = trigger.get_next_fire_time(None, after)
    assert (fire.hour, fire.minute, fire.day) == (6, 0, after.day + 1)
    assert fire.astimezone(UTC).hour == utc_hour


@pytest.mark.parametrize(
    ("started", "expected"),
    [
        # Down at 06:00, started at 07:30: the missed run starts at once (misfire grace).
        (datetime(2026, 1, 15, 7, 30, tzinfo=STOCKHOLM),
         datetime(2026, 1, 15, 6, 0, tzinfo=STOCKHOLM)),
        (datetime(2026, 3, 29, 11, 59, tzinfo=STOCKHOLM),
         datetime(2026, 3, 29, 6, 0, tzinfo=STOCKHOLM)),
        # After noon it is no longer that morning: wait for tomorrow's.
        (datetime(2026, 1, 15, 12, 1, tzinfo=STOCKHOLM),
         datetime(2026, 1, 16, 6, 0, tzinfo=STOCKHOLM)),
        # Before 06:00: today's run is still ahead.
        (datetime(2026, 1, 15, 5, 0, tzinfo=STOCKHOLM),
         datetime(2026, 1, 15, 6, 0, tzinfo=STOCKHOLM)),
    ],
)
def test_a_scheduler_that_was_down_at_six_sends_on_start_if_it_is_still_that_morning(
        app, started, expected):
    job = build_scheduler(app, now=started).get_job("morning-mail")
    assert job.next_run_time == expected
    lateness = (started - job.next_run_time).total_seconds()
    assert job.coalesce and (lateness <= 0 or lateness <= job.misfire_grace_time)


def test_every_job_is_coalesced_and_runs_one_at_a_time(app):
    for job in build_scheduler(app).get_jobs():
        assert job.coalesce and job.max_instances == 1, job.id


def test_each_run_is_logged_with_its_outcome_and_a_failure_with_its_trace(app, caplog):
    caplog.set_level(logging.INFO, logger="dispatch.scheduler")
    _logged(app, ScheduledJob("demo", lambda _app: {"sent": 3}, {}))()

    def broken(_app):
        raise RuntimeError("smtp down")

    _logged(app, ScheduledJob("broken", broken, {}))()
    records = [(r.getMessage(), getattr(r, "job", None)) for r in caplog.records]
    assert records == [("job started", "demo"), ("job finished", "demo"),
                       ("job started", "broken"), ("job failed", "broken")]
    finished = caplog.records[1]
    assert finished.outcome == {"sent": 3} and finished.seconds >= 0
    assert caplog.records[3].exc_info is not None


def test_the_retry_job_looks_every_ten_minutes_but_never_on_the_hour(app):
    trigger = build_scheduler(app).get_job("morning-mail-retry").trigger
    fire = trigger.get_next_fire_time(None, datetime(2026, 1, 15, 6, 0, tzinfo=STOCKHOLM))
    following = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    assert (fire.minute, (following - fire).total_seconds()) == (5, 600)
