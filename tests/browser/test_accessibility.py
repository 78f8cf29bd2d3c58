"""WCAG 2.1 AA in Chromium, checked by axe-core: every page below, in Swedish and Finnish, in
the light and the dark theme, has no violation of impact serious or critical (contrast, labels,
names, landmarks, lang). Against the Procfile's web process, on a server of its own: the jobs,
alarm and cars made here must not show on the other modules' consoles."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from dispatch.jobs.dispatching import NewComplaint, assign, create_complaint
from dispatch.models import Patrol, RentalObject, User, utcnow
from dispatch.register.landlords import upsert_landlord
from dispatch.reports.service import release_report, submit_report
from imports.service import import_register
from tests.browser.axe import describe, violations
from tests.conftest import _fresh_database_url
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
# Each language once in each theme: the words change with the one, the colours with the other.
LANGS = ["sv-light", "fi-dark"]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The web process on a fresh database with one user of every role (as the shared one)."""
    url, drop = _fresh_database_url(tmp_path_factory, "axe")
    server = LiveServer(url, tmp_path_factory.mktemp("axe-instance"),
                        extra_env={"ACK_REDISPATCH_AFTER_S": "86400"}).start()
    server.cli("create-landlord", "--code", "ACME", "--name", "Acme Bostäder",
               "--oncall-number", "08-46 500 401")
    for role in ("admin", "operator", "patrol", "landlord"):
        extra = ["--landlord", "ACME"] if role == "landlord" else []
        server.cli("create-user", "--role", role, "--email", f"{role}@live.example.se",
                   "--password", PASSWORD, *extra)
    yield server
    server.stop()
    drop()


@pytest.fixture(scope="module")
def world(live_server, tmp_path_factory):
    """On the server's database: ACME's flats, a job in the queue with its alarm
    standing (no car free), an open job on each of the cars
    "Jour 41" and "Jour 42" (a tablet per look), a report waiting for review and one released
    to the landlord."""
    register = tmp_path_factory.mktemp("axe") / "axe.csv"
    register.write_text(
        "objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;portkod;lat;lon\n"
        "AXE-1;Tillgångsgatan 1;118 46;Stockholm;1101;1234;59.3121;18.0713\n"
        "AXE-2;Tillgångsgatan 1;118 46;Stockholm;1102;1234;59.3121;18.0713\n"
        "AXE-3;Tillgångsgatan 3;118 46;Stockholm;1201;1234;59.3125;18.0720\n"
        "AXE-4;Tillgångsgatan 3;118 46;Stockholm;1202;1234;59.3125;18.0720\n",
        encoding="utf-8")
    engine = sa.create_engine(live_server.env["DATABASE_URL"])
    night = utcnow() - timedelta(hours=3)
    with Session(engine) as session:
        acme = upsert_landlord(session, code="ACME", name="Acme Bostäder")
        import_register(session, acme, register, actor="test")
        operator = session.scalars(sa.select(User).where(User.role == "operator")).first()
        flats = session.scalars(sa.select(RentalObject).where(
            RentalObject.objektsnummer.like("AXE-%")).order_by(RentalObject.objektsnummer)).all()
        cars = [Patrol(call_sign=sign, name=sign, status="available", lat=59.31, lon=18.07,
                       position_at=night) for sign in ("Jour 41", "Jour 42")]
        session.add_all(cars)
        session.flush()
        car = cars[0]
        reports = []
        for flat in flats[:2]:
            job = create_complaint(session, NewComplaint(
                landlord=acme, category="music", object_id=flat.id,
                description="Hög musik och bas"), user_id=None)
            assign(session, job, car, user_id=operator.id)
            reports.append(submit_report(session, job, patrol_id=car.id, data={
                "outcome": "stopped", "text": "Musiken sänktes efter samtal.",
                "arrived_at": night.isoformat(), "left_at": night.isoformat()}))
        release_report(session, reports[1], operator)
        jobs = {}
        for flat, each in zip(flats[2:], cars, strict=True):
            jobs[each.call_sign] = create_complaint(session, NewComplaint(
                landlord=acme, category="music", object_id=flat.id,
                description="Skrik i trapphuset"), user_id=None)
            assign(session, jobs[each.call_sign], each, user_id=operator.id)
        # The acknowledgement timer's alarm: a job back in the queue with no car free.
        alarmed = create_complaint(session, NewComplaint(
            landlord=acme, category="party", object_id=flats[0].id,
            description="Fest i lägenheten"), user_id=None)
        alarmed.alarm, alarmed.alarm_at = "no_car", utcnow()
        session.commit()
        ids = {"alarmed": alarmed.id, "waiting": reports[0].id, "released": reports[1].id,
               "job": jobs["Jour 41"].id, "tablet": {"sv-light": ("Jour 41", jobs["Jour 41"].id),
                                                    "fi-dark": ("Jour 42", jobs["Jour 42"].id)}}
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def tenant(live_server):
    """Tove, ACME's tenant with an agreement in force and an activated account on My pages."""
    from datetime import date

    from dispatch.auth import tenants
    from dispatch.auth.identity import Identity
    from dispatch.models import Agreement, AgreementParty, Person
    from tests.support.tenant_helpers import CURRENT

    engine = sa.create_engine(live_server.env["DATABASE_URL"])
    with Session(engine) as session:
        acme = upsert_landlord(session, code="ACME", name="Acme Bostäder")
        person = Person(landlord_id=acme.id, name="Tove Tenant", kundnummer="AXE-K1",
                        personnummer=CURRENT)
        session.add(person)
        session.flush()
        agreement = Agreement(landlord_id=acme.id, avtalsnummer="AXE-A1",
                              starts_on=date(2020, 1, 1))
        agreement.parties = [AgreementParty(person_id=person.id, position=1)]
        session.add(agreement)
        session.flush()
        found = tenants.identify(session, Identity(CURRENT, "Tove Tenant", "SE"), "bankid",
                                 today=date.today(), ip=None)
        account = tenants.register(session, found.identification, email="tove@axe.example",
                                   password="Hyra#2026", locale=None, ip=None)
        tenants.activate(session, account, ip=None)
        session.commit()
    engine.dispose()
    return {"email": "tove@axe.example", "password": "Hyra#2026"}


