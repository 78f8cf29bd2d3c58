"""The escalation in two web processes at once (the Procfile's web, one database, one Redis),
each running the passes every second, no console open: a missed check-in nobody handles
gives exactly one SMS to the car and one to the supervisor, not one per process. The steps of a
later alarm arriving after them shows that both processes have passed over the first alarm's
steps many times by then (no fixed sleeps)."""

from __future__ import annotations

import os

import pytest
import requests
import sqlalchemy as sa

from tests.jobs.test_escalation_live import CAR_PHONE, SUPERVISOR
from tests.support.servers import LiveServer, wait_until
from tests.support.sms_gateway import FakeSmsGateway
from tests.support.tablets import ScriptedTablet

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from tests.conftest import _fresh_database_url

    url, drop = _fresh_database_url(tmp_path_factory, "smspair")
    with FakeSmsGateway(user="elks-user", password="elks-secret") as gateway:
        env = {"REDIS_URL": REDIS_URL, "SMS_BACKEND": "http", "SMS_GATEWAY_URL": gateway.url,
               "SMS_GATEWAY_USER": "elks-user", "SMS_GATEWAY_PASSWORD": "elks-secret",
               "SMS_SUPERVISOR_TO": SUPERVISOR, "ACK_CHECK_S": "1", "ACK_ALARM_AFTER_S": "600",
               "ACK_REDISPATCH_AFTER_S": "1200", "CHECKIN_INTERVAL_S": "2",
               "CHECKIN_FIGHT_THREAT_S": "2", "CHECKIN_GRACE_S": "1",
               "ESCALATE_CAR_AFTER_S": "1", "ESCALATE_SUPERVISOR_AFTER_S": "4"}
        a = LiveServer(url, tmp_path_factory.mktemp("sa"), env).start()
        b = LiveServer(url, tmp_path_factory.mktemp("sb"), env).start()
        yield a, b, gateway, url
        a.stop()
        b.stop()
    drop()


def test_two_processes_send_each_step_once(setup, tmp_path):
    a, b, gateway, url = setup
    a.cli("create-landlord", "--code", "SMS", "--name", "Sms Bostäder")
    register = tmp_path / "sms.csv"
    register.write_text("objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;lat;lon\n"
                        "S-1102;Smsgatan 3;118 46;Stockholm;1102;59.3121;18.0713\n")
    a.cli("import-register", "--landlord", "SMS", str(register))
    a.cli("create-patrol", "--call-sign", "Jour 41")
    a.car_token = a.cli("create-token", "--role", "patrol", "--email", "41@car.example.se",
                        "--call-sign", "Jour 41").strip()
    operator = {"Authorization": "Bearer " + a.cli("create-token", "--role",
                                                  "operator").strip()}
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE patrols SET phone = :p WHERE call_sign = 'Jour 41'"),
                           {"p": CAR_PHONE})
    engine.dispose()

    tablet = ScriptedTablet(a.url, a.car_token, "Jour 41", (59.3125, 18.0713))
    try:
        hit = requests.get(f"{b.url}/api/v1/addresses/search", headers=operator, timeout=10,
                           params={"q": "Smsgatan 3 lgh 1102"}).json()[0]
        job_id = requests.post(f"{b.url}/api/v1/complaints", headers=operator, timeout=10,
                               json={"landlord": "SMS", "object_id": hit["object_id"],
                                     "category": "fight_threat"}).json()["job_id"]
        assert requests.post(f"{b.url}/api/v1/jobs/{job_id}/dispatch", headers=operator,
                             json={}, timeout=10).ok
        wait_until(lambda: job_id in tablet.jobs, timeout=30)
        for status in ("accepted", "en_route", "on_site"):
            tablet.call("job.status", {"job_id": job_id, "status": status})
        gateway.wait_for(2, timeout=60)  # the missed check-in's two steps
        tablet.call("patrol.alarm", {"event_id": "silent-2", "kind": "silent"})
        gateway.wait_for(3, timeout=60)  # the later alarm's supervisor step
        sent = [s.to for s in gateway.taken]
        assert sent == [CAR_PHONE, SUPERVISOR, SUPERVISOR], sent
        job = requests.get(f"{a.url}/api/v1/jobs/{job_id}", headers=operator, timeout=10).json()
        kinds = [e["kind"] for e in job["events"]]
        assert kinds.count("sms_to_car") == 1 and kinds.count("sms_to_supervisor") == 2, kinds
    finally:
        tablet.sio.disconnect()
