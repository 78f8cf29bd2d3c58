"""In Chromium (issue 19): a car on site misses its check-in, the console shows the alarm, and
nobody handling it, the car's phone gets an SMS (the fake 46elks gateway); acknowledging on the
console (K) stops the escalation: no SMS to the duty supervisor. That it would have come by
then is shown by a later alarm's supervisor SMS arriving first (no fixed sleeps). And the
admin gives a car its phone on /admin/devices, a wrong number refused next to its field.

A server of its own (the Procfile's web process), as in test_patrol_alarm; the car's tablet is
a Socket.IO client that never checks in."""

from __future__ import annotations

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.conftest import _fresh_database_url
from tests.support.servers import LiveServer, wait_until
from tests.support.sms_gateway import FakeSmsGateway
from tests.support.tablets import ScriptedTablet

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
CAR_PHONE, SUPERVISOR = "+46701740699", "+46701740698"


@pytest.fixture(scope="module")
def gateway():
    with FakeSmsGateway(user="elks-user", password="elks-secret", auto_deliver=True) as fake:
        yield fake


@pytest.fixture(scope="module")
def server(tmp_path_factory, gateway):
    url, drop = _fresh_database_url(tmp_path_factory, "escalation_live")
    instance = tmp_path_factory.mktemp("escalation-instance")
    live = LiveServer(url, instance, {
        "SMS_BACKEND": "http", "SMS_GATEWAY_URL": gateway.url, "SMS_GATEWAY_USER": "elks-user",
        "SMS_GATEWAY_PASSWORD": "elks-secret", "SMS_SUPERVISOR_TO": SUPERVISOR,
        "ACK_CHECK_S": "1", "ACK_ALARM_AFTER_S": "600", "ACK_REDISPATCH_AFTER_S": "1200",
        "CHECKIN_INTERVAL_S": "2", "CHECKIN_FIGHT_THREAT_S": "2", "CHECKIN_GRACE_S": "1",
        "ESCALATE_CAR_AFTER_S": "2", "ESCALATE_SUPERVISOR_AFTER_S": "20"}).start()
    live.cli("create-landlord", "--code", "ESK", "--name", "Esk Bostäder")
    for role in ("operator", "admin"):
        live.cli("create-user", "--role", role, "--email", f"{role}@esk.example.se",
                 "--password", PASSWORD)
    register = instance / "esk.csv"
    register.write_text(
        "objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;portkod;lat;lon;"
        "avtalsnummer;kundnummer;hyresgast_namn;hyresgast_telefon\n"
        "E-1102;Eskgatan 5;118 46;Stockholm;1102;4711;59.3121;18.0713;A1;K1;"
        "Anna Andersson;070-174 06 05\n", encoding="utf-8")
    live.cli("import-register", "--landlord", "ESK", str(register))
    live.cli("create-patrol", "--call-sign", "Jour 51")
    live.car_token = live.cli("create-token", "--role", "patrol", "--email", "51@car.example.se",
                              "--call-sign", "Jour 51").strip()
    live.token = live.cli("create-token", "--role", "operator").strip()
    yield live
    live.stop()
    drop()


def api(server, method, path, **kwargs):
    response = requests.request(method, f"{server.url}/api/v1{path}", timeout=10,
                                headers={"Authorization": f"Bearer {server.token}"}, **kwargs)
    assert response.ok, response.text
    return response.json()


def log_in(page, server, email, path):
    page.goto(f"{server.url}{path}")
    expect(page.get_by_label("E-post")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")


@pytest.fixture
def admin(browser, server):
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm",
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, server, "admin@esk.example.se", "/admin/devices")
    yield page
    context.close()


@pytest.fixture
def console(browser, server):
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm",
                                  viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, server, "operator@esk.example.se", "/console")
    expect(page.locator("#conn")).to_have_text("Ansluten")
    yield page
    context.close()


def test_the_admin_gives_the_car_its_phone_and_a_wrong_number_is_refused_by_its_field(
        server, admin):
    field = admin.get_by_label("Telefon för SMS till Jour 51")
    field.fill("12")
    admin.get_by_role("button", name="Spara telefonen för Jour 51").click()
    error = admin.get_by_text("Det här är inte ett telefonnummer")
    expect(error).to_be_visible()
    field = admin.get_by_label("Telefon för SMS till Jour 51")
    expect(field).to_have_value("12")
    expect(field).to_have_attribute("aria-invalid", "true")
    admin.screenshot(path=str(server.log.parent / "car-phone-error.png"), full_page=True)
    field.fill("070-174 06 99")
    field.press("Enter")
    expect(admin.get_by_text("Telefonen för Jour 51 är 070-174 06 99.")).to_be_visible()
    expect(admin.get_by_label("Telefon för SMS till Jour 51")).to_have_value("070-174 06 99")
    admin.screenshot(path=str(server.log.parent / "car-phone.png"), full_page=True)


def test_a_missed_check_in_alarms_the_console_then_texts_the_car_and_k_stops_the_rest(
        server, gateway, console):
    # The car's phone (the admin's page above does the same; this test stands on its own).
    engine = sa.create_engine(server.env["DATABASE_URL"].replace(
        "postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE patrols SET phone = :p WHERE call_sign = 'Jour 51'"),
                           {"p": CAR_PHONE})
    engine.dispose()

    tablet = ScriptedTablet(server.url, server.car_token, "Jour 51", (59.3125, 18.0713))
    try:
        object_id = api(server, "GET", "/addresses/search",
                        params={"q": "Eskgatan 5 lgh 1102"})[0]["object_id"]
        job_id = api(server, "POST", "/complaints", json={
            "landlord": "ESK", "object_id": object_id, "category": "fight_threat"})["job_id"]
        api(server, "POST", f"/jobs/{job_id}/dispatch", json={})
        wait_until(lambda: job_id in tablet.jobs, timeout=30)
        for status in ("accepted", "en_route", "on_site"):
            tablet.call("job.status", {"job_id": job_id, "status": status})

        banner = console.locator("#patrol-alarms")
        expect(banner).to_be_visible(timeout=20_000)
        expect(banner).to_contain_text("Eskgatan 5")
        [car_sms] = gateway.wait_for(1, timeout=30)
        assert car_sms.to == CAR_PHONE and "Eskgatan 5" in car_sms.message
        assert "4711" not in car_sms.message and "Anna" not in car_sms.message
        console.screenshot(path=str(server.log.parent / "escalation-console.png"))

        expect(banner.get_by_role("button", name="Kvittera (K)")).to_be_focused()
        console.keyboard.press("k")
        expect(banner).to_be_hidden()

        # A later alarm left standing: its supervisor SMS comes after the first alarm's would.
        tablet.call("patrol.alarm", {"event_id": "silent-esk", "kind": "silent"})
        expect(banner).to_contain_text("Jour 51")
        wait_until(lambda: any(s.to == SUPERVISOR for s in gateway.taken), timeout=60)
        sent = [(s.to, s.message) for s in gateway.taken]
        assert [to for to, _text in sent] == [CAR_PHONE, SUPERVISOR], sent
        assert sent[1][1].startswith("Larm från Jour 51")
        kinds = [e["kind"] for e in api(server, "GET", f"/jobs/{job_id}")["events"]]
        assert kinds.count("sms_to_car") == 1 and kinds.count("sms_to_supervisor") == 1, kinds
    finally:
        tablet.sio.disconnect()
