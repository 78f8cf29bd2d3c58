"""Retention: everything of a night past 90 days is deleted (reports, their corrections,
complaints, jobs and their history, outbox rows, calls, positions, mail links), with an audit
line; a link to a deleted report says so; contacts are told seven days before."""

import json
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from dispatch import models
from dispatch.models import utcnow
from dispatch.reports.morning import send_morning_reports
from dispatch.reports.retention import purge
from dispatch.reports.service import correct_report, release_report
from tests.conftest import AuthActions
from tests.support.reports_helpers import forget_request_state, local, text_of

pytest_plugins = ["tests.support.reports"]


def _incident(db_session, landlord, age_days):
    at = utcnow() - timedelta(days=age_days)
    patrol = models.Patrol(call_sign=f"P{age_days}", name="x")
    call = models.Call(landlord_id=landlord.id, dialled_number="+46812345678", received_at=at)
    complaint = models.Complaint(
        landlord_id=landlord.id,
        address="Götgatan 12B",
        category="music",
        created_at=at,
        call_received_at=at,
    )
    job = models.Job(complaint=complaint, status="done", created_at=at)
    job.events.append(models.JobEvent(kind="assigned", at=at))
    db_session.add_all([patrol, call, complaint, job])
    db_session.flush()
    db_session.add_all([
        models.IncidentReport(job_id=job.id, landlord_id=landlord.id, created_at=at,
                              submitted_at=at),
        models.PatrolPosition(patrol_id=patrol.id, lat=59.3, lon=18.0, at=at),
    ])
    db_session.flush()


def _count(db_session, model):
    return db_session.scalar(select(func.count()).select_from(model))


def test_reports_at_89_days_stay_and_at_91_days_are_gone_from_every_table(
    db_session, create_landlord
):
    landlord = create_landlord()
    _incident(db_session, landlord, 89)
    _incident(db_session, landlord, 91)
    result = purge(db_session, retention_days=90)
    assert (
        result.reports,
        result.jobs,
        result.complaints,
        result.calls,
        result.positions,
        result.job_events,
    ) == (1, 1, 1, 1, 1, 1)
    for model in (models.IncidentReport, models.Job, models.JobEvent, models.Complaint,
                  models.Call, models.PatrolPosition):
        assert _count(db_session, model) == 1, model.__name__
    [kept] = db_session.scalars(select(models.Complaint)).all()
    assert utcnow() - kept.created_at < timedelta(days=90)


def test_purge_writes_one_audit_line_with_the_counts(db_session, create_landlord):
    _incident(db_session, create_landlord(), 120)
    purge(db_session, retention_days=90)
    [line] = db_session.scalars(
        select(models.AuditEvent).where(models.AuditEvent.action == "retention.purged")
    ).all()
    assert line.details["reports"] == 1 and line.details["complaints"] == 1


def test_purge_reports_command_uses_the_configured_retention(
    app, runner, db_session, create_landlord
):
    landlord = create_landlord()
    _incident(db_session, landlord, 40)
    before = app.config["REPORT_RETENTION_DAYS"]
    app.config["REPORT_RETENTION_DAYS"] = 30
    try:
        result = runner.invoke(args=["purge-reports", "--json"])
    finally:
        app.config["REPORT_RETENTION_DAYS"] = before  # what it was, not a literal
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["reports"] == 1
    assert _count(db_session, models.IncidentReport) == 0


# -- with the whole flow, the clock moved ------------------------------------------------------

NIGHT = local(2026, 1, 14, 23, 0)
ALL_TABLES = (models.IncidentReport, models.ReportRevision, models.Job, models.JobEvent,
              models.Complaint, models.Call, models.PatrolPosition, models.Delivery,
              models.MorningMail)


@pytest.fixture
def night_of_work(app, db_session, smtp, acme, create_user, make_report):
    """One night: a call, a complaint dispatched to a car (outbox row), its positions, the
    patrol's report corrected and released, and the morning mail with its link."""
    report = make_report(acme, at=NIGHT, released=None)
    with time_machine.travel(NIGHT, tick=False):
        correct_report(db_session, report, create_user(role="operator"), {"text": "Rättad."})
        release_report(db_session, report, create_user(role="operator"))
        job = db_session.get(models.Job, report.job_id)
        db_session.add_all([
            models.Call(landlord_id=acme.id, dialled_number="+46812345678", received_at=NIGHT),
            models.PatrolPosition(patrol_id=job.patrol_id, lat=59.3, lon=18.0, at=NIGHT)])
        db_session.flush()
    send_morning_reports(app, db_session, now=local(2026, 1, 15, 6, 0))
    link = re.search(r"http\S+/reports/m/\S+", text_of(smtp.messages[0])).group(0)
    return {"report_id": report.id, "link": link.removeprefix(app.config["BASE_URL"])}


