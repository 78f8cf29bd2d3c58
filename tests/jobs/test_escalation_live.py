"""The escalation kept by the server, not by a browser (issue 19): a real ``dispatch run``
process with no console connected, check-in times shortened; a car on site misses its
check-in, and the SMS reaches the (fake) gateway, which reports it delivered to the server;
acknowledging the alarm through the API stops the supervisor's step. Whether that step would
have come by then is shown by a later alarm's supervisor SMS arriving (the pass handles every
standing alarm each second): no fixed sleeps."""

from __future__ import annotations

import os
import subprocess

import pytest
import requests
import sqlalchemy as sa

from tests.support.servers import BIN, ROOT, free_port, wait_until
from tests.support.sms_gateway import FakeSmsGateway
from tests.support.tablets import ScriptedTablet

CAR_PHONE, SUPERVISOR = "+46701740699", "+46701740698"


class DispatchRun:
    """``dispatch run`` (the single-process server) on a fresh database."""

    def __init__(self, url: str, instance, env: dict):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = url
        self.env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
                    "DATABASE_URL": url, "DISPATCH_INSTANCE": str(instance),
                    "SECRET_KEY": "live-sms-secret", "BASE_URL": self.url, "LOG_FORMAT": "json",
                    **env}
        self.log = instance / "run.log"
        self.process = None

    def cli(self, *args: str) -> str:
        done = subprocess.run([str(BIN / "dispatch"), *args], env=self.env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr + done.stdout
        return done.stdout

    def start(self) -> DispatchRun:
        self.cli("db", "upgrade")
        self._log = self.log.open("w")
        self.process = subprocess.Popen([str(BIN / "dispatch"), "run", "--port", str(self.port)],
                                        env=self.env, cwd=ROOT, stdout=self._log,
                                        stderr=subprocess.STDOUT)

        def up():
            if self.process.poll() is not None:
                raise RuntimeError(self.log.read_text()[-2000:])
            try:
                return requests.get(f"{self.url}/healthz", timeout=5).ok
            except requests.RequestException:
                return False

        wait_until(up, timeout=60)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self._log.close()


@pytest.fixture(scope="module")
def gateway():
    with FakeSmsGateway(user="elks-user", password="elks-secret", auto_deliver=True) as fake:
        yield fake


@pytest.fixture(scope="module")
def server(tmp_path_factory, gateway):
    from tests.conftest import _fresh_database_url

    url, drop = _fresh_database_url(tmp_path_factory, "smslive")
    instance = tmp_path_factory.mktemp("sms-live")
    live = DispatchRun(url, instance, {
        "SMS_BACKEND": "http", "SMS_GATEWAY_URL": gateway.url, "SMS_GATEWAY_USER": "elks-user",
        "SMS_GATEWAY_PASSWORD": "elks-secret", "SMS_SUPERVISOR_TO": SUPERVISOR,
        "ACK_CHECK_S": "1", "ACK_ALARM_AFTER_S": "600", "ACK_REDISPATCH_AFTER_S": "1200",
        "CHECKIN_INTERVAL_S": "2", "CHECKIN_FIGHT_THREAT_S": "2", "CHECKIN_GRACE_S": "1",
        "ESCALATE_CAR_AFTER_S": "1", "ESCALATE_SUPERVISOR_AFTER_S": "15",
        "DELIVERY_RESEND_S": "2"})
    live.start()
    live.cli("create-landlord", "--code", "SMS", "--name", "Sms Bostäder")
    register = instance / "sms.csv"
    register.write_text(
        "objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;portkod;lat;lon;"
        "avtalsnummer;kundnummer;hyresgast_namn;hyresgast_telefon\n"
        "S-1102;Smsgatan 3;118 46;Stockholm;1102;4711;59.3121;18.0713;A1;K1;"
        "Anna Andersson;070-174 06 05\n", encoding="utf-8")
    live.cli("import-register", "--landlord", "SMS", str(register))
    live.cli("create-patrol", "--call-sign", "Jour 41")
    live.car_token = live.cli("create-token", "--role", "patrol", "--email", "41@car.example.se",
                              "--call-sign", "Jour 41").strip()
    live.operator = {"Authorization": "Bearer " + live.cli("create-token", "--role",
                                                          "operator").strip()}
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:  # the admin's page does this (tests/admin)
        connection.execute(sa.text("UPDATE patrols SET phone = :phone WHERE call_sign = :car"),
                           {"phone": CAR_PHONE, "car": "Jour 41"})
    engine.dispose()
    yield live
    live.stop()
    drop()


def api(server, method, path, **kwargs):
    answer = requests.request(method, f"{server.url}/api/v1{path}", headers=server.operator,
                              timeout=10, **kwargs)
    assert answer.ok, answer.text
    return answer.json()


def test_a_missed_check_in_reaches_the_car_by_sms_with_no_console_and_ack_stops_the_rest(
        server, gateway):
    tablet = ScriptedTablet(server.url, server.car_token, "Jour 41", (59.3125, 18.0713))
    try:
        [hit, *_] = api(server, "GET", "/addresses/search", params={"q": "Smsgatan 3 lgh 1102"})
        job_id = api(server, "POST", "/complaints", json={
            "landlord": "SMS", "object_id": hit["object_id"], "category": "fight_threat"})[
            "job_id"]
        api(server, "POST", f"/jobs/{job_id}/dispatch", json={})
        wait_until(lambda: job_id in tablet.jobs, timeout=30)
        for status in ("accepted", "en_route", "on_site"):
            tablet.call("job.status", {"job_id": job_id, "status": status})

        # No check-in: the server's timers alarm, and then text the car's phone.
        [car_sms] = gateway.wait_for(1, timeout=60)
        assert car_sms.to == CAR_PHONE and car_sms.sender == "Jouren"
        assert "Smsgatan 3" in car_sms.message
        for secret in ("4711", "Anna", "070-174", "1102"):
            assert secret not in car_sms.message
        [alarm] = [a for a in api(server, "GET", "/alarms") if a["kind"] == "checkin_missed"]
        acknowledged = api(server, "POST", f"/alarms/{alarm['alarm_id']}/acknowledge", json={})
        assert acknowledged["changed"] is True

        def history():
            return [e["kind"] for e in api(server, "GET", f"/jobs/{job_id}")["events"]]

        wait_until(lambda: "sms_car_delivered" in history(), timeout=30)  # the gateway's report

        # A later alarm left standing: its supervisor step comes after the first alarm's
        # would have, so the first's absence is then a fact, not a guess.
        tablet.call("patrol.alarm", {"event_id": "silent-1", "kind": "silent"})
        wait_until(lambda: any(s.to == SUPERVISOR for s in gateway.taken), timeout=60)
        sent = [(s.to, s.message) for s in gateway.taken]
        assert len(sent) == 2, sent
        assert sent[1][0] == SUPERVISOR and sent[1][1].startswith("Larm från Jour 41")
        kinds = history()
        assert kinds.count("sms_to_car") == 1 and kinds.count("sms_to_supervisor") == 1, kinds
        wait_until(lambda: len(gateway.reports) == 2, timeout=30)
        assert [r[1] for r in gateway.reports] == [200, 200]  # both reports taken
    finally:
        tablet.sio.disconnect()
