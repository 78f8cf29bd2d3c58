"""Every page and mail in Swedish and Finnish: each message id the code looks up while
rendering them has a translation in that language's catalog, counts take the right plural
form ("1 ny rapport", "2 nya rapporter"), and the mails' subjects and plain text are no longer
English. The link in the morning mail leads to a log-in page with the contact's address filled
in, without the address in any URL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel import support
from babel.messages.pofile import read_po
from flask_babel import force_locale
from sqlalchemy import select

import dispatch
from dispatch.core.templating import decimal
from dispatch.models import MorningMail
from dispatch.reports.morning import send_morning_reports
from dispatch.reports.service import correct_report
from tests.support.reports_helpers import forget_request_state, html_of, local, text_of

pytest_plugins = ["tests.support.reports"]

CATALOGS = Path(dispatch.__file__).parent / "translations"
NOW = local(2026, 11, 26, 6, 0)
LINK = re.compile(r"https?://[^\s\"<>]+(/reports/m/[A-Za-z0-9_-]+)")


def _catalog(locale: str) -> dict:
    with open(CATALOGS / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id and not m.fuzzy}


def _translated(string) -> bool:
    return bool(string) and (isinstance(string, str) or all(string))


@pytest.fixture
def looked_up(monkeypatch):
    """The message ids looked up in the app's catalogs (not WTForms' own) while it runs."""
    used: set = set()
    gettext, ngettext = support.Translations.ugettext, support.Translations.ungettext

    def spy_gettext(self, message):
        if getattr(self, "domain", "messages") == "messages":
            used.add(message)
        return gettext(self, message)

    def spy_ngettext(self, singular, plural, n):
        if getattr(self, "domain", "messages") == "messages":
            used.add((singular, plural))
        return ngettext(self, singular, plural, n)

    monkeypatch.setattr(support.Translations, "ugettext", spy_gettext)
    monkeypatch.setattr(support.Translations, "ungettext", spy_ngettext)
    return used


@pytest.fixture
def night(app, db_session, smtp, create_landlord, create_user, make_report):
    """ACME with a Swedish and a Finnish contact, BRAVO with one report only; a night with
    reports released, one corrected, one still waiting for review; the morning mail sent."""
    acme = create_landlord(code="ACME")
    bravo = create_landlord(code="BRAVO", name="Bravo AB")
    create_user(role="landlord", landlord=acme, email="sv@acme.se").locale = "sv"
    create_user(role="landlord", landlord=acme, email="fi@acme.se").locale = "fi"
    create_user(role="landlord", landlord=bravo, email="sv@bravo.se").locale = "sv"
    create_user(role="landlord", landlord=bravo, email="fi@bravo.se").locale = "fi"
    operator = create_user(role="operator", email="op@jour.se")
    create_user(role="admin", email="admin@jour.se")
    reports = [make_report(acme, at=local(2026, 11, 26, 1, 53), released=local(2026, 11, 26, 4)),
               make_report(acme, at=local(2026, 11, 25, 23, 5), released=local(2026, 11, 26, 4)),
               make_report(bravo, at=local(2026, 11, 25, 22, 0), released=local(2026, 11, 26, 5))]
    waiting = make_report(acme, at=local(2026, 11, 26, 3, 0), released=None)
    correct_report(db_session, waiting, operator, {"text": "Rättad av operatören."})
    send_morning_reports(app, db_session, now=NOW)
    return {"acme": acme, "reports": reports, "waiting": waiting}


PLURALS = {
    "sv": {1: "1 ny rapport ", 2: "2 nya rapporter"},
    "fi": {1: "1 uuden raportin", 2: "2 uutta raporttia"},
}
SUBJECTS = {"sv": {1: ": 1 ny rapport", 2: ": 2 nya rapporter"},
            "fi": {1: ": 1 uusi raportti", 2: ": 2 uutta raporttia"}}
ENGLISH = ("new report", "Read the reports", "Your log-in code", "Good morning", "waiting")


def _pages(app, night) -> dict[str, list[str]]:
    """Who sees which pages."""
    rid, waiting = night["reports"][0].id, night["waiting"].id
    return {
        "": ["/login", "/reports/login", "/field/", "/no-such-page", "/tillganglighet"],
        "sv@acme.se": ["/reports/", "/reports/morning/2026-11-26", f"/reports/{rid}",
                       f"/reports/{rid}/print", f"/reports/{rid}.pdf", "/reports/expiring",
                       "/reports/export.csv?from=2026-11-25&to=2026-11-25"],
        "op@jour.se": ["/reports/review", f"/reports/{waiting}/edit", f"/reports/{waiting}",
                       "/console/", "/console/figures?night=2026-11-25"],
        "admin@jour.se": ["/admin/imports", "/admin/devices", "/admin/audit",
                          "/admin/audit?since=no-date"],
    }


@pytest.mark.parametrize("locale", ["sv", "fi"])
def test_every_page_and_mail_is_translated_with_the_right_plural(
        app, client, auth, smtp, night, looked_up, locale):
    catalog = _catalog(locale)
    # The mails (sent by the fixture, before this language's pages): in the contact's language.
    for address, count in ((f"{locale}@acme.se", 2), (f"{locale}@bravo.se", 1)):
        [mail] = smtp.to(address)
        text = text_of(mail)
        assert SUBJECTS[locale][count] in mail["Subject"]
        assert PLURALS[locale][count] in text + " " and PLURALS[locale][count].strip() in (
            html_of(mail))
        assert not any(word in text or word in mail["Subject"] for word in ENGLISH), text
    acme_text = text_of(smtp.to(f"{locale}@acme.se")[0])
    assert {"sv": "Ytterligare 1 rapport väntar",
            "fi": "Vielä 1 raportti odottaa"}[locale] in acme_text

    for who, paths in _pages(app, night).items():
        forget_request_state()
        client.get(f"/login?lang={locale}")
        if who:
            assert auth.login(who).status_code == 302
        for path in paths:
            answer = client.get(path)
            assert answer.status_code in (200, 302, 400, 404), (path, answer.status_code)
            if answer.mimetype == "text/html":
                assert f'<html lang="{locale}">' in answer.get_data(as_text=True), path
        if who:
            client.post("/logout", data={"csrf_token": auth.csrf_token(paths[0])})

    forget_request_state()
    client.get(f"/login?lang={locale}")
    auth.login("op@jour.se")
    review = client.get("/reports/review").get_data(as_text=True)
    assert {"sv": "1 rapport väntar på granskning.",
            "fi": "1 raportti odottaa tarkastusta."}[locale] in review

    assert len(looked_up) > 150
    missing = sorted(str(m) for m in looked_up if not _translated(catalog.get(m)))
    assert missing == [], f"looked up but not translated in {locale}: {missing}"


def test_the_log_in_code_mail_speaks_the_contacts_language(
        client, auth, smtp, create_landlord, create_user):
    create_user(role="landlord", landlord=create_landlord(), email="fi@acme.se").locale = "fi"
    token = auth.csrf_token("/reports/login")
    client.post("/reports/login/code", data={"email": "fi@acme.se", "csrf_token": token})
    [mail] = smtp.to("fi@acme.se")
    assert mail["Subject"] == "Kirjautumiskoodisi Störningsjoureniin"
    assert "Your" not in text_of(mail)


def test_the_mail_link_fills_in_the_contacts_address_without_putting_it_in_the_url(
        client, smtp, night):
    path = LINK.search(text_of(smtp.to("sv@acme.se")[0])).group(1)
    forget_request_state()
    to_login = client.get(path)
    location = to_login.headers["Location"]
    assert to_login.status_code == 302 and "/reports/login" in location
    assert "acme" not in location and "%40" not in location and "@" not in location
    page = client.get(location).get_data(as_text=True)
    assert page.count('value="sv@acme.se"') == 2  # the password form and the code form
    forged = re.sub(r"hint=[^&]+", "hint=eyJ4IjoxfQ.forged.sig", location)
    assert "sv@acme.se" not in client.get(forged).get_data(as_text=True)


def test_the_mail_row_holds_the_count_waiting_for_review(db_session, night):
    rows = db_session.scalars(select(MorningMail).order_by(MorningMail.id)).all()
    waiting = {row.content["reports"]: row.content["waiting_review"] for row in rows}
    assert waiting == {2: 1, 1: 0}


def test_the_figures_page_writes_numbers_with_a_decimal_comma(
        client, auth, db_session, create_user, make_report, create_landlord):
    make_report(create_landlord(), at=local(2026, 11, 25, 23, 0), released=None)
    create_user(role="operator", email="op@jour.se")
    auth.login("op@jour.se")
    page = client.get("/console/figures?night=2026-11-25").get_data(as_text=True)
    assert re.search(r"\(\d+,\d %\)", page), page


def test_a_column_of_figures_has_as_many_decimals_in_every_row(app):
    with app.app_context(), force_locale("sv"):
        assert [decimal(v, 1, fixed=True) for v in (103, 398.14, 9.7, 1234.5)] == [
            "103,0", "398,1", "9,7", "1\xa0234,5"]
        assert decimal(103.0) == "103"  # elsewhere: at most one decimal
