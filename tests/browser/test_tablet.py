"""In Chromium: the patrol tablet against the real server. A job dispatched through the API
appears on the tablet; with the network gone the patrol presses the statuses and writes the
report, the screen says it is offline and what waits; back online, everything is sent, in
order, and the server has it. A reload with no network still shows the job.

The tablet runs in English here (``?lang=en``): the words are then the message ids, the same
before and after the translators' work; the Swedish default is tested in test_field_pages.
"""

import uuid
from datetime import datetime

import pytest
import requests
from playwright.sync_api import expect

from tests.support.servers import wait_until

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
POSITION = {"latitude": 59.3140, "longitude": 18.0720}


@pytest.fixture(scope="module")
def world(live_server, tmp_path_factory):
    """A landlord of its own with a small register, three patrol cars and an operator token."""
    register = tmp_path_factory.mktemp("tablet") / "natt.csv"
    register.write_text(
        "objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;portkod;lat;lon;"
        "avtalsnummer;kundnummer;hyresgast_namn;hyresgast_telefon\n"
        "N-1102;Nattgatan 3A;118 46;Stockholm;1102;4711;59.3121;18.0713;A1;K1;"
        "Anna Andersson;070-174 06 05\n"
        "N-1202;Nattgatan 3A;118 46;Stockholm;1202;4711;59.3121;18.0713;A2;K2;Bo Ek;"
        "070-174 06 06\n"
        "N-1103;Nattgatan 5;118 46;Stockholm;1103;9090;59.3125;18.0720;A3;K3;Cecilia Berg;"
        "070-174 06 07\n", encoding="utf-8")
    live_server.cli("create-landlord", "--code", "NATT", "--name", "Natt Fastigheter")
    live_server.cli("import-register", "--landlord", "NATT", str(register))
    for call_sign in ("Jour 11", "Jour 17", "Jour 19", "Jour 21"):
        live_server.cli("create-patrol", "--call-sign", call_sign)
    token = live_server.cli("create-token", "--role", "operator").strip()
    return {"url": live_server.url, "headers": {"Authorization": f"Bearer {token}"}}


@pytest.fixture
def tablet(browser, world):
    """A tablet: its own browser context with the car's position, at night in Stockholm."""
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm",
                                  geolocation=POSITION, permissions=["geolocation"],
                                  viewport={"width": 800, "height": 1280})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def api(world, method, path, **kwargs):
    response = requests.request(method, f"{world['url']}/api/v1{path}", headers=world["headers"],
                                timeout=10, **kwargs)
    assert response.ok, response.text
    return response.json()


def find_object(world, address):
    hit = api(world, "GET", "/addresses/search", params={"q": address, "landlord": "NATT"})[0]
    assert hit["lagenhetsnummer"] in address, hit
    return hit["object_id"]


def car(world, call_sign):
    """The patrol as the operator's API shows it."""
    return next(p for p in api(world, "GET", "/patrols") if p["call_sign"] == call_sign)


def dispatch_job(world, call_sign, address, description, suspected=None):
    """What the operator does: log a complaint at the address and send it to this car."""
    patrol = car(world, call_sign)
    job = api(world, "POST", "/complaints", json={
        "landlord": "NATT", "object_id": find_object(world, address), "category": "music",
        "priority": 1, "description": description,
        "caller": {"name": "Anna Andersson", "phone": "070-174 06 05"},
        "suspected_object_id": find_object(world, suspected) if suspected else None,
        "suspected_source": "Lägenheten ovanför" if suspected else None})
    api(world, "POST", f"/jobs/{job['job_id']}/dispatch", json={"patrol_id": patrol["patrol_id"]})
    return job["job_id"]


