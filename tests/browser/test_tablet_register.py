"""In Chromium (issue 13, the car's half): the tablet of a car on duty searches the register
and opens the object view (tenants, neighbours above and below, earlier complaints), from the
main screen and from the job card, and is refused with a clear message off duty; a call to the
disturbed tenant logged on the tablet (the tenant's phone from the register, the caller being
anonymous) reaches the report; a form error stands next to its field; a busy car is not shown
off duty; a job moved to another car takes its door code off the screen and out of storage.

The tablet runs in English (``?lang=en``), as in test_tablet.py.
"""

import re
from datetime import date, timedelta

import pytest
import requests
from playwright.sync_api import expect

from tests.support.servers import wait_until

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
POSITION = {"latitude": 59.3140, "longitude": 18.0720}
STORED = "JSON.stringify(Object.keys(localStorage).map(k => localStorage.getItem(k)))"


@pytest.fixture(scope="module")
def world(live_server, tmp_path_factory):
    """A landlord of its own: Registervägen 7 with flat 1102 (Anna Andersson) and 1202 above it
    (Bo Ek), door code 3690; four cars; an operator token."""
    register = tmp_path_factory.mktemp("tablet-register") / "reg.csv"
    register.write_text(
        "objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;portkod;lat;lon;"
        "avtalsnummer;kundnummer;hyresgast_namn;hyresgast_telefon\n"
        "G-1102;Registervägen 7;118 46;Stockholm;1102;3690;59.3121;18.0713;A1;K1;"
        "Anna Andersson;070-174 06 05\n"
        "G-1202;Registervägen 7;118 46;Stockholm;1202;3690;59.3121;18.0713;A2;K2;Bo Ek;"
        "070-174 06 06\n", encoding="utf-8")
    live_server.cli("create-landlord", "--code", "REGI", "--name", "Regi Bostäder")
    live_server.cli("import-register", "--landlord", "REGI", str(register))
    for call_sign in ("Jour 31", "Jour 32", "Jour 33", "Jour 34"):
        live_server.cli("create-patrol", "--call-sign", call_sign)
    token = live_server.cli("create-token", "--role", "operator").strip()
    return {"url": live_server.url, "headers": {"Authorization": f"Bearer {token}"}}


def _context(browser):
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm",
                                  geolocation=POSITION, permissions=["geolocation"],
                                  viewport={"width": 800, "height": 1280})
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


@pytest.fixture
def tablet(browser):
    context, page = _context(browser)
    yield page
    context.close()


def api(world, method, path, **kwargs):
    response = requests.request(method, f"{world['url']}/api/v1{path}", headers=world["headers"],
                                timeout=10, **kwargs)
    assert response.ok, response.text
    return response.json()


def car(world, call_sign):
    return next(p for p in api(world, "GET", "/patrols") if p["call_sign"] == call_sign)


def dispatch_job(world, call_sign, flat="1102", caller=None):
    hit = api(world, "GET", "/addresses/search",
              params={"q": f"Registervägen 7 {flat}", "landlord": "REGI"})[0]
    job = api(world, "POST", "/complaints", json={
        "landlord": "REGI", "object_id": hit["object_id"], "category": "music",
        "description": "Hög musik", **({"caller": caller} if caller else {})})
    api(world, "POST", f"/jobs/{job['job_id']}/dispatch",
        json={"patrol_id": car(world, call_sign)["patrol_id"]})
    return job["job_id"]


def start_shift(page, world, call_sign, crew="Anna Berg"):
    page.goto(f"{world['url']}/field/?lang=en")
    page.get_by_label("E-mail").fill("patrol@live.example.se")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Call sign").select_option(call_sign)
    page.get_by_label("Staff on the car").fill(crew)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#car")).to_have_text(call_sign)
    expect(page.locator("#net")).to_have_text("Online")
    duty = page.locator("#duty")
    if duty.get_attribute("aria-pressed") != "true":
        duty.click()
    expect(duty).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#queue")).to_be_hidden()


