"""Applicants who are not tenants (issue 16): one tenant account (``TenantAccount``) for the
tenant pages and the queue; for a person with no agreement in force it opens the queue only.

* ``identified``: a strong identification (BankID, Finnish e-identification) of someone who
  wants to join the queue: the register's person with that number (found, or made with no
  landlord; the number stored once, in its 12-digit form through python-stdnum), 16 or older,
  kept as a ``TenantIdentification`` for the account's registration.
* ``join``: the account (``auth.tenants.register``) when the person has none, and the
  registration in the landlord's queue.
* The hooks auth calls (registered at import; auth never imports the queue): a person in a
  queue may log in with no agreement (``_in_a_queue``), and every log-in renews their
  registrations (``_renew_at_login``).

Session and values in, values out; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.auth import tenants
from dispatch.auth.identity import Identity
from dispatch.auth.identity.numbers import InvalidNumber, normalise
from dispatch.core import audit
from dispatch.housing import points as rules
from dispatch.housing import service
from dispatch.models import Person
from dispatch.models.accounts import TenantAccount, TenantIdentification
from dispatch.models.housing import HousingApplicant


def _same_people(session: Session, person_id: int) -> list[int]:
    """The person and the register's other rows with the same number (a tenant of one
    landlord and an applicant made before may be two rows)."""
    number = session.scalar(select(Person.personnummer).where(Person.id == person_id))
    if not number:
        return [person_id]
    return list(session.scalars(select(Person.id).where(Person.personnummer == number)))


def active_registrations(session: Session, person_id: int, today: date) \
        -> list[HousingApplicant]:
    """The person's registrations in any queue that are active and not lapsed today."""
    rows = session.scalars(select(HousingApplicant).where(
        HousingApplicant.person_id.in_(_same_people(session, person_id)),
        HousingApplicant.status == "active"))
    return [row for row in rows if rules.is_registered(row.renewed_on, today)]


@tenants.allow_queue_applicants
def _in_a_queue(session: Session, person_id: int, today: date) -> bool:
    return bool(active_registrations(session, person_id, today))


@tenants.on_login
def _renew_at_login(session: Session, account: TenantAccount, today: date) -> None:
    """Every log-in starts a new twelve-month period (audited once a log-in)."""
    if account.person_id is None:
        return
    for applicant in active_registrations(session, account.person_id, today):
        if applicant.renewed_on < today:
            service.renew(applicant, today)
            audit.record(session, "housing.renewed", subject=f"applicant:{applicant.id}",
                         details={"by": "login"})
    session.flush()


# --- joining online --------------------------------------------------------------------------

def find_or_create_person(session: Session, identity: Identity) -> Person:
    """The register's person with this number: one with an account first, then one with no
    landlord (an applicant made before), then any; else a new person with no landlord."""
    try:
        number = normalise(identity.number)
    except InvalidNumber:
        raise service.QueueError("bad_personnummer") from None
    people = list(session.scalars(select(Person).where(Person.personnummer == number)
                                  .order_by(Person.id)))
    if people:
        ids = [p.id for p in people]
        with_account = session.scalar(select(TenantAccount.person_id).where(
            TenantAccount.person_id.in_(ids)).order_by(TenantAccount.id).limit(1))
        for wanted in (lambda p: p.id == with_account, lambda p: p.landlord_id is None):
            found = next((p for p in people if wanted(p)), None)
            if found is not None:
                return found
        return people[0]
    person = Person(landlord_id=None, name=(identity.name or "").strip()[:200] or "–",
                    personnummer=number)
    session.add(person)
    session.flush()
    return person


@dataclass(frozen=True)
class Identified:
    person: Person
    identification: TenantIdentification
    account: TenantAccount | None  # an activated account of the person, if any


def identified(session: Session, identity: Identity, method: str, *, today: date,
               ip: str | None) -> Identified:
    """A verified identity that wants to join the queue: QueueError ``too_young`` (under 16)
    or ``bad_personnummer``; else the person and an identification for the account."""
    person = find_or_create_person(session, identity)
    try:
        old_enough = rules.may_register(person.personnummer, today)
    except rules.InvalidPersonnummer:
        raise service.QueueError("bad_personnummer") from None
    if not old_enough:
        audit.record(session, "housing.join_refused", ip=ip,
                     details={"method": method, "reason": "too_young"})
        raise service.QueueError("too_young")
    found = TenantIdentification(person_id=person.id, method=method)
    session.add(found)
    session.flush()
    audit.record(session, "housing.identified", subject=f"person:{person.id}", ip=ip,
                 details={"method": method, "identification_id": found.id})
    account = tenants.account_of_person(session, person.id)
    if account is not None and account.activated_at is None:
        account = None
    return Identified(person, found, account)


def ensure_registered(session: Session, person: Person, landlord_id: int, today: date, *,
                      locale: str | None) -> HousingApplicant:
    """The person's active registration in the landlord's queue, made now if they have none
    (points from today)."""
    existing = service.applicant_of(session, landlord_id, person.id)
    if existing is not None and rules.is_registered(existing.renewed_on, today):
        return existing
    if existing is not None:  # lapsed, not yet swept: removed, and a new registration
        existing.status, existing.removed_on = "removed", today
        session.flush()
    return service.register(session, person, landlord_id, today, locale=locale)


def join(session: Session, identification: TenantIdentification, *, landlord_id: int,
         email: str, password: str, locale: str | None, today: date,
         ip: str | None) -> tuple[TenantAccount, HousingApplicant]:
    """The account (``tenants.AccountError`` names the field) and the registration in the
    queue, for an identification from ``identified``."""
    person = session.get(Person, identification.person_id)
    account = tenants.register(session, identification, email=email, password=password,
                               locale=locale, ip=ip)
    applicant = ensure_registered(session, person, landlord_id, today, locale=locale)
    return account, applicant


def is_tenant(session: Session, person_id: int, today: date) -> bool:
    return tenants.tenancy_of_person(session, person_id, today).state == "current"
