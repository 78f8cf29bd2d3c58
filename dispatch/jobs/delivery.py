"""Reliable delivery to tablets: an outbox of messages per patrol, acknowledged one by one.

Socket.IO delivers at most once: what is emitted while a tablet is in a tunnel is gone. So
each message to a tablet is first written to ``deliveries`` in the same transaction as the
change it announces; it is emitted after commit, emitted again on every (re)connect and by the
re-send loop until the tablet acknowledges it. The tablet shows each job once however often it
arrives (it keys on job_id), and acknowledgements are ordinary events that any web process
can record, since Socket.IO callbacks do not cross processes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dispatch.core.database import among
from dispatch.core.realtime import publish
from dispatch.jobs.board import console_job
from dispatch.models import Delivery, Job, JobEvent, utcnow


def enqueue(session: Session, *, patrol_id: int, job: Job, event: str, payload: dict) -> Delivery:
    """Write a message for a patrol's tablet; it goes out after commit."""
    delivery = Delivery(patrol_id=patrol_id, job_id=job.id, event=event, payload=payload,
                        created_at=utcnow())
    session.add(delivery)
    session.flush()
    announce(session, delivery)
    return delivery


def announce(session: Session, delivery: Delivery) -> None:
    """Send a written message to its patrol's tablet after commit."""
    publish(session, delivery.event, message(delivery), namespace="/field",
            to=f"patrol:{delivery.patrol_id}")


def message(delivery: Delivery) -> dict:
    """What goes over the wire: the stored payload plus the id the tablet acknowledges."""
    return {**delivery.payload, "delivery_id": delivery.id}


def supersede(session: Session, *, patrol_id: int, job_id: int) -> int:
    """Stop re-sending a patrol's pending messages about a job (it was moved elsewhere)."""
    return session.execute(
        update(Delivery).where(Delivery.patrol_id == patrol_id, Delivery.job_id == job_id,
                               Delivery.acked_at.is_(None))
        .values(acked_at=utcnow())
    ).rowcount


def pending(session: Session, patrol_id: int) -> list[Delivery]:
    """What a patrol's tablet has not acknowledged, oldest first."""
    return list(session.scalars(
        select(Delivery).where(Delivery.patrol_id == patrol_id, Delivery.acked_at.is_(None))
        .order_by(Delivery.id)))


def due(session: Session, patrol_ids: list[int], *, older_than: timedelta,
        now: datetime | None = None) -> list[Delivery]:
    """Unacknowledged messages to these patrols not sent within ``older_than``. A new one
    was sent when it was written (after commit): it is not due before ``older_than`` either,
    or a re-send pass could send it again while the tablet's acknowledgement is on its way."""
    if not patrol_ids:
        return []
    cutoff = (now or utcnow()) - older_than
    return list(session.scalars(
        select(Delivery).where(among(session, Delivery.patrol_id, patrol_ids),
                               Delivery.acked_at.is_(None))
        .where(func.coalesce(Delivery.last_sent_at, Delivery.created_at) < cutoff)
        .order_by(Delivery.id)))


def mark_sent(session: Session, deliveries: list[Delivery]) -> None:
    """Note that these were just emitted (for the re-send interval)."""
    now = utcnow()
    for delivery in deliveries:
        delivery.sent_count += 1
        delivery.last_sent_at = now


def acknowledge(session: Session, *, patrol_id: int, delivery_id: int | None = None,
                job_id: int | None = None) -> Delivery | None:
    """Record the tablet's acknowledgement (idempotent). The first one of a job.assigned sets
    the job's acknowledged_at: the job reached the car. (The acknowledgement timer's alarm
    waits for a person's accept, not for this: ``jobs.ack_timer``.)"""
    query = select(Delivery).where(Delivery.patrol_id == patrol_id)
    if delivery_id is not None:
        query = query.where(Delivery.id == delivery_id)
    elif job_id is not None:
        query = query.where(Delivery.job_id == job_id, Delivery.event == "job.assigned")
    else:
        return None
    delivery = session.scalars(query.order_by(Delivery.id.desc()).limit(1)).first()
    if delivery is None:
        return None
    now = utcnow()
    if delivery.acked_at is None:
        delivery.acked_at = now
    if delivery.event == "job.assigned":
        job = session.get(Job, delivery.job_id)
        if job is not None and job.patrol_id == patrol_id and job.acknowledged_at is None:
            job.acknowledged_at = now
            job.events.append(JobEvent(kind="acknowledged", at=now, patrol_id=patrol_id))
            session.flush()
            publish(session, "job.updated", console_job(job), namespace="/console")
    return delivery


def withdraw(session: Session, patrol_id: int) -> list[Job]:
    """The car's tablet session ended (revoked, or logged out): nothing it had not
    acknowledged is sent any more (no tablet of the car is there to take it), and a job it was
    given but never acknowledged goes back to the queue, the consoles told: the crew may never
    have seen it. A job the crew acknowledged stays with the car (they know of it; the operator
    moves it). Returns the jobs put back in the queue."""
    now = utcnow()
    requeued = []
    for item in pending(session, patrol_id):
        item.acked_at = now
        if item.event != "job.assigned":
            continue
        job = session.get(Job, item.job_id)
        if (job is None or job.patrol_id != patrol_id or job.status != "assigned"
                or job.acknowledged_at is not None or job in requeued):
            continue
        job.patrol_id, job.status, job.dispatched_at = None, "queued", None
        job.alarm = job.alarm_at = None
        job.events.append(JobEvent(kind="withdrawn", at=now, patrol_id=patrol_id,
                                   details={"reason": "session_ended"}))
        requeued.append(job)
    session.flush()
    for job in requeued:
        publish(session, "job.updated", console_job(job), namespace="/console")
    return requeued
