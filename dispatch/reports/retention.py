"""Retention: what is older than ``REPORT_RETENTION_DAYS`` (default 90) is deleted.

Deletion goes by the time the complaint was logged: a complaint, its job, the job's history,
the messages to tablets about it, the incident report and the operator's corrections go
together, with the calls, patrol positions and morning mails (their links) of the same age.
What stays of a deleted report is its id, landlord and night (``deleted_reports``), so that a
link to it can say it was deleted. One audit line records what went and how much.

``expiring`` finds what the next purges will delete, for the warning in the morning mail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import Session

from dispatch.core.audit import record
from dispatch.models import (
    Call,
    Complaint,
    DeletedReport,
    Delivery,
    IncidentReport,
    Job,
    JobEvent,
    LoginCode,
    MorningMail,
    PatrolPosition,
    ReportRevision,
    utcnow,
)
from dispatch.reports.nights import night_of

# Used log-in codes are kept a day for the attempt counts, then go whatever the retention.
LOGIN_CODE_KEEP = timedelta(days=1)


@dataclass
class PurgeResult:
    """How many rows of each kind were deleted, and the cut-off used."""

    cutoff: datetime
    reports: int = 0
    revisions: int = 0
    deliveries: int = 0
    job_events: int = 0
    jobs: int = 0
    complaints: int = 0
    calls: int = 0
    positions: int = 0
    mails: int = 0
    login_codes: int = 0


def purge(session: Session, *, retention_days: int, now: datetime | None = None,
          tz: ZoneInfo | None = None) -> PurgeResult:
    """Delete everything logged before ``now - retention_days``; the caller commits."""
    now = now or utcnow()
    tz = tz or ZoneInfo("Europe/Stockholm")
    cutoff = now - timedelta(days=retention_days)
    result = PurgeResult(cutoff=cutoff)
    old_complaints = select(Complaint.id).where(Complaint.created_at < cutoff)
    old_jobs = select(Job.id).where(Job.complaint_id.in_(old_complaints))
    old_reports = select(IncidentReport.id).where(IncidentReport.job_id.in_(old_jobs))

    traces = session.execute(
        select(IncidentReport.id, IncidentReport.landlord_id, Complaint.call_received_at)
        .join(Job, Job.id == IncidentReport.job_id)
        .join(Complaint, Complaint.id == Job.complaint_id)
        .where(Complaint.created_at < cutoff)
    ).all()
    known = set(session.scalars(select(DeletedReport.report_id).where(
        DeletedReport.report_id.in_([t.id for t in traces])))) if traces else set()
    rows = [{"report_id": t.id, "landlord_id": t.landlord_id,
             "night": night_of(t.call_received_at, tz), "deleted_at": now}
            for t in traces if t.id not in known]
    for start in range(0, len(rows), 500):
        session.execute(insert(DeletedReport), rows[start:start + 500])

    result.revisions = session.execute(
        delete(ReportRevision).where(ReportRevision.report_id.in_(old_reports))
    ).rowcount
    result.reports = session.execute(
        delete(IncidentReport).where(IncidentReport.job_id.in_(old_jobs))
    ).rowcount
    result.deliveries = session.execute(
        delete(Delivery).where(or_(Delivery.job_id.in_(old_jobs), Delivery.created_at < cutoff))
    ).rowcount
    result.job_events = session.execute(
        delete(JobEvent).where(JobEvent.job_id.in_(old_jobs))
    ).rowcount
    result.jobs = session.execute(delete(Job).where(Job.id.in_(old_jobs))).rowcount
    result.complaints = session.execute(
        delete(Complaint).where(Complaint.created_at < cutoff)
    ).rowcount
    result.calls = session.execute(delete(Call).where(Call.received_at < cutoff)).rowcount
    result.positions = session.execute(
        delete(PatrolPosition).where(PatrolPosition.at < cutoff)
    ).rowcount
    result.mails = session.execute(
        delete(MorningMail).where(MorningMail.created_at < cutoff)
    ).rowcount
    result.login_codes = session.execute(
        delete(LoginCode).where(LoginCode.expires_at < now - LOGIN_CODE_KEEP)
    ).rowcount
    details = {k: v for k, v in asdict(result).items() if k != "cutoff"}
    details["cutoff"] = cutoff.isoformat()
    record(session, "retention.purged", details=details)
    return result


def retention_setting(config: Mapping | None = None) -> int:
    """``REPORT_RETENTION_DAYS`` from ``config``, by default the current app's."""
    return (current_app.config if config is None else config)["REPORT_RETENTION_DAYS"]


def deletion_due(created_at: datetime, retention_days: int) -> datetime:
    """When a complaint logged at ``created_at`` (and its report) passes retention."""
    return created_at + timedelta(days=retention_days)


def expiring(session: Session, *, start: datetime, end: datetime, retention_days: int
             ) -> list[tuple[int, int, datetime, datetime]]:
    """Released reports that pass retention in [start, end): (report id, landlord id, when
    the call came, when it passes), by landlord and id."""
    span = timedelta(days=retention_days)
    return [tuple(r) for r in session.execute(
        select(IncidentReport.id, IncidentReport.landlord_id, Complaint.call_received_at,
               Complaint.created_at)
        .join(Job, Job.id == IncidentReport.job_id)
        .join(Complaint, Complaint.id == Job.complaint_id)
        .where(IncidentReport.status == "released",
               Complaint.created_at >= start - span, Complaint.created_at < end - span)
        .order_by(IncidentReport.landlord_id, IncidentReport.id)
    ).all()]