def test_the_shift_log_in_asks_for_the_crew_next_to_its_field(tablet, world):
    page = tablet
    page.goto(f"{world['url']}/field/?lang=en")
    page.get_by_label("E-mail").fill("patrol@live.example.se")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Call sign").select_option("Jour 31")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-crew-error")).to_have_text(
        "Name the staff on the car (one or two names).")
    expect(page.locator("#login-crew1")).to_have_class(re.compile(r"\binvalid\b"))
    expect(page.locator("#login")).to_be_visible()
    assert page.evaluate("localStorage.getItem('sj.field.session')") is None


def test_a_car_on_duty_searches_the_register_and_opens_the_object_view(tablet, world):
    page = tablet
    start_shift(page, world, "Jour 31")
    page.get_by_role("button", name="Search the register").click()
    page.get_by_role("searchbox", name="Search the register").fill("Registervägen 7 1102")
    page.get_by_role("button", name="Search", exact=True).click()
    hit = page.locator("#register-hits .hit").first
    expect(hit).to_contain_text("Registervägen 7")
    expect(hit).to_contain_text("Flat 1102")
    assert "score" not in page.locator("#register-hits").inner_text().lower()
    hit.click()
    view = page.locator("#register-view .object")
    expect(view.get_by_role("heading", name="Registervägen 7, 118 46 Stockholm")).to_be_visible()
    expect(view.locator(".tenants")).to_contain_text("Anna Andersson")
    expect(view.get_by_role("link", name="Call 070-174 06 05")).to_have_attribute(
        "href", "tel:+46701740605")
    expect(view.locator(".neighbours")).to_contain_text("Above: Flat 1202")
    expect(view.locator(".neighbours")).to_contain_text("Bo Ek")
    assert "3690" not in page.content()  # no door code without a job
    # A neighbour opens in its turn; every touch target is big.
    view.locator(".neighbours .hit").first.click()
    expect(page.locator("#register-view .object .tenants")).to_contain_text("Bo Ek")
    box = page.locator("#register-view .object .hit, #register-view .object .call").first
    assert box.bounding_box()["height"] >= 48
    page.screenshot(path="/tmp/tablet-object-view.png")

    # From the job card: the job's object and the job's history.
    page.get_by_role("button", name="Back to the jobs").click()
    job_id = dispatch_job(world, "Jour 31")
    card = page.locator(f"#job-{job_id}")
    expect(card.locator(".door .code")).to_have_text("3690")
    card.get_by_role("button", name="The object in the register").click()
    expect(page.locator("#register-view .object .tenants")).to_contain_text("Anna Andersson")
    page.get_by_role("button", name="Back to the jobs").click()
    card.get_by_role("button", name="Job history").click()
    expect(card.locator(".history")).to_contain_text("Sent to the car · Jour 31")


def test_an_off_duty_car_is_told_to_go_on_duty_to_use_the_register(tablet, world):
    page = tablet
    start_shift(page, world, "Jour 33")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#duty").click()
    expect(page.locator("#duty")).to_have_attribute("aria-pressed", "false")
    wait_until(lambda: car(world, "Jour 33")["status"] == "off_duty")
    page.get_by_role("button", name="Search the register").click()
    page.get_by_role("searchbox", name="Search the register").fill("Registervägen 7")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#register-message")).to_have_text("Go on duty to use the register.")
    expect(page.locator("#register-hits .hit")).to_have_count(0)


