"""In Chromium (#14): a tablet keeps jobs and door codes in its storage while the shift lasts;
when an admin revokes it, or the patrol logs out, nothing of them stays on the tablet."""

import re

import pytest
import requests
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
KEPT = "Object.keys(localStorage).filter(k => k.startsWith('sj.field.') && k !== 'sj.field.owner')"


@pytest.fixture(scope="module")
def world(live_server, tmp_path_factory):
    """A landlord of its own with one flat (door code 8642), two cars, an operator token."""
    register = tmp_path_factory.mktemp("revoke") / "revo.csv"
    register.write_text(
        "objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;portkod;lat;lon\n"
        "R-1102;Revogatan 1;118 46;Stockholm;1102;8642;59.3121;18.0713\n", encoding="utf-8")
    live_server.cli("create-landlord", "--code", "REVO", "--name", "Revo Bostäder")
    live_server.cli("import-register", "--landlord", "REVO", str(register))
    for call_sign in ("Jour 21", "Jour 22"):
        live_server.cli("create-patrol", "--call-sign", call_sign)
    token = live_server.cli("create-token", "--role", "operator").strip()
    return {"url": live_server.url, "headers": {"Authorization": f"Bearer {token}"}}


@pytest.fixture
def tablet(browser):
    context = browser.new_context(locale="en-US", geolocation={"latitude": 59.314,
                                                                "longitude": 18.072},
                                  permissions=["geolocation"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _api(world, method, path, **kwargs):
    response = requests.request(method, f"{world['url']}/api/v1{path}", headers=world["headers"],
                                timeout=10, **kwargs)
    assert response.ok, response.text
    return response.json()


def _start_shift_with_a_job(page, world, call_sign):
    """Log in, go on duty, get a job with its door code; it is kept in the tablet's storage."""
    page.goto(f"{world['url']}/field/?lang=en")
    page.get_by_label("E-mail").fill("patrol@live.example.se")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Call sign").select_option(call_sign)
    page.get_by_label("Staff on the car").fill("Anna Andersson")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#net")).to_have_text("Online")
    duty = page.locator("#duty")
    if duty.get_attribute("aria-pressed") != "true":
        duty.click()
    expect(duty).to_have_attribute("aria-pressed", "true")
    patrol = next(p for p in _api(world, "GET", "/patrols") if p["call_sign"] == call_sign)
    hit = _api(world, "GET", "/addresses/search", params={"q": "Revogatan 1 1102",
                                                           "landlord": "REVO"})[0]
    job = _api(world, "POST", "/complaints", json={
        "landlord": "REVO", "object_id": hit["object_id"], "category": "music"})
    _api(world, "POST", f"/jobs/{job['job_id']}/dispatch",
         json={"patrol_id": patrol["patrol_id"]})
    expect(page.locator(f"#job-{job['job_id']} .door .code")).to_have_text("8642")
    assert "8642" in page.evaluate("localStorage.getItem('sj.field.jobs')")


def _revoke_at_admin_page(url, call_sign):
    with requests.Session() as admin:
        def csrf(page):
            return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

        login = admin.get(f"{url}/login", timeout=10).text
        assert admin.post(f"{url}/login", timeout=10, data={
            "email": "admin@live.example.se", "password": PASSWORD, "csrf_token": csrf(login)}).ok
        page = admin.get(f"{url}/admin/devices", timeout=10).text
        action = next(re.search(r'action="(/admin/devices/\d+/revoke)"', row).group(1)
                      for row in page.split("<tr")[1:] if call_sign in row and "/revoke" in row)
        assert admin.post(f"{url}{action}", timeout=10, data={"csrf_token": csrf(page)}).ok


def test_a_revoked_tablet_wipes_its_jobs_and_door_codes(tablet, world):
    _start_shift_with_a_job(tablet, world, "Jour 21")
    _revoke_at_admin_page(world["url"], "Jour 21")
    expect(tablet.locator("#login")).to_be_visible()  # at once, with nothing sent by the tablet
    expect(tablet.locator("#login-error")).to_contain_text("revoked")
    assert tablet.evaluate(KEPT) == []
    assert "8642" not in tablet.content()


def test_logging_out_wipes_the_tablets_jobs_and_door_codes(tablet, world):
    _start_shift_with_a_job(tablet, world, "Jour 22")
    tablet.once("dialog", lambda dialog: dialog.accept())
    tablet.locator("#logout").click()
    expect(tablet.locator("#login")).to_be_visible()
    assert tablet.evaluate(KEPT) == []
    assert "8642" not in tablet.content()
