"""The scheduler process (``dispatch scheduler``): every timed job, listed in one place.

Run exactly one. Jobs are idempotent, so a second scheduler by mistake does no harm beyond
repeating work. Times are Europe/Stockholm (``DISPATCH_TZ``) wall-clock times; jobs are kept
out of 02:00-03:00, the hour daylight saving repeats or skips.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask, current_app
from flask.cli import with_appcontext

from dispatch.extensions import db

log = logging.getLogger("dispatch.scheduler")


def purge_reports(app: Flask) -> dict:
    """Delete what is past retention; return the counts."""
    from dispatch.reports.retention import purge

    with app.app_context():
        try:
            result = purge(db.session, retention_days=app.config["REPORT_RETENTION_DAYS"])
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        return {k: v for k, v in vars(result).items() if k != "cutoff"}


@dataclass(frozen=True)
class ScheduledJob:
    """A job id, what it runs, and when (cron fields in ``DISPATCH_TZ``)."""

    id: str
    func: Callable[[Flask], object]
    cron: dict


SCHEDULE: tuple[ScheduledJob, ...] = (
    ScheduledJob("purge-reports", purge_reports, {"hour": 3, "minute": 30}),
)


def build_scheduler(app: Flask) -> BlockingScheduler:
    """A blocking scheduler with every job in SCHEDULE, each logging its run and outcome."""
    tz = app.config["DISPATCH_TZ"]
    scheduler = BlockingScheduler(timezone=tz)
    for job in SCHEDULE:
        scheduler.add_job(
            _logged(app, job),
            CronTrigger(timezone=tz, **job.cron),
            id=job.id,
            name=job.id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
        )
    return scheduler


def _logged(app: Flask, job: ScheduledJob):
    def run() -> None:
        started = time.monotonic()
        log.info("job started", extra={"job": job.id})
        try:
            outcome = job.func(app)
        except Exception:
            log.exception("job failed", extra={"job": job.id})
            return
        log.info(
            "job finished",
            extra={
                "job": job.id,
                "outcome": outcome,
                "seconds": round(time.monotonic() - started, 3),
            },
        )

    return run


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduler process (report deletion; the morning mail comes with issue 6)."""
    app = current_app._get_current_object()
    scheduler = build_scheduler(app)
    for job in scheduler.get_jobs():
        log.info("scheduled", extra={"job": job.id, "trigger": str(job.trigger)})
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")


@click.command("purge-reports")
@with_appcontext
def purge_reports_command() -> None:
    """Delete what is past retention (REPORT_RETENTION_DAYS, default 90), as nightly."""
    counts = purge_reports(current_app._get_current_object())
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
