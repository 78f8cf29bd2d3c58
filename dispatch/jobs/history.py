"""What each kind of step in a job's history is called, for the console's job view and the
tablet's history alike. A kind not here (added later, or by another part of the system) is
shown as it comes, with its details."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

HISTORY_KIND_NAMES = {
    "created": _l("Logged"),
    "assigned": _l("Sent to the car"),
    "acknowledged": _l("Reached the tablet"),
    "accepted": _l("Accepted"),
    "en_route": _l("En route"),
    "on_site": _l("On site"),
    "done": _l("Done"),
    "reassigned": _l("Moved to another car"),
    "withdrawn": _l("Taken from the car"),
    "queued": _l("Back in the queue"),
    "cancelled": _l("Cancelled"),
    "ack_alarm": _l("Alarm: not accepted in time"),
    "call_attempt": _l("Call to the tenant"),
    "alarm_raised": _l("The car's alarm"),
    "alarm_acknowledged": _l("The car's alarm acknowledged"),
    "check_in": _l("All well (check-in)"),
    "check_in_missed": _l("Check-in missed: alarm"),
    "sms_to_car": _l("SMS to the car's phone"),
    "sms_to_supervisor": _l("SMS to the duty supervisor"),
    "sms_car_delivered": _l("SMS to the car delivered"),
    "sms_supervisor_delivered": _l("SMS to the supervisor delivered"),
    "sms_car_failed": _l("SMS to the car failed"),
    "sms_supervisor_failed": _l("SMS to the supervisor failed"),
}
