"""Legacy PIN codes (issue 15) come in with the invoice file (``pin``, ``kundnummer``:
docs/invoice-format.md): kept only as an Argon2id hash, never shown or logged, replaced by a
re-import, void once the person registered with a password. A tenant imported with a PIN logs
in with personnummer and PIN and must then choose a password; a wrong PIN counts toward the
log-in limits."""

from __future__ import annotations

import io
import json
from datetime import date

from sqlalchemy import func, select

from dispatch.auth import tenants
from dispatch.models import AuditEvent
from dispatch.models.accounts import LegacyPin
from dispatch.models.portal import Invoice
from dispatch.portal.invoices import import_file
from dispatch.portal.rules import ocr_number
from tests.support.tenant_helpers import CURRENT, csrf_of

pytest_plugins = ["tests.support.tenant_accounts", "tests.support.reports"]

HEADER = "fakturanummer;avtalsnummer;ocr;belopp;fakturadatum;forfallodatum;kundnummer;pin\n"
GOOD_PASSWORD = "Hyra#2026"


def invoices(*lines: str) -> bytes:
    return (HEADER + "".join(line + "\n" for line in lines)).encode()


def line(number: str, agreement="A-1", kundnummer="", pin="4711") -> str:
    return (f"{number};{agreement};{ocr_number(number)};8450,00;2026-11-15;2026-11-30;"
            f"{kundnummer};{pin}")


def pin_log_in(client, pin: str, number="19900101-2385"):
    token = csrf_of(client, "/portal/login/pin")
    return client.post("/portal/login/pin", data={"csrf_token": token, "number": number,
                                                  "pin": pin})


def pin_of(db_session, person) -> LegacyPin | None:
    db_session.expire_all()
    return db_session.get(LegacyPin, person.id)


def test_a_tenant_imported_with_a_pin_logs_in_with_it_and_must_choose_a_password(
        client, db_session, tenants_register, smtp):
    result = import_file(db_session, tenants_register.landlord, invoices(line("2026120001")),
                         actor="test")
    assert (result.errors, result.added, result.pins) == ([], 1, 1)
    stored = pin_of(db_session, tenants_register.current)
    assert stored.pin_hash.startswith("$argon2id$") and "4711" not in stored.pin_hash
    answer = pin_log_in(client, "4711")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/portal/register/account")
    page = client.get("/portal/register/account?lang=en").get_data(as_text=True)
    assert 'name="password"' in page  # the password of one's own, chosen now
    token = csrf_of(client, "/portal/register/account")
    created = client.post("/portal/register/account", data={
        "csrf_token": token, "email": "tove@example.se", "password": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD})
    assert created.status_code == 200
    assert pin_of(db_session, tenants_register.current) is None  # void once registered
    assert pin_log_in(client, "4711").status_code == 401


def test_a_wrong_pin_counts_toward_the_lock_out(app, client, db_session, tenants_register):
    assert import_file(db_session, tenants_register.landlord, invoices(line("2026120001")),
                       actor="test").pins == 1
    free = app.config["LOGIN_FAILURES_BEFORE_BACKOFF"]
    for _attempt in range(free):
        assert pin_log_in(client, "0000").status_code == 401
    locked = pin_log_in(client, "4711")  # even the right PIN waits now
    assert locked.status_code == 429
    assert pin_of(db_session, tenants_register.current).used_at is None


def test_a_reimport_replaces_the_pin(client, db_session, tenants_register):
    import_file(db_session, tenants_register.landlord, invoices(line("2026120001")),
                actor="test")
    again = import_file(db_session, tenants_register.landlord,
                        invoices(line("2026120001", pin="2580")), actor="test")
    assert (again.errors, again.unchanged, again.pins) == ([], 1, 1)
    assert pin_log_in(client, "4711").status_code == 401
    assert pin_log_in(client, "2580").status_code == 302


def test_the_pin_belongs_to_the_tenant_with_the_kundnummer_given(
        db_session, tenants_register):
    result = import_file(db_session, tenants_register.landlord,
                         invoices(line("2026120001", kundnummer="K-1")), actor="test")
    assert result.pins == 1 and pin_of(db_session, tenants_register.current) is not None
    other = import_file(db_session, tenants_register.landlord,
                        invoices(line("2026120002", kundnummer="K-2")), actor="test")
    assert [(e[0], e[1], e[3]) for e in other.errors] == [(2, "kundnummer", "not_a_party")]


def test_a_pin_of_someone_registered_with_a_password_is_not_kept(db_session, tenants_register):
    found = tenants.identify(db_session, _identity(CURRENT), "bankid", today=date.today(),
                             ip=None)
    tenants.register(db_session, found.identification, email="tove@example.se",
                     password=GOOD_PASSWORD, locale=None, ip=None)
    result = import_file(db_session, tenants_register.landlord, invoices(line("2026120001")),
                         actor="test")
    assert (result.errors, result.pins, result.pins_void) == ([], 0, 1)
    assert pin_of(db_session, tenants_register.current) is None


