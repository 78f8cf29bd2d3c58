"""WCAG 2.1 AA in Chromium, checked by axe-core: every page below, in Swedish and Finnish, in
the light and the dark theme, has no violation of impact serious or critical (contrast, labels,
names, landmarks, lang). Against the Procfile's web process (the shared live server)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.axe import describe, violations

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
# Each language once in each theme: the words change with the one, the colours with the other.
LANGS = ["sv-light", "fi-dark"]


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
                                  "/portal/register", "/bostad/"])
def test_public_pages_have_no_serious_wcag_violations(staff, live_server, lang, path):
    assert_accessible(staff(None, lang), f"{live_server.url}{path}")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", ["/", "/console/", "/console/figures", "/reports/review",
                                  "/admin/imports", "/admin/devices", "/admin/audit",
                                  "/admin/areas", "/portal/staff/", "/bostad/staff/"])
def test_staff_pages_have_no_serious_wcag_violations(staff, live_server, lang, path):
    assert_accessible(staff("admin", lang), f"{live_server.url}{path}")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", ["/reports/", "/portal/staff/"])
def test_landlord_pages_have_no_serious_wcag_violations(staff, live_server, lang, path):
    assert_accessible(staff("landlord", lang), f"{live_server.url}{path}")


@pytest.mark.parametrize("lang", LANGS)
def test_the_tablet_log_in_has_no_serious_wcag_violations(staff, live_server, lang):
    assert_accessible(staff(None, lang), f"{live_server.url}/field/?lang={lang[:2]}")
