"""In Chromium: the tablet sends again what the server could not record. Between the tablet
and the real server, the first two acknowledgements of a status are turned into
``internal_error``: the status stays first in the outbox and goes again 1 s, then 2 s later
(back-off), the server records it once (the same event_id each time). A refusal that will
never succeed (``unknown_job``) is shown and dropped, and what follows is sent.
"""

import json
import re
import time

import pytest
import requests
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
CAR = "Jour 31"
INTERNAL = {"ok": False, "error": {"code": "internal_error", "message": "could not record"}}
UNKNOWN = {"ok": False, "error": {"code": "unknown_job", "message": "no such job"}}


@pytest.fixture(scope="module")
def world(live_server, tmp_path_factory):
    register = tmp_path_factory.mktemp("retry") / "retur.csv"
    register.write_text("objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;lat;lon\n"
                        "R-1102;Returgatan 7;118 46;Stockholm;1102;59.3121;18.0713\n",
                        encoding="utf-8")
    live_server.cli("create-landlord", "--code", "RETUR", "--name", "Retur Bostäder")
    live_server.cli("import-register", "--landlord", "RETUR", str(register))
    live_server.cli("create-patrol", "--call-sign", CAR)
    token = live_server.cli("create-token", "--role", "operator").strip()
    return {"url": live_server.url, "headers": {"Authorization": f"Bearer {token}"}}


def api(world, method, path, **kwargs):
    response = requests.request(method, f"{world['url']}/api/v1{path}", headers=world["headers"],
                                timeout=10, **kwargs)
    assert response.ok, response.text
    return response.json()


class Between:
    """The tablet's websocket, passed through; the server's acknowledgements of ``event``
    replaced by ``answers`` in turn (None: the server's own), and what the tablet sent kept
    with the time it went (``sent``)."""

    def __init__(self, event: str, answers: list):
        self.event, self.answers = event, list(answers)
        self.replace: dict[str, dict | None] = {}  # ack id → the answer to give instead
        self.sent: list[tuple[float, dict]] = []

    def route(self, ws) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda message: self.up(message, server))
        server.on_message(lambda message: self.down(message, ws))

    def up(self, message, server) -> None:
        m = re.match(r"42/field,(\d+)(\[.*)", message, re.S) if isinstance(message, str) else None
        if m:
            name, data = json.loads(m.group(2))[:2]
            if name == self.event:
                self.sent.append((time.monotonic(), data))
                self.replace[m.group(1)] = self.answers.pop(0) if self.answers else None
        server.send(message)

    def down(self, message, ws) -> None:
        m = re.match(r"43/field,(\d+)\[", message) if isinstance(message, str) else None
        if m and self.replace.get(m.group(1)) is not None:
            message = f"43/field,{m.group(1)}{json.dumps([self.replace.pop(m.group(1))])}"
        ws.send(message)

    def statuses(self) -> list[str]:
        return [data["status"] for _, data in self.sent]


def test_a_status_the_server_could_not_record_goes_again_with_back_off_in_order(
        browser, world):
    between = Between("job.status", [INTERNAL, INTERNAL, None, UNKNOWN])
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm",
                                  geolocation={"latitude": 59.3140, "longitude": 18.0720},
                                  permissions=["geolocation"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.route_web_socket(re.compile(r"/socket\.io/"), between.route)
    try:
        page.goto(f"{world['url']}/field/?lang=en")
        page.get_by_label("E-mail").fill("patrol@live.example.se")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Call sign").select_option(CAR)
        page.get_by_label("Staff on the car").fill("Anna Andersson")
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("#net")).to_have_text("Online")
        duty = page.locator("#duty")
        if duty.get_attribute("aria-pressed") != "true":
            duty.click()
        expect(page.locator("#queue")).to_be_hidden()

        patrol = next(p for p in api(world, "GET", "/patrols") if p["call_sign"] == CAR)
        hit = api(world, "GET", "/addresses/search",
                  params={"q": "Returgatan 7 lgh 1102", "landlord": "RETUR"})[0]
        job_id = api(world, "POST", "/complaints", json={
            "landlord": "RETUR", "object_id": hit["object_id"], "category": "music"})["job_id"]
        api(world, "POST", f"/jobs/{job_id}/dispatch", json={"patrol_id": patrol["patrol_id"]})
        card = page.locator(f"#job-{job_id}")

        card.get_by_role("button", name="Accept").click()
        expect(page.locator("#waiting li")).to_contain_text(["Status Accepted waiting to be sent"])
        expect(page.locator("#queue")).to_be_hidden()  # sent at the third attempt
        assert between.statuses() == ["accepted"] * 3
        (t1, first), (t2, second), (t3, third) = between.sent
        assert first["event_id"] == second["event_id"] == third["event_id"]
        assert 0.75 <= t2 - t1 < 3 and t3 - t2 >= 1.5 and t3 - t2 > t2 - t1  # 1 s, then 2 s

        # A refusal that will never succeed is not sent again: the next status goes after it.
        card.get_by_role("button", name="En route").click()
        expect(page.locator("#notice")).to_contain_text("Not accepted")
        card.get_by_role("button", name="On site").click()
        expect(page.locator("#queue")).to_be_hidden()
        assert between.statuses() == ["accepted"] * 3 + ["en_route", "on_site"]

        history = [h["kind"] for h in api(world, "GET", f"/jobs/{job_id}")["history"]]
        assert history.count("accepted") == 1  # three sends, one status
    finally:
        context.close()
