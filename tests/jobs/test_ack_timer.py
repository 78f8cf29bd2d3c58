"""The acknowledgement timer (dispatch/jobs/ack_timer.py), kept by the server: a job nobody on
the car has accepted raises one alarm at the first limit, and at the second is sent once to
another car (or back to the queue with an alarm when no other car is free), the first car's
tablet told through the outbox; each step is in the job's history. Two web processes running
the pass at the same time move the job once."""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from dispatch.jobs import delivery
from dispatch.jobs.ack_timer import check_acceptance, standing_alarms
from dispatch.jobs.dispatching import NewComplaint, assign, create_complaint, record_status
from dispatch.models import (
    Complaint,
    Delivery,
    Job,
    JobEvent,
    Landlord,
    Patrol,
    RentalObject,
    utcnow,
)
from dispatch.models.base import Base
from dispatch.register.landlords import get_landlord
from tests.conftest import _fresh_database_url

ALARM, MOVE = timedelta(seconds=60), timedelta(seconds=120)
FRESH = timedelta(minutes=5)
GOTGATAN = (59.3121, 18.0713)


def _pass(session, at):
    return check_acceptance(session, alarm_after=ALARM, redispatch_after=MOVE, max_age=FRESH,
                            now=at)


@pytest.fixture
def job(create_landlord, build_register, db_session):
    landlord = create_landlord(code="ACME")
    build_register(landlord, [{"objektsnummer": "1-1102", "gatuadress": "Götgatan 12B",
                               "postnummer": "118 46", "ort": "Stockholm",
                               "lagenhetsnummer": "1102", "portkod": "4711",
                               "lat": str(GOTGATAN[0]), "lon": str(GOTGATAN[1])}])
    flat = db_session.query(RentalObject).one()
    return create_complaint(db_session, NewComplaint(
        landlord=get_landlord(db_session, "ACME"), category="music", object_id=flat.id),
        user_id=None)


def _car(db_session, name, lat, lon):
    car = Patrol(call_sign=name, name=name, status="available", lat=lat, lon=lon,
                 position_at=utcnow(), last_seen_at=utcnow())
    db_session.add(car)
    db_session.flush()
    return car


@pytest.fixture
def cars(db_session):
    """Three cars: A at the address, B 1 km north, C 3 km north."""
    return [_car(db_session, "A", 59.3121, 18.0713), _car(db_session, "B", 59.3211, 18.0713),
            _car(db_session, "C", 59.3391, 18.0713)]


def _kinds(job):
    return [(e.kind, e.patrol_id, (e.details or {}).get("reason")) for e in job.events]


def test_nothing_happens_before_the_first_limit(db_session, job, cars):
    assign(db_session, job, cars[0], user_id=None)
    done = _pass(db_session, job.dispatched_at + ALARM - timedelta(seconds=1))
    assert (done.alarms, done.redispatched, done.requeued) == ([], {}, [])
    assert job.alarm is None and standing_alarms(db_session) == 0


def test_a_job_not_accepted_by_the_first_limit_raises_one_alarm(db_session, job, cars):
    car = cars[0]
    assign(db_session, job, car, user_id=None)
    # The tablet acknowledged delivery by itself: that is not a person accepting it.
    delivery.acknowledge(db_session, patrol_id=car.id, job_id=job.id)
    assert job.acknowledged_at is not None

    sent = job.dispatched_at
    assert _pass(db_session, sent + ALARM + timedelta(seconds=1)).alarms == [job.id]
    assert _pass(db_session, sent + ALARM + timedelta(seconds=20)).alarms == []
    assert job.alarm == "not_accepted" and job.status == "assigned" and job.patrol_id == car.id
    assert [e.kind for e in job.events].count("ack_alarm") == 1
    assert standing_alarms(db_session) == 1


def test_accepting_ends_the_alarm_and_the_timer(db_session, job, cars):
    car = cars[0]
    assign(db_session, job, car, user_id=None)
    sent = job.dispatched_at
    _pass(db_session, sent + ALARM + timedelta(seconds=1))
    record_status(db_session, job, patrol_id=car.id, status="accepted")
    assert job.alarm is None and standing_alarms(db_session) == 0
    done = _pass(db_session, sent + MOVE + timedelta(seconds=1))
    assert done.redispatched == {} and job.patrol_id == car.id and job.status == "accepted"


def test_at_the_second_limit_the_job_goes_once_to_the_next_nearest_car(db_session, job, cars):
    a, b, _c = cars
    assign(db_session, job, a, user_id=None)
    sent = job.dispatched_at
    _pass(db_session, sent + ALARM + timedelta(seconds=1))

    done = _pass(db_session, sent + MOVE + timedelta(seconds=1))
    assert done.redispatched == {job.id: b.id}
    assert job.patrol_id == b.id and job.status == "assigned" and job.alarm is None
    # The next pass, a second later: B's own time runs from its dispatch.
    again = _pass(db_session, job.dispatched_at + timedelta(seconds=1))
    assert again.redispatched == {} and again.alarms == [] and job.patrol_id == b.id
    assert _kinds(job)[-2:] == [("withdrawn", a.id, "not_accepted"),
                                ("assigned", b.id, "not_accepted")]
    # The first car's tablet is told through the outbox; its job.assigned is sent no more.
    pending = [(d.event, d.payload) for d in delivery.pending(db_session, a.id)]
    assert pending == [("job.revoked", {"job_id": job.id, "reason": "not_accepted"})]
    assert a.status == "available" and b.status == "busy"
    assert [d.event for d in delivery.pending(db_session, b.id)] == ["job.assigned"]


