"""In Chromium, two contexts (issue 19): the check-in prompt while a car is on site. The
intervals are shortened by the settings (5 s to ask, 10 s of grace, the server's pass every
second). On site, the tablet says when it will ask next, then asks "All well?"; a tap checks in
(the job's history has it); no answer, and within the grace every console has the missed
check-in above everything; the operator acknowledges it with K, it is cleared and listed as
handled tonight, by whom.

A server of its own (the Procfile's web process), as in test_patrol_alarm."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.night import api, console_by_keyboard, night_server, tablet_on_duty
from tests.support.servers import wait_until

pytestmark = pytest.mark.browser

ADDRESS = (59.3121, 18.0713)
NEAR = {"latitude": 59.3125, "longitude": 18.0713}
INTERVAL_S, GRACE_S = 5, 10


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from night_server(
        tmp_path_factory, name="checkin", code="KOLL", domain="koll.example.se",
        street="Kollgatan 3", objektsnummer="K-1102", call_sign="Jour 41", position=ADDRESS,
        env={
        "CHECKIN_INTERVAL_S": str(INTERVAL_S), "CHECKIN_FIGHT_THREAT_S": str(INTERVAL_S),
        "CHECKIN_GRACE_S": str(GRACE_S), "ACK_CHECK_S": "1",
        "ACK_ALARM_AFTER_S": "600", "ACK_REDISPATCH_AFTER_S": "1200"})


@pytest.fixture
def tablet(browser, server):
    context, page = tablet_on_duty(browser, server, email="patrol@koll.example.se",
                                   call_sign="Jour 41", near=NEAR)
    yield page
    context.close()


@pytest.fixture
def console(browser, server):
    context, page = console_by_keyboard(browser, server, email="operator@koll.example.se")
    yield page
    context.close()


def _kinds(server, job_id):
    return [e["kind"] for e in api(server, "GET", f"/jobs/{job_id}")["events"]]


def test_on_site_the_tablet_asks_a_tap_checks_in_and_silence_alarms_the_console_until_acknowledged(
        server, tablet, console):
    object_id = api(server, "GET", "/addresses/search",
                    params={"q": "Kollgatan 3 lgh 1102"})[0]["object_id"]
    job_id = api(server, "POST", "/complaints", json={
        "landlord": "KOLL", "object_id": object_id, "category": "music"})["job_id"]
    patrol_id = next(p["patrol_id"] for p in api(server, "GET", "/patrols")
                     if p["call_sign"] == "Jour 41")
    api(server, "POST", f"/jobs/{job_id}/dispatch", json={"patrol_id": patrol_id})
    card = tablet.locator(f"#job-{job_id}")
    expect(card).to_be_visible()
    for step in ("Accept", "En route", "On site"):
        card.get_by_role("button", name=step).click()
        expect(card.get_by_role("button", name=step)).to_be_disabled()

    # On site: when it will ask, then the question itself.
    expect(card.locator(".check-in-next")).to_contain_text("Next check-in (All well?) at")
    prompt = card.locator(".check-in")
    expect(prompt).to_contain_text("All well?", timeout=INTERVAL_S * 1000 + 7_000)
    tablet.screenshot(path=str(server.log.parent / "check-in-tablet.png"))
    prompt.get_by_role("button", name="All well").click()
    expect(prompt).to_be_hidden()
    wait_until(lambda: "check_in" in _kinds(server, job_id), timeout=10)

    # No answer to the next question: the console is alarmed within the interval and grace.
    expect(prompt).to_be_visible(timeout=INTERVAL_S * 1000 + 7_000)
    banner = console.locator("#patrol-alarms")
    expect(banner).to_contain_text("MISSAD AVSTÄMNING Jour 41",
                                   timeout=(INTERVAL_S + GRACE_S) * 1000 + 5_000)
    expect(banner).to_contain_text("Kollgatan 3")
    expect(banner.get_by_role("button", name="Kvittera (K)")).to_be_focused()
    console.screenshot(path=str(server.log.parent / "check-in-console.png"))
    assert "check_in_missed" in _kinds(server, job_id)

    console.keyboard.press("k")
    expect(banner).to_be_hidden()
    handled = console.locator("#alarms-handled")
    expect(handled).to_be_visible()
    handled.locator("summary").click()
    expect(handled.locator(".handled-alarm")).to_have_count(1)
    expect(handled.locator(".handled-alarm")).to_contain_text("MISSAD AVSTÄMNING Jour 41")
    expect(handled.locator(".handled-alarm")).to_contain_text("kvitterat av")
    console.screenshot(path=str(server.log.parent / "check-in-handled.png"))
    assert api(server, "GET", "/alarms") == []
    assert "alarm_acknowledged" in _kinds(server, job_id)

    # After a reload the handled list is still there.
    console.reload()
    expect(console.locator("#conn")).to_have_text("Ansluten")
    expect(console.locator("#alarms-handled .handled-alarm")).to_have_count(1)

