"""In Chromium, against the Procfile's web process with short timers (alarm after 3 s,
re-dispatch after 8 s, checked every second): a job sent to a tablet whose crew never accepts
it, with no console open, raises the alarm (``/healthz``) and is then sent by the server to the
second car's tablet, the first tablet told it was moved; the history says so. Then an operator
opens the console, opens the job's row with Enter, sees its history, and cancels it with a
reason, by keyboard alone; the second tablet is told.

A server of its own: the timers are settings read at start, and the suite's shared server
keeps the real ones.
"""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import _fresh_database_url
from tests.support.servers import LiveServer, wait_until

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
ADDRESS = (59.3121, 18.0713)
NEAR, FAR = {"latitude": 59.3125, "longitude": 18.0713}, {"latitude": 59.3215, "longitude": 18.0713}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url, drop = _fresh_database_url(tmp_path_factory, "acktimer_live")
    instance = tmp_path_factory.mktemp("acktimer-instance")
    live = LiveServer(url, instance, extra_env={
        "ACK_ALARM_AFTER_S": "3", "ACK_REDISPATCH_AFTER_S": "8", "ACK_CHECK_S": "1"}).start()
    live.cli("create-landlord", "--code", "TIMR", "--name", "Timer Bostäder")
    for role in ("operator", "patrol"):
        live.cli("create-user", "--role", role, "--email", f"{role}@live.example.se",
                 "--password", PASSWORD)
    register = instance / "timer.csv"
    register.write_text(
        "objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;portkod;lat;lon;"
        "avtalsnummer;kundnummer;hyresgast_namn;hyresgast_telefon\n"
        f"T-1102;Timergatan 3;118 46;Stockholm;1102;4711;{ADDRESS[0]};{ADDRESS[1]};A1;K1;"
        "Anna Andersson;070-174 06 05\n", encoding="utf-8")
    live.cli("import-register", "--landlord", "TIMR", str(register))
    for call_sign in ("Jour 21", "Jour 22"):
        live.cli("create-patrol", "--call-sign", call_sign)
    live.token = live.cli("create-token", "--role", "operator").strip()
    yield live
    live.stop()
    drop()


def api(server, method, path, **kwargs):
    response = requests.request(method, f"{server.url}/api/v1{path}", timeout=10,
                                headers={"Authorization": f"Bearer {server.token}"}, **kwargs)
    assert response.ok, response.text
    return response.json()


def tablet_at(browser, position):
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm",
                                  geolocation=position, permissions=["geolocation"],
                                  viewport={"width": 800, "height": 1280})
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def start_shift(page, server, call_sign, crew):
    """Log in on the tablet as the car (with its crew), go on duty."""
    page.goto(f"{server.url}/field/?lang=en")
    page.get_by_label("E-mail").fill("patrol@live.example.se")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Call sign").select_option(call_sign)
    crew_field = page.get_by_label("Staff on the car")
    if crew_field.count():  # the shift log-in names the crew (issue 13's field half)
        crew_field.fill(crew)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#car")).to_have_text(call_sign)
    expect(page.locator("#net")).to_have_text("Online")
    duty = page.locator("#duty")
    if duty.get_attribute("aria-pressed") != "true":
        duty.click()
    expect(duty).to_have_attribute("aria-pressed", "true")


def car(server, call_sign):
    return next(p for p in api(server, "GET", "/patrols") if p["call_sign"] == call_sign)


