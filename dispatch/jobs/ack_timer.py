"""The acknowledgement timer, kept by the server (not by a console): a job a car was given
(``assigned``) and nobody on the car has accepted (``accepted``, a person's press on the
tablet; the tablet's automatic delivery acknowledgement does not count) raises an alarm
``ACK_ALARM_AFTER_S`` after it was sent, and ``ACK_REDISPATCH_AFTER_S`` after it was sent it
goes on by itself to the nearest available car that has not had it yet (none free: back to
the queue, alarm standing). The first car's tablet is told through the outbox
(``job.revoked``).

``check_acceptance`` is one pass. Every web process runs it every few seconds
(``callcenter.timers``), so it must act once whatever runs at the same time: on PostgreSQL it
reads the due jobs ``FOR UPDATE SKIP LOCKED`` (a job another process is handling is skipped;
re-read when its turn comes, it is no longer due), and on SQLite the pass is a writer's
transaction, which runs one at a time (``core.database``). Each change is recorded once in
the job's history (``ack_alarm``; ``withdrawn`` + ``assigned`` with reason
``not_accepted``), logged, and announced to the consoles (``job.updated``, ``job.alarm``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.core.realtime import publish
from dispatch.jobs.board import console_job
from dispatch.jobs.dispatching import ACTIVE_STATUSES, DispatchError, redispatch, requeue
from dispatch.jobs.patrols import PRESENCE_GRACE
from dispatch.models import Job, JobEvent, utcnow

log = logging.getLogger(__name__)
NOT_ACCEPTED = "not_accepted"


@dataclass
class TimerPass:
    """What one pass did: jobs alarmed, moved to another car (job → car), put back in the
    queue."""

    alarms: list[int] = field(default_factory=list)
    redispatched: dict[int, int] = field(default_factory=dict)
    requeued: list[int] = field(default_factory=list)


def _due(session: Session, cutoff: datetime) -> list[Job]:
    """Assigned jobs sent before ``cutoff``, each locked for this pass (PostgreSQL; one
    another transaction holds is skipped). SQLite has no row locks: the writer's turn is."""
    return list(session.scalars(
        select(Job).where(Job.status == "assigned", Job.dispatched_at <= cutoff)
        .order_by(Job.id).with_for_update(skip_locked=True, of=Job)
        .execution_options(populate_existing=True)))


def check_acceptance(session: Session, *, alarm_after: timedelta, redispatch_after: timedelta,
                     max_age: timedelta, seen_within: timedelta = PRESENCE_GRACE,
                     now: datetime | None = None) -> TimerPass:
    """One pass of the timer (see the module's text); flushes, the caller commits."""
    now = now or utcnow()
    done = TimerPass()
    for job in _due(session, now - min(alarm_after, redispatch_after)):
        if job.dispatched_at <= now - redispatch_after:
            first = job.patrol_id
            try:
                best = redispatch(session, job, user_id=None, reason=NOT_ACCEPTED,
                                  max_age=max_age, seen_within=seen_within)
            except DispatchError:  # an address with no position: no car can be chosen for it
                best = None
            if best is not None:
                done.redispatched[job.id] = best.patrol_id
                log.warning("job not accepted in time: sent to the next car",
                            extra={"job_id": job.id, "from_patrol_id": first,
                                   "to_patrol_id": best.patrol_id})
                _announce(session, job, "redispatched", patrol_id=best.patrol_id,
                          from_patrol_id=first)
            else:
                requeue(session, job, user_id=None, reason=NOT_ACCEPTED, alarm="no_car")
                done.requeued.append(job.id)
                log.warning("job not accepted in time and no other car is free: back in the "
                            "queue", extra={"job_id": job.id, "from_patrol_id": first})
                _announce(session, job, "no_car", patrol_id=None, from_patrol_id=first)
        elif job.alarm is None:
            job.alarm, job.alarm_at = NOT_ACCEPTED, now
            job.events.append(JobEvent(kind="ack_alarm", at=now, patrol_id=job.patrol_id,
                                       details={"after_s": round(alarm_after.total_seconds())}))
            session.flush()
            done.alarms.append(job.id)
            log.warning("job not accepted in time: alarm",
                        extra={"job_id": job.id, "patrol_id": job.patrol_id})
            publish(session, "job.updated", console_job(job), namespace="/console")
            _announce(session, job, NOT_ACCEPTED, patrol_id=job.patrol_id)
    return done


def _announce(session: Session, job: Job, kind: str, *, patrol_id: int | None,
              from_patrol_id: int | None = None) -> None:
    """``job.alarm`` to every console: what the timer did (the board's state comes with
    ``job.updated``)."""
    publish(session, "job.alarm", {"job_id": job.id, "kind": kind, "patrol_id": patrol_id,
                                   "from_patrol_id": from_patrol_id},
            namespace="/console")


def standing_alarms(session: Session) -> int:
    """How many open jobs have an alarm standing (for ``/healthz``)."""
    return session.scalar(select(func.count(Job.id)).where(
        Job.alarm.is_not(None), Job.status.in_(ACTIVE_STATUSES))) or 0
