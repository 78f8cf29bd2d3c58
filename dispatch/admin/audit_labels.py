"""What the audit log's page calls the log's codes, in the reader's language: each action
("report.list") as a phrase, each subject ("morning:2026-11-27") and each detail ("dry_run":
false) in words. Only ``admin.audit`` uses it. A code not named here is shown as it is: a new
action or detail must never hide a line from the admin. The CSV keeps the codes (support staff
and spreadsheets filter on them)."""

from __future__ import annotations

import re
from datetime import date

from babel.units import format_unit
from flask_babel import format_date, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dispatch.core.templating import CATEGORY_NAMES, IMPORT_STATUS_NAMES, ROLE_NAMES
from dispatch.reports.labels import FIELD_NAMES as REPORT_FIELD_NAMES

# Every action the code base writes (``record(session, "x.y", ...)`` and the creation
# listener in ``core.audit``), as the page says it happened.
ACTION_NAMES = {
    "login.succeeded": _l("Log-in succeeded"),
    "login.failed": _l("Log-in failed"),
    "login.locked": _l("Log-in held back after too many failures"),
    "login.code_sent": _l("Log-in code sent"),
    "login.code_refused": _l("Log-in code refused"),
    "logout": _l("Logged out"),
    "report.list": _l("Report list read"),
    "report.read": _l("Report read"),
    "report.export": _l("Reports exported"),
    "report.link_opened": _l("Morning mail link opened"),
    "report.submitted": _l("Report sent in by the patrol"),
    "report.corrected": _l("Report corrected"),
    "report.released": _l("Report released"),
    "object.viewed": _l("Object viewed"),
    "entrance.viewed": _l("Address opened"),
    "door_code.shown": _l("Door code shown"),
    "call.screen_pop": _l("Incoming call shown"),
    "call.taken": _l("Call taken"),
    "device.session_started": _l("Tablet session started"),
    "device.session_ended": _l("Tablet session ended"),
    "device.session_revoked": _l("Tablet session revoked"),
    "patrol.created": _l("Patrol car created"),
    "patrol.phone_changed": _l("Car's phone number changed"),
    "patrol.area_set": _l("Patrol area set"),
    "patrol.area_removed": _l("Patrol area removed"),
    "landlord.created": _l("Landlord created"),
    "user.created": _l("User created"),
    "token.created": _l("API token created"),
    "register.import": _l("Register file imported"),
    "retention.purged": _l("Deleted after the retention period"),
    "audit.read": _l("Audit log read"),
    "audit.export": _l("Audit log exported"),
    "checkin.setting_changed": _l("Check-in interval set"),
    "checkin.setting_removed": _l("Check-in interval removed"),
    "alarm.raised": _l("Alarm raised"),
    "alarm.acknowledged": _l("Alarm acknowledged"),
    "tenant.policy_changed": _l("Rule for tenant accounts changed"),
    "tenant.identification_started": _l("Identification started"),
    "tenant.identification_limited": _l("Identification held back after too many attempts"),
    "tenant.identification_refused": _l("Identification refused"),
    "tenant.identified": _l("Tenant identified"),
    "tenant.office_identified": _l("Tenant identified at the office"),
    "tenant.registration_replaced": _l("Unfinished registration replaced"),
    "tenant.registered": _l("Tenant account registered"),
    "tenant.activated": _l("Tenant account activated"),
    "tenant.password_set": _l("Tenant's password chosen"),
    "tenant.reset_sent": _l("Password reset link sent"),
    "tenant.reset_refused": _l("Password reset refused"),
    "tenant.login_refused": _l("Tenant's log-in refused"),
    "tenant.pin_set": _l("Tenant's PIN code set"),
    "tenant.account_deleted": _l("Tenant account deleted"),
    "tenant.abandoned_people_deleted": _l("People who never registered deleted"),
    "housing.identified": _l("Applicant identified"),
    "housing.join_refused": _l("Joining the housing queue refused"),
    "housing.registered": _l("Applicant registered in the housing queue"),
    "housing.renewed": _l("Housing queue registration renewed"),
    "housing.blocked": _l("Applicant blocked"),
    "housing.assessment.read": _l("Customer assessment read"),
    "housing.listing.published": _l("Vacant flat published"),
    "housing.vacancies.imported": _l("Vacant flats imported"),
    "housing.interest_withdrawn": _l("Interest withdrawn"),
    "housing.move_exception": _l("Exception from the moving rule"),
    "housing.offers.made": _l("Offers made"),
    "housing.offer.answered": _l("Offer answered"),
    "housing.contract.signed": _l("Contract signed"),
    "housing.credit.checked": _l("Credit checked"),
    "housing.priority.decided": _l("Priority decided"),
    "housing.priority.ended": _l("Priority ended"),
    "housing.priority.offered": _l("Priority offer made"),
    "housing.priority.refused": _l("Priority offer stopped by the quota"),
    "housing.tenancy.applied": _l("Exchange or sublet applied for"),
    "housing.tenancy.decided": _l("Exchange or sublet decided"),
    "housing.guarantor.added": _l("Guarantor added"),
    "housing.guarantor.notice": _l("Guarantor gave notice"),
    "housing.reference.recorded": _l("Reference recorded"),
    "portal.notice": _l("Notice of termination given"),
    "portal.import": _l("Invoices or payments imported"),
}

