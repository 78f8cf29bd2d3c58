"""Call-to-dispatch figures: the software's share of answering within 60 seconds.

NFPA 1225 asks that 90 % of emergency calls be dispatched within 60 s. A night is counted
from noon to noon in the service's time zone, so that one evening and its small hours are one
night whatever the clock says at midnight.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.models import Complaint, Job, JobEvent


def night_bounds(night: date, tz: str) -> tuple[datetime, datetime]:
    """Noon on ``night`` to noon the next day, local time, as aware datetimes."""
    zone = ZoneInfo(tz)
    start = datetime.combine(night, time(12), tzinfo=zone)
    end = datetime.combine(night + timedelta(days=1), time(12), tzinfo=zone)
    return start, end


def call_to_dispatch(session: Session, night: date, tz: str) -> dict:
    """Per job: seconds from the call to the first dispatch; and the share within 60 s."""
    start, end = night_bounds(night, tz)
    first_assigned = (
        select(JobEvent.job_id, func.min(JobEvent.at).label("at"))
        .where(JobEvent.kind == "assigned").group_by(JobEvent.job_id).subquery()
    )
    rows = session.execute(
        select(Job.id, Complaint.call_received_at, first_assigned.c.at)
        .join(Complaint, Complaint.id == Job.complaint_id)
        .outerjoin(first_assigned, first_assigned.c.job_id == Job.id)
        .where(Complaint.call_received_at >= start, Complaint.call_received_at < end)
        .order_by(Complaint.call_received_at)
    ).all()
    jobs = []
    for job_id, called, assigned in rows:
        seconds = None
        if assigned is not None:
            if assigned.tzinfo is None:  # SQLite's min() returns the stored text
                assigned = datetime.fromisoformat(str(assigned)).replace(tzinfo=called.tzinfo)
            seconds = round((assigned - called).total_seconds(), 1)
        jobs.append({"job_id": job_id, "call_received_at": called.isoformat(),
                     "seconds": seconds})
    dispatched = [j["seconds"] for j in jobs if j["seconds"] is not None]
    within = sum(1 for s in dispatched if s <= 60)
    return {
        "night": night.isoformat(), "jobs": jobs, "dispatched": len(dispatched),
        "within_60s": within,
        "share_within_60s": round(within / len(dispatched), 3) if dispatched else None,
        "median_seconds": sorted(dispatched)[len(dispatched) // 2] if dispatched else None,
    }
