"""In Chromium against the Procfile's web process: a tenant sees invoices with a valid OCR,
files a fault report with a photo, books a laundry pass; a Finnish landlord's tenant gets the
Finnish UI. On a phone (390 px), in Swedish and Finnish, no page is wider than the screen,
amounts, dates and postcodes stay whole on one line, a partly paid invoice says what is left
to pay and a message keeps its line breaks. The tenant's session cookie is signed with the
server's secret (Flask's own session serializer), as the log-in would set it; no test-only
route exists."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time
from decimal import Decimal

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
from dispatch.models.portal import (
    FaultEvent,
    FaultReport,
    Invoice,
    LaundryPass,
    LaundryRoom,
    Payment,
    PortalMessage,
)
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


def _phone_tenant(session, landlord) -> tuple[Person, FaultReport]:
    """A tenant whose pages are the widest a phone sees: a flat with rooms, area and a long
    property designation, a partly paid overdue invoice, a fault report and a two-line
    message from the landlord."""
    person = _tenant(session, landlord, name="Sara Svensson", number=16, lgh="1203")
    flat = session.scalars(sa.select(RentalObject).where(
        RentalObject.objektsnummer == "16-1203")).one()
    flat.rooms, flat.area_m2 = Decimal("3"), Decimal("74.5")
    flat.entrance.real_property.designation = "Kvarteret Hornsbergsstrand 16"
    flat.entrance.postnummer = "11646"
    agreement = session.scalars(sa.select(Agreement).where(
        Agreement.avtalsnummer == "A-16")).one()
    invoice = Invoice(landlord_id=landlord.id, agreement_id=agreement.id,
                      invoice_number="2026110016", ocr=ocr_number("2026110016",
                                                                  length_digit=True),
                      amount_ore=1_234_550, issued_on=date(2026, 10, 15),
                      due_on=date(2026, 10, 31), period="2026-11")
    session.add(invoice)
    session.flush()
    session.add(Payment(landlord_id=landlord.id, agreement_id=agreement.id,
                        invoice_id=invoice.id, reference="BG-16-1", ocr=invoice.ocr,
                        amount_ore=1_000_000, paid_on=date(2026, 10, 30)))
    fault = FaultReport(landlord_id=landlord.id, person_id=person.id, object_id=flat.id,
                        category="ventilation", room="living_room",
                        description="Fläkten låter.",
                        created_at=datetime(2026, 11, 26, 21, 49, tzinfo=UTC))
    fault.events = [FaultEvent(status="received")]
    session.add(fault)
    session.flush()
    session.add(PortalMessage(landlord_id=landlord.id, person_id=person.id, from_staff=True,
                              kind="message", subject="Fläkten",
                              body="Vi kommer och tittar på fläkten nästa vecka.\nMvh Emil"))
    session.flush()
    return person, fault


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
        sara, sara_fault = _phone_tenant(session, shem)
        session.commit()
        people = {"anna": anna.id, "matti": matti.id, "fault": fault.id, "sara": sara.id,
                  "sara_fault": sara_fault.id}
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


PHONE = {"width": 390, "height": 844}
PHONE_PAGES = ["/portal/", "/portal/invoices", "/portal/faults", "/portal/faults/{sara_fault}",
               "/portal/faults/new", "/portal/messages", "/portal/laundry", "/portal/contact",
               "/portal/complaint"]
# Each of the page's amounts, dates, times and postcodes as laid out: its text, the lines it
# takes and whether it runs out of the content of its box (the table row, else the card, else
# the page) into the box's padding or beyond.
LAID_OUT_UNBROKEN = """() => [...document.querySelectorAll('.money, .nobr')].map(el => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const rects = [...range.getClientRects()].filter(r => r.width > 0);
    const box = el.closest('tr, .card, main');
    const style = getComputedStyle(box);
    const right = box.getBoundingClientRect().right - parseFloat(style.borderRightWidth)
        - parseFloat(style.paddingRight);
    return [el.textContent.trim(), new Set(rects.map(r => Math.round(r.top))).size,
            rects.some(r => r.right > right + 0.5)];
})"""


def _on_a_phone(browser, server, person_id, lang):
    context, page = _logged_in(browser, server, person_id, viewport=PHONE, has_touch=True,
                               is_mobile=True)
    page.goto(f"{server.url}/portal/?lang={lang}")  # the language stays with the session
    return context, page


@pytest.mark.parametrize("lang", ["sv", "fi"])
def test_no_portal_page_is_wider_than_a_phone(portal_server, browser, lang):
    server, people = portal_server
    context, page = _on_a_phone(browser, server, people["sara"], lang)
    wide = {}
    for path in PHONE_PAGES:
        page.goto(server.url + path.format(**people))
        assert "/login" not in page.url
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide[path] = width
    context.close()
    assert wide == {}


@pytest.mark.parametrize("lang", ["sv", "fi"])
def test_amounts_dates_and_postcodes_stay_whole_on_one_line_on_a_phone(portal_server, browser,
                                                                     lang):
    server, people = portal_server
    context, page = _on_a_phone(browser, server, people["sara"], lang)
    broken, seen = [], []
    for path in ("/portal/", "/portal/invoices", "/portal/faults", "/portal/messages"):
        page.goto(server.url + path)
        for text, lines, overflows in page.evaluate(LAID_OUT_UNBROKEN):
            seen.append(text)
            if lines != 1 or overflows:
                broken.append((path, text, lines, overflows))
    context.close()
    assert broken == []
    assert "2\u00a0345,50\u00a0kr" in " ".join(seen)  # the debt: 12 345,50 less 10 000 paid
    assert "116 46" in seen  # the postcode, printed as on the invoice PDF


def test_a_partly_paid_invoice_says_what_is_left_to_pay(portal_server, browser):
    server, people = portal_server
    context, page = _on_a_phone(browser, server, people["sara"], "en")
    page.goto(f"{server.url}/portal/invoices")
    status = page.locator("table.invoices td.status")
    expect(status).to_have_count(1)
    expect(status).to_contain_text("Overdue")
    expect(status.locator(".left-to-pay")).to_have_text("2,345.50\u00a0kr left to pay")
    context.close()


def test_a_message_shows_its_line_breaks_below_its_subject(portal_server, browser):
    server, people = portal_server
    context, page = _on_a_phone(browser, server, people["sara"], "sv")
    page.goto(f"{server.url}/portal/messages")
    message = page.locator(".thread li").filter(has_text="Fläkten")
    body = message.locator(".body")
    assert body.inner_text() == "Vi kommer och tittar på fläkten nästa vecka.\nMvh Emil"
    subject = message.locator(".subject").bounding_box()
    assert body.bounding_box()["y"] >= subject["y"] + subject["height"]
    context.close()
