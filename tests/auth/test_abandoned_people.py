"""People an identification made for the housing queue who never became an account or an
application are deleted after TENANT_ABANDONED_PERSON_DAYS (issue 15), by the nightly job;
never a person with an agreement, account, application or report; the count audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from dispatch.auth import tenants
from dispatch.auth.jobs import purge_abandoned_people
from dispatch.models import Agreement, AgreementParty, AuditEvent, Person, utcnow
from dispatch.models.accounts import TenantAccount, TenantIdentification
from dispatch.models.housing import HousingApplicant
from dispatch.models.portal import FaultReport, PortalMessage

NUMBERS = ["199001012385", "201701012393", "199908072391", "200002292399"]


@pytest.fixture
def identified(db_session):
    """Make a person as the queue's joining does (no landlord), identified ``days`` ago."""

    def make(number: str, days: int) -> Person:
        then = utcnow() - timedelta(days=days)
        person = Person(landlord_id=None, name="Sam Signup", personnummer=number,
                        created_at=then)
        db_session.add(person)
        db_session.flush()
        db_session.add(TenantIdentification(person_id=person.id, method="bankid",
                                            created_at=then))
        db_session.flush()
        return person

    return make


def ids(db_session) -> set[int]:
    db_session.expire_all()
    return set(db_session.scalars(select(Person.id)))


def test_an_identification_that_never_became_anything_is_deleted_after_the_days(
        app, db_session, identified):
    days = app.config["TENANT_ABANDONED_PERSON_DAYS"]
    old = identified(NUMBERS[0], days + 1)
    recent = identified(NUMBERS[1], days - 1)
    old_id, recent_id = old.id, recent.id
    assert purge_abandoned_people(app) == {"deleted": 1}
    assert old_id not in ids(db_session) and recent_id in ids(db_session)
    assert db_session.scalar(select(TenantIdentification).where(
        TenantIdentification.person_id == old_id)) is None
    event = db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "tenant.abandoned_people_deleted"))
    assert event.details["deleted"] == 1 and NUMBERS[0] not in str(event.details)


def test_a_person_identified_again_lately_is_kept(app, db_session, identified):
    person = identified(NUMBERS[0], 400)
    db_session.add(TenantIdentification(person_id=person.id, method="oidc"))
    db_session.flush()
    assert purge_abandoned_people(app) == {"deleted": 0}


@pytest.mark.parametrize("kept_by", ["agreement", "account", "application", "report",
                                     "message", "landlord"])
def test_a_person_with_anything_of_their_own_is_never_deleted(
        app, db_session, identified, create_landlord, kept_by):
    person = identified(NUMBERS[2], 400)
    landlord = create_landlord(code="KEEP", name="Keep AB")
    if kept_by == "agreement":
        agreement = Agreement(landlord_id=landlord.id, avtalsnummer="K-1",
                              starts_on=date(2019, 1, 1), ends_on=date(2020, 1, 1))
        agreement.parties = [AgreementParty(person_id=person.id, position=1)]
        db_session.add(agreement)
    elif kept_by == "account":
        db_session.add(TenantAccount(email="sam@example.se", person_id=person.id,
                                     identified_by="bankid"))
    elif kept_by == "application":
        db_session.add(HousingApplicant(landlord_id=landlord.id, person_id=person.id,
                                        registered_on=date(2025, 1, 1),
                                        points_from=date(2025, 1, 1),
                                        renewed_on=date(2025, 1, 1), status="removed"))
    elif kept_by == "report":
        from dispatch.models import Entrance, RentalObject

        entrance = Entrance(landlord_id=landlord.id, street="Gatan", street_number=1,
                            postnummer="11111", ort="Ort", address_key="gatan|1||11111")
        db_session.add(entrance)
        db_session.flush()
        obj = RentalObject(landlord_id=landlord.id, entrance_id=entrance.id,
                           objektsnummer="1-1")
        db_session.add(obj)
        db_session.flush()
        db_session.add(FaultReport(landlord_id=landlord.id, person_id=person.id,
                                   object_id=obj.id, category="other", room="kitchen",
                                   description="Dropp"))
    elif kept_by == "message":
        db_session.add(PortalMessage(landlord_id=landlord.id, person_id=person.id, body="Hej"))
    else:
        person.landlord_id = landlord.id
    db_session.flush()
    person_id = person.id
    assert tenants.purge_abandoned_people(db_session, older_than_days=30) == 0
    assert person_id in ids(db_session)


def test_a_person_no_identification_made_is_not_touched(app, db_session):
    person = Person(landlord_id=None, name="Phone Caller", created_at=utcnow() - timedelta(
        days=400))
    db_session.add(person)
    db_session.flush()
    person_id = person.id
    assert purge_abandoned_people(app) == {"deleted": 0}
    assert person_id in ids(db_session)


def test_the_scheduler_runs_the_sweeps():
    from dispatch.scheduler import SCHEDULE

    jobs = {job.id: job for job in SCHEDULE}
    assert jobs["abandoned-people"].func is purge_abandoned_people
    assert "identification-orders-sweep" in jobs
