"""Complaints, jobs and patrols: logging a complaint, recommending and assigning the nearest
available patrol, queueing when none is free, and the job's status history.

Plain functions: session and values in, values out. They flush, never commit, and announce
changes through ``dispatch.core.realtime.publish`` so that consoles and tablets hear of them only
after the caller's commit.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import JSON, bindparam, select, text, update
from sqlalchemy.orm import Session, make_transient_to_detached, object_session
from sqlalchemy.orm.attributes import set_committed_value

from dispatch.core.database import sqlite_timestamp
from dispatch.core.geo import EARTH_RADIUS_M, haversine_m
from dispatch.core.phones import normalise_phone
from dispatch.core.realtime import publish
from dispatch.jobs import delivery
from dispatch.jobs.board import console_job
from dispatch.jobs.checkins import INTERVAL_SQL, interval_sql_params
from dispatch.jobs.patrols import PRESENCE_GRACE, patrol_json, upsert_presence
from dispatch.jobs.shapes import job_for_tablet
from dispatch.models import (
    CATEGORIES,
    Complaint,
    Delivery,
    Entrance,
    Job,
    JobEvent,
    Landlord,
    Patrol,
    PatrolPosition,
    PatrolPresence,
    RentalObject,
    UTCDateTime,
    utcnow,
)
from dispatch.register.queries import full_address

ACTIVE_STATUSES = ("queued", "assigned", "accepted", "en_route", "on_site")
PATROL_STATUS_STEPS = ("accepted", "en_route", "on_site", "done")


class DispatchError(ValueError):
    """A request the dispatch rules refuse; ``code`` is stable, ``message`` readable."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


# -- recommendation -------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """A patrol that could take the job, with its distance and an ETA estimate."""

    patrol_id: int
    name: str
    distance_m: float
    eta_min: int

    def as_json(self) -> dict:
        return {"patrol_id": self.patrol_id, "name": self.name,
                "distance_m": round(self.distance_m), "eta_min": self.eta_min}


# The first box read around an address (metres from it to the box's sides), and how much it
# grows while it holds fewer cars than asked for.
FIRST_BOX_M = 1_000.0
BOX_GROWTH = 4.0


@dataclass(frozen=True)
class Box:
    """Latitude and longitude bounds (degrees) around a point; ``lon`` None: every longitude."""

    lat: tuple[float, float]
    lon: tuple[float, float] | None


def box_around(lat: float, lon: float, radius_m: float) -> Box | None:
    """A lat/lon box outside which every point is farther than ``radius_m`` from (``lat``,
    ``lon``) as ``haversine_m`` measures; None when that is the whole Earth.

    Outside the latitude band, |Δφ| > δ = r/R, so hav(d/R) ≥ hav(Δφ) > hav(δ). Inside it,
    hav(d/R) ≥ cos φ cos φ' hav(Δλ) with cos φ' ≥ cos φ_edge (the band's edge farther from the
    equator), so |Δλ| > 2 asin(sin(δ/2) / √(cos φ cos φ_edge)) is farther than r too. Near a
    pole or across the antimeridian the longitudes are left open (correct, only slower).
    """
    delta = radius_m / EARTH_RADIUS_M
    if delta >= math.pi:
        return None
    dlat = math.degrees(delta)
    south, north = lat - dlat, lat + dlat
    if south <= -90 or north >= 90:
        return Box((south, north), None)
    edge = math.radians(max(abs(south), abs(north)))
    ratio = math.sin(delta / 2) / math.sqrt(math.cos(math.radians(lat)) * math.cos(edge))
    if ratio >= 1:
        return Box((south, north), None)
    dlon = math.degrees(2 * math.asin(ratio))
    if lon - dlon <= -180 or lon + dlon >= 180:
        return Box((south, north), None)
    return Box((south, north), (lon - dlon, lon + dlon))


