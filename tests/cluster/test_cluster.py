"""The production shape, for real: ``scripts/cluster`` (nginx, three gunicorn web processes,
Redis, PostgreSQL, one scheduler). Nine tablets, each its own car with a device token from the
shift log-in, connect through nginx and end up three on each web process (nginx's log says
which process served each Socket.IO session). An operator on web-1 dispatches a storm of jobs
through nginx; web-3 is killed with ``kill -9`` in the middle of it. Its three tablets
reconnect through nginx to the other two; every job reaches its car and is shown once, jobs
dispatched while a car was cut off included.

Runs on the PostgreSQL pass only (``TEST_DATABASE_URL``), like production; select it with
``-m cluster``.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import requests
import socketio

from tests.cluster.cluster import Cluster
from tests.support.servers import wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.postgres_only]

PASSWORD = "correct horse battery"
PER_PROCESS = 3  # tablets per web process
JOBS = 45  # five per tablet
KILL_AT = 15  # web-3 dies after this many dispatches
VICTIM = "web-3"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from tests.conftest import _fresh_database_url

    url, drop = _fresh_database_url(tmp_path_factory, "cluster")
    running = Cluster(tmp_path_factory.mktemp("cluster"), url)
    try:
        running.start()
        yield running
    finally:
        running.run("stop", check=False)
        drop()


@pytest.fixture(scope="module")
def world(cluster, tmp_path_factory):
    """A landlord with a small register, nine cars, a patrol log-in and an operator token."""
    register = tmp_path_factory.mktemp("register") / "cluster.csv"
    register.write_text(
        "objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;lat;lon\n"
        "C-1102;Klustergatan 1;118 46;Stockholm;1102;59.3121;18.0713\n", encoding="utf-8")
    call_signs = [f"Kluster {n}" for n in range(1, 3 * PER_PROCESS + 1)]
    *_, token = cluster.commands(
        ["create-landlord", "--code", "CLU", "--name", "Kluster Bostäder"],
        ["import-register", "--landlord", "CLU", str(register)],
        ["create-user", "--role", "patrol", "--email", "cars@cluster.example.se",
         "--password", PASSWORD],
        *(["create-patrol", "--call-sign", call_sign] for call_sign in call_signs),
        ["create-token", "--role", "operator"])
    return {"call_signs": call_signs, "operator_token": token}


class Tablet:
    """A car's tablet (python-socketio, reconnecting on its own), as the field app behaves:
    it shows each job once, keyed by job_id, and acknowledges every delivery."""

    def __init__(self, url: str, call_sign: str, route: str, token: str, patrol_id: int):
        self.url, self.call_sign, self.route = url, call_sign, route
        self.token, self.patrol_id = token, patrol_id
        self.lock = threading.Lock()
        self.screen: dict[int, dict] = {}  # job_id -> the job as shown
        self.deliveries: list[int] = []  # job ids in order of arrival, re-sends included
        self.acked: set[int] = set()  # jobs whose acknowledgement the server confirmed
        self.sids: list[str] = []  # the Engine.IO session of each connection
        self.connected = False
        self.ready = threading.Event()  # the /field namespace is connected
        # A fixed, unrandomised back-off, so that the cut-off lasts long enough for jobs to
        # be dispatched while the car is away (not a sleep of the test's).
        # The sticky cookie lives in the client's cookie jar, as in a browser, so that it
        # survives reconnects (python-engineio drops a Cookie header after the first upgrade).
        http = requests.Session()
        http.cookies.set("dispatch_route", route)
        self.sio = socketio.Client(reconnection=True, reconnection_delay=2,
                                   reconnection_delay_max=2, randomization_factor=0,
                                   http_session=http)
        self.sio.on("connect", self._on_connect, namespace="/field")
        self.sio.on("disconnect", self._on_disconnect, namespace="/field")
        self.sio.on("job.assigned", self._on_job, namespace="/field")

    def connect(self) -> None:
        # Long-polling first, then the websocket upgrade: both must reach the same process.
        self.sio.connect(self.url, namespaces=["/field"], wait_timeout=10,
                         auth={"token": self.token, "call_sign": self.call_sign})
        for event, data in (("position", {"lat": 59.3140, "lon": 18.0720}),
                            ("patrol.status", {"status": "available"})):
            assert self.sio.call(event, data, namespace="/field", timeout=10)["ok"]

    def _on_connect(self):
        with self.lock:
            self.connected = True
            self.sids.append(self.sio.eio.sid)
        self.ready.set()

    def _on_disconnect(self, *_reason):
        with self.lock:
            self.connected = False
        self.ready.clear()

    def _on_job(self, job):
        with self.lock:
            self.deliveries.append(job["job_id"])
            self.screen.setdefault(job["job_id"], job)
        # What was waiting is sent from the server's connect handler, before the client
        # hears that it is connected: answer once it is (socket.io-client buffers those).
        self.ready.wait(timeout=10)
        try:
            answer = self.sio.call("job.ack", {"delivery_id": job["delivery_id"]},
                                   namespace="/field", timeout=5)
        except socketio.exceptions.SocketIOError:
            return  # cut off: the server sends it again on reconnect
        if answer.get("ok"):
            with self.lock:
                self.acked.add(job["job_id"])


def test_static_files_come_from_nginx_and_pages_from_the_web_processes(cluster):
    static = requests.get(f"{cluster.url}/static/vendor/socket.io.min.js", timeout=10)
    assert static.status_code == 200 and static.headers["Server"] == "nginx"
    assert static.headers["Cache-Control"] == "max-age=604800"  # nginx's expires, not Flask's
    page = requests.get(f"{cluster.url}/field/", timeout=10)
    assert page.status_code == 200 and "dispatch_route=" in page.headers["Set-Cookie"]
    targets = {"/static/vendor/socket.io.min.js", "/field/"}
    where = wait_until(lambda: (lambda found: found if set(found) == targets else None)(
        {s.target: cluster.process_at(s.upstream) for s in cluster.served()
         if s.target in targets}))
    assert where["/static/vendor/socket.io.min.js"] is None  # no upstream: nginx itself
    assert where["/field/"] in cluster.web


def test_tablets_spread_over_three_processes_keep_every_job_through_a_kill_9(cluster, world):
    keys = cluster.route_keys(PER_PROCESS)
    operator = requests.Session()
    operator.headers["Authorization"] = f"Bearer {world['operator_token']}"
    operator.cookies.set("dispatch_route", keys["web-1"][0])  # the console sits on web-1
    call_signs = iter(world["call_signs"])
    tablets: list[Tablet] = []
    home: dict[str, str] = {}  # call sign -> the process its route key leads to
    for name, routes in keys.items():
        for route in routes:
            call_sign = next(call_signs)
            shift = requests.post(f"{cluster.url}/api/v1/field/session", timeout=10,
                                  cookies={"dispatch_route": route},
                                  json={"email": "cars@cluster.example.se",
                                        "password": PASSWORD, "call_sign": call_sign,
                                        "crew": ["Anna Andersson"]})
            assert shift.status_code == 201, shift.text
            body = shift.json()
            tablets.append(Tablet(cluster.url, call_sign, route, body["token"],
                                  body["patrol"]["patrol_id"]))
            home[call_sign] = name
    try:
        for tablet in tablets:
            tablet.connect()
        # Spread: nginx's log names the process that served each tablet's Socket.IO requests
        # (each tablet has a route key of its own); three tablets on each of the processes.
        wait_until(lambda: all(cluster.processes_of_route(t.route) for t in tablets))
        for tablet in tablets:
            assert cluster.processes_of_route(tablet.route) == {home[tablet.call_sign]}
            assert tablet.sio.transport() == "websocket"
        assert Counter(home.values()) == dict.fromkeys(cluster.web, PER_PROCESS)
        orphans = [t for t in tablets if home[t.call_sign] == VICTIM]

        object_id = operator.get(f"{cluster.url}/api/v1/addresses/search", timeout=10,
                                 params={"q": "klustergatan 1 lgh 1102"}).json()[0]["object_id"]
        sent: dict[int, Tablet] = {}  # job id -> the tablet it was dispatched to
        while_away: list[int] = []  # jobs dispatched to a car cut off at that moment
        for n in range(JOBS):
            if n == KILL_AT:
                cluster.kill(VICTIM)
            tablet = tablets[n % len(tablets)]
            complaint = operator.post(f"{cluster.url}/api/v1/complaints", timeout=10, json={
                "landlord": "CLU", "object_id": object_id, "category": "music"})
            assert complaint.status_code == 201, complaint.text
            job_id = complaint.json()["job_id"]
            answer = operator.post(f"{cluster.url}/api/v1/jobs/{job_id}/dispatch",
                                   json={"patrol_id": tablet.patrol_id}, timeout=10)
            assert answer.status_code == 200, answer.text
            sent[job_id] = tablet
            if not tablet.connected:
                while_away.append(job_id)

        # The operator's requests all went to web-1: to six of the tablets, through Redis.
        assert {cluster.process_at(s.upstream) for s in cluster.served()
                if s.route == keys["web-1"][0] and s.target.startswith("/api/v1/")} == {"web-1"}

        # web-3's tablets come back through nginx, on the two processes left.
        wait_until(lambda: all(len(t.sids) == 2 and t.connected for t in orphans), timeout=30)
        for tablet in orphans:
            assert len(cluster.processes_of_route(tablet.route) - {VICTIM}) == 1
        assert all(len(t.sids) == 1 for t in tablets if t not in orphans)
        assert while_away, "no job was dispatched while web-3's tablets were cut off"

        # No job lost: each reaches its car and is acknowledged; none is shown twice, nor by
        # another car.
        def unacknowledged():
            return {job_id: (tablet.call_sign, job_id in tablet.screen)
                    for job_id, tablet in sent.items() if job_id not in tablet.acked}

        try:
            wait_until(lambda: not unacknowledged(), timeout=30)
        except TimeoutError:
            pytest.fail(f"jobs not acknowledged (car, shown): {unacknowledged()}; "
                        f"dispatched while cut off: {while_away}")
        for tablet in tablets:
            assert set(tablet.screen) == {j for j, t in sent.items() if t is tablet}
        # Re-sends happen only to the cars that were cut off (the tablet shows a job once).
        again = {t.call_sign for t in tablets if len(t.deliveries) > len(set(t.deliveries))}
        assert again <= {t.call_sign for t in orphans}
        assert {j for j in while_away if sent[j] in orphans} <= set().union(
            *(t.acked for t in orphans))

        # The server agrees: each job assigned once and acknowledged once, by its car.
        for job_id, tablet in sent.items():
            job = operator.get(f"{cluster.url}/api/v1/jobs/{job_id}", timeout=10).json()
            kinds = Counter(h["kind"] for h in job["history"])
            assert job["patrol_id"] == tablet.patrol_id and job["acknowledged_at"], job
            assert kinds["assigned"] == 1 and kinds["acknowledged"] == 1, job["history"]
    finally:
        for tablet in tablets:
            tablet.sio.disconnect()

    # Each websocket, logged by nginx as it closed, lived on the process it was meant to.
    sessions = wait_until(lambda: (lambda found: found if all(found.values()) else None)(
        {sid: cluster.processes_of_sid(sid) for t in tablets for sid in t.sids}))
    for tablet in tablets:
        if tablet in orphans:
            assert sessions[tablet.sids[0]] == {VICTIM}
            assert sessions[tablet.sids[1]] <= {"web-1", "web-2"}
        else:
            assert [sessions[sid] for sid in tablet.sids] == [{home[tablet.call_sign]}]

    status = cluster.run("status", check=False)
    assert status.returncode == 1  # part of it runs: web-3 is gone
    assert "web-3      stopped" in status.stdout and "web-1      running" in status.stdout
