"""Keyboard only, in Chromium (issue 18): a tenant registers for My pages (BankID: the QR step,
then the account form, with a mistake on the way), activates the account and logs in; and a
tenant joins the housing queue and registers an interest in a vacant flat. Only Tab,
Shift+Tab, Enter, Space and typing: at every step the focus is visible and moves on, and from
each form the focus gets out again. Against the Procfile's web process."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
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
from tests.browser.keyboard import assert_can_leave, assert_focus_shown, field, named, tab_to
from tests.conftest import _fresh_database_url
from tests.support.servers import LiveServer, wait_until
from tests.support.tenant_helpers import CURRENT

pytestmark = pytest.mark.browser
pytest_plugins = ["tests.support.reports", "tests.support.tenant_accounts"]

LINK = re.compile(r"https?://\S+/portal/activate/\S+")
APPLICANT = "200002292399"  # Skatteverket's test personnummer (domain-rules.md)
FOOTER = "Tillgänglighetsredogörelse"


@pytest.fixture(scope="module")
def walk_server(tmp_path_factory, smtp_server, _bankid_server):
    """The web process on a fresh database: one landlord (whose queue /bostad is) with Tove
    (an agreement in force, no account yet), Petra (an agreement and an activated account)
    and a vacant flat published in the queue; BankID at the local service, mail at the
    test's SMTP server."""
    url, drop = _fresh_database_url(tmp_path_factory, "keyboard")
    certs = _bankid_server.certificates
    server = LiveServer(url, tmp_path_factory.mktemp("keyboard"), extra_env={
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_server.port}",
        "BANKID_URL": _bankid_server.api_url, "BANKID_CERT": certs.client_cert,
        "BANKID_KEY": certs.client_key, "BANKID_CA": certs.ca}).start()
    engine = sa.create_engine(server.env["DATABASE_URL"])
    with Session(engine) as session:
        landlord = upsert_landlord(session, code="HEMMA", name="Hemma Bostäder")
        entrance = Entrance(landlord_id=landlord.id, street="Tangentvägen", street_number=5,
                            street_letter="", postnummer="11846", ort="Stockholm",
                            address_key="tangentvägen|5||11846", lat=59.31, lon=18.07,
                            position_source="file")
        session.add(entrance)
        session.flush()
        home, vacant = (RentalObject(landlord_id=landlord.id, entrance_id=entrance.id,
                                     objektsnummer=f"T-{n}", lagenhetsnummer=n, floor=1,
                                     rooms=Decimal(2), area_m2=Decimal(55),
                                     rent_sek=Decimal(7000)) for n in ("1101", "1102"))
        session.add_all([home, vacant])
        session.flush()
        for name, number, kundnummer in (("Tove Tenant", CURRENT, "K-1"),
                                         ("Petra Prövare", APPLICANT, "K-2")):
            person = Person(landlord_id=landlord.id, name=name, kundnummer=kundnummer,
                            personnummer=number)
            session.add(person)
            session.flush()
            agreement = Agreement(landlord_id=landlord.id, avtalsnummer=f"A-{kundnummer}",
                                  starts_on=date(2020, 1, 1))
            agreement.objects = [AgreementObject(object_id=home.id)]
            agreement.parties = [AgreementParty(person_id=person.id, position=1)]
            session.add(agreement)
            session.flush()
        found = tenants.identify(session, Identity(APPLICANT, "Petra Prövare", "SE"), "bankid",
                                 today=date.today(), ip=None)
        account = tenants.register(session, found.identification, email="petra@example.se",
                                   password="Kö#plats2026", locale=None, ip=None)
        tenants.activate(session, account, ip=None)
        housing.publish(session, vacant, now=utcnow() - timedelta(minutes=1),
                        vacant_on=date.today() + timedelta(days=30), days=7)
        session.commit()
    engine.dispose()
    yield server
    server.stop()
    drop()


@pytest.fixture
def keyboard_page(browser):
    context = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _log_in(page, url: str, email: str, password: str) -> None:
    """The portal's log-in form, by keyboard."""
    page.goto(url)
    tab_to(page, named("E-post"), where="log-in: e-mail")
    page.keyboard.type(email)
    tab_to(page, named("Lösenord"), where="log-in: password")
    page.keyboard.type(password)
    page.keyboard.press("Enter")


