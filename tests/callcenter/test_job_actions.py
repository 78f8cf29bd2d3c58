"""The console's actions on a job (re-dispatch to the next nearest or a chosen car, cancel
with a reason, back to the queue): each an API route with JSON errors, recorded in the job's
history with the operator, announced to every console, and the car that loses the job told
through its outbox. The board's waiting calls; /healthz's standing alarms."""

from datetime import timedelta

import pytest

from dispatch.jobs.ack_timer import check_acceptance
from dispatch.models import Call, Job, JobEvent, utcnow
from tests.callcenter.test_api import _events, _job, acme, operator, patrols, sockets  # noqa: F401


def _dispatched(client, operator, patrol=None):  # noqa: F811
    job_id = _job(client, operator)
    body = {"patrol_id": patrol.id} if patrol else {}
    assert client.post(f"/api/v1/jobs/{job_id}/dispatch", headers=operator,
                       json=body).status_code == 200
    return job_id


def _history(client, operator, job_id):  # noqa: F811
    return client.get(f"/api/v1/jobs/{job_id}", headers=operator).get_json()["events"]


def test_redispatch_sends_the_job_to_the_next_nearest_car_and_revokes_it_from_the_first(
        client, acme, operator, patrols, sockets):  # noqa: F811
    near, far = patrols
    near_tablet, far_tablet = sockets("/field", "patrol", "Jour 11"), sockets(
        "/field", "patrol", "Jour 12")
    console = sockets("/console", "operator")
    job_id = _dispatched(client, operator)
    near_tablet.get_received("/field")

    moved = client.post(f"/api/v1/jobs/{job_id}/redispatch", headers=operator, json={})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["patrol_id"] == far.id and moved.get_json()["status"] == "assigned"
    assert [e["job_id"] for e in _events(near_tablet, "/field", "job.revoked")] == [job_id]
    assert [e["job_id"] for e in _events(far_tablet, "/field", "job.assigned")] == [job_id]
    received = console.get_received("/console")
    actions = [e["args"][0] for e in received if e["name"] == "job.action"]
    assert [(a["job_id"], a["action"], a["patrol_id"], a["from_patrol_id"]) for a in actions] == [
        (job_id, "redispatched", far.id, near.id)]
    assert actions[0]["user"]
    events = _history(client, operator, job_id)
    withdrawn, assigned = events[-2:]
    assert (withdrawn["kind"], withdrawn["patrol_id"], withdrawn["details"]["reason"]) == (
        "withdrawn", near.id, "operator")
    assert (assigned["kind"], assigned["patrol"], assigned["details"]["reason"]) == (
        "assigned", "Jour 12", "operator")
    assert withdrawn["user_id"] and withdrawn["user"]


def test_redispatch_to_a_chosen_car(client, acme, operator, patrols):  # noqa: F811
    near, far = patrols
    job_id = _dispatched(client, operator, near)
    moved = client.post(f"/api/v1/jobs/{job_id}/redispatch", headers=operator,
                        json={"patrol_id": far.id})
    assert moved.status_code == 200 and moved.get_json()["patrol_id"] == far.id


def test_redispatch_with_no_other_car_free_is_a_409_and_changes_nothing(
        client, acme, operator, patrols, db_session):  # noqa: F811
    near, far = patrols
    far.status = "off_duty"
    db_session.flush()
    job_id = _dispatched(client, operator, near)
    refused = client.post(f"/api/v1/jobs/{job_id}/redispatch", headers=operator, json={})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "no_patrol_available"
    job = client.get(f"/api/v1/jobs/{job_id}", headers=operator).get_json()
    assert (job["patrol_id"], job["status"]) == (near.id, "assigned")


