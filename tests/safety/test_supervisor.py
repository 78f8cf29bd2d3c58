"""The supervisor's view (issue 19): every alarm standing (a car's alarm, a missed check-in, a
job not accepted in time) until handled, then in the night's "handled" list with who handled it,
when and how; the same after a reload (``GET /api/v1/alarms/board``)."""

from datetime import UTC, date, datetime, timedelta

import time_machine

from dispatch.jobs.ack_timer import check_acceptance
from dispatch.jobs.dispatching import record_status
from dispatch.jobs.safety import check_on_site
from dispatch.models import Job, User
from tests.callcenter.test_api import _job, acme, operator, patrols, sockets  # noqa: F401
from tests.safety.test_alarm import _alarm, on_a_job  # noqa: F401
from tests.safety.test_check_in import on_site  # noqa: F401

TIMES = {"default_s": 600, "fight_threat_s": 300, "grace_s": 120}
ALARM, MOVE, FRESH = timedelta(seconds=60), timedelta(seconds=120), timedelta(minutes=5)


def _board(client, operator):  # noqa: F811
    answer = client.get("/api/v1/alarms/board", headers=operator)
    assert answer.status_code == 200
    return answer.get_json()


def test_a_cars_alarm_stands_until_acknowledged_then_is_handled_by_that_operator(
        on_a_job, client, operator, db_session):  # noqa: F811
    tablet, job_id, _car = on_a_job
    raised = _alarm(tablet)
    board = _board(client, operator)
    assert [(a["kind"], a["job_id"]) for a in board["standing"]] == [("alarm", job_id)]
    assert board["standing"][0]["portkod"] == "4711" and board["handled"] == []
    client.post(f"/api/v1/alarms/{raised['alarm_id']}/acknowledge", headers=operator, json={})
    board = _board(client, operator)
    assert board["standing"] == []
    [done] = board["handled"]
    user = db_session.query(User).filter_by(role="operator").one()
    assert (done["kind"], done["how"], done["handled_by"]) == (
        "alarm", "operator", user.name or user.email)
    assert done["handled_at"] >= done["raised_at"] and "portkod" not in done


def test_a_missed_check_in_is_handled_by_the_crews_check_in(
        on_site, client, operator, db_session):  # noqa: F811
    tablet, job = on_site("fight_threat")
    check_on_site(db_session, now=job.arrived_at + timedelta(seconds=500), **TIMES)
    db_session.commit()
    assert [a["kind"] for a in _board(client, operator)["standing"]] == ["checkin_missed"]
    tablet.emit("job.check_in", {"job_id": job.id, "event_id": "c-1"}, namespace="/field",
                callback=True)
    board = _board(client, operator)
    assert board["standing"] == []
    assert [(a["kind"], a["how"], a["handled_by"]) for a in board["handled"]] == [
        ("checkin_missed", "check_in", None)]


def test_a_job_not_accepted_stands_until_the_car_accepts_it_and_the_car_is_named(
        client, acme, operator, patrols, db_session):  # noqa: F811
    near, _far = patrols
    job_id = _job(client, operator)
    client.post(f"/api/v1/jobs/{job_id}/dispatch", headers=operator, json={"patrol_id": near.id})
    job = db_session.get(Job, job_id)
    check_acceptance(db_session, alarm_after=ALARM, redispatch_after=MOVE, max_age=FRESH,
                     now=job.dispatched_at + timedelta(seconds=61))
    db_session.commit()
    [standing] = _board(client, operator)["standing"]
    assert (standing["kind"], standing["job_id"], standing["call_sign"]) == (
        "not_accepted", job_id, "Jour 11")
    record_status(db_session, job, patrol_id=near.id, status="accepted")
    db_session.commit()
    board = _board(client, operator)
    assert board["standing"] == []
    assert [(a["kind"], a["how"], a["handled_by"]) for a in board["handled"]] == [
        ("not_accepted", "accepted", "Jour 11")]


def test_a_job_the_server_moves_on_is_handled_by_the_server(
        client, acme, operator, patrols, db_session):  # noqa: F811
    near, _far = patrols
    job_id = _job(client, operator)
    client.post(f"/api/v1/jobs/{job_id}/dispatch", headers=operator, json={"patrol_id": near.id})
    job = db_session.get(Job, job_id)
    sent = job.dispatched_at
    for after in (61, 121):
        check_acceptance(db_session, alarm_after=ALARM, redispatch_after=MOVE, max_age=FRESH,
                         now=sent + timedelta(seconds=after))
        db_session.commit()
    board = _board(client, operator)
    assert [(a["kind"], a["how"], a["handled_by"]) for a in board["handled"]] == [
        ("not_accepted", "moved", None)]
    assert board["standing"] == []


