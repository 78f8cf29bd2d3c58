"""The car's alarm button (issue 19): a tablet's ``patrol.alarm`` is stored once (the outbox
resends it), shown at once on every console with the car, its crew, the job's address and door
code and the car's position, in the job's history and the audit log; an operator acknowledges
it and the car's tablet is told (also when it comes back online later)."""

import pytest
from sqlalchemy import select

from dispatch.models import ApiToken, AuditEvent, JobEvent, PatrolAlarm
from tests.callcenter.test_api import _events, _job, acme, operator, patrols, sockets  # noqa: F401


@pytest.fixture
def on_a_job(client, acme, operator, patrols, sockets, db_session):  # noqa: F811
    """Jour 11 has a job at Götgatan 12B (door code 4711), its tablet connected."""
    near, _far = patrols
    tablet = sockets("/field", "patrol", "Jour 11")
    job_id = _job(client, operator, category="fight_threat")
    assert client.post(f"/api/v1/jobs/{job_id}/dispatch", headers=operator,
                       json={"patrol_id": near.id}).status_code == 200
    tablet.get_received("/field")
    return tablet, job_id, near


def _alarm(tablet, **extra):
    data = {"event_id": "a-1", "kind": "alarm", "lat": 59.3122, "lon": 18.0714,
            "accuracy_m": 8, **extra}
    return tablet.emit("patrol.alarm", data, namespace="/field", callback=True)


def test_an_alarm_reaches_every_console_with_address_door_code_crew_and_position(
        on_a_job, sockets, client, operator, db_session):  # noqa: F811
    tablet, job_id, car = on_a_job
    token = db_session.scalar(select(ApiToken).where(ApiToken.label == "Jour 11"))
    token.crew = ["Kim A", "Robin B"]  # the shift log-in's crew
    db_session.commit()
    first, second = sockets("/console", "operator"), sockets("/console", "operator")
    answer = _alarm(tablet)
    assert answer["ok"] and answer["changed"] and answer["acknowledged_at"] is None
    for console in (first, second):
        [shown] = _events(console, "/console", "patrol.alarm")
        assert shown["alarm_id"] == answer["alarm_id"] and shown["kind"] == "alarm"
        assert (shown["job_id"], shown["address"], shown["portkod"]) == (
            job_id, "Götgatan 12B, 118 46 Stockholm", "4711")
        assert shown["crew"] == ["Kim A", "Robin B"]
        assert shown["call_sign"] == "Jour 11" and (shown["lat"], shown["lon"]) == (
            59.3122, 18.0714)
        assert shown["acknowledged_at"] is None
    standing = client.get("/api/v1/alarms", headers=operator).get_json()
    assert [a["alarm_id"] for a in standing] == [answer["alarm_id"]]
    kinds = [e.kind for e in db_session.scalars(select(JobEvent).where(
        JobEvent.job_id == job_id))]
    assert "alarm_raised" in kinds
    audit = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "alarm.raised")).all()
    assert [a.subject for a in audit] == ["patrol:Jour 11"]


def test_a_resent_alarm_is_stored_once_and_not_shown_twice(
        on_a_job, sockets, db_session):  # noqa: F811
    tablet, _job_id, _car = on_a_job
    console = sockets("/console", "operator")
    first, again = _alarm(tablet), _alarm(tablet)
    assert first["alarm_id"] == again["alarm_id"] and again["changed"] is False
    assert len(_events(console, "/console", "patrol.alarm")) == 1
    assert db_session.scalar(select(PatrolAlarm).where(PatrolAlarm.id == first["alarm_id"]))


def test_an_alarm_without_a_position_takes_the_cars_last_known_one(on_a_job):
    tablet, _job_id, car = on_a_job
    answer = tablet.emit("patrol.alarm", {"event_id": "a-2", "kind": "silent"},
                         namespace="/field", callback=True)
    assert answer["ok"]


def test_an_alarm_of_an_unknown_kind_or_without_event_id_is_refused(on_a_job):
    tablet, _job_id, _car = on_a_job
    assert _alarm(tablet, kind="party")["error"]["code"] == "invalid_alarm"
    assert _alarm(tablet, event_id="")["error"]["code"] == "invalid_alarm"


def test_acknowledging_tells_every_console_and_the_tablet_and_goes_in_the_history(
        on_a_job, sockets, client, operator, db_session):  # noqa: F811
    tablet, job_id, _car = on_a_job
    console = sockets("/console", "operator")
    alarm_id = _alarm(tablet)["alarm_id"]
    console.get_received("/console")
    answer = client.post(f"/api/v1/alarms/{alarm_id}/acknowledge", headers=operator, json={})
    assert answer.status_code == 200 and answer.get_json()["changed"] is True
    [told] = _events(tablet, "/field", "alarm.acknowledged")
    assert told["alarm_id"] == alarm_id and told["acknowledged_at"] and told["acknowledged_by"]
    assert "portkod" not in told
    [shown] = _events(console, "/console", "patrol.alarm")
    assert shown["acknowledged_at"] and shown["acknowledged_by"]
    assert client.get("/api/v1/alarms", headers=operator).get_json() == []
    again = client.post(f"/api/v1/alarms/{alarm_id}/acknowledge", headers=operator, json={})
    assert again.status_code == 200 and again.get_json()["changed"] is False
    kinds = [e.kind for e in db_session.scalars(select(JobEvent).where(
        JobEvent.job_id == job_id))]
    assert kinds.count("alarm_acknowledged") == 1
    assert db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "alarm.acknowledged")).user_id is not None


def test_a_tablet_that_was_offline_hears_of_the_acknowledgement_on_reconnect(
        on_a_job, sockets, client, operator):  # noqa: F811
    tablet, _job_id, _car = on_a_job
    alarm_id = _alarm(tablet)["alarm_id"]
    tablet.disconnect(namespace="/field")
    client.post(f"/api/v1/alarms/{alarm_id}/acknowledge", headers=operator, json={})
    back = sockets("/field", "patrol", "Jour 11")
    assert [e["alarm_id"] for e in _events(back, "/field", "alarm.acknowledged")] == [alarm_id]


def test_acknowledging_an_unknown_alarm_is_a_json_404(client, operator):  # noqa: F811
    answer = client.post("/api/v1/alarms/999999/acknowledge", headers=operator, json={})
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"
