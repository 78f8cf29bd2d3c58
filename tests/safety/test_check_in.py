"""The check-in timer while on site (issue 19): the server's pass raises a ``checkin_missed``
alarm for a car on site that has not checked in within the interval (5 minutes for fight or
threat, else 10) plus the grace period, once per silence; the crew's check-in or the job done
clears it."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.jobs.dispatching import record_status
from dispatch.jobs.safety import check_on_site
from dispatch.models import Job, JobEvent, PatrolAlarm, utcnow
from tests.callcenter.test_api import _events, _job, acme, operator, patrols, sockets  # noqa: F401

TIMES = {"default_s": 600, "fight_threat_s": 300, "grace_s": 120}


@pytest.fixture
def on_site(client, acme, operator, patrols, sockets, db_session):  # noqa: F811
    def make(category):
        near, _far = patrols
        tablet = sockets("/field", "patrol", "Jour 11")
        job_id = _job(client, operator, category=category)
        client.post(f"/api/v1/jobs/{job_id}/dispatch", headers=operator,
                    json={"patrol_id": near.id})
        job = db_session.get(Job, job_id)
        for step in ("accepted", "en_route", "on_site"):
            record_status(db_session, job, patrol_id=near.id, status=step)
        db_session.commit()
        return tablet, job
    return make


def _missed(db_session):
    return db_session.scalars(select(PatrolAlarm).where(
        PatrolAlarm.kind == "checkin_missed")).all()


def test_a_fight_job_with_no_check_in_for_five_minutes_and_the_grace_raises_one_alarm(
        on_site, db_session, sockets):  # noqa: F811
    _tablet, job = on_site("fight_threat")
    console = sockets("/console", "operator")
    start = job.arrived_at
    assert check_on_site(db_session, now=start + timedelta(seconds=419), **TIMES) == []
    assert check_on_site(db_session, now=start + timedelta(seconds=421), **TIMES) == [job.id]
    assert check_on_site(db_session, now=start + timedelta(seconds=480), **TIMES) == []
    db_session.commit()
    [alarm] = _missed(db_session)
    assert alarm.acknowledged_at is None
    shown = _events(console, "/console", "patrol.alarm")
    assert [(a["kind"], a["job_id"]) for a in shown] == [("checkin_missed", job.id)]
    assert "check_in_missed" in [e.kind for e in job.events]


def test_other_categories_get_ten_minutes(on_site, db_session):
    _tablet, job = on_site("music")
    start = job.arrived_at
    assert check_on_site(db_session, now=start + timedelta(seconds=700), **TIMES) == []
    assert check_on_site(db_session, now=start + timedelta(seconds=721), **TIMES) == [job.id]


def test_a_check_in_clears_the_missed_alarm_and_restarts_the_interval(on_site, db_session):
    tablet, job = on_site("fight_threat")
    check_on_site(db_session, now=job.arrived_at + timedelta(seconds=500), **TIMES)
    db_session.commit()
    answer = tablet.emit("job.check_in", {"job_id": job.id, "event_id": "c-1"},
                         namespace="/field", callback=True)
    assert answer["ok"] and answer["changed"]
    again = tablet.emit("job.check_in", {"job_id": job.id, "event_id": "c-1"},
                        namespace="/field", callback=True)
    assert again["ok"] and again["changed"] is False
    db_session.expire_all()
    [alarm] = _missed(db_session)
    assert alarm.acknowledged_at is not None
    checked = db_session.scalar(select(JobEvent.at).where(JobEvent.job_id == job.id,
                                                          JobEvent.kind == "check_in"))
    assert check_on_site(db_session, now=checked + timedelta(seconds=400), **TIMES) == []


def test_the_job_done_clears_the_missed_alarm(on_site, db_session):
    _tablet, job = on_site("fight_threat")
    check_on_site(db_session, now=job.arrived_at + timedelta(seconds=500), **TIMES)
    record_status(db_session, job, patrol_id=job.patrol_id, status="done")
    check_on_site(db_session, now=utcnow(), **TIMES)
    db_session.commit()
    [alarm] = _missed(db_session)
    assert alarm.acknowledged_at is not None
