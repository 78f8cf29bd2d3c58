"""People who are not tenants in the queue (issue 16): joining online through BankID (the
register's person found or made with no landlord, the number stored once in 12 digits, 16 or
older), one account that opens the queue only, log-in with the portal's e-mail and password
page landing on /bostad, the tenant pages answering "no agreement", every log-in renewing the
registration, and withdrawing an interest."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
import requests
from flask import g
from sqlalchemy import func, select

from dispatch.auth import tenants
from dispatch.housing import points, service
from dispatch.models import AuditEvent, Person, utcnow
from dispatch.models.accounts import TenantAccount, TenantIdentification
from dispatch.models.housing import HousingApplicant, HousingInterest, HousingOffer
from dispatch.portal.session import ACCOUNT_KEY, PERSON_KEY, QUEUE_ONLY_KEY
from tests.housing.conftest import TZ, csrf_of, log_in

pytest_plugins = ["tests.support.tenant_accounts", "tests.support.reports"]

GOOD = "Kö#plats2026"
OLLE = "199001012385"  # queue.older: in the register with no landlord, no agreement
YLVA = "199908072391"  # queue.younger
CHILD = "201701012393"  # queue.child: born 2017


@pytest.fixture(autouse=True)
def _the_queue_of_hammarobostader(app):
    app.config["HOUSING_LANDLORD"] = "HAMB"


def _today():
    return service.local_today(TZ)


def join_with_bankid(client, bankid, number, name="Olle Older"):
    """The visitor's browser through /bostad/join and our BankID page; the simulated user scans
    the QR code shown and signs. Returns the last collect's JSON."""
    token = csrf_of(client, "/bostad/join")
    page = client.post("/bostad/join/bankid", data={"csrf_token": token})
    assert page.status_code == 200
    qr = re.search(r'data-qr="([^"]+)"', page.get_data(as_text=True)).group(1)
    pending = client.post("/bostad/join/bankid/collect", headers={"X-CSRFToken": token})
    assert pending.get_json()["status"] == "pending"
    assert bankid.sign(qrCode=qr, personalNumber=number, name=name).is_success
    return client.post("/bostad/join/bankid/collect", headers={"X-CSRFToken": token}).get_json()


def choose_account(client, email="olle@example.se", password=GOOD, password2=None):
    token = csrf_of(client, "/bostad/join/account")
    return client.post("/bostad/join/account", data={
        "csrf_token": token, "email": email, "password": password,
        "password2": password if password2 is None else password2})


def portal_log_in(client, email="olle@example.se", password=GOOD):
    token = csrf_of(client, "/portal/login")
    return client.post("/portal/login", data={"csrf_token": token, "email": email,
                                              "password": password})


def test_a_non_tenant_joins_through_bankid_and_is_registered_and_logged_in_to_the_queue(
        app, client, db_session, queue, bankid, smtp):
    done = join_with_bankid(client, bankid, OLLE)
    assert done == {"status": "complete", "next": "/bostad/join/account"}
    created = choose_account(client)
    assert created.status_code == 303 and created.location.endswith("/bostad/wishes")

    account = db_session.scalar(select(TenantAccount))
    assert (account.person_id, account.email) == (queue.older.id, "olle@example.se")
    applicant = db_session.scalar(select(HousingApplicant))
    assert (applicant.person_id, applicant.registered_on) == (queue.older.id, _today())
    with client.session_transaction() as session:
        assert session[PERSON_KEY] == queue.older.id and session[ACCOUNT_KEY] == account.id
        assert session[QUEUE_ONLY_KEY] is True
    assert "data-points>0 poäng" in client.get("/bostad/").get_data(as_text=True)
    # One person: the register's row with the number was used, not a second one.
    assert db_session.scalar(select(func.count(Person.id)).where(
        Person.personnummer == OLLE)) == 1

    [mail] = smtp.to("olle@example.se")
    body = mail.get_body(("plain",)).get_content() + str(mail["Subject"])
    assert OLLE not in body and OLLE[2:8] not in body  # the link only, no identity number
    link = re.search(r"https?://\S+", body).group(0)
    assert "/portal/activate/" in link
    other = app.test_client()  # another browser
    assert other.get(re.sub(r"^https?://[^/]+", "", link)).status_code == 302
    # Activated: the e-mail and password now log in on the portal's page, to the queue.
    g.pop("csrf_token", None)  # the tests' app context outlives requests: no cached token
    answer = portal_log_in(other)
    assert answer.status_code == 302, answer.get_data(as_text=True)[-3000:]
    assert answer.status_code == 302 and answer.location.endswith("/bostad/")


