"""Escalation past the tablet (issue 19): an alarm nobody handles goes by SMS to the car's phone
``ESCALATE_CAR_AFTER_S`` after it was raised and to the duty supervisor
``ESCALATE_SUPERVISOR_AFTER_S`` after; each step once, in the job's history; handling the
alarm (the console's acknowledgement, the car accepting or checking in) stops what is left.
The pass's clock is given to it (``now``), never waited for."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.jobs import escalation
from dispatch.jobs.ack_timer import check_acceptance
from dispatch.jobs.dispatching import record_status
from dispatch.jobs.safety import check_on_site, raise_alarm
from dispatch.models import Job, JobEvent, PatrolAlarm, SmsMessage, utcnow
from tests.callcenter.test_api import _events, _job, acme, operator, patrols, sockets  # noqa: F401

CAR_PHONE, SUPERVISOR = "+46701740699", "+46701740698"
STEPS = {"car_after": timedelta(seconds=30), "supervisor_after": timedelta(seconds=120),
         "supervisor_to": "070-174 06 98"}
CHECKIN = {"default_s": 600, "fight_threat_s": 300, "grace_s": 120}


@pytest.fixture
def dispatched(client, acme, operator, patrols, sockets, db_session):  # noqa: F811
    """A fight-or-threat job at Götgatan 12B (door code 4711) sent to Jour 11, whose phone is
    known; its tablet connected."""
    near, _far = patrols
    near.phone = CAR_PHONE
    tablet = sockets("/field", "patrol", "Jour 11")
    job_id = _job(client, operator, category="fight_threat")
    assert client.post(f"/api/v1/jobs/{job_id}/dispatch", headers=operator,
                       json={"patrol_id": near.id}).status_code == 200
    db_session.commit()
    return tablet, db_session.get(Job, job_id), near


@pytest.fixture
def missed_check_in(dispatched, db_session):
    """The car on site, silent past the check-in and its grace: the console's alarm stands."""
    _tablet, job, car = dispatched
    for step in ("accepted", "en_route", "on_site"):
        record_status(db_session, job, patrol_id=car.id, status=step)
    raised = job.arrived_at + timedelta(seconds=421)
    assert check_on_site(db_session, now=raised, **CHECKIN) == [job.id]
    db_session.commit()
    alarm = db_session.scalar(select(PatrolAlarm).where(PatrolAlarm.job_id == job.id))
    return job, alarm, raised


def _kinds(db_session, job):
    return [e.kind for e in db_session.scalars(select(JobEvent).where(
        JobEvent.job_id == job.id).order_by(JobEvent.id))]


def test_a_missed_check_in_nobody_handles_texts_the_car_then_the_supervisor_each_once(
        missed_check_in, db_session, sockets):  # noqa: F811
    job, alarm, raised = missed_check_in
    console = sockets("/console", "operator")
    assert escalation.escalate(db_session, now=raised + timedelta(seconds=29), **STEPS) == []
    [car] = escalation.escalate(db_session, now=raised + timedelta(seconds=30), **STEPS)
    assert escalation.escalate(db_session, now=raised + timedelta(seconds=119), **STEPS) == []
    [boss] = escalation.escalate(db_session, now=raised + timedelta(seconds=120), **STEPS)
    assert escalation.escalate(db_session, now=raised + timedelta(seconds=900), **STEPS) == []
    db_session.commit()
    assert (car.recipient_kind, car.to_number, car.reason, car.step, car.status) == (
        "car", CAR_PHONE, "checkin_missed", 1, "queued")
    assert (boss.recipient_kind, boss.to_number, boss.step) == ("supervisor", SUPERVISOR, 2)
    assert (car.job_id, car.alarm_id, car.patrol_id) == (job.id, alarm.id, job.patrol_id)
    assert db_session.scalar(select(SmsMessage.id).where(SmsMessage.id.not_in(
        [car.id, boss.id]))) is None
    assert _kinds(db_session, job)[-2:] == ["sms_to_car", "sms_to_supervisor"]
    updated = _events(console, "/console", "job.updated")
    assert [u["job_id"] for u in updated] == [job.id, job.id]


def test_the_texts_say_the_address_in_swedish_and_nothing_personal(missed_check_in,
                                                                   db_session):
    _job_row, _alarm, raised = missed_check_in
    car, boss = escalation.escalate(db_session, now=raised + timedelta(seconds=200), **STEPS)
    assert car.text == ("Missad avstämning på Götgatan 12B, 118 46 Stockholm: stäm av på "
                        "surfplattan eller ring centralen.")
    assert "Jour 11" in boss.text and "Götgatan 12B" in boss.text
    for text in (car.text, boss.text):
        assert len(text) <= 160
        for secret in ("4711", "1102", "Anna", "070-174", "+46"):
            assert secret not in text


