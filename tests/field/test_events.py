"""The /field namespace: jobs that are never lost, statuses that replay safely, positions,
reports."""

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dispatch.core.extensions import socketio
from dispatch.field.events import resend_due
from dispatch.jobs.dispatching import NewComplaint, assign, create_complaint
from dispatch.models import Delivery, IncidentReport, Job, JobEvent, Patrol, utcnow
from dispatch.register.landlords import get_landlord


def _patrol(db_session, call_sign="Jour 11"):
    patrol = Patrol(call_sign=call_sign, name=call_sign, status="available", lat=59.314,
                    lon=18.072, position_at=utcnow())
    db_session.add(patrol)
    db_session.flush()
    return patrol


def _job(db_session, flat):
    return create_complaint(db_session, NewComplaint(
        landlord=get_landlord(db_session, "ACME"), category="music", object_id=flat.id),
        user_id=None)


def _delivered_job(db_session, flat, tablet):
    """Jour 11's tablet connected, a job assigned to the car and received by the tablet."""
    patrol = _patrol(db_session)
    car = tablet("Jour 11").connect()
    job = _job(db_session, flat)
    assign(db_session, job, patrol, user_id=None)
    db_session.commit()
    car.pump()
    return car, job


class Tablet:
    """A tablet as the app behaves: shows each job once, acknowledges what it gets."""

    def __init__(self, app, client, token, call_sign):
        self.app, self.client, self.token, self.call_sign = app, client, token, call_sign
        self.ws = None
        self.shown: list[int] = []
        self.revoked: list[int] = []

    def connect(self):
        self.ws = socketio.test_client(self.app, namespace="/field", flask_test_client=self.client,
                                       auth={"token": self.token, "call_sign": self.call_sign})
        assert self.ws.is_connected("/field")
        return self

    def disconnect(self):
        if self.ws is not None and self.ws.is_connected("/field"):
            self.ws.disconnect(namespace="/field")
        self.ws = None

    def pump(self, ack=True):
        """Read what arrived; show new jobs; acknowledge everything."""
        received = self.ws.get_received("/field")
        for event in received:
            payload = event["args"][0]
            if event["name"] == "job.assigned" and payload["job_id"] not in self.shown:
                self.shown.append(payload["job_id"])
            if event["name"] == "job.revoked":
                self.revoked.append(payload["job_id"])
            if ack:
                answer = self.ws.emit("job.ack", {"delivery_id": payload["delivery_id"]},
                                      namespace="/field", callback=True)
                assert answer["ok"], answer
        return received

    def send(self, event, data):
        return self.ws.emit(event, data, namespace="/field", callback=True)


@pytest.fixture
def tablet(app, client, create_token):
    made = []

    def factory(call_sign):
        token, _ = create_token(role="patrol", kind="device", label=call_sign)
        t = Tablet(app, client, token, call_sign)
        made.append(t)
        return t

    yield factory
    for t in made:
        t.disconnect()


def test_a_job_assigned_while_the_tablet_is_offline_arrives_on_reconnect_exactly_once(
    db_session, flat, tablet
):
    patrol = _patrol(db_session)
    car = tablet("Jour 11").connect()
    car.disconnect()
    job = _job(db_session, flat)
    assign(db_session, job, patrol, user_id=None)
    db_session.commit()
    car.connect()
    first = car.pump()
    assert [(e["name"], e["args"][0]["job_id"]) for e in first] == [("job.assigned", job.id)]
    assert first[0]["args"][0]["portkod"] == "4711"
    car.disconnect()
    car.connect()
    assert car.pump() == []  # acknowledged: not sent again
    assert car.shown == [job.id]
    assert job.acknowledged_at is not None
    assert [e.kind for e in job.events] == ["created", "assigned", "acknowledged"]


def test_unacknowledged_jobs_are_sent_again_until_acknowledged(app, db_session, flat, tablet):
    patrol = _patrol(db_session)
    car = tablet("Jour 11").connect()
    job = _job(db_session, flat)
    assign(db_session, job, patrol, user_id=None)
    db_session.commit()
    assert [e["name"] for e in car.pump(ack=False)] == ["job.assigned"]
    assert resend_due(app) == 1
    again = car.pump(ack=True)
    assert [e["args"][0]["job_id"] for e in again] == [job.id]
    assert resend_due(app) == 0
    assert car.shown == [job.id]


def test_a_reassigned_job_disappears_from_the_first_tablet_and_is_not_resent_to_it(
    app, db_session, flat, tablet
):
    first, second = _patrol(db_session, "Jour 11"), _patrol(db_session, "Jour 12")
    car1, car2 = tablet("Jour 11").connect(), tablet("Jour 12").connect()
    job = _job(db_session, flat)
    assign(db_session, job, first, user_id=None)
    db_session.commit()
    car1.pump(ack=False)  # the first car never acknowledged
    assign(db_session, job, second, user_id=None)
    db_session.commit()
    assert [e["name"] for e in car1.pump()] == ["job.revoked"]
    car2.pump()
    assert resend_due(app) == 0
    assert (car1.revoked, car2.shown) == ([job.id], [job.id])


