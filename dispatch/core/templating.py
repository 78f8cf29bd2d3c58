"""Template helpers: translated names for roles and statuses, phone formatting, numbers in
the current language (Babel: decimal comma in Swedish and Finnish)."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, format_percent
from flask_babel import lazy_gettext as _l

from dispatch.core.phones import display_phone

ROLE_NAMES = {
    "admin": _l("Administrator"),
    "operator": _l("Operator"),
    "patrol": _l("Patrol"),
    "landlord": _l("Landlord contact"),
}
PATROL_STATUS_NAMES = {
    "off_duty": _l("Off duty"),
    "available": _l("Available"),
    "busy": _l("Busy"),
}


# Complaint categories and report outcomes, as every page, mail and PDF names them.
CATEGORY_NAMES = {
    "music": _l("Music"),
    "party": _l("Party"),
    "shouting": _l("Shouting, quarrel"),
    "fight_threat": _l("Fight or threat"),
    "dog": _l("Dog"),
    "smoke": _l("Smoke"),
    "alarm": _l("Alarm"),
    "other": _l("Other"),
}
OUTCOME_NAMES = {
    "stopped": _l("The disturbance stopped"),
    "not_stopped": _l("The disturbance did not stop"),
    "police_called": _l("Police called"),
    "no_disturbance": _l("No disturbance found"),
}
JOB_STATUS_NAMES = {
    "queued": _l("Queued"),
    "assigned": _l("Assigned"),
    "accepted": _l("Accepted"),
    "en_route": _l("En route"),
    "on_site": _l("On site"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
}
# How an earlier complaint relates to the object being looked at.
HISTORY_ROLE_NAMES = {
    "complainant": _l("complained"),
    "suspected_source": _l("suspected source"),
    "same_entrance": _l("same entrance"),
}
IMPORT_STATUS_NAMES = {
    "running": _l("Running"),
    "accepted": _l("Imported"),
    "unchanged": _l("Unchanged: the same file as last time"),
    "rejected": _l("Rejected: nothing was changed"),
}


def localtime(value) -> str:
    """A UTC time shown in the service's time zone (DISPATCH_TZ), to the minute."""
    if value is None:
        return ""
    return format_datetime(value, "yyyy-MM-dd HH:mm")


def longdate(value) -> str:
    """A day in words, the current language's way: "27 november 2026", "27. marraskuuta 2026"."""
    return "" if value is None else format_date(value, "long")


def localtime_iso(value: str | None) -> str:
    """An ISO 8601 string (as the JSON shapes carry times) shown like ``localtime``."""

    return localtime(datetime.fromisoformat(value)) if value else ""


def decimal(value, digits: int = 1, fixed: bool = False) -> str:
    """A number in the current language's way: 12,5 in Swedish and Finnish, 12.5 in English;
    at most ``digits`` decimals, or always that many (``fixed``: a column of figures)."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0." + ("0" if fixed else "#") * digits
                          if digits else "#,##0")


def percent(value, digits: int = 1) -> str:
    """A share (0.912) as a percentage in the current language: "91,2 %"."""
    if value is None:
        return ""
    return format_percent(value, format="#,##0." + "0" * digits + " %" if digits else "#,##0 %")


def init_app(app: Flask) -> None:
    """Register the filters and globals."""
    app.add_template_filter(display_phone, "phone")
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(localtime_iso, "localtime_iso")
    app.add_template_filter(decimal, "decimal")
    app.add_template_filter(longdate, "longdate")
    app.add_template_filter(percent, "percent")
    app.add_template_global(IMPORT_STATUS_NAMES, "import_status_names")
    app.add_template_global(ROLE_NAMES, "role_names")
    app.add_template_global(PATROL_STATUS_NAMES, "patrol_status_names")
