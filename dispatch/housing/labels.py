"""What the queue's pages and mails call things, translated (lazily, in the reader's
language)."""

from __future__ import annotations

from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

INCOME_KIND_NAMES = {
    "employment": _l("Salary from employment"),
    "pension": _l("Pension"),
    "business": _l("Income from own business"),
    "unemployment": _l("Unemployment benefit"),
    "student_loan": _l("Student loan"),
    "student_grant": _l("Student grant"),
    # The seed's landlord writes "av Hammarö kommun styrkt försörjningsstöd": its own
    # municipality. The queue serves landlords anywhere, so it names none.
    "social_assistance": _l("Income support confirmed by the municipality"),
    "housing_allowance": _l("Housing allowance"),
    "child_allowance": _l("Child allowance"),
    "maintenance": _l("Maintenance support"),
    "introduction": _l("Introduction benefit"),
    "boarding": _l("Boarding supplement"),
}

REASON_NAMES = {
    "no_personnummer": _l("No valid personal identity number"),
    "under_18": _l("Under 18"),
    "blocked": _l("Blocked"),
    "lapsed": _l("Registration lapsed"),
    "income": _l("Income below twice the annual rent"),
    "disturbances": _l("Earlier disturbances"),
    "internal_move_too_soon": _l("Own tenant for less than a year"),
    "reference_remarks": _l("The previous landlord's reference has remarks"),
}

# Why an approved applicant passes (the assessment shows it beside "Approved").
GROUND_NAMES = {
    "income": _l("income at least twice the annual rent"),
    "guarantor": _l("a guarantor's monthly income is at least five times the rent"),
    "reference": _l("approved reference from the previous landlord"),
}

REFERENCE_ANSWER_NAMES = {
    "approved": _l("Approved"),
    "remarks": _l("Remarks"),
}

ANSWER_NAMES = {
    None: _l("Waiting for an answer"),
    "accepted": _l("Accepted"),
    "refused": _l("Refused"),
    "missed": _l("No answer (counts as a refusal)"),
}

LISTING_STATUS_NAMES = {
    "published": _l("Published"),
    "closed": _l("Offers made"),
    "let": _l("Let"),
    "withdrawn": _l("Withdrawn"),
}

ERRORS = {
    "required": _l("Fill in this field."),
    "too_long": _l("This is too long."),
    "not_a_number": _l("Give a whole number."),
    "out_of_range": _l("The number is out of range."),
    "floors_reversed": _l("The highest floor cannot be below the lowest floor."),
    "bad_date": _l("Give a date as YYYY-MM-DD."),
    "bad_email": _l("Not a valid e-mail address."),  # the portal's words
    "bad_phone": _l("Not a phone number."),
    "bad_personnummer": _l("Not a valid personal identity number."),
    "invalid_choice": _l("Choose one of the options."),
    "too_young": _l("You must be 16 or older to register in the housing queue."),
    "already_registered": _l("Already registered in the housing queue."),
    "lapsed": _l("The registration has lapsed. Register again."),
    "blocked": _l("Blocked from applying until the block ends."),
    "listing_closed": _l("This flat is no longer open for applications."),
    "withdrawn": _l("You withdrew your interest in this flat."),
    "no_interest": _l("You have no interest registered in this flat."),
    "answer_offer": _l("You have an offer of this flat: answer the offer instead."),
    "object_retired": _l("The object is no longer in the register."),
    "already_published": _l("The object is already published."),
    "applicant_counts": _l("Between 1 and 5 applicants, the least first."),
    "offer_count": _l("Offer between 1 and the listing's most applicants."),
    "no_approved_applicants": _l("No approved applicant left to offer."),
    "already_answered": _l("The offer has already been answered."),
    "deadline_passed": _l("The deadline to answer has passed."),
    "not_accepted": _l("Only an accepted offer can become a contract."),
    "already_let": _l("The flat is already let."),
    "avtalsnummer_taken": _l("The agreement number is already in use."),
    "not_registered": _l("Register in the housing queue first."),
    "certificate_required": _l("Medical priority needs a doctor's certificate or equivalent."),
    "medical_own_tenants": _l("Medical priority is only for our own tenants."),
    "priority_share": _l("Refused: priority would take more than 20 percent of the vacancies "
                         "of the last six months."),
    "social_stock": _l("Refused: social contracts would be more than 10 percent of the "
                       "stock."),
    "bodirekt_no_priority": _l("BoDirekt listings take no priority."),
    "priority_ended": _l("This priority has ended."),
    "already_offered": _l("This applicant already has an offer for the flat."),
    "consent_required": _l("The guarantor must consent to the credit check."),
    "guarantor_under_18": _l("A guarantor must be 18 or older."),
    "guarantor_is_applicant": _l("The applicant cannot be their own guarantor."),
    "notice_already_given": _l("Notice is already given on this guarantee."),
    "notice_before_start": _l("The notice cannot be given before the guarantee starts."),
    "remarks_required": _l("Write what the remarks are."),
    "reference_required": _l("Several applicants accepted: record an approved reference from "
                             "the previous landlord before the contract."),
    "not_your_agreement": _l("Choose one of your agreements in force."),
    "tenancy_too_short": _l("An exchange is possible after at least one year in the flat."),
    "counterpart_is_you": _l("Give the other tenant's personal identity number, not yours."),
    "counterpart_under_18": _l("The other tenant must be 18 or older."),
    "date_in_past": _l("The date has already passed."),
    "end_before_start": _l("The end date must be after the start date."),
    "already_pending": _l("An application of this kind for the agreement is already waiting "
                          "for a decision."),
    "exchange_consent_required": _l("You must both agree to the credit report."),
    "already_decided": _l("The application is already decided."),
    "credit_remarks": _l("The credit report found rent debt or major payment remarks on one of "
                         "the parties: the exchange cannot be approved."),
}

PRIORITY_GROUP_NAMES = {
    "medical": _l("Medical priority"),
    "social": _l("Social priority"),
    "business": _l("Business priority"),
}


def error(code: str) -> str:
    return str(ERRORS.get(code, code))


def out_of_range(low: int, high: int) -> str:
    """The range error that says the range (forms show an error that is not a code as it is)."""
    return _("Give a number between %(low)s and %(high)s.", low=format_number(low),
             high=format_number(high))
