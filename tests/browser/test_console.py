"""In Chromium: the operator console from the screen pop to the dispatch, by keyboard alone,
with a second console that sees the same board; the draft that survives a reload; a page
that works when the map tiles cannot load."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from dispatch.jobs.dispatching import ACTIVE_STATUSES
from dispatch.models import Job, Patrol

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
ONCALL = "08-46 500 401"  # ACME's on-call number in the live server
GOTGATAN = {"gatuadress": "Götgatan 12B", "postnummer": "118 46", "ort": "Stockholm",
            "portkod": "4711", "lat": "59.3121", "lon": "18.0713"}
HORNSGATAN = {"gatuadress": "Hornsgatan 5", "postnummer": "118 20", "ort": "Stockholm",
              "portkod": "", "lat": "59.3195", "lon": "18.0675"}


def flat(entrance: dict, objektsnummer: str, lagenhetsnummer: str, avtalsnummer: str,
         tenant: str, phone: str) -> dict:
    """A register row: a flat in ``entrance`` and its tenant."""
    return {**entrance, "objektsnummer": objektsnummer, "lagenhetsnummer": lagenhetsnummer,
            "avtalsnummer": avtalsnummer, "hyresgast_namn": tenant, "hyresgast_telefon": phone}


REGISTER = [
    # as the admin import test leaves them, so that no object is retired.
    flat(GOTGATAN, "A-1", "1102", "K-1", "Anna Andersson", "070-174 06 05"),
    flat(GOTGATAN, "A-2", "1202", "K-2", "Bo Ek", "070-174 06 06"),
    flat(GOTGATAN, "A-3", "1002", "K-3", "Cilla Berg", "070-174 06 07"),
    flat(GOTGATAN, "A-4", "1101", "K-4", "Dan Lind", "070-174 06 08"),
    flat(HORNSGATAN, "B-1", "1101", "K-5", "Eva Holm", "08-123 456 78"),
    flat(HORNSGATAN, "B-2", "1201", "K-6", "Fredrik Sjö", "070-174 06 10"),
]
COLUMNS = ["objektsnummer", "gatuadress", "postnummer", "ort", "lagenhetsnummer", "portkod",
           "lat", "lon", "avtalsnummer", "hyresgast_namn", "hyresgast_telefon"]
# Two cars of our own: one at Götgatan 12B, one a kilometre north.
PATROLS = [("Konsol 1", 59.3121, 18.0713), ("Konsol 2", 59.3215, 18.0713)]


@pytest.fixture(scope="module")
def engine(live_server):
    """The live server's database, for what no API does (patrol positions, the clock)."""
    engine = sa.create_engine(live_server.env["DATABASE_URL"])
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def console_server(live_server, engine, tmp_path_factory):
    """The live server with ACME's register imported and a bearer token for the telephony."""
    path = tmp_path_factory.mktemp("console") / "acme-console.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, delimiter=";", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(REGISTER)
    live_server.cli("import-register", "--landlord", "ACME", "--force", str(path))
    live_server.token = live_server.cli("create-token", "--role", "operator").strip()
    with engine.connect() as conn:
        first_job = (conn.scalar(sa.select(sa.func.max(Job.id))) or 0) + 1
    yield live_server
    # The server is shared by the whole run: leave no job of ours in the queue (the next car
    # that comes free would get it) and no car of ours nearer than another module's.
    with Session(engine) as session:
        session.execute(sa.update(Job).where(Job.id >= first_job,
                                             Job.status.in_(ACTIVE_STATUSES))
                        .values(status="cancelled"))
        session.execute(sa.update(Patrol).where(Patrol.call_sign.in_([p[0] for p in PATROLS]))
                        .values(status="off_duty"))
        session.commit()


@pytest.fixture
def database(console_server, engine):
    """A session on the live server's database."""
    with Session(engine) as session:
        yield session


