"""Tenants' accounts (issue 15), through the pages as a tenant uses them: registration after
BankID, the activation mail and link, log-in with a rotated session, the password rules by
route, reset links, the legacy PIN, office identification by staff, the end of an agreement,
attempt limits, languages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from dispatch.auth import tenants
from dispatch.models import AuditEvent, utcnow
from dispatch.models.accounts import TenantAccount
from dispatch.portal.session import ACCOUNT_KEY, PERSON_KEY
from tests.support.tenant_helpers import CURRENT, HETU, SECOND, SIGNED, csrf_of

pytest_plugins = ["tests.support.tenant_accounts", "tests.support.reports"]

GOOD = "Hyra#2026"  # upper, lower, digit, special, 9 characters


# --- helpers --------------------------------------------------------------------------------

def identify_with_bankid(client, bankid, number=CURRENT, purpose="register"):
    """The tenant's browser through our BankID page; the simulated user scans the QR code
    shown and signs. Returns the last collect's JSON."""
    token = csrf_of(client, "/portal/register")
    page = client.post("/portal/bankid/start", data={"csrf_token": token, "purpose": purpose})
    assert page.status_code == 200
    qr = re.search(r'data-qr="([^"]+)"', page.get_data(as_text=True)).group(1)
    pending = client.post("/portal/bankid/collect", headers={"X-CSRFToken": token}).get_json()
    assert pending["status"] == "pending"
    assert bankid.sign(qrCode=qr, personalNumber=number, name="Tove Tenant").is_success
    return client.post("/portal/bankid/collect", headers={"X-CSRFToken": token}).get_json()


def register(client, email="tove@example.se", password=GOOD, password2=None):
    token = csrf_of(client, "/portal/register/account")
    return client.post("/portal/register/account", data={
        "csrf_token": token, "email": email, "password": password,
        "password2": password if password2 is None else password2})


def log_in(client, email="tove@example.se", password=GOOD, **kwargs):
    token = csrf_of(client, "/portal/login")
    return client.post("/portal/login", data={"csrf_token": token, "email": email,
                                              "password": password}, **kwargs)


def link_in(message) -> str:
    body = message.get_body(("plain",)).get_content()
    return re.search(r"https?://\S+", body).group(0)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def account_of(db_session, email="tove@example.se") -> TenantAccount:
    return db_session.scalar(select(TenantAccount).where(TenantAccount.email == email))


@pytest.fixture
def tove(db_session, tenants_register):
    """Tove's activated account (registered after BankID), made through the rules directly."""
    result = tenants.identify(db_session, _identity(CURRENT), "bankid", today=date.today(),
                              ip=None)
    account = tenants.register(db_session, result.identification, email="tove@example.se",
                               password=GOOD, locale=None, ip=None)
    tenants.activate(db_session, account, ip=None)
    db_session.flush()
    return account


def _identity(number):
    from dispatch.auth.identity import Identity

    return Identity(number, "Test Person", "SE")


# --- password rules -------------------------------------------------------------------------

@pytest.mark.parametrize(("password", "ok"), [
    ("Ab1#cd", True), ("Ab1#c", False), ("ab1#cd", False), ("AB1#CD", False),
    ("Abc#de", False), ("Ab1cde", False),
])
def test_password_after_e_identification_needs_6_with_upper_lower_digit_and_special(
        app, password, ok):
    with app.test_request_context():
        assert (tenants.password_problems(password, "eid") == []) is ok


@pytest.mark.parametrize(("password", "ok"), [
    ("ABCDEFG#", True), ("Abcdefg!", True), ("Abcdef!", False), ("abcdefg!", False),
    ("Abcdefgh", False),
])
def test_password_after_office_identification_needs_8_with_upper_and_special(
        app, password, ok):
    with app.test_request_context():
        assert (tenants.password_problems(password, "office") == []) is ok


# --- registration through BankID ------------------------------------------------------------

