"""What the report's fields and values are called where people read them (page, print, PDF,
CSV), and how its times are shown: local time, to the minute."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import format_date, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dispatch.core.templating import CATEGORY_NAMES, OUTCOME_NAMES  # noqa: F401 (re-exported)
from dispatch.reports.service import BOOL_FIELDS

TIMELINE_NAMES = {
    "call": _l("Call received"),
    "dispatched": _l("Patrol dispatched"),
    "acknowledged": _l("Patrol acknowledged"),
    "arrived": _l("Arrived on site"),
    "left": _l("Left the site"),
}
# The alarms and check-ins in the time line (issue 19); a kind not here is a step of the job.
SAFETY_STEP_NAMES = {
    "alarm_raised": _l("Alarm from the car"),
    "alarm_raised_silent": _l("Silent alarm from the car"),
    "alarm_acknowledged": _l("Alarm acknowledged by the operator"),
    "check_in": _l("Check-in: all well"),
    "check_in_missed": _l("Check-in missed: the operator was alarmed"),
    # The SMS escalation's steps (jobs.escalation; the same words as the job history's).
    "sms_to_car": _l("SMS to the car's phone"),
    "sms_to_supervisor": _l("SMS to the duty supervisor"),
    "sms_car_delivered": _l("SMS to the car delivered"),
    "sms_supervisor_delivered": _l("SMS to the supervisor delivered"),
    "sms_car_failed": _l("SMS to the car failed"),
    "sms_supervisor_failed": _l("SMS to the supervisor failed"),
}
OTHER_STEP = _l("Other step of the job")
FIELD_NAMES = {
    "id": _l("Report"),
    "night": _l("Night"),
    "landlord": _l("Landlord"),
    "property": _l("Property"),
    "address": _l("Address"),
    "lagenhetsnummer": _l("Flat number"),
    "objektsnummer": _l("Object number"),
    "category": _l("Category"),
    "description": _l("Complaint"),
    "disturbed_party": _l("Disturbed party"),
    "suspected_source": _l("Suspected source"),
    "patrol": _l("Patrol"),
    "observations": _l("Observations"),
    "disturber_reached": _l("Disturber reached"),
    "disturber_response": _l("Disturber's response"),
    "tenant_contacted": _l("Disturbed tenant contacted"),
    "actions": _l("Actions"),
    "outcome": _l("Outcome"),
    "can_testify": _l("Staff can testify"),
    "text": _l("Report text"),
    "released_at": _l("Released"),
    "status": _l("Status"),
    "arrived_at": _l("Arrived on site"),
    "left_at": _l("Left the site"),
    "case": _l("Case"),
    "time": _l("Time"),
    "crew": _l("Staff on the car"),
    "written_by": _l("Written by"),
    "witnesses": _l("Staff who can testify"),
    "call_attempts": _l("Call attempts"),
    "safety": _l("Alarms and check-ins"),
    "corrected": _l("Corrected by the operator"),
    "original": _l("The patrol's original text"),
}
REVISION_NAMES = {"corrected": _l("corrected"), "released": _l("released")}
STATUS_NAMES = {"submitted": _l("Waiting for review"), "released": _l("Released")}
YES, NO = _l("Yes"), _l("No")
ANSWERED, NOT_ANSWERED = _l("Answered"), _l("Not answered")


def calls_summary(attempts: list[dict]) -> str:
    """The call attempts in a few words ("2 samtalsförsök, 1 besvarat"); nothing for none."""
    if not attempts:
        return ""
    answered = sum(1 for a in attempts if a["answered"])
    return ngettext("%(num)d call attempt", "%(num)d call attempts", len(attempts)) + ", " + \
        ngettext("%(num)d answered", "%(num)d answered", answered)


def call_line(attempt: dict, tz: ZoneInfo) -> str:
    """One call attempt: its local time and whether it was answered."""
    answered = ANSWERED if attempt["answered"] else NOT_ANSWERED
    return f"{local(attempt['at'], tz, '%H:%M')} – {answered}"


def step_name(step: dict) -> str:
    """A time line step's name: the report's own steps, the alarms and check-ins (who
    acknowledged an alarm, when the operator is named), or a step of the job."""
    event = step["event"]
    if event in TIMELINE_NAMES:
        return str(TIMELINE_NAMES[event])
    if event == "alarm_raised" and step.get("alarm_kind") == "silent":
        event = "alarm_raised_silent"
    if event == "alarm_acknowledged" and step.get("by"):
        return _("Alarm acknowledged by %(name)s", name=step["by"])
    return str(SAFETY_STEP_NAMES.get(event, OTHER_STEP))


def safety_summary(doc: dict, tz: ZoneInfo) -> str:
    """The alarms and check-ins of the time line on one line (the CSV): "23:12 Larm från
    bilen; 23:13 Larmet kvitterat av …"; nothing when there were none."""
    return "; ".join(f"{local(step['at'], tz, '%H:%M')} {step_name(step)}"
                     for step in doc["timeline"] if step["event"] not in TIMELINE_NAMES)


