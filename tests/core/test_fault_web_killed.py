"""The Procfile's web process killed with -9 right after a complaint is logged and right after
a dispatch: after the restart the complaint and the job are there, the job reaches its tablet
on reconnect exactly once, and a console reconnects and finds both on the board it reloads.

The tablet is away (in a tunnel) when the job is dispatched, so that the delivery on its
reconnection to the new process is the only one: one job.assigned, acknowledged, and none
again on a later reconnection. Its car is still recommended because it left less than the
presence grace period ago."""

from __future__ import annotations

import pytest
import requests
import socketio

from tests.support.faults import RestartableServer, TabletClient, log_complaint, make_world
from tests.support.servers import wait_until


@pytest.fixture
def web(tmp_path_factory):
    from tests.conftest import _fresh_database_url

    url, drop = _fresh_database_url(tmp_path_factory, "killed")
    server = RestartableServer(url, tmp_path_factory.mktemp("killed"))
    try:
        yield server
    finally:
        server.stop()
        drop()


def test_kill_9_after_a_complaint_and_after_a_dispatch_loses_nothing_and_delivers_once(
        web, tmp_path):
    web.cli("db", "upgrade")
    world = make_world(web.env["DATABASE_URL"], tmp_path)
    web.relaunch()
    tablet = TabletClient(web.url, world).connect(reconnection=True)
    tablet.go_on_duty(59.3140, 18.0720)
    console_events = []
    console = socketio.Client(reconnection=True, reconnection_delay=0.2,
                              reconnection_delay_max=1)
    console.on("job.updated", lambda job: console_events.append(job), namespace="/console")
    console.connect(web.url, namespaces=["/console"], transports=["websocket"],
                    auth={"token": world.operator_token}, wait_timeout=10)

    def console_connected():
        return console.connected and "/console" in console.namespaces

    try:
        # 1. A complaint logged, and the process killed the moment the operator has the answer.
        logged = log_complaint(web, world, description="Hög musik")
        web.kill9()
        web.relaunch()
        job = requests.get(f"{web.url}/api/v1/jobs/{logged['job_id']}", headers=world.operator,
                           timeout=10).json()
        assert (job["complaint_id"], job["status"]) == (logged["complaint_id"], "queued")
        assert job["description"] == "Hög musik" and "Götgatan 12B" in job["address"]
        # Both sockets come back to the new process by themselves.
        wait_until(tablet.answers, timeout=30)
        wait_until(console_connected, timeout=30)

        # 2. The car goes into a tunnel; the job is dispatched to it (it left within the grace
        # period); the process is killed the moment the operator has the answer.
        tablet.disconnect()
        sent = requests.post(f"{web.url}/api/v1/jobs/{logged['job_id']}/dispatch",
                             headers=world.operator, json={}, timeout=10)
        assert sent.status_code == 200, sent.text
        assert sent.json()["patrol_id"] == world.patrol_id
        web.kill9()
        web.relaunch()
        wait_until(console_connected, timeout=30)

        # 3. The tablet comes out of the tunnel: the job arrives once, and is acknowledged.
        tablet = TabletClient(web.url, world, received=tablet.received).connect()
        wait_until(lambda: tablet.received, timeout=15)

        def acknowledged():
            job = requests.get(f"{web.url}/api/v1/jobs/{logged['job_id']}",
                               headers=world.operator, timeout=10).json()
            return job if job["acknowledged_at"] else None

        job = wait_until(acknowledged, timeout=15)
        assert [h["kind"] for h in job["history"]] == [
            "created", "assigned", "acknowledged"]
        # Connected again later, the tablet is sent nothing more: exactly one delivery.
        tablet.disconnect()
        tablet = TabletClient(web.url, world, received=tablet.received).connect()
        assert tablet.answers()  # anything still due would have come before this answer
        assert [m["job_id"] for m in tablet.received] == [logged["job_id"]]
        assert tablet.received[0]["portkod"] == "4711"

        # 4. The console, reconnected to the new process, hears of the acknowledgement, and the
        # board it reloads on every reconnection (static/console/connection.js) has the job.
        wait_until(lambda: any(e["job_id"] == logged["job_id"] and e["acknowledged_at"]
                               for e in console_events), timeout=15)
        board = requests.get(f"{web.url}/api/v1/board", headers=world.operator,
                             timeout=10).json()
        [on_board] = [j for j in board["jobs"] if j["job_id"] == logged["job_id"]]
        assert (on_board["status"], on_board["patrol_id"]) == ("assigned", world.patrol_id)
    finally:
        tablet.disconnect()
        console.disconnect()
