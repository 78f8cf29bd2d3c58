"""Text at 200 % and touch targets, in Chromium (issue 18). A page zoomed to 200 % is the
same screen with half as many CSS pixels (Chromium's zoom: the layout reflows at half the
width, each CSS pixel two device pixels), so each main page — the operator console, the
tablet, the tenant's first page and the housing queue — is opened at half its usual viewport
with a device scale factor of 2: the page does not scroll sideways and no control is cut off
(inside the page's width, its text not clipped by its own box). On the tablet, at its usual
size, every button and link shown is at least 44 × 44 CSS pixels. Against the Procfile's web
process, on a server of its own."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from dispatch.auth import tenants
from dispatch.auth.identity import Identity
from dispatch.housing import service as housing
from dispatch.models import (
    Agreement,
    AgreementObject,
    AgreementParty,
    Entrance,
    Person,
    RentalObject,
    utcnow,
)
from dispatch.register.landlords import upsert_landlord
from tests.conftest import _fresh_database_url
from tests.support.servers import LiveServer
from tests.support.tenant_helpers import CURRENT

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 800, "height": 1280}

# Sideways scrolling of the page, and the controls shown that are cut off: outside the page's
# width, or their text wider than their box (clipped or spilling).
LAYOUT = """() => {
  const root = document.documentElement;
  const width = root.clientWidth;
  const cut = [];
  const fields = ['INPUT', 'SELECT', 'TEXTAREA'];
  const controls = 'button, a[href], input, select, textarea, [role=button]';
  for (const el of document.querySelectorAll(controls)) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!box.width || !box.height || style.visibility === 'hidden') continue;
    if (el.closest('.leaflet-container, .visually-hidden, .skip')) continue;
    const name = (el.innerText || el.value || el.getAttribute('aria-label') || el.id
                  || el.name || el.tagName).trim().slice(0, 50);
    if (box.left < -1 || box.right > width + 1) {
      cut.push(`${name}: outside the page (${box.left}..${box.right} of ${width})`);
    } else if (!fields.includes(el.tagName) && el.scrollWidth > el.clientWidth + 2
               && style.overflow !== 'visible') {
      cut.push(`${name}: its text clipped (${el.scrollWidth} > ${el.clientWidth})`);
    }
  }
  return {scrolls: root.scrollWidth > width + 1, scrollWidth: root.scrollWidth, width, cut};
}"""

# The tablet's buttons and links that are smaller than 44 × 44 CSS pixels.
SMALL = """() => {
  const small = [];
  const targets = 'button, a[href], [role=button], input[type=checkbox], input[type=radio]';
  for (const el of document.querySelectorAll(targets)) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    let target = box;
    if (el.matches('input[type=checkbox], input[type=radio]') && el.closest('label'))
      target = el.closest('label').getBoundingClientRect();  // the whole label is the target
    if (target.width < 44 || target.height < 44) {
      const name = (el.innerText || el.getAttribute('aria-label') || el.value || el.tagName);
      const size = `${Math.round(target.width)}×${Math.round(target.height)}`;
      small.push(`${name.trim().slice(0, 40)} ${size}`);
    }
  }
  return small;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url, drop = _fresh_database_url(tmp_path_factory, "textsize")
    instance = tmp_path_factory.mktemp("textsize")
    live = LiveServer(url, instance, extra_env={"ACK_ALARM_AFTER_S": "86400",
                                                "ACK_REDISPATCH_AFTER_S": "86400"}).start()
    live.cli("create-landlord", "--code", "ZOOM", "--name", "Zoom Bostäder")
    for role in ("operator", "patrol"):
        live.cli("create-user", "--role", role, "--email", f"{role}@zoom.example.se",
                 "--password", PASSWORD)
    register = instance / "zoom.csv"
    register.write_text(
        "objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;portkod;lat;lon\n"
        "Z-1101;Förstoringsvägen 12;118 46;Stockholm;1101;4711;59.3121;18.0713\n"
        "Z-1102;Förstoringsvägen 12;118 46;Stockholm;1102;4711;59.3121;18.0713\n",
        encoding="utf-8")
    live.cli("import-register", "--landlord", "ZOOM", str(register))
    live.cli("create-patrol", "--call-sign", "Jour 61")
    live.token = live.cli("create-token", "--role", "operator").strip()
    engine = sa.create_engine(live.env["DATABASE_URL"])
    with Session(engine) as session:
        zoom = upsert_landlord(session, code="ZOOM", name="Zoom Bostäder")
        entrance = Entrance(landlord_id=zoom.id, street="Läsvägen", street_number=2,
                            street_letter="", postnummer="11846", ort="Stockholm",
                            address_key="läsvägen|2||11846", lat=59.31, lon=18.07,
                            position_source="file")
        session.add(entrance)
        session.flush()
        home, vacant = (RentalObject(landlord_id=zoom.id, entrance_id=entrance.id,
                                     objektsnummer=f"L-{n}", lagenhetsnummer=n, floor=2,
                                     rooms=Decimal(3), area_m2=Decimal(71),
                                     rent_sek=Decimal(9100)) for n in ("2101", "2102"))
        session.add_all([home, vacant])
        person = Person(landlord_id=zoom.id, name="Tove Tenant", kundnummer="Z-K1",
                        personnummer=CURRENT)
        session.add(person)
        session.flush()
        agreement = Agreement(landlord_id=zoom.id, avtalsnummer="Z-A1",
                              starts_on=date(2020, 1, 1))
        agreement.objects = [AgreementObject(object_id=home.id)]
        agreement.parties = [AgreementParty(person_id=person.id, position=1)]
        session.add(agreement)
        session.flush()
        found = tenants.identify(session, Identity(CURRENT, "Tove Tenant", "SE"), "bankid",
                                 today=date.today(), ip=None)
        account = tenants.register(session, found.identification, email="tove@zoom.example",
                                   password="Hyra#2026", locale=None, ip=None)
        tenants.activate(session, account, ip=None)
        housing.register(session, person, zoom.id, date.today())
        housing.publish(session, vacant, now=utcnow() - timedelta(minutes=1),
                        vacant_on=date.today() + timedelta(days=30), days=7)
        session.commit()
    engine.dispose()
    yield live
    live.stop()
    drop()


