"""The patrol tablet's pages and HTTP endpoints: the offline-first app shell with its service
worker and manifest, the shift log-in that issues a device token, and the call-sign list.

Everything the app shows after loading comes from the ``/field`` socket (``events.py``) and is
kept on the tablet; the shell itself holds no personal data, so it may be cached and served
by the service worker with no network. The words the script shows are translated here and
handed to it as JSON, like the operator console does.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from dispatch.auth import bearer_token
from dispatch.auth.lockout import LockoutPolicy
from dispatch.auth.routes import client_ip
from dispatch.auth.service import (
    authenticate,
    create_token,
    revoke_token,
    token_digest,
    user_for_token,
)
from dispatch.core.audit import record
from dispatch.core.errors import ApiError, json_error
from dispatch.core.extensions import csrf, db
from dispatch.core.i18n import as_strings
from dispatch.core.templating import (
    CATEGORY_NAMES,
    HISTORY_ROLE_NAMES,
    JOB_STATUS_NAMES,
    OUTCOME_NAMES,
)
from dispatch.field.sessions import end_token_session
from dispatch.jobs.dispatching import PATROL_STATUS_STEPS
from dispatch.jobs.history import HISTORY_KIND_NAMES
from dispatch.jobs.patrols import list_patrols, patrol_json
from dispatch.models import OUTCOMES, ApiToken, Patrol, utcnow

# The tablet's JSON endpoints sit beside the rest of the API. The log-in is exempt from CSRF:
# it sets no cookie (the token comes back in the body, which another site's page cannot read)
# and it takes only JSON, which a cross-site form cannot send without a CORS pre-flight.
api = Blueprint("field_api", __name__, url_prefix="/api/v1/field")
csrf.exempt(api)
bp = Blueprint("field", __name__, url_prefix="/field")


@bp.record_once
def _register_api(state) -> None:
    """Registering the field blueprint brings its API blueprint along, so that the app
    factory needs to know only ``dispatch.field.bp``."""
    state.app.register_blueprint(api)


STATIC = Path(__file__).resolve().parent.parent / "static"
# What the service worker keeps for a start with no network, besides the shell itself
# (common/dom.js: app.js imports it; the shell's import map gives it its ?v= URL).
ASSETS = ("field/app.js", "field/app.css", "vendor/socket.io.min.js", "field/icon.svg",
          "common/dom.js")

# The status buttons, named as the console names the job's statuses once pressed; before,
# a button says what pressing it does ("Accept", not "Accepted", which reads as done).
STEP_NAMES = {step: JOB_STATUS_NAMES[step] for step in PATROL_STATUS_STEPS}
STEP_ACTIONS = {**STEP_NAMES, "accepted": _l("Accept")}

# The socket's and this API's stable error codes, said in the patrol's language.
ERROR_MESSAGES = {
    "invalid_credentials": _l("Wrong e-mail address or password, or not a patrol account."),
    "too_many_attempts": _l("Too many failed attempts. Wait a few minutes and try again."),
    "unknown_call_sign": _l("Choose the car's call sign."),
    "unauthorized": _l("Your shift log-in has ended or been revoked. Log in again."),
    "forbidden": _l("This account is not a patrol account."),
    "not_your_job": _l("The job has been moved to another car."),
    "report_released": _l("The report has already been released and can no longer be changed."),
    "has_job": _l("Finish or hand over the current job first."),
    "unknown_job": _l("This job is not one of this car's."),
    "invalid_text": _l("The text holds characters that cannot be saved. Remove them and send "
                       "it again."),
    "missing_crew": _l("Name the staff on the car (one or two names)."),
    "invalid_crew": _l("A name is at most 80 characters."),
    "off_duty": _l("Go on duty to use the register."),
    "not_a_car": _l("Only a car's tablet may use the register here. Log in again."),
    "not_found": _l("Not found in the register."),
}
NEIGHBOUR_NAMES = {"above": _l("Above"), "below": _l("Below"), "same_floor": _l("Same floor")}
TEXTS = {
    "connected": _l("Online"),
    "connecting": _l("Connecting…"),
    "offline": _l("Offline"),
    "offline_help": _l("No network. Everything you do is kept on the tablet and sent when "
                       "the network is back."),
    "waiting": _l("Waiting to be sent:"),
    "all_sent": _l("Everything is sent."),
    "sending": _l("Sending…"),
    "no_jobs": _l("No jobs right now."),
    "new_job": _l("New job: %(category)s, %(address)s"),
    "show_new_job": _l("New job: %(category)s, %(address)s. Show it"),
    "job": _l("Job %(id)s"),
    "urgent": _l("Urgent"),
    "flat": _l("Flat %(n)s"),
    "floor": _l("floor %(n)s"),
    "door_code": _l("Door code"),
    "no_door_code": _l("No door code in the register"),
    "navigate": _l("Navigate"),
    "disturbed": _l("Disturbed tenant"),
    "call": _l("Call %(phone)s"),
    "no_phone": _l("No phone number"),
    "call_log": _l("Call attempts"),
    "answered": _l("Answered"),
    "no_answer": _l("Not answered"),
    "call_question": _l("Did the tenant answer?"),
    "tenant_phone": _l("The caller left no number: the tenant's phone from the register."),
    "suspected": _l("Suspected source"),
    "description": _l("What the caller said"),
    "earlier": _l("Earlier complaints here"),
    "no_earlier": _l("No earlier complaints."),
    "received": _l("Received %(time)s"),
    "revoked": _l("The job has been moved to another car."),
    "revoked_cancelled": _l("The operator has cancelled the job."),
    "close_job": _l("Remove from the tablet"),
    "report": _l("Incident report"),
    "report_draft_saved": _l("Draft saved on the tablet %(time)s"),
    "report_queued": _l("The report is waiting to be sent."),
    "report_sent": _l("The report is sent (%(time)s)."),
    "send_changes": _l("Send the changes to the report"),
    "report_failed": _l("The report was not accepted: %(message)s"),
    "report_missing": _l("Write the report: the job is done but has no report yet."),
    "outcome_required": _l("Choose the outcome."),
    "status_queued": _l("Status %(status)s waiting to be sent"),
    "not_sent": _l("not sent yet"),
    "report_waiting": _l("Report for %(address)s"),
    "duty_waiting": _l("Car status"),
    "on_duty": _l("On duty"),
    "off_duty": _l("Off duty"),
    "go_on_duty": _l("Go on duty"),
    "go_off_duty": _l("Go off duty"),
    "off_duty_confirm": _l("Go off duty? No new jobs come to this car until it is on duty "
                           "again."),
    "busy": _l("Busy"),
    "position_off": _l("Position is not shared: allow location for this page."),
    "log_out": _l("Log out"),
    "log_out_confirm": _l("End the shift on this tablet? Nothing waits to be sent."),
    "log_out_pending": _l("Things are still waiting to be sent. Log out anyway? They will be "
                          "lost."),
    "choose": _l("Choose…"),
    "yes": _l("Yes"),
    "no": _l("No"),
    "failed": _l("Not accepted: %(message)s"),
    "login_failed": _l("Could not log in. Check the network and try again."),
    # Issue 13: 50 m from the address for 30 s; the patrol confirms.
    "arrival": _l("You seem to be at the address. Mark the job as on site?"),
    "arrival_later": _l("Not yet"),
    # Issue 13: the register on the tablet, read-only, for a car on duty.
    "search_open": _l("Search the register"),
    "object_view": _l("The object in the register"),
    "job_history": _l("Job history"),
    "no_history": _l("No history yet."),
    "searching": _l("Searching…"),
    "no_hits": _l("Nothing found. Check the street and the number."),
    "no_such_number": _l("There is no number %(number)s on %(street)s."),
    "needs_network": _l("The register needs the network. Try again when the tablet is online."),
    "read_failed": _l("The register could not be read. Try again."),
    "tenants": _l("Tenants"),
    "no_tenants": _l("No tenant in the register."),
    "neighbours": _l("Neighbours"),
    "no_neighbours": _l("No neighbours above or below in the register."),
    "premise_history": _l("Earlier complaints at the object and the entrance"),
    "flats": _l("Flats at the address"),
    "busy_no_off_duty": _l("Busy with a job: finish or hand it over before going off duty."),
    "crew": _l("Crew: %(names)s"),
    # Issue 19: the alarm button.
    "alarm_queued": _l("The alarm is waiting for the network: it is sent first when the "
                       "tablet is online."),
    "alarm_sent": _l("The alarm is sent (%(time)s). Waiting for an operator to acknowledge."),
    "alarm_acknowledged": _l("The operator has the alarm: acknowledged %(time)s by %(user)s."),
    "alarm_waiting": _l("Alarm"),
    "check_in_question": _l("All well? Answer, or the operator is alarmed."),
    "check_in_yes": _l("All well"),
    "check_in_waiting": _l("Check-in"),
    "check_in_next": _l("Next check-in (All well?) at %(time)s"),
}



def _file_digest(names) -> str:
    """A short digest of static files, for cache names and ``?v=`` (recomputed on change)."""
    stamps = tuple((name, (STATIC / name).stat().st_mtime_ns) for name in names)
    return _digest_of(stamps)


@lru_cache(maxsize=8)
def _digest_of(stamps: tuple) -> str:
    digest = hashlib.sha256()
    for name, _mtime in stamps:
        digest.update((STATIC / name).read_bytes())
    return digest.hexdigest()[:12]


def _asset_urls() -> list[str]:
    version = _file_digest(ASSETS)
    return [url_for("static", filename=name, v=version) for name in ASSETS]


def _no_cache(response: Response) -> Response:
    # Always asked again when online; the service worker answers when there is no network.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/")
def shell():
    """The app shell: one small page; the job data arrives over the socket."""
    app_js, app_css, socket_js, icon, dom_js = _asset_urls()
    config = {
        "outcomes": list(OUTCOMES),
        "sw_url": url_for("field.service_worker"),
        "scope": url_for("field.shell"),
        "position_interval_s": 15,
        # Issue 19: how often the tablet asks "all well?" on site (the server keeps the timer).
        "check_in": {"default_s": int(current_app.config.get("CHECKIN_INTERVAL_S", 600)),
                     "fight_threat_s": int(current_app.config.get("CHECKIN_FIGHT_THREAT_S", 300))},
        "text": {
            **as_strings(TEXTS),
            "categories": as_strings(CATEGORY_NAMES),
            "steps": as_strings(STEP_NAMES),
            "step_actions": as_strings(STEP_ACTIONS),
            "outcomes": as_strings(OUTCOME_NAMES),
            "roles": as_strings(HISTORY_ROLE_NAMES),
            "errors": as_strings(ERROR_MESSAGES),
            "history_kinds": as_strings(HISTORY_KIND_NAMES),
            "neighbours_rel": as_strings(NEIGHBOUR_NAMES),
        },
    }
    html = render_template("field/shell.html", config=config, app_js=app_js, app_css=app_css,
                           socket_js=socket_js, icon=icon, dom_js=dom_js,
                           outcome_names=OUTCOME_NAMES)
    response = _no_cache(Response(html, mimetype="text/html"))
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/sw.js")
def service_worker():
    """The service worker, from inside /field/ so that its scope is the app."""
    source = (STATIC / "field" / "sw.js").read_text(encoding="utf-8")
    assets = _asset_urls()
    version = _file_digest((*ASSETS, "field/sw.js"))
    source = source.replace('"__VERSION__"', json.dumps(version)).replace(
        '["__ASSETS__"]', json.dumps([url_for("field.shell"), *assets]))
    response = _no_cache(Response(source, mimetype="text/javascript"))
    response.headers["Service-Worker-Allowed"] = url_for("field.shell")
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest (installable on the tablet's home screen, full screen, dark)."""
    body = (STATIC / "field" / "manifest.webmanifest").read_bytes()
    return Response(body, mimetype="application/manifest+json")


