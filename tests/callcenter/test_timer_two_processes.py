"""The acknowledgement timer in two web processes at once (the Procfile's web, one database,
one Redis), each running the pass every second, no console open: a job nobody accepts raises
one alarm and is moved once, to the other car, whose tablet (on the other process) gets it;
the first tablet is told once."""

import os

import pytest
import requests

from tests.support.servers import LiveServer, wait_until
from tests.support.tablets import ScriptedTablet

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    from tests.conftest import _fresh_database_url

    url, drop = _fresh_database_url(tmp_path_factory, "timerpair")
    env = {"REDIS_URL": REDIS_URL, "DELIVERY_RESEND_S": "2", "ACK_ALARM_AFTER_S": "1",
           "ACK_REDISPATCH_AFTER_S": "3", "ACK_CHECK_S": "1"}
    a = LiveServer(url, tmp_path_factory.mktemp("ta"), env).start()
    b = LiveServer(url, tmp_path_factory.mktemp("tb"), env).start()
    yield a, b
    a.stop()
    b.stop()
    drop()


def test_two_processes_alarm_once_and_move_the_job_once(two_servers, tmp_path):
    a, b = two_servers
    a.cli("create-landlord", "--code", "ACME", "--name", "Acme")
    register = tmp_path / "acme.csv"
    register.write_text("objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;lat;lon\n"
                        "1-1102;Götgatan 12B;118 46;Stockholm;1102;59.3121;18.0713\n")
    a.cli("import-register", "--landlord", "ACME", str(register))
    tokens = {}
    for call_sign in ("Jour 11", "Jour 12"):
        a.cli("create-patrol", "--call-sign", call_sign)
        tokens[call_sign] = a.cli("create-token", "--role", "patrol", "--email",
                                  f"{call_sign[-2:]}@car.example.se",
                                  "--call-sign", call_sign).strip()
    operator = {"Authorization": "Bearer " + a.cli("create-token", "--role", "operator").strip()}

    first = ScriptedTablet(a.url, tokens["Jour 11"], "Jour 11", (59.3125, 18.0713))
    second = ScriptedTablet(b.url, tokens["Jour 12"], "Jour 12", (59.3215, 18.0713))
    try:
        hit = requests.get(f"{a.url}/api/v1/addresses/search", headers=operator, timeout=10,
                           params={"q": "gotgatan 12b 1102"}).json()[0]
        job_id = requests.post(f"{a.url}/api/v1/complaints", headers=operator, timeout=10, json={
            "landlord": "ACME", "object_id": hit["object_id"], "category": "music"}).json()[
            "job_id"]
        sent = requests.post(f"{b.url}/api/v1/jobs/{job_id}/dispatch", headers=operator,
                             json={}, timeout=10).json()
        assert sent["status"] == "assigned"

        wait_until(lambda: ("job.assigned", job_id) in second.events, timeout=30)
        second.call("job.status", {"job_id": job_id, "status": "accepted"})  # stops the timer
        wait_until(lambda: ("job.revoked", job_id) in first.events, timeout=15)

        job = requests.get(f"{a.url}/api/v1/jobs/{job_id}", headers=operator, timeout=10).json()
        kinds = [(e["kind"], e["patrol"], e["details"].get("reason")) for e in job["events"]]
        assert kinds.count(("ack_alarm", "Jour 11", None)) == 1, kinds
        assert kinds.count(("withdrawn", "Jour 11", "not_accepted")) == 1, kinds
        assert kinds.count(("assigned", "Jour 12", "not_accepted")) == 1, kinds
        assert [k[0] for k in kinds].count("assigned") == 2, kinds
        assert job["status"] == "accepted" and job["alarm"] is None
        assert first.events.count(("job.revoked", job_id)) == 1
        assert second.events.count(("job.assigned", job_id)) == 1
    finally:
        first.sio.disconnect()
        second.sio.disconnect()