# The filter's kinds: an action's first part ("report.read": "report").
GROUP_NAMES = {
    "login": _l("Log-ins"),
    "logout": _l("Log-outs"),
    "report": _l("Reports"),
    "object": _l("Object views"),
    "entrance": _l("Addresses opened"),
    "door_code": _l("Door codes shown"),
    "call": _l("Calls"),
    "device": _l("Tablet sessions"),
    "patrol": _l("Patrol cars"),
    "landlord": _l("Landlords"),
    "user": _l("Users"),
    "token": _l("API tokens"),
    "register": _l("Register imports"),
    "retention": _l("Deletion after retention"),
    "audit": _l("The audit log"),
    "checkin": _l("Check-in intervals"),
    "alarm": _l("Alarms"),
    "tenant": _l("Tenant accounts"),
    "housing": _l("Housing queue"),
    "portal": _l("My pages"),
}

# A subject is "kind:value"; each kind as a phrase around its value.
SUBJECT_NAMES = {
    "report": _l("Report %(value)s"),
    "nights": _l("Nights %(value)s"),
    "landlord": _l("Landlord %(value)s"),
    "landlord-id": _l("Landlord %(value)s"),
    "patrol": _l("Patrol car %(value)s"),
    "object": _l("Object %(value)s"),
    "entrance": _l("Entrance %(value)s"),
    "call": _l("Call %(value)s"),
    "checkin_setting": _l("Check-in interval %(value)s"),
    "person": _l("Person %(value)s"),
    "tenant": _l("Tenant account %(value)s"),
    "tenant-pin": _l("Log-in with a PIN code (%(value)s)"),
    "applicant": _l("Applicant %(value)s"),
    "listing": _l("Vacant flat %(value)s"),
    "offer": _l("Offer %(value)s"),
    "tenancy": _l("Exchange or sublet application %(value)s"),
    "guarantor": _l("Guarantor %(value)s"),
    "agreement": _l("Agreement %(value)s"),
}