def test_a_tenant_registers_activates_and_logs_in_with_the_keyboard_alone(
        keyboard_page, walk_server, bankid, smtp_server, tmp_path):
    page = keyboard_page
    sink = smtp_server.handler
    sink.reset()
    page.goto(walk_server.url + "/portal/register")
    # The first Tab offers the skip link, visibly.
    page.keyboard.press("Tab")
    assert_focus_shown(page, "register: the skip link")
    tab_to(page, named("Identifiera dig med BankID"), where="register: BankID button")
    page.keyboard.press("Enter")

    # The QR step: the code on screen; the other ways on and off are reachable by keyboard.
    qr = page.locator("#bankid-qr")
    expect(qr).to_be_visible()
    tab_to(page, named("Öppna BankID på den här enheten"), where="BankID: same device")
    tab_to(page, named("Avbryt"), where="BankID: cancel")
    page.screenshot(path=str(tmp_path / "bankid-keyboard.png"))
    page.wait_for_function(
        "() => Number(document.getElementById('bankid-qr').dataset.qr.split('.')[2]) >= 1")
    assert bankid.scan(qrCode=qr.get_attribute("data-qr")).is_success
    assert bankid.sign(qrCode=qr.get_attribute("data-qr"), personalNumber=CURRENT,
                       name="Tove Tenant").is_success

    # The account form: a mistake first (the passwords differ), then right.
    page.wait_for_url("**/portal/register/account")
    tab_to(page, field("email"), where="account: e-mail")
    page.keyboard.type("tove@example.se")
    tab_to(page, field("password"), where="account: password")
    page.keyboard.type("Hyra#2026")
    tab_to(page, field("password2"), where="account: password again")
    page.keyboard.type("Hyra#2027")
    page.keyboard.press("Enter")
    error = page.locator("#password2-error")
    expect(error).to_be_visible()
    expect(page.locator("#email")).to_have_value("tove@example.se")  # nothing typed is lost
    # The focus is on the field that is wrong, which names its error.
    now = assert_focus_shown(page, "account: after the error")
    assert now["id"] == "password2"
    expect(page.locator("#password2")).to_have_attribute("aria-describedby", "password2-error")
    page.screenshot(path=str(tmp_path / "account-error.png"))
    tab_to(page, field("password"), back=True, where="account again: password")
    page.keyboard.type("Hyra#2026")
    tab_to(page, field("password2"), where="account again: password again")
    page.keyboard.type("Hyra#2026")
    # The submit button is the next stop, and shows it.
    tab_to(page, lambda now: now["tag"] in ("button", "input") and now["type"] == "submit",
           where="account: submit")
    assert_can_leave(page, last_name=FOOTER, where="account form")
    tab_to(page, lambda now: now["type"] == "submit", back=True, where="account: back to submit")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Titta i din e-post")).to_be_visible()

    mail = wait_until(lambda: sink.to("tove@example.se"), timeout=20)[0]
    page.goto(LINK.search(mail.get_body(("plain",)).get_content()).group(0))
    expect(page.get_by_text("Ditt konto är aktiverat.")).to_be_visible()
    tab_to(page, named("E-post"), where="log-in: e-mail")
    page.keyboard.type("tove@example.se")
    tab_to(page, named("Lösenord"), where="log-in: password")
    page.keyboard.type("Hyra#2026")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/portal/$"))
    tab_to(page, named("Avier"), where="My pages: the menu")
    page.screenshot(path=str(tmp_path / "portal-keyboard.png"))


def test_a_tenant_joins_the_queue_and_registers_an_interest_with_the_keyboard_alone(
        keyboard_page, walk_server, tmp_path):
    page = keyboard_page
    _log_in(page, walk_server.url + "/portal/login", "petra@example.se", "Kö#plats2026")
    page.wait_for_url(re.compile(r".*/portal/$"))
    page.goto(walk_server.url + "/bostad/")
    tab_to(page, named("Anmäl dig till intressebanken"), where="queue: register")
    page.screenshot(path=str(tmp_path / "queue-keyboard.png"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/bostad/wishes")
    expect(page.get_by_text("Du är anmäld till intressebanken.")).to_be_visible()
    assert_can_leave(page, last_name=FOOTER, where="wishes")
    # Back up to the menu and on to the vacant flats.
    tab_to(page, named("Lediga lägenheter"), back=True, where="wishes: menu")
    page.keyboard.press("Enter")
    page.wait_for_url("**/bostad/listings")
    tab_to(page, named("Anmäl intresse"), where="listings: interest")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Din intresseanmälan är registrerad.")).to_be_visible()
    tab_to(page, named("Återkalla min intresseanmälan"), where="listings: withdraw link")
    page.screenshot(path=str(tmp_path / "interest-keyboard.png"), full_page=True)
    assert_can_leave(page, last_name=FOOTER, where="listings")