def test_a_job_nobody_accepts_goes_to_the_next_car_with_no_console_open_then_is_cancelled(
        server, browser):
    first, second = tablet_at(browser, NEAR), tablet_at(browser, FAR)
    try:
        start_shift(first, server, "Jour 21", "Ada Berg")
        start_shift(second, server, "Jour 22", "Cem Dahl")
        wait_until(lambda: car(server, "Jour 21")["lat"] == NEAR["latitude"]
                   and car(server, "Jour 22")["lat"] == FAR["latitude"])

        object_id = api(server, "GET", "/addresses/search",
                        params={"q": "Timergatan 3 lgh 1102"})[0]["object_id"]
        job_id = api(server, "POST", "/complaints", json={
            "landlord": "TIMR", "object_id": object_id, "category": "music",
            "description": "Hög musik"})["job_id"]
        sent = api(server, "POST", f"/jobs/{job_id}/dispatch", json={})
        jour21, jour22 = car(server, "Jour 21")["patrol_id"], car(server, "Jour 22")["patrol_id"]
        assert sent["patrol_id"] == jour21  # the nearest

        # The first tablet has it (delivery acknowledged by itself); nobody presses Accepted.
        card = first.locator(f"#job-{job_id}")
        expect(card).to_be_visible()

        # No console is open: the server raises the alarm itself ...
        def alarm_standing():
            return requests.get(f"{server.url}/healthz", timeout=5).json().get("alarms") == 1
        wait_until(alarm_standing, timeout=15)
        # ... and sends the job on to the next nearest car, whose tablet shows it.
        expect(second.locator(f"#job-{job_id}")).to_be_visible(timeout=20_000)
        second.locator(f"#job-{job_id}").get_by_role("button", name="Accept").click()
        # The first tablet is told the job was moved.
        expect(card.locator(".revoked")).to_have_text("The job has been moved to another car.")

        job = api(server, "GET", f"/jobs/{job_id}")
        assert job["patrol_id"] == jour22
        steps = [(e["kind"], e["patrol_id"], e["details"].get("reason")) for e in job["events"]]
        assert ("ack_alarm", jour21, None) in steps
        moved = steps.index(("withdrawn", jour21, "not_accepted"))
        assert steps[moved + 1] == ("assigned", jour22, "not_accepted")
        assert [s[0] for s in steps].count("withdrawn") == 1
        wait_until(lambda: api(server, "GET", f"/jobs/{job_id}")["status"] == "accepted")

        # An operator opens the console: the row opens with Enter, shows the history, and the
        # job is cancelled with a reason, all by keyboard.
        console = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
        page = console.new_page()
        page.set_default_timeout(10_000)
        try:
            page.goto(f"{server.url}/console")
            expect(page.get_by_label("E-post")).to_be_focused()
            page.keyboard.type("operator@live.example.se")
            page.keyboard.press("Tab")
            page.keyboard.type(PASSWORD)
            page.keyboard.press("Enter")
            expect(page.locator("#conn")).to_have_text("Ansluten")
            row = page.locator(f'#board .job[data-job-id="{job_id}"]')
            expect(row).to_be_visible()
            page.keyboard.press("b")
            expect(row).to_be_focused()
            page.keyboard.press("Enter")
            view = page.locator("#jobview")
            expect(view.get_by_role("heading", name=f"Uppdrag {job_id}")).to_be_visible()
            history = view.locator(".job-history li")
            expect(history.filter(has_text="Larm: inte accepterat i tid")).to_have_count(1)
            expect(history.filter(has_text="Taget från bilen")).to_contain_text(
                "inte accepterat i tid")
            expect(history.filter(has_text="Accepterad")).to_contain_text("Jour 22")

            # The actions, each with its key: the next nearest car, a listed one, the queue.
            expect(view.get_by_role("button", name=re.compile("Nästa närmaste bil"))).to_be_visible(
            )
            expect(view.locator(".recommended li")).to_contain_text(["Jour 21"])
            page.screenshot(path=str(server.log.parent / "job-open.png"))

            page.keyboard.press("c")
            reason = view.get_by_label("Varför avbryts uppdraget?")
            expect(reason).to_be_focused()
            page.keyboard.press("Enter")  # no reason: refused, said beside the field
            expect(view.locator("#cancel-error")).to_have_text("Skriv varför uppdraget avbryts.")
            page.keyboard.type("Inringaren ringde igen: tyst nu")
            page.keyboard.press("Enter")
            expect(history.last).to_contain_text("Avbruten")
            expect(history.last).to_contain_text("Inringaren ringde igen: tyst nu")
            expect(row).to_have_count(0)
            page.screenshot(path=str(server.log.parent / "job-cancelled.png"))
            page.keyboard.press("Escape")
            expect(view).to_be_hidden()
        finally:
            console.close()

        assert api(server, "GET", f"/jobs/{job_id}")["status"] == "cancelled"
        expect(second.locator(f"#job-{job_id} .revoked")).to_be_visible()
        wait_until(lambda: car(server, "Jour 22")["status"] == "available")
    finally:
        first.context.close()
        second.context.close()