def test_registration_through_bankid_mails_a_link_that_activates_and_log_in_rotates_the_session(
        client, db_session, tenants_register, bankid, smtp):
    done = identify_with_bankid(client, bankid)
    assert done == {"status": "complete", "next": "/portal/register/account"}
    created = register(client)
    assert created.status_code == 200
    assert "activation link" in created.get_data(as_text=True) or "aktiveringslänk" in \
        created.get_data(as_text=True)
    account = account_of(db_session)
    assert account.person_id == tenants_register.current.id
    assert account.activated_at is None and account.password_rule == "eid"

    [mail] = smtp.to("tove@example.se")
    link = link_in(mail)
    raw = mail.as_string()
    assert CURRENT not in raw and CURRENT[2:8] not in link  # no personnummer in mail or URL

    refused = log_in(client)
    assert refused.status_code == 403
    assert "inte aktiverat" in refused.get_data(as_text=True)

    activated = client.get(path_of(link))
    assert activated.status_code == 302
    assert account_of(db_session).activated_at is not None

    with client.session_transaction() as session:
        session["planted"] = "before log-in"
    answer = log_in(client)
    assert answer.status_code == 302
    target = answer.headers["Location"]
    assert target.startswith("/portal") and not target.startswith("/portal/login")
    with client.session_transaction() as session:
        assert "planted" not in session  # a new session
        assert session[PERSON_KEY] == tenants_register.current.id
        assert session[ACCOUNT_KEY] == account.id
    assert client.get(target).status_code == 200


def test_registration_keeps_what_was_typed_and_says_what_is_wrong_next_to_the_field(
        client, db_session, tenants_register, bankid):
    identify_with_bankid(client, bankid)
    weak = register(client, email="tove@example.se", password="abc")
    assert weak.status_code == 400
    page = weak.get_data(as_text=True)
    assert 'value="tove@example.se"' in page
    assert re.search(r'id="password-error">[^<]*Minst 6 tecken', page)
    both = register(client, email="tove@", password="abc").get_data(as_text=True)
    assert "inte en giltig e-postadress" in both and "Minst 6 tecken" in both  # all at once
    differ = register(client, password=GOOD, password2=GOOD + "x")
    assert "Lösenorden är inte lika." in differ.get_data(as_text=True)
    assert account_of(db_session) is None


def test_an_e_mail_address_has_one_account_for_ever(client, db_session, tenants_register,
                                                    bankid, tove):
    identify_with_bankid(client, bankid)
    again = register(client, email="TOVE@example.se")
    assert again.status_code == 400
    assert "har redan ett konto" in again.get_data(as_text=True)
    other = register(client, email="tove.new@example.se")  # a new address: a new registration
    assert other.status_code == 200


def test_an_account_never_activated_gives_way_to_a_new_registration(
        client, db_session, tenants_register, bankid, smtp):
    identify_with_bankid(client, bankid)
    register(client)
    first_link = path_of(link_in(smtp.to("tove@example.se")[0]))
    identify_with_bankid(client, bankid)
    assert register(client, password="Andra#2026").status_code == 200
    assert client.get(first_link).status_code == 400  # the old account is gone
    client.get(path_of(link_in(smtp.to("tove@example.se")[1])))
    assert log_in(client, password="Andra#2026").status_code == 302


def test_registration_needs_an_identification_first(client, tenants_register):
    answer = client.get("/portal/register/account")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/portal/register")


def test_someone_whose_agreement_ended_cannot_register(client, db_session, tenants_register,
                                                       bankid):
    done = identify_with_bankid(client, bankid, number=SECOND)
    assert done["next"] == "/portal/register"
    page = client.get("/portal/register").get_data(as_text=True)
    assert "Ditt hyresavtal har upphört" in page
    assert client.get("/portal/register/account").status_code == 302


def test_a_signed_agreement_may_register_where_the_landlord_allows_and_log_in_opens_on_the_start(
        client, db_session, tenants_register, bankid, smtp):
    done = identify_with_bankid(client, bankid, number=SIGNED)
    assert done["next"] == "/portal/register/account"
    assert register(client, email="siv@example.se").status_code == 200
    client.get(path_of(link_in(smtp.to("siv@example.se")[0])))
    refused = log_in(client, email="siv@example.se")
    assert refused.status_code == 403
    assert "Mina sidor öppnar" in refused.get_data(as_text=True)
    start = tenants_register.signed_agreement.starts_on
    with time_machine.travel(datetime.combine(start, datetime.min.time(), UTC)
                             + timedelta(hours=12), tick=False):
        assert log_in(client, email="siv@example.se").status_code == 302