class PatrolPositions:
    """Available patrols with fresh positions, as arrays ready for one vectorised pass."""

    def __init__(self, patrols: list[tuple[int, str, float, float]]):
        self.ids = [p[0] for p in patrols]
        self.names = [p[1] for p in patrols]
        self.lats = np.fromiter((p[2] for p in patrols), dtype=float, count=len(patrols))
        self.lons = np.fromiter((p[3] for p in patrols), dtype=float, count=len(patrols))

    @classmethod
    def available(cls, session: Session, *, max_age: timedelta,
                  seen_within: timedelta = PRESENCE_GRACE, now: datetime | None = None,
                  exclude: int | Collection[int] | None = None,
                  within: Box | None = None) -> PatrolPositions:
        """Patrols that are available, present and placed: on duty and free, a tablet of the
        car connected or seen within ``seen_within`` (``PRESENCE_GRACE_S``; see
        ``jobs.patrols``), and a position not older than ``max_age``; with ``within``, only
        those placed in that box (read through the index ``ix_patrol_presence_lat_lon``: the
        presence rows in the box, each joined to its car's status by primary key).

        Without a box this reads every car on duty: to choose among them, ``nearest_available``
        reads a box around the address instead. Plain driver SQL: ORM rows for hundreds of
        patrols would cost milliseconds for nothing.
        """
        now = now or utcnow()
        since, seen = now - max_age, now - seen_within
        connection = session.connection()
        if connection.dialect.name == "sqlite":
            mark, values = "?", [sqlite_timestamp(since), sqlite_timestamp(seen),
                                 sqlite_timestamp(seen)]
        else:
            mark, values = "%s", [since, seen, seen]
        area = ""
        if within is not None:
            area += f" AND pp.lat BETWEEN {mark} AND {mark}"
            values += within.lat
            if within.lon is not None:
                area += f" AND pp.lon BETWEEN {mark} AND {mark}"
                values += within.lon
        query = ("SELECT p.id, p.name, pp.lat, pp.lon FROM patrol_presence pp "  # noqa: S608
                 "JOIN patrols p ON p.id = pp.patrol_id WHERE p.status = 'available' "
                 f"AND pp.lat IS NOT NULL AND pp.position_at >= {mark} "
                 f"AND (pp.last_seen_at >= {mark} OR pp.position_at >= {mark}){area} "
                 "ORDER BY p.id")
        rows = connection.exec_driver_sql(query, tuple(values)).fetchall()
        excluded = _ids(exclude)
        return cls([r for r in rows if r[0] not in excluded])

    def nearest(self, lat: float, lon: float, limit: int = 3,
                speed_kmh: float = 30.0) -> list[Candidate]:
        """The ``limit`` nearest, nearest first; ties go to the lower patrol id (stable)."""
        if not self.ids:
            return []
        distances = haversine_m(lat, lon, self.lats, self.lons)
        k = min(limit, len(self.ids))
        if k < len(self.ids):
            # argpartition splits ties at the k-th distance arbitrarily: take them all back.
            kth = distances[np.argpartition(distances, k - 1)[k - 1]]
            part = np.flatnonzero(distances <= kth)
        else:
            part = np.arange(len(self.ids))
        order = part[np.lexsort((part, distances[part]))][:k]
        return [
            Candidate(self.ids[i], self.names[i], float(distances[i]),
                      eta_minutes(float(distances[i]), speed_kmh))
            for i in order
        ]


def nearest_available(session: Session, lat: float, lon: float, *, limit: int = 1,
                      max_age: timedelta, seen_within: timedelta = PRESENCE_GRACE,
                      now: datetime | None = None,
                      exclude: int | Collection[int] | None = None,
                      first_radius_m: float = FIRST_BOX_M) -> list[Candidate]:
    """The ``limit`` nearest available, present and placed patrols (``PatrolPositions``'s
    rules), nearest first, ties to the lower patrol id: the same answer as reading every car
    on duty, from the cars in a box around the address.

    The box starts ``first_radius_m`` from the address to its sides. Every car outside it is
    farther than that (``box_around``), so once the box holds ``limit`` cars and the farthest
    of them is within that radius, no car outside can be nearer or tie. Else it grows: to the
    farthest one's distance if it holds enough (which settles it), ``BOX_GROWTH`` times if not,
    up to the whole Earth. A dispatch thus reads the few dozen cars around the address, not
    the whole fleet on duty.
    """
    now = now or utcnow()
    radius = first_radius_m
    while True:
        # A hair wider than the radius: no rounding of the distances can then let a car
        # outside the box tie with one inside it.
        box = box_around(lat, lon, radius * (1 + 1e-6) + 0.01)
        found = PatrolPositions.available(session, max_age=max_age, seen_within=seen_within,
                                          now=now, exclude=exclude, within=box).nearest(
            lat, lon, limit=limit)
        if box is None or (len(found) == limit and found[-1].distance_m <= radius):
            return found
        radius = found[-1].distance_m if len(found) == limit else radius * BOX_GROWTH


