"""Live regions and the tablet's states, in Chromium (issue 18). A screen reader hears what
the screen shows without focus: a new job on the console (#announce) and on the car's tablet
(#announce), the acknowledgement alarm and a car's alarm on the console (#patrol-alarms, role
alert, the banner above everything; announced once: the board's own list #alarms is no live
region); the text of each region changes when it happens. The tablet in
its states — an open job, on site with the "all well?" prompt, the alarm held and sent — has
no serious or critical axe violation, in Swedish and Finnish. The console with a car's alarm
neither. Against the Procfile's web process, on a server of its own (short check-in interval
and acknowledgement alarm)."""

from __future__ import annotations

import re

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import expect

from dispatch.models import Patrol
from tests.browser.axe import describe, violations
from tests.conftest import _fresh_database_url
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
NEAR = {"latitude": 59.3125, "longitude": 18.0713}
CARS = {"sv": "Jour 51", "fi": "Jour 52"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url, drop = _fresh_database_url(tmp_path_factory, "a11y_live")
    instance = tmp_path_factory.mktemp("a11y-live")
    live = LiveServer(url, instance, extra_env={
        "CHECKIN_INTERVAL_S": "3", "CHECKIN_FIGHT_THREAT_S": "3", "CHECKIN_GRACE_S": "86400",
        "ACK_ALARM_AFTER_S": "3", "ACK_REDISPATCH_AFTER_S": "86400", "ACK_CHECK_S": "1"}).start()
    live.cli("create-landlord", "--code", "LIVE", "--name", "Levande Bostäder")
    for role in ("operator", "patrol"):
        live.cli("create-user", "--role", role, "--email", f"{role}@live-a11y.example.se",
                 "--password", PASSWORD)
    register = instance / "live.csv"
    register.write_text(
        "objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;portkod;lat;lon\n"
        "LV-1102;Hörselgatan 3;118 46;Stockholm;1102;4711;59.3121;18.0713\n"
        "LV-1103;Hörselgatan 3;118 46;Stockholm;1103;4711;59.3121;18.0713\n",
        encoding="utf-8")
    live.cli("import-register", "--landlord", "LIVE", str(register))
    for call_sign in (*CARS.values(), "Jour 59"):
        live.cli("create-patrol", "--call-sign", call_sign)
    live.token = live.cli("create-token", "--role", "operator").strip()
    # Jour 59 has no tablet: on duty (as a car whose crew uses the radio), never accepting.
    engine = sa.create_engine(live.env["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(sa.update(Patrol).where(Patrol.call_sign == "Jour 59").values(
            status="available"))
    engine.dispose()
    yield live
    live.stop()
    drop()


def api(server, method, path, **kwargs):
    response = requests.request(method, f"{server.url}/api/v1{path}", timeout=10,
                                headers={"Authorization": f"Bearer {server.token}"}, **kwargs)
    assert response.ok, response.text
    return response.json()


def new_job(server, flat: str = "1102", category: str = "music") -> int:
    object_id = api(server, "GET", "/addresses/search",
                    params={"q": f"Hörselgatan 3 lgh {flat}"})[0]["object_id"]
    return api(server, "POST", "/complaints", json={
        "landlord": "LIVE", "object_id": object_id, "category": category})["job_id"]


def patrol_id(server, call_sign: str) -> int:
    return next(p["patrol_id"] for p in api(server, "GET", "/patrols")
                if p["call_sign"] == call_sign)


@pytest.fixture
def console(browser, server):
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm",
                                  viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{server.url}/login?next=/console/")
    page.locator("input[name=email]").fill("operator@live-a11y.example.se")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.goto(f"{server.url}/console/")
    expect(page.locator("#conn")).to_have_text("Ansluten")
    yield page
    context.close()


def open_tablet(browser, server, lang: str):
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm",
                                  geolocation=NEAR, permissions=["geolocation"],
                                  color_scheme="dark", viewport={"width": 800, "height": 1280},
                                  has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{server.url}/field/?lang={lang}")
    page.locator("#login-email").fill("patrol@live-a11y.example.se")
    page.locator("#login-password").fill(PASSWORD)
    page.locator("#login-car").select_option(CARS[lang])
    page.locator("#login-crew1").fill("Ada Berg")
    page.locator("#login-crew1").press("Enter")
    expect(page.locator("#net")).to_have_class("net net-connected")
    duty = page.locator("#duty")
    if duty.get_attribute("aria-pressed") != "true":
        duty.click()
    expect(duty).to_have_attribute("aria-pressed", "true")
    return context, page


def assert_no_serious(page, state: str) -> None:
    found = violations(page)
    assert not found, f"{state}:\n{describe(found)}"


def test_a_new_job_and_the_acknowledgement_alarm_change_the_consoles_live_regions(
        server, console):
    announce = console.locator("#announce")
    for attribute, value in (("role", "status"), ("aria-live", "polite")):
        expect(announce).to_have_attribute(attribute, value)
    expect(announce).to_have_text("")
    job_id = new_job(server, "1103", "party")
    expect(announce).to_have_text(f"Nytt uppdrag {job_id}: Fest, Hörselgatan 3")
    # Sent to a car without a tablet: not accepted within ACK_ALARM_AFTER_S, an alarm.
    banner = console.locator("#patrol-alarms")
    expect(banner).to_have_attribute("role", "alert")
    expect(banner).to_have_text("")
    api(server, "POST", f"/jobs/{job_id}/dispatch", json={"patrol_id": patrol_id(server,
                                                                               "Jour 59")})
    expect(banner).to_contain_text(f"uppdrag {job_id}", timeout=15_000)
    expect(console.get_by_role("alert").filter(has_text=f"uppdrag {job_id}")).to_have_count(1)
    expect(console.locator("#alarms")).to_contain_text(f"{job_id}")  # the board's own list
    row = console.locator(f"#board .job[data-job-id='{job_id}']")
    expect(row.locator(".alarm-flag")).to_have_text("⚠ Larm")  # in words, not colour alone
    # Nothing by colour alone: the job's status and each car's are words; the map says in
    # words what its markers are (and a busy car is a ring, not only another colour).
    expect(row.locator(".status-name")).to_have_text("Tilldelad")
    expect(console.locator("#patrols tr", has_text="Jour 59")).to_contain_text(
        re.compile("Tillgänglig|Upptagen"))
    expect(console.locator(".map-legend li")).to_have_text(
        ["Bil, ledig (fylld prick)", "Bil, upptagen (ring)", "Öppet uppdrag (stor cirkel)"])
    assert_no_serious(console, "the console with a new job and an alarm")


@pytest.mark.parametrize("lang", ["sv", "fi"])
def test_the_tablet_says_a_new_job_and_stays_accessible_on_site_and_with_the_alarm(
        browser, server, console, lang, tmp_path):
    context, tablet = open_tablet(browser, server, lang)
    try:
        expect(tablet.locator("h1:visible")).to_have_count(1)  # one per screen shown
        expect(tablet.locator("#jobs-title")).to_be_visible()
        announce = tablet.locator("#announce")
        expect(announce).to_have_attribute("aria-live", "polite")
        expect(announce).to_have_text("")
        job_id = new_job(server, "1102", "fight_threat")
        api(server, "POST", f"/jobs/{job_id}/dispatch",
            json={"patrol_id": patrol_id(server, CARS[lang])})
        card = tablet.locator(f"#job-{job_id}")
        expect(card).to_be_visible()
        said = {"sv": "Nytt uppdrag: Slagsmål eller hot, Hörselgatan 3",
                "fi": "Uusi tehtävä: "}[lang]
        expect(announce).to_contain_text(said)
        expect(announce).to_contain_text("Hörselgatan 3")
        assert_no_serious(tablet, "an open job")

        # On site: after CHECKIN_INTERVAL_S the tablet asks "all well?".
        steps = card.locator(".step")
        for index in range(3):
            steps.nth(index).click()
            expect(steps.nth(index)).to_be_disabled()
        prompt = card.locator(".check-in")
        expect(prompt).to_be_visible(timeout=15_000)
        expect(prompt).to_have_attribute("role", "alert")
        tablet.screenshot(path=str(tmp_path / f"check-in-{lang}.png"), full_page=True)
        assert_no_serious(tablet, "on site, all well?")

        # The alarm held until it is sent; the console's alarm region changes.
        banner = console.locator("#patrol-alarms")
        expect(banner).not_to_contain_text(CARS[lang])
        box = tablet.locator("#alarm").bounding_box()
        tablet.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        tablet.mouse.down()
        expect(tablet.locator("#alarm-state")).to_be_visible(timeout=5_000)
        tablet.mouse.up()
        expect(banner).to_be_visible()
        expect(banner).to_contain_text(CARS[lang])
        expect(tablet.locator("#alarm-state")).to_have_class("alarm-state alarm-sent")
        tablet.screenshot(path=str(tmp_path / f"alarm-{lang}.png"), full_page=True)
        assert_no_serious(tablet, "the alarm sent")
        assert_no_serious(console, "the console with a car's alarm")
    finally:
        context.close()