@pytest.fixture
def patrols(database):
    """Our two patrol cars, available with a fresh position (as tablets would report)."""
    now = datetime.now(UTC)
    for call_sign, lat, lon in PATROLS:
        patrol = database.scalar(sa.select(Patrol).where(Patrol.call_sign == call_sign))
        if patrol is None:
            patrol = Patrol(call_sign=call_sign, name=call_sign)
            database.add(patrol)
        patrol.status, patrol.lat, patrol.lon = "available", lat, lon
        patrol.position_at = patrol.updated_at = now
    database.commit()
    ids = {p.call_sign: p.id for p in database.scalars(
        sa.select(Patrol).where(Patrol.call_sign.in_([c for c, _, _ in PATROLS])))}
    # End that read: on SQLite an open transaction of this process would hold the one
    # writer's turn (BEGIN IMMEDIATE) and keep the server from writing until the test ends.
    database.rollback()
    return ids


@pytest.fixture
def new_page(browser):
    """Factory: a page in a fresh browser context (its own cookies and storage)."""
    contexts = []

    def factory():
        context = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield factory
    for context in contexts:
        context.close()


def open_console(page, server):
    """Log in by keyboard on the way to the console; wait for its live connection."""
    page.goto(f"{server.url}/console")
    expect(page.get_by_label("E-post")).to_be_focused()
    page.keyboard.type("operator@live.example.se")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Operatörskonsol")).to_be_attached()
    expect(page.locator("#conn")).to_have_text("Ansluten")


def ring(server, caller: str) -> dict:
    """The telephony system's webhook: a call to ACME's on-call number from ``caller``."""
    response = requests.post(f"{server.url}/api/v1/calls", timeout=10,
                             headers={"Authorization": f"Bearer {server.token}"},
                             json={"dialled_number": ONCALL, "caller_number": caller})
    assert response.status_code == 201, response.text
    return response.json()


def log_complaint(server, address: str, category: str) -> int:
    """What another console does: log a complaint at ``address``; return the job's id."""
    headers = {"Authorization": f"Bearer {server.token}"}
    with requests.Session() as http:
        hits = http.get(f"{server.url}/api/v1/addresses/search", headers=headers, timeout=10,
                        params={"q": address, "landlord": "ACME"}).json()
        logged = http.post(f"{server.url}/api/v1/complaints", headers=headers, timeout=10,
                           json={"landlord": "ACME", "object_id": hits[0]["object_id"],
                                 "category": category, "description": "", "priority": 2})
    assert logged.status_code == 201, logged.text
    return logged.json()["job_id"]


def job_row(page, job_id):
    return page.locator(f'#board .job[data-job-id="{job_id}"]')


