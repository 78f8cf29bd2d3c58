"""The patrol's call attempts to the disturbed tenant (the job card's call button), as job
history: one ``JobEvent`` of kind ``call_attempt`` per attempt, with the number called and
whether it was answered, stamped by the tablet and idempotent by the tablet's event id (the
outbox sends it again until answered). The consoles hear of it as of any step of the job."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.core.realtime import publish
from dispatch.jobs.board import console_job
from dispatch.jobs.dispatching import DispatchError
from dispatch.models import Job, JobEvent, utcnow

KIND = "call_attempt"  # (reports.service reads them: CALL_ATTEMPT)
# What a dialled number may hold: digits with an optional leading +, spaces, dashes.
_NUMBER = re.compile(r"^\+?[0-9][0-9 \-]{2,30}$")


def record_call_attempt(session: Session, job: Job, *, patrol_id: int, number, answered,
                        event_id, at: datetime | None = None) -> bool:
    """Store one call attempt; True if new, False for a resend of one already stored."""
    if not isinstance(event_id, str) or not event_id.strip():
        raise DispatchError("invalid_call", "event_id is required")
    if not isinstance(number, str) or not _NUMBER.match(number.strip()):
        raise DispatchError("invalid_call", "number must be a phone number")
    if not isinstance(answered, bool):
        raise DispatchError("invalid_call", "answered must be true or false")
    event_id = event_id.strip()[:64]
    if session.scalar(select(JobEvent.id).where(JobEvent.job_id == job.id,
                                                JobEvent.client_event_id == event_id)):
        return False
    now = utcnow()
    when = min(at, now) if at is not None else now  # a tablet clock ahead is not believed
    job.events.append(JobEvent(kind=KIND, at=when, patrol_id=patrol_id, client_event_id=event_id,
                               details={"number": number.strip(), "answered": answered}))
    session.flush()
    publish(session, "job.updated", console_job(job), namespace="/console")
    return True

