"""What the report's fields and values are called where people read them (page, print, PDF,
CSV), and how its times are shown: local time, to the minute."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

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
}
STATUS_NAMES = {"submitted": _l("Waiting for review"), "released": _l("Released")}
YES, NO = _l("Yes"), _l("No")


def yes_no(value: bool | None) -> str:
    """Yes, No, or nothing when the patrol did not say."""
    if value is None:
        return ""
    return str(YES if value else NO)


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
        **{step["event"]: local(step["at"], tz) for step in doc["timeline"]},
        "category": str(CATEGORY_NAMES.get(doc["category"], doc["category"])),
        "outcome": str(OUTCOME_NAMES.get(doc["outcome"], doc["outcome"] or "")),
        "released_at": local(doc["released_at"], tz),
        **{name: yes_no(doc[name]) for name in BOOL_FIELDS},
    }