def test_call_to_dispatch_by_keyboard_alone_and_a_second_console_sees_it(
    console_server, patrols, new_page
):
    a, b = new_page(), new_page()
    open_console(a, console_server)
    open_console(b, console_server)

    # A neighbour's visitor calls from a number that is not in the register.
    ring(console_server, "0731234567")
    expect(a.locator("#call")).to_contain_text("073-123 45 67")
    expect(a.locator("#call")).to_contain_text("Acme Bostäder")
    expect(b.locator("#call")).to_contain_text("073-123 45 67")

    keys = a.keyboard
    keys.press("n")
    expect(a.get_by_label("Hyresvärd")).to_have_value("ACME")
    expect(a.get_by_label("Inringarens telefon")).to_have_value("073-123 45 67")
    expect(a.get_by_role("combobox", name="Adress")).to_be_focused()

    keys.type("gotgatn 12b")  # misspelled, no å, no flat: the entrance
    listbox = a.get_by_role("listbox", name="Hittade adresser")
    options = listbox.get_by_role("option")
    expect(listbox).to_have_attribute("aria-busy", "false")  # the answer to all that was typed
    expect(options.first).to_contain_text("Götgatan 12B")
    expect(options.first.locator(".score-num")).to_have_count(0)  # no raw score on screen
    keys.press("Enter")  # nothing is picked before the operator moves to it
    expect(a.locator("#chosen")).to_be_hidden()
    keys.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    keys.press("Enter")
    # The entrance's flats: the whole stairwell first, then 1002, 1101, 1102, 1202.
    expect(options).to_have_count(5)
    expect(options.nth(3)).to_contain_text("1102")
    for _ in range(4):
        keys.press("ArrowDown")
    expect(options.nth(3)).to_have_attribute("aria-selected", "true")
    keys.press("Enter")

    expect(a.locator("#chosen")).to_contain_text("Götgatan 12B, lgh 1102")
    obj = a.locator("#object-body")
    expect(obj).to_contain_text("Anna Andersson")
    expect(obj.get_by_role("link", name="070-174 06 05")).to_have_attribute(
        "href", "tel:+46701740605")
    # The door code only on an explicit "show" (audited): not on the screen by itself.
    expect(obj.get_by_role("button", name="Visa portkod")).to_be_visible()
    expect(obj.locator(".door-code")).not_to_contain_text("4711")
    expect(obj.locator(".neighbours li").first).to_contain_text("Ovanför")
    expect(obj.locator(".neighbours li").first).to_contain_text("Bo Ek")

    expect(a.get_by_label("Kategori")).to_be_focused()
    keys.press("ArrowDown")  # Musik, the first category
    expect(a.get_by_label("Kategori")).to_have_value("music")
    keys.press("Tab")
    keys.press("Tab")
    keys.type("Hög musik och dunkande bas sedan midnatt.")
    keys.press("Tab")
    keys.type("Kim Nyberg")
    keys.press("Escape")
    keys.press("1")  # the flat above is the suspected source
    expect(a.get_by_label("Misstänkt källa")).to_have_value("Ovanför: lgh 1202 (Bo Ek)")

    keys.press("Control+Enter")
    result = a.locator("#result")
    expect(result).to_contain_text("Ärende loggat")
    expect(result.locator(".recommended li").first).to_contain_text("Konsol 1")
    job_id = int(re.search(r"uppdrag (\d+)", result.locator(".result-head").inner_text()).group(1))
    expect(a.get_by_label("Beskrivning")).to_have_value("")  # the form is ready for the next

    # The second console sees the job arrive in the queue, without reloading.
    expect(job_row(b, job_id)).to_contain_text("Götgatan 12B, lgh 1102")
    expect(job_row(b, job_id)).to_have_attribute("data-status", "queued")

    keys.press("d")  # to the nearest: Konsol 1
    expect(result).to_contain_text(f"Uppdrag {job_id} skickat till Konsol 1")
    for page in (a, b):
        row = job_row(page, job_id)
        expect(row).to_have_attribute("data-status", "assigned")
        expect(row).to_contain_text("Konsol 1")
        expect(row).to_contain_text("Tilldelad")
        expect(page.locator("#patrols tr", has_text="Konsol 1")).to_contain_text("Upptagen")


