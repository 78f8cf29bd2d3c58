"""In Chromium: an operator corrects a patrol's report on the review page and sees the
correction marked, with the patrol's own text kept beside it; an admin then finds that
correction in the audit log by filtering on who and what. Against the Procfile's web process."""

from __future__ import annotations

import csv
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
from dispatch.reports.service import submit_report
from imports.service import import_register
from tests.conftest import REGISTER_COLUMNS, _fresh_database_url
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
PATROLS_TEXT = "Musiken sänktes efter samtal med den boende."
CORRECTED = "Musiken sänktes kl. 02.10 efter samtal med den boende i lgh 1102."


@pytest.fixture(scope="module")
def review_server(tmp_path_factory):
    """The web process on a fresh database with one report waiting for review."""
    url, drop = _fresh_database_url(tmp_path_factory, "review")
    instance = tmp_path_factory.mktemp("review")
    server = LiveServer(url, instance).start()
    engine = sa.create_engine(server.env["DATABASE_URL"])
    night = utcnow() - timedelta(hours=3)
    register = instance / "register.csv"
    with register.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=REGISTER_COLUMNS, delimiter=";")
        writer.writeheader()
        writer.writerow({"objektsnummer": "1-1102", "gatuadress": "Götgatan 12B",
                         "postnummer": "118 46", "ort": "Stockholm", "lagenhetsnummer": "1102",
                         "portkod": "4711", "lat": "59.3121", "lon": "18.0713"})
    with Session(engine) as session, time_machine.travel(night, tick=False):
        acme = upsert_landlord(session, code="ACME", name="Acme Bostäder")
        operator = upsert_user(session, email="op@acme.se", role="operator",
                               password=PASSWORD)
        upsert_user(session, email="admin@acme.se", role="admin", password=PASSWORD)
        import_register(session, acme, register, actor="test")
        flat = session.scalars(sa.select(RentalObject)).one()
        job = create_complaint(session, NewComplaint(
            landlord=acme, category="music", object_id=flat.id,
            description="Hög musik och bas"), user_id=None)
        patrol = Patrol(call_sign="Jour 7", name="Jour 7", status="available", lat=59.31,
                        lon=18.07, position_at=night)
        session.add(patrol)
        session.flush()
        assign(session, job, patrol, user_id=operator.id)
        report = submit_report(session, job, patrol_id=patrol.id, data={
            "outcome": "stopped", "text": PATROLS_TEXT,
            "arrived_at": night.isoformat(), "left_at": night.isoformat()})
        session.commit()
        report_id = report.id
    engine.dispose()
    yield server, report_id
    server.stop()
    drop()


def _log_in(page, url: str, email: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("E-post").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_label("Lösenord").press("Enter")
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()


def test_a_correction_is_marked_on_the_review_page_and_found_in_the_audit_log(
        review_server, browser):
    server, report_id = review_server
    operator = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    admin = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    try:
        page = operator.new_page()
        page.set_default_timeout(15_000)
        _log_in(page, server.url, "op@acme.se")
        page.goto(f"{server.url}/reports/review")
        row = page.locator(f"#review-{report_id}")
        expect(row).to_contain_text("Götgatan 12B")
        expect(row).to_contain_text("lgh 1102")
        expect(row).to_contain_text("Jour 7")
        expect(row).to_contain_text("Musik")
        expect(row).to_contain_text("Hög musik och bas")

        row.get_by_role("link", name=str(report_id)).click()
        expect(page.locator(".correction")).to_have_count(0)
        page.get_by_label("Rapporttext").fill(CORRECTED)
        page.get_by_role("button", name="Spara rättelser").click()
        expect(page.get_by_role("status")).to_contain_text("Rättelserna är sparade")
        mark = page.locator('.correction[data-field="text"]')
        expect(mark).to_contain_text("Rättad av operatören")
        expect(mark).to_contain_text(f"Patrullens ursprungliga text: {PATROLS_TEXT}")
        expect(page.get_by_label("Rapporttext")).to_have_value(CORRECTED)
        page.goto(f"{server.url}/reports/review")
        expect(page.locator(f"#review-{report_id} .badge")).to_have_text("rättad")

        audit = admin.new_page()
        audit.set_default_timeout(15_000)
        _log_in(audit, server.url, "admin@acme.se")
        audit.get_by_role("link", name="Granskningslogg").click()
        expect(audit.get_by_role("heading", name="Granskningslogg")).to_be_visible()
        audit.get_by_label("Vem (e-post)").fill("op@")
        audit.get_by_label("Vad").select_option("report.corrected")
        audit.get_by_role("button", name="Filtrera").click()
        rows = audit.locator("table.audit tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("op@acme.se")
        expect(rows.first).to_contain_text("report.corrected")
        expect(rows.first).to_contain_text(f"report:{report_id}")
        expect(audit.get_by_label("Vem (e-post)")).to_have_value("op@")  # the filter stays
        expect(audit.get_by_role("link", name="Exportera CSV")).to_have_attribute(
            "href", "/admin/audit.csv?who=op@&what=report.corrected")
    finally:
        operator.close()
        admin.close()
