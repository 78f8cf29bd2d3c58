"""In Chromium against the Procfile's web process: a tenant sees invoices with a valid OCR,
files a fault report with a photo, books a laundry pass; a Finnish landlord's tenant gets the
Finnish UI. The tenant's session cookie is signed with the server's secret (Flask's own
session serializer), as the log-in would set it; no test-only route exists."""

from __future__ import annotations

import io
from datetime import date, time

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from dispatch.auth.service import upsert_user
from dispatch.models import (
    Agreement,
    AgreementObject,
    AgreementParty,
    Entrance,
    Landlord,
    Person,
    Property,
    RentalObject,
)
from dispatch.models.portal import FaultEvent, FaultReport, LaundryPass, LaundryRoom
from dispatch.portal.invoices import import_file
from dispatch.portal.rules import ocr_number, valid_ocr
from dispatch.portal.session import ACCOUNT_KEY, PERSON_KEY
from tests.conftest import _fresh_database_url
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser


def _tenant(session, landlord, *, name, number, lgh) -> Person:
    prop = Property(landlord_id=landlord.id, designation=f"Kvarteret {number}")
    session.add(prop)
    session.flush()
    entrance = Entrance(landlord_id=landlord.id, property_id=prop.id, street="Götgatan",
                        street_number=number, postnummer="11846", ort="Stockholm",
                        address_key=f"götgatan|{number}", lat=59.31, lon=18.07)
    session.add(entrance)
    session.flush()
    flat = RentalObject(landlord_id=landlord.id, entrance_id=entrance.id,
                        objektsnummer=f"{number}-{lgh}", lagenhetsnummer=lgh)
    person = Person(landlord_id=landlord.id, name=name, kundnummer=f"K-{number}",
                    email=f"{number}@example.se")
    session.add_all([flat, person])
    session.flush()
    agreement = Agreement(landlord_id=landlord.id, avtalsnummer=f"A-{number}",
                          starts_on=date(2020, 1, 1))
    agreement.objects = [AgreementObject(object_id=flat.id)]
    agreement.parties = [AgreementParty(person_id=person.id, position=1)]
    room = LaundryRoom(landlord_id=landlord.id, property_id=prop.id, name="Tvättstuga 1")
    room.passes = [LaundryPass(starts_at=time(h), ends_at=time(h + 3)) for h in (7, 10, 13)]
    session.add_all([agreement, room])
    session.flush()
    return person


@pytest.fixture(scope="module")
def portal_server(tmp_path_factory):
    url, drop = _fresh_database_url(tmp_path_factory, "portal")
    server = LiveServer(url, tmp_path_factory.mktemp("portal")).start()
    engine = sa.create_engine(server.env["DATABASE_URL"])
    with Session(engine) as session:
        shem = Landlord(code="SHEM", name="Stockholmshem", country="SE")
        heka = Landlord(code="HEKA", name="Heka", country="FI")
        session.add_all([shem, heka])
        session.flush()
        anna = _tenant(session, shem, name="Anna Andersson", number=12, lgh="1102")
        matti = _tenant(session, heka, name="Matti Virtanen", number=14, lgh="1001")
        ocr = ocr_number("2026120001", length_digit=True)
        result = import_file(session, shem, (
            "fakturanummer;avtalsnummer;ocr;belopp;fakturadatum;forfallodatum;period\n"
            f"2026120001;A-12;{ocr};8450,00;2026-11-15;2026-11-30;2026-12\n").encode(),
            actor="test")
        assert result.accepted, result.errors
        upsert_user(session, email="staff@shem.se", role="landlord", landlord=shem,
                    password="correct horse battery")
        flat = session.scalars(sa.select(RentalObject).where(
            RentalObject.landlord_id == shem.id)).first()
        fault = FaultReport(landlord_id=shem.id, person_id=anna.id, object_id=flat.id,
                            category="heating", room="bedroom", description="Elementet är kallt.")
        fault.events = [FaultEvent(status="received")]
        session.add(fault)
        session.commit()
        people = {"anna": anna.id, "matti": matti.id, "fault": fault.id}
    engine.dispose()
    yield server, people
    server.stop()
    drop()