def test_an_unknown_person_is_made_once_with_no_landlord_and_the_12_digit_number(
        client, db_session, queue, bankid, smtp):
    db_session.delete(queue.younger)
    db_session.flush()
    join_with_bankid(client, bankid, YLVA, name="Ylva Younger")
    assert choose_account(client, email="ylva@example.se").status_code == 303
    [person] = db_session.scalars(select(Person).where(Person.personnummer == YLVA))
    assert person.landlord_id is None and person.name == "Ylva Younger"
    assert db_session.scalar(select(HousingApplicant.person_id)) == person.id


def test_a_child_under_16_is_refused_and_gets_no_account(client, db_session, queue, bankid):
    done = join_with_bankid(client, bankid, CHILD, name="Kim Child")
    assert done["next"] == "/bostad/join"
    page = client.get("/bostad/join").get_data(as_text=True)
    assert "16 år" in page
    assert db_session.scalar(select(func.count(TenantAccount.id))) == 0
    assert db_session.scalar(select(func.count(HousingApplicant.id))) == 0


def test_the_account_form_keeps_the_email_and_says_what_the_password_lacks(
        client, db_session, queue, bankid):
    join_with_bankid(client, bankid, OLLE)
    answer = choose_account(client, email="olle@example.se", password="kort")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'value="olle@example.se"' in page and 'id="password-error"' in page
    assert db_session.scalar(select(func.count(HousingApplicant.id))) == 0


def _activated_applicant(db_session, queue, renewed_days_ago=100):
    """Olle with an activated account and a registration last renewed some days ago."""
    identification = TenantIdentification(person_id=queue.older.id, method="bankid")
    db_session.add(identification)
    db_session.flush()
    account = tenants.register(db_session, identification, email="olle@example.se",
                               password=GOOD, locale="sv", ip=None)
    account.activated_at = utcnow()
    day = _today() - timedelta(days=renewed_days_ago)
    applicant = service.register(db_session, queue.older, queue.landlord.id, day)
    db_session.flush()
    return account, applicant


def test_a_queue_applicant_logs_in_on_the_portal_page_and_lands_on_the_queue(
        client, db_session, queue):
    _activated_applicant(db_session, queue)
    answer = portal_log_in(client)
    assert answer.status_code == 302 and answer.location.endswith("/bostad/")
    assert client.get("/bostad/").status_code == 200


def test_every_log_in_renews_the_registration_for_twelve_months(client, db_session, queue):
    _account, applicant = _activated_applicant(db_session, queue, renewed_days_ago=100)
    assert portal_log_in(client).status_code == 302
    db_session.refresh(applicant)
    assert applicant.renewed_on == _today()
    assert db_session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "housing.renewed")) == 1


def test_the_tenant_pages_tell_a_queue_applicant_they_have_no_agreement(
        client, db_session, queue):
    _activated_applicant(db_session, queue)
    portal_log_in(client)
    for path in ("/portal/", "/portal/invoices"):
        answer = client.get(path)
        page = answer.get_data(as_text=True)
        assert answer.status_code == 403, path
        assert 'id="no-agreement"' in page and 'href="/bostad/"' in page


def test_a_person_with_no_agreement_and_no_registration_may_still_not_log_in(
        client, db_session, queue):
    _account, applicant = _activated_applicant(db_session, queue)
    applicant.status = "removed"
    db_session.flush()
    answer = portal_log_in(client)
    assert answer.status_code == 403
    with client.session_transaction() as session:
        assert PERSON_KEY not in session


def test_an_applicants_account_is_not_purged_while_they_are_in_the_queue(db_session, queue):
    account, _applicant = _activated_applicant(db_session, queue)
    account.agreement_ended_on = utcnow() - timedelta(days=400)
    assert tenants.purge_ended(db_session, today=_today(), keep_days=30) == 0
    assert db_session.get(TenantAccount, account.id) is not None


def test_a_known_account_joining_again_through_bankid_is_logged_in_and_renewed(
        client, db_session, queue, bankid):
    _account, applicant = _activated_applicant(db_session, queue, renewed_days_ago=50)
    done = join_with_bankid(client, bankid, OLLE)
    assert done == {"status": "complete", "next": "/bostad/"}
    db_session.refresh(applicant)
    assert applicant.renewed_on == _today()


# --- withdrawing an interest ---------------------------------------------------------------

def _listing(db_session, queue):
    return service.publish(db_session, queue.flat, now=utcnow() - timedelta(minutes=1),
                           vacant_on=_today() + timedelta(days=30), days=7)


