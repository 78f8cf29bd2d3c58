"""In Chromium, two contexts (issue 19): the supervisor's view of a job its car does not accept
(the acknowledgement timer shortened to 2 s by the settings). The console shows it above
everything with a button that opens the job; the operator opens it by keyboard and puts it back
in the queue (Q); the alarm leaves the banner and is listed as handled tonight, by that
operator, also after a reload.

A server of its own (the Procfile's web process), as in test_patrol_alarm."""

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
        tmp_path_factory, name="supervisor", code="SUPV", domain="supv.example.se",
        street="Tillsynsgatan 3", objektsnummer="K-1102", call_sign="Jour 51", position=ADDRESS,
        env={
        "ACK_CHECK_S": "1", "ACK_ALARM_AFTER_S": "2", "ACK_REDISPATCH_AFTER_S": "3600"})


@pytest.fixture
def tablet(browser, server):
    context, page = tablet_on_duty(browser, server, email="patrol@supv.example.se",
                                   call_sign="Jour 51", near=NEAR)
    yield page
    context.close()


@pytest.fixture
def console(browser, server):
    context, page = console_by_keyboard(browser, server, email="operator@supv.example.se")
    yield page
    context.close()


def test_a_job_not_accepted_stands_above_everything_until_an_operator_handles_it(
        server, tablet, console):
    object_id = api(server, "GET", "/addresses/search",
                    params={"q": "Tillsynsgatan 3 lgh 1102"})[0]["object_id"]
    job_id = api(server, "POST", "/complaints", json={
        "landlord": "SUPV", "object_id": object_id, "category": "music"})["job_id"]
    patrol_id = next(p["patrol_id"] for p in api(server, "GET", "/patrols")
                     if p["call_sign"] == "Jour 51")
    api(server, "POST", f"/jobs/{job_id}/dispatch", json={"patrol_id": patrol_id})
    expect(tablet.locator(f"#job-{job_id}")).to_be_visible()  # and nobody accepts it

    banner = console.locator("#patrol-alarms")
    expect(banner).to_contain_text(f"INTE ACCEPTERAT: uppdrag {job_id} (Jour 51)", timeout=15_000)
    expect(banner).to_contain_text("Tillsynsgatan 3")
    console.screenshot(path=str(server.log.parent / "supervisor-standing.png"))
    banner.get_by_role("button", name="Öppna uppdraget").focus()
    console.keyboard.press("Enter")
    expect(console.locator("#jobview")).to_be_focused()
    console.keyboard.press("q")
    expect(banner).to_be_hidden()

    handled = console.locator("#alarms-handled")
    expect(handled).to_be_visible()
    handled.locator("summary").click()
    line = handled.locator(".handled-alarm")
    expect(line).to_have_count(1)
    expect(line).to_contain_text(f"INTE ACCEPTERAT: uppdrag {job_id} (Jour 51)")
    expect(line).to_contain_text("tillbaka i kön av operator@supv.example.se")
    console.screenshot(path=str(server.log.parent / "supervisor-handled.png"))

    console.reload()
    expect(console.locator("#conn")).to_have_text("Ansluten")
    expect(console.locator("#alarms-handled .handled-alarm")).to_have_count(1)
    expect(console.locator("#patrol-alarms")).to_be_hidden()