def start_shift(page, world, call_sign):
    """Log in on the tablet, go on duty, wait until the service worker controls the page."""
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
    expect(page.locator("#queue")).to_be_hidden()  # the car's status has reached the server
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def test_offline_statuses_and_report_are_sent_in_order_when_the_network_is_back(tablet, world):
    page, context = tablet, tablet.context
    start_shift(page, world, "Jour 11")
    # On duty, the car shares its position, again when it moves.
    wait_until(lambda: car(world, "Jour 11")["lat"] == POSITION["latitude"])
    context.set_geolocation({"latitude": 59.3160, "longitude": 18.0750})
    wait_until(lambda: car(world, "Jour 11")["lat"] == 59.3160)
    description = f"Hög musik från lägenheten ovanför ({uuid.uuid4().hex[:6]})"
    job_id = dispatch_job(world, "Jour 11", "Nattgatan 3A lgh 1102", description,
                          suspected="Nattgatan 3A lgh 1202")

    card = page.locator(f"#job-{job_id}")
    expect(card.get_by_role("heading", name="Nattgatan 3A, 118 46 Stockholm")).to_be_visible()
    expect(card.locator(".door .code")).to_have_text("4711")
    expect(card.get_by_text("Flat 1102 · floor 1")).to_be_visible()
    expect(card.get_by_role("link", name="Call 070-174 06 05")).to_have_attribute(
        "href", "tel:+46701740605")
    expect(card.get_by_role("link", name="Navigate")).to_have_attribute(
        "href", "geo:59.3121,18.0713?q=59.3121,18.0713(Nattgatan%203A%2C%20118%2046%20Stockholm)")
    expect(card.get_by_text(description)).to_be_visible()
    expect(card.get_by_text("Lägenheten ovanför – Flat 1202, floor 2", exact=True)).to_be_visible()

    context.set_offline(True)
    expect(page.locator("#net")).to_have_text("Offline")
    expect(page.locator("#queue")).to_contain_text("No network.")
    for step in ("Accept", "En route", "On site"):
        card.get_by_role("button", name=step).click()
        expect(card.get_by_role("button", name=step)).to_be_disabled()
    waiting = page.locator("#waiting li")
    expect(waiting).to_have_count(3)
    expect(waiting.first).to_contain_text("Status Accepted waiting to be sent")

    form = card.locator("form.report")
    form.locator("[name=observations]").fill("Hög musik från lgh 1202, hördes i trapphuset.")
    form.get_by_role("group", name="Was the disturber reached?").get_by_label("Yes").check()
    form.locator("[name=disturber_response]").fill("Lovade att sänka.")
    form.get_by_role("group", name="Was the disturbed tenant contacted?").get_by_label(
        "Yes").check()
    form.locator("[name=actions]").fill("Knackade på, bad om tystnad.")
    form.get_by_label("The disturbance stopped").check()
    form.get_by_role("group", name="Can you testify at the rent tribunal?").get_by_label(
        "Yes").check()
    form.locator("[name=text]").fill("Tyst 23:40.")
    form.get_by_role("button", name="Send the report and close the job").click()
    expect(form.locator(".report-state")).to_have_text("The report is waiting to be sent.")
    expect(waiting).to_have_count(4)
    expect(waiting.last).to_have_text("Report for Nattgatan 3A, 118 46 Stockholm")
    expect(page.locator("#net")).to_have_text("Offline")

    back_online = datetime.now().astimezone()
    context.set_offline(False)
    expect(form.locator(".report-state")).to_contain_text("The report is sent")
    expect(page.locator("#queue")).to_be_hidden()
    expect(page.locator("#net")).to_have_text("Online")
    expect(card.get_by_role("button", name="Remove from the tablet")).to_be_visible()

    job = api(world, "GET", f"/jobs/{job_id}")
    assert job["status"] == "done"
    kinds = [h["kind"] for h in job["history"]]
    assert kinds[:2] == ["created", "assigned"] and "acknowledged" in kinds
    steps = [h for h in job["history"] if h["kind"] in ("accepted", "en_route", "on_site", "done")]
    assert [h["kind"] for h in steps] == ["accepted", "en_route", "on_site", "done"]
    times = [datetime.fromisoformat(h["at"]) for h in steps]
    assert times == sorted(times) and times[2] <= back_online  # stamped when pressed, offline
    assert job["arrived_at"] == steps[2]["at"]
    assert car(world, "Jour 11")["status"] == "available"  # the car is free again


