"""Patrol safety (issue 19): a car's alarm (överfallslarm) from the tablet's long press.

``raise_alarm`` stores it (``PatrolAlarm``; replay-safe by the tablet's event id, as the outbox
sends it again until answered), puts it in the job's history (``alarm_raised``) when the car
is on a job, audits it, and tells every console at once (``patrol.alarm``: the car, its crew,
the job's address and door code, the car's last position). ``acknowledge_alarm`` is an
operator's "I have it": recorded, audited, in the job's history (``alarm_acknowledged``),
told to every console and to the car's tablet (``alarm.acknowledged`` in the car's room).

The door code goes to the consoles with an alarm only: the crew may need to be reached
behind a locked door. No phone number or personal number in any of it; the crew's names come
from the tablet's shift log-in (``api_tokens.crew``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.core.audit import record
from dispatch.core.clock import iso
from dispatch.core.realtime import publish
from dispatch.jobs.board import console_job
from dispatch.jobs.checkins import Defaults, Overrides
from dispatch.jobs.dispatching import DispatchError
from dispatch.models import ApiToken, Job, JobEvent, Patrol, PatrolAlarm, User, utcnow

log = logging.getLogger(__name__)
TABLET_KINDS = ("alarm", "silent")  # what a tablet may raise (a missed check-in is the server's)
# The job a car is on when it raises an alarm: the newest of its jobs in one of these.
ON_A_JOB = ("assigned", "accepted", "en_route", "on_site")


def _current_job(session: Session, patrol_id: int) -> Job | None:
    return session.scalar(select(Job).where(Job.patrol_id == patrol_id,
                                            Job.status.in_(ON_A_JOB))
                          .order_by(Job.dispatched_at.desc(), Job.id.desc()).limit(1))


def crew_of(session: Session, patrol: Patrol) -> list[str]:
    """The names given at the car's newest live shift log-in (a device token bound to it)."""
    now = utcnow()
    row = session.scalar(
        select(ApiToken).where(ApiToken.kind == "device", ApiToken.label == patrol.call_sign,
                               ApiToken.revoked_at.is_(None),
                               (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()).limit(1))
    return list(row.crew) if row is not None and row.crew else []


def alarm_json(session: Session, alarm: PatrolAlarm) -> dict:
    """The alarm as every console shows it (the door code included: see the module's text)."""
    patrol = session.get(Patrol, alarm.patrol_id)
    job = session.get(Job, alarm.job_id) if alarm.job_id is not None else None
    complaint = job.complaint if job is not None else None
    entrance = complaint.entrance if complaint is not None else None
    user = session.get(User, alarm.acknowledged_by_id) if alarm.acknowledged_by_id else None
    return {
        "alarm_id": alarm.id, "kind": alarm.kind, "patrol_id": alarm.patrol_id,
        "call_sign": patrol.call_sign if patrol else None,
        "patrol": patrol.name if patrol else None,
        "crew": crew_of(session, patrol) if patrol else [],
        "job_id": alarm.job_id, "address": complaint.address if complaint else None,
        "lagenhetsnummer": complaint.lagenhetsnummer if complaint else None,
        "portkod": entrance.door_code if entrance else None,
        "lat": alarm.lat, "lon": alarm.lon, "position_at": iso(alarm.position_at),
        "raised_at": iso(alarm.raised_at), "acknowledged_at": iso(alarm.acknowledged_at),
        "acknowledged_by": (user.name or user.email) if user else None,
        # How it ended (None: standing): "operator", "check_in" or "left_site".
        "resolution": alarm.resolution,
    }


def _position(value, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if low <= number <= high else None  # (NaN fails both comparisons)


def raise_alarm(session: Session, patrol_id: int, *, kind, event_id, lat=None, lon=None,
                accuracy_m=None, position_at: datetime | None = None,
                at: datetime | None = None) -> tuple[PatrolAlarm, bool]:
    """Store a tablet's alarm; (the alarm, True) if new, (the stored one, False) for a resend.
    A position the tablet does not have (or one out of range) is replaced by the car's last
    known one: an alarm is never refused for its position."""
    if kind not in TABLET_KINDS:
        raise DispatchError("invalid_alarm", "kind must be alarm or silent")
    if not isinstance(event_id, str) or not event_id.strip():
        raise DispatchError("invalid_alarm", "event_id is required")
    event_id = event_id.strip()[:64]
    known = session.scalar(select(PatrolAlarm).where(PatrolAlarm.patrol_id == patrol_id,
                                                     PatrolAlarm.client_event_id == event_id))
    if known is not None:
        return known, False
    patrol = session.get(Patrol, patrol_id)
    now = utcnow()
    lat, lon = _position(lat, -90, 90), _position(lon, -180, 180)
    if lat is None or lon is None:
        lat, lon, accuracy_m, position_at = patrol.lat, patrol.lon, patrol.accuracy_m, \
            patrol.position_at
    else:
        accuracy_m = _position(accuracy_m, 0, 1e7)
        position_at = min(position_at, now) if position_at else now
    job = _current_job(session, patrol_id)
    alarm = PatrolAlarm(patrol_id=patrol_id, job_id=job.id if job else None, kind=kind,
                        client_event_id=event_id, lat=lat, lon=lon, accuracy_m=accuracy_m,
                        position_at=position_at, raised_at=min(at, now) if at else now,
                        received_at=now)
    session.add(alarm)
    session.flush()
    if job is not None:
        job.events.append(JobEvent(kind="alarm_raised", at=alarm.raised_at, patrol_id=patrol_id,
                                   details={"alarm_id": alarm.id, "alarm_kind": kind}))
        session.flush()
        publish(session, "job.updated", console_job(job), namespace="/console")
    record(session, "alarm.raised", subject=f"patrol:{patrol.call_sign}",
           details={"alarm_id": alarm.id, "kind": kind, "job_id": alarm.job_id,
                    "door_code_shown": True})
    log.warning("patrol alarm raised", extra={"alarm_id": alarm.id, "patrol_id": patrol_id,
                                              "job_id": alarm.job_id, "kind": kind})
    publish(session, "patrol.alarm", alarm_json(session, alarm), namespace="/console")
    return alarm, True


def acknowledge_alarm(session: Session, alarm: PatrolAlarm, *, user_id: int,
                      ip: str | None = None) -> bool:
    """An operator has the alarm. True if this acknowledged it, False if it already was."""
    if alarm.acknowledged_at is not None:
        return False
    alarm.acknowledged_at, alarm.acknowledged_by_id = utcnow(), user_id
    alarm.resolution = "operator"
    if alarm.job_id is not None:
        job = session.get(Job, alarm.job_id)
        job.events.append(JobEvent(kind="alarm_acknowledged", at=alarm.acknowledged_at,
                                   patrol_id=alarm.patrol_id, user_id=user_id,
                                   details={"alarm_id": alarm.id}))
    session.flush()
    patrol = session.get(Patrol, alarm.patrol_id)
    record(session, "alarm.acknowledged", subject=f"patrol:{patrol.call_sign}", ip=ip,
           user_id=user_id, details={"alarm_id": alarm.id, "job_id": alarm.job_id})
    shown = alarm_json(session, alarm)
    publish(session, "patrol.alarm", shown, namespace="/console")
    publish(session, "alarm.acknowledged", tablet_ack(shown), namespace="/field",
            to=f"patrol:{alarm.patrol_id}")
    return True


def tablet_ack(shown: dict) -> dict:
    """What the car's tablet is told: which alarm, when, by whom (no door code, no crew)."""
    return {"alarm_id": shown["alarm_id"], "acknowledged_at": shown["acknowledged_at"],
            "acknowledged_by": shown["acknowledged_by"]}


def standing_alarms(session: Session) -> list[PatrolAlarm]:
    """Alarms no operator has acknowledged yet, oldest first."""
    return list(session.scalars(select(PatrolAlarm).where(PatrolAlarm.acknowledged_at.is_(None))
                                .order_by(PatrolAlarm.raised_at, PatrolAlarm.id)))


def acknowledged_since(session: Session, patrol_id: int, since: datetime) -> list[PatrolAlarm]:
    """The car's alarms acknowledged since ``since`` (told again to a tablet that reconnects)."""
    return list(session.scalars(select(PatrolAlarm).where(
        PatrolAlarm.patrol_id == patrol_id, PatrolAlarm.acknowledged_at >= since)))


# -- the check-in timer while on site ------------------------------------------------------
# From ``on_site`` the tablet asks "all well?" every interval (5 minutes for fight or threat,
# else 10: settings, overridden per landlord and category: ``jobs.checkins``); the crew's
# answer is a ``check_in`` in the job's history. The server's
# upkeep pass (``callcenter.timers``) raises a ``checkin_missed`` alarm when neither the arrival
# nor a check-in is newer than the interval plus a grace period, and clears it (acknowledged by
# nobody) when the crew checks in or the job is no longer on site.
CHECK_IN = "check_in"


def check_in_interval(category: str, *, default_s: int, fight_threat_s: int) -> int:
    """The interval by the settings alone (no admin's override: ``jobs.checkins``)."""
    return fight_threat_s if category == "fight_threat" else default_s


def record_check_in(session: Session, job: Job, *, patrol_id: int, event_id,
                    at: datetime | None = None) -> bool:
    """The crew's "all well": True if new, False for a resend. Clears a missed check-in."""
    if not isinstance(event_id, str) or not event_id.strip():
        raise DispatchError("invalid_check_in", "event_id is required")
    event_id = event_id.strip()[:64]
    if session.scalar(select(JobEvent.id).where(JobEvent.job_id == job.id,
                                                JobEvent.client_event_id == event_id)):
        return False
    now = utcnow()
    job.events.append(JobEvent(kind=CHECK_IN, at=min(at, now) if at else now,
                               patrol_id=patrol_id, client_event_id=event_id))
    session.flush()
    _clear_missed(session, job.id, now)
    return True


def _clear_missed(session: Session, job_id: int, now: datetime) -> None:
    for alarm in session.scalars(select(PatrolAlarm).where(
            PatrolAlarm.job_id == job_id, PatrolAlarm.kind == "checkin_missed",
            PatrolAlarm.acknowledged_at.is_(None))):
        alarm.acknowledged_at, alarm.resolution = now, "check_in"
        session.flush()
        publish(session, "patrol.alarm", alarm_json(session, alarm), namespace="/console")


def _last_sign_of_life(job: Job) -> datetime | None:
    times = [e.at for e in job.events if e.kind in (CHECK_IN, "on_site")]
    if job.arrived_at is not None:
        times.append(job.arrived_at)
    return max(times) if times else None


def check_on_site(session: Session, *, default_s: int, fight_threat_s: int, grace_s: int,
                  now: datetime | None = None) -> list[int]:
    """One pass: raise ``checkin_missed`` for jobs on site with no check-in in time, clear those
    whose job has left ``on_site``. Returns the jobs alarmed. Flushes; the caller commits.
    Jobs are read ``FOR UPDATE SKIP LOCKED`` (one process acts on each, as in ack_timer)."""
    now = now or utcnow()
    for alarm in session.scalars(select(PatrolAlarm).join(Job, Job.id == PatrolAlarm.job_id).where(
            PatrolAlarm.kind == "checkin_missed", PatrolAlarm.acknowledged_at.is_(None),
            Job.status != "on_site")).all():
        alarm.acknowledged_at, alarm.resolution = now, "left_site"
        session.flush()
        publish(session, "patrol.alarm", alarm_json(session, alarm), namespace="/console")
    alarmed = []
    overrides, defaults = Overrides(session), Defaults(default_s, fight_threat_s)
    jobs = session.scalars(select(Job).where(Job.status == "on_site", Job.patrol_id.is_not(None))
                           .order_by(Job.id).with_for_update(skip_locked=True, of=Job)).all()
    for job in jobs:
        last = _last_sign_of_life(job)
        if last is None:
            continue
        interval = overrides.interval(job.complaint.landlord_id, job.complaint.category,
                                      defaults)
        if now < last + timedelta(seconds=interval + grace_s):
            continue
        key = f"checkin:{job.id}:{last.isoformat()}"[:64]
        if session.scalar(select(PatrolAlarm.id).where(PatrolAlarm.patrol_id == job.patrol_id,
                                                       PatrolAlarm.client_event_id == key)):
            continue  # this silence is already alarmed
        alarm = PatrolAlarm(patrol_id=job.patrol_id, job_id=job.id, kind="checkin_missed",
                            client_event_id=key, raised_at=now, received_at=now)
        patrol = session.get(Patrol, job.patrol_id)
        alarm.lat, alarm.lon, alarm.accuracy_m, alarm.position_at = (
            patrol.lat, patrol.lon, patrol.accuracy_m, patrol.position_at)
        session.add(alarm)
        session.flush()
        job.events.append(JobEvent(kind="check_in_missed", at=now, patrol_id=job.patrol_id,
                                   details={"alarm_id": alarm.id, "interval_s": interval}))
        session.flush()
        record(session, "alarm.raised", subject=f"patrol:{patrol.call_sign}",
               details={"alarm_id": alarm.id, "kind": "checkin_missed", "job_id": job.id})
        log.warning("check-in missed: alarm", extra={"alarm_id": alarm.id, "job_id": job.id,
                                                     "patrol_id": job.patrol_id})
        publish(session, "patrol.alarm", alarm_json(session, alarm), namespace="/console")
        alarmed.append(job.id)
    return alarmed
