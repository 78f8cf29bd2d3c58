"""What the night's browser tests share: the API as an operator's token (``server.token``), a
car's tablet on duty and an operator's console, each in a Chromium context of its own, against
a server of the test's own (``tests.support.servers.LiveServer``)."""

from __future__ import annotations

import requests
from playwright.sync_api import expect

from tests.conftest import _fresh_database_url
from tests.support.servers import LiveServer

PASSWORD = "correct horse battery"  # every user these tests create


def night_server(tmp_path_factory, *, name: str, code: str, domain: str, street: str,
                 objektsnummer: str, call_sign: str, position: tuple[float, float],
                 env: dict | None = None):
    """Yield a server of its own (the Procfile's web process, settings ``env``) with a
    landlord ``code``, an operator and a patrol user ``{role}@{domain}``, one flat (1102, door
    code 4711, Anna Andersson) at ``street`` and ``position``, the car ``call_sign`` and an
    operator token (``server.token``); stopped and its database dropped afterwards. For a
    module-scoped fixture: ``yield from night_server(...)``."""
    url, drop = _fresh_database_url(tmp_path_factory, f"{name}_live")
    instance = tmp_path_factory.mktemp(f"{name}-instance")
    live = LiveServer(url, instance, extra_env=env or {}).start()
    live.cli("create-landlord", "--code", code, "--name", f"{code.title()} Bostäder")
    for role in ("operator", "patrol"):
        live.cli("create-user", "--role", role, "--email", f"{role}@{domain}",
                 "--password", PASSWORD)
    register = instance / f"{code.lower()}.csv"
    register.write_text(
        "objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;portkod;lat;lon;"
        "avtalsnummer;kundnummer;hyresgast_namn;hyresgast_telefon\n"
        f"{objektsnummer};{street};118 46;Stockholm;1102;4711;{position[0]};{position[1]};"
        "A1;K1;Anna Andersson;070-174 06 05\n", encoding="utf-8")
    live.cli("import-register", "--landlord", code, str(register))
    live.cli("create-patrol", "--call-sign", call_sign)
    live.token = live.cli("create-token", "--role", "operator").strip()
    try:
        yield live
    finally:
        live.stop()
        drop()


def api(server, method: str, path: str, **kwargs):
    """``/api/v1{path}`` with the server's operator token; the answer's JSON (it must be ok)."""
    response = requests.request(method, f"{server.url}/api/v1{path}", timeout=10,
                                headers={"Authorization": f"Bearer {server.token}"}, **kwargs)
    assert response.ok, response.text
    return response.json()


def tablet_on_duty(browser, server, *, email: str, call_sign: str, near: dict,
                   crew: str = "Ada Berg"):
    """(context, page): the tablet in English, at ``near``, logged in as ``email`` for the
    car ``call_sign`` with ``crew`` on it, online and on duty."""
    context = browser.new_context(locale="en-US", timezone_id="Europe/Stockholm",
                                  geolocation=near, permissions=["geolocation"],
                                  viewport={"width": 800, "height": 1280}, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{server.url}/field/?lang=en")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Call sign").select_option(call_sign)
    page.get_by_label("Staff on the car").fill(crew)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#net")).to_have_text("Online")
    duty = page.locator("#duty")
    if duty.get_attribute("aria-pressed") != "true":
        duty.click()
    expect(duty).to_have_attribute("aria-pressed", "true")
    return context, page


def console_by_keyboard(browser, server, *, email: str):
    """(context, page): the console in Swedish, logged in by keyboard as ``email``, connected."""
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm",
                                  viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{server.url}/console")
    expect(page.get_by_label("E-post")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#conn")).to_have_text("Ansluten")
    return context, page
