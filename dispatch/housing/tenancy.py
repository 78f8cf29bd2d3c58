"""A tenant's applications about the flat they rent (seed 004, "Omflyttning/överlåtelse/
andrahandsuthyrning", "Byte mellan hyresgäster", "Hyra och hyra ut i andra hand"): an exchange
(bostadsbyte) with another tenant, or second-hand letting (andrahandsuthyrning). The tenant is
the portal's logged-in person, a party to an agreement of the landlord in force today. Staff
approve or refuse each with a reason; the tenant gets a mail on the decision
(``mails.send_tenancy_decision``). Functions flush, never commit; every step is audited with
ids only.

The rules:
- an exchange needs at least one year in the flat (``rules.may_move_internally``: the same
  year the seed asks before any new home) and both parties' consent to a credit check; on
  approval both are credit-checked (audited) and remarks on either stop the approval;
- second-hand letting needs a period with a start and an end (both given, the end after the
  start, the start not in the past) and one of the seed's reasons (``SUBLET_REASONS``);
- one open application of a kind per agreement at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatch.auth.identity.numbers import InvalidNumber, swedish
from dispatch.core import audit
from dispatch.housing import points as rules
from dispatch.housing.credit import CreditProvider
from dispatch.models import Agreement, AgreementParty, Person, utcnow
from dispatch.models.housing import SUBLET_REASONS, HousingTenancyApplication


class TenancyError(ValueError):
    """A rule said no; ``code`` names it (``labels.ERRORS``), ``field`` the form field.
    ``errors`` holds every rule an application broke, field → code (the first is ``code``),
    so that a form shows them all at once."""

    def __init__(self, code: str, field: str | None = None,
                 errors: dict[str, str] | None = None):
        super().__init__(code)
        self.code = code
        self.field = field
        self.errors = errors if errors is not None else ({field: code} if field else {})

    @classmethod
    def of(cls, errors: dict[str, str]) -> TenancyError:
        field, code = next(iter(errors.items()))
        return cls(code, field, dict(errors))


def agreements_of(session: Session, person_id: int, landlord_id: int, today: date) \
        -> list[Agreement]:
    """The person's agreements with the landlord in force today."""
    return list(session.scalars(
        select(Agreement).join(AgreementParty, AgreementParty.agreement_id == Agreement.id)
        .where(AgreementParty.person_id == person_id, Agreement.landlord_id == landlord_id,
               or_(Agreement.starts_on.is_(None), Agreement.starts_on <= today),
               or_(Agreement.ends_on.is_(None), Agreement.ends_on >= today))
        .order_by(Agreement.starts_on, Agreement.id)))


def applications_of(session: Session, person_id: int, landlord_id: int) \
        -> list[HousingTenancyApplication]:
    return list(session.scalars(
        select(HousingTenancyApplication).where(
            HousingTenancyApplication.person_id == person_id,
            HousingTenancyApplication.landlord_id == landlord_id)
        .order_by(HousingTenancyApplication.created_at.desc(),
                  HousingTenancyApplication.id.desc())))


def _pending(session: Session, agreement_id: int, kind: str) -> bool:
    return session.scalar(select(HousingTenancyApplication.id).where(
        HousingTenancyApplication.agreement_id == agreement_id,
        HousingTenancyApplication.kind == kind,
        HousingTenancyApplication.status == "pending").limit(1)) is not None


def _agreement(session: Session, person_id: int, landlord_id: int, agreement_id: int,
               today: date) -> Agreement | None:
    for agreement in agreements_of(session, person_id, landlord_id, today):
        if agreement.id == agreement_id:
            return agreement
    return None


def exchange_problems(session: Session, person: Person, landlord_id: int, *,
                      agreement_id: int | None, counterpart_personnummer: str,
                      exchange_on: date | None, consent: bool, today: date) -> dict[str, str]:
    """Every rule an exchange application breaks, field → code (empty: none). A value the
    form could not read is ``None`` and its rules are left to the form's own error."""
    problems: dict[str, str] = {}
    if agreement_id is not None:
        agreement = _agreement(session, person.id, landlord_id, agreement_id, today)
        if agreement is None:
            problems["agreement_id"] = "not_your_agreement"
        elif agreement.starts_on is not None \
                and not rules.may_move_internally(agreement.starts_on, today):
            problems["agreement_id"] = "tenancy_too_short"
        elif _pending(session, agreement.id, "exchange"):
            problems["agreement_id"] = "already_pending"
    if not counterpart_personnummer.strip():
        problems["counterpart_personnummer"] = "required"
    else:
        try:
            number = swedish(counterpart_personnummer)
        except InvalidNumber:
            problems["counterpart_personnummer"] = "bad_personnummer"
        else:
            if number == person.personnummer:
                problems["counterpart_personnummer"] = "counterpart_is_you"
            elif not rules.may_rent(number, today):
                problems["counterpart_personnummer"] = "counterpart_under_18"
    if exchange_on is not None and exchange_on < today:
        problems["starts_on"] = "date_in_past"
    if not consent:
        problems["consent"] = "exchange_consent_required"
    return problems


