"""In Chromium (issue 16), against the Procfile's web process:

- a case officer offers a vacant flat to a priority (förtur) applicant when priority already
  had its 20 % of the vacancies let in the last six months: the selection refuses, the page
  says why beside the quota figures, and no offer is made;
- a case officer publishes a vacant flat; the applicant whose saved wishes it matches gets the
  subscription mail at the local SMTP server, and its link opens the listing;
- a tenant applies to let their flat second-hand (a wrong period is shown next to its field,
  what was typed kept), a case officer approves it with a reason, and the tenant reads the
  decision on the page and in the mail.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from dispatch.auth.passwords import hash_password
from dispatch.housing import service
from dispatch.models import (
    Agreement,
    AgreementObject,
    AgreementParty,
    Entrance,
    Person,
    RentalObject,
    utcnow,
)
from dispatch.models.accounts import TenantAccount
from dispatch.models.housing import HousingOffer, HousingPriority
from dispatch.register.landlords import upsert_landlord
from tests.browser.axe import describe, violations
from tests.conftest import _fresh_database_url
from tests.support.servers import LiveServer, wait_until

pytestmark = pytest.mark.browser
pytest_plugins = ["tests.support.reports"]

PASSWORD = "correct horse battery"
OFFICER = "handlaggare@hammarobostader.se"
TENANT_PASSWORD = "Hyra#2026-andrahand"


@pytest.fixture(scope="module")
def queue_server(tmp_path_factory, smtp_server):
    """A web process on a fresh database: Hammaröbostäder with eight flats, four let through
    the queue in the last six months (one of them to priority), a published flat, a business
    priority applicant, a subscribing applicant who wants three rooms, and a case officer."""
    url, drop = _fresh_database_url(tmp_path_factory, "housingqueue")
    server = LiveServer(url, tmp_path_factory.mktemp("housingqueue"), extra_env={
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_server.port}"}).start()
    engine = sa.create_engine(server.env["DATABASE_URL"])
    today = date.today()
    with Session(engine) as session:
        landlord = upsert_landlord(session, code="HAMB", name="Hammaröbostäder")
        entrance = Entrance(landlord_id=landlord.id, street="Örsholmsvägen", street_number=3,
                            street_letter="", postnummer="66330", ort="Skoghall",
                            address_key="örsholmsvägen|3||66330", lat=59.32, lon=13.46,
                            position_source="file")
        session.add(entrance)
        session.flush()
        flats = []
        for n in range(8):
            flat = RentalObject(landlord_id=landlord.id, entrance_id=entrance.id,
                                objektsnummer=f"H-11{n:02d}", lagenhetsnummer=f"11{n:02d}",
                                floor=1, rooms=Decimal(3 if n == 7 else 2), area_m2=Decimal(60),
                                rent_sek=Decimal(7000))
            session.add(flat)
            flats.append(flat)
        session.flush()
        tenant = Person(landlord_id=landlord.id, name="Tidigare Sökande")
        session.add(tenant)
        session.flush()
        for n in range(4):  # four lets in the window, the first to priority
            listing = service.publish(session, flats[n], now=utcnow() - timedelta(days=60),
                                      vacant_on=today - timedelta(days=30), days=7)
            listing.status = "let"
            agreement = Agreement(landlord_id=landlord.id, avtalsnummer=f"HB-{n}",
                                  starts_on=today - timedelta(days=30))
            agreement.objects = [AgreementObject(object_id=flats[n].id)]
            agreement.parties = [AgreementParty(person_id=tenant.id, position=1)]
            session.add(agreement)
            session.flush()
            holder = Person(name=f"Hyresgäst {n}", personnummer="199001012385")
            session.add(holder)
            session.flush()
            queued = service.register(session, holder, landlord.id, today - timedelta(days=400))
            session.add(HousingOffer(listing_id=listing.id, applicant_id=queued.id, rank=1,
                                     points=300, deadline=utcnow() - timedelta(days=50),
                                     answer="accepted", agreement_id=agreement.id,
                                     priority_group="business" if n == 0 else None))
            session.flush()
        open_listing = service.publish(session, flats[4], now=utcnow() - timedelta(minutes=5),
                                       vacant_on=today + timedelta(days=30), days=7)
        needy = Person(name="Ylva Younger", personnummer="199908072391")
        session.add(needy)
        session.flush()
        priority_applicant = service.register(session, needy, landlord.id, today)
        session.add(HousingPriority(applicant_id=priority_applicant.id,
                                    priority_group="business", urgency=5,
                                    reason="Ny tillsvidareanställning på Hammarö",
                                    decided_on=today))
        subscriber = Person(name="Olle Older", email="olle@example.se",
                            personnummer="200002292399")
        session.add(subscriber)
        session.flush()
        wants = service.register(session, subscriber, landlord.id, today)
        wants.rooms_min, wants.subscribes = 3, True
        tove = Person(landlord_id=landlord.id, name="Tove Tenant", email="tove@example.se")
        session.add(tove)
        session.flush()
        home = Agreement(landlord_id=landlord.id, avtalsnummer="HB-77",
                         starts_on=today - timedelta(days=800))
        home.objects = [AgreementObject(object_id=flats[5].id)]
        home.parties = [AgreementParty(person_id=tove.id, position=1)]
        session.add(home)
        session.add(TenantAccount(email="tove@example.se", person_id=tove.id,
                                  password_hash=hash_password(TENANT_PASSWORD),
                                  identified_by="office", activated_at=utcnow()))
        session.commit()
        open_listing_id = open_listing.id
    engine.dispose()
    server.cli("create-user", "--role", "landlord", "--email", OFFICER, "--landlord", "HAMB",
               "--password", PASSWORD)
    yield server, open_listing_id
    server.stop()
    drop()


def _log_in(page, url: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("E-post").fill(OFFICER)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_label("Lösenord").press("Enter")
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()


def test_a_priority_offer_that_would_break_the_20_percent_quota_is_refused_with_the_reason(
        page, queue_server, tmp_path):
    server, listing_id = queue_server
    _log_in(page, server.url)
    page.goto(f"{server.url}/bostad/staff/listings/{listing_id}")
    priority = page.locator("section[aria-labelledby=priority]")
    expect(priority).to_contain_text(re.compile(r": 4, varav med förtur: 1 \(högst 20 %\)"))
    row = priority.locator("tr", has_text="Ylva Younger")
    expect(row).to_contain_text("Näringslivsförtur")
    row.get_by_role("button", name="Erbjud den här sökande").click()
    page.wait_for_url(f"**/bostad/staff/listings/{listing_id}")
    expect(page.get_by_text("Nekas: förtur skulle ta mer än 20 procent av de senaste sex "
                            "månadernas lediga lägenheter.")).to_be_visible()
    page.screenshot(path=str(tmp_path / "priority-refused.png"), full_page=True)
    found = violations(page)
    assert found == [], describe(found)
    expect(page.locator("table.offers")).to_have_count(0)  # no offer was made
    expect(page.locator("section[aria-labelledby=priority] tr",
                        has_text="Ylva Younger")).to_have_count(1)  # still waiting


def test_a_published_flat_reaches_the_subscriber_by_mail_and_the_link_opens_it(
        page, queue_server, smtp_server, tmp_path):
    server, _listing_id = queue_server
    sink = smtp_server.handler
    sink.reset()
    _log_in(page, server.url)
    page.goto(f"{server.url}/bostad/staff/")
    page.get_by_label("Lägenhet", exact=True).select_option(
        label="H-1107 · Örsholmsvägen 3 lgh 1107")
    page.get_by_role("button", name="Publicera", exact=True).click()
    expect(page.get_by_text("Lägenheten är publicerad.")).to_be_visible()

    mail = wait_until(lambda: sink.to("olle@example.se"), timeout=20)[0]
    assert mail["Subject"].startswith("En lägenhet som matchar dina önskemål")
    body = mail.get_body(("plain",)).get_content()
    (link,) = re.findall(r"http://\S+/bostad/listings/\d+", body)
    assert "200002292399" not in body

    reader = page.context.browser.new_context(locale="sv-SE")
    try:
        opened = reader.new_page()
        opened.goto(link)
        expect(opened.get_by_role("heading", name="Ledig lägenhet")).to_be_visible()
        expect(opened.get_by_role("heading", name="Örsholmsvägen 3 · lgh 1107")).to_be_visible()
        expect(opened.get_by_text("7\xa0000 kr")).to_be_visible()
        expect(opened.get_by_role("button", name="Logga ut")).to_have_count(0)  # a visitor
        opened.screenshot(path=str(tmp_path / "listing-from-mail.png"), full_page=True)
        found = violations(opened)
        assert found == [], describe(found)
    finally:
        reader.close()


def test_a_tenant_applies_to_let_second_hand_and_reads_the_officers_decision(
        browser, queue_server, smtp_server, tmp_path):
    server, _listing_id = queue_server
    sink = smtp_server.handler
    sink.reset()
    tenant = browser.new_context(locale="sv-SE")
    officer = browser.new_context(locale="sv-SE")
    try:
        page = tenant.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{server.url}/portal/login")
        page.get_by_label("E-post").fill("tove@example.se")
        page.get_by_label("Lösenord").fill(TENANT_PASSWORD)
        page.get_by_role("button", name="Logga in", exact=True).click()
        page.wait_for_url(re.compile(r".*/portal/(?!login).*"))
        page.goto(f"{server.url}/bostad/")
        page.get_by_role("link", name="Byte och andrahandsuthyrning").click()
        expect(page.get_by_role("heading",
                                name="Ansök om att hyra ut i andra hand")).to_be_visible()
        form = page.locator("form[action$='/bostad/tenancy/sublet']")
        form.get_by_label("Orsak").select_option(label="Studier på annan ort")
        start = date.today() + timedelta(days=14)
        form.get_by_label("Från").fill(start.isoformat())
        form.get_by_label("Till").fill(start.isoformat())
        form.get_by_label("Andrahandshyresgästens namn").fill("Sam Subtenant")
        form.get_by_role("button", name="Skicka ansökan").click()
        expect(page.locator("#ends_on-error")).to_have_text(
            "Slutdatumet måste vara efter startdatumet.")
        form = page.locator("form[action$='/bostad/tenancy/sublet']")
        expect(form.get_by_label("Andrahandshyresgästens namn")).to_have_value("Sam Subtenant")
        page.screenshot(path=str(tmp_path / "sublet-error.png"), full_page=True)
        found = violations(page)
        assert found == [], describe(found)
        form.get_by_label("Till").fill((start + timedelta(days=180)).isoformat())
        form.get_by_role("button", name="Skicka ansökan").click()
        expect(page.get_by_text("Din ansökan om andrahandsuthyrning är skickad.")).to_be_visible()
        expect(page.locator("ul.applications")).to_contain_text("Väntar på beslut")

        staff = officer.new_page()
        staff.set_default_timeout(15_000)
        _log_in(staff, server.url)
        staff.goto(f"{server.url}/bostad/staff/")
        staff.get_by_role("link", name="Byten och andrahandsuthyrning").click()
        staff.get_by_role("link", name="Andrahandsuthyrning", exact=True).click()
        expect(staff.get_by_text("Studier på annan ort")).to_be_visible()
        staff.get_by_label("Skäl (hyresgästen läser det)").fill("Antagningsbesked visat")
        staff.get_by_role("button", name="Godkänn").click()
        expect(staff.locator("[data-status]")).to_have_text("Godkänd")
        staff.screenshot(path=str(tmp_path / "sublet-decided.png"), full_page=True)
        found = violations(staff)
        assert found == [], describe(found)

        mail = wait_until(lambda: sink.to("tove@example.se"), timeout=20)[0]
        assert mail["Subject"] == "Din ansökan om andrahandsuthyrning är godkänd"
        assert "Skäl: Antagningsbesked visat" in mail.get_body(("plain",)).get_content()
        page.reload()
        expect(page.locator("ul.applications")).to_contain_text("Godkänd")
        expect(page.locator("ul.applications")).to_contain_text("Antagningsbesked visat")
        page.screenshot(path=str(tmp_path / "sublet-approved.png"), full_page=True)
    finally:
        tenant.close()
        officer.close()
