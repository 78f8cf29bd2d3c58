"""Two web processes behind one Redis: an assignment made in one reaches a tablet connected
to the other, and its acknowledgement, recorded there, is seen by the first."""

import os

import pytest
import requests
import socketio

from tests.support.servers import LiveServer, wait_until

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    from tests.conftest import _fresh_database_url

    url, drop = _fresh_database_url(tmp_path_factory, "pair")
    env = {"REDIS_URL": REDIS_URL, "DELIVERY_RESEND_S": "2"}
    a = LiveServer(url, tmp_path_factory.mktemp("a"), env).start()
    b = LiveServer(url, tmp_path_factory.mktemp("b"), env).start()
    yield a, b
    a.stop()
    b.stop()
    drop()


def test_a_job_dispatched_through_one_process_reaches_a_tablet_on_the_other(two_servers, tmp_path):
    a, b = two_servers
    a.cli("create-landlord", "--code", "ACME", "--name", "Acme", "--oncall-number", "08-46500401")
    register = tmp_path / "acme.csv"
    register.write_text(
        "objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;lat;lon\n"
        "1-1102;Götgatan 12B;118 46;Stockholm;1102;59.3121;18.0713\n"
    )
    a.cli("import-register", "--landlord", "ACME", str(register))
    a.cli("create-patrol", "--call-sign", "Jour 11")
    operator = {"Authorization": "Bearer " + a.cli("create-token", "--role", "operator").strip()}
    patrol_token = a.cli("create-token", "--role", "patrol", "--email", "car@x.se",
                         "--call-sign", "Jour 11").strip()

    received, acked = [], []
    tablet = socketio.Client(reconnection=False)

    @tablet.on("job.assigned", namespace="/field")
    def on_job(payload):
        received.append(payload)
        acked.append(
            tablet.call(
                "job.ack", {"delivery_id": payload["delivery_id"]}, namespace="/field", timeout=10
            )
        )

    tablet.connect(
        b.url,
        namespaces=["/field"],
        transports=["websocket"],
        wait_timeout=10,
        auth={"token": patrol_token, "call_sign": "Jour 11"},
    )
    try:
        tablet.call("position", {"lat": 59.314, "lon": 18.072}, namespace="/field", timeout=10)
        tablet.call("patrol.status", {"status": "available"}, namespace="/field", timeout=10)
        hit = requests.get(
            f"{a.url}/api/v1/addresses/search",
            params={"q": "gotgatan 12b 1102"},
            headers=operator,
            timeout=10,
        ).json()[0]
        job_id = requests.post(
            f"{a.url}/api/v1/complaints",
            headers=operator,
            timeout=10,
            json={"landlord": "ACME", "object_id": hit["object_id"], "category": "music"},
        ).json()["job_id"]
        answer = requests.post(
            f"{a.url}/api/v1/jobs/{job_id}/dispatch", headers=operator, json={}, timeout=10
        ).json()
        assert answer["status"] == "assigned"
        wait_until(lambda: acked, timeout=15)
        # A re-send may race the acknowledgement; the tablet shows a job once (keyed on job_id).
        assert {p["job_id"] for p in received} == {job_id} and acked[0]["ok"]
        job = wait_until(
            lambda: (lambda j: j if j["acknowledged_at"] else None)(
                requests.get(f"{a.url}/api/v1/jobs/{job_id}", headers=operator, timeout=10).json()
            )
        )
        assert [h["kind"] for h in job["history"]][-1] == "acknowledged"
    finally:
        tablet.disconnect()
