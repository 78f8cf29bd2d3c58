"""Benchmark: the whole morning run to a local SMTP server.

    .venv/bin/python bench/morning_mail.py [--landlords 2000] [--contacts 5]
                                           [--database-url URL] [--keep]

Builds a fresh, migrated database (SQLite in a temporary folder, or an empty PostgreSQL
database given with ``--database-url``) with 2,000 landlords of 5 contact persons each
(10,000 contacts), and one to three released reports per landlord in this morning's window
(not timed). Starts an SMTP server (aiosmtpd) in a child process that counts what it
receives. Then times ``send_morning_reports`` (the scheduler's 06:00 job: plan the mails,
insert the rows, claim, render in the contact's language, send over SMTP, record) from start
to end, and asks the server for its own count.

Checks: the run says 10,000 sent; the server received 10,000 messages to 10,000 distinct
recipients; a second run sends nothing. Goal (the issue): <= 60 s. Exit status 1 when a goal
or a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

GOAL_S = 60.0
SEED = 20260115


# -- the SMTP server, in its own process --------------------------------------------------

def serve_smtp(port: int) -> None:
    """Child process: accept mail on ``port``; answer ``count`` on stdin with
    "<messages> <distinct recipients>"; stop at end of input."""
    from aiosmtpd.controller import Controller

    class Counter:
        def __init__(self):
            self.messages = 0
            self.recipients: set[str] = set()

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.messages += 1
            self.recipients.update(envelope.rcpt_tos)
            return "250 Message accepted"

    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "count":
            print(counter.messages, len(counter.recipients), flush=True)
    controller.stop()


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpChild:
    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve-smtp", str(self.port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def count(self) -> tuple[int, int]:
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        messages, recipients = self.proc.stdout.readline().split()
        return int(messages), int(recipients)

    def stop(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


# -- the data -----------------------------------------------------------------------------

def build(session, *, landlords: int, contacts: int, tz) -> int:
    """Landlords, contacts and released reports in this morning's window, by bulk insert.
    Returns the number of reports."""
    from sqlalchemy import insert, select

    from dispatch.models import Complaint, IncidentReport, Job, Landlord, User, utcnow
    from dispatch.reports.nights import latest_morning, morning_window

    rng = random.Random(SEED)
    now = utcnow()
    start, end = morning_window(latest_morning(now, tz), tz)
    session.execute(insert(Landlord), [
        {"code": f"L{n:05d}", "name": f"Bostadsbolaget {n} AB", "country": "SE",
         "quiet_night_mail": False, "register_version": 0, "created_at": now}
        for n in range(landlords)])
    ids = session.scalars(select(Landlord.id).order_by(Landlord.id)).all()
    locales = ["sv"] * 8 + ["fi", None]
    session.execute(insert(User), [
        {"email": f"kontakt{i}@l{lid}.example.se", "name": "", "role": "landlord",
         "landlord_id": lid, "active": True, "receives_reports": True,
         "locale": rng.choice(locales), "created_at": now}
        for lid in ids for i in range(contacts)])
    complaints = []
    for lid in ids:
        for _ in range(rng.randint(1, 3)):
            at = start + timedelta(minutes=rng.randint(0, 600))
            complaints.append({"landlord_id": lid, "address": "Storgatan 1, 111 22 Stockholm",
                               "category": "music", "priority": 2, "description": "",
                               "call_received_at": at, "created_at": at})
    session.execute(insert(Complaint), complaints)
    rows = session.execute(select(Complaint.id, Complaint.landlord_id,
                                  Complaint.created_at).order_by(Complaint.id)).all()
    session.execute(insert(Job), [
        {"complaint_id": cid, "status": "done", "created_at": at, "updated_at": at}
        for cid, _lid, at in rows])
    jobs = dict(session.execute(select(Job.complaint_id, Job.id)).all())
    session.execute(insert(IncidentReport), [
        {"job_id": jobs[cid], "landlord_id": lid, "status": "released", "outcome": "stopped",
         "observations": "", "disturber_response": "", "actions": "", "text": "",
         "submitted_at": at, "released_at": min(at + timedelta(hours=1), end - timedelta(
             minutes=1)), "created_at": at, "updated_at": at}
        for cid, lid, at in rows])
    session.commit()
    return len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--landlords", type=int, default=2000)
    parser.add_argument("--contacts", type=int, default=5, help="contact persons per landlord")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--serve-smtp", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_smtp:
        serve_smtp(args.serve_smtp)
        return 0

    folder = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    os.environ["DISPATCH_INSTANCE"] = str(folder)
    os.environ["LOG_LEVEL"] = "WARNING"
    expected = args.landlords * args.contacts
    smtp = SmtpChild()
    try:
        from flask_migrate import upgrade

        from dispatch import create_app
        from dispatch.core.extensions import db
        from dispatch.reports.morning import send_morning_reports
        from dispatch.reports.nights import zone

        app = create_app({
            "SQLALCHEMY_DATABASE_URI": args.database_url or f"sqlite:///{folder / 'bench.db'}",
            "SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
            "BASE_URL": "https://jour.example.se", "LOG_FORMAT": "text"})
        with app.app_context():
            upgrade()
            reports = build(db.session, landlords=args.landlords, contacts=args.contacts,
                            tz=zone(app.config["DISPATCH_TZ"]))
            db.session.remove()

            started = time.perf_counter()
            result = send_morning_reports(app, db.session)
            seconds = time.perf_counter() - started
            db.session.remove()
            received, distinct = smtp.count()
            again = send_morning_reports(app, db.session)
            received_after, _ = smtp.count()
    finally:
        smtp.stop()
    database = "PostgreSQL" if args.database_url else "SQLite"
    checks = {
        f"run says {expected:,} sent": result.sent == expected and result.failed == 0,
        f"server received {expected:,} messages": received == expected,
        f"to {expected:,} distinct recipients": distinct == expected,
        "second run sends nothing": again.sent == 0 and received_after == received,
        f"<= {GOAL_S:.0f} s": seconds <= GOAL_S,
    }
    print(f"morning run, {args.landlords:,} landlords, {expected:,} contacts, {reports:,} "
          f"reports, {database}, {datetime.now(UTC):%Y-%m-%d}")
    print(f"  seconds              {seconds:8.2f}   ({expected / seconds:,.0f} mails/s)")
    print(f"  run: planned {result.planned:,}, sent {result.sent:,}, failed {result.failed:,}, "
          f"waiting {result.waiting:,}")
    print(f"  SMTP server counted  {received:,} messages, {distinct:,} distinct recipients")
    print(f"  second run: sent {again.sent:,} (server still at {received_after:,})")
    for name, ok in checks.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    if args.keep:
        print(f"kept: {folder}")
    else:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    sys.exit(main())
