"""WCAG 2.1 AA in Chromium, checked by axe-core (issue 18): every page a tenant, an applicant
and a landlord's staff see on My pages (/portal) and in the housing queue (/bostad) — the
lists, one of each thing, and each form with a validation error shown — has no violation of
impact serious or critical, in Swedish (light theme) and Finnish (dark theme). Against the
Procfile's web process, on a server of its own with one landlord whose tenant has an invoice,
a fault report, a laundry room, an interest in a vacant flat and an offer."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from dispatch.auth import tenants
from dispatch.auth.identity import Identity
from dispatch.auth.service import upsert_user
from dispatch.housing import service as housing
from dispatch.models import (
    Agreement,
    AgreementObject,
    AgreementParty,
    Entrance,
    Person,
    Property,
    RentalObject,
    utcnow,
)
from dispatch.models.portal import FaultEvent, FaultReport, LaundryPass, LaundryRoom
from dispatch.portal.invoices import import_file
from dispatch.portal.rules import ocr_number
from dispatch.register.landlords import upsert_landlord
from tests.browser.axe import describe, violations
from tests.conftest import _fresh_database_url
from tests.support.servers import LiveServer
from tests.support.tenant_helpers import CURRENT

pytestmark = pytest.mark.browser

LANGS = ["sv-light", "fi-dark"]
STAFF_PASSWORD = "correct horse battery"
TZ = ZoneInfo("Europe/Stockholm")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The server and what its pages show: ACME's tenant Tove (an account, an agreement on
    flat 1101, an invoice, a fault report, a laundry room; in the housing queue with an
    interest in the open flat 1102 and an offer of flat 1103) and ACME's staff member."""
    url, drop = _fresh_database_url(tmp_path_factory, "axe_tenant")
    # The service's day is Stockholm's: between 00:00 and 01:00 there the machine's UTC date is
    # the day before, and an applicant registered on it did not count for an offer "today".
    today = datetime.now(TZ).date()
    server = LiveServer(url, tmp_path_factory.mktemp("axe-tenant")).start()
    try:  # a set-up that fails still stops its server and drops its database
        engine = sa.create_engine(server.env["DATABASE_URL"])
        now = utcnow()
        with Session(engine) as session:
            acme = upsert_landlord(session, code="ACME", name="Acme Bostäder")
            prop = Property(landlord_id=acme.id, designation="Kvarteret Axe")
            session.add(prop)
            session.flush()
            entrance = Entrance(landlord_id=acme.id, property_id=prop.id, street="Kontrastgatan",
                                street_number=4, street_letter="", postnummer="11846",
                                ort="Stockholm", address_key="kontrastgatan|4||11846", lat=59.31,
                                lon=18.07, position_source="file")
            session.add(entrance)
            session.flush()
            flats = {n: RentalObject(landlord_id=acme.id, entrance_id=entrance.id,
                                     objektsnummer=f"AX-{n}", lagenhetsnummer=n, floor=1,
                                     rooms=Decimal(2), area_m2=Decimal(58), rent_sek=Decimal(7400))
                     for n in ("1101", "1102", "1103")}
            session.add_all(flats.values())
            tove = Person(landlord_id=acme.id, name="Tove Tenant", kundnummer="AX-K1",
                          personnummer=CURRENT, email="tove@axe.example")
            session.add(tove)
            session.flush()
            agreement = Agreement(landlord_id=acme.id, avtalsnummer="AX-A1",
                                  starts_on=date(2020, 1, 1))
            agreement.objects = [AgreementObject(object_id=flats["1101"].id)]
            agreement.parties = [AgreementParty(person_id=tove.id, position=1)]
            room = LaundryRoom(landlord_id=acme.id, property_id=prop.id, name="Tvättstuga 1")
            room.passes = [LaundryPass(starts_at=time(h), ends_at=time(h + 3)) for h in (7, 10)]
            session.add_all([agreement, room])
            session.flush()
            found = tenants.identify(session, Identity(CURRENT, "Tove Tenant", "SE"), "bankid",
                                     today=today, ip=None)
            account = tenants.register(session, found.identification, email="tove@axe.example",
                                       password="Hyra#2026", locale=None, ip=None)
            tenants.activate(session, account, ip=None)
            ocr = ocr_number("2026120001", length_digit=True)
            result = import_file(session, acme, (
                "fakturanummer;avtalsnummer;ocr;belopp;fakturadatum;forfallodatum;period\n"
                f"2026120001;AX-A1;{ocr};7400,00;2026-11-15;2026-11-30;2026-12\n").encode(),
                actor="test")
            assert result.accepted, result.errors
            fault = FaultReport(landlord_id=acme.id, person_id=tove.id,
                                object_id=flats["1101"].id, category="heating", room="bedroom",
                                description="Elementet är kallt.")
            fault.events = [FaultEvent(status="received")]
            session.add(fault)
            staff = upsert_user(session, email="staff@axe.example", role="landlord", landlord=acme,
                                password=STAFF_PASSWORD)
            session.flush()
            applicant = housing.register(session, tove, acme.id, today)
            listings = {n: housing.publish(session, flats[n], now=now - timedelta(minutes=1),
                                           vacant_on=today + timedelta(days=30), days=7)
                        for n in ("1102", "1103")}
            for listing in listings.values():
                housing.register_interest(session, applicant, listing, now=now, tz=TZ)
            offers = housing.make_offers(session, listings["1103"], today=today, count=1,
                                         deadline=housing.offer_deadline(today, 5, TZ),
                                         staff_user_id=staff.id, retention_days=90)
            session.commit()
            ids = {"agreement": agreement.id, "fault": fault.id, "applicant": applicant.id,
                   "open": listings["1102"].id, "offered": listings["1103"].id,
                   "offer": offers[0].id}
        engine.dispose()
    except BaseException:
        server.stop()
        drop()
        raise
    yield server, ids
    server.stop()
    drop()