def test_without_the_landlords_setting_a_signed_agreement_cannot_register(
        client, db_session, tenants_register, bankid):
    from dispatch.models.accounts import LandlordAccountPolicy

    db_session.get(LandlordAccountPolicy, tenants_register.landlord.id).register_from_signing = \
        False
    db_session.flush()
    done = identify_with_bankid(client, bankid, number=SIGNED)
    assert done["next"] == "/portal/register"


def test_bankid_log_in_of_an_activated_account_logs_straight_in(client, tenants_register,
                                                                bankid, tove):
    done = identify_with_bankid(client, bankid, purpose="login")
    assert done["status"] == "complete"
    assert not done["next"].startswith("/portal/login")
    with client.session_transaction() as session:
        assert session[ACCOUNT_KEY] == tove.id


def test_a_bankid_failure_is_told_in_the_users_language(client, tenants_register, bankid):
    client.get("/portal/login?lang=fi")
    bankid.fail_next(hintCode="certificateErr")
    token = csrf_of(client, "/portal/register")
    client.post("/portal/bankid/start", data={"csrf_token": token})
    answer = client.post("/portal/bankid/collect", headers={"X-CSRFToken": token}).get_json()
    assert answer["status"] == "failed" and answer["hint"] == "certificateErr"
    assert answer["message"].startswith("BankID, jota yrität käyttää, on suljettu")


def test_a_bankid_order_already_in_progress_is_told_on_the_start_page(client, tenants_register,
                                                                      bankid):
    bankid.fail_next(errorCode="alreadyInProgress")
    token = csrf_of(client, "/portal/register")
    answer = client.post("/portal/bankid/start", data={"csrf_token": token})
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "redan påbörjad" in page


def test_cancelling_the_bankid_page_cancels_the_order(client, tenants_register, bankid):
    token = csrf_of(client, "/portal/register")
    client.post("/portal/bankid/start", data={"csrf_token": token})
    assert client.post("/portal/bankid/cancel", data={"csrf_token": token}).status_code == 302
    assert bankid.service.requests[-1] == "cancel"
    assert client.post("/portal/bankid/collect", headers={"X-CSRFToken": token}).status_code == 404


def test_the_qr_code_changes_every_second(client, tenants_register, bankid):
    token = csrf_of(client, "/portal/register")
    page = client.post("/portal/bankid/start", data={"csrf_token": token}).get_data(True)
    first = re.search(r'data-qr="([^"]+)"', page).group(1)
    assert first.split(".")[2] == "0"
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=3), tick=False):
        later = client.get("/portal/bankid/qr").get_json()
    assert later["text"].split(".")[2] == "3"
    assert later["image"].startswith("data:image/svg+xml")


# --- activation and reset -------------------------------------------------------------------

def test_the_activation_link_works_for_24_hours(client, db_session, tenants_register, bankid,
                                                smtp):
    identify_with_bankid(client, bankid)
    register(client)
    link = path_of(link_in(smtp.to("tove@example.se")[0]))
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=24, minutes=1)):
        late = client.get(link)
    assert late.status_code == 400
    assert "har gått ut" in late.get_data(as_text=True)
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=23, minutes=59)):
        assert client.get(link).status_code == 302


