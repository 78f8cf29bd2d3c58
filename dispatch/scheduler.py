"""The scheduler process (``dispatch scheduler``): every timed job, listed in one place.

Run exactly one. Jobs are idempotent, so a second scheduler by mistake does no harm: the
morning mail is claimed row by row and never goes twice. Times are Europe/Stockholm
(``DISPATCH_TZ``) wall-clock times; jobs that run once a night are kept out of 02:00-03:00, the
hour daylight saving repeats or skips.

A scheduler that was down at 06:00 sends the morning mail when it starts, if it is still the
same morning (until ``MORNING_MAIL_GRACE_S`` after 06:00): the job is started with its missed
fire time, and APScheduler's misfire grace and coalescing run it once.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import format_date, format_decimal, gettext, ngettext

from dispatch.core.cli import CommandRefused
from dispatch.core.database import unit_of_work
from dispatch.core.extensions import db
from dispatch.core.i18n import in_default_locale
from dispatch.core.mail import purge_outbox
from dispatch.reports.morning import MorningError, retry_failed
from dispatch.reports.morning import send_morning_reports as run
from dispatch.reports.nights import MORNING_HOUR, PURGE_AT, morning_of, morning_start, zone
from dispatch.reports.retention import purge

log = logging.getLogger("dispatch.scheduler")


def _in_transaction(app: Flask, work: Callable[[], object]):
    """Run a job as one unit of work in its own app context and session."""
    with app.app_context():
        try:
            with unit_of_work():
                return work()
        finally:
            db.session.remove()


def purge_reports(app: Flask) -> dict:
    """Delete what is past retention (and old outbox files); return the counts."""

    days = app.config["REPORT_RETENTION_DAYS"]

    def work():
        result = purge(db.session, retention_days=days, tz=zone(app.config["DISPATCH_TZ"]))
        return {k: v for k, v in vars(result).items() if k != "cutoff"}

    counts = _in_transaction(app, work)
    counts["outbox_files"] = purge_outbox(app.config["OUTBOX_DIR"],
                                          older_than=timedelta(days=days))
    return counts


def send_morning_reports(app: Flask, morning: date | None = None,
                         now: datetime | None = None) -> dict:
    """Plan and send the morning mail (the latest morning whose 06:00 has passed; ``now``:
    the time to act as if it were)."""

    return _in_transaction(app, lambda: run(app, db.session, morning=morning, now=now).as_dict())


def retry_morning_mail(app: Flask) -> dict:
    """Send again the morning mails that failed and are due for another attempt."""

    return _in_transaction(app, lambda: retry_failed(app, db.session).as_dict())


def purge_tenant_accounts(app: Flask) -> dict:
    """Delete tenant accounts whose person has had no agreement for TENANT_ACCOUNT_KEEP_DAYS
    (issue 15; audited one by one)."""
    from dispatch.auth.tenants import purge_ended

    def work():
        today = datetime.now(zone(app.config["DISPATCH_TZ"])).date()
        return {"deleted": purge_ended(db.session, today=today,
                                       keep_days=app.config["TENANT_ACCOUNT_KEEP_DAYS"])}

    return _in_transaction(app, work)


@dataclass(frozen=True)
class ScheduledJob:
    """A job id, what it runs, when (cron fields in ``DISPATCH_TZ``), and how late a missed
    run may still start (``catch_up_s``: also on a scheduler's start; 0: skip it)."""

    id: str
    func: Callable[[Flask], object]
    cron: dict
    catch_up_s: int = 0


SCHEDULE: tuple[ScheduledJob, ...] = (
    # 06:00 local, every morning; until noon a scheduler that was down still sends it.
    ScheduledJob("morning-mail", send_morning_reports, {"hour": MORNING_HOUR, "minute": 0},
                 catch_up_s=6 * 3600),
    # Failed mails are retried with a growing pause; this just looks for due ones.
    ScheduledJob("morning-mail-retry", retry_morning_mail, {"minute": "5-55/10"}),
    ScheduledJob("purge-reports", purge_reports,
                 {"hour": PURGE_AT.hour, "minute": PURGE_AT.minute}, catch_up_s=3600),
    # Tenant accounts after the agreement ended (TENANT_ACCOUNT_KEEP_DAYS), once a night.
    ScheduledJob("purge-tenant-accounts", purge_tenant_accounts, {"hour": 4, "minute": 20},
                 catch_up_s=3600),
)


def build_scheduler(app: Flask, now: datetime | None = None) -> BlockingScheduler:
    """A blocking scheduler with every job in SCHEDULE, each logging its run and outcome.
    A job with ``catch_up_s`` whose last fire time is less than that ago starts at once."""
    tz = app.config["DISPATCH_TZ"]
    scheduler = BlockingScheduler(timezone=tz)
    for job in SCHEDULE:
        trigger = CronTrigger(timezone=tz, **job.cron)
        start = (now or datetime.now(trigger.timezone)).astimezone(trigger.timezone)
        first = missed_run(trigger, job.catch_up_s, start) or trigger.get_next_fire_time(
            None, start)
        scheduler.add_job(
            _logged(app, job),
            trigger,
            id=job.id,
            name=job.id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=job.catch_up_s or 60,
            next_run_time=first,
        )
    return scheduler


def missed_run(trigger: CronTrigger, grace_s: int, now: datetime | None = None
               ) -> datetime | None:
    """The fire time within the last ``grace_s`` seconds, if there was one (the run a
    scheduler that was down would have made)."""
    if not grace_s:
        return None
    now = (now or datetime.now(trigger.timezone)).astimezone(trigger.timezone)
    fire = trigger.get_next_fire_time(None, now - timedelta(seconds=grace_s))
    return fire if fire is not None and fire <= now else None


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
    """Run the scheduler process (morning mail, its retries, report deletion)."""
    app = current_app._get_current_object()
    scheduler = build_scheduler(app)
    for job in scheduler.get_jobs():
        log.info("scheduled", extra={"job": job.id, "trigger": str(job.trigger),
                                     "next_run_time": str(job.next_run_time)})
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")


def purge_summary(counts: dict, days: int) -> str:
    """What ``purge-reports`` deleted, as a sentence in the current language."""
    parts = [
        ngettext("%(n)s report", "%(n)s reports", counts["reports"],
                 n=format_decimal(counts["reports"])),
        ngettext("%(n)s report revision", "%(n)s report revisions", counts["revisions"],
                 n=format_decimal(counts["revisions"])),
        ngettext("%(n)s report delivery", "%(n)s report deliveries", counts["deliveries"],
                 n=format_decimal(counts["deliveries"])),
        ngettext("%(n)s job event", "%(n)s job events", counts["job_events"],
                 n=format_decimal(counts["job_events"])),
        ngettext("%(n)s job", "%(n)s jobs", counts["jobs"],
                 n=format_decimal(counts["jobs"])),
        ngettext("%(n)s complaint", "%(n)s complaints", counts["complaints"],
                 n=format_decimal(counts["complaints"])),
        ngettext("%(n)s call", "%(n)s calls", counts["calls"],
                 n=format_decimal(counts["calls"])),
        ngettext("%(n)s car position", "%(n)s car positions", counts["positions"],
                 n=format_decimal(counts["positions"])),
        ngettext("%(n)s morning mail", "%(n)s morning mails", counts["mails"],
                 n=format_decimal(counts["mails"])),
        ngettext("%(n)s log-in code", "%(n)s log-in codes", counts["login_codes"],
                 n=format_decimal(counts["login_codes"])),
        ngettext("%(n)s outbox file", "%(n)s outbox files", counts["outbox_files"],
                 n=format_decimal(counts["outbox_files"])),
    ]
    return ngettext("Deleted, older than %(num)d day: %(what)s.",
                    "Deleted, older than %(num)d days: %(what)s.", days, what=", ".join(parts))


def morning_summary(outcome: dict) -> str:
    """What ``send-morning-reports`` did, as a sentence in the current language."""
    parts = [
        ngettext("%(n)s mail planned", "%(n)s mails planned", outcome["planned"],
                 n=format_decimal(outcome["planned"])),
        ngettext("%(n)s sent", "%(n)s sent", outcome["sent"],
                 n=format_decimal(outcome["sent"])),
        ngettext("%(n)s failed", "%(n)s failed", outcome["failed"],
                 n=format_decimal(outcome["failed"])),
        ngettext("%(n)s waiting", "%(n)s waiting", outcome["waiting"],
                 n=format_decimal(outcome["waiting"])),
    ]
    return gettext("Morning mail of %(date)s: %(what)s.",
                   date=format_date(date.fromisoformat(outcome["morning"]), "long"),
                   what=", ".join(parts))


JSON_HELP = "Print the counts as JSON (for scripts) instead of a sentence."


@click.command("purge-reports")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@with_appcontext
@in_default_locale
def purge_reports_command(as_json: bool) -> None:
    """Delete what is past retention (REPORT_RETENTION_DAYS, default 90), as nightly."""
    app = current_app._get_current_object()
    counts = purge_reports(app)
    click.echo(json.dumps(counts) if as_json
               else purge_summary(counts, app.config["REPORT_RETENTION_DAYS"]))


@click.command("send-morning-reports")
@click.option("--date", "morning", metavar="YYYY-MM-DD", default=None,
              help="The morning; default: the latest whose 06:00 has passed.")
@click.option("--now", "coming", is_flag=True,
              help="To try the mail: send the coming morning's mail now, before its 06:00, "
                   "with the reports released so far (it is then not sent again at 06:00).")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@with_appcontext
@in_default_locale
def send_morning_reports_command(morning, coming: bool, as_json: bool) -> None:
    """Send the morning mail now, as the scheduler does at 06:00 (never a mail twice)."""

    app = current_app._get_current_object()
    if morning and coming:
        raise CommandRefused(gettext("--date and --now: give one of them"), exit_code=2)
    if morning is not None:  # read here, so that a wrong one is refused in the app's language
        try:
            morning = datetime.strptime(morning.strip(), "%Y-%m-%d")
        except ValueError:
            raise CommandRefused(gettext("not a date (YYYY-MM-DD): %(value)s", value=morning),
                                 exit_code=2) from None
    now = None
    if coming:
        # The mail is sent as at the coming 06:00 (the mail's records carry that time).
        tz = zone(app.config["DISPATCH_TZ"])
        morning_date = morning_of(datetime.now(UTC), tz)
        morning, now = None, morning_start(morning_date, tz)
    try:
        outcome = send_morning_reports(app, morning.date() if morning else None, now)
    except MorningError as exc:
        click.echo(gettext("error: %(message)s", message=str(exc)), err=True)
        raise SystemExit(2) from None
    click.echo(json.dumps(outcome) if as_json else morning_summary(outcome))
    if outcome["failed"]:
        raise SystemExit(1)


# -- the housing queue (issue 16): its jobs live in dispatch.housing.jobs --------------------
from dispatch.housing import jobs as housing_jobs  # noqa: E402

SCHEDULE += (
    # 00:30 local: the day after a last registered day has begun.
    ScheduledJob("housing-sweep", housing_jobs.sweep, {"hour": 0, "minute": 30},
                 catch_up_s=12 * 3600),
    ScheduledJob("housing-reminders", housing_jobs.remind, {"hour": 9, "minute": 0},
                 catch_up_s=8 * 3600),
    ScheduledJob("housing-missed-offers", housing_jobs.settle_offers, {"minute": "*/15"}),
)

# -- tenant accounts (issue 15): their jobs live in dispatch.auth.jobs ------------------------
from dispatch.auth import jobs as tenant_jobs  # noqa: E402

SCHEDULE += (
    # Identifications under way left behind (a closed tab): deleted once expired.
    ScheduledJob("identification-orders-sweep", tenant_jobs.sweep_identifications,
                 {"minute": "7-52/15"}),
    # People made by an identification that never became an account or an application.
    ScheduledJob("abandoned-people", tenant_jobs.purge_abandoned_people,
                 {"hour": 4, "minute": 40}, catch_up_s=3600),
)
