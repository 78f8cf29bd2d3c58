"""In Chromium, on a phone-sized screen: the contact person opens the link from the morning
mail, logs in with a one-time code from a second mail, reads the report and downloads the PDF.
Against the Procfile's web process and a real SMTP server."""

from __future__ import annotations

import csv
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from dispatch.auth.service import upsert_user
from dispatch.jobs.dispatching import NewComplaint, assign, create_complaint
from dispatch.models import Patrol, RentalObject, utcnow
from dispatch.register.landlords import upsert_landlord
from dispatch.reports.nights import latest_morning, morning_start
from dispatch.reports.service import release_report, submit_report
from imports.service import import_register
from tests.conftest import REGISTER_COLUMNS, _fresh_database_url
from tests.support.reports_helpers import STOCKHOLM, text_of
from tests.support.servers import LiveServer, wait_until

pytestmark = pytest.mark.browser
pytest_plugins = ["tests.support.reports"]

LINK = re.compile(r"https?://\S+/reports/m/[A-Za-z0-9_-]+")
CODE = re.compile(r"^\s+(\d{6})\s*$", re.M)


@pytest.fixture(scope="module")
def reports_server(tmp_path_factory, smtp_server):
    """The web process on a fresh database holding one released report from last night, with
    mail going to the test's SMTP server."""
    url, drop = _fresh_database_url(tmp_path_factory, "readers")
    instance = tmp_path_factory.mktemp("readers")
    server = LiveServer(url, instance, extra_env={
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_server.port}"}).start()
    engine = sa.create_engine(server.env["DATABASE_URL"])
    # Released two hours before this morning's 06:00, so it is in this morning's mail.
    morning = latest_morning(utcnow(), STOCKHOLM)
    night = morning_start(morning, STOCKHOLM) - timedelta(hours=4)
    register = instance / "register.csv"
    with register.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=REGISTER_COLUMNS, delimiter=";")
        writer.writeheader()
        writer.writerow({"objektsnummer": "1-1102", "gatuadress": "Götgatan 12B",
                         "postnummer": "118 46", "ort": "Stockholm", "lagenhetsnummer": "1102",
                         "portkod": "4711", "lat": "59.3121", "lon": "18.0713"})
    with Session(engine) as session, time_machine.travel(night, tick=False):
        acme = upsert_landlord(session, code="ACME", name="Acme Bostäder")
        upsert_user(session, email="kontakt@acme.se", role="landlord", landlord=acme)
        operator = upsert_user(session, email="op@acme.se", role="operator")
        import_register(session, acme, register, actor="test")
        flat = session.scalars(sa.select(RentalObject)).one()
        job = create_complaint(session, NewComplaint(
            landlord=acme, category="music", object_id=flat.id,
            description="Hög musik"), user_id=None)
        patrol = Patrol(call_sign="Jour 1", name="Jour 1", status="available", lat=59.31,
                        lon=18.07, position_at=night)
        session.add(patrol)
        session.flush()
        assign(session, job, patrol, user_id=operator.id)
        report = submit_report(session, job, patrol_id=patrol.id, data={
            "outcome": "stopped", "text": "Musiken sänktes efter samtal med den boende.",
            "arrived_at": night.isoformat(), "left_at": night.isoformat()})
        release_report(session, report, operator)
        session.commit()
        report_id = report.id
    engine.dispose()
    yield server, report_id
    server.stop()
    drop()


def test_contact_opens_the_mailed_link_logs_in_with_a_code_and_downloads_the_pdf(
        reports_server, smtp, browser):
    server, report_id = reports_server
    assert json.loads(server.cli("send-morning-reports", "--json"))["sent"] == 1
    [mail] = smtp.to("kontakt@acme.se")
    link = LINK.search(text_of(mail)).group(0)

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US",
                                  accept_downloads=True, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(link)
        expect(page).to_have_url(re.compile(r"/reports/login\?next="))
        expect(page.locator("html")).to_have_attribute("lang", "sv")
        page.locator("#code-email").fill("kontakt@acme.se")
        page.locator("#code-email").press("Enter")
        code_field = page.locator("input[name=code]")
        expect(code_field).to_be_visible()

        def code_mail():
            mails = [m for m in smtp.to("kontakt@acme.se") if CODE.search(text_of(m))]
            return mails[-1] if mails else None

        code = CODE.search(text_of(wait_until(code_mail, timeout=15))).group(1)
        code_field.fill(code)
        code_field.press("Enter")

        report_link = page.locator(f"a.report-link[href='/reports/{report_id}']")
        expect(report_link).to_be_visible()
        report_link.click()
        expect(page.get_by_text("Musiken sänktes efter samtal med den boende.")).to_be_visible()
        with page.expect_download() as download:
            page.locator(f"a[href='/reports/{report_id}.pdf']").first.click()
        body = download.value.path().read_bytes()
        assert body.startswith(b"%PDF") and b"DejaVuSans" in body
        assert download.value.suggested_filename.startswith(f"storningsrapport-{report_id}-")
    finally:
        context.close()
