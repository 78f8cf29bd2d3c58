"""One-time log-in codes for contact persons: mailed, valid ten minutes, used once, hashed at
rest, attempt-limited, audited, and silent about which addresses exist."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from dispatch.models import AuditEvent, LoginCode, utcnow
from tests.support.reports_helpers import text_of

pytest_plugins = ["tests.support.reports"]

CODE = re.compile(r"^\s+(\d{6})\s*$", re.M)


def _ask(client, auth, email, next_path="/reports/", environ=None):
    token = auth.csrf_token("/reports/login")
    return client.post(f"/reports/login/code?next={next_path}",
                       data={"email": email, "csrf_token": token}, environ_base=environ or {})


def _enter(client, auth, email, code, next_path="/reports/", environ=None):
    token = auth.csrf_token("/reports/login")
    return client.post(f"/reports/login/code/verify?next={next_path}",
                       data={"email": email, "code": code, "csrf_token": token},
                       environ_base=environ or {})


def _mailed_code(smtp, email) -> str:
    return CODE.search(text_of(smtp.to(email)[-1])).group(1)


def test_a_contact_logs_in_with_a_code_from_the_mail_and_lands_where_the_link_pointed(
        client, auth, smtp, create_landlord, create_user):
    create_user(role="landlord", landlord=create_landlord(), email="kontakt@acme.se")
    assert _ask(client, auth, "Kontakt@Acme.se ", "/reports/morning/2026-01-15").status_code == 200
    code = _mailed_code(smtp, "kontakt@acme.se")
    answer = _enter(client, auth, "kontakt@acme.se", code, "/reports/morning/2026-01-15")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/reports/morning/2026-01-15"
    assert client.get("/api/v1/me").get_json()["email"] == "kontakt@acme.se"


def test_a_code_works_once(client, auth, smtp, create_landlord, create_user):
    create_user(role="landlord", landlord=create_landlord(), email="kontakt@acme.se")
    _ask(client, auth, "kontakt@acme.se")
    code = _mailed_code(smtp, "kontakt@acme.se")
    assert _enter(client, auth, "kontakt@acme.se", code).status_code == 302
    client.post("/logout", data={"csrf_token": auth.csrf_token("/reports/")})
    assert _enter(client, auth, "kontakt@acme.se", code).status_code == 401


def test_a_code_expires_after_ten_minutes(client, auth, smtp, create_landlord, create_user):
    create_user(role="landlord", landlord=create_landlord(), email="kontakt@acme.se")
    _ask(client, auth, "kontakt@acme.se")
    code = _mailed_code(smtp, "kontakt@acme.se")
    with time_machine.travel(utcnow() + timedelta(minutes=10, seconds=1)):
        assert _enter(client, auth, "kontakt@acme.se", code).status_code == 401


def test_the_code_is_stored_only_as_a_keyed_hash(client, auth, smtp, db_session,
                                                 create_landlord, create_user):
    create_user(role="landlord", landlord=create_landlord(), email="kontakt@acme.se")
    _ask(client, auth, "kontakt@acme.se")
    code = _mailed_code(smtp, "kontakt@acme.se")
    row = db_session.scalar(select(LoginCode))
    assert code not in row.code_hash and len(row.code_hash) == 64
    import hashlib

    assert row.code_hash != hashlib.sha256(code.encode()).hexdigest()


def test_five_wrong_codes_lock_the_account_even_for_the_right_code(
        client, auth, smtp, db_session, create_landlord, create_user):
    create_user(role="landlord", landlord=create_landlord(), email="kontakt@acme.se")
    _ask(client, auth, "kontakt@acme.se")
    code = _mailed_code(smtp, "kontakt@acme.se")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert _enter(client, auth, "kontakt@acme.se", wrong).status_code == 401
    assert _enter(client, auth, "kontakt@acme.se", code).status_code == 429
    failures = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "login.failed", AuditEvent.subject == "kontakt@acme.se")).all()
    assert len(failures) == 5 and all(f.details == {"method": "code"} for f in failures)


def test_asking_for_a_code_answers_the_same_for_unknown_addresses_and_sends_nothing(
        client, auth, smtp, create_landlord, create_user):
    create_user(role="landlord", landlord=create_landlord(), email="kontakt@acme.se")
    create_user(role="operator", email="op@jour.se")
    known = _ask(client, auth, "kontakt@acme.se")
    unknown = _ask(client, auth, "nobody@acme.se")
    staff = _ask(client, auth, "op@jour.se")  # codes are for contact persons only
    assert known.status_code == unknown.status_code == staff.status_code == 200

    def strip(page):
        return re.sub(r'value="[^"]*"', "", page.get_data(as_text=True))

    assert strip(known) == strip(unknown)
    assert smtp.recipients() == ["kontakt@acme.se"]


def test_at_most_three_codes_per_window(client, auth, smtp, create_landlord, create_user):
    create_user(role="landlord", landlord=create_landlord(), email="kontakt@acme.se")
    for _ in range(5):
        _ask(client, auth, "kontakt@acme.se")
    assert len(smtp.to("kontakt@acme.se")) == 3


def test_a_new_code_replaces_the_last(client, auth, smtp, create_landlord, create_user):
    create_user(role="landlord", landlord=create_landlord(), email="kontakt@acme.se")
    _ask(client, auth, "kontakt@acme.se")
    first = _mailed_code(smtp, "kontakt@acme.se")
    _ask(client, auth, "kontakt@acme.se")
    second = _mailed_code(smtp, "kontakt@acme.se")
    if first != second:
        assert _enter(client, auth, "kontakt@acme.se", first).status_code == 401
    assert _enter(client, auth, "kontakt@acme.se", second).status_code == 302


def test_code_log_ins_are_audited(client, auth, smtp, db_session, create_landlord, create_user):
    create_user(role="landlord", landlord=create_landlord(), email="kontakt@acme.se")
    _ask(client, auth, "kontakt@acme.se")
    _enter(client, auth, "kontakt@acme.se", _mailed_code(smtp, "kontakt@acme.se"))
    actions = [a for a in db_session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))
               if a.startswith("login.")]
    assert actions == ["login.code_sent", "login.succeeded"]


def test_the_code_mail_holds_the_code_and_nothing_else_personal(
        client, auth, smtp, create_landlord, create_user):
    create_user(role="landlord", landlord=create_landlord(), email="kontakt@acme.se")
    _ask(client, auth, "kontakt@acme.se")
    [msg] = smtp.messages
    body = text_of(msg)
    assert CODE.search(body) and "Acme" not in body


def test_five_wrong_codes_from_one_address_do_not_lock_the_contact_out_from_another(
        client, auth, smtp, db_session, create_landlord, create_user):
    create_user(role="landlord", landlord=create_landlord(), email="kontakt@acme.se")
    _ask(client, auth, "kontakt@acme.se")
    code = _mailed_code(smtp, "kontakt@acme.se")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    guesser, contact = {"REMOTE_ADDR": "198.51.100.7"}, {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(5):
        assert _enter(client, auth, "kontakt@acme.se", wrong, environ=guesser).status_code == 401
    locked = _enter(client, auth, "kontakt@acme.se", code, environ=guesser)
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "30"
    assert "Försök igen om 30 sekunder." in locked.get_data(as_text=True)
    # The guesses used up that code; from the contact's own address a new one is sent and works.
    assert _ask(client, auth, "kontakt@acme.se", environ=contact).status_code == 200
    fresh = _mailed_code(smtp, "kontakt@acme.se")
    assert _enter(client, auth, "kontakt@acme.se", fresh, environ=contact).status_code == 302