@pytest.fixture(scope="module")
def staff(browser, live_server):
    """Logged-in browser contexts, one per role and language, kept for the module."""
    contexts = {}

    def open_as(role: str | None, look: str):
        lang, scheme = look.split("-")
        if (role, look) not in contexts:
            context = browser.new_context(locale="sv-SE", color_scheme=scheme,
                                          viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.goto(f"{live_server.url}/login?lang={lang}")
            if role:
                page.locator("input[name=email]").fill(f"{role}@live.example.se")
                page.locator("input[name=password]").fill(PASSWORD)
                page.locator("input[name=password]").press("Enter")
                expect(page.locator("form.logout")).to_be_visible()
            contexts[(role, look)] = page
        return contexts[(role, look)]

    yield open_as
    for page in contexts.values():
        page.context.close()


def assert_accessible(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    found = violations(page)
    assert not found, f"{url}:\n{describe(found)}"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", ["/login", "/reports/login", "/no/such/page", "/portal/login",
                                  "/portal/register", "/bostad/", "/tillganglighet"])
def test_public_pages_have_no_serious_wcag_violations(staff, live_server, lang, path):
    assert_accessible(staff(None, lang), f"{live_server.url}{path}")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", ["/", "/console/", "/console/figures", "/reports/review",
                                  "/admin/imports", "/admin/devices", "/admin/audit",
                                  "/admin/areas", "/admin/check-ins", "/portal/staff/",
                                  "/bostad/staff/", "/portal/office/identify",
                                  "/portal/office/identify?q=Andersson"])