def apply_exchange(session: Session, person: Person, landlord_id: int, *, agreement_id: int,
                   counterpart_name: str, counterpart_personnummer: str,
                   counterpart_address: str, exchange_on: date, consent: bool, note: str | None,
                   today: date) -> HousingTenancyApplication:
    """A tenant applies to exchange flats with another tenant (``counterpart``); any rule
    broken → ``TenancyError`` with all of them."""
    problems = exchange_problems(
        session, person, landlord_id, agreement_id=agreement_id,
        counterpart_personnummer=counterpart_personnummer, exchange_on=exchange_on,
        consent=consent, today=today)
    if problems:
        raise TenancyError.of(problems)
    number = swedish(counterpart_personnummer)
    counterpart = session.scalar(select(Person).where(
        Person.personnummer == number,
        or_(Person.landlord_id.is_(None), Person.landlord_id == landlord_id))
        .order_by(Person.landlord_id.is_(None)).limit(1))
    if counterpart is None:
        counterpart = Person(name=counterpart_name, personnummer=number)
        session.add(counterpart)
        session.flush()
    row = HousingTenancyApplication(
        landlord_id=landlord_id, kind="exchange", person_id=person.id,
        agreement_id=agreement_id, counterpart_person_id=counterpart.id,
        counterpart_address=counterpart_address, starts_on=exchange_on, note=note or None,
        status="pending")
    session.add(row)
    session.flush()
    audit.record(session, "housing.tenancy.applied", subject=f"tenancy:{row.id}",
                 details={"kind": "exchange", "agreement_id": agreement_id,
                          "credit_check_consent": True})
    return row


def sublet_problems(session: Session, person: Person, landlord_id: int, *,
                    agreement_id: int | None, starts_on: date | None, ends_on: date | None,
                    reason: str, today: date) -> dict[str, str]:
    """Every rule a second-hand letting application breaks, field → code (empty: none);
    ``None`` for a value the form could not read, as in ``exchange_problems``."""
    problems: dict[str, str] = {}
    if agreement_id is not None:
        agreement = _agreement(session, person.id, landlord_id, agreement_id, today)
        if agreement is None:
            problems["agreement_id"] = "not_your_agreement"
        elif _pending(session, agreement.id, "sublet"):
            problems["agreement_id"] = "already_pending"
    if reason not in SUBLET_REASONS:
        problems["reason"] = "invalid_choice"
    if starts_on is not None and starts_on < today:
        problems["starts_on"] = "date_in_past"
    if starts_on is not None and ends_on is not None and ends_on <= starts_on:
        problems["ends_on"] = "end_before_start"
    return problems


def apply_sublet(session: Session, person: Person, landlord_id: int, *, agreement_id: int,
                 subtenant_name: str, starts_on: date, ends_on: date, reason: str,
                 note: str | None, today: date) -> HousingTenancyApplication:
    """A tenant applies to let their flat second-hand for a period, for one of the seed's
    reasons; any rule broken → ``TenancyError`` with all of them."""
    problems = sublet_problems(session, person, landlord_id, agreement_id=agreement_id,
                               starts_on=starts_on, ends_on=ends_on, reason=reason,
                               today=today)
    if problems:
        raise TenancyError.of(problems)
    subtenant = Person(name=subtenant_name)
    session.add(subtenant)
    session.flush()
    row = HousingTenancyApplication(
        landlord_id=landlord_id, kind="sublet", person_id=person.id, agreement_id=agreement_id,
        counterpart_person_id=subtenant.id, starts_on=starts_on, ends_on=ends_on,
        reason=reason, note=note or None, status="pending")
    session.add(row)
    session.flush()
    audit.record(session, "housing.tenancy.applied", subject=f"tenancy:{row.id}",
                 details={"kind": "sublet", "agreement_id": agreement_id, "reason": reason})
    return row


@dataclass(frozen=True)
class CreditOutcome:
    tenant: bool
    counterpart: bool

    @property
    def approved(self) -> bool:
        return self.tenant and self.counterpart


def check_exchange_credit(session: Session, row: HousingTenancyApplication,
                          credit: CreditProvider, *, staff_user_id: int | None) -> CreditOutcome:
    """The usual credit check on both parties of an exchange (their consent is in the
    application), each audited."""
    outcome = {}
    for party, person_id in (("tenant", row.person_id),
                             ("counterpart", row.counterpart_person_id)):
        person = session.get(Person, person_id) if person_id else None
        result = credit.check((person.personnummer if person else None) or "")
        outcome[party] = result.approved
        audit.record(session, "housing.credit.checked", subject=f"tenancy:{row.id}",
                     user_id=staff_user_id,
                     details={"consent": "exchange_application", "party": party,
                              "approved": result.approved, "rent_debt": result.rent_debt,
                              "major_remarks": result.major_remarks})
    row.credit_approved = outcome["tenant"] and outcome["counterpart"]
    session.flush()
    return CreditOutcome(**outcome)


def decide(session: Session, row: HousingTenancyApplication, *, approve: bool, reason: str,
           credit: CreditProvider, staff_user_id: int | None) -> HousingTenancyApplication:
    """Staff's decision with its reason. Approving an exchange checks both parties' credit
    first: remarks on either → ``credit_remarks`` (the checks stay recorded, the application
    stays open for a refusal)."""
    if row.status != "pending":
        raise TenancyError("already_decided")
    if not reason.strip():
        raise TenancyError("required", "decision_reason")
    if approve and row.kind == "exchange":
        if not check_exchange_credit(session, row, credit, staff_user_id=staff_user_id).approved:
            raise TenancyError("credit_remarks", "decision_reason")
    row.status = "approved" if approve else "refused"
    row.decision_reason = reason.strip()
    row.decided_by_user_id = staff_user_id
    row.decided_at = utcnow()
    session.flush()
    audit.record(session, "housing.tenancy.decided", subject=f"tenancy:{row.id}",
                 user_id=staff_user_id, details={"kind": row.kind, "status": row.status})
    return row
