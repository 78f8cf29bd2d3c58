"""Against the Procfile's web process: BoDirekt is first come, first served by the server's
timestamp when applicants press at the same moment (parallel requests), and a double press
by one applicant is one interest; in Chromium, an applicant's whole path (register, wishes,
interest, offer, accept). Sessions are signed as the server signs them (Flask's serializer),
as the portal's log-in would set them."""

from __future__ import annotations

import os
import re
import threading
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from dispatch.housing import service
from dispatch.models import Entrance, Landlord, Person, RentalObject, utcnow
from dispatch.models.housing import HousingApplicant, HousingInterest, HousingOffer
from dispatch.portal.session import ACCOUNT_KEY, PERSON_KEY
from tests.conftest import _fresh_database_url
from tests.support.servers import LiveServer

TZ = ZoneInfo("Europe/Stockholm")
# Set to a folder to keep a screenshot of the offers page (to look at it).
SCREENSHOTS = os.environ.get("HOUSING_SCREENSHOTS")
# Official test personnummer only (Skatteverket's): one per applicant.
NUMBERS = ["199001012385", "199908072391", "200002292399", "201701012393"]


@pytest.fixture(scope="module")
def queue_server(tmp_path_factory):
    url, drop = _fresh_database_url(tmp_path_factory, "housing")
    server = LiveServer(url, tmp_path_factory.mktemp("housing")).start()
    engine = sa.create_engine(server.env["DATABASE_URL"])
    with Session(engine) as session:
        landlord = Landlord(code="HAMB", name="Hammaröbostäder", country="SE")
        session.add(landlord)
        session.flush()
        entrance = Entrance(landlord_id=landlord.id, street="Örsholmsvägen", street_number=3,
                            postnummer="66330", ort="Skoghall", address_key="örsholmsvägen|3",
                            lat=59.32, lon=13.46)
        session.add(entrance)
        session.flush()
        session.commit()
        ids = {"landlord": landlord.id, "entrance": entrance.id}
    yield server, engine, ids
    engine.dispose()
    server.stop()
    drop()


def _cookie(server, person_id: int) -> str:
    signer = Flask(__name__)
    signer.secret_key = server.env["SECRET_KEY"]
    return SecureCookieSessionInterface().get_signing_serializer(signer).dumps(
        {PERSON_KEY: person_id, ACCOUNT_KEY: 1})


def _flat(session, ids, number: str) -> RentalObject:
    flat = RentalObject(landlord_id=ids["landlord"], entrance_id=ids["entrance"],
                        objektsnummer=number, lagenhetsnummer="1101", floor=1,
                        rooms=Decimal(2), area_m2=Decimal(55), rent_sek=Decimal(6000))
    session.add(flat)
    session.flush()
    return flat


def _applicants(session, ids, count: int, tag: str) -> list[int]:
    """``count`` registered people (the test numbers repeat across people: the queue keys on
    the person, and only these numbers may be used)."""
    today = service.local_today(TZ)
    people = []
    for i in range(count):
        person = Person(name=f"Sökande {tag}{i}", personnummer=NUMBERS[i % 2],
                        email=f"{tag}{i}@example.se")
        session.add(person)
        session.flush()
        service.register(session, person, ids["landlord"], today)
        people.append(person.id)
    return people


def _client(server, person_id: int) -> tuple[requests.Session, str]:
    client = requests.Session()
    client.cookies.set("session", _cookie(server, person_id), domain="127.0.0.1", path="/")
    page = client.get(f"{server.url}/bostad/listings", timeout=10).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return client, token