# -- the tablet's API ---------------------------------------------------------------------------

@api.get("/patrols")
def patrols():
    """The cars' call signs, for the log-in form (public: names only, no status or position)."""
    return jsonify([{"call_sign": p.call_sign, "name": p.name} for p in list_patrols(db.session)])


@api.post("/session")
def create_session():
    """Start a shift on a tablet: check the patrol's log-in (with the web log-in's attempt
    limits) and answer with a long-lived device token for the socket."""
    body = request.get_json(silent=True)
    if not request.is_json or not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "send a JSON object {email, password, call_sign}")
    email, password, call_sign = (body.get(k) for k in ("email", "password", "call_sign"))
    if not all(isinstance(v, str) and v.strip() for v in (email, password, call_sign)):
        raise ApiError(400, "missing_fields", "email, password and call_sign are required")
    crew = crew_names(body.get("crew"))
    patrol = db.session.scalar(select(Patrol).where(Patrol.call_sign == call_sign.strip()))
    if patrol is None:
        raise ApiError(400, "unknown_call_sign", f"no patrol car with call sign {call_sign!r}")
    cfg = current_app.config
    result = authenticate(db.session, email, password, ip=client_ip(), roles=("patrol",),
                          policy=LockoutPolicy.from_config(cfg))
    if result.user is None:
        # Answered, not raised: the failure is audited and committed with the request, and
        # that record is what the attempt limit counts.
        if result.reason == "locked":
            body, status = json_error(429, "too_many_attempts",
                                      "too many failed attempts; wait and retry",
                                      retry_after=result.retry_after)
            return body, status, {"Retry-After": str(result.retry_after)}
        return json_error(401, "invalid_credentials",
                          "wrong e-mail address or password, or not a patrol account")
    expires_at = utcnow() + timedelta(days=cfg["FIELD_SESSION_DAYS"])
    token = create_token(db.session, result.user, kind="device", label=patrol.call_sign,
                         expires_at=expires_at)
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    row.crew = crew
    record(db.session, "device.session_started", subject=result.user.email, ip=client_ip(),
           user_id=result.user.id, details={"call_sign": patrol.call_sign, "crew": len(crew)})
    return jsonify({"token": token, "expires_at": expires_at.isoformat(),
                    "user": {"email": result.user.email, "name": result.user.name},
                    "patrol": patrol_json(patrol), "crew": crew}), 201


