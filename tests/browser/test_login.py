"""In Chromium: the log-in page speaks Swedish, works from the keyboard, keeps what was typed."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_login_page_is_swedish_even_in_an_english_browser(live_server, page):
    page.goto(f"{live_server.url}/login")
    expect(page).to_have_title("Logga in · Störningsjour")
    expect(page.get_by_role("heading", name="Logga in")).to_be_visible()
    expect(page.get_by_label("E-post")).to_be_focused()


def _log_in_by_keyboard(page, url: str, email: str, password: str) -> None:
    """Open the log-in page, type into the focused e-mail field, Tab, the password, Enter."""
    page.goto(f"{url}/login")
    expect(page.get_by_label("E-post")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")


def test_wrong_password_shows_the_error_and_keeps_the_email(live_server, page):
    _log_in_by_keyboard(page, live_server.url, "operator@live.example.se", "not the password")
    expect(page.get_by_role("alert")).to_have_text("Fel e-postadress eller lösenord.")
    expect(page.get_by_label("E-post")).to_have_value("operator@live.example.se")


def test_operator_logs_in_with_the_keyboard_alone_and_sees_the_landlords(live_server, page):
    _log_in_by_keyboard(page, live_server.url, "operator@live.example.se",
                        "correct horse battery")
    expect(page.get_by_role("heading", name="Hyresvärdar")).to_be_visible()
    expect(page.get_by_role("cell", name="Acme Bostäder")).to_be_visible()
    expect(page.get_by_text("08-465 004 01")).to_be_visible()


def test_language_can_be_switched_to_finnish(live_server, page):
    page.goto(f"{live_server.url}/login")
    page.get_by_role("link", name="Suomi").click()
    expect(page.get_by_role("heading", name="Kirjaudu sisään")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Kirjaudu sisään")).to_be_visible()