def test_an_applicant_withdraws_an_interest_and_cannot_register_it_again(
        client, db_session, queue):
    applicant = service.register(db_session, queue.older, queue.landlord.id, _today())
    listing = _listing(db_session, queue)
    service.register_interest(db_session, applicant, listing, now=utcnow(), tz=TZ)
    log_in(client, queue.older)
    asked = client.get(f"/bostad/listings/{listing.id}/withdraw")
    assert asked.status_code == 200 and db_session.scalar(
        select(HousingInterest.withdrawn_at)) is None  # asking first withdraws nothing
    token = csrf_of(client, f"/bostad/listings/{listing.id}/withdraw")
    answer = client.post(f"/bostad/listings/{listing.id}/withdraw",
                         data={"csrf_token": token})
    assert answer.status_code == 303
    interest = db_session.scalar(select(HousingInterest))
    assert interest.withdrawn_at is not None
    page = client.get("/bostad/listings").get_data(as_text=True)
    assert "Du har återkallat din intresseanmälan" in page
    assert db_session.scalar(select(AuditEvent.action).where(
        AuditEvent.action == "housing.interest_withdrawn")) is not None
    with pytest.raises(service.QueueError) as refused:
        service.register_interest(db_session, applicant, listing, now=utcnow(), tz=TZ)
    assert refused.value.code == "withdrawn"


def test_an_interest_with_an_open_offer_is_answered_not_withdrawn(db_session, queue):
    applicant = service.register(db_session, queue.older, queue.landlord.id, _today())
    listing = _listing(db_session, queue)
    service.register_interest(db_session, applicant, listing, now=utcnow(), tz=TZ)
    db_session.add(HousingOffer(listing_id=listing.id, applicant_id=applicant.id, rank=1,
                                points=0, deadline=utcnow() + timedelta(days=3)))
    db_session.flush()
    with pytest.raises(service.QueueError) as refused:
        service.withdraw_interest(db_session, applicant, listing, now=utcnow())
    assert refused.value.code == "answer_offer"


def test_withdrawing_an_interest_never_registered_is_refused(db_session, queue):
    applicant = service.register(db_session, queue.older, queue.landlord.id, _today())
    listing = _listing(db_session, queue)
    with pytest.raises(service.QueueError) as refused:
        service.withdraw_interest(db_session, applicant, listing, now=utcnow())
    assert refused.value.code == "no_interest"


# --- the Finnish e-identification ----------------------------------------------------------

def test_the_age_of_a_finnish_applicant_comes_from_the_hetu():
    assert points.birth_date("010594Y9032") == date(1994, 5, 1)
    assert points.birth_date("131052-308T") == date(1952, 10, 13)
    assert points.may_register("010594Y9032", date(2026, 11, 26))


def test_a_person_joins_through_the_finnish_e_identification(client, db_session, queue,
                                                             oidc_provider):
    start = client.get("/bostad/join/fi")
    assert start.status_code == 302
    back = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text
    parts = urlsplit(back.headers["Location"])
    callback = client.get(f"{parts.path}?{parts.query}")
    assert callback.status_code == 302 and callback.location.endswith("/bostad/join/account")
    assert choose_account(client, email="fia@example.fi").status_code == 303
    [person] = db_session.scalars(select(Person).where(Person.personnummer == "010594Y9032"))
    assert person.landlord_id is None
    assert db_session.scalar(select(HousingApplicant.person_id)) == person.id


def test_a_queue_applicant_logs_in_with_bankid_on_the_portal_page_and_lands_on_the_queue(
        client, db_session, queue, bankid):
    _account, applicant = _activated_applicant(db_session, queue, renewed_days_ago=20)
    token = csrf_of(client, "/portal/login")
    page = client.post("/portal/bankid/start", data={"csrf_token": token, "purpose": "login"})
    qr = re.search(r'data-qr="([^"]+)"', page.get_data(as_text=True)).group(1)
    client.post("/portal/bankid/collect", headers={"X-CSRFToken": token})
    assert bankid.sign(qrCode=qr, personalNumber=OLLE, name="Olle Older").is_success
    done = client.post("/portal/bankid/collect", headers={"X-CSRFToken": token}).get_json()
    assert done == {"status": "complete", "next": "/bostad/"}
    db_session.refresh(applicant)
    assert applicant.renewed_on == _today()


def test_bankid_on_the_portal_still_refuses_someone_neither_tenant_nor_applicant(
        client, db_session, queue, bankid):
    token = csrf_of(client, "/portal/login")
    page = client.post("/portal/bankid/start", data={"csrf_token": token, "purpose": "login"})
    qr = re.search(r'data-qr="([^"]+)"', page.get_data(as_text=True)).group(1)
    client.post("/portal/bankid/collect", headers={"X-CSRFToken": token})
    assert bankid.sign(qrCode=qr, personalNumber=OLLE, name="Olle Older").is_success
    done = client.post("/portal/bankid/collect", headers={"X-CSRFToken": token}).get_json()
    assert done["next"] == "/portal/login"
    assert db_session.scalar(select(func.count(TenantIdentification.id))) == 0
