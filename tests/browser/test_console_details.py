"""In Chromium at 1280 px: the console's details a user noticed (issue 13). Numbers as the
tablet writes them, neighbours' names in full, house numbers ranked as typed with no score on
screen and a missing number said, the object view kept until the job is sent, distances in
km with a decimal comma, and cars' names on the map that do not overlap."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from dispatch.core.phones import display_phone
from dispatch.jobs.dispatching import ACTIVE_STATUSES
from dispatch.models import Job, Landlord, Patrol

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
ONCALL = "08-46 500 477"
SCREENSHOT = "/tmp/console_details_1280.png"
MAP_SCREENSHOT = "/tmp/console_details_map_1280.png"
LONG_NAME = "Maria-Kristina Josefsson-Lindqvist och Karl-Johan Bergström-Östlund"
COLUMNS = ["objektsnummer", "gatuadress", "postnummer", "ort", "lagenhetsnummer", "portkod",
           "lat", "lon", "avtalsnummer", "hyresgast_namn", "hyresgast_telefon"]


def row(number: str, objektsnummer: str, lgh: str, tenant: str, phone: str) -> dict:
    return {"gatuadress": f"Tegnérlunden {number}", "postnummer": "113 59", "ort": "Stockholm",
            "portkod": "", "lat": "59.3390", "lon": "18.0550", "objektsnummer": objektsnummer,
            "lagenhetsnummer": lgh, "avtalsnummer": f"D-{objektsnummer}",
            "hyresgast_namn": tenant, "hyresgast_telefon": phone}


REGISTER = [
    row("2", "D-1", "1101", "Olle Göteborgare", "0311234567"),
    row("2", "D-2", "1201", LONG_NAME, "070-174 06 21"),
    row("24A", "D-3", "1001", "Pia Ek", ""), row("24B", "D-4", "1001", "Per Ek", ""),
    row("26", "D-5", "1001", "Siv Ek", ""), row("3", "D-6", "1001", "Ulf Ek", ""),
]
# Three cars a few metres apart, a few hundred metres from the address: their names would
# sit on top of each other.
PATROLS = [("Detalj 1", 59.3410, 18.0580), ("Detalj 2", 59.3411, 18.0581),
           ("Detalj 3", 59.3410, 18.0582)]


@pytest.fixture(scope="module")
def engine(live_server):
    engine = sa.create_engine(live_server.env["DATABASE_URL"])
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def server(live_server, engine, tmp_path_factory):
    """The live server with a landlord and register of this module's own, and our cars."""
    with Session(engine) as session:
        known = session.scalar(sa.select(Landlord).where(Landlord.code == "DETA"))
    if known is None:
        live_server.cli("create-landlord", "--code", "DETA", "--name", "Detalj Bostäder",
                        "--oncall-number", ONCALL)
    path = tmp_path_factory.mktemp("details") / "deta.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, delimiter=";")
        writer.writeheader()
        writer.writerows(REGISTER)
    live_server.cli("import-register", "--landlord", "DETA", "--force", str(path))
    live_server.token = live_server.cli("create-token", "--role", "operator").strip()
    with Session(engine) as session:
        first_job = (session.scalar(sa.select(sa.func.max(Job.id))) or 0) + 1
        now = datetime.now(UTC)
        for call_sign, lat, lon in PATROLS:
            patrol = session.scalar(sa.select(Patrol).where(Patrol.call_sign == call_sign))
            if patrol is None:
                patrol = Patrol(call_sign=call_sign, name=call_sign)
                session.add(patrol)
            patrol.status, patrol.lat, patrol.lon = "available", lat, lon
            patrol.position_at = patrol.updated_at = patrol.last_seen_at = now
        session.commit()
    yield live_server
    with Session(engine) as session:  # leave no job in the queue, no car of ours on duty
        session.execute(sa.update(Job).where(Job.id >= first_job,
                                             Job.status.in_(ACTIVE_STATUSES))
                        .values(status="cancelled"))
        session.execute(sa.update(Patrol).where(Patrol.call_sign.in_([p[0] for p in PATROLS]))
                        .values(status="off_duty"))
        session.commit()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def open_console(page, server):
    page.goto(f"{server.url}/console")
    page.get_by_label("E-post").fill("operator@live.example.se")
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_label("Lösenord").press("Enter")
    expect(page.locator("#conn")).to_have_text("Ansluten")