def test_with_the_clock_moved_a_night_at_89_days_stays_and_at_91_days_is_gone_from_every_table(
        db_session, night_of_work):
    for model in ALL_TABLES:
        assert _count(db_session, model) >= 1, model.__name__
    with time_machine.travel(NIGHT + timedelta(days=89), tick=False):
        kept = purge(db_session, retention_days=90)
    assert kept.reports == kept.complaints == 0
    for model in ALL_TABLES:
        assert _count(db_session, model) >= 1, model.__name__
    with time_machine.travel(NIGHT + timedelta(days=91), tick=False):
        gone = purge(db_session, retention_days=90)
    assert (gone.reports, gone.revisions, gone.complaints, gone.calls, gone.mails) == (
        1, 2, 1, 1, 1)
    assert gone.deliveries >= 1 and gone.positions >= 1 and gone.job_events >= 1
    for model in ALL_TABLES:
        assert _count(db_session, model) == 0, model.__name__
    [trace] = db_session.scalars(select(models.DeletedReport)).all()
    assert (trace.report_id, trace.night.isoformat()) == (night_of_work["report_id"],
                                                          "2026-01-14")


def test_the_audit_line_says_what_was_deleted_and_how_much(db_session, night_of_work):
    with time_machine.travel(NIGHT + timedelta(days=91), tick=False):
        purge(db_session, retention_days=90)
    line = db_session.scalars(select(models.AuditEvent).where(
        models.AuditEvent.action == "retention.purged")).one()
    assert {k: line.details[k] for k in ("reports", "complaints", "mails", "revisions")} == {
        "reports": 1, "complaints": 1, "mails": 1, "revisions": 2}
    assert line.details["deliveries"] >= 1 and "cutoff" in line.details


def test_a_link_to_a_deleted_report_says_it_was_deleted_after_90_days(
        app, client, auth, db_session, create_landlord, create_user, night_of_work):
    report_id = night_of_work["report_id"]
    with time_machine.travel(NIGHT + timedelta(days=91), tick=False):
        purge(db_session, retention_days=90)
        mail_link = client.get(night_of_work["link"])
        assert mail_link.status_code == 410 and "90" in mail_link.get_data(as_text=True)
        auth.login("kontakt@acme.se")
        for path in (f"/reports/{report_id}", f"/reports/{report_id}.pdf"):
            page = client.get(path)
            assert page.status_code == 410 and "90" in page.get_data(as_text=True)
    # Another landlord's contact learns nothing about it: not found, as for any other id.
    forget_request_state()
    create_user(role="landlord", landlord=create_landlord(code="BRAVO"), email="k@bravo.se")
    other = app.test_client()
    assert AuthActions(other).login("k@bravo.se").status_code == 302
    assert other.get(f"/reports/{report_id}").status_code == 404


def test_seven_days_before_deletion_the_contacts_are_told_which_reports_will_go(
        app, db_session, smtp, acme, make_report):
    old = make_report(acme, at=local(2026, 1, 14, 23, 0), released=local(2026, 1, 15, 1, 0))
    # 90 days after 2026-01-14 23:00 is 2026-04-14 23:00 (summer time): the purge at 03:30
    # on 2026-04-15 deletes it. The mail seven days before is the one of 2026-04-08.
    send_morning_reports(app, db_session, now=local(2026, 1, 15, 6, 0))
    smtp.reset()
    told = []
    for day in range(5, 12):
        send_morning_reports(app, db_session, now=local(2026, 4, day, 6, 0))
        told += [(day, m) for m in smtp.messages]
        smtp.reset()
    assert [day for day, _ in told] == [8]
    body = text_of(told[0][1])
    assert str(old.id) in body and "/reports/expiring" in body
    with time_machine.travel(local(2026, 4, 8, 9, 0), tick=False):
        client = app.test_client()
        AuthActions(client).login("kontakt@acme.se")
        page = client.get("/reports/expiring").get_data(as_text=True)
        assert f"/reports/{old.id}.pdf" in page and "2026-04-15" in page