def _ids(exclude: int | Collection[int] | None) -> frozenset[int]:
    if exclude is None:
        return frozenset()
    return frozenset([exclude]) if isinstance(exclude, int) else frozenset(exclude)


def distance_m(complaint: Complaint, patrol: Patrol) -> float | None:
    """Straight-line metres from a patrol to a complaint's address, if both are placed."""
    if complaint.lat is None or patrol.lat is None:
        return None
    return float(haversine_m(complaint.lat, complaint.lon, np.array([patrol.lat]),
                             np.array([patrol.lon]))[0])


def eta_minutes(distance_m: float, speed_kmh: float = 30.0) -> int:
    """A driving-time estimate: straight line × 1.3 for streets, at city speed, plus a minute."""
    return int(round(1 + distance_m * 1.3 / (speed_kmh * 1000 / 60)))


# -- complaints and jobs --------------------------------------------------------------------

@dataclass
class NewComplaint:
    """What the operator logged."""

    landlord: Landlord
    category: str
    description: str = ""
    priority: int = 2
    object_id: int | None = None
    entrance_id: int | None = None
    caller_name: str | None = None
    caller_phone: str | None = None
    disturbed_party: str | None = None
    suspected_object_id: int | None = None
    suspected_source: str | None = None
    call_id: int | None = None
    call_received_at: datetime | None = None


def create_complaint(session: Session, data: NewComplaint, *, user_id: int | None) -> Job:
    """Log a complaint and its job (queued until dispatched); return the job."""
    if data.category not in CATEGORIES:
        raise DispatchError("invalid_category",
                            f"category must be one of {', '.join(CATEGORIES)}")
    if data.priority not in (1, 2, 3):
        raise DispatchError("invalid_priority", "priority must be 1 (urgent), 2 or 3")
    obj = entrance = None
    if data.object_id is not None:
        obj = session.get(RentalObject, data.object_id)
        if obj is None or obj.landlord_id != data.landlord.id:
            raise DispatchError("unknown_object", "no such object in this landlord's register")
        entrance = obj.entrance
    elif data.entrance_id is not None:
        entrance = session.get(Entrance, data.entrance_id)
        if entrance is None or entrance.landlord_id != data.landlord.id:
            raise DispatchError("unknown_entrance", "no such address in this landlord's register")
    else:
        raise DispatchError("address_required", "choose the address (object_id or entrance_id)")
    if data.suspected_object_id is not None:
        suspected = session.get(RentalObject, data.suspected_object_id)
        if suspected is None or suspected.landlord_id != data.landlord.id:
            raise DispatchError("unknown_object", "no such suspected object in this register")
    phone = None
    if data.caller_phone:
        phone = normalise_phone(data.caller_phone)
        if phone is None:
            raise DispatchError("invalid_phone", "the caller's phone number is not a number")
    now = utcnow()
    complaint = Complaint(
        landlord_id=data.landlord.id, call_id=data.call_id,
        object_id=obj.id if obj else None, entrance_id=entrance.id,
        address=full_address(entrance), lagenhetsnummer=obj.lagenhetsnummer if obj else None,
        lat=entrance.lat, lon=entrance.lon, category=data.category, priority=data.priority,
        description=data.description.strip(), caller_name=(data.caller_name or "").strip() or None,
        caller_phone=phone, disturbed_party=data.disturbed_party,
        suspected_object_id=data.suspected_object_id, suspected_source=data.suspected_source,
        call_received_at=data.call_received_at or now, created_by_id=user_id, created_at=now,
    )
    job = Job(complaint=complaint, status="queued", created_at=now)
    job.events.append(JobEvent(kind="created", at=now, user_id=user_id))
    session.add_all([complaint, job])
    session.flush()
    publish(session, "job.updated", console_job(job), namespace="/console")
    if data.call_id is not None:  # the call is taken: off every console's waiting calls
        publish(session, "call.taken", {"call_id": data.call_id}, namespace="/console")
    return job