def test_staff_pages_have_no_serious_wcag_violations(staff, live_server, lang, path):
    assert_accessible(staff("admin", lang), f"{live_server.url}{path}")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", ["/reports/", "/portal/staff/", "/portal/staff/pins",
                                  "/portal/staff/pins?q=Andersson"])
def test_landlord_pages_have_no_serious_wcag_violations(staff, live_server, lang, path):
    assert_accessible(staff("landlord", lang), f"{live_server.url}{path}")


@pytest.mark.parametrize("lang", LANGS)
def test_the_tablet_log_in_has_no_serious_wcag_violations(staff, live_server, lang):
    page = staff(None, lang)
    page.goto(f"{live_server.url}/field/?lang={lang[:2]}")
    expect(page.locator("#login-email")).to_be_visible()
    found = violations(page)
    assert not found, describe(found)


@pytest.mark.parametrize("lang", LANGS)
def test_the_console_with_an_open_job_and_an_alarm_has_no_serious_wcag_violations(
        staff, live_server, world, lang):
    page = staff("operator", lang)
    page.goto(f"{live_server.url}/console/")
    expect(page.locator(f".job[data-job-id='{world['job']}']")).to_be_visible()
    expect(page.locator(f".job[data-job-id='{world['alarmed']}']")).to_be_visible()
    expect(page.locator("#alarms .alarm-line")).to_have_count(1)
    found = violations(page)
    assert not found, describe(found)


@pytest.mark.parametrize("lang", LANGS)
def test_the_report_pages_have_no_serious_wcag_violations(staff, live_server, world, lang):
    assert_accessible(staff("operator", lang),
                      f"{live_server.url}/reports/{world['waiting']}/edit")
    assert_accessible(staff("landlord", lang), f"{live_server.url}/reports/{world['released']}")


@pytest.mark.parametrize("lang", LANGS)
def test_the_tablet_with_a_job_and_offline_has_no_serious_wcag_violations(
        browser, live_server, world, lang):
    code, scheme = lang.split("-")
    call_sign, job_id = world["tablet"][lang]
    context = browser.new_context(locale="sv-SE", color_scheme=scheme,
                                  viewport={"width": 800, "height": 1280})
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/field/?lang={code}")
        page.locator("#login-email").fill("patrol@live.example.se")
        page.locator("#login-password").fill(PASSWORD)
        page.locator("#login-car").select_option(call_sign)
        page.locator("#login-crew1").fill("Anna Andersson")
        page.locator("#login-crew1").press("Enter")
        expect(page.locator(f"#job-{job_id}")).to_be_visible()
        found = violations(page)
        assert not found, describe(found)
        # The offline state: the banner and what waits to be sent.
        page.context.set_offline(True)
        expect(page.locator("#queue")).to_be_visible()
        found = violations(page)
        assert not found, f"offline:\n{describe(found)}"
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_the_statements_feedback_form_with_an_error_has_no_serious_wcag_violations(
        staff, live_server, lang):
    page = staff(None, lang)
    page.goto(f"{live_server.url}/tillganglighet")
    page.locator("#where").fill("Bostadskön")
    page.locator("form button[type=submit], form input[type=submit]").last.click()
    expect(page.locator("#message-error")).to_be_visible()
    expect(page.locator("#message")).to_have_attribute("aria-describedby", "message-error")
    expect(page.locator("#where")).to_have_value("Bostadskön")
    found = violations(page)
    assert not found, describe(found)


@pytest.mark.parametrize("lang", LANGS)
def test_the_tenants_first_page_has_no_serious_wcag_violations(browser, live_server, tenant,
                                                               lang):
    code, scheme = lang.split("-")
    context = browser.new_context(locale="sv-SE", color_scheme=scheme,
                                  viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/portal/login?lang={code}")
        page.locator("input[name=email]").fill(tenant["email"])
        page.locator("input[name=password]").fill(tenant["password"])
        page.locator("input[name=password]").press("Enter")
        page.wait_for_url(lambda url: url.endswith("/portal/"))
        found = violations(page)
        assert not found, f"{page.url}:\n{describe(found)}"
    finally:
        context.close()