def test_a_reset_link_works_once_and_for_24_hours(client, db_session, tove, smtp):
    token = csrf_of(client, "/portal/reset")
    sent = client.post("/portal/reset", data={"csrf_token": token, "email": "tove@example.se"})
    unknown = client.post("/portal/reset", data={"csrf_token": token,
                                                 "email": "nobody@example.se"})
    assert sent.get_data() == unknown.get_data()  # says nothing about who has an account
    [mail] = smtp.to("tove@example.se")
    assert smtp.to("nobody@example.se") == []
    link = path_of(link_in(mail))
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=24, minutes=1)):
        assert client.get(link).status_code == 400
    form = csrf_of(client, link)
    weak = client.post(link, data={"csrf_token": form, "password": "short",
                                   "password2": "short"})
    assert weak.status_code == 400
    saved = client.post(link, data={"csrf_token": form, "password": "Nytt#2027",
                                    "password2": "Nytt#2027"})
    assert saved.status_code == 302
    assert client.get(link).status_code == 400  # used
    assert log_in(client, password="Nytt#2027").status_code == 302


def test_reset_mails_are_limited_to_three_a_day(client, tove, smtp):
    token = csrf_of(client, "/portal/reset")
    for _ in range(5):
        client.post("/portal/reset", data={"csrf_token": token, "email": "tove@example.se"})
    assert len(smtp.to("tove@example.se")) == 3


# --- log-in rules ---------------------------------------------------------------------------

def test_log_in_stops_with_a_clear_message_after_the_agreement_ends(client, db_session,
                                                                     tenants_register, tove):
    tenants_register.agreement.ends_on = date.today() - timedelta(days=1)
    db_session.flush()
    refused = log_in(client)
    assert refused.status_code == 403
    assert "Ditt hyresavtal har upphört" in refused.get_data(as_text=True)
    with client.session_transaction() as session:
        assert PERSON_KEY not in session


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client, tove):
    refused = log_in(client, password="Wrong#2026")
    assert refused.status_code == 401
    assert "Fel e-postadress eller lösenord." in refused.get_data(as_text=True)
    assert log_in(client, email="nobody@example.se").status_code == 401


def test_failed_log_ins_are_held_up_per_account_and_address(app, client, tove):
    app.config["LOGIN_FAILURES_BEFORE_BACKOFF"] = 2
    for _ in range(3):
        log_in(client, password="Wrong#2026")
    held = log_in(client)  # even the right password waits
    assert held.status_code == 429 and int(held.headers["Retry-After"]) > 0
    other = log_in(client, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert other.status_code == 302  # the owner from another address is not locked out


def test_the_account_page_shows_the_personnummer_masked(client, tove):
    log_in(client)
    page = client.get("/portal/account").get_data(as_text=True)
    assert "19900101-****" in page and CURRENT not in page and "2385" not in page


def test_forms_without_the_csrf_token_are_refused(client, tove, bankid):
    assert client.post("/portal/login", data={"email": "tove@example.se",
                                              "password": GOOD}).status_code == 400
    assert client.post("/portal/bankid/start", data={}).status_code == 400
    assert client.post("/portal/bankid/collect").status_code == 400


def test_the_next_page_after_log_in_stays_in_the_portal(client, tove):
    token = csrf_of(client, "/portal/login")
    answer = client.post("/portal/login?next=https://evil.example/", data={
        "csrf_token": token, "email": "tove@example.se", "password": GOOD})
    assert answer.headers["Location"].startswith("/portal")


# --- legacy PIN -----------------------------------------------------------------------------

def test_the_legacy_pin_works_once_and_leads_to_a_password_of_ones_own(
        client, db_session, tenants_register, smtp):
    tenants.set_legacy_pin(db_session, tenants_register.current.id, "4711")
    token = csrf_of(client, "/portal/login/pin")
    wrong = client.post("/portal/login/pin", data={"csrf_token": token,
                                                   "number": "19900101-2385", "pin": "1234"})
    assert wrong.status_code == 401
    assert 'value="19900101-2385"' in wrong.get_data(as_text=True)
    right = client.post("/portal/login/pin", data={"csrf_token": token,
                                                   "number": "19900101-2385", "pin": "4711"})
    assert right.status_code == 302
    assert right.headers["Location"].endswith("/portal/register/account")
    assert register(client, email="tove@example.se").status_code == 200
    again = client.post("/portal/login/pin", data={"csrf_token": csrf_of(client,
                                                                         "/portal/login/pin"),
                                                   "number": "199001012385", "pin": "4711"})
    assert again.status_code == 401  # the PIN worked once
    audit = db_session.scalars(select(AuditEvent.subject).where(
        AuditEvent.action.in_(["login.failed", "login.succeeded"]))).all()
    assert all(CURRENT not in (s or "") and "19900101" not in (s or "") for s in audit)


# --- office identification ------------------------------------------------------------------

def test_staff_mark_office_identification_audited_and_the_tenant_chooses_a_password_by_mail(
        client, db_session, auth, create_user, tenants_register, smtp):
    operator = create_user(role="operator")
    auth.login(operator.email)
    token = csrf_of(client, "/portal/office/identify")
    missing = client.post("/portal/office/identify", data={
        "csrf_token": token, "number": "201701012393", "document": "passport",
        "email": "ulf@example.se"})
    assert missing.status_code == 400  # his agreement ended
    done = client.post("/portal/office/identify", data={
        "csrf_token": token, "number": "19900101-2385", "document": "passport",
        "email": "tove@example.se"})
    assert done.status_code == 302
    event = db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "tenant.office_identified"))
    assert event.user_id == operator.id and event.details["document"] == "passport"
    account = account_of(db_session)
    assert (account.password_rule, account.identified_by) == ("office", "office")

    client.post("/logout", data={"csrf_token": csrf_of(client, "/portal/office/identify")})
    [mail] = smtp.to("tove@example.se")
    assert CURRENT not in mail.as_string()
    link = path_of(link_in(mail))
    form = csrf_of(client, link)
    too_weak = client.post(link, data={"csrf_token": form, "password": "Hyra#26",
                                       "password2": "Hyra#26"})  # 7: short for the office rule
    assert too_weak.status_code == 400
    assert client.post(link, data={"csrf_token": form, "password": "HYRESGÄST!",
                                   "password2": "HYRESGÄST!"}).status_code == 302
    assert log_in(client, password="HYRESGÄST!").status_code == 302