# Each detail's label, in the order the page lists them (keys not named here come last).
DETAIL_NAMES = {
    "status": _l("Status"),
    "dry_run": _l("Dry run"),
    "scope": _l("Scope"),
    "format": _l("Format"),
    "method": _l("Method"),
    "kind": _l("Kind"),
    "reason": _l("Reason"),
    "role": _l("Role"),
    "call_sign": _l("Call sign"),
    "crew": _l("Crew"),
    "has_phone": _l("Phone number given"),
    "door_code_shown": _l("Door code shown"),
    "who": _l("Who (e-mail)"),
    "what": _l("What"),
    "subject": _l("Subject"),
    "since": _l("From"),
    "until": _l("To"),
    "page": _l("Page"),
    "count": _l("Count"),
    "rows": _l("Rows"),
    "added": _l("Added"),
    "changed": _l("Changed"),
    "updated": _l("Updated"),
    "unchanged": _l("Unchanged"),
    "retired": _l("Retired"),
    "skipped": _l("Skipped"),
    "pins": _l("PIN codes"),
    "pins_void": _l("PIN codes voided"),
    "tenants": _l("Tenants"),
    "fields": _l("Fields"),
    "again": _l("Sent again"),
    "category": _l("Category"),
    "interval_s": _l("Interval"),
    "before_s": _l("Interval before"),
    "register_from_signing": _l("Register from signing"),
    "before": _l("Before"),
    "document": _l("Identity document"),
    "by": _l("By"),
    "by_staff": _l("By staff"),
    "via": _l("Via"),
    "actor": _l("Done by"),
    "label": _l("Label"),
    "credit_check_consent": _l("Consent to a credit check"),
    "consent": _l("Consent"),
    "party": _l("Party to the exchange"),
    "approved": _l("Approved"),
    "rent_debt": _l("Rent debt"),
    "major_remarks": _l("Major payment remarks"),
    "answer": _l("The answer"),
    "group": _l("Priority group"),
    "urgency": _l("Urgency"),
    "cap": _l("Stopped by"),
    "all_lets": _l("All lettings"),
    "priority_lets": _l("Priority lettings"),
    "social_contracts": _l("Social contracts"),
    "stock": _l("Flats"),
    "bodirekt": _l("BoDirekt"),
    "given_on": _l("Given on"),
    "ends_on": _l("Ends on"),
    "deleted": _l("People deleted"),
    "older_than_days": _l("Older than (days)"),
    "reports": _l("Reports"),
    "revisions": _l("Report revisions"),
    "deliveries": _l("Report deliveries"),
    "job_events": _l("Job events"),
    "jobs": _l("Jobs"),
    "complaints": _l("Complaints"),
    "calls": _l("Calls"),
    "positions": _l("Car positions"),
    "mails": _l("Morning mails"),
    "login_codes": _l("Log-in codes"),
    "cutoff": _l("Older than"),
    "landlord_id": _l("Landlord"),
    "patrol_id": _l("Patrol car"),
    "job_id": _l("Job"),
    "alarm_id": _l("Alarm"),
    "entrance_id": _l("Entrance"),
    "object_id": _l("Object"),
    "import_id": _l("Register import"),
    "token_id": _l("API token"),
    "new_user_id": _l("User"),
    "account_id": _l("Tenant account"),
    "identification_id": _l("Identification"),
    "person_id": _l("Person"),
    "person_ids": _l("People"),
    "applicant_id": _l("Applicant"),
    "applicant_ids": _l("Applicants"),
    "listing_id": _l("Vacant flat"),
    "listing_ids": _l("Vacant flats"),
    "interest_id": _l("Interest"),
    "offer_id": _l("Offer"),
    "offer_ids": _l("Offers"),
    "agreement_id": _l("Agreement"),
    "block_id": _l("Block"),
    "exception_id": _l("Exception"),
    "priority_id": _l("Priority decision"),
    "guarantor_id": _l("Guarantor"),
    "reference_id": _l("Reference"),
}
_ORDER = {key: i for i, key in enumerate(DETAIL_NAMES)}