def test_a_reload_with_no_network_still_shows_the_job_the_draft_and_what_waits(tablet, world):
    page, context = tablet, tablet.context
    start_shift(page, world, "Jour 17")
    job_id = dispatch_job(world, "Jour 17", "Nattgatan 5 lgh 1103", "Fest med många gäster")
    card = page.locator(f"#job-{job_id}")
    expect(card.get_by_role("heading", name="Nattgatan 5, 118 46 Stockholm")).to_be_visible()

    # Calls to the disturbed tenant are logged on the card; an answer means they were contacted.
    call = card.get_by_role("link", name="Call 070-174 06 05")
    # No dialler here: a followed tel: link hands the number to the desktop (xdg-open), whose
    # prompt then takes the browser's input for the rest of the test.
    call.evaluate("a => a.addEventListener('click', e => e.preventDefault())")
    call.click()
    card.locator(".calls").get_by_role("button", name="Answered", exact=True).click()
    expect(card.locator(".calls li")).to_have_count(1)
    expect(card.locator(".calls li")).to_contain_text("Answered")
    expect(card.locator("[name=tenant_contacted][value=yes]")).to_be_checked()
    expect(page.locator("#queue")).to_be_hidden()  # the call attempt has gone: none waits

    context.set_offline(True)
    expect(page.locator("#net")).to_have_text("Offline")
    card.get_by_role("button", name="Accept", exact=True).click()
    card.locator("[name=observations]").fill("Musik och röster från lgh 1103.")
    expect(card.locator(".report-state")).to_contain_text("Draft saved on the tablet")

    # The network is tried and fails; the service worker answers from its cache.
    with context.expect_event("requestfailed", lambda r: "/field/" in r.url):
        shell = page.reload()
    assert shell.ok and shell.from_service_worker
    card = page.locator(f"#job-{job_id}")
    expect(card.get_by_role("heading", name="Nattgatan 5, 118 46 Stockholm")).to_be_visible()
    expect(card.locator(".door .code")).to_have_text("9090")
    expect(card.locator("[name=observations]")).to_have_value("Musik och röster från lgh 1103.")
    expect(card.locator("[name=tenant_contacted][value=yes]")).to_be_checked()
    expect(card.locator(".calls li")).to_contain_text("Answered")
    expect(page.locator("#net")).to_have_text("Offline")
    expect(page.locator("#waiting li")).to_have_text(
        ["Status Accepted waiting to be sent – Nattgatan 5, 118 46 Stockholm"])

    context.set_offline(False)
    expect(page.locator("#queue")).to_be_hidden()
    expect(card.get_by_role("button", name="Accepted")).to_contain_text("✓")
    job = api(world, "GET", f"/jobs/{job_id}")
    assert job["status"] == "accepted"
    # Shown once, however often the server sent it (it re-sends until acknowledged).
    expect(page.locator(f"article.job[data-job='{job_id}']")).to_have_count(1)


def test_going_off_duty_is_asked_first_and_a_no_keeps_the_car_on_duty(tablet, world):
    page = tablet
    start_shift(page, world, "Jour 19")
    duty = page.locator("#duty")
    assert car(world, "Jour 19")["status"] == "available"  # a car with no job in hand
    asked = []

    def answer(dialog, accept):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    duty.click()
    wait_until(lambda: len(asked) == 1)
    assert "No new jobs come to this car" in asked[0]
    expect(duty).to_have_attribute("aria-pressed", "true")
    assert car(world, "Jour 19")["status"] == "available"

    page.once("dialog", lambda dialog: answer(dialog, True))
    duty.click()
    expect(duty).to_have_attribute("aria-pressed", "false")
    wait_until(lambda: car(world, "Jour 19")["status"] == "off_duty")
    assert len(asked) == 2


def test_a_new_job_out_of_sight_is_called_out_in_the_bar_and_the_card_read_stays_put(
        browser, world):
    """On a phone the crew reads the foot of a job the operator has just cancelled; a new job
    goes above it. The card in hand does not move on the screen, the bar that stays on top
    calls the new job out, and a tap there shows it."""
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm",
                                  geolocation=POSITION, permissions=["geolocation"],
                                  viewport={"width": 390, "height": 844}, has_touch=True,
                                  is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        start_shift(page, world, "Jour 21")
        first = dispatch_job(world, "Jour 21", "Nattgatan 3A lgh 1202", "Borrande")
        read = page.locator(f"#job-{first}")
        expect(read.get_by_role("heading", name="Nattgatan 3A, 118 46 Stockholm")).to_be_visible()
        api(world, "POST", f"/jobs/{first}/cancel", json={"reason": "Ringde tillbaka"})
        expect(read).to_contain_text("The operator has cancelled the job.")
        read.get_by_role("button", name="Remove from the tablet").scroll_into_view_if_needed()
        page.wait_for_function("window.scrollY > 0")
        before = read.bounding_box()["y"]
        assert page.locator("#newjob").is_hidden()

        second = dispatch_job(world, "Jour 21", "Nattgatan 5 lgh 1103", "Hög musik")
        call_out = page.locator("#newjob")
        expect(call_out).to_have_text("New job: Music, Nattgatan 5, 118 46 Stockholm. Show it")
        new = page.locator(f"#job-{second}")
        assert new.bounding_box()["y"] < before  # put above the cancelled one …
        assert abs(read.bounding_box()["y"] - before) <= 2  # … which stays where it was read

        call_out.tap()
        expect(call_out).to_be_hidden()
        bar = page.locator(".bar").bounding_box()
        top = new.get_by_role("heading", name="Nattgatan 5, 118 46 Stockholm").bounding_box()["y"]
        assert bar["y"] + bar["height"] <= top < 844 / 2  # in sight, under the bar
        new.get_by_role("button", name="Accept", exact=True).tap()
        expect(new.get_by_role("button", name="Accepted")).to_contain_text("✓")
        assert call_out.is_hidden()
    finally:
        context.close()
