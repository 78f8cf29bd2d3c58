"""Incident reports from the patrols' documentation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.dispatching import DispatchError, record_status
from dispatch.models import OUTCOMES, IncidentReport, Job, utcnow

TEXT_FIELDS = ("observations", "disturber_response", "actions", "text")
BOOL_FIELDS = ("disturber_reached", "tenant_contacted", "can_testify")


def _time(value, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise DispatchError("invalid_time", f"{name} must be an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise DispatchError("invalid_time", f"{name} must carry a time zone")
    return parsed


def submit_report(session: Session, job: Job, *, patrol_id: int, data: dict) -> IncidentReport:
    """Store the patrol's documentation (again: it replaces the last, until released) and
    close the job."""
    if job.patrol_id != patrol_id:
        raise DispatchError("not_your_job", f"job {job.id} is not assigned to this patrol")
    outcome = data.get("outcome")
    if outcome not in OUTCOMES:
        raise DispatchError("invalid_outcome", f"outcome must be one of {', '.join(OUTCOMES)}")
    report = session.scalar(select(IncidentReport).where(IncidentReport.job_id == job.id))
    if report is not None and report.status == "released":
        raise DispatchError("report_released", "the report has been released and is read-only")
    if report is None:
        report = IncidentReport(job_id=job.id, landlord_id=job.complaint.landlord_id)
        session.add(report)
    report.patrol_id = patrol_id
    report.arrived_at = _time(data.get("arrived_at"), "arrived_at") or job.arrived_at
    report.left_at = _time(data.get("left_at"), "left_at")
    for name in TEXT_FIELDS:
        setattr(report, name, str(data.get(name) or "")[:20000])
    for name in BOOL_FIELDS:
        value = data.get(name)
        setattr(report, name, None if value is None else bool(value))
    report.outcome = outcome
    report.status = "submitted"
    report.submitted_at = utcnow()
    session.flush()
    if job.status != "done":
        record_status(session, job, patrol_id=patrol_id, status="done",
                      at=report.left_at, event_id=f"report:{job.id}")
    return report