def test_a_call_attempt_logged_on_the_tablet_reaches_the_report(tablet, world):
    page = tablet
    start_shift(page, world, "Jour 32", crew="Cecilia Dahl")
    job_id = dispatch_job(world, "Jour 32")  # an anonymous caller: no number on the complaint
    card = page.locator(f"#job-{job_id}")
    expect(card.locator(".tenant-source")).to_have_text(
        "The caller left no number: the tenant's phone from the register.")
    # The name and the flat once on the card.
    expect(card.get_by_text("Flat 1102 · floor 1")).to_have_count(1)

    # A busy car is not shown off duty: the button says why instead.
    page.locator("#duty").click()
    expect(page.locator("#notice")).to_have_text(
        "Busy with a job: finish or hand it over before going off duty.")
    expect(page.locator("#duty")).to_have_attribute("aria-pressed", "true")
    assert car(world, "Jour 32")["status"] == "busy"

    call = card.get_by_role("link", name="Call Anna Andersson 070-174 06 05")
    expect(call).to_have_attribute("href", "tel:+46701740605")
    call.evaluate("a => a.addEventListener('click', e => e.preventDefault())")  # no dialler here
    call.click()
    expect(card.locator(".calls")).to_contain_text("Did the tenant answer?")
    card.locator(".calls").get_by_role("button", name="Answered", exact=True).click()
    expect(card.locator(".calls li")).to_contain_text("Answered")
    expect(page.locator("#queue")).to_be_hidden()  # sent through the outbox
    events = api(world, "GET", f"/jobs/{job_id}")["events"]
    assert [e["details"] for e in events if e["kind"] == "call_attempt"] == [
        {"number": "+46701740605", "answered": True}]

    # The report: an error stands next to its field, in the label's word.
    for step in ("Accept", "En route", "On site"):
        card.get_by_role("button", name=step).click()
    form = card.locator("form.report")
    form.get_by_role("button", name="Send the report and close the job").click()
    outcomes = form.locator("fieldset.outcomes")
    expect(outcomes.locator(".field-error")).to_have_text("Choose the outcome.")
    expect(outcomes).to_have_class(re.compile(r"\binvalid\b"))
    outcomes.locator("label").first.click()
    expect(outcomes.locator(".field-error")).to_be_hidden()
    form.get_by_role("button", name="Send the report and close the job").click()
    expect(card.locator(".report-state")).to_contain_text("The report is sent")
    # It may still be corrected: the button says so.
    expect(form.locator("button[type=submit]")).to_have_text("Send the changes to the report")
    # The job is done: its door code is off the screen and out of storage.
    expect(card.locator(".door")).to_have_count(0)
    assert "3690" not in page.evaluate(STORED)

    report_id = page.evaluate(
        f"JSON.parse(localStorage.getItem('sj.field.jobs')).find(j => j.job.job_id === {job_id})"
        ".report.report_id")
    doc = api(world, "GET", f"/reports/{report_id}")
    assert [a["answered"] for a in doc["call_attempts"]] == [True]
    assert doc["crew"] == ["Cecilia Dahl"]
    with requests.Session() as staff:
        login = staff.get(f"{world['url']}/login", timeout=10).text
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', login).group(1)
        assert staff.post(f"{world['url']}/login", timeout=10, data={
            "email": "admin@live.example.se", "password": PASSWORD, "csrf_token": csrf}).ok
        page_html = staff.get(f"{world['url']}/reports/{report_id}", timeout=10).text
        assert "1 samtalsförsök, 1 besvarat" in page_html
        assert "Cecilia Dahl" in page_html
        today = date.today()
        export = staff.get(f"{world['url']}/reports/export.csv", timeout=10, params={
            "from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}).text
        row = next(line for line in export.splitlines() if line.startswith(f"{report_id};"))
        assert "1 samtalsförsök, 1 besvarat" in row


def test_a_job_moved_to_another_car_loses_its_door_code_on_the_first_tablet(
        browser, tablet, world):
    page = tablet
    start_shift(page, world, "Jour 34")
    other_context, other = _context(browser)
    try:
        start_shift(other, world, "Jour 31")
        job_id = dispatch_job(world, "Jour 34", flat="1202")
        card = page.locator(f"#job-{job_id}")
        expect(card.locator(".door .code")).to_have_text("3690")
        assert "3690" in page.evaluate(STORED)
        api(world, "POST", f"/jobs/{job_id}/redispatch",
            json={"patrol_id": car(world, "Jour 31")["patrol_id"]})
        expect(card.locator(".revoked")).to_have_text("The job has been moved to another car.")
        expect(card.locator(".door")).to_have_count(0)
        assert "3690" not in page.evaluate(STORED)
        assert "3690" not in page.content()
        expect(other.locator(f"#job-{job_id} .door .code")).to_have_text("3690")
    finally:
        other_context.close()