def test_status_updates_replayed_twice_change_nothing(db_session, flat, tablet):
    car, job = _delivered_job(db_session, flat, tablet)
    at = (utcnow() - timedelta(minutes=3)).isoformat()
    for _ in range(2):
        for n, status in enumerate(("accepted", "en_route", "on_site")):
            answer = car.send("job.status", {"job_id": job.id, "status": status, "at": at,
                                             "event_id": f"e{n}"})
            assert answer["ok"]
    late = car.send("job.status", {"job_id": job.id, "status": "en_route", "event_id": "late"})
    assert late == {"ok": True, "changed": False, "status": "on_site"}
    db_session.refresh(job)
    kinds = db_session.scalars(select(JobEvent.kind).where(JobEvent.job_id == job.id)
                               .order_by(JobEvent.id)).all()
    assert kinds == ["created", "assigned", "acknowledged", "accepted", "en_route", "on_site"]
    assert job.arrived_at.isoformat() == at


def test_a_status_for_someone_elses_job_is_refused_as_unknown(db_session, flat, tablet):
    mine, other = _patrol(db_session, "Jour 11"), _patrol(db_session, "Jour 12")
    car = tablet("Jour 12").connect()
    job = _job(db_session, flat)
    assign(db_session, job, mine, user_id=None)
    db_session.commit()
    answer = car.send("job.status", {"job_id": job.id, "status": "accepted"})
    assert answer["ok"] is False and answer["error"]["code"] == "unknown_job"
    db_session.refresh(job)
    assert (job.status, other.status) == ("assigned", "available")


def test_a_status_for_a_job_moved_to_another_car_says_so(db_session, flat, tablet):
    first, second = _patrol(db_session, "Jour 11"), _patrol(db_session, "Jour 12")
    car = tablet("Jour 11").connect()
    job = _job(db_session, flat)
    assign(db_session, job, first, user_id=None)
    assign(db_session, job, second, user_id=None)
    db_session.commit()
    answer = car.send("job.status", {"job_id": job.id, "status": "accepted"})
    assert answer["ok"] is False and answer["error"]["code"] == "not_your_job"


def test_position_updates_the_patrol_and_the_consoles(app, client, db_session, tablet,
                                                      create_token):
    patrol = _patrol(db_session)
    token, _ = create_token(role="operator")
    console = socketio.test_client(app, namespace="/console", auth={"token": token},
                                   flask_test_client=client)
    car = tablet("Jour 11").connect()
    assert car.send("position", {"lat": 59.33, "lon": 18.06, "accuracy_m": 12})["ok"]
    db_session.refresh(patrol)
    assert (patrol.lat, patrol.lon, patrol.accuracy_m) == (59.33, 18.06, 12)
    updates = [e["args"][0] for e in console.get_received("/console")
               if e["name"] == "patrol.updated"]
    assert updates[-1]["lat"] == 59.33
    bad = car.send("position", {"lat": "north"})
    assert bad["error"]["code"] == "invalid_position"
    console.disconnect(namespace="/console")


def test_the_report_closes_the_job_frees_the_car_and_can_be_replaced_until_released(
    db_session, flat, tablet
):
    car, job = _delivered_job(db_session, flat, tablet)
    report = {"job_id": job.id, "arrived_at": utcnow().isoformat(), "observations": "Musik",
              "disturber_reached": True, "tenant_contacted": True, "actions": "Bad om tystnad",
              "outcome": "stopped", "can_testify": True, "text": "Lugnt 23:40"}
    answer = car.send("job.report", report)
    assert answer["ok"] and isinstance(answer["report_id"], int)
    db_session.refresh(job)
    assert job.status == "done" and db_session.get(Patrol, job.patrol_id).status == "available"
    assert car.send("job.report", {**report, "outcome": "not_stopped"})["ok"]
    stored = db_session.scalars(select(IncidentReport)).one()
    assert stored.outcome == "not_stopped"
    stored.status = "released"
    db_session.commit()
    refused = car.send("job.report", report)
    assert refused["error"]["code"] == "report_released"
    assert car.send("job.report", {**report, "outcome": "gone"})["error"]["code"] in (
        "invalid_outcome", "report_released")