def test_a_car_that_has_had_the_job_is_not_given_it_again(db_session, job, cars):
    a, b, c = cars
    assign(db_session, job, a, user_id=None)
    _pass(db_session, job.dispatched_at + MOVE + timedelta(seconds=1))  # → B
    assert job.patrol_id == b.id
    # B does not accept either: A is nearer, but it had the job: C gets it.
    _pass(db_session, job.dispatched_at + MOVE + timedelta(seconds=1))
    assert job.patrol_id == c.id


def test_with_no_other_car_free_the_job_goes_back_to_the_queue_with_an_alarm(
        db_session, job, cars):
    a, b, c = cars
    b.status = c.status = "off_duty"
    assign(db_session, job, a, user_id=None)
    done = _pass(db_session, job.dispatched_at + MOVE + timedelta(seconds=1))
    assert done.requeued == [job.id] and done.redispatched == {}
    assert job.status == "queued" and job.patrol_id is None and job.alarm == "no_car"
    assert standing_alarms(db_session) == 1
    assert ("withdrawn", a.id, "not_accepted") in _kinds(job)
    assert [d.event for d in delivery.pending(db_session, a.id)] == ["job.revoked"]
    # The car that did not accept is free again, but not handed the same job back.
    assert a.status == "available"
    # The next car that comes on duty takes it, and the alarm ends.
    b.status = "off_duty"
    from dispatch.jobs.dispatching import set_patrol_status
    set_patrol_status(db_session, b, "available")
    assert job.patrol_id == b.id and job.status == "assigned" and job.alarm is None


def test_a_job_at_an_address_with_no_position_goes_back_to_the_queue_with_an_alarm(
        db_session, job, cars):
    job.complaint.lat = job.complaint.lon = None
    assign(db_session, job, cars[0], user_id=None)
    done = _pass(db_session, job.dispatched_at + MOVE + timedelta(seconds=1))
    assert done.requeued == [job.id]
    assert job.status == "queued" and job.alarm == "no_car"


def test_the_consoles_hear_the_alarm(db_session, job, cars):
    from dispatch.core.realtime import _PENDING

    assign(db_session, job, cars[0], user_id=None)
    db_session.info.pop(_PENDING, None)
    _pass(db_session, job.dispatched_at + ALARM + timedelta(seconds=1))
    events = {(e.name, e.namespace) for e in db_session.info.get(_PENDING, [])}
    assert {("job.updated", "/console"), ("job.alarm", "/console")} <= events
    updated = next(e.data for e in db_session.info[_PENDING] if e.name == "job.updated")
    assert updated["alarm"] == "not_accepted" and updated["alarm_at"]


# -- two web processes at once ---------------------------------------------------------------

@pytest.fixture
def own_database(tmp_path_factory):
    """An engine on a database of its own (the suite's rolls each test back on one
    connection: two sessions at once need real commits)."""
    url, drop = _fresh_database_url(tmp_path_factory, "acktimer")
    engine = sa.create_engine(url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()
    drop()


def _seed(engine) -> tuple[int, int, int]:
    """A job assigned to car A three minutes ago, never accepted; car B free. Ids."""
    with Session(engine) as session:
        landlord = Landlord(code="ACME", name="Acme")
        session.add(landlord)
        session.flush()
        a, b = _car(session, "A", *GOTGATAN), _car(session, "B", 59.3211, 18.0713)
        complaint = Complaint(landlord_id=landlord.id, address="Götgatan 12B, 118 46 Stockholm",
                              lat=GOTGATAN[0], lon=GOTGATAN[1], category="music")
        job = Job(complaint=complaint, status="queued")
        session.add_all([complaint, job])
        session.flush()
        assign(session, job, a, user_id=None)
        job.dispatched_at = utcnow() - timedelta(minutes=3)
        session.commit()
        return job.id, a.id, b.id


def test_two_passes_at_once_move_the_job_once(own_database):
    job_id, a_id, b_id = _seed(own_database)
    start = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            with Session(own_database) as session:
                start.wait(timeout=10)
                done = check_acceptance(session, alarm_after=ALARM, redispatch_after=MOVE,
                                        max_age=FRESH)
                session.commit()
                results.append(done)
        except Exception as exc:  # noqa: BLE001 (what the test counts)
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(len(r.redispatched) for r in results) == [0, 1]
    with Session(own_database) as session:
        job = session.get(Job, job_id)
        assert job.patrol_id == b_id
        kinds = [(e.kind, e.patrol_id) for e in job.events]
        assert kinds.count(("withdrawn", a_id)) == 1 and kinds.count(("assigned", b_id)) == 1
        revoked = session.scalars(sa.select(Delivery).where(
            Delivery.patrol_id == a_id, Delivery.event == "job.revoked")).all()
        assert len(revoked) == 1


@pytest.mark.postgres_only
def test_a_job_another_process_is_moving_is_skipped_not_waited_for(own_database):
    assert os.environ.get("TEST_DATABASE_URL")
    job_id, _a_id, b_id = _seed(own_database)
    with Session(own_database) as first, Session(own_database) as second:
        moved = check_acceptance(first, alarm_after=ALARM, redispatch_after=MOVE, max_age=FRESH)
        assert moved.redispatched == {job_id: b_id}
        # The first has not committed: its lock on the job makes the second skip it.
        skipped = check_acceptance(second, alarm_after=ALARM, redispatch_after=MOVE,
                                   max_age=FRESH)
        second.commit()
        assert skipped.redispatched == {} and skipped.requeued == []
        first.commit()
        after = check_acceptance(second, alarm_after=ALARM, redispatch_after=MOVE,
                                 max_age=FRESH)
        second.commit()
        assert after.redispatched == {}
        assert second.scalar(sa.select(sa.func.count(JobEvent.id)).where(
            JobEvent.job_id == job_id, JobEvent.kind == "withdrawn")) == 1