@pytest.mark.parametrize("role", ["patrol", "landlord"])
def test_only_office_staff_may_mark_identification(client, auth, create_user, create_landlord,
                                                   role):
    landlord = create_landlord(code="OTHER") if role == "landlord" else None
    user = create_user(role=role, landlord=landlord)
    auth.login(user.email)
    assert client.get("/portal/office/identify").status_code == 403


def test_a_tenant_is_sent_to_log_in_from_the_office_page(client, tove):
    assert client.get("/portal/office/identify").status_code == 302


# --- languages ------------------------------------------------------------------------------

# (One language per test: the tests' app context, and Flask-Babel's choice in it, outlive a
# request.)

def test_a_finnish_landlords_tenants_get_finnish_by_default(client, tenants_register):
    page = client.get("/portal/login?landlord=HEKA").get_data(as_text=True)
    assert '<html lang="fi">' in page and "Kirjaudu Omille sivuille" in page
    with client.session_transaction() as session:
        assert session["lang"] == "fi"  # until the tenant chooses another


def test_a_swedish_landlords_tenants_get_swedish(client, tenants_register):
    page = client.get("/portal/login?landlord=HEMMA").get_data(as_text=True)
    assert '<html lang="sv">' in page and "Logga in på Mina sidor" in page


def test_the_log_in_page_is_swedish_by_default(client):
    assert "Logga in på Mina sidor" in client.get("/portal/login").get_data(as_text=True)


def test_the_log_in_page_is_english_on_request(client):
    assert "Log in to My pages" in client.get("/portal/login?lang=en").get_data(as_text=True)


# --- retention ------------------------------------------------------------------------------

def test_an_account_is_deleted_a_set_time_after_the_agreement_ended_audited(
        db_session, tenants_register, tove):
    tenants_register.agreement.ends_on = date.today() - timedelta(days=1)
    db_session.flush()
    assert tenants.purge_ended(db_session, today=date.today(), keep_days=90) == 0
    assert account_of(db_session).agreement_ended_on is not None
    with time_machine.travel(utcnow() + timedelta(days=91)):
        assert tenants.purge_ended(db_session, today=date.today(), keep_days=90) == 1
    assert account_of(db_session) is None
    assert db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "tenant.account_deleted")) is not None