def _parallel(calls) -> list:
    """Run the calls at the same moment (a barrier), each in its own thread."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_bodirekt_goes_to_the_first_interest_by_server_timestamp_under_parallel_presses(
        queue_server):
    server, engine, ids = queue_server
    with Session(engine) as session:
        flat = _flat(session, ids, "BD-1")
        listing = service.publish(session, flat, now=utcnow() - timedelta(minutes=1),
                                  vacant_on=date.today() + timedelta(days=10), days=3,
                                  bodirekt=True)
        people = _applicants(session, ids, 12, "bd")
        session.commit()
        listing_id = listing.id
    clients = [_client(server, person) for person in people]
    url = f"{server.url}/bostad/listings/{listing_id}/interest"
    results = _parallel([
        (lambda c=c, t=t: c.post(url, data={"csrf_token": t}, allow_redirects=False,
                                 timeout=30).status_code)
        for c, t in clients])
    assert results == [303] * len(clients)
    with Session(engine) as session:
        interests = list(session.scalars(sa.select(HousingInterest).where(
            HousingInterest.listing_id == listing_id)))
        assert len(interests) == len(people)
        first = min(interests, key=lambda i: (i.created_at, i.id))
        listing = session.get(service.HousingListing, listing_id)
        (offer,) = service.make_offers(session, listing, today=service.local_today(TZ),
                                       count=1, deadline=utcnow() + timedelta(days=2),
                                       staff_user_id=None, retention_days=90)
        assert offer.applicant_id == first.applicant_id
        session.rollback()


def test_one_applicant_pressing_five_times_at_once_has_one_interest(queue_server):
    server, engine, ids = queue_server
    with Session(engine) as session:
        flat = _flat(session, ids, "BD-2")
        listing = service.publish(session, flat, now=utcnow() - timedelta(minutes=1),
                                  vacant_on=date.today() + timedelta(days=10), days=3,
                                  bodirekt=True)
        (person,) = _applicants(session, ids, 1, "dbl")
        session.commit()
        listing_id = listing.id
    client, token = _client(server, person)
    url = f"{server.url}/bostad/listings/{listing_id}/interest"
    results = _parallel([
        (lambda: client.post(url, data={"csrf_token": token}, allow_redirects=False,
                             timeout=30).status_code)] * 5)
    assert results == [303] * 5
    with Session(engine) as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(HousingInterest).where(
            HousingInterest.listing_id == listing_id))
        assert count == 1


@pytest.mark.browser
def test_an_applicant_registers_wishes_applies_and_accepts_in_chromium(
        queue_server, browser, tmp_path):
    server, engine, ids = queue_server
    with Session(engine) as session:
        flat = _flat(session, ids, "BR-1")
        listing = service.publish(session, flat, now=utcnow() - timedelta(minutes=1),
                                  vacant_on=date.today() + timedelta(days=40), days=7)
        person = Person(name="Olle Older", personnummer="199001012385",
                        email="olle.browser@example.se")
        session.add(person)
        session.commit()
        person_id, listing_id = person.id, listing.id
    context = browser.new_context(locale="sv-SE", viewport={"width": 1024, "height": 900})
    context.add_cookies([{"name": "session", "value": _cookie(server, person_id),
                          "url": server.url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{server.url}/bostad/")
    page.get_by_role("button", name="Anmäl dig till intressebanken").click()
    expect(page.get_by_role("status")).to_contain_text("Du är anmäld till intressebanken")
    expect(page.get_by_role("heading", name="Mina önskemål")).to_be_visible()
    page.get_by_label("Områden (skilj med kommatecken)").fill("Skoghall")
    page.get_by_label("Antal rum, minst").fill("2")
    page.get_by_label("Lägsta våning").fill("99")
    page.get_by_label("Hushållets inkomst per år (kr)").fill("300\u00a0000")
    page.get_by_label("Lön från anställning").check()
    page.get_by_role("button", name="Spara").click()
    # The error says the allowed range (in words the catalogue may not have yet: either).
    expect(page.get_by_role("alert")).to_have_text(
        re.compile(r"^(Ange ett tal mellan|Give a number between) -5 (och|and) 50\.$"))
    expect(page.get_by_label("Områden (skilj med kommatecken)")).to_have_value("Skoghall")
    expect(page.get_by_label("Hushållets inkomst per år (kr)")).to_have_value("300\u00a0000")
    expect(page.get_by_label("Lön från anställning")).to_be_checked()
    page.get_by_label("Lägsta våning").fill("0")
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_role("status")).to_have_text("Dina önskemål är sparade.")
    expect(page.get_by_label("Hushållets inkomst per år (kr)")).to_have_value("300000")
    page.get_by_role("link", name="Lediga lägenheter").click()
    page.locator(f'[data-listing="{listing_id}"]').get_by_role(
        "button", name="Anmäl intresse").click()
    expect(page.get_by_role("status").first).to_have_text("Din intresseanmälan är registrerad.")
    with Session(engine) as session:
        listing = session.get(service.HousingListing, listing_id)
        service.make_offers(session, listing, today=service.local_today(TZ), count=1,
                            deadline=utcnow() + timedelta(days=3), staff_user_id=None,
                            retention_days=90)
        session.commit()
    page.get_by_role("link", name="Mina erbjudanden").click()
    page.get_by_role("button", name="Tacka ja").click()
    expect(page.get_by_role("status")).to_contain_text("Du har tackat ja")
    expect(page.locator("[data-offer] strong")).to_have_text("Accepterad")
    expect(page.get_by_role("button", name="Tacka ja")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "offers.png"), full_page=True)
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/housing-offers.png", full_page=True)
    with Session(engine) as session:
        offer = session.scalar(sa.select(HousingOffer).join(HousingApplicant).where(
            HousingApplicant.person_id == person_id))
        assert offer.answer == "accepted"
    context.close()


@pytest.mark.browser
def test_a_case_officer_sees_the_ranked_list_and_offers_in_chromium(queue_server, browser):
    server, engine, ids = queue_server
    server.cli("create-user", "--role", "landlord", "--landlord", "HAMB", "--email",
               "handlaggare@hammaro.example.se", "--password", "correct horse battery")
    with Session(engine) as session:
        flat = _flat(session, ids, "ST-1")
        listing = service.publish(session, flat, now=utcnow() - timedelta(minutes=1),
                                  vacant_on=date.today() + timedelta(days=40), days=7)
        people = _applicants(session, ids, 3, "st")
        session.commit()
        listing_id = listing.id
    for person in people:
        client, token = _client(server, person)
        assert client.post(f"{server.url}/bostad/listings/{listing_id}/interest",
                           data={"csrf_token": token}, allow_redirects=False,
                           timeout=30).status_code == 303
    context = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{server.url}/login")
    page.get_by_label("E-post").fill("handlaggare@hammaro.example.se")
    page.get_by_label("Lösenord").fill("correct horse battery")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{server.url}/bostad/staff/listings/{listing_id}")
    expect(page.get_by_text("3 sökande har anmält intresse.")).to_be_visible()
    expect(page.locator("table.ranked tbody tr")).to_have_count(3)
    page.get_by_label("Antal sökande").fill("2")
    page.get_by_role("button", name="Skicka erbjudanden").click()
    expect(page.get_by_role("status")).to_have_text("Erbjudandena är skickade.")
    expect(page.locator("table.offers tbody tr")).to_have_count(2)
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/housing-staff.png", full_page=True)
    context.close()
