"""Redis (the message queue) killed under two web processes: each keeps serving HTTP and its
own sockets, reports the outage in /healthz (200, ``degraded``: see dispatch/views.py) and in
its log, and a job dispatched through the other process still reaches the tablet (its
process's re-send loop delivers what the queue could not carry). Redis back: healthy again.

A process with no REDIS_URL has no queue to lose: the rest of the suite runs that way."""

from __future__ import annotations

import pytest
import requests

from tests.support.faults import (
    PrivateRedis,
    RestartableServer,
    TabletClient,
    log_complaint,
    make_world,
)
from tests.support.servers import wait_until


@pytest.fixture
def pair(tmp_path_factory):
    """Two web processes on one database and one private Redis; the Redis, to kill."""
    from tests.conftest import _fresh_database_url

    url, drop = _fresh_database_url(tmp_path_factory, "redis_down")
    redis = PrivateRedis(tmp_path_factory.mktemp("redis")).start()
    env = {"REDIS_URL": redis.url, "DELIVERY_RESEND_S": "1"}
    a = RestartableServer(url, tmp_path_factory.mktemp("a"), env)
    b = RestartableServer(url, tmp_path_factory.mktemp("b"), env)
    try:
        yield a, b, redis
    finally:
        a.stop()
        b.stop()
        redis.kill9()
        drop()


def _health(server) -> tuple[int, dict]:
    response = requests.get(f"{server.url}/healthz", timeout=10)
    return response.status_code, response.json()


def test_with_redis_gone_each_process_serves_its_own_sockets_and_says_it_is_degraded(
        pair, tmp_path):
    a, b, redis = pair
    a.cli("db", "upgrade")
    world = make_world(a.env["DATABASE_URL"], tmp_path)
    a.launch()
    b.launch()
    # "ok" once each process's search index is ready ("warming" before: issue 17).
    wait_until(lambda: a.healthy() and b.healthy()
               and _health(a) == _health(b) == (200, {"status": "ok"}), timeout=60)
    tablet = TabletClient(a.url, world).connect()
    try:
        tablet.go_on_duty(59.3140, 18.0720)
        redis.kill9()

        # Both processes say so, with 200: they still serve (a 503 from every process would
        # make a load balancer turn a partial outage into a full one).
        for server in (a, b):
            assert _health(server) == (200, {"status": "degraded", "redis": "unreachable"})

        # A: HTTP and its own sockets work: the job dispatched here reaches its tablet.
        first = log_complaint(a, world)
        sent = requests.post(f"{a.url}/api/v1/jobs/{first['job_id']}/dispatch",
                             headers=world.operator, json={}, timeout=10)
        assert sent.status_code == 200 and sent.json()["patrol_id"] == world.patrol_id
        wait_until(lambda: [m["job_id"] for m in tablet.received] == [first["job_id"]],
                   timeout=10)
        assert tablet.call("position", {"lat": 59.3141, "lon": 18.0721})["ok"]

        # B: a job dispatched through the other process cannot cross the queue, but the
        # outbox holds it and A's re-send loop hands it to the tablet.
        second = log_complaint(b, world)
        sent = requests.post(f"{b.url}/api/v1/jobs/{second['job_id']}/dispatch",
                             headers=world.operator, json={"patrol_id": world.patrol_id},
                             timeout=10)
        assert sent.status_code == 200, sent.text
        wait_until(lambda: second["job_id"] in [m["job_id"] for m in tablet.received],
                   timeout=15)

        # Each says it in its log too.
        for server in (a, b):
            assert "redis unreachable" in server.log.read_text()

        redis.start()  # the same port again
        for server in (a, b):
            wait_until(lambda s=server: _health(s) == (200, {"status": "ok"}), timeout=15)
    finally:
        tablet.disconnect()