def test_sms_locale_fi_writes_the_texts_in_finnish(missed_check_in, db_session):
    _job_row, _alarm, raised = missed_check_in
    car, _boss = escalation.escalate(db_session, now=raised + timedelta(seconds=200),
                                     locale="fi", **STEPS)
    assert car.text.startswith("Tilannekuittaus puuttuu osoitteessa Götgatan 12B")


def test_acknowledging_the_alarm_on_the_console_stops_the_supervisor_step(
        missed_check_in, db_session, client, operator):  # noqa: F811
    job, alarm, raised = missed_check_in
    assert len(escalation.escalate(db_session, now=raised + timedelta(seconds=30), **STEPS)) == 1
    db_session.commit()
    assert client.post(f"/api/v1/alarms/{alarm.id}/acknowledge", headers=operator,
                       json={}).status_code == 200
    assert escalation.escalate(db_session, now=raised + timedelta(seconds=600), **STEPS) == []
    assert "sms_to_supervisor" not in _kinds(db_session, job)


def test_a_check_in_stops_the_escalation(missed_check_in, dispatched, db_session):
    job, _alarm, raised = missed_check_in
    tablet, _job_row, _car = dispatched
    answer = tablet.emit("job.check_in", {"job_id": job.id, "event_id": "c-9"},
                         namespace="/field", callback=True)
    assert answer["ok"]
    db_session.expire_all()
    assert escalation.escalate(db_session, now=raised + timedelta(seconds=600), **STEPS) == []


def test_a_job_not_accepted_texts_the_car_after_the_ack_alarm_and_accepting_stops_it(
        dispatched, db_session):
    _tablet, job, car = dispatched
    timer = {"alarm_after": timedelta(seconds=60), "redispatch_after": timedelta(seconds=900),
             "max_age": timedelta(days=1)}
    alarm_at = job.dispatched_at + timedelta(seconds=61)
    assert check_acceptance(db_session, now=alarm_at, **timer).alarms == [job.id]
    db_session.commit()
    assert escalation.escalate(db_session, now=alarm_at + timedelta(seconds=29), **STEPS) == []
    [sms] = escalation.escalate(db_session, now=alarm_at + timedelta(seconds=31), **STEPS)
    assert (sms.reason, sms.recipient_kind, sms.to_number) == ("job_not_accepted", "car",
                                                                CAR_PHONE)
    assert "Götgatan 12B" in sms.text and sms.alarm_id is None
    record_status(db_session, job, patrol_id=car.id, status="accepted")
    db_session.commit()
    assert escalation.escalate(db_session, now=alarm_at + timedelta(seconds=600), **STEPS) == []


def test_a_silent_alarm_is_never_texted_to_the_car_only_to_the_supervisor(dispatched,
                                                                         db_session):
    _tablet, job, car = dispatched
    alarm, _new = raise_alarm(db_session, car.id, kind="silent", event_id="s-1")
    raised = alarm.raised_at
    assert escalation.escalate(db_session, now=raised + timedelta(seconds=60), **STEPS) == []
    [boss] = escalation.escalate(db_session, now=raised + timedelta(seconds=121), **STEPS)
    assert (boss.recipient_kind, boss.reason) == ("supervisor", "alarm_not_acknowledged")
    assert boss.text == "Larm från Jour 11 på Götgatan 12B, 118 46 Stockholm inte kvitterat " \
                        "i konsolen."


def test_a_car_without_a_phone_gets_a_failed_step_that_the_console_sees(missed_check_in,
                                                                        db_session):
    job, _alarm, raised = missed_check_in
    db_session.get(Job, job.id)
    job_car = db_session.get(Job, job.id).patrol_id
    from dispatch.models import Patrol

    db_session.get(Patrol, job_car).phone = None
    [car] = escalation.escalate(db_session, now=raised + timedelta(seconds=31), **STEPS)
    assert (car.status, car.error, car.to_number) == ("failed", "no_number", None)
    assert _kinds(db_session, job)[-2:] == ["sms_to_car", "sms_car_failed"]


def test_an_old_alarm_left_standing_is_not_escalated(missed_check_in, db_session):
    _job_row, _alarm, raised = missed_check_in
    assert escalation.escalate(db_session, now=raised + timedelta(hours=13), **STEPS) == []


def test_the_pass_on_the_clock_of_now_with_the_alarm_backdated(missed_check_in, db_session):
    """The steps count from the alarm's own time, whatever the pass's clock: a restart
    between steps sends only what was not sent yet."""
    _job_row, alarm, _raised = missed_check_in
    alarm.raised_at = utcnow() - timedelta(seconds=45)
    db_session.commit()
    [car] = escalation.escalate(db_session, **STEPS)
    db_session.commit()
    alarm.raised_at = utcnow() - timedelta(seconds=130)
    db_session.commit()
    [boss] = escalation.escalate(db_session, **STEPS)
    assert (car.recipient_kind, boss.recipient_kind) == ("car", "supervisor")