def test_the_board_is_for_operators_only(client, create_token, acme):  # noqa: F811
    token, _user = create_token(role="landlord", landlord=acme)
    answer = client.get("/api/v1/alarms/board", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403


# A fixed evening (22:00 in Stockholm), far from the noon that divides nights.
EVENING = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
NIGHT = date(2026, 11, 24)


def test_the_nights_figures_count_alarms_by_kind_with_the_time_to_acknowledge(
        on_a_job, client, operator, db_session):  # noqa: F811
    from dispatch.jobs.supervisor import alarm_figures
    from dispatch.models import PatrolAlarm

    tablet, _job_id, _car = on_a_job
    traveller = time_machine.travel(EVENING, tick=True)
    traveller.start()
    first = _alarm(tablet, event_id="a-1")
    second = _alarm(tablet, event_id="a-2", kind="silent")
    for answer, after in ((first, 30), (second, 90)):
        client.post(f"/api/v1/alarms/{answer['alarm_id']}/acknowledge", headers=operator,
                    json={})
        alarm = db_session.get(PatrolAlarm, answer["alarm_id"])
        db_session.refresh(alarm)
        alarm.raised_at = alarm.acknowledged_at - timedelta(seconds=after)
        db_session.commit()
    _alarm(tablet, event_id="a-3")  # still standing: counted, not acknowledged
    traveller.stop()
    figures = alarm_figures(db_session, NIGHT, "Europe/Stockholm")
    rows = {r["kind"]: r for r in figures["kinds"]}
    assert (rows["alarm"]["count"], rows["alarm"]["acknowledged"]) == (2, 1)
    assert (rows["silent"]["count"], rows["silent"]["acknowledged"]) == (1, 1)
    assert rows["alarm"]["median_seconds"] == 30.0 and rows["silent"]["max_seconds"] == 90.0
    assert rows["checkin_missed"]["count"] == 0 and rows["checkin_missed"]["median_seconds"] is None
    assert (figures["total"], figures["median_seconds"], figures["max_seconds"]) == (3, 60.0, 90.0)


def test_the_figures_page_shows_the_alarms_in_swedish_numbers(
        on_a_job, client, operator, db_session):  # noqa: F811

    from dispatch.models import PatrolAlarm

    tablet, _job_id, _car = on_a_job
    with time_machine.travel(EVENING, tick=True):
        answer = _alarm(tablet)
        client.post(f"/api/v1/alarms/{answer['alarm_id']}/acknowledge", headers=operator,
                    json={})
    alarm = db_session.get(PatrolAlarm, answer["alarm_id"])
    db_session.refresh(alarm)
    alarm.raised_at = alarm.acknowledged_at - timedelta(seconds=1234.5)
    db_session.commit()
    page = client.get(f"/console/figures?night={NIGHT.isoformat()}",
                      headers=operator).get_data(as_text=True)
    assert "Larm den här natten" in page
    row = page[page.index('data-kind="alarm"'):]
    row = row[:row.index("</tr>")]
    assert "Bilens larm" in row and ">1<" in row and "1\xa0234,5" in row


def test_a_job_an_operator_puts_back_in_the_queue_is_handled_by_that_operator(
        client, acme, operator, patrols, db_session):  # noqa: F811
    near, _far = patrols
    job_id = _job(client, operator)
    client.post(f"/api/v1/jobs/{job_id}/dispatch", headers=operator, json={"patrol_id": near.id})
    job = db_session.get(Job, job_id)
    check_acceptance(db_session, alarm_after=ALARM, redispatch_after=MOVE, max_age=FRESH,
                     now=job.dispatched_at + timedelta(seconds=61))
    db_session.commit()
    assert client.post(f"/api/v1/jobs/{job_id}/requeue", headers=operator,
                       json={}).status_code == 200
    board = _board(client, operator)
    user = db_session.query(User).filter_by(role="operator").one()
    assert board["standing"] == []
    assert [(a["kind"], a["how"], a["handled_by"]) for a in board["handled"]] == [
        ("not_accepted", "queued", user.name or user.email)]