def test_redispatch_refuses_an_unknown_car_the_same_car_and_a_closed_job(
        client, acme, operator, patrols, db_session):  # noqa: F811
    near, _far = patrols
    job_id = _dispatched(client, operator, near)
    unknown = client.post(f"/api/v1/jobs/{job_id}/redispatch", headers=operator,
                          json={"patrol_id": 999_999})
    assert unknown.status_code == 400 and unknown.get_json()["error"]["code"] == "unknown_patrol"
    same = client.post(f"/api/v1/jobs/{job_id}/redispatch", headers=operator,
                       json={"patrol_id": near.id})
    assert same.status_code == 409 and same.get_json()["error"]["code"] == "same_patrol"
    db_session.get(Job, job_id).status = "done"
    db_session.flush()
    closed = client.post(f"/api/v1/jobs/{job_id}/redispatch", headers=operator, json={})
    assert closed.status_code == 409 and closed.get_json()["error"]["code"] == "job_closed"
    assert client.post("/api/v1/jobs/999999/redispatch", headers=operator,
                       json={}).status_code == 404


def test_cancelling_needs_a_reason(client, acme, operator, patrols):  # noqa: F811
    job_id = _dispatched(client, operator)
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": 5}):
        refused = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=operator, json=body)
        assert refused.status_code == 400, body
        assert refused.get_json()["error"]["code"] == "reason_required"
    too_long = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=operator,
                           json={"reason": "x" * 501})
    assert too_long.status_code == 400
    assert client.get(f"/api/v1/jobs/{job_id}", headers=operator).get_json()["status"] == (
        "assigned")


def test_cancelling_closes_the_job_frees_the_car_and_tells_its_tablet(
        client, acme, operator, patrols, sockets):  # noqa: F811
    near, _far = patrols
    tablet = sockets("/field", "patrol", "Jour 11")
    console = sockets("/console", "operator")
    job_id = _dispatched(client, operator, near)
    tablet.get_received("/field")

    done = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=operator,
                       json={"reason": "Uppringaren ringde tillbaka: tyst nu"})
    assert done.status_code == 200 and done.get_json()["status"] == "cancelled"
    assert [e["job_id"] for e in _events(tablet, "/field", "job.revoked")] == [job_id]
    received = console.get_received("/console")
    updates = [e["args"][0] for e in received if e["name"] == "job.updated"]
    assert updates[-1]["job_id"] == job_id and updates[-1]["status"] == "cancelled"
    assert any(e["args"][0]["patrol_id"] == near.id and e["args"][0]["status"] == "available"
               for e in received if e["name"] == "patrol.updated")
    last = _history(client, operator, job_id)[-1]
    assert (last["kind"], last["details"]["reason"]) == (
        "cancelled", "Uppringaren ringde tillbaka: tyst nu")
    assert last["user"]
    again = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=operator,
                        json={"reason": "igen"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "job_closed"


def test_a_done_job_cannot_be_cancelled(client, acme, operator, patrols, db_session):  # noqa: F811
    job_id = _dispatched(client, operator)
    db_session.get(Job, job_id).status = "done"
    db_session.flush()
    refused = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=operator,
                          json={"reason": "fel"})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "job_closed"


def test_back_to_the_queue_takes_the_job_from_its_car(
        client, acme, operator, patrols, sockets):  # noqa: F811
    near, _far = patrols
    tablet = sockets("/field", "patrol", "Jour 11")
    job_id = _dispatched(client, operator, near)
    tablet.get_received("/field")
    back = client.post(f"/api/v1/jobs/{job_id}/requeue", headers=operator, json={})
    assert back.status_code == 200 and back.get_json()["status"] == "queued"
    assert [e["job_id"] for e in _events(tablet, "/field", "job.revoked")] == [job_id]
    job = client.get(f"/api/v1/jobs/{job_id}", headers=operator).get_json()
    # The car is free, and not handed the same job back from the queue.
    assert job["patrol_id"] is None and job["status"] == "queued"
    kinds = [(e["kind"], e["details"].get("reason")) for e in job["events"]]
    assert kinds[-2:] == [("withdrawn", "operator"), ("queued", "operator")]
    again = client.post(f"/api/v1/jobs/{job_id}/requeue", headers=operator, json={})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_queued"


