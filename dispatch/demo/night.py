"""A night's work for the demo, so that every page has something to show: the calls, the
jobs of the hours before the demo starts (done, their reports released or waiting for
review), and a few jobs still open on the board. Written as the records the night would have
left (calls, complaints, jobs with their history, reports, releases), with their times in
the past; nothing goes to a tablet's outbox and no car is called. Times are relative to
``now``: reports released before 06:00 are in that morning's mail, later ones in the next
(``dispatch send-morning-reports --now`` sends that one before its 06:00)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.jobs.dispatching import distance_m
from dispatch.models import (
    Call,
    Complaint,
    IncidentReport,
    Job,
    JobEvent,
    Landlord,
    Patrol,
    Person,
    RentalObject,
    ReportRevision,
    User,
)
from dispatch.register.premises import current_tenants
from dispatch.register.queries import full_address


@dataclass(frozen=True)
class Incident:
    category: str
    priority: int
    description: str
    observations: str
    disturber_response: str
    actions: str
    outcome: str


INCIDENTS = [
    Incident("music", 2, "Hög musik och dunkande bas sedan midnatt.",
             "Hög musik hördes i trapphuset från våningen ovanför.",
             "Hyresgästen öppnade och sänkte musiken direkt.",
             "Samtal vid dörren, påminnelse om ordningsreglerna.", "stopped"),
    Incident("party", 2, "Fest med många gäster, skrik och spring i trapphuset.",
             "Ett tjugotal gäster, ytterdörren stod öppen, hög musik.",
             "Värden lovade att avsluta festen inom en halvtimme.",
             "Samtal med värden, återbesök efter 30 minuter: tyst.", "stopped"),
    Incident("shouting", 1, "Skrik och bråk från lägenheten bredvid.",
             "Upprörda röster hördes genom dörren, ingen svarade på ringning.",
             "", "Ringde på två gånger, lyssnade i trapphuset i tio minuter.", "not_stopped"),
    Incident("dog", 3, "Hund som skäller oavbrutet sedan kvällen.",
             "Hunden skällde när vi kom, ingen hemma.", "",
             "Lapp i dörren till hyresgästen om störningen.", "not_stopped"),
    Incident("smoke", 2, "Röklukt i trapphuset, någon röker inomhus.",
             "Svag röklukt vid lägenhetsdörren, ingen brand.",
             "Hyresgästen vädrade och lovade att röka utomhus.",
             "Kontrollerade trapphuset, samtal med hyresgästen.", "stopped"),
    Incident("fight_threat", 1, "Hot och slagsmål i trapphuset, inringaren är rädd.",
             "Två personer bråkade högljutt på entréplanet.", "Personerna avvek.",
             "Polisen larmades via 112, väntade kvar tills de kom.", "police_called"),
    Incident("music", 2, "Musik från lägenheten under, väcker barnen.",
             "Ingen musik hördes vid ankomst, tyst i huset.", "",
             "Lyssnade vid dörren och i trapphuset i tio minuter.", "no_disturbance"),
    Incident("other", 3, "Tvättmaskin som går mitt i natten.",
             "Dunsande centrifugering hördes från lägenheten.",
             "Hyresgästen stängde av maskinen.", "Samtal vid dörren.", "stopped"),
]

DONE_JOBS = 12  # in the hours before now, each with a report
WAITING_FOR_REVIEW = 3  # of those, the latest few: submitted, not released
# Released minutes ago, one for each landlord: in the coming morning's mail, whatever the
# hour (``send-morning-reports --now``), while the earlier ones are in the latest morning's.
RELEASED_JUST_NOW = 3
OPEN_JOBS = (("queued", 4), ("accepted", 9), ("en_route", 14))  # status, minutes since the call


def _flats(session: Session, rng: random.Random, count: int) -> list[RentalObject]:
    """``count`` flats with a tenant, taken from each landlord in turn (every landlord's
    contact has reports to read)."""
    by_landlord: dict[int, list[int]] = {}
    for object_id, landlord_id in session.execute(
            select(RentalObject.id, RentalObject.landlord_id)
            .where(RentalObject.retired_at.is_(None)).order_by(RentalObject.id)):
        by_landlord.setdefault(landlord_id, []).append(object_id)
    pools = [rng.sample(ids, min(len(ids), count * 3)) for _, ids in sorted(by_landlord.items())]
    tenants = current_tenants(session, [i for pool in pools for i in pool])
    pools = [[i for i in pool if tenants.get(i)] for pool in pools]
    chosen: list[int] = []
    while len(chosen) < count and any(pools):
        for pool in pools:
            if pool and len(chosen) < count:
                chosen.append(pool.pop())
    return [session.get(RentalObject, i) for i in chosen]


def _complaint(session: Session, rng: random.Random, flat: RentalObject, incident: Incident,
               called: datetime, operator: User, phone: str | None) -> Complaint:
    entrance = flat.entrance
    tenant = current_tenants(session, [flat.id]).get(flat.id, [])
    call = Call(landlord_id=flat.landlord_id, dialled_number=_oncall(session, flat.landlord_id),
                caller_number=phone, received_at=called)
    session.add(call)
    session.flush()
    return Complaint(
        landlord_id=flat.landlord_id, call_id=call.id, object_id=flat.id,
        entrance_id=entrance.id, address=full_address(entrance),
        lagenhetsnummer=flat.lagenhetsnummer, lat=entrance.lat, lon=entrance.lon,
        category=incident.category, priority=incident.priority,
        description=incident.description,
        caller_name=tenant[0].name if tenant else None, caller_phone=phone,
        disturbed_party=(f"{tenant[0].name}, lgh {flat.lagenhetsnummer}" if tenant else None),
        call_received_at=called, created_by_id=operator.id,
        created_at=called + timedelta(seconds=rng.randint(40, 110)))


def _oncall(session: Session, landlord_id: int) -> str:
    numbers = session.get(Landlord, landlord_id).oncall_numbers
    return numbers[0].number if numbers else ""


def _nearest(patrols: list[Patrol], complaint: Complaint) -> tuple[Patrol, float]:
    ranked = sorted((distance_m(complaint, p) or 0.0, p.id, p) for p in patrols)
    return ranked[0][2], ranked[0][0]


def seed_night(session: Session, rng: random.Random, *, now: datetime,
               operator: User) -> dict:
    """The night before ``now`` and the jobs open at ``now``; returns what was made."""
    patrols = list(session.scalars(select(Patrol).order_by(Patrol.id)))
    phones = list(session.scalars(select(Person.phone).where(Person.phone.isnot(None))
                                         .order_by(Person.id).limit(200)))
    flats = _flats(session, rng, DONE_JOBS + len(OPEN_JOBS))
    counts = {"jobs": 0, "released": 0, "submitted": 0, "open": 0}
    # Done jobs, called between 8 h and 50 min before now, oldest first.
    span = timedelta(hours=8) - timedelta(minutes=50)
    for i, flat in enumerate(flats[:DONE_JOBS]):
        incident = INCIDENTS[i % len(INCIDENTS)]
        called = now - timedelta(hours=8) + span * i / max(1, DONE_JOBS - 1)
        complaint = _complaint(session, rng, flat, incident, called, operator,
                               rng.choice(phones) if phones else None)
        patrol, metres = _nearest(patrols, complaint)
        sent = complaint.created_at + timedelta(seconds=rng.randint(10, 50))
        acked = sent + timedelta(seconds=rng.randint(15, 40))
        arrived = acked + timedelta(minutes=max(3, round(metres / 500)) + rng.randint(0, 6))
        left = arrived + timedelta(minutes=rng.randint(10, 25))
        job = Job(complaint=complaint, patrol_id=patrol.id, status="done",
                  created_at=complaint.created_at, dispatched_at=sent, acknowledged_at=acked,
                  arrived_at=arrived, finished_at=left)
        job.events = [
            JobEvent(kind="created", at=complaint.created_at, user_id=operator.id),
            JobEvent(kind="assigned", at=sent, patrol_id=patrol.id, user_id=operator.id,
                     details={"distance_m": round(metres)}),
            JobEvent(kind="accepted", at=acked, patrol_id=patrol.id),
            JobEvent(kind="en_route", at=acked + timedelta(seconds=20), patrol_id=patrol.id),
            JobEvent(kind="on_site", at=arrived, patrol_id=patrol.id),
            JobEvent(kind="done", at=left, patrol_id=patrol.id),
        ]
        session.add_all([complaint, job])
        session.flush()
        submitted = left + timedelta(minutes=rng.randint(2, 8))
        report = IncidentReport(
            job_id=job.id, landlord_id=complaint.landlord_id, patrol_id=patrol.id,
            arrived_at=arrived, left_at=left, observations=incident.observations,
            disturber_reached=bool(incident.disturber_response),
            disturber_response=incident.disturber_response, tenant_contacted=True,
            actions=incident.actions, outcome=incident.outcome, can_testify=True,
            text=f"{incident.observations} {incident.actions}".strip(),
            status="submitted", submitted_at=submitted, created_at=submitted)
        session.add(report)
        session.flush()
        counts["jobs"] += 1
        if i >= DONE_JOBS - WAITING_FOR_REVIEW:
            counts["submitted"] += 1
            continue
        released = submitted + timedelta(minutes=rng.randint(10, 40))
        if i >= DONE_JOBS - WAITING_FOR_REVIEW - RELEASED_JUST_NOW:
            released = now - timedelta(minutes=rng.randint(3, 9))  # the latest review round
        released = min(released, now - timedelta(minutes=2))
        report.status, report.released_at, report.released_by_id = (
            "released", released, operator.id)
        session.add(ReportRevision(report_id=report.id, user_id=operator.id,
                                   action="released", at=released))
        counts["released"] += 1
    # Jobs still open: one waits in the queue, two have cars on the way.
    busy = set()
    for (status, minutes), flat, incident in zip(OPEN_JOBS, flats[DONE_JOBS:],
                                                 INCIDENTS[1:], strict=False):
        called = now - timedelta(minutes=minutes)
        complaint = _complaint(session, rng, flat, incident, called, operator,
                               rng.choice(phones) if phones else None)
        job = Job(complaint=complaint, status="queued", created_at=complaint.created_at)
        job.events = [JobEvent(kind="created", at=complaint.created_at, user_id=operator.id)]
        if status != "queued":
            patrol, metres = _nearest([p for p in patrols if p.id not in busy], complaint)
            busy.add(patrol.id)
            sent = complaint.created_at + timedelta(seconds=30)
            job.patrol_id, job.status = patrol.id, status
            job.dispatched_at, job.acknowledged_at = sent, sent + timedelta(seconds=25)
            patrol.status = "busy"
            job.events += [
                JobEvent(kind="assigned", at=sent, patrol_id=patrol.id, user_id=operator.id,
                         details={"distance_m": round(metres)}),
                JobEvent(kind="accepted", at=job.acknowledged_at, patrol_id=patrol.id)]
            if status == "en_route":
                job.events.append(JobEvent(kind="en_route",
                                           at=job.acknowledged_at + timedelta(seconds=20),
                                           patrol_id=patrol.id))
        session.add_all([complaint, job])
        counts["open"] += 1
    session.flush()
    return counts
