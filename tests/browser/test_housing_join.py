"""In Chromium (issue 16): a person who is not a tenant joins the housing queue from /bostad
through BankID (the animated QR code on screen; the local BankID service completes the order
when the simulated user scans the code shown and signs), chooses e-mail and password and lands
on the applicant pages, registered with 0 points and logged in; then registers an interest in
a vacant flat and withdraws it. The activation mail (a real SMTP server) carries no identity
number. Against the Procfile's web process."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from dispatch.housing import service
from dispatch.models import Entrance, RentalObject, utcnow
from dispatch.register.landlords import upsert_landlord
from tests.conftest import _fresh_database_url
from tests.support.servers import LiveServer, wait_until

pytestmark = pytest.mark.browser
pytest_plugins = ["tests.support.reports", "tests.support.tenant_accounts"]

NUMBER = "199001012385"  # Skatteverket's test personnummer; nobody of the register has it


@pytest.fixture(scope="module")
def queue_server(tmp_path_factory, smtp_server, _bankid_server):
    """The web process on a fresh database with one landlord (whose queue /bostad is) and no
    people; BankID pointing at the local service and mail at the test's SMTP server."""
    url, drop = _fresh_database_url(tmp_path_factory, "housingjoin")
    certs = _bankid_server.certificates
    server = LiveServer(url, tmp_path_factory.mktemp("housingjoin"), extra_env={
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_server.port}",
        "BANKID_URL": _bankid_server.api_url, "BANKID_CERT": certs.client_cert,
        "BANKID_KEY": certs.client_key, "BANKID_CA": certs.ca}).start()
    engine = sa.create_engine(server.env["DATABASE_URL"])
    with Session(engine) as session:
        landlord = upsert_landlord(session, code="HAMB", name="Hammaröbostäder")
        entrance = Entrance(landlord_id=landlord.id, street="Örsholmsvägen", street_number=3,
                            street_letter="", postnummer="66330", ort="Skoghall",
                            address_key="örsholmsvägen|3||66330", lat=59.32, lon=13.46,
                            position_source="file")
        session.add(entrance)
        session.flush()
        flat = RentalObject(landlord_id=landlord.id, entrance_id=entrance.id,
                            objektsnummer="H-1101", lagenhetsnummer="1101", floor=1,
                            rooms=Decimal(3), area_m2=Decimal(60), rent_sek=Decimal(8000))
        session.add(flat)
        session.flush()
        service.publish(session, flat, now=utcnow() - timedelta(minutes=1),
                        vacant_on=date.today() + timedelta(days=30), days=7)
        session.commit()
    engine.dispose()
    yield server
    server.stop()
    drop()


def test_a_non_tenant_joins_the_queue_through_bankid_and_lands_on_the_applicant_pages(
        page, queue_server, bankid, smtp_server, tmp_path):
    sink = smtp_server.handler
    sink.reset()
    errors = []
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    page.on("console", lambda m: errors.append(f"{m.text} {m.location.get('url')}")
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
            else None)
    page.goto(queue_server.url + "/bostad/")
    page.get_by_role("link", name="Ställ dig i intressebanken").click()
    page.wait_for_url("**/bostad/join")
    page.screenshot(path=str(tmp_path / "join.png"))
    page.get_by_role("button", name="Identifiera dig med BankID").click()

    qr = page.locator("#bankid-qr")
    expect(qr).to_be_visible()
    page.wait_for_function(
        "() => Number(document.getElementById('bankid-qr').dataset.qr.split('.')[2]) >= 1")
    assert bankid.scan(qrCode=qr.get_attribute("data-qr")).is_success
    expect(page.locator("#bankid-message")).to_have_text(
        "Skriv in din säkerhetskod i BankID-appen och välj Identifiera.")
    assert bankid.sign(qrCode=qr.get_attribute("data-qr"), personalNumber=NUMBER,
                       name="Olle Older").is_success

    page.wait_for_url("**/bostad/join/account")
    expect(page.get_by_text("Du är legitimerad som Olle Older.")).to_be_visible()
    page.get_by_label("E-post (ditt användarnamn, kan inte ändras)").fill("olle@example.se")
    page.get_by_label("Lösenord", exact=True).fill("Kö#plats2026")
    page.get_by_label("Lösenordet igen").fill("Kö#plats2026")
    page.get_by_role("button", name="Anmäl dig till intressebanken").click()

    page.wait_for_url("**/bostad/wishes")
    expect(page.get_by_role("heading", name="Mina önskemål")).to_be_visible()
    expect(page.get_by_text("Du är anmäld till intressebanken.")).to_be_visible()
    page.screenshot(path=str(tmp_path / "wishes.png"), full_page=True)
    page.get_by_role("link", name="Intressebanken", exact=True).first.click()
    expect(page.locator("[data-points]")).to_have_text("0 poäng")
    page.screenshot(path=str(tmp_path / "queue.png"), full_page=True)
    assert NUMBER not in page.url

    # Interest in the vacant flat, then withdrawn.
    page.get_by_role("link", name="Lediga lägenheter", exact=True).first.click()
    page.get_by_role("button", name="Anmäl intresse").click()
    expect(page.get_by_text("Din intresseanmälan är registrerad.")).to_be_visible()
    page.get_by_role("link", name="Återkalla min intresseanmälan").click()
    expect(page.get_by_text("Efter återkallandet kan du inte anmäla intresse för den här "
                            "lägenheten igen.")).to_be_visible()
    page.get_by_role("button", name="Återkalla min intresseanmälan").click()
    expect(page.get_by_text("Din intresseanmälan är återkallad.")).to_be_visible()
    expect(page.get_by_role("button", name="Anmäl intresse")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "withdrawn.png"), full_page=True)

    mail = wait_until(lambda: sink.to("olle@example.se"), timeout=20)[0]
    body = mail.get_body(("plain",)).get_content()
    assert NUMBER not in body and NUMBER[2:8] not in body
    assert re.search(r"https?://\S+/portal/activate/\S+", body)
    assert errors == []