CREW_MAX, CREW_NAME_MAX = 2, 80


def crew_names(value) -> list[str]:
    """The people on the car, as the shift log-in names them: one or two names (blank ones
    left out), each at most CREW_NAME_MAX characters; anything else is a JSON 400."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(400, "missing_crew", "crew must be a list of one or two names")
    names = [" ".join(v.split()) for v in value]
    names = [n for n in names if n]
    if not 1 <= len(names) <= CREW_MAX:
        raise ApiError(400, "missing_crew", "name the people on the car: one or two names")
    if any(len(n) > CREW_NAME_MAX for n in names):
        raise ApiError(400, "invalid_crew", f"a name is at most {CREW_NAME_MAX} characters")
    for name in names:
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError(400, "invalid_text", "a name must be valid Unicode") from None
        if "\x00" in name:
            raise ApiError(400, "invalid_text", "a name must not contain NUL characters")
    return names


@api.delete("/session")
def end_session():
    """End the shift on this tablet: the device token stops working at once, its sockets are
    closed, and the car goes off duty with its unacknowledged jobs back in the queue (if this
    was its current tablet session) and the consoles hear of it."""
    token = bearer_token()
    user = user_for_token(db.session, token) if token else None
    if user is None:
        raise ApiError(401, "unauthorized", "send the device token as a bearer token")
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    was_live = revoke_token(db.session, token)
    patrol = end_token_session(db.session, row, was_live=was_live, reason="logged_out")
    record(db.session, "device.session_ended", subject=user.email, ip=client_ip(),
           user_id=user.id, details={"call_sign": patrol.call_sign} if patrol else None)
    return "", 204
