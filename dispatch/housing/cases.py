"""What staff add to an applicant's case for the customer assessment (seed 004,
"Kundbedömning" and "Borgensman"): guarantors and previous landlords' references. Functions
flush, never commit; every change writes an audit line with ids only.

A guarantor (borgensman) is a person of the shared model, 18 or older by a valid personnummer
or samordningsnummer (``python-stdnum``), credit-checked with their consent through the
queue's credit interface (``housing.credit``, audited). The guarantee runs two years from its
start; after that the guarantor may end it with nine months' notice (``rules.
guarantee_earliest_end``). It covers an applicant whose income is below twice the annual rent
when the guarantor's monthly income is at least five times the monthly rent.

A reference (approved, or remarks with their text) is taken from the previous landlord; when
several applicants accept an offer, the chosen one's contract needs an approved reference
(``service.sign_contract``).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatch.auth.identity.numbers import InvalidNumber, swedish
from dispatch.core import audit
from dispatch.housing import points as rules
from dispatch.housing.credit import CreditProvider
from dispatch.models import Person, utcnow
from dispatch.models.housing import (
    REFERENCE_ANSWERS,
    HousingApplicant,
    HousingGuarantor,
    HousingReference,
)


class CaseError(ValueError):
    """A rule said no; ``code`` names it for the page (``labels.ERRORS``)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# --- guarantors -----------------------------------------------------------------------------

def add_guarantor(session: Session, applicant: HousingApplicant, *, name: str,
                  personnummer: str, monthly_income: int, starts_on: date, consent: bool,
                  credit: CreditProvider, today: date,
                  staff_user_id: int | None) -> HousingGuarantor:
    """Record a guarantor on the applicant's case after checking their credit (with the
    consent they gave, audited). A failed credit check is recorded too: the guarantor then
    does not count in the assessment."""
    if not consent:
        raise CaseError("consent_required")
    try:
        number = swedish(personnummer)
    except InvalidNumber:
        raise CaseError("bad_personnummer") from None
    if not rules.may_rent(number, today):
        raise CaseError("guarantor_under_18")
    applicant_person = session.get(Person, applicant.person_id)
    if applicant_person is not None and applicant_person.personnummer == number:
        raise CaseError("guarantor_is_applicant")
    person = session.scalar(select(Person).where(
        Person.personnummer == number,
        or_(Person.landlord_id.is_(None), Person.landlord_id == applicant.landlord_id))
        .order_by(Person.landlord_id.is_(None)).limit(1))
    if person is None:
        person = Person(name=name, personnummer=number)
        session.add(person)
        session.flush()
    result = credit.check(number)
    row = HousingGuarantor(applicant_id=applicant.id, person_id=person.id,
                           monthly_income=monthly_income, starts_on=starts_on,
                           credit_approved=result.approved, credit_checked_at=utcnow(),
                           staff_user_id=staff_user_id)
    session.add(row)
    session.flush()
    audit.record(session, "housing.credit.checked", subject=f"guarantor:{row.id}",
                 user_id=staff_user_id,
                 details={"consent": "guarantor", "applicant_id": applicant.id,
                          "approved": result.approved, "rent_debt": result.rent_debt,
                          "major_remarks": result.major_remarks})
    audit.record(session, "housing.guarantor.added", subject=f"applicant:{applicant.id}",
                 user_id=staff_user_id, details={"guarantor_id": row.id,
                                                 "person_id": person.id})
    return row


def guarantor_notice(session: Session, guarantor: HousingGuarantor, *, given_on: date,
                     staff_user_id: int | None) -> HousingGuarantor:
    """The guarantor ends the guarantee: it ends two years after its start or nine months
    after the notice, whichever is later."""
    if guarantor.notice_given_on is not None:
        raise CaseError("notice_already_given")
    if given_on < guarantor.starts_on:
        raise CaseError("notice_before_start")
    guarantor.notice_given_on = given_on
    guarantor.ends_on = rules.guarantee_earliest_end(guarantor.starts_on, given_on)
    session.flush()
    audit.record(session, "housing.guarantor.notice", subject=f"guarantor:{guarantor.id}",
                 user_id=staff_user_id, details={"ends_on": guarantor.ends_on.isoformat()})
    return guarantor


def in_force(guarantor: HousingGuarantor, day: date) -> bool:
    return guarantor.starts_on <= day and (guarantor.ends_on is None or day <= guarantor.ends_on)


def runs_two_years_until(guarantor: HousingGuarantor) -> date:
    """The end of the two years the guarantee runs at least."""
    return rules.add_months(guarantor.starts_on, 24)


def guarantors_of(session: Session, applicant_ids: list[int]) \
        -> dict[int, list[HousingGuarantor]]:
    found: dict[int, list[HousingGuarantor]] = {}
    if not applicant_ids:
        return found
    for row in session.scalars(select(HousingGuarantor).where(
            HousingGuarantor.applicant_id.in_(applicant_ids)).order_by(HousingGuarantor.id)):
        found.setdefault(row.applicant_id, []).append(row)
    return found


def covering_guarantor(guarantors: list[HousingGuarantor], monthly_rent: int, day: date) \
        -> HousingGuarantor | None:
    """The first guarantor in force today, with a clean credit check, whose monthly income is
    at least five times the rent."""
    for row in guarantors:
        if in_force(row, day) and row.credit_approved and \
                rules.guarantor_suffices(row.monthly_income, monthly_rent):
            return row
    return None


# --- references -----------------------------------------------------------------------------

def add_reference(session: Session, applicant: HousingApplicant, *, landlord_name: str,
                  contact: str, answer: str, remarks: str | None, given_on: date,
                  staff_user_id: int | None) -> HousingReference:
    if answer not in REFERENCE_ANSWERS:
        raise CaseError("invalid_choice")
    if answer == "remarks" and not (remarks or "").strip():
        raise CaseError("remarks_required")
    row = HousingReference(applicant_id=applicant.id, landlord_name=landlord_name,
                           contact=contact, answer=answer,
                           remarks=(remarks or "").strip() or None, given_on=given_on,
                           staff_user_id=staff_user_id)
    session.add(row)
    session.flush()
    audit.record(session, "housing.reference.recorded", subject=f"applicant:{applicant.id}",
                 user_id=staff_user_id, details={"reference_id": row.id, "answer": answer})
    return row


def references_of(session: Session, applicant_ids: list[int]) \
        -> dict[int, list[HousingReference]]:
    """Each applicant's references, the latest first."""
    found: dict[int, list[HousingReference]] = {}
    if not applicant_ids:
        return found
    for row in session.scalars(select(HousingReference).where(
            HousingReference.applicant_id.in_(applicant_ids))
            .order_by(HousingReference.given_on.desc(), HousingReference.id.desc())):
        found.setdefault(row.applicant_id, []).append(row)
    return found


def has_approved_reference(session: Session, applicant_id: int) -> bool:
    """Whether the latest reference on the case is approved."""
    latest = references_of(session, [applicant_id]).get(applicant_id, [])
    return bool(latest) and latest[0].answer == "approved"