def yes_no(value: bool | None) -> str:
    """Yes, No, or nothing when the patrol did not say."""
    if value is None:
        return ""
    return str(YES if value else NO)


# How the first day of a night is written before the dash, by how much it shares with the
# second (same month; same year), per language; the second day is always the long date.
_NIGHT_START = {
    "sv": ("d", "d MMMM"),
    "fi": ("d.", "d. MMMM"),
}


def night_dates(night: date | str) -> str:
    """The two dates of a night, in the current language: "25–26 november 2026",
    "30 november–1 december 2026", "31 december 2026–1 januari 2027"."""
    first = date.fromisoformat(night) if isinstance(night, str) else night
    second = first + timedelta(days=1)
    language = str(get_locale() or "sv").split("_")[0]
    if language == "en":
        if first.month == second.month:
            return f"{format_date(first, 'MMMM d')}–{format_date(second, 'd, y')}"
        if first.year == second.year:
            return f"{format_date(first, 'MMMM d')} – {format_date(second, 'MMMM d, y')}"
        return f"{format_date(first, 'MMMM d, y')} – {format_date(second, 'MMMM d, y')}"
    same_month, same_year = _NIGHT_START.get(language, _NIGHT_START["sv"])
    if first.month == second.month:
        start = format_date(first, same_month)
    elif first.year == second.year:
        start = format_date(first, same_year)
    else:
        start = format_date(first, "long")
    return f"{start}–{format_date(second, 'long')}"


def night_name(night: date | str | None) -> str:
    """A night named so that nobody can take it for another: "Natten 25–26 november 2026"
    (the same on the page, in the PDF, the CSV and the mail)."""
    if not night:
        return ""
    return _("Night of %(dates)s", dates=night_dates(night))


def local(value: str | datetime | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO time (or datetime) shown in the service's time zone."""
    if not value:
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.astimezone(tz).strftime(fmt)


def as_shown(doc: dict, tz: ZoneInfo) -> dict:
    """A report's document (``service.document``) with its values as people read them: names
    for the category and outcome, Yes or No, local times, and each step of the time line under
    its event's name (``call``, ``dispatched`` ...). For the PDF and the CSV."""
    return {
        **doc,
        "night": night_name(doc["night"]),
        **{step["event"]: local(step["at"], tz) for step in doc["timeline"]
           if step["event"] in TIMELINE_NAMES},
        "safety": safety_summary(doc, tz),
        "category": str(CATEGORY_NAMES.get(doc["category"], doc["category"])),
        "outcome": str(OUTCOME_NAMES.get(doc["outcome"], doc["outcome"] or "")),
        "released_at": local(doc["released_at"], tz),
        **{name: yes_no(doc[name]) for name in BOOL_FIELDS},
        **{name: ", ".join(doc[name]) for name in ("crew", "written_by", "witnesses")},
        "call_attempts": calls_summary(doc["call_attempts"]),
        # Which fields an operator corrected, and what the patrol first wrote in each.
        "corrected": ", ".join(str(FIELD_NAMES.get(name, name)) for name in doc["corrections"]),
        "original": " | ".join(
            f"{FIELD_NAMES.get(name, name)}: {value_shown(name, fix['original'], tz)}"
            for name, fix in doc["corrections"].items()),
    }


def value_shown(name: str, value, tz: ZoneInfo) -> str:
    """One field's value as people read it (for the patrol's original of a corrected field)."""
    if name == "outcome":
        return str(OUTCOME_NAMES.get(value, value or ""))
    if name in BOOL_FIELDS:
        return yes_no(value)
    if name in ("arrived_at", "left_at"):
        return local(value, tz)
    return "" if value is None else str(value)
