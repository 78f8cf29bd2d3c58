"""In Chromium (issue 15): a tenant registers through BankID — the animated QR code on screen,
the local BankID service (mutual TLS) completes the order when the simulated user scans the
code shown and signs — chooses e-mail and password, opens the activation link from the mail
(a real SMTP server), logs in and reaches the portal. Against the Procfile's web process."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from dispatch.models import Agreement, AgreementParty, Person
from dispatch.register.landlords import upsert_landlord
from tests.conftest import _fresh_database_url
from tests.support.servers import LiveServer, wait_until
from tests.support.tenant_helpers import CURRENT

pytestmark = pytest.mark.browser
pytest_plugins = ["tests.support.reports", "tests.support.tenant_accounts"]

LINK = re.compile(r"https?://\S+/portal/activate/\S+")


@pytest.fixture(scope="module")
def portal_server(tmp_path_factory, smtp_server, _bankid_server):
    """The web process on a fresh database with one tenant (an agreement in force), BankID
    pointing at the local service and mail at the test's SMTP server."""
    url, drop = _fresh_database_url(tmp_path_factory, "portal")
    certs = _bankid_server.certificates
    server = LiveServer(url, tmp_path_factory.mktemp("portal"), extra_env={
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_server.port}",
        "BANKID_URL": _bankid_server.api_url, "BANKID_CERT": certs.client_cert,
        "BANKID_KEY": certs.client_key, "BANKID_CA": certs.ca}).start()
    engine = sa.create_engine(server.env["DATABASE_URL"])
    with Session(engine) as session:
        landlord = upsert_landlord(session, code="HEMMA", name="Hemma Bostäder")
        person = Person(landlord_id=landlord.id, name="Tove Tenant", kundnummer="K-1",
                        personnummer=CURRENT)
        session.add(person)
        session.flush()
        agreement = Agreement(landlord_id=landlord.id, avtalsnummer="A-1",
                              starts_on=date(2020, 1, 1))
        agreement.parties = [AgreementParty(person_id=person.id, position=1)]
        session.add(agreement)
        session.commit()
    engine.dispose()
    yield server
    server.stop()
    drop()


def test_tenant_registers_with_bankid_activates_by_mail_and_logs_in(
        page, portal_server, bankid, smtp_server, tmp_path):
    sink = smtp_server.handler
    sink.reset()
    errors = []
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    # A CSP violation (the QR image, the polling script) shows as a console error.
    page.on("console", lambda m: errors.append(f"{m.text} {m.location.get('url')}")
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
            else None)
    page.goto(portal_server.url + "/portal/register")
    page.get_by_role("button", name="Identifiera dig med BankID").click()

    qr = page.locator("#bankid-qr")
    expect(qr).to_be_visible()
    expect(page.locator("#bankid-message")).to_have_text(
        "Starta BankID-appen och skanna QR-koden.")
    # The code is animated: a new one every second, as the user's app expects.
    page.wait_for_function(
        "() => Number(document.getElementById('bankid-qr').dataset.qr.split('.')[2]) >= 2")
    assert qr.evaluate("img => img.naturalWidth") > 0
    page.screenshot(path=str(tmp_path / "bankid-qr.png"))

    shown = qr.get_attribute("data-qr")
    assert bankid.scan(qrCode=shown).is_success  # the user's app read the code on screen
    expect(page.locator("#bankid-message")).to_have_text(
        "Skriv in din säkerhetskod i BankID-appen och välj Identifiera.")
    assert bankid.sign(qrCode=qr.get_attribute("data-qr"), personalNumber=CURRENT,
                       name="Tove Tenant").is_success

    page.wait_for_url("**/portal/register/account")
    page.get_by_label("E-post (ditt användarnamn, kan inte ändras)").fill("tove@example.se")
    page.get_by_label("Lösenord", exact=True).fill("Hyra#2026")
    page.get_by_label("Lösenordet igen").fill("Hyra#2026")
    page.get_by_role("button", name="Skapa konto").click()
    expect(page.get_by_role("heading", name="Titta i din e-post")).to_be_visible()

    mail = wait_until(lambda: sink.to("tove@example.se"), timeout=20)[0]
    body = mail.get_body(("plain",)).get_content()
    assert CURRENT not in body
    page.goto(LINK.search(body).group(0))
    expect(page.get_by_text("Ditt konto är aktiverat.")).to_be_visible()

    page.get_by_label("E-post").fill("tove@example.se")
    page.get_by_label("Lösenord").fill("Hyra#2026")
    page.get_by_role("button", name="Logga in", exact=True).click()
    page.wait_for_url(re.compile(r".*/portal/(?!login).*"))
    assert "/portal/login" not in page.url
    page.screenshot(path=str(tmp_path / "portal-first-page.png"))
    assert errors == []
