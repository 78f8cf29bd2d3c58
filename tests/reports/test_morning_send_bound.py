"""``send_due`` is bounded: a fault that makes mail look due again within one run (sent mail
still pending, a failure recorded as pending) stops the run with ``RunawaySend`` saying what
happened, instead of mailing someone on every pass for ever. Without a fault, a run sends
every due mail once, batch after batch."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from dispatch.core.mail import MailError
from dispatch.models import MorningMail
from dispatch.reports import morning
from dispatch.reports.morning import MAX_ATTEMPTS, RunawaySend, add_planned, plan, send_due
from tests.support.reports_helpers import STOCKHOLM, local

MORNING = date(2026, 1, 15)
NOW = local(2026, 1, 15, 6, 0)


class Recorder:
    """A mailer that keeps what it is given, or refuses everything (``refuse``)."""

    def __init__(self, refuse: bool = False):
        self.sent: list[str] = []
        self.tries = 0
        self.refuse = refuse

    def send(self, msg) -> None:
        self.tries += 1
        if self.refuse:
            raise MailError("refused:451")
        self.sent.append(msg.to)

    def close(self) -> None:
        pass


@pytest.fixture
def planned(db_session, create_landlord, create_user):
    """Factory: ``n`` contacts of a landlord who wants the quiet-night mail, planned for
    MORNING; returns their addresses."""

    def factory(n: int) -> list[str]:
        quiet = create_landlord(code="QUIET")
        quiet.quiet_night_mail = True
        emails = [f"c{i}@quiet.se" for i in range(n)]
        for address in emails:
            create_user(role="landlord", landlord=quiet, email=address)
        add_planned(db_session, plan(db_session, MORNING, tz=STOCKHOLM, retention_days=90,
                                     now=NOW))
        db_session.commit()
        return emails

    return factory


def _statuses(db_session) -> list[str]:
    db_session.expire_all()
    return sorted(db_session.scalars(select(MorningMail.status)))


def test_without_a_fault_every_due_mail_goes_once_over_several_batches(app, db_session,
                                                                      planned):
    emails = planned(5)
    mailer = Recorder()

    assert send_due(app, db_session, mornings=[MORNING], mailer=mailer, now_fn=lambda: NOW,
                    batch=2) == (5, 0)

    assert sorted(mailer.sent) == emails
    assert _statuses(db_session) == ["sent"] * 5


def test_sent_mail_that_still_looks_due_stops_the_run_instead_of_mailing_again(
        app, db_session, planned, monkeypatch):
    emails = planned(3)
    real_finish = morning.finish

    def leaves_sent_mail_pending(session, *, run_id, sent, failed, now):  # the fault
        real_finish(session, run_id=run_id, sent=sent, failed=failed, now=now)
        if sent:
            session.execute(update(MorningMail).where(MorningMail.id.in_(sent))
                            .values(status="pending"))

    monkeypatch.setattr(morning, "finish", leaves_sent_mail_pending)
    mailer = Recorder()

    with pytest.raises(RunawaySend, match=r"3 mail\(s\) sent in this run .* due again"):
        send_due(app, db_session, mornings=[MORNING], mailer=mailer, now_fn=lambda: NOW)

    assert sorted(mailer.sent) == emails  # each once, never twice


def test_a_failure_that_looks_due_at_once_stops_after_the_attempts_run_out(
        app, db_session, planned, monkeypatch):
    planned(1)
    real_finish = morning.finish

    def failures_due_at_once(session, *, run_id, sent, failed, now):  # the fault
        real_finish(session, run_id=run_id, sent=sent, failed=failed, now=now)
        if failed:
            session.execute(update(MorningMail).where(MorningMail.id.in_([f[0] for f in failed]))
                            .values(status="pending", next_attempt_at=None))

    monkeypatch.setattr(morning, "finish", failures_due_at_once)
    mailer = Recorder(refuse=True)

    with pytest.raises(RunawaySend, match=f"1 tried {MAX_ATTEMPTS} times"):
        send_due(app, db_session, mornings=[MORNING], mailer=mailer, now_fn=lambda: NOW)

    assert mailer.tries == MAX_ATTEMPTS  # then no more tries in this run