def test_a_finnish_tenant_is_found_by_the_hetu(db_session, tenants_register):
    standing = tenants.tenancy_of_number(db_session, HETU, date.today())
    assert (standing.state, standing.person_id, standing.landlord_country) == (
        "current", tenants_register.finnish.id, "FI")


def test_the_nightly_job_deletes_accounts_past_the_keep_time(app, db_session, tenants_register,
                                                             tove):
    from dispatch.scheduler import purge_tenant_accounts

    tenants_register.agreement.ends_on = date.today() - timedelta(days=1)
    db_session.flush()
    assert purge_tenant_accounts(app) == {"deleted": 0}
    with time_machine.travel(utcnow() + timedelta(days=app.config["TENANT_ACCOUNT_KEEP_DAYS"],
                                                  hours=1)):
        assert purge_tenant_accounts(app) == {"deleted": 1}


def test_a_landlord_sets_registration_from_signing_on_the_command_line(runner, db_session,
                                                                       tenants_register):
    from dispatch.models.accounts import LandlordAccountPolicy

    off = runner.invoke(args=["tenant-account-policy", "--landlord", "hemma",
                              "--register-from-start"])
    assert off.exit_code == 0, off.output
    policy = db_session.get(LandlordAccountPolicy, tenants_register.landlord.id)
    db_session.refresh(policy)
    assert policy.register_from_signing is False
    assert tenants.tenancy_of_number(db_session, SIGNED, date.today()).state == "none"
    on = runner.invoke(args=["tenant-account-policy", "--landlord", "HEMMA",
                             "--register-from-signing"])
    assert on.exit_code == 0
    assert tenants.tenancy_of_number(db_session, SIGNED, date.today()).state == "signed"
    unknown = runner.invoke(args=["tenant-account-policy", "--landlord", "NOPE",
                                  "--register-from-signing"])
    assert unknown.exit_code == 2


def test_an_account_survives_a_re_import_that_gives_the_tenant_a_new_agreement(
        client, db_session, tenants_register, tove):
    from dispatch.models import Agreement, AgreementParty, Person

    db_session.delete(tenants_register.agreement)  # the register no longer has A-1 ...
    db_session.flush()
    assert log_in(client).status_code == 403
    # ... and the next import brings the same tenant on a new agreement, under a person row
    # of another landlord that holds the same personnummer.
    elsewhere = Person(landlord_id=tenants_register.finnish_landlord.id, name="Tove Tenant",
                       kundnummer="X-9", personnummer=CURRENT)
    db_session.add(elsewhere)
    db_session.flush()
    new = Agreement(landlord_id=tenants_register.finnish_landlord.id, avtalsnummer="B-7",
                    starts_on=date(2024, 1, 1))
    new.parties = [AgreementParty(person_id=elsewhere.id, position=1)]
    db_session.add(new)
    db_session.flush()
    assert log_in(client).status_code == 302
    with client.session_transaction() as session:
        assert session[PERSON_KEY] == elsewhere.id


def test_the_activation_mail_is_in_the_tenants_language(client, db_session, tenants_register,
                                                         smtp):
    from dispatch.auth.identity import Identity
    from dispatch.portal.accounts import IDENTIFIED_KEY

    found = tenants.identify(db_session, Identity(HETU, "Fia Finne", "FI"), "oidc",
                             today=date.today(), ip=None)
    db_session.flush()
    client.get("/portal/login?landlord=HEKA")  # a Finnish landlord: Finnish
    with client.session_transaction() as session:
        session[IDENTIFIED_KEY] = found.identification.id
    assert register(client, email="fia@example.fi").status_code == 200
    [mail] = smtp.to("fia@example.fi")
    assert mail["Subject"] == "Aktivoi tilisi Omilla sivuilla"
    assert "Linkki toimii 24 tuntia" in mail.get_body(("plain",)).get_content()
    assert HETU not in mail.as_string() and "010594" not in mail.as_string()