# The words some details hold, by detail ("scope": "mornings").
VALUE_NAMES = {
    "scope": {"pair": _l("this account from this address"),
              "address": _l("every account from this address"),
              "mornings": _l("the list of mornings"), "expiring": _l("soon deleted")},
    "format": {"html": _l("web page"), "print": _l("print"), "pdf": "PDF", "csv": "CSV",
               "api": "API"},
    "method": {"code": _l("code by mail"), "pin": _l("PIN code"), "office": _l("at the office"),
               "password": _l("password"), "bankid": "BankID",
               "oidc": _l("Finnish e-identification")},
    "kind": {"alarm": _l("alarm"), "silent": _l("silent alarm"),
             "checkin_missed": _l("missed check-in"), "exchange": _l("exchange"),
             "sublet": _l("sublet"), "invoices": _l("invoices"), "payments": _l("payments"),
             "device": _l("tablet"), "api": _l("integration"), "car": _l("patrol car")},
    "status": {**IMPORT_STATUS_NAMES, "pending": _l("waiting"), "approved": _l("approved"),
               "refused": _l("refused")},
    "reason": {"limit": _l("too many codes"), "ended": _l("no agreement in force"),
               "not_activated": _l("not activated"), "agreement_ended": _l("agreement ended"),
               "too_young": _l("too young"), "refusals": _l("refused offers"),
               "two_refusals": _l("two refused offers"),
               "false_information": _l("false information")},
    "role": ROLE_NAMES,
    "category": CATEGORY_NAMES,
    "answer": {"accepted": _l("accepted"), "refused": _l("refused"),
               "missed": _l("no answer"), "approved": _l("approved"),
               "remarks": _l("remarks")},
    "group": {"medical": _l("Medical priority"), "social": _l("Social priority"),
              "business": _l("Business priority")},
    "cap": {"priority_share": _l("the share of priority lettings"),
            "social_stock": _l("the share of social contracts")},
    "document": {"id_card": _l("ID card"), "passport": _l("Passport"),
                 "licence": _l("Driving licence")},
    "via": {"command": _l("a command")},
    "by": {"staff": _l("staff"), "login": _l("log-in")},
    "actor": {"command": _l("a command")},
}
_DATES = {"since", "until", "given_on", "ends_on"}
_SECONDS = {"interval_s", "before_s"}
_IDS_SHOWN = 10
# A long run of digits in text someone typed (a filter, a label) may be a personal identity
# number or a phone number: the page shows neither. Dates stay.
_DIGITS = re.compile(r"\+?\d(?:[ -]?\d){7,}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def action_name(action: str) -> str:
    """The action as a phrase; an unknown one as its code."""
    name = ACTION_NAMES.get(action)
    return str(name) if name is not None else action


def group_name(group: str) -> str:
    """A kind of action for the filter; an unknown one as its code."""
    name = GROUP_NAMES.get(group)
    return str(name) if name is not None else group


def subject_text(subject: str | None, landlords: dict[str, str] | None = None) -> str:
    """A subject in words: "report:4" → "Rapport 4", "morning:2026-11-27" → "Morgonen 27
    november 2026". ``landlords`` names a landlord's id by its code (some lines say the id)."""
    if not subject:
        return ""
    kind, sep, value = subject.partition(":")
    if not sep:
        return masked(subject)
    if kind == "morning" and (day := _day(value)) is not None:
        return _("The morning of %(date)s", date=format_date(day, "long"))
    if kind == "nights":
        first, _dots, last = value.partition("..")
        if (start := _day(first)) is not None and (end := _day(last)) is not None:
            value = f"{format_date(start, 'medium')} – {format_date(end, 'medium')}"
    if kind in ("landlord", "landlord-id") and landlords:
        value = landlords.get(value, value)
    if kind == "tenant-pin":
        value = value[:8]
    name = SUBJECT_NAMES.get(kind)
    if name is None:
        return masked(subject)
    return str(name) % {"value": masked(value)}


def detail_pairs(details: dict | None, landlords: dict[str, str] | None = None
                 ) -> list[tuple[str, str]]:
    """The details as (label, value) in words, the known labels first in their order."""
    if not details:
        return []
    keys = sorted(details, key=lambda k: (_ORDER.get(k, len(_ORDER)), k))
    return [(str(DETAIL_NAMES.get(key, key)), _value(key, details[key], landlords))
            for key in keys]


def masked(text: str) -> str:
    """Typed text with any long run of digits (a personal identity number, a phone number)
    replaced; an ISO date is kept."""
    return _DIGITS.sub(lambda m: m[0] if _ISO_DATE.fullmatch(m[0]) else "•••", text)


def _value(key: str, value, landlords: dict[str, str] | None) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):  # ids, or the names of a report's corrected fields
        shown = [str(item) if isinstance(item, int) else _value(key, item, landlords)
                 for item in value[:_IDS_SHOWN]]
        more = len(value) - len(shown)
        return ", ".join(shown) + (" " + _("and %(num)s more", num=format_decimal(more))
                                   if more > 0 else "")
    if key == "landlord_id" and landlords:
        return landlords.get(str(value), str(value))
    if isinstance(value, int | float):
        if key in _SECONDS:
            return _duration(int(value))
        if key.endswith("_id"):
            return str(value)  # a number that names a row: no thousands separator
        return format_decimal(value)
    text = str(value)
    if key in _DATES and (day := _day(text)) is not None:
        return format_date(day, "medium")
    if key == "cutoff" and (day := _day(text[:10])) is not None:
        return format_date(day, "medium")
    if key == "what":
        return action_name(text) if "." in text else group_name(text)
    if key == "fields":
        field_name = REPORT_FIELD_NAMES.get(text)
        return str(field_name) if field_name is not None else text
    name = VALUE_NAMES.get(key, {}).get(text)
    return str(name) if name is not None else masked(text)


def _duration(seconds: int) -> str:
    """Seconds in the largest whole unit, exactly: 600 → "10 minuter", 90 → "90 sekunder"."""
    unit, size = next((u, size) for u, size in (("hour", 3600), ("minute", 60), ("second", 1))
                      if seconds % size == 0)
    return format_unit(seconds // size, f"duration-{unit}", length="long", locale=get_locale())


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None

