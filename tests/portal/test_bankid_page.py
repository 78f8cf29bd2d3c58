"""In Chromium, against the Procfile's web process and the local BankID service (the fixture of
tests/browser/test_portal_registration.py): once a BankID order has failed, the page shows
only what went wrong and the way to try again — the QR code, its instructions, the
same-device link and Cancel belong to the order and go with it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_portal_registration import portal_server  # noqa: F401 (the fixture)

pytestmark = pytest.mark.browser
pytest_plugins = ["tests.support.reports", "tests.support.tenant_accounts"]

BLOCKED = "Det BankID du försöker använda är för gammalt eller spärrat."


def test_a_failed_bankid_order_shows_only_the_error_and_try_again(page, portal_server,  # noqa: F811
                                                                   bankid):
    page.goto(portal_server.url + "/portal/register")
    bankid.fail_next(hintCode="certificateErr")
    page.get_by_role("button", name="Identifiera dig med BankID").click()
    box = page.locator("#bankid")
    message = page.locator("#bankid-message")
    expect(message).to_contain_text(BLOCKED)
    expect(message).to_have_attribute("role", "alert")
    expect(box.get_by_role("link")).to_have_text(["Försök igen"])
    expect(box.get_by_role("button")).to_have_count(0)  # no Cancel: the order is over
    expect(box.get_by_role("img")).to_have_count(0)
    expect(page.get_by_text("Öppna BankID-appen i din telefon och skanna QR-koden.")).to_be_hidden()
    expect(page.get_by_text("Öppna BankID på den här enheten")).to_be_hidden()
    page.get_by_role("link", name="Försök igen").click()
    expect(page.get_by_role("button", name="Identifiera dig med BankID")).to_be_visible()