@pytest.fixture(scope="module")
def pages(browser, world):
    """Logged-in browser pages, one per person ("tenant", "staff") and look, kept."""
    server, _ids = world
    opened = {}

    def open_as(who: str, look: str):
        if (who, look) not in opened:
            lang, scheme = look.split("-")
            context = browser.new_context(locale="sv-SE", color_scheme=scheme,
                                          viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.set_default_timeout(15_000)
            if who == "tenant":
                page.goto(f"{server.url}/portal/login?lang={lang}")
                page.locator("input[name=email]").fill("tove@axe.example")
                page.locator("input[name=password]").fill("Hyra#2026")
                page.locator("input[name=password]").press("Enter")
                page.wait_for_url(lambda url: url.endswith("/portal/"))
            else:
                page.goto(f"{server.url}/login?lang={lang}")
                page.locator("input[name=email]").fill("staff@axe.example")
                page.locator("input[name=password]").fill(STAFF_PASSWORD)
                page.locator("input[name=password]").press("Enter")
                expect(page.locator("form.logout")).to_be_visible()
            opened[(who, look)] = page
        return opened[(who, look)]

    yield open_as
    for page in opened.values():
        page.context.close()


def assert_accessible(page, url: str | None = None, state: str = "") -> None:
    if url:
        page.goto(url)
        page.wait_for_load_state("load")
    found = violations(page)
    assert not found, f"{state or page.url}:\n{describe(found)}"


TENANT_PAGES = ["/portal/", "/portal/invoices", "/portal/faults", "/portal/faults/new",
                "/portal/faults/{fault}", "/portal/messages", "/portal/laundry",
                "/portal/agreements/{agreement}/notice", "/portal/contact", "/portal/account",
                "/portal/complaint", "/bostad/", "/bostad/wishes", "/bostad/listings",
                "/bostad/listings/{open}/withdraw", "/bostad/offers"]
STAFF_PAGES = ["/portal/staff/", "/portal/staff/faults/{fault}", "/portal/staff/invoices",
               "/portal/staff/laundry", "/portal/staff/accounts", "/bostad/staff/",
               "/bostad/staff/listings/{open}", "/bostad/staff/listings/{offered}",
               "/bostad/staff/applicants/{applicant}", "/bostad/staff/applicants/new"]


@pytest.mark.parametrize("look", LANGS)
@pytest.mark.parametrize("path", TENANT_PAGES)
def test_the_tenants_and_applicants_pages_have_no_serious_wcag_violations(world, pages, look,
                                                                          path):
    server, ids = world
    page = pages("tenant", look)
    assert_accessible(page, server.url + path.format(**ids))
    assert "/login" not in page.url  # the page itself, not the log-in


@pytest.mark.parametrize("look", LANGS)
@pytest.mark.parametrize("path", STAFF_PAGES)
def test_the_landlord_staffs_pages_have_no_serious_wcag_violations(world, pages, look, path):
    server, ids = world
    page = pages("staff", look)
    assert_accessible(page, server.url + path.format(**ids))
    assert "/login" not in page.url


# Each form sent with a mistake: (its page, what to fill in first, the field that is wrong).
MISTAKES = {
    "fault report": ("/portal/faults/new", {}, "category"),
    "message": ("/portal/messages", {}, "body"),
    "notice": ("/portal/agreements/{agreement}/notice", {}, "confirm"),
    "contact details": ("/portal/contact", {"#email": "inte-en-adress"}, "email"),
    "disturbance complaint": ("/portal/complaint", {}, "description"),
    "housing wishes": ("/bostad/wishes", {"#rooms_min": "99"}, "rooms_min"),
}
STAFF_MISTAKES = {
    "register an applicant": ("/bostad/staff/applicants/new",
                              {"#name": "Olle Older", "#personnummer": "12345"}, "personnummer"),
}


def _send_with_a_mistake(page, url: str, fill: dict, wrong: str) -> None:
    page.goto(url)
    for selector, value in fill.items():
        page.locator(selector).fill(value)
    page.locator("main form:has(button[type=submit]:not([name])) button[type=submit]").last.click()
    expect(page.locator(f"[name={wrong}][aria-invalid=true]").first).to_be_visible()
    for selector, value in fill.items():  # what was typed is kept, to be corrected
        expect(page.locator(selector)).to_have_value(value)


@pytest.mark.parametrize("look", LANGS)
@pytest.mark.parametrize("form", MISTAKES)
def test_the_tenants_forms_with_an_error_have_no_serious_wcag_violations(world, pages, look,
                                                                         form):
    server, ids = world
    path, fill, wrong = MISTAKES[form]
    page = pages("tenant", look)
    _send_with_a_mistake(page, server.url + path.format(**ids), fill, wrong)
    assert_accessible(page, state=f"{form} with an error")


@pytest.mark.parametrize("look", LANGS)
@pytest.mark.parametrize("form", STAFF_MISTAKES)
def test_the_staffs_forms_with_an_error_have_no_serious_wcag_violations(world, pages, look,
                                                                        form):
    server, ids = world
    path, fill, wrong = STAFF_MISTAKES[form]
    page = pages("staff", look)
    _send_with_a_mistake(page, server.url + path.format(**ids), fill, wrong)
    assert_accessible(page, state=f"{form} with an error")