def assign(session: Session, job: Job, patrol: Patrol, *, user_id: int | None,
           distance_m: float | None = None, reason: str | None = None) -> Job:
    """Give the job to ``patrol`` (or move it there from another patrol). With ``reason``
    (a re-dispatch: ``not_accepted`` by the timer, ``operator``), the history says the job
    was ``withdrawn`` from the car that had it and ``assigned`` to this one, both with it."""
    if job.status in ("done", "cancelled"):
        raise DispatchError("job_closed", f"job {job.id} is {job.status}")
    if patrol.status == "off_duty":
        raise DispatchError("patrol_off_duty", f"{patrol.name} is off duty")
    now = utcnow()
    previous = session.get(Patrol, job.patrol_id) if job.patrol_id else None
    if previous is not None and previous.id == patrol.id:
        return job
    details = {}
    if distance_m:
        details["distance_m"] = round(distance_m)
    if reason:
        details["reason"] = reason
    if previous is None and _at_once(session, patrol):
        return _assign_at_once(session, job, patrol, user_id=user_id,
                               details=details or None, now=now)
    if previous is not None:
        if reason is None:
            job.events.append(JobEvent(kind="reassigned", at=now, patrol_id=previous.id,
                                       user_id=user_id, details={"to": patrol.id}))
            _revoke(session, job, previous.id)
        else:
            _withdraw(session, job, previous.id, reason=reason, user_id=user_id, now=now,
                      to=patrol.id)
    job.patrol_id = patrol.id
    job.status = "assigned"
    job.dispatched_at = now
    job.acknowledged_at = None
    job.alarm = job.alarm_at = None
    job.events.append(JobEvent(kind="assigned", at=now, patrol_id=patrol.id, user_id=user_id,
                               details=details or None))
    patrol.status = "busy"
    session.flush()
    delivery.enqueue(session, patrol_id=patrol.id, job=job, event="job.assigned",
                     payload=job_for_tablet(job))
    _tell_consoles(session, job, patrol)
    if previous is not None:
        # The car that lost the job is not handed it back from the queue at once.
        release_patrol(session, previous, skip=job.id)
    return job


# A dispatch's writes as one statement on PostgreSQL (``_assign_at_once``): the job moved to
# the car, its history's ``assigned`` and the tablet's ``job.assigned`` in the outbox, with
# the check-in interval (``checkins.INTERVAL_SQL``) read into the payload on the way.
_ASSIGN_SQL = text(
    "WITH moved AS (UPDATE jobs SET patrol_id = :patrol_id, status = 'assigned', "  # noqa: S608 (constants only)
    "dispatched_at = :now, acknowledged_at = NULL, alarm = NULL, alarm_at = NULL, "
    "updated_at = :now WHERE id = :job_id), "
    "event AS (INSERT INTO job_events (job_id, kind, at, patrol_id, user_id, "
    "client_event_id, details) VALUES (:job_id, 'assigned', :now, :patrol_id, :user_id, "
    "NULL, :details) RETURNING id), "
    f"checkin AS (SELECT {INTERVAL_SQL} AS s), "
    "delivery AS (INSERT INTO deliveries (patrol_id, job_id, event, payload, created_at, "
    "sent_count) SELECT :patrol_id, :job_id, 'job.assigned', "
    "CAST(CAST(:payload AS jsonb) || jsonb_build_object('check_in_s', checkin.s) AS json), "
    ":now, 0 FROM checkin RETURNING id) "
    "SELECT event.id, delivery.id, (SELECT s FROM checkin) FROM event, delivery"
).bindparams(bindparam("now", type_=UTCDateTime), bindparam("details", type_=JSON),
             bindparam("payload", type_=JSON))