def _logged_in(browser, server, person_id: int, **options):
    """A browser context carrying the tenant's session cookie, signed as the server signs."""
    signer = Flask(__name__)
    signer.secret_key = server.env["SECRET_KEY"]
    cookie = SecureCookieSessionInterface().get_signing_serializer(signer).dumps(
        {PERSON_KEY: person_id, ACCOUNT_KEY: 1})
    context = browser.new_context(locale="en-US", **options)
    context.add_cookies([{"name": "session", "value": cookie, "url": server.url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def test_tenant_sees_invoices_with_a_valid_ocr(portal_server, browser):
    server, people = portal_server
    context, page = _logged_in(browser, server, people["anna"])
    page.goto(f"{server.url}/portal/")
    expect(page.get_by_role("heading", name="Välkommen, Anna Andersson")).to_be_visible()
    page.get_by_role("link", name="Avier").click()
    expect(page.get_by_role("heading", name="Avier och betalningar")).to_be_visible()
    ocr = page.locator("td.ocr").first.inner_text()
    assert valid_ocr(ocr, length_digit=True)
    expect(page.get_by_role("cell", name="8 450,00 kr")).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith(".pdf")) as pdf:
        page.get_by_role("link", name="Öppna PDF").click()
    assert pdf.value.status == 200
    assert pdf.value.headers["content-type"] == "application/pdf"
    context.close()


def test_tenant_files_a_fault_report_with_a_photo(portal_server, browser, tmp_path):
    server, people = portal_server
    photo = tmp_path / "kran.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 120, 200)).save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())
    context, page = _logged_in(browser, server, people["anna"])
    page.goto(f"{server.url}/portal/faults")
    page.get_by_role("link", name="Gör en felanmälan").click()
    page.get_by_label("Kategori").select_option(label="Vatten eller avlopp")
    page.get_by_label("Rum").select_option(label="Badrum")
    page.get_by_label("Beskriv felet").fill("Kranen droppar hela tiden.")
    page.get_by_label("Foton (högst tre)").set_input_files(str(photo))
    page.get_by_label("Personalen får gå in med huvudnyckel").check()
    page.get_by_role("button", name="Skicka felanmälan").click()
    expect(page.get_by_role("status")).to_have_text("Din felanmälan är mottagen.")
    expect(page.get_by_role("heading", name="Felanmälan: Vatten eller avlopp")).to_be_visible()
    image = page.get_by_role("img", name="Foto 1")
    expect(image).to_be_visible()
    assert page.evaluate("img => img.naturalWidth", image.element_handle()) == 320
    expect(page.locator(".timeline li")).to_have_count(1)
    page.screenshot(path=str(tmp_path / "fault.png"), full_page=True)
    context.close()


def test_tenant_books_a_laundry_pass(portal_server, browser, tmp_path):
    server, people = portal_server
    context, page = _logged_in(browser, server, people["anna"], viewport={"width": 820,
                                                                        "height": 1180},
                               has_touch=True)
    page.goto(f"{server.url}/portal/laundry")
    expect(page.get_by_text("Du har inga bokningar.")).to_be_visible()
    first = page.locator("table.passes button").first
    label = first.get_attribute("aria-label")
    first.click()
    expect(page.get_by_role("status")).to_have_text("Passet är bokat.")
    expect(page.locator("ul.bookings li")).to_have_count(1)
    assert label.removeprefix("Boka ").split(",")[0].split(" ")[-1] in page.locator(
        "ul.bookings li").inner_text()
    page.screenshot(path=str(tmp_path / "laundry.png"), full_page=True)
    context.close()


def test_a_finnish_landlords_tenant_gets_the_finnish_ui(portal_server, browser, tmp_path):
    server, people = portal_server
    context, page = _logged_in(browser, server, people["matti"])
    page.goto(f"{server.url}/portal/")
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    expect(page.get_by_role("link", name="Laskut")).to_be_visible()
    expect(page.get_by_role("heading", name="Sopimus A-14")).to_be_visible()
    page.get_by_role("link", name="Pesutupa").click()
    expect(page.get_by_role("heading", name="Pesutuvan varaus")).to_be_visible()
    page.screenshot(path=str(tmp_path / "finnish.png"), full_page=True)
    page.get_by_role("link", name="Svenska").click()
    expect(page.get_by_role("heading", name="Boka tvättstuga")).to_be_visible()
    context.close()


def test_staff_plan_a_fault_and_the_tenant_sees_the_new_status(portal_server, browser,
                                                               tmp_path):
    server, people = portal_server
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{server.url}/portal/staff/")
    page.get_by_label("E-post").fill("staff@shem.se")
    page.get_by_label("Lösenord").fill("correct horse battery")
    page.keyboard.press("Enter")
    page.locator(f"a[href='/portal/staff/faults/{people['fault']}']").click()
    expect(page.get_by_role("heading", name="Felanmälan: Värme")).to_be_visible()
    page.get_by_label("Ny status").select_option(label="Planerad")
    page.get_by_label("Anteckning till hyresgästen").fill("Vi kommer på måndag.")
    page.get_by_role("button", name="Ändra status").click()
    expect(page.get_by_role("status")).to_have_text("Statusen är ändrad.")
    expect(page.locator(".timeline li")).to_have_count(2)
    page.screenshot(path=str(tmp_path / "staff.png"), full_page=True)
    context.close()
    context, page = _logged_in(browser, server, people["anna"])
    page.goto(f"{server.url}/portal/faults/{people['fault']}")
    expect(page.locator("dd.status")).to_have_text("Planerad")
    expect(page.get_by_text("Vi kommer på måndag.")).to_be_visible()
    context.close()


def test_staff_let_their_tenants_register_from_signing_on_the_account_policy_page(
        portal_server, browser, tmp_path):
    server, _people = portal_server
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{server.url}/portal/staff/accounts")
    page.get_by_label("E-post").fill("staff@shem.se")
    page.get_by_label("Lösenord").fill("correct horse battery")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Hyresgästkonton").click()
    expect(page.get_by_role("heading", name="Stockholmshem")).to_be_visible()
    expect(page.get_by_role("heading", name="Heka")).to_have_count(0)  # another landlord's
    box = page.get_by_label("Hyresgäster får registrera sig när avtalet är undertecknat")
    expect(box).not_to_be_checked()
    box.check()
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_role("status")).to_have_text(
        "Sparat: hyresgästerna hos Stockholmshem får registrera sig när avtalet är "
        "undertecknat.")
    expect(box).to_be_checked()
    page.screenshot(path=str(tmp_path / "account-policy.png"), full_page=True)
    context.close()
