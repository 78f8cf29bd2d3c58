"""Retention: complaints, jobs, reports, calls and positions past 90 days are deleted."""

from datetime import timedelta

from sqlalchemy import func, select

from dispatch.models import (
    AuditEvent,
    Call,
    Complaint,
    IncidentReport,
    Job,
    JobEvent,
    Patrol,
    PatrolPosition,
    utcnow,
)
from dispatch.reports.retention import purge


def _incident(db_session, landlord, age_days):
    at = utcnow() - timedelta(days=age_days)
    patrol = Patrol(call_sign=f"P{age_days}", name="x")
    call = Call(landlord_id=landlord.id, dialled_number="+46812345678", received_at=at)
    complaint = Complaint(
        landlord_id=landlord.id,
        address="Götgatan 12B",
        category="music",
        created_at=at,
        call_received_at=at,
    )
    job = Job(complaint=complaint, status="done", created_at=at)
    job.events.append(JobEvent(kind="assigned", at=at))
    db_session.add_all([patrol, call, complaint, job])
    db_session.flush()
    db_session.add_all(
        [
            IncidentReport(job_id=job.id, landlord_id=landlord.id, created_at=at, submitted_at=at),
            PatrolPosition(patrol_id=patrol.id, lat=59.3, lon=18.0, at=at),
        ]
    )
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
    for model in (IncidentReport, Job, JobEvent, Complaint, Call, PatrolPosition):
        assert _count(db_session, model) == 1, model.__name__
    [kept] = db_session.scalars(select(Complaint)).all()
    assert utcnow() - kept.created_at < timedelta(days=90)


def test_purge_writes_one_audit_line_with_the_counts(db_session, create_landlord):
    _incident(db_session, create_landlord(), 120)
    purge(db_session, retention_days=90)
    [line] = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "retention.purged")
    ).all()
    assert line.details["reports"] == 1 and line.details["complaints"] == 1


def test_purge_reports_command_uses_the_configured_retention(
    app, runner, db_session, create_landlord
):
    landlord = create_landlord()
    _incident(db_session, landlord, 40)
    app.config["REPORT_RETENTION_DAYS"] = 30
    try:
        result = runner.invoke(args=["purge-reports"])
    finally:
        app.config["REPORT_RETENTION_DAYS"] = 90
    assert result.exit_code == 0, result.output
    assert "reports=1" in result.output
    assert _count(db_session, IncidentReport) == 0
