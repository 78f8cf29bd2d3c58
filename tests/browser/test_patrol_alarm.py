"""In Chromium, two contexts (issue 19): a long press on the tablet's alarm button raises the
alarm on an open console within 2 s, above everything, with the job's address, door code and
the car's crew; the operator acknowledges it with K and the tablet shows the acknowledgement.
Offline, the alarm waits on the tablet and is sent first when the network is back.

A server of its own (the Procfile's web process), as in test_ack_timer."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.night import api, console_by_keyboard, night_server, tablet_on_duty

pytestmark = pytest.mark.browser

ADDRESS = (59.3121, 18.0713)
NEAR = {"latitude": 59.3125, "longitude": 18.0713}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from night_server(
        tmp_path_factory, name="alarm", code="LARM", domain="alarm.example.se",
        street="Larmgatan 3", objektsnummer="L-1102", call_sign="Jour 31", position=ADDRESS)


@pytest.fixture
def tablet(browser, server):
    context, page = tablet_on_duty(browser, server, email="patrol@alarm.example.se",
                                   call_sign="Jour 31", near=NEAR)
    yield page
    context.close()


@pytest.fixture
def console(browser, server):
    context, page = console_by_keyboard(browser, server, email="operator@alarm.example.se")
    yield page
    context.close()


def hold(page, selector):
    """Press and hold the button (a pointer, as a gloved finger) until the tablet says the
    alarm is on its way; then let go."""
    box = page.locator(selector).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    expect(page.locator("#alarm-state")).to_be_visible(timeout=5_000)
    page.mouse.up()


def test_a_long_press_raises_the_alarm_on_the_console_and_its_acknowledgement_reaches_the_tablet(
        server, tablet, console):
    object_id = api(server, "GET", "/addresses/search",
                    params={"q": "Larmgatan 3 lgh 1102"})[0]["object_id"]
    job_id = api(server, "POST", "/complaints", json={
        "landlord": "LARM", "object_id": object_id, "category": "fight_threat"})["job_id"]
    patrol_id = next(p["patrol_id"] for p in api(server, "GET", "/patrols")
                     if p["call_sign"] == "Jour 31")
    api(server, "POST", f"/jobs/{job_id}/dispatch", json={"patrol_id": patrol_id})
    expect(tablet.locator(f"#job-{job_id}")).to_be_visible()

    # A tap is not an alarm.
    tablet.locator("#alarm").click()
    expect(tablet.locator("#alarm-state")).to_be_hidden()

    hold(tablet, "#alarm")
    banner = console.locator("#patrol-alarms")
    expect(banner).to_be_visible(timeout=2_000)
    expect(banner).to_contain_text("LARM Jour 31")
    expect(banner).to_contain_text("Larmgatan 3")
    expect(banner).to_contain_text("Portkod 4711")
    expect(banner).to_contain_text("Ada Berg")
    ack = banner.get_by_role("button", name="Kvittera (K)")
    expect(ack).to_be_focused()
    console.screenshot(path=str(server.log.parent / "alarm-console.png"))

    console.keyboard.press("k")
    expect(banner).to_be_hidden()
    expect(tablet.locator("#alarm-state")).to_contain_text("The operator has the alarm")
    tablet.screenshot(path=str(server.log.parent / "alarm-tablet.png"))
    kinds = [e["kind"] for e in api(server, "GET", f"/jobs/{job_id}")["events"]]
    assert kinds.count("alarm_raised") == 1 and kinds.count("alarm_acknowledged") == 1
    assert api(server, "GET", "/alarms") == []


def test_an_alarm_raised_offline_is_sent_first_on_reconnect(server, tablet, console):
    tablet.context.set_offline(True)
    expect(tablet.locator("#net")).to_have_text("Offline")
    hold(tablet, "#alarm-silent")
    expect(tablet.locator("#alarm-state")).to_contain_text("waiting for the network")
    expect(tablet.locator("#waiting li").first).to_have_text("Alarm")
    tablet.context.set_offline(False)
    banner = console.locator("#patrol-alarms")
    expect(banner).to_contain_text("TYST LARM Jour 31")
    expect(tablet.locator("#alarm-state")).to_contain_text("The alarm is sent")
    console.keyboard.press("k")
    expect(tablet.locator("#alarm-state")).to_contain_text("The operator has the alarm")