def test_a_draft_survives_a_reload_and_bad_input_keeps_what_was_typed(
    console_server, patrols, new_page
):
    page = new_page()
    open_console(page, console_server)
    ring(console_server, "46701740606")  # Bo Ek, flat 1202
    expect(page.locator("#call")).to_contain_text("Bo Ek")
    page.keyboard.press("n")
    expect(page.locator("#chosen")).to_contain_text("Götgatan 12B, lgh 1202")
    expect(page.get_by_label("Inringarens namn")).to_have_value("Bo Ek")
    page.get_by_role("button", name="Visa portkod").click()
    expect(page.locator("#object-body .door-code")).to_have_text("4711")
    page.get_by_label("Beskrivning").fill("Skrik från lägenheten under.")

    page.reload()
    expect(page.locator("#conn")).to_have_text("Ansluten")
    expect(page.get_by_label("Beskrivning")).to_have_value("Skrik från lägenheten under.")
    expect(page.get_by_label("Inringarens namn")).to_have_value("Bo Ek")
    expect(page.locator("#chosen")).to_contain_text("Götgatan 12B, lgh 1202")
    expect(page.locator("#object-body")).to_contain_text("Bo Ek")

    # No category: the API says so, the field is marked, nothing typed is lost.
    page.get_by_label("Beskrivning").press("Control+Enter")
    expect(page.locator("#form-error")).to_have_text("Välj en kategori.")
    expect(page.get_by_label("Kategori")).to_be_focused()
    expect(page.get_by_label("Kategori")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Beskrivning")).to_have_value("Skrik från lägenheten under.")

    # Fight or threat: the advice to ring 112, priority urgent; then it is logged and the
    # draft is gone for good.
    page.get_by_label("Kategori").select_option("fight_threat")
    expect(page.get_by_text("be inringaren ringa 112")).to_be_visible()
    expect(page.get_by_label("Prioritet")).to_have_value("1")
    page.get_by_label("Kategori").press("Control+Enter")
    expect(page.locator("#result")).to_contain_text("Ärende loggat")
    page.reload()
    expect(page.locator("#conn")).to_have_text("Ansluten")
    expect(page.get_by_label("Beskrivning")).to_have_value("")
    expect(page.locator("#chosen")).to_be_hidden()


def test_console_works_when_the_map_tiles_cannot_load(console_server, patrols, new_page):
    page = new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
    open_console(page, console_server)
    expect(page.locator("#map-note")).to_have_text(re.compile("Kartbilderna kan inte laddas"))
    expect(page.locator(".leaflet-interactive").first).to_be_attached()  # markers, still
    expect(page.locator("#patrols tr", has_text="Konsol 2")).to_contain_text("Tillgänglig")

    page.keyboard.press("/")
    page.keyboard.type("hornsg 5")
    expect(page.get_by_role("listbox").get_by_role("option").first).to_contain_text(
        "Hornsgatan 5")
    assert errors == []


def test_an_assignment_not_acknowledged_in_time_is_an_alarm(
    console_server, patrols, database, new_page
):
    job_id = log_complaint(console_server, "Hornsgatan 5 lgh 1201", "dog")
    sent = requests.post(f"{console_server.url}/api/v1/jobs/{job_id}/dispatch", timeout=10,
                         headers={"Authorization": f"Bearer {console_server.token}"},
                         json={"patrol_id": patrols["Konsol 2"]})
    assert sent.status_code == 200, sent.text
    # Nobody on the car accepted it, and the first limit (60 s) passed, not the second (120 s):
    # the server's timer (every few seconds, no console open) raises the alarm.
    database.rollback()  # end this session's read snapshot: see what the server wrote since
    job = database.get(Job, job_id)
    job.dispatched_at = datetime.now(UTC) - timedelta(seconds=80)
    database.commit()

    page = new_page()
    open_console(page, console_server)
    expect(job_row(page, job_id)).to_have_class(re.compile(r"\balarm\b"), timeout=15_000)
    expect(page.get_by_role("alert").filter(has_text=f"uppdrag {job_id}")).to_contain_text(
        "Konsol 2")


def test_after_a_lost_connection_the_console_reconnects_and_catches_up(
    console_server, patrols, new_page
):
    page = new_page()
    open_console(page, console_server)
    page.context.set_offline(True)
    expect(page.locator("#conn")).to_have_text("Frånkopplad – ansluter igen…")
    # Meanwhile another operator logs a complaint: this console misses the event.
    job_id = log_complaint(console_server, "Hornsgatan 5 lgh 1101", "alarm")
    page.context.set_offline(False)
    expect(page.locator("#conn")).to_have_text("Ansluten")
    expect(job_row(page, job_id)).to_contain_text("Larm")