def test_the_job_view_has_every_history_kind_with_its_details(
        client, acme, operator, patrols, db_session):  # noqa: F811
    near, _far = patrols
    job_id = _dispatched(client, operator, near)
    job = db_session.get(Job, job_id)
    job.events.append(JobEvent(kind="call_attempt", at=utcnow(), patrol_id=near.id,
                               details={"number": "+46701740605", "answered": False}))
    db_session.flush()
    events = _history(client, operator, job_id)
    assert [e["kind"] for e in events] == ["created", "assigned", "call_attempt"]
    assert events[-1]["details"] == {"number": "+46701740605", "answered": False}
    assert events[-1]["patrol"] == "Jour 11"


def test_the_board_lists_waiting_calls_oldest_first_until_a_complaint_takes_one(
        client, acme, operator, sockets):  # noqa: F811
    console = sockets("/console", "operator")
    first = client.post("/api/v1/calls", headers=operator, json={
        "dialled_number": "08-46 500 401", "caller_number": "070-174 06 05"}).get_json()
    second = client.post("/api/v1/calls", headers=operator, json={
        "dialled_number": "08-46 500 401", "caller_number": "070-174 06 06"}).get_json()
    calls = client.get("/api/v1/board", headers=operator).get_json()["calls"]
    assert [c["call_id"] for c in calls] == [first["call_id"], second["call_id"]]
    assert calls[0]["tenants"][0]["name"] == "Anna Andersson"

    object_id = client.get("/api/v1/addresses/search?q=Götgatan 12B lgh 1102",
                           headers=operator).get_json()[0]["object_id"]
    client.post("/api/v1/complaints", headers=operator, json={
        "landlord": "ACME", "object_id": object_id, "category": "music",
        "call_id": first["call_id"]})
    assert [c["call_id"] for c in client.get("/api/v1/board", headers=operator)
            .get_json()["calls"]] == [second["call_id"]]
    assert [e["call_id"] for e in _events(console, "/console", "call.taken")] == [
        first["call_id"]]


def test_an_old_call_no_longer_waits(client, acme, operator, db_session):  # noqa: F811
    call = Call(dialled_number="+46846500401", caller_number="+46701740605",
                received_at=utcnow() - timedelta(hours=1))
    db_session.add(call)
    db_session.flush()
    assert client.get("/api/v1/board", headers=operator).get_json()["calls"] == []


def test_healthz_counts_the_standing_alarms(client, acme, operator, patrols, db_session):  # noqa: F811
    assert "alarms" not in client.get("/healthz").get_json()
    near, _far = patrols
    job_id = _dispatched(client, operator, near)
    sent = db_session.get(Job, job_id).dispatched_at
    check_acceptance(db_session, alarm_after=timedelta(seconds=60),
                     redispatch_after=timedelta(seconds=120), max_age=timedelta(minutes=5),
                     now=sent + timedelta(seconds=61))
    db_session.flush()
    assert client.get("/healthz").get_json() == {"status": "ok", "alarms": 1}
    board = client.get("/api/v1/board", headers=operator).get_json()
    [job] = [j for j in board["jobs"] if j["job_id"] == job_id]
    assert job["alarm"] == "not_accepted" and job["alarm_at"]


@pytest.mark.parametrize("path", ["redispatch", "cancel", "requeue"])
def test_a_patrol_may_not_use_the_actions(client, acme, patrols, create_token, path):  # noqa: F811
    token, _ = create_token(role="patrol")
    response = client.post(f"/api/v1/jobs/1/{path}", json={"reason": "x"},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


def test_a_call_an_operator_took_waits_no_more_on_any_console(
        client, acme, operator, sockets):  # noqa: F811
    console = sockets("/console", "operator")
    call = client.post("/api/v1/calls", headers=operator, json={
        "dialled_number": "08-46 500 401", "caller_number": "070-174 06 05"}).get_json()
    taken = client.post(f"/api/v1/calls/{call['call_id']}/take", headers=operator, json={})
    assert taken.status_code == 200
    assert client.get("/api/v1/board", headers=operator).get_json()["calls"] == []
    assert [e["call_id"] for e in _events(console, "/console", "call.taken")] == [
        call["call_id"]]
    assert client.post("/api/v1/calls/999999/take", headers=operator,
                       json={}).status_code == 404
