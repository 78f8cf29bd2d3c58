"""The morning mail: one mail per contact person of each landlord with something to tell.

Two steps, each safe to repeat and to run in two schedulers at once:

1. ``plan`` and ``add_planned`` write one ``morning_mails`` row per contact and morning
   (unique on both; an existing row is left alone), with what the mail will say: how many
   reports were released for that morning, which of the landlord's reports will be deleted in
   seven days, or that the night was quiet (for landlords who asked for that mail too).
2. ``send_due`` claims rows in small batches with one conditional UPDATE (pending, or failed
   and due for a retry, or claimed by a sender that died), commits the claim, sends, and
   records each outcome. A row claimed by one sender is invisible to every other, so no mail
   goes twice; a failed one is retried later with a growing pause, and given up after a few.
   Each mail the SMTP server accepted is recorded (and committed) at once, before the next is
   sent: a sender killed half-way through a batch leaves only the mail in flight (never
   confirmed by the server) to be sent again once its claim runs out, never one that went.

The mail holds counts, dates, report numbers and a link, never personal data.

This is the one place in reports that commits part way, on purpose: the plan before anything
is sent, each batch's claim before its mails go (no transaction waits on the SMTP server),
each sent mail at once (a crash never mails anyone twice), the failures after the batch.
Everything else in reports only flushes; its entry point (the request, the scheduler's job,
the command) commits.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from itertools import groupby
from urllib.parse import urlsplit

from flask import Flask
from flask_babel import force_locale, format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from dispatch.core.mail import MailError, build_message, mailer_for, sender_address
from dispatch.models import IncidentReport, Landlord, MorningMail, User, utcnow
from dispatch.reports.labels import night_name
from dispatch.reports.nights import (
    latest_morning,
    morning_window,
    night_of,
    purge_start,
    service_zone,
)
from dispatch.reports.retention import expiring, retention_setting

log = logging.getLogger(__name__)

WARN_DAYS = 7  # contacts hear which reports will go this many days before they do
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=15)  # a claim older than this belongs to a sender that died
BATCH = 100


class MorningError(ValueError):
    """A morning that cannot be sent (yet)."""


class RunawaySend(MorningError):  # noqa: N818 (a morning that cannot be sent, like its parent)
    """``send_due`` met a mail that cannot be due again in one run: one it sent, or one it
    already tried ``MAX_ATTEMPTS`` times. Only a fault does that; the run stops rather than
    mail someone again and again."""


@dataclass(frozen=True)
class MorningResult:
    """What one run did: rows planned now, mails sent and failed, and what is still to do."""

    morning: date
    planned: int
    sent: int
    failed: int
    waiting: int

    def as_dict(self) -> dict:
        """The counts, with the morning as YYYY-MM-DD (for the log and the command's output)."""
        return {**asdict(self), "morning": self.morning.isoformat()}


# -- planning --------------------------------------------------------------------------------

def plan(session: Session, morning: date, *, tz, retention_days: int,
         now: datetime | None = None) -> list[dict]:
    """The morning's mail rows: one per contact person of each landlord with new reports,
    reports to be deleted in a week, or a wish for the quiet-night mail. Reads only."""
    now = now or utcnow()
    start, end = morning_window(morning, tz)
    new_counts = dict(session.execute(
        select(IncidentReport.landlord_id, func.count())
        .where(IncidentReport.status == "released", IncidentReport.released_at >= start,
               IncidentReport.released_at < end)
        .group_by(IncidentReport.landlord_id)
    ).all())
    # The reports the deletion on morning + 7 days will remove.
    warn_start = purge_start(morning + timedelta(days=WARN_DAYS - 1), tz)
    warn_end = purge_start(morning + timedelta(days=WARN_DAYS), tz)
    going: dict[int, list] = {}
    for report_id, landlord_id, called_at, _created in expiring(
            session, start=warn_start, end=warn_end, retention_days=retention_days):
        going.setdefault(landlord_id, []).append(
            [report_id, night_of(called_at, tz).isoformat()])
    # Reports still waiting for an operator's review: the mail says how many are to come.
    waiting_review = dict(session.execute(
        select(IncidentReport.landlord_id, func.count())
        .where(IncidentReport.status == "submitted")
        .group_by(IncidentReport.landlord_id)
    ).all())
    quiet = set(session.scalars(select(Landlord.id).where(Landlord.quiet_night_mail)))
    landlords = set(new_counts) | set(going) | quiet
    if not landlords:
        return []
    goes_on = (morning + timedelta(days=WARN_DAYS)).isoformat()
    contacts = session.execute(
        select(User.id, User.landlord_id)
        .where(User.role == "landlord", User.active, User.receives_reports,
               User.landlord_id.in_(landlords))
        .order_by(User.landlord_id, User.id)
    ).all()
    stamp = morning.strftime("%Y%m%d")
    return [{
        "user_id": user_id, "landlord_id": landlord_id, "morning": morning,
        "content": {"reports": new_counts.get(landlord_id, 0),
                    "waiting_review": waiting_review.get(landlord_id, 0),
                    "expiring": going.get(landlord_id, []), "goes_on": goes_on},
        "link_token": stamp + secrets.token_urlsafe(18), "status": "pending", "attempts": 0,
        "created_at": now,
    } for user_id, landlord_id in contacts]


def add_planned(session: Session, rows: list[dict]) -> int:
    """Insert the planned rows, leaving any that exist (same contact and morning) alone;
    return how many are new. On SQLite, call it first in a transaction, so that it takes the
    write lock (waiting for it) instead of failing to upgrade a read."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    added = 0
    for first in range(0, len(rows), 500):
        stmt = (insert(MorningMail).values(rows[first:first + 500])
                .on_conflict_do_nothing(index_elements=["user_id", "morning"])
                .returning(MorningMail.id))  # only the rows actually inserted come back
        added += len(session.execute(stmt).all())
    return added


# -- sending ---------------------------------------------------------------------------------

def _due(now: datetime):
    return or_(
        MorningMail.status == "pending",
        and_(MorningMail.status == "failed", MorningMail.next_attempt_at <= now),
        and_(MorningMail.status == "sending", MorningMail.claimed_at < now - LEASE),
    )


def claim(session: Session, *, run_id: str, mornings: list[date], now: datetime,
          limit: int = BATCH) -> list[int]:
    """Take up to ``limit`` due mails for this sender; the caller commits at once."""
    due = _due(now)
    candidates = (select(MorningMail.id).where(MorningMail.morning.in_(mornings), due)
                  .order_by(MorningMail.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        # Rows another scheduler is claiming right now are skipped, not waited for.
        candidates = candidates.with_for_update(skip_locked=True)
    stmt = (update(MorningMail).where(MorningMail.id.in_(candidates), due)
            .values(status="sending", claimed_by=run_id, claimed_at=now,
                    attempts=MorningMail.attempts + 1)
            .returning(MorningMail.id))
    return list(session.execute(stmt, execution_options={"synchronize_session": False})
                .scalars())


def backoff(attempts: int) -> timedelta:
    """The pause before the next attempt: 5, 10, 20, 40 minutes ..., at most two hours."""
    return min(timedelta(minutes=5) * 2 ** max(attempts - 1, 0), timedelta(hours=2))


def finish(session: Session, *, run_id: str, sent: list[int],
           failed: list[tuple[int, str, int]], now: datetime) -> None:
    """Record a batch's outcomes (only on rows this sender still holds)."""
    if sent:
        session.execute(
            update(MorningMail).where(MorningMail.id.in_(sent), MorningMail.claimed_by == run_id)
            .values(status="sent", sent_at=now, last_error=None, next_attempt_at=None),
            execution_options={"synchronize_session": False})
    for mail_id, code, attempts in failed:
        give_up = attempts >= MAX_ATTEMPTS or code == "recipient_inactive"
        session.execute(
            update(MorningMail).where(MorningMail.id == mail_id,
                                      MorningMail.claimed_by == run_id)
            .values(status="abandoned" if give_up else "failed", last_error=code[:200],
                    next_attempt_at=None if give_up else now + backoff(attempts)),
            execution_options={"synchronize_session": False})


class Composer:
    """Renders the morning mail (plain text and HTML) in the contact's language."""

    def __init__(self, app: Flask):
        self.env = app.jinja_env
        self.base_url = app.config["BASE_URL"]
        self.sender = sender_address(app.config)
        self.domain = urlsplit(self.base_url).hostname or "localhost"
        self.retention_days = retention_setting(app.config)
        self.contact = app.config.get("DAYTIME_CONTACT") or ""
        self._text = self.env.get_template("reports/mail/morning.txt")
        self._html = self.env.get_template("reports/mail/morning.html")
        self._subject = self.env.get_template("reports/mail/morning_subject.txt")

    def morning(self, *, mail_id: int, to: str, landlord: str, morning: date, content: dict,
                link_token: str):
        """The message; inside ``force_locale`` for the contact's language."""
        context = {
            "landlord": landlord,
            "morning": format_date(morning, "long"),
            "count": content.get("reports", 0),
            "waiting": content.get("waiting_review", 0),
            "expiring": [(rid, night_name(night)) for rid, night in content.get("expiring", [])],
            "goes_on": format_date(date.fromisoformat(content["goes_on"]), "long")
            if content.get("goes_on") else "",
            "link": f"{self.base_url}/reports/m/{link_token}",
            "expiring_link": f"{self.base_url}/reports/expiring",
            "retention_days": self.retention_days,
            "contact": self.contact,
        }
        return build_message(
            sender=self.sender, to=to, subject=self._subject.render(context).strip(),
            text=self._text.render(context), html=self._html.render(context),
            # The same id on a retry lets the recipient's mail system drop a duplicate.
            message_id=f"<morning.{morning:%Y%m%d}.{mail_id}@{self.domain}>",
            headers={"Auto-Submitted": "auto-generated"},
        )


def run_id() -> str:
    """Who claims: host, process and a random part (two runs in one process differ)."""
    return f"{socket.gethostname()[:20]}:{os.getpid()}:{secrets.token_hex(4)}"


def send_due(app: Flask, session: Session, *, mornings: list[date], mailer=None,
             now_fn=utcnow, batch: int = BATCH) -> tuple[int, int]:
    """Send every due mail of ``mornings``, batch by batch; return (sent, failed). Commits
    each claim before sending, and each batch's outcomes after: see the module's docstring."""
    me = run_id()
    composer = Composer(app)
    own_mailer = mailer is None
    mailer = mailer or mailer_for(app.config)
    sent_total = failed_total = 0
    # The loop's bound: a mail this run sent is never due again, and one it failed is due
    # again at most until its attempts run out. A claim that brings back either is a fault
    # (a sent mail still looking due would otherwise be mailed on every pass, for ever).
    sent_here: set[int] = set()
    claims: Counter[int] = Counter()
    try:
        while True:
            ids = claim(session, run_id=me, mornings=mornings, now=now_fn(), limit=batch)
            again = sorted(set(ids) & sent_here)
            tried_out = sorted(i for i in ids if claims[i] >= MAX_ATTEMPTS and i not in sent_here)
            if again or tried_out:
                # What the claim took back is put right (sent, given up) as far as this run
                # can; the rest of its batch goes back to the next run once the claim's lease
                # runs out.
                finish(session, run_id=me, sent=again, now=now_fn(),
                       failed=[(i, "claimed_too_often", MAX_ATTEMPTS) for i in tried_out])
                session.commit()
                log.error("morning mails due again within one run: stopped", extra={
                    "sent_again": len(again), "tried_out": len(tried_out),
                    "sent": sent_total, "failed": failed_total})
                raise RunawaySend(
                    f"{len(again)} mail(s) sent in this run and {len(tried_out)} tried "
                    f"{MAX_ATTEMPTS} times in it were due again (ids {(again + tried_out)[:10]}):"
                    f" stopped after {sent_total} sent, {failed_total} failed")
            claims.update(ids)
            session.commit()
            if not ids:
                break
            rows = session.execute(
                select(MorningMail.id, MorningMail.morning, MorningMail.content,
                       MorningMail.link_token, MorningMail.attempts, User.email, User.locale,
                       User.active, User.receives_reports, Landlord.name)
                .join(User, User.id == MorningMail.user_id)
                .join(Landlord, Landlord.id == MorningMail.landlord_id)
                .where(MorningMail.id.in_(ids)).order_by(MorningMail.id)
            ).all()
            session.commit()  # no transaction held open while talking to the SMTP server
            sent, failed = [], []
            default = app.config["BABEL_DEFAULT_LOCALE"]
            for locale, group in groupby(sorted(rows, key=lambda r: r.locale or default),
                                         key=lambda r: r.locale or default):
                with force_locale(locale):
                    for row in group:
                        if not (row.active and row.receives_reports):
                            failed.append((row.id, "recipient_inactive", row.attempts))
                            continue
                        try:
                            mailer.send(composer.morning(
                                mail_id=row.id, to=row.email, landlord=row.name,
                                morning=row.morning, content=row.content,
                                link_token=row.link_token))
                        except MailError as exc:
                            failed.append((row.id, exc.code, row.attempts))
                            continue
                        # It went: say so before the next, so that a crash never sends it again.
                        finish(session, run_id=me, sent=[row.id], failed=[], now=now_fn())
                        session.commit()
                        sent.append(row.id)
                        sent_here.add(row.id)
            finish(session, run_id=me, sent=[], failed=failed, now=now_fn())
            session.commit()
            sent_total += len(sent)
            failed_total += len(failed)
            if failed:
                log.warning("morning mails failed", extra={
                    "failed": len(failed), "errors": sorted({code for _, code, _ in failed})})
    finally:
        if own_mailer:
            mailer.close()
    return sent_total, failed_total


def waiting(session: Session, mornings: list[date]) -> int:
    """Mails of these mornings not yet sent and not given up."""
    return session.scalar(select(func.count()).select_from(MorningMail).where(
        MorningMail.morning.in_(mornings),
        MorningMail.status.in_(("pending", "sending", "failed")))) or 0


def send_morning_reports(app: Flask, session: Session, *, morning: date | None = None,
                         now: datetime | None = None, mailer=None) -> MorningResult:
    """What the scheduler does at 06:00: plan the morning's mails, then send what is due.
    ``morning`` defaults to the latest one whose 06:00 has passed; a later one is refused
    (its reports are not all in yet). Commits the plan before sending (see the module)."""
    tz = service_zone(app.config)
    now_fn = (lambda: now) if now is not None else utcnow
    now = now_fn()
    latest = latest_morning(now, tz)
    morning = morning or latest
    if morning > latest:
        raise MorningError(_l("the morning of %(date)s has not come yet (06:00)",
                                date=morning.isoformat()))
    rows = plan(session, morning, tz=tz, retention_days=retention_setting(app.config), now=now)
    session.commit()  # reads and writes in separate transactions (see add_planned)
    planned = add_planned(session, rows)
    session.commit()
    sent, failed = send_due(app, session, mornings=[morning], mailer=mailer, now_fn=now_fn)
    return MorningResult(morning=morning, planned=planned, sent=sent, failed=failed,
                         waiting=waiting(session, [morning]))


def retry_failed(app: Flask, session: Session, *, now: datetime | None = None,
                 mailer=None) -> MorningResult:
    """Send the mails of today's and yesterday's mornings that failed and are due again."""
    now_fn = (lambda: now) if now is not None else utcnow
    latest = latest_morning(now_fn(), service_zone(app.config))
    mornings = [latest, latest - timedelta(days=1)]
    sent, failed = send_due(app, session, mornings=mornings, mailer=mailer, now_fn=now_fn)
    return MorningResult(morning=latest, planned=0, sent=sent, failed=failed,
                         waiting=waiting(session, mornings))