def test_a_bad_pin_imports_nothing_and_no_error_or_audit_shows_a_pin(
        db_session, tenants_register):
    bad = invoices(line("2026120001", pin="47x1"), line("2026120002", pin="4711"),
                   line("2026120003", pin="9999"))
    result = import_file(db_session, tenants_register.landlord, bad, actor="test")
    assert [(e[0], e[1], e[2], e[3]) for e in result.errors] == [
        (2, "pin", "", "bad_pin"), (4, "pin", "", "pin_differs")]
    assert db_session.scalar(select(func.count()).select_from(Invoice)) == 0
    assert db_session.scalar(select(func.count()).select_from(LegacyPin)) == 0
    good = import_file(db_session, tenants_register.landlord,
                       invoices(line("2026120001"), line("2026120002")), actor="test")
    assert (good.errors, good.added, good.pins) == ([], 2, 1)  # one person, one PIN
    details = [json.dumps(d) for d in db_session.scalars(select(AuditEvent.details))]
    assert not any("4711" in d for d in details)


def test_staff_import_page_and_command_say_how_many_pins_were_set(
        client, auth, runner, create_user, db_session, tenants_register, tmp_path):
    create_user(role="landlord", landlord=tenants_register.landlord, email="staff@hemma.se")
    auth.login("staff@hemma.se")
    token = csrf_of(client, "/portal/staff/invoices")  # in Swedish, the default
    answer = client.post("/portal/staff/invoices", data={
        "csrf_token": token,
        "file": (io.BytesIO(invoices(line("2026120001", pin="12"))), "avier.csv")})
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "Inte en PIN-kod (4 till 8 siffror)." in page and ">12<" not in page
    answer = client.post("/portal/staff/invoices", data={
        "csrf_token": token, "file": (io.BytesIO(invoices(line("2026120001"))), "avier.csv")},
        follow_redirects=True)
    assert "1 PIN-kod sparad." in answer.get_data(as_text=True)
    path = tmp_path / "avier.csv"
    path.write_bytes(invoices(line("2026120001", pin="2580")))
    result = runner.invoke(args=["portal", "import-invoices", "--landlord", "HEMMA", str(path)])
    assert result.exit_code == 0, result.output
    assert "PIN-koder: 1 satta" in result.output and "2580" not in result.output


def _identity(number):
    from dispatch.auth.identity import Identity

    return Identity(number, "Tove Tenant", "SE")


# --- set by staff -----------------------------------------------------------------------------

def staff_of(client, auth, create_user, landlord, email="staff@hemma.se"):
    create_user(role="landlord", landlord=landlord, email=email)
    auth.login(email)


def test_staff_find_their_tenant_and_set_a_pin_audited_without_the_code(
        client, auth, create_user, db_session, tenants_register):
    staff_of(client, auth, create_user, tenants_register.landlord)
    page = client.get("/portal/staff/pins?q=tove").get_data(as_text=True)
    assert "Tove Tenant" in page and "19900101-****" in page and CURRENT not in page
    person = tenants_register.current.id
    token = csrf_of(client, f"/portal/staff/pins?person={person}")
    saved = client.post("/portal/staff/pins", data={"csrf_token": token, "person_id": person,
                                                    "pin": "4711"})
    assert saved.status_code == 302
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "tenant.pin_set"))
    assert event.subject == f"person:{person}" and event.user_id is not None
    assert "4711" not in json.dumps(event.details)
    client.post("/logout", data={"csrf_token": token})
    assert pin_log_in(client, "4711").status_code == 302


def test_a_pin_that_is_not_4_to_8_digits_is_refused_next_to_the_field_keeping_it(
        client, auth, create_user, db_session, tenants_register):
    staff_of(client, auth, create_user, tenants_register.landlord)
    person = tenants_register.current.id
    token = csrf_of(client, f"/portal/staff/pins?person={person}")
    answer = client.post("/portal/staff/pins", data={"csrf_token": token, "person_id": person,
                                                     "pin": "47a"})
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert 'id="pin-error"' in page and 'value="47a"' in page
    assert pin_of(db_session, tenants_register.current) is None


def test_staff_cannot_see_or_set_another_landlords_tenants_pin(
        client, auth, create_user, db_session, tenants_register):
    staff_of(client, auth, create_user, tenants_register.landlord)
    finn = tenants_register.finnish.id  # Heka's tenant
    assert "Fia Finne" not in client.get("/portal/staff/pins?q=Fia").get_data(as_text=True)
    assert client.get(f"/portal/staff/pins?person={finn}").status_code == 404
    token = csrf_of(client, "/portal/staff/pins")
    answer = client.post("/portal/staff/pins", data={"csrf_token": token, "person_id": finn,
                                                     "pin": "4711"})
    assert answer.status_code == 404
    assert pin_of(db_session, tenants_register.finnish) is None
