"""The tablet outbox's timing and ownership rules (dispatch/jobs/delivery.py): a message is
sent again only once the re-send interval has passed since it was last sent, and a car whose
session ends gives back only the unacknowledged jobs it still holds, never a job that has
since moved to another car."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dispatch.jobs import delivery
from dispatch.jobs.dispatching import NewComplaint, assign, create_complaint
from dispatch.models import Patrol, RentalObject, utcnow
from dispatch.register.landlords import get_landlord

RESEND = timedelta(seconds=30)


@pytest.fixture
def job(create_landlord, build_register, db_session):
    landlord = create_landlord(code="ACME")
    build_register(landlord, [{"objektsnummer": "1-1102", "gatuadress": "Götgatan 12B",
                               "postnummer": "118 46", "ort": "Stockholm",
                               "lagenhetsnummer": "1102", "lat": "59.3121", "lon": "18.0713"}])
    flat = db_session.query(RentalObject).one()
    return create_complaint(db_session, NewComplaint(
        landlord=get_landlord(db_session, "ACME"), category="music", object_id=flat.id),
        user_id=None)


@pytest.fixture
def cars(db_session):
    made = [Patrol(call_sign=name, name=name, status="available", lat=59.31, lon=18.07,
                   position_at=utcnow()) for name in ("A", "B")]
    db_session.add_all(made)
    db_session.flush()
    return made


def test_a_message_is_not_due_again_before_the_resend_interval(db_session, job, cars):
    car, _ = cars
    sent = delivery.enqueue(db_session, patrol_id=car.id, job=job, event="job.assigned",
                            payload={})
    written = sent.created_at

    assert delivery.due(db_session, [car.id], older_than=RESEND,
                        now=written + RESEND - timedelta(seconds=1)) == []
    assert delivery.due(db_session, [car.id], older_than=RESEND,
                        now=written + RESEND + timedelta(seconds=1)) == [sent]


def test_a_message_sent_again_waits_the_interval_from_that_send(db_session, job, cars):
    car, _ = cars
    sent = delivery.enqueue(db_session, patrol_id=car.id, job=job, event="job.assigned",
                            payload={})
    sent.last_sent_at = sent.created_at + timedelta(minutes=5)
    db_session.flush()

    assert delivery.due(db_session, [car.id], older_than=RESEND,
                        now=sent.created_at + timedelta(minutes=5, seconds=10)) == []


def test_an_acknowledged_message_is_never_due(db_session, job, cars):
    car, _ = cars
    sent = delivery.enqueue(db_session, patrol_id=car.id, job=job, event="job.assigned",
                            payload={})
    delivery.acknowledge(db_session, patrol_id=car.id, delivery_id=sent.id)

    assert delivery.due(db_session, [car.id], older_than=RESEND,
                        now=utcnow() + timedelta(hours=1)) == []


def test_an_ended_session_gives_back_its_unacknowledged_job(db_session, job, cars):
    car, _ = cars
    assign(db_session, job, car, user_id=None)

    assert delivery.withdraw(db_session, car.id) == [job]
    assert (job.status, job.patrol_id) == ("queued", None)


def test_an_ended_session_leaves_a_job_that_moved_to_another_car_with_that_car(db_session,
                                                                             job, cars):
    first, second = cars
    assign(db_session, job, second, user_id=None)
    # A message to the first car about the job is still unacknowledged (it was the job's
    # car before, or the message crossed the move).
    delivery.enqueue(db_session, patrol_id=first.id, job=job, event="job.assigned", payload={})

    assert delivery.withdraw(db_session, first.id) == []
    assert (job.status, job.patrol_id) == ("assigned", second.id)
    assert delivery.pending(db_session, first.id) == []