def _at_once(session: Session, patrol: Patrol) -> bool:
    """Whether ``assign`` may write in one statement: on PostgreSQL, for a car already
    claimed (``claim`` made it busy), with nothing else waiting in the session to be written
    first (it is flushed here; usually there is nothing)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    session.flush()
    return patrol.status == "busy"


def _as_loaded(session: Session, obj):
    """Put a row just written by plain SQL into the session as if it had been read."""
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def _assign_at_once(session: Session, job: Job, patrol: Patrol, *, user_id: int | None,
                    details: dict | None, now: datetime) -> Job:
    """``assign`` for a claimed car on PostgreSQL in one round trip instead of three (the
    ORM's UPDATE jobs, INSERT job_events, INSERT deliveries, and the check-in interval's
    read): the same rows, the same events published. The job, its new history row and the
    delivery are left in the session as written (no read back)."""
    moved = {"patrol_id": patrol.id, "status": "assigned", "dispatched_at": now,
             "acknowledged_at": None, "alarm": None, "alarm_at": None, "updated_at": now}
    for name, value in moved.items():
        set_committed_value(job, name, value)
    complaint = job.complaint
    payload = job_for_tablet(job, check_in=False)
    event_id, delivery_id, check_in_s = session.execute(_ASSIGN_SQL, {
        "patrol_id": patrol.id, "job_id": job.id, "now": now, "user_id": user_id,
        "details": details, "payload": payload,
        **interval_sql_params(complaint.landlord_id, complaint.category)}).one()
    event = _as_loaded(session, JobEvent(
        id=event_id, job_id=job.id, kind="assigned", at=now, patrol_id=patrol.id,
        user_id=user_id, client_event_id=None, details=details))
    if "events" in job.__dict__:  # a history already read: the new row is at its end
        set_committed_value(job, "events", [*job.events, event])
    set_committed_value(event, "job", job)
    payload["check_in_s"] = check_in_s
    outbox = _as_loaded(session, Delivery(
        id=delivery_id, patrol_id=patrol.id, job_id=job.id, event="job.assigned",
        payload=payload, created_at=now, sent_count=0, last_sent_at=None, acked_at=None))
    delivery.announce(session, outbox)
    _tell_consoles(session, job, patrol)
    return job


def _tell_consoles(session: Session, job: Job, patrol: Patrol) -> None:
    """After an assignment: the job and the car as every console shows them."""
    publish(session, "job.updated", console_job(job), namespace="/console")
    publish(session, "patrol.updated", patrol_json(patrol), namespace="/console")


def _revoke(session: Session, job: Job, patrol_id: int, reason: str = "moved") -> None:
    """The car loses the job: nothing more about it is sent there, and its tablet is told
    (``job.revoked``, through the outbox: it arrives however long the tablet was away), with
    why: ``moved`` (to another car or back to the queue), ``not_accepted``, ``cancelled``."""
    delivery.supersede(session, patrol_id=patrol_id, job_id=job.id)
    delivery.enqueue(session, patrol_id=patrol_id, job=job, event="job.revoked",
                     payload={"job_id": job.id, "reason": reason})


def _withdraw(session: Session, job: Job, patrol_id: int, *, reason: str,
              user_id: int | None, now: datetime, to: int | None = None) -> None:
    job.events.append(JobEvent(kind="withdrawn", at=now, patrol_id=patrol_id, user_id=user_id,
                               details={"reason": reason, "to": to}))
    _revoke(session, job, patrol_id, "not_accepted" if reason == "not_accepted" else "moved")


def lock(session: Session, job: Job) -> Job:
    """Read the job again, locked until the transaction ends (PostgreSQL; on SQLite the
    writer's turn already is): the acknowledgement timer, the operator and the tablet may act
    on it at once, and each must see what the one before did."""
    session.execute(select(Job.id).where(Job.id == job.id).with_for_update())
    session.refresh(job, attribute_names=["status", "patrol_id", "dispatched_at",
                                          "acknowledged_at", "alarm", "alarm_at"])
    return job


# -- the operator's (and the timer's) actions on a job --------------------------------------

def _open(job: Job) -> None:
    if object_session(job) is not None and object_session(job).get_bind().dialect.name == (
            "postgresql"):
        lock(object_session(job), job)
    if job.status in ("done", "cancelled"):
        raise DispatchError("job_closed", f"job {job.id} is {job.status}")


def had_job(job: Job) -> set[int]:
    """The cars this job has been assigned to so far (its history's ``assigned``)."""
    return {e.patrol_id for e in job.events if e.kind == "assigned" and e.patrol_id}


def redispatch(session: Session, job: Job, *, user_id: int | None, reason: str,
               max_age: timedelta, seen_within: timedelta = PRESENCE_GRACE,
               patrol: Patrol | None = None) -> Candidate | None:
    """Send the job on: to ``patrol``, or to the nearest available car that has not had it
    yet. None (nothing changed) when no such car is free."""
    _open(job)
    if patrol is not None:
        if patrol.id == job.patrol_id:
            raise DispatchError("same_patrol", f"job {job.id} is already with {patrol.name}")
        distance = distance_m(job.complaint, patrol)
        assign(session, job, patrol, user_id=user_id, distance_m=distance, reason=reason)
        return Candidate(patrol.id, patrol.name, distance or 0.0,
                         eta_minutes(distance or 0.0))
    complaint = job.complaint
    if complaint.lat is None:
        raise DispatchError("not_placed", "the address has no position; choose a patrol")
    taken = take_nearest(session, complaint.lat, complaint.lon, max_age=max_age,
                         seen_within=seen_within, exclude=had_job(job) | (
                             {job.patrol_id} if job.patrol_id else set()))
    if taken is None:
        return None
    patrol, best = taken
    assign(session, job, patrol, user_id=user_id, distance_m=best.distance_m, reason=reason)
    return best


def requeue(session: Session, job: Job, *, user_id: int | None, reason: str,
            alarm: str | None = None) -> Job:
    """Take the job from its car (if it has one) and put it back in the queue; with
    ``alarm``, it waits there with that alarm standing."""
    _open(job)
    if job.status == "queued":
        raise DispatchError("already_queued", f"job {job.id} is already in the queue")
    now = utcnow()
    previous = session.get(Patrol, job.patrol_id) if job.patrol_id else None
    if previous is not None:
        _withdraw(session, job, previous.id, reason=reason, user_id=user_id, now=now)
    job.patrol_id, job.status, job.dispatched_at, job.acknowledged_at = None, "queued", None, None
    job.alarm, job.alarm_at = (alarm, now) if alarm else (None, None)
    job.events.append(JobEvent(kind="queued", at=now, user_id=user_id,
                               details={"reason": reason}))
    session.flush()
    publish(session, "job.updated", console_job(job), namespace="/console")
    if previous is not None:
        release_patrol(session, previous, skip=job.id)
    return job


def cancel(session: Session, job: Job, *, user_id: int | None, reason: str) -> Job:
    """Cancel the job with the operator's reason; the car that had it loses it."""
    _open(job)
    reason = (reason or "").strip()
    if not reason:
        raise DispatchError("reason_required", "say why the job is cancelled")
    now = utcnow()
    previous = session.get(Patrol, job.patrol_id) if job.patrol_id else None
    if previous is not None:
        _revoke(session, job, previous.id, "cancelled")
    job.status = "cancelled"
    job.alarm = job.alarm_at = None
    job.events.append(JobEvent(kind="cancelled", at=now, patrol_id=previous.id if previous
                               else None, user_id=user_id, details={"reason": reason}))
    session.flush()
    publish(session, "job.updated", console_job(job), namespace="/console")
    if previous is not None:
        release_patrol(session, previous)
    return job


def dispatch_nearest(session: Session, job: Job, *, user_id: int | None,
                     max_age: timedelta, seen_within: timedelta = PRESENCE_GRACE
                     ) -> tuple[Job, Candidate | None]:
    """Assign the nearest available (and present) patrol; with none free, the job waits in
    the queue."""
    complaint = job.complaint
    if complaint.lat is None:
        raise DispatchError("not_placed", "the address has no position; choose a patrol")
    if job.status in ("done", "cancelled"):
        raise DispatchError("job_closed", f"job {job.id} is {job.status}")
    taken = take_nearest(session, complaint.lat, complaint.lon, max_age=max_age,
                         seen_within=seen_within)
    if taken is None:
        return job, None
    patrol, best = taken
    assign(session, job, patrol, user_id=user_id, distance_m=best.distance_m)
    return job, best


# The presence columns read back with a claimed car (``claim``).
_PRESENCE = ("last_seen_at", "lat", "lon", "accuracy_m", "position_at")


def claim(session: Session, patrol_id: int) -> Patrol | None:
    """Take an available car for a job in one statement: ``UPDATE patrols SET status =
    'busy' ... WHERE id = :id AND status = 'available' RETURNING`` the car and its presence.
    None when it is not available any more (another dispatch, in another process, took it
    since the nearest-car read). The car comes back loaded, presence and all: no second read
    before ``assign`` (which finds it busy already)."""
    row = session.execute(
        update(Patrol).where(Patrol.id == patrol_id, Patrol.status == "available")
        .values(status="busy", updated_at=utcnow())
        .returning(Patrol, *(getattr(Patrol, name) for name in _PRESENCE)),
        execution_options={"synchronize_session": False, "populate_existing": True}).first()
    if row is None:
        return None
    patrol, values = row[0], dict(zip(_PRESENCE, row[1:], strict=True))
    presence = session.identity_map.get(session.identity_key(PatrolPresence, patrol.id))
    if presence is None:  # the row as read, in the session as if loaded
        presence = PatrolPresence(patrol_id=patrol.id, **values)
        make_transient_to_detached(presence)
        session.add(presence)
    else:
        for name, value in values.items():
            set_committed_value(presence, name, value)
    set_committed_value(patrol, "presence", presence)
    return patrol


def take_nearest(session: Session, lat: float, lon: float, *, max_age: timedelta,
                 seen_within: timedelta = PRESENCE_GRACE,
                 exclude: Collection[int] = ()) -> tuple[Patrol, Candidate] | None:
    """The nearest available car (``nearest_available``), claimed (``claim``); if another
    dispatch took it between the read and the claim, the next nearest. None: no car free."""
    excluded = set(exclude)
    while True:
        found = nearest_available(session, lat, lon, limit=1, max_age=max_age,
                                  seen_within=seen_within, exclude=excluded)
        if not found:
            return None
        patrol = claim(session, found[0].patrol_id)
        if patrol is not None:
            return patrol, found[0]
        excluded.add(found[0].patrol_id)


def release_patrol(session: Session, patrol: Patrol, *, skip: int | None = None
                   ) -> Job | None:
    """The patrol has no job any more: it is available again, and the queue's first job (if
    one waits; not job ``skip``, just taken from it) goes to it. Returns that job."""
    busy = session.scalar(select(Job.id).where(Job.patrol_id == patrol.id,
                                               Job.status.in_(ACTIVE_STATUSES)).limit(1))
    if busy is not None:
        return None  # still has another job
    patrol.status = "available"
    session.flush()
    publish(session, "patrol.updated", patrol_json(patrol), namespace="/console")
    return patrol_became_available(session, patrol, skip=skip)


def next_queued_job(session: Session, *, skip: int | None = None) -> Job | None:
    """The job that waited longest among the most urgent (not job ``skip``)."""
    query = select(Job).join(Complaint).where(Job.status == "queued")
    if skip is not None:
        query = query.where(Job.id != skip)
    return session.scalar(query.order_by(Complaint.priority, Job.created_at, Job.id).limit(1))


def patrol_became_available(session: Session, patrol: Patrol, *, skip: int | None = None
                            ) -> Job | None:
    """Give the queue's first job to a patrol that just became free; return it if any."""
    job = next_queued_job(session, skip=skip)
    if job is None:
        return None
    return assign(session, job, patrol, user_id=None,
                  distance_m=distance_m(job.complaint, patrol))


def open_jobs(session: Session) -> list[Job]:
    """Jobs not yet done, oldest first."""
    return list(session.scalars(
        select(Job).where(Job.status.in_(ACTIVE_STATUSES)).order_by(Job.created_at, Job.id)))


# -- the patrol's side ----------------------------------------------------------------------

_ORDER = {"queued": -1, "assigned": 0, "accepted": 1, "en_route": 2, "on_site": 3, "done": 4}


def record_status(session: Session, job: Job, *, patrol_id: int, status: str,
                  at: datetime | None = None, event_id: str | None = None) -> bool:
    """A status the tablet reports (accepted, en_route, on_site, done); True if it changed
    anything. Idempotent: the same ``event_id`` again, or a status the job is already past
    (a replay arriving late), changes nothing."""
    if status not in PATROL_STATUS_STEPS:
        raise DispatchError("invalid_status",
                            f"status must be one of {', '.join(PATROL_STATUS_STEPS)}")
    if session.get_bind().dialect.name == "postgresql":
        lock(session, job)  # the timer may be moving it this very moment
    if job.patrol_id != patrol_id:
        raise DispatchError("not_your_job", f"job {job.id} is not assigned to this patrol")
    if event_id is not None and session.scalar(
            select(JobEvent.id).where(JobEvent.job_id == job.id,
                                      JobEvent.client_event_id == event_id)):
        return False
    if job.status == "cancelled" or _ORDER[status] <= _ORDER.get(job.status, -1):
        return False
    now = utcnow()
    when = min(at, now) if at is not None else now  # a tablet clock ahead is not believed
    job.status = status
    job.alarm = job.alarm_at = None  # a person has taken it: the timer's alarm ends
    if job.acknowledged_at is None:
        job.acknowledged_at = now
    if status == "on_site" and job.arrived_at is None:
        job.arrived_at = when
    if status == "done":
        job.finished_at = when
    job.events.append(JobEvent(kind=status, at=when, patrol_id=patrol_id,
                               client_event_id=event_id, details={"received_at": now.isoformat()}))
    session.flush()
    publish(session, "job.updated", console_job(job), namespace="/console")
    if status == "done":
        patrol = session.get(Patrol, patrol_id)
        if patrol is not None:
            release_patrol(session, patrol)
    return True


def set_patrol_status(session: Session, patrol: Patrol, status: str) -> Patrol:
    """The car goes on duty (available) or off duty; a free car is offered the queue."""
    if status not in ("available", "off_duty"):
        raise DispatchError("invalid_status", "status must be available or off_duty")
    if status == "off_duty":
        busy = session.scalar(select(Job.id).where(Job.patrol_id == patrol.id,
                                                   Job.status.in_(ACTIVE_STATUSES)).limit(1))
        if busy is not None:
            raise DispatchError("has_job", "finish or hand over the current job first")
        patrol.status = "off_duty"
        session.flush()
        publish(session, "patrol.updated", patrol_json(patrol), namespace="/console")
        return patrol
    release_patrol(session, patrol)
    return patrol


def end_shift(session: Session, patrol: Patrol) -> Patrol:
    """The car's tablet session ended (the patrol logged out, or an admin revoked the
    tablet): the car goes off duty at once, even with a job in hand (it stays on the board
    under the car, an unacknowledged one raises the alarm, and the operator moves it), and the
    consoles hear of it."""
    if patrol.status != "off_duty":
        patrol.status = "off_duty"
        session.flush()
        publish(session, "patrol.updated", patrol_json(patrol), namespace="/console")
    return patrol


def update_position(session: Session, patrol: Patrol, *, lat: float, lon: float,
                    accuracy_m: float | None = None, at: datetime | None = None) -> Patrol:
    """A position report from the car's tablet: one upsert of the car's presence row (never
    a lock on its row in ``patrols``) and the report kept in ``patrol_positions``."""

    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise DispatchError("invalid_position", "lat/lon out of range")
    now = utcnow()
    when = min(at, now) if at is not None else now
    if patrol.position_at is not None and when < patrol.position_at:
        return patrol  # an old report arriving after a newer one
    values = {"lat": lat, "lon": lon, "accuracy_m": accuracy_m, "position_at": when}
    # (A newer report written meanwhile by another process is not overwritten.)
    upsert_presence(session, patrol.id, values, where=(
        PatrolPresence.position_at.is_(None) | (PatrolPresence.position_at <= when)))
    session.add(PatrolPosition(patrol_id=patrol.id, lat=lat, lon=lon, accuracy_m=accuracy_m,
                               at=when))
    session.flush()
    publish(session, "patrol.updated", patrol_json(patrol), namespace="/console")
    return patrol
