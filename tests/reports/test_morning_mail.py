"""The morning mail: one per contact person of each landlord with something to tell, counts and
a link but no personal data, never twice, retried when it fails, on time across daylight
saving."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import select

from dispatch.models import AuditEvent, MorningMail, User
from dispatch.reports.morning import MorningError, retry_failed, send_morning_reports
from dispatch.reports.nights import morning_window
from tests.support.reports_helpers import STOCKHOLM, html_of, local, text_of

pytest_plugins = ["tests.support.reports"]

LINK = re.compile(r"https?://[^\s\"<>]+/reports/m/[A-Za-z0-9_-]+")


def _contacts(create_user, landlord, n, prefix):
    return [create_user(role="landlord", landlord=landlord, email=f"{prefix}{i}@{prefix}.se")
            for i in range(n)]


def test_each_contact_of_a_landlord_with_reports_gets_one_mail_with_the_count_and_a_link(
        app, db_session, smtp, create_landlord, create_user, make_report):
    acme, bravo = create_landlord(code="ACME"), create_landlord(code="BRAVO", name="Bravo AB")
    quiet = create_landlord(code="QUIET", name="Tyst AB")
    silent = create_landlord(code="SILENT", name="Ingen post AB")
    quiet.quiet_night_mail = True
    _contacts(create_user, acme, 2, "acme")
    _contacts(create_user, bravo, 1, "bravo")
    _contacts(create_user, quiet, 1, "quiet")
    _contacts(create_user, silent, 1, "silent")
    opted_out = create_user(role="landlord", landlord=acme, email="nomail@acme.se")
    opted_out.receives_reports = False
    for _ in range(2):
        make_report(acme, at=local(2026, 1, 14, 23, 10), released=local(2026, 1, 15, 1, 0))
    make_report(bravo, at=local(2026, 1, 14, 22, 0), released=local(2026, 1, 15, 5, 59))
    # Released after 06:00: it belongs to the next morning's mail, not this one.
    make_report(bravo, at=local(2026, 1, 15, 2, 0), released=local(2026, 1, 15, 6, 0))

    result = send_morning_reports(app, db_session, now=local(2026, 1, 15, 6, 0))

    assert (result.sent, result.failed, result.waiting) == (4, 0, 0)
    assert smtp.recipients() == ["acme0@acme.se", "acme1@acme.se", "bravo0@bravo.se",
                                 "quiet0@quiet.se"]
    [to_acme] = smtp.to("acme0@acme.se")
    [to_bravo] = smtp.to("bravo0@bravo.se")
    [to_quiet] = smtp.to("quiet0@quiet.se")
    assert " 2 " in f" {text_of(to_acme)} " and "2" in to_acme["Subject"]
    assert "1" in to_bravo["Subject"]
    for msg in (to_acme, to_bravo, to_quiet):
        links = LINK.findall(text_of(msg))
        assert len(links) == 1 and links[0].startswith(app.config["BASE_URL"] + "/reports/m/")
        assert links[0] in html_of(msg)
        assert msg["Message-ID"] and msg["Auto-Submitted"] == "auto-generated"
    assert LINK.findall(text_of(to_acme)) != LINK.findall(text_of(smtp.to("acme1@acme.se")[0]))


def test_the_mail_holds_no_personal_data(app, db_session, smtp, acme, make_report):
    make_report(acme, at=local(2026, 1, 14, 23, 0), released=local(2026, 1, 15, 1, 0),
                text="Test Testsson, 070-123 45 67, portkod 4711, 199001012385")
    send_morning_reports(app, db_session, now=local(2026, 1, 15, 6, 5))
    [msg] = smtp.messages
    raw = msg.as_string()
    for secret in ("Testsson", "070", "123 45 67", "4711", "199001012385", "Götgatan", "1102"):
        assert secret not in raw, secret


def test_a_repeated_run_sends_no_mail_twice(app, db_session, smtp, create_landlord,
                                            create_user, make_report):
    acme = create_landlord()
    _contacts(create_user, acme, 3, "acme")
    make_report(acme, at=local(2026, 1, 14, 23, 0), released=local(2026, 1, 15, 1, 0))
    now = local(2026, 1, 15, 6, 0)
    first = send_morning_reports(app, db_session, now=now)
    again = send_morning_reports(app, db_session, now=now + timedelta(minutes=30))
    assert (first.planned, first.sent) == (3, 3)
    assert (again.planned, again.sent) == (0, 0)
    assert len(smtp.messages) == 3
    assert len(set(smtp.recipients())) == 3


def test_a_report_released_after_the_mail_goes_in_the_next_mornings_mail(
        app, db_session, smtp, acme, make_report):
    make_report(acme, at=local(2026, 1, 14, 23, 0), released=local(2026, 1, 15, 1, 0))
    send_morning_reports(app, db_session, now=local(2026, 1, 15, 6, 0))
    make_report(acme, at=local(2026, 1, 15, 1, 0), released=local(2026, 1, 15, 9, 0))
    send_morning_reports(app, db_session, now=local(2026, 1, 15, 10, 0))
    assert len(smtp.messages) == 1  # the same morning: nothing new goes out
    send_morning_reports(app, db_session, now=local(2026, 1, 16, 6, 0))
    assert len(smtp.messages) == 2
    assert "1" in smtp.messages[1]["Subject"]


def test_a_failed_mail_is_retried_later_and_then_sent_once(
        app, db_session, smtp, create_landlord, create_user, make_report):
    acme = create_landlord()
    _contacts(create_user, acme, 2, "acme")
    make_report(acme, at=local(2026, 1, 14, 23, 0), released=local(2026, 1, 15, 1, 0))
    smtp.defer.add("acme1@acme.se")
    now = local(2026, 1, 15, 6, 0)
    first = send_morning_reports(app, db_session, now=now)
    assert (first.sent, first.failed, first.waiting) == (1, 1, 1)
    failed = db_session.scalar(select(MorningMail).join(User, User.id == MorningMail.user_id)
                               .where(User.email == "acme1@acme.se"))
    assert failed.status == "failed" and failed.attempts == 1
    assert failed.last_error.startswith("refused:451") and "@" not in failed.last_error

    smtp.defer.clear()
    with time_machine.travel(now + timedelta(minutes=1), tick=False):
        assert retry_failed(app, db_session).sent == 0  # not due yet: it waits a while
    with time_machine.travel(now + timedelta(minutes=6), tick=False):
        retried = retry_failed(app, db_session)
    assert (retried.sent, retried.waiting) == (1, 0)
    assert smtp.recipients() == ["acme0@acme.se", "acme1@acme.se"]
    db_session.refresh(failed)
    assert (failed.status, failed.attempts) == ("sent", 2)


def test_a_mail_that_keeps_failing_is_given_up_after_eight_attempts(
        app, db_session, smtp, create_landlord, create_user):
    quiet = create_landlord(code="QUIET")
    quiet.quiet_night_mail = True
    create_user(role="landlord", landlord=quiet, email="gone@quiet.se")
    smtp.defer.add("gone@quiet.se")
    now = local(2026, 1, 15, 6, 0)
    send_morning_reports(app, db_session, now=now)
    for hour in range(1, 20):
        with time_machine.travel(now + timedelta(hours=hour), tick=False):
            retry_failed(app, db_session)
    row = db_session.scalar(select(MorningMail))
    assert (row.status, row.attempts) == ("abandoned", 8)
    assert smtp.messages == []


def test_a_sender_that_died_mid_batch_leaves_its_mails_to_the_next_after_the_lease(
        app, db_session, smtp, create_landlord, create_user):
    from dispatch.reports.morning import add_planned, claim, plan, send_due

    quiet = create_landlord(code="QUIET")
    quiet.quiet_night_mail = True
    create_user(role="landlord", landlord=quiet, email="a@quiet.se")
    now = local(2026, 1, 15, 6, 0)
    morning = date(2026, 1, 15)
    add_planned(db_session, plan(db_session, morning, tz=STOCKHOLM, retention_days=90, now=now))
    assert claim(db_session, run_id="dead", mornings=[morning], now=now)  # then it died
    with time_machine.travel(now + timedelta(minutes=5), tick=False):
        assert send_due(app, db_session, mornings=[morning]) == (0, 0)
    with time_machine.travel(now + timedelta(minutes=16), tick=False):
        assert send_due(app, db_session, mornings=[morning]) == (1, 0)
    assert smtp.recipients() == ["a@quiet.se"]


def test_a_morning_that_has_not_come_is_refused(app, db_session):
    with pytest.raises(MorningError):
        send_morning_reports(app, db_session, morning=date(2026, 1, 15),
                             now=local(2026, 1, 15, 5, 59))


@pytest.mark.parametrize(("morning", "hours"), [
    (date(2026, 3, 29), 23),  # clocks go forward at 02:00: a short night
    (date(2026, 10, 25), 25),  # clocks go back at 03:00: 02:00-03:00 comes twice
    (date(2026, 1, 15), 24),
])
def test_a_morning_covers_exactly_the_night_before_whatever_daylight_saving_does(morning, hours):
    start, end = morning_window(morning, STOCKHOLM)
    assert start.astimezone(STOCKHOLM).hour == end.astimezone(STOCKHOLM).hour == 6
    assert end - start == timedelta(hours=hours)
    assert morning_window(morning + timedelta(days=1), STOCKHOLM)[0] == end


def test_reports_released_in_the_repeated_hour_go_in_that_mornings_mail(
        app, db_session, smtp, acme, make_report):
    from datetime import UTC, datetime

    # 02:30 local happens twice on 2026-10-25: 00:30 UTC (summer time) and 01:30 UTC.
    for utc_hour in (0, 1):
        make_report(acme, at=local(2026, 10, 24, 23, 0),
                    released=datetime(2026, 10, 25, utc_hour, 30, tzinfo=UTC))
    result = send_morning_reports(app, db_session, now=local(2026, 10, 25, 6, 0))
    assert result.sent == 1
    assert "2" in smtp.messages[0]["Subject"]


def test_a_contact_in_finnish_gets_the_mail_in_its_language_settings(
        app, db_session, smtp, create_landlord, create_user, make_report):
    acme = create_landlord()
    user = create_user(role="landlord", landlord=acme, email="fi@acme.se")
    user.locale = "fi"
    make_report(acme, at=local(2026, 1, 14, 23, 0), released=local(2026, 1, 15, 1, 0))
    send_morning_reports(app, db_session, now=local(2026, 1, 15, 6, 0))
    [msg] = smtp.messages
    assert "tammikuuta" in msg["Subject"]  # the date in Finnish, 15. tammikuuta 2026


def test_the_morning_run_writes_no_personal_data_to_the_audit_or_the_mail_rows(
        app, db_session, smtp, acme, make_report):
    make_report(acme, at=local(2026, 1, 14, 23, 0), released=local(2026, 1, 15, 1, 0))
    send_morning_reports(app, db_session, now=local(2026, 1, 15, 6, 0))
    row = db_session.scalar(select(MorningMail))
    assert set(row.content) == {"reports", "waiting_review", "expiring", "goes_on"}
    assert "Testsson" not in repr(db_session.scalars(select(AuditEvent.details)).all())