def test_a_thousand_jobs_across_fifty_flapping_tablets_none_lost_none_shown_twice(
    app, db_session, flat, tablet
):
    rng = random.Random(7)
    patrols = [_patrol(db_session, f"Jour {n}") for n in range(50)]
    cars = {p.id: tablet(p.call_sign) for p in patrols}
    expected: dict[int, list[int]] = {p.id: [] for p in patrols}
    for n in range(1000):
        patrol = patrols[rng.randrange(50)]
        car = cars[patrol.id]
        if rng.random() < 0.3:
            car.disconnect() if car.ws else car.connect()
        job = _job(db_session, flat)
        assign(db_session, job, patrol, user_id=None)
        patrol.status = "available"  # one car may hold many jobs in this test
        expected[patrol.id].append(job.id)
        db_session.commit()
        if car.ws is not None and rng.random() < 0.5:
            car.pump(ack=rng.random() < 0.7)  # some messages arrive but are never acked
        if n % 100 == 99:
            resend_due(app)
    for car in cars.values():  # everyone comes back online at the end of the shift
        car.disconnect()
        car.connect()
        car.pump()
    resend_due(app)
    for car in cars.values():
        car.pump()
    for patrol in patrols:
        car = cars[patrol.id]
        assert sorted(car.shown) == sorted(expected[patrol.id])
        assert len(car.shown) == len(set(car.shown))
    unacked = db_session.scalar(select(func.count(Delivery.id)).where(Delivery.acked_at.is_(None)))
    assert unacked == 0
    assert db_session.scalar(select(func.count(Job.id)).where(Job.acknowledged_at.is_(None))) == 0


def test_a_revoked_device_session_is_cut_off_while_connected(app, db_session, tablet):
    from dispatch.auth.service import revoke_token

    _patrol(db_session)
    car = tablet("Jour 11").connect()
    assert car.send("position", {"lat": 59.33, "lon": 18.06})["ok"]
    assert revoke_token(db_session, car.token)
    db_session.commit()
    app.config["TOKEN_RECHECK_S"] = 0
    try:
        answer = car.send("position", {"lat": 59.34, "lon": 18.06})
    finally:
        app.config["TOKEN_RECHECK_S"] = 30
    assert answer["error"]["code"] == "unauthorized"
    assert not car.ws.is_connected("/field")


# -- presence ------------------------------------------------------------------------------------

def test_a_connected_tablet_keeps_its_car_present_and_one_that_left_stops_doing_so(
        app, db_session, tablet):
    from dispatch.field.events import refresh_presence

    patrol = _patrol(db_session)
    long_ago = utcnow() - timedelta(hours=1)

    def last_seen():
        db_session.expire_all()
        return db_session.get(Patrol, patrol.id).last_seen_at

    assert patrol.last_seen_at is None
    car = tablet("Jour 11").connect()
    assert last_seen() > utcnow() - timedelta(seconds=5)  # stamped at connect
    patrol.last_seen_at = long_ago
    db_session.commit()
    assert refresh_presence(app) == 1  # the upkeep pass of the process that holds the socket
    assert last_seen() > utcnow() - timedelta(seconds=5)
    car.disconnect()  # no write: its grace period runs from the last stamp
    patrol.last_seen_at = long_ago
    db_session.commit()
    assert refresh_presence(app) == 0  # no socket here any more: not stamped again
    assert last_seen() == long_ago


def test_a_job_queued_while_no_car_was_there_goes_to_the_first_available_car_that_returns(
        app, db_session, flat, tablet):
    from dispatch.jobs.dispatching import dispatch_nearest

    patrol = _patrol(db_session)
    patrol.position_at = utcnow() - timedelta(minutes=2)  # on duty, but its tablet is gone
    job = _job(db_session, flat)
    _, best = dispatch_nearest(db_session, job, user_id=None, max_age=timedelta(minutes=5),
                               seen_within=timedelta(seconds=60))
    assert best is None and job.status == "queued"
    db_session.commit()
    car = tablet("Jour 11").connect()
    assert [e["args"][0]["job_id"] for e in car.pump()] == [job.id]  # once
    db_session.refresh(job)
    assert (job.status, job.patrol_id) == ("assigned", patrol.id)
    car.disconnect()
    car.connect()
    assert car.pump() == [] and car.shown == [job.id]
    # A car back from a short drop-out (within its grace period) takes nothing on the way in:
    # a job just logged waits for the operator's choice.
    other = _job(db_session, flat)
    db_session.get(Patrol, patrol.id).status = "available"
    db_session.commit()
    car.disconnect()
    car.connect()
    assert car.pump() == [] and other.status == "queued"


def test_the_upkeep_loop_stamps_several_times_within_the_grace_period():
    from dispatch.field.events import upkeep_interval

    assert upkeep_interval({"DELIVERY_RESEND_S": 10, "PRESENCE_GRACE_S": 60}) == 10
    assert upkeep_interval({"DELIVERY_RESEND_S": 10, "PRESENCE_GRACE_S": 15}) == 5
    assert upkeep_interval({"DELIVERY_RESEND_S": 10, "PRESENCE_GRACE_S": 1}) == 1


def test_an_event_that_meets_an_unreachable_database_is_answered_send_it_again(
        db_session, tablet, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from dispatch.field import events

    def down(*_args, **_kwargs):
        raise OperationalError("UPDATE patrols", {}, Exception("connection refused"))

    _patrol(db_session)
    car = tablet("Jour 11").connect()
    monkeypatch.setattr(events, "update_position", down)
    answer = car.send("position", {"lat": 59.33, "lon": 18.06})
    # A transient code: the tablet keeps the event first in its outbox and retries it.
    assert answer["ok"] is False and answer["error"]["code"] == "database_unavailable"
