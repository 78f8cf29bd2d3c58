"""The operator console page. The page is one template and one script: everything it shows
after loading comes from the JSON API (``callcenter/api.py``) and the ``/console`` socket.

The words the script shows are translated here, on the server, and handed to it as JSON, so
that the console speaks the operator's language without a second translation system in JS.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from dispatch.auth.access import roles_required
from dispatch.auth.routes import client_ip
from dispatch.callcenter import timers
from dispatch.core.audit import record
from dispatch.core.extensions import db
from dispatch.core.i18n import as_strings
from dispatch.core.templating import (
    CATEGORY_NAMES,
    HISTORY_ROLE_NAMES,
    JOB_STATUS_NAMES,
    PATROL_STATUS_NAMES,
)
from dispatch.jobs.areas import areas_geojson
from dispatch.jobs.figures import call_to_dispatch
from dispatch.jobs.history import HISTORY_KIND_NAMES
from dispatch.jobs.supervisor import alarm_figures
from dispatch.models import CATEGORIES, RentalObject
from dispatch.register.landlords import list_landlords

bp = Blueprint("callcenter", __name__, url_prefix="/console")
# The acknowledgement timer goes into the web processes' upkeep with the console's blueprint.
bp.record_once(lambda state: timers.init_app(state.app))

PRIORITY_NAMES = {1: _l("1 – urgent"), 2: _l("2 – normal"), 3: _l("3 – low")}
NEIGHBOUR_NAMES = {"above": _l("Above"), "below": _l("Below"), "same_floor": _l("Same floor")}
# The API's stable error codes, said in the operator's language; other codes show the API's
# own message.
ERROR_MESSAGES = {
    "invalid_category": _l("Choose a category."),
    "invalid_priority": _l("Choose a priority."),
    "address_required": _l("Choose the address first (search, then Enter)."),
    "unknown_landlord": _l("Choose the landlord."),
    "unknown_object": _l("That flat is not in this landlord's register."),
    "unknown_entrance": _l("That address is not in this landlord's register."),
    "invalid_phone": _l("The caller's phone number is not a phone number."),
    "csrf_failed": _l("The page has expired: reload it (the draft is kept)."),
    "job_closed": _l("The job is already done or cancelled."),
    "no_patrol_available": _l("No other car is available: the job stays where it is."),
    "reason_required": _l("Write why the job is cancelled."),
    "reason_too_long": _l("The reason is too long (at most 500 characters)."),
    "already_queued": _l("The job is already in the queue."),
    "same_patrol": _l("The job is already with that car."),
    "unknown_patrol": _l("There is no such car."),
    "patrol_off_duty": _l("That car is off duty."),
    "not_placed": _l("The address has no position: choose a car."),
}
# Issue 19: a car's alarm (the tablet's alarm button), above everything on the console.
SAFETY_TEXTS = {
    "heading": _l("Alarm from a car"),
    "title": _l("ALARM %(patrol)s"),
    "silent_title": _l("SILENT ALARM %(patrol)s"),
    "checkin_title": _l("MISSED CHECK-IN %(patrol)s"),
    "flat": _l("flat %(n)s"),
    "no_job": _l("Not on a job: see the car's position"),
    "door_code": _l("Door code %(code)s"),
    "no_door_code": _l("No door code"),
    "crew": _l("Crew: %(names)s"),
    "no_crew": _l("Crew not named"),
    "raised": _l("Raised %(time)s"),
    "position": _l("Position %(lat)s, %(lon)s"),
    "acknowledge": _l("Acknowledge (K)"),
    "acknowledged": _l("The alarm from %(patrol)s is acknowledged by %(user)s"),
    # The supervisor's view: jobs not accepted, and what was handled tonight.
    "jobs_heading": _l("Alarm: a job not accepted"),
    "not_accepted_title": _l("NOT ACCEPTED: job %(job)s (%(patrol)s)"),
    "no_car_title": _l("NO CAR FREE: job %(job)s"),
    "open_job": _l("Open the job"),
    "handled_heading": _l("Alarms handled tonight: %(n)s"),
    "how_operator": _l("acknowledged by %(user)s at %(time)s"),
    "how_check_in": _l("the crew checked in at %(time)s"),
    "how_left_site": _l("the job left the site at %(time)s"),
    "how_accepted": _l("accepted by %(patrol)s at %(time)s"),
    "how_moved": _l("sent to another car by %(user)s at %(time)s"),
    "how_moved_server": _l("sent to the next car by the server at %(time)s"),
    "how_cancelled": _l("cancelled by %(user)s at %(time)s"),
    "how_queued": _l("put back in the queue at %(time)s"),
    "how_queued_by": _l("put back in the queue by %(user)s at %(time)s"),
    "how_other": _l("ended at %(time)s"),
    "after": _l("after %(duration)s"),
    "min_s": _l("%(min)s min %(s)s s"),
    "s": _l("%(s)s s"),
}
# The night's alarms on /console/figures (issue 19), by kind.
ALARM_KIND_NAMES = {
    "alarm": _l("The car's alarm"),
    "silent": _l("Silent alarm"),
    "checkin_missed": _l("Missed check-in"),
    "not_accepted": _l("Job not accepted in time"),
}
REASON_NAMES = {
    "not_accepted": _l("not accepted in time"),
    "operator": _l("by the operator"),
    "session_ended": _l("the tablet's session ended"),
}
ALARM_NAMES = {
    "not_accepted": _l("Not accepted in time: the server sends it to the next car soon."),
    "no_car": _l("Not accepted, and no other car is free: it waits in the queue."),
}
TIMER_NOTICES = {
    "not_accepted": _l("Alarm: job %(job)s at %(address)s not accepted by %(patrol)s"),
    "redispatched": _l("Job %(job)s not accepted by %(from)s: sent to %(patrol)s"),
    "no_car": _l("Job %(job)s not accepted by %(from)s and no car is free: back in the queue"),
}
ACTION_NOTICES = {
    "redispatched": _l("%(user)s sent job %(job)s to %(patrol)s"),
    "cancelled": _l("%(user)s cancelled job %(job)s"),
    "requeued": _l("%(user)s put job %(job)s back in the queue"),
}
TEXTS = {
    "connected": _l("Connected"),
    "connecting": _l("Connecting…"),
    "disconnected": _l("Disconnected – reconnecting…"),
    "no_results": _l("No address found."),
    "searching": _l("Searching…"),
    "pick_hint": _l("↓ ↑ to choose, Enter to pick"),
    "whole_entrance": _l("The whole entrance (stairwell, no flat)"),
    "choose_flat": _l("Choose the flat at %(address)s"),
    "no_such_number": _l("There is no number %(number)s on %(street)s."),
    "flat": _l("flat"),
    "floor": _l("floor"),
    "no_tenants": _l("No tenant in the register"),
    "no_neighbours": _l("No neighbours found."),
    "no_history": _l("No earlier complaints."),
    "door_code": _l("Door code"),
    "show_door_code": _l("Show the door code"),
    "none": _l("none"),
    "unknown_caller": _l("Unknown number"),
    "unknown_landlord": _l("Unknown on-call number"),
    "no_tenant_match": _l("The number matches no tenant."),
    "press_n": _l("Press N to start a complaint from this call"),
    "logged": _l("Complaint logged: job %(job)s"),
    "no_patrol": _l("No patrol is available: the job waits in the queue."),
    "dispatched": _l("Job %(job)s sent to %(patrol)s"),
    "still_queued": _l("No patrol is available: job %(job)s stays in the queue."),
    "dispatch_failed": _l("Could not dispatch: %(message)s"),
    "eta": _l("about %(min)s min"),
    "dispatch_hint": _l("D = send to the nearest, 1–3 = choose, Esc = later"),
    "no_jobs": _l("No open jobs."),
    "no_patrols": _l("No patrols."),
    "since_call": _l("call"),
    "since_dispatch": _l("sent"),
    "since_ack": _l("ack."),
    "not_acknowledged": _l("Not acknowledged: job %(job)s at %(address)s (%(patrol)s)"),
    "no_position": _l("no position"),
    "tiles_failed": _l("Map tiles cannot be loaded: the markers are still right."),
    "suspected": _l("%(relation)s: flat %(flat)s"),
    "draft_restored": _l("Draft restored."),
    "request_failed": _l("The server did not answer. Nothing was lost; try again."),
    "selected_address": _l("Address"),
    "mark": _l("mark as source"),
    "no_call": _l("No call waiting."),
    "object_placeholder": _l("Choose an address to see tenants, door code and neighbours."),
    "objektsnummer": _l("Object no."),
    "tenants_title": _l("Tenants"),
    "neighbours_title": _l("Neighbours"),
    "history_title": _l("Earlier complaints here"),
    "dispatch_first": _l("Send (D)"),
    "dispatch_this": _l("Send"),
    "outside_areas": _l("Outside every patrol area"),
    "area_of": _l("Area of %(patrol)s"),
    "alarm_no_car": _l("No car free: job %(job)s at %(address)s waits in the queue"),
    "oldest_waiting": _l("the oldest for"),
    "job_title": _l("Job %(job)s"),
    "status": _l("Status"),
    "patrol": _l("Patrol"),
    "landlord": _l("Landlord"),
    "description": _l("Description"),
    "history": _l("History"),
    "answered": _l("answered"),
    "not_answered": _l("no answer"),
    "send_to": _l("Send to another car"),
    "redispatch_next": _l("Next nearest car"),
    "to_queue": _l("Back to the queue"),
    "cancel_job": _l("Cancel the job"),
    "cancel_reason": _l("Why is the job cancelled?"),
    "cancel_confirm": _l("Cancel the job"),
    "cancel_keep": _l("Keep the job"),
    "reason_required": _l("Write why the job is cancelled."),
    "close": _l("Close"),
    "action_failed": _l("Not done: %(message)s"),
    "requeued": _l("Job %(job)s is back in the queue."),
    "cancelled": _l("Job %(job)s is cancelled."),
    "new_job": _l("New job %(job)s: %(category)s, %(address)s"),
    "alarm": _l("Alarm"),
}



@bp.get("/")
@bp.get("")
@roles_required("operator")
def console():
    """The operator console: screen pop, address search, complaint intake, live board, map."""
    landlords = list_landlords(db.session)
    config = {
        "user_id": current_user.id,
        "landlords": [{"id": x.id, "code": x.code, "name": x.name} for x in landlords],
        "categories": list(CATEGORIES),
        "tz": current_app.config["DISPATCH_TZ"],
        "tile_url": current_app.config["MAP_TILE_URL"] or "",
        "attribution": current_app.config["MAP_ATTRIBUTION"] or "",
        "areas": areas_geojson(db.session),  # the cars' patrol areas, drawn on the map
        "text": {
            **as_strings(TEXTS),
            "categories": as_strings(CATEGORY_NAMES),
            "priorities": as_strings(PRIORITY_NAMES),
            "job_status": as_strings(JOB_STATUS_NAMES),
            "patrol_status": as_strings(PATROL_STATUS_NAMES),
            "neighbours": as_strings(NEIGHBOUR_NAMES),
            "history_roles": as_strings(HISTORY_ROLE_NAMES),
            "errors": as_strings(ERROR_MESSAGES),
            # Plural forms for "n calls waiting" (one and other: sv, fi and en have these two).
            "calls_waiting": {form: ngettext("%(n)s call waiting", "%(n)s calls waiting", count,
                                             n="%(n)s")
                              for form, count in (("one", 1), ("other", 2))},
            "history_kinds": as_strings(HISTORY_KIND_NAMES),
            "reasons": as_strings(REASON_NAMES),
            "alarms": as_strings(ALARM_NAMES),
            "timer_notices": as_strings(TIMER_NOTICES),
            "action_notices": as_strings(ACTION_NOTICES),
            "safety": as_strings(SAFETY_TEXTS),
        },
    }
    return render_template(
        "callcenter/console.html", config=config, landlords=landlords,
        categories=CATEGORY_NAMES, priorities=PRIORITY_NAMES, job_statuses=JOB_STATUS_NAMES,
    )


@bp.get("/figures")
@roles_required("operator")
def figures():
    """Call-to-dispatch time per job and the share within 60 s, one night at a time."""
    tz = current_app.config["DISPATCH_TZ"]
    raw = request.args.get("night")
    if raw:
        try:
            night = date.fromisoformat(raw)
        except ValueError:
            abort(404)
    else:
        night = (datetime.now(ZoneInfo(tz)) - timedelta(hours=12)).date()
    data = call_to_dispatch(db.session, night, tz)
    return render_template("callcenter/figures.html", figures=data, night=night,
                           alarms=alarm_figures(db.session, night, tz),
                           alarm_kinds=ALARM_KIND_NAMES,
                           previous=night - timedelta(days=1), next=night + timedelta(days=1))


@bp.post("/objects/<int:object_id>/door-code")
@roles_required("operator")
def door_code(object_id: int):
    """The door code of the object's entrance, for an operator who presses "show" in the
    object view (the object view itself does not carry it). Every showing is audited."""
    obj = db.session.get(RentalObject, object_id) or abort(404)
    entrance = obj.entrance
    record(db.session, "door_code.shown", subject=f"object:{obj.id}", ip=client_ip(),
           user_id=current_user.id, details={"entrance_id": entrance.id})
    return jsonify({"object_id": obj.id, "door_code": entrance.door_code})