def ring(server, caller: str) -> None:
    response = requests.post(f"{server.url}/api/v1/calls", timeout=10,
                             headers={"Authorization": f"Bearer {server.token}"},
                             json={"dialled_number": ONCALL, "caller_number": caller})
    assert response.status_code == 201, response.text


OVERLAPPING_LABELS = """() => {
  const boxes = [...document.querySelectorAll('.leaflet-tooltip.m-label')]
    .filter(n => getComputedStyle(n).visibility !== 'hidden')
    .map(n => n.getBoundingClientRect());
  const pairs = [];
  boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => {
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
      pairs.push([a.left, a.top, b.left, b.top]);
  }));
  return {shown: boxes.length, pairs};
}"""


def test_the_console_at_1280_px_from_search_to_dispatch(server, page):
    open_console(page, server)

    # The caller's number as the tablet writes it (031-123 45 99, not 0311234599).
    ring(server, "0311234599")
    caller = display_phone("+46311234599")
    assert caller == "031-123 45 99"
    expect(page.locator("#call")).to_contain_text(caller)
    page.keyboard.press("n")
    expect(page.get_by_label("Inringarens telefon")).to_have_value(caller)

    # A house number typed so far: 2 first, then the numbers that begin with 2, in order;
    # no score on screen.
    search = page.get_by_role("combobox", name="Adress")
    expect(search).to_be_focused()
    page.keyboard.type("Tegnérlunden 2")
    listbox = page.get_by_role("listbox", name="Hittade adresser")
    expect(listbox).to_have_attribute("aria-busy", "false")
    options = listbox.get_by_role("option")
    expect(options.locator(".opt-title")).to_have_text(
        ["Tegnérlunden 2", "Tegnérlunden 24A", "Tegnérlunden 24B", "Tegnérlunden 26",
         "Tegnérlunden 3"])
    expect(listbox.locator(".score, .score-num")).to_have_count(0)
    expect(listbox).not_to_contain_text(re.compile(r"\b[01][.,]\d\d\b"))
    expect(listbox.locator(".note")).to_have_count(0)

    # A number the street does not have: said, in Swedish.
    search.fill("Tegnérlunden 9")
    expect(listbox.locator(".note")).to_have_text("Nummer 9 finns inte på Tegnérlunden.")

    search.fill("Tegnérlunden 2 lgh 1101")
    expect(listbox).to_have_attribute("aria-busy", "false")
    expect(options.first).to_contain_text("Tegnérlunden 2, lgh 1101")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")

    # The object view: the tenant's number as the tablet writes it, the neighbour's names
    # whole on one 1280 px screen.
    obj = page.locator("#object-body")
    tenant = display_phone("+46311234567")
    expect(obj.get_by_role("link", name=tenant)).to_have_attribute("href", "tel:+46311234567")
    names = obj.locator(".neighbours li .names").first
    expect(names).to_have_text(LONG_NAME)
    # Not cut off, and not squeezed into a column of broken words: at most two lines.
    assert names.evaluate("n => n.scrollWidth <= n.clientWidth && n.offsetWidth > 0")
    lines = names.evaluate("""n => { const r = document.createRange(); r.selectNodeContents(n);
      return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }""")
    assert 1 <= lines <= 2, lines

    page.get_by_label("Kategori").select_option("music")
    page.get_by_label("Kategori").press("Control+Enter")
    result = page.locator("#result")
    expect(result).to_contain_text("Ärende loggat")

    # The object view stays while the car is chosen; the distance in km, decimal comma.
    expect(obj).to_contain_text(LONG_NAME)
    expect(result.locator(".recommended li .distance").first).to_have_text(
        re.compile(r"^\d+,\d\u00a0km$"))

    # The cars' names on the map: all three shown, none over another.
    expect(page.locator(".leaflet-tooltip.m-label", has_text="Detalj 3").first).to_be_attached()
    labels = page.evaluate(OVERLAPPING_LABELS)
    assert labels["pairs"] == [] and labels["shown"] >= 3, labels
    page.screenshot(path=SCREENSHOT)
    page.locator("#map").screenshot(path=MAP_SCREENSHOT)

    # Sent: the object view goes with the form.
    page.keyboard.press("d")
    expect(result).to_contain_text("skickat till Detalj")
    expect(obj).not_to_contain_text(LONG_NAME)