def api(server, method, path, **kwargs):
    response = requests.request(method, f"{server.url}/api/v1{path}", timeout=10,
                                headers={"Authorization": f"Bearer {server.token}"}, **kwargs)
    assert response.ok, response.text
    return response.json()


def zoomed(browser, viewport: dict, percent: int = 200, **options):
    """A page as a screen of ``viewport`` shows it zoomed to ``percent``."""
    factor = percent / 100
    context = browser.new_context(
        locale="sv-SE", device_scale_factor=factor,
        viewport={"width": int(viewport["width"] / factor),
                  "height": int(viewport["height"] / factor)}, **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def assert_reflows(page, where: str) -> None:
    found = page.evaluate(LAYOUT)
    assert not found["scrolls"], \
        f"{where}: the page scrolls sideways ({found['scrollWidth']} > {found['width']})"
    assert not found["cut"], f"{where}: controls cut off:\n" + "\n".join(found["cut"])


def tablet_login(page, server) -> None:
    page.goto(f"{server.url}/field/?lang=sv")
    page.locator("#login-email").fill("patrol@zoom.example.se")
    page.locator("#login-password").fill(PASSWORD)
    page.locator("#login-car").select_option("Jour 61")
    page.locator("#login-crew1").fill("Ada Berg")
    page.locator("#login-crew1").press("Enter")
    expect(page.locator("#net")).to_have_class("net net-connected")


def new_job(server) -> int:
    object_id = api(server, "GET", "/addresses/search",
                    params={"q": "Förstoringsvägen 12 lgh 1102"})[0]["object_id"]
    return api(server, "POST", "/complaints", json={
        "landlord": "ZOOM", "object_id": object_id, "category": "music",
        "description": "Hög musik sedan midnatt"})["job_id"]


def send_to_the_tablet(page, server) -> int:
    """A new job sent to Jour 61, whose tablet is ``page`` (put on duty first)."""
    duty = page.locator("#duty")
    if duty.get_attribute("aria-pressed") != "true":
        duty.click()
    expect(duty).to_have_attribute("aria-pressed", "true")
    patrol = next(p["patrol_id"] for p in api(server, "GET", "/patrols")
                  if p["call_sign"] == "Jour 61")
    job_id = new_job(server)
    api(server, "POST", f"/jobs/{job_id}/dispatch", json={"patrol_id": patrol})
    expect(page.locator(f"#job-{job_id}")).to_be_visible()
    return job_id


@pytest.fixture(scope="module")
def open_job(server):
    return new_job(server)


def test_the_console_at_200_percent_does_not_scroll_sideways_or_cut_controls(
        browser, server, open_job, tmp_path):
    context, page = zoomed(browser, DESKTOP)
    try:
        page.goto(f"{server.url}/login")
        page.locator("input[name=email]").fill("operator@zoom.example.se")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[name=password]").press("Enter")
        page.goto(f"{server.url}/console/")
        expect(page.locator(f".job[data-job-id='{open_job}']")).to_be_visible()
        page.screenshot(path=str(tmp_path / "console-200.png"), full_page=True)
        assert_reflows(page, "console")
    finally:
        context.close()


def test_the_tablet_at_200_percent_does_not_scroll_sideways_or_cut_controls(
        browser, server, tmp_path):
    context, page = zoomed(browser, TABLET, color_scheme="dark", has_touch=True)
    try:
        page.goto(f"{server.url}/field/?lang=sv")
        expect(page.locator("#login-email")).to_be_visible()
        assert_reflows(page, "tablet log-in")
        tablet_login(page, server)
        send_to_the_tablet(page, server)
        page.screenshot(path=str(tmp_path / "tablet-200.png"), full_page=True)
        assert_reflows(page, "tablet with a job")
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/portal/", "/bostad/", "/bostad/listings"])
def test_the_tenants_first_page_and_the_queue_at_200_percent_reflow(browser, server, path,
                                                                   tmp_path):
    context, page = zoomed(browser, DESKTOP)
    try:
        page.goto(f"{server.url}/portal/login")
        page.locator("input[name=email]").fill("tove@zoom.example")
        page.locator("input[name=password]").fill("Hyra#2026")
        page.locator("input[name=password]").press("Enter")
        page.wait_for_url(lambda url: url.endswith("/portal/"))
        page.goto(server.url + path)
        page.screenshot(path=str(tmp_path / "page-200.png"), full_page=True)
        assert_reflows(page, path)
    finally:
        context.close()


def test_every_button_and_link_on_the_tablet_is_at_least_44_px_square(browser, server,
                                                                      tmp_path):
    context = browser.new_context(locale="sv-SE", color_scheme="dark", viewport=TABLET,
                                  has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{server.url}/field/?lang=sv")
        expect(page.locator("#login-email")).to_be_visible()
        assert page.evaluate(SMALL) == [], "log-in"
        tablet_login(page, server)
        send_to_the_tablet(page, server)
        page.screenshot(path=str(tmp_path / "tablet-targets.png"), full_page=True)
        assert page.evaluate(SMALL) == [], "a job"
        page.locator("#search-open").click()
        expect(page.locator("#register-q")).to_be_visible()
        assert page.evaluate(SMALL) == [], "the register search"
    finally:
        context.close()
