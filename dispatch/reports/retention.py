"""Retention: what is older than ``REPORT_RETENTION_DAYS`` (default 90) is deleted.

Deletion goes by the time the complaint was logged: a complaint, its job, the job's history and
the incident report go together, with the calls and patrol positions of the same age. One audit
line records what went and how much.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dispatch.audit import record
from dispatch.models import Call, Complaint, IncidentReport, Job, JobEvent, PatrolPosition, utcnow


@dataclass
class PurgeResult:
    """How many rows of each kind were deleted, and the cut-off used."""

    cutoff: datetime
    reports: int = 0
    job_events: int = 0
    jobs: int = 0
    complaints: int = 0
    calls: int = 0
    positions: int = 0


def purge(session: Session, *, retention_days: int, now: datetime | None = None) -> PurgeResult:
    """Delete everything logged before ``now - retention_days``; the caller commits."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    result = PurgeResult(cutoff=cutoff)
    old_complaints = select(Complaint.id).where(Complaint.created_at < cutoff)
    old_jobs = select(Job.id).where(Job.complaint_id.in_(old_complaints))
    result.reports = session.execute(
        delete(IncidentReport).where(IncidentReport.job_id.in_(old_jobs))
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
    details = {k: v for k, v in asdict(result).items() if k != "cutoff"}
    details["cutoff"] = cutoff.isoformat()
    record(session, "retention.purged", details=details)
    return result
