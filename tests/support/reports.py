"""Fixtures for the report tests: a real SMTP server (aiosmtpd) that keeps what it receives,
and a factory for released reports made through the real flow (complaint, dispatch, the
patrol's report, an operator's release) at chosen moments of a moved clock.

Report test modules load it with ``pytest_plugins = ["tests.support.reports"]``; plain
helpers are in ``tests.support.reports_helpers``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import select

from dispatch.jobs.dispatching import NewComplaint, assign, create_complaint
from dispatch.models import Patrol, RentalObject
from dispatch.reports.service import release_report, submit_report
from tests.support.reports_helpers import Sink
from tests.support.servers import free_port


@pytest.fixture(scope="session")
def smtp_server():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def smtp(app, smtp_server):
    """The SMTP server, emptied, with the app sending to it for this test."""
    sink = smtp_server.handler
    sink.reset()
    before = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{smtp_server.port}"
    yield sink
    app.config["SMTP_URL"] = before


@pytest.fixture
def acme(create_landlord, create_user):
    """The landlord ACME with one contact person, kontakt@acme.se, who gets the reports."""
    landlord = create_landlord()
    create_user(role="landlord", landlord=landlord, email="kontakt@acme.se")
    return landlord


@pytest.fixture
def make_report(db_session, create_landlord, build_register, create_user):
    """Factory: a report for ``landlord`` whose call came at ``at`` and which an operator
    released at ``released`` (None: left waiting for review). Returns the report."""
    flats: dict[int, RentalObject] = {}
    operator = create_user(role="operator")
    counter = iter(range(1, 100_000))

    def flat_of(landlord) -> RentalObject:
        if landlord.id not in flats:
            build_register(landlord, [{
                "objektsnummer": f"{landlord.code}-1102", "gatuadress": "Götgatan 12B",
                "postnummer": "118 46", "ort": "Stockholm", "lagenhetsnummer": "1102",
                "portkod": "4711", "lat": "59.3121", "lon": "18.0713",
                "hyresgast_namn": "Test Testsson", "hyresgast_telefon": "070-123 45 67"}])
            flats[landlord.id] = db_session.scalars(
                select(RentalObject).where(RentalObject.landlord_id == landlord.id)).one()
        return flats[landlord.id]

    def factory(landlord, *, at: datetime, released: datetime | None = None,
                text: str = "Hög musik från lägenheten ovanför; den boende sänkte efter samtal.",
                outcome: str = "stopped"):
        flat = flat_of(landlord)
        with time_machine.travel(at.astimezone(UTC), tick=False):
            job = create_complaint(db_session, NewComplaint(
                landlord=landlord, category="music", object_id=flat.id,
                caller_name="Test Testsson", caller_phone="070-123 45 67",
                description="Hög musik sedan 22"), user_id=None)
            patrol = Patrol(call_sign=f"Jour {next(counter)}", name="Jour", status="available",
                            lat=59.314, lon=18.072, position_at=at)
            db_session.add(patrol)
            db_session.flush()
            assign(db_session, job, patrol, user_id=operator.id)
            report = submit_report(db_session, job, patrol_id=patrol.id, data={
                "arrived_at": at.isoformat(), "left_at": at.isoformat(), "outcome": outcome,
                "observations": "Musik hördes i trapphuset.", "disturber_reached": True,
                "disturber_response": "Sänkte musiken.", "tenant_contacted": True,
                "actions": "Pratade med den boende.", "can_testify": True, "text": text})
        if released is not None:
            with time_machine.travel(released.astimezone(UTC), tick=False):
                release_report(db_session, report, operator)
        db_session.flush()
        return report

    return factory
