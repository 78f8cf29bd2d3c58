"""In Chromium (issue 13): a car's area given with ``dispatch patrol-area`` is drawn on the
operator's map, and a complaint outside every area is flagged on the board while one inside is
not; on the tablet, a car that has stayed within 50 m of its job's address for 30 s is asked
whether it is on site, and only the patrol's answer marks it so."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from dispatch.jobs.dispatching import ACTIVE_STATUSES
from dispatch.models import Job
from tests.support.servers import wait_until

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
INSIDE = (59.3300, 18.0500)   # Områdesgatan 1 (lat, lon)
OUTSIDE = (59.2600, 18.2000)  # Utanvägen 9, about 10 km away
AREA = [[18.04, 59.325], [18.06, 59.325], [18.06, 59.335], [18.04, 59.335], [18.04, 59.325]]
CAR = "Område 1"   # has the area
TABLET_CAR = "Område 2"


@pytest.fixture(scope="module")
def world(live_server, tmp_path_factory):
    """A landlord with an address inside the area and one outside, two cars (the first with
    the area, set by the command), an operator token; afterwards no job of ours stays open
    and no area stays on the shared server."""
    folder = tmp_path_factory.mktemp("areas")
    register = folder / "omra.csv"
    register.write_text(
        "objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;portkod;lat;lon;"
        "avtalsnummer;kundnummer;hyresgast_namn;hyresgast_telefon\n"
        f"O-1;Områdesgatan 1;112 20;Stockholm;1001;;{INSIDE[0]};{INSIDE[1]};A1;K1;"
        "Ada Ek;070-174 06 11\n"
        f"O-2;Utanvägen 9;131 30;Nacka;1002;;{OUTSIDE[0]};{OUTSIDE[1]};A2;K2;Per Al;"
        "070-174 06 12\n", encoding="utf-8")
    live_server.cli("create-landlord", "--code", "OMRA", "--name", "Område Fastigheter")
    live_server.cli("import-register", "--landlord", "OMRA", str(register))
    for call_sign in (CAR, TABLET_CAR):
        live_server.cli("create-patrol", "--call-sign", call_sign)
    area = folder / "omrade.geojson"
    area.write_text(json.dumps({"type": "Feature", "properties": {},
                                "geometry": {"type": "Polygon", "coordinates": [AREA]}}),
                    encoding="utf-8")
    assert f"{CAR}: område på" in live_server.cli("patrol-area", CAR, str(area))
    token = live_server.cli("create-token", "--role", "operator").strip()
    engine = sa.create_engine(live_server.env["DATABASE_URL"])
    with engine.connect() as conn:
        first_job = (conn.scalar(sa.select(sa.func.max(Job.id))) or 0) + 1
    yield {"server": live_server, "url": live_server.url,
           "headers": {"Authorization": f"Bearer {token}"}}
    live_server.cli("patrol-area", CAR, "--remove")
    with Session(engine) as session:
        session.execute(sa.update(Job).where(Job.id >= first_job,
                                             Job.status.in_(ACTIVE_STATUSES))
                        .values(status="cancelled"))
        session.commit()
    engine.dispose()


def api(world, method, path, **kwargs):
    response = requests.request(method, f"{world['url']}/api/v1{path}", headers=world["headers"],
                                timeout=10, **kwargs)
    assert response.ok, response.text
    return response.json()


def log_complaint(world, address: str) -> int:
    hit = api(world, "GET", "/addresses/search", params={"q": address, "landlord": "OMRA"})[0]
    assert address in hit["address"], hit
    job = api(world, "POST", "/complaints", json={
        "landlord": "OMRA", "object_id": hit["object_id"], "entrance_id": hit["entrance_id"],
        "category": "music",
        "priority": 2, "description": ""})
    return job["job_id"]


def test_the_console_map_shows_the_area_and_the_board_flags_a_job_outside_it(
        world, browser):
    inside, outside = log_complaint(world, "Områdesgatan 1"), log_complaint(world, "Utanvägen 9")
    # The web process learns of the area another process set (the command) by itself.
    wait_until(lambda: api(world, "GET", f"/jobs/{outside}")["outside_areas"] is True)
    assert api(world, "GET", f"/jobs/{inside}")["outside_areas"] is False

    context = browser.new_context(locale="sv-SE", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{world['url']}/console")
        page.get_by_label("E-post").fill("operator@live.example.se")
        page.get_by_label("Lösenord").fill(PASSWORD)
        page.get_by_label("Lösenord").press("Enter")
        expect(page.locator("#conn")).to_have_text("Ansluten")

        area = page.locator("#map path.m-area")
        expect(area).to_have_count(1)
        box = area.bounding_box()
        assert box and box["width"] > 20 and box["height"] > 20  # drawn, not a speck
        area.hover(position={"x": 3, "y": 3})  # a corner: the job's marker is on its middle
        expect(page.locator(".leaflet-tooltip")).to_contain_text(f"Område för {CAR}")

        flag = "Utanför alla bevakningsområden"
        expect(page.locator(f'#board .job[data-job-id="{outside}"] .outside-areas')
               ).to_have_text(flag)
        expect(page.locator(f'#board .job[data-job-id="{inside}"]')).to_be_visible()
        expect(page.locator(f'#board .job[data-job-id="{inside}"] .outside-areas')
               ).to_have_count(0)

        # An admin gives the second car an area: the open console draws it without a reload.
        admin = browser.new_context(locale="sv-SE").new_page()
        admin.goto(f"{world['url']}/admin/areas")
        admin.get_by_label("E-post").fill("admin@live.example.se")
        admin.get_by_label("Lösenord").fill(PASSWORD)
        admin.get_by_label("Lösenord").press("Enter")
        admin.get_by_label("Patrull").select_option(label=TABLET_CAR)
        admin.get_by_label("Området som GeoJSON").fill(json.dumps(
            {"type": "Polygon", "coordinates": [[[lon + 0.05, lat] for lon, lat in AREA]]}))
        admin.get_by_role("button", name="Spara området").click()
        expect(admin.locator(".flash")).to_contain_text(TABLET_CAR)
        expect(area).to_have_count(2)
        admin.context.close()
    finally:
        context.close()
        world["server"].cli("patrol-area", TABLET_CAR, "--remove")


def start_shift(page, world, call_sign):
    """Log in on the tablet and go on duty."""
    page.goto(f"{world['url']}/field/?lang=en")
    page.get_by_label("E-mail").fill("patrol@live.example.se")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Call sign").select_option(call_sign)
    page.get_by_label("Staff on the car").fill("Anna Andersson")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#car")).to_have_text(call_sign)
    expect(page.locator("#net")).to_have_text("Online")
    duty = page.locator("#duty")
    if duty.get_attribute("aria-pressed") != "true":
        duty.click()
    expect(duty).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#queue")).to_be_hidden()


def test_a_tablet_50_m_from_the_address_for_30_s_suggests_on_site_and_the_patrol_confirms(
        world, browser):
    far = {"latitude": INSIDE[0] + 0.0018, "longitude": INSIDE[1]}    # 200 m north
    near = {"latitude": INSIDE[0] + 0.0003, "longitude": INSIDE[1]}   # 33 m north
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm",
                                  geolocation=far, permissions=["geolocation"],
                                  viewport={"width": 800, "height": 1280})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.clock.install(time=datetime.now(UTC))  # the dwell is counted on the page's clock
    try:
        start_shift(page, world, TABLET_CAR)
        patrol = next(p for p in api(world, "GET", "/patrols")
                      if p["call_sign"] == TABLET_CAR)
        job_id = log_complaint(world, "Områdesgatan 1")
        api(world, "POST", f"/jobs/{job_id}/dispatch", json={"patrol_id": patrol["patrol_id"]})
        card = page.locator(f"#job-{job_id}")
        expect(card).to_be_visible()
        suggestion = card.locator(".arrival")

        page.clock.run_for(31_000)  # half a minute 200 m away: no suggestion
        expect(card.locator(".step", has_text="On site")).to_be_enabled()
        expect(suggestion).to_have_count(0)

        context.set_geolocation(near)
        page.clock.run_for(15_000)  # 15 s within 50 m: not yet
        expect(suggestion).to_have_count(0)
        page.clock.run_for(16_000)  # 31 s within 50 m
        expect(suggestion).to_contain_text("You seem to be at the address")
        # Only a suggestion: nothing was sent by itself.
        assert api(world, "GET", f"/jobs/{job_id}")["status"] == "assigned"

        suggestion.get_by_role("button", name="Not yet").click()
        expect(suggestion).to_have_count(0)
        page.clock.run_for(5_000)  # dismissed stays dismissed while the car stays
        expect(suggestion).to_have_count(0)

        context.set_geolocation(far)  # leaves, comes back, stays half a minute again
        page.clock.run_for(2_000)
        context.set_geolocation(near)
        page.clock.run_for(2_000)
        page.clock.run_for(31_000)
        suggestion.get_by_role("button", name="On site").click()
        expect(suggestion).to_have_count(0)
        expect(card.locator(".step.step-done", has_text="On site")).to_be_visible()
        wait_until(lambda: api(world, "GET", f"/jobs/{job_id}")["status"] == "on_site")
    finally:
        context.close()
