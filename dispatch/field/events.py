"""The ``/field`` namespace: tablets connect as their car, get what was not acknowledged,
send acknowledgements, statuses, positions, call attempts (``job.call_attempt``),
reports and the alarm button (``patrol.alarm``, ``jobs.safety``); the re-sending of what
they have not acknowledged; and the cars' presence (``jobs.patrols``): stamped at connect
and on every pass of this process's upkeep loop for the cars whose sockets it holds.

Handlers are thin: the patrol comes from the connection (set at connect), the domain
functions do the work; each event is one unit of work (``_handled``), answered with
``{"ok": true}`` or ``{"ok": false, "error": {code, message}}`` as the acknowledgement.

Every socket is one car or none: the car its token is bound to (``auth.sockets``), and an
event may name only that car's jobs and deliveries (anything else is ``unknown_job`` /
``unknown_delivery``, nothing changed). Payloads come from outside: ids are checked against the
database's range (``core.ids``), positions are finite numbers (not booleans) in range, text
with NUL or unpaired surrogates is refused; an event with no handler is answered
``unknown_event`` and logged once per connection.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from functools import wraps

from flask import current_app, request
from flask import session as flask_session
from flask_socketio import ConnectionRefusedError, disconnect, join_room
from sqlalchemy import select

from dispatch.auth.sockets import (
    admit,
    device_may_be,
    live_token_ids,
    patrol_for,
    session_revoked,
)
from dispatch.core.clock import instant_or_none
from dispatch.core.database import transactional, unit_of_work
from dispatch.core.errors import database_unavailable
from dispatch.core.extensions import db, socketio
from dispatch.core.ids import is_id
from dispatch.field.calls import record_call_attempt
from dispatch.jobs import delivery
from dispatch.jobs.dispatching import (
    DispatchError,
    patrol_became_available,
    record_status,
    set_patrol_status,
    update_position,
)
from dispatch.jobs.patrols import is_present, mark_seen
from dispatch.jobs.safety import (
    acknowledged_since,
    alarm_json,
    raise_alarm,
    record_check_in,
    tablet_ack,
)
from dispatch.models import ApiToken, Delivery, Job, Patrol, utcnow
from dispatch.reports.service import submit_report

log = logging.getLogger(__name__)
NS = "/field"

# The tablets connected to this process: patrol id → socket ids. Re-sends go only to these,
# so that several web processes never re-send the same message twice.
_local: dict[int, set[str]] = {}
# Socket id → the token it was opened with, for the upkeep pass that cuts off sockets whose
# session ended (in case the queue's message that closes them was lost).
_tokens: dict[str, int] = {}
_loop_started = False
MAX_DEPTH = 8  # how deep a payload's strings are checked (deeper nesting is refused)


def _error(exc: DispatchError) -> dict:
    return {"ok": False, "error": {"code": exc.code, "message": exc.message}}


def _patrol_id() -> int:
    return flask_session["patrol_id"]


def _handled(handler):
    """Run a handler as one unit of work; turn refusals into an error acknowledgement."""

    @wraps(handler)
    def wrapped(data=None, *_extra):
        if session_revoked():
            disconnect()
            return {"ok": False, "error": {"code": "unauthorized",
                                           "message": "this device's session has ended"}}
        try:
            data = data if isinstance(data, dict) else {}
            _check_text(data)
            with unit_of_work():
                result = handler(data)
        except DispatchError as exc:
            return _error(exc)
        except Exception as exc:
            if database_unavailable(exc):  # passes: the tablet keeps it and sends it again
                log.warning("field event: database unavailable",
                            extra={"event": handler.__name__, "error": str(exc)[:300]})
                return {"ok": False, "error": {
                    "code": "database_unavailable",
                    "message": "the database cannot be reached just now; send it again"}}
            log.exception("field event failed", extra={"event": handler.__name__})
            return {"ok": False, "error": {"code": "internal_error",
                                           "message": "the server could not record this"}}
        return {"ok": True, **(result or {})}

    return wrapped


def _check_text(value, depth: int = 0) -> None:
    """Refuse text no database stores (NUL, unpaired surrogates) anywhere in a payload."""
    if depth > MAX_DEPTH:
        raise DispatchError("invalid_payload", "the payload is nested too deeply")
    if isinstance(value, str):
        if "\x00" in value:
            raise DispatchError("invalid_text", "text must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise DispatchError("invalid_text", "text must be valid Unicode") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, depth + 1)
            _check_text(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_text(item, depth + 1)


def flush_pending(patrol_id: int, sid: str) -> int:
    """Send a (re)connected tablet everything it has not acknowledged, in order."""
    pending = delivery.pending(db.session, patrol_id)
    for item in pending:
        _emit(item, sid)
    delivery.mark_sent(db.session, pending)
    return len(pending)


def _emit(item, sid: str) -> None:
    patrol_id, delivery_id = item.patrol_id, item.id
    app = current_app._get_current_object()

    def acked(*_args):
        # The callback runs in this process: record it like the explicit job.ack event.
        with app.app_context(), unit_of_work():
            delivery.acknowledge(db.session, patrol_id=patrol_id, delivery_id=delivery_id)

    socketio.emit(item.event, delivery.message(item), namespace=NS, to=sid, callback=acked)


@transactional
def on_connect(auth=None):
    """A tablet connects as its car (``auth: {token, call_sign}``): it joins the car's room,
    its car is seen, it gets at once everything it has not acknowledged, and an available car
    back after its grace period is offered the queue's first job."""
    global _loop_started
    admit(auth, "patrol")
    patrol = patrol_for(auth)
    if patrol is None:
        raise ConnectionRefusedError("unknown patrol: give auth.call_sign")
    if not device_may_be(patrol.call_sign):
        # One car or none: only a token bound to this call sign (a shift log-in's device token,
        # or an integration made with --call-sign) connects as this car.
        raise ConnectionRefusedError("forbidden")
    patrol_id = flask_session["patrol_id"] = patrol.id
    join_room(f"patrol:{patrol_id}")
    _local.setdefault(patrol_id, set()).add(request.sid)
    _tokens[request.sid] = flask_session["token_id"]
    config = current_app.config
    returning = not is_present(patrol, grace=timedelta(seconds=config["PRESENCE_GRACE_S"]))
    if not is_present(patrol, grace=timedelta(seconds=upkeep_interval(config))):
        mark_seen(db.session, [patrol_id])  # (a tablet back within seconds is still fresh)
    flush_pending(patrol_id, request.sid)
    tell_acknowledged_alarms(patrol_id, request.sid)
    if returning and patrol.status == "available":
        # Back after its grace period: jobs may have queued while it was away, not offered to
        # it; now it is there to take the first. (A tablet back from a short drop-out within
        # its grace period was offered everything all along.)
        patrol_became_available(db.session, patrol)
    if not _loop_started and current_app.config["DELIVERY_RESEND_S"] > 0:
        _loop_started = True
        socketio.start_background_task(_upkeep_loop, current_app._get_current_object())
    return True


def tell_acknowledged_alarms(patrol_id: int, sid: str) -> None:
    """A tablet back online hears again which of its alarms an operator acknowledged in the
    last hour (it may have missed ``alarm.acknowledged`` while away)."""
    for alarm in acknowledged_since(db.session, patrol_id, utcnow() - timedelta(hours=1)):
        socketio.emit("alarm.acknowledged", tablet_ack(alarm_json(db.session, alarm)),
                      namespace=NS, to=sid)


def on_disconnect(*_args):
    """The socket is gone: this process stops stamping the car. No write here (tablets on 4G
    drop out all the time): the grace period runs from the last stamp, at most one upkeep
    interval before the disconnect, as it does for a process killed with -9."""
    patrol_id = flask_session.get("patrol_id")
    _tokens.pop(request.sid, None)
    sids = _local.get(patrol_id)
    if sids is not None:
        sids.discard(request.sid)
        if not sids:
            _local.pop(patrol_id, None)


def refresh_presence(app) -> int:
    """Stamp the cars whose tablets are connected to this process as seen now."""
    with app.app_context(), unit_of_work():
        return mark_seen(db.session, list(_local))


def cut_off_ended_sessions(app) -> int:
    """Disconnect this process's sockets whose token no longer holds (revoked, expired, user
    deactivated). Ending a session closes its sockets at once through the message queue; this
    pass is the net under it (a queue that was down then). Returns the sockets cut off."""
    held = dict(_tokens)  # judged as they are now: a socket that connects during the read
    with app.app_context(), unit_of_work():  # (the greenlet yields) is not in it, not ended
        live = live_token_ids(db.session, held.values())
    ended = [sid for sid, token_id in held.items() if token_id not in live]
    for sid in ended:
        log.warning("field socket of an ended session cut off",
                    extra={"token_id": _tokens.get(sid)})
        socketio.server.disconnect(sid, namespace=NS, ignore_queue=True)
        _tokens.pop(sid, None)
    return len(ended)


def resend_due(app) -> int:
    """One pass of the re-send loop: messages not acknowledged within the interval."""
    interval = timedelta(seconds=app.config["DELIVERY_RESEND_S"])
    with app.app_context(), unit_of_work():
        due = delivery.due(db.session, list(_local), older_than=interval)
        sent = []
        for item in due:
            for sid in list(_local.get(item.patrol_id, ())):
                _emit(item, sid)
            sent.append(item)
        delivery.mark_sent(db.session, sent)
        return len(sent)


def upkeep_interval(config) -> float:
    """How often the upkeep loop runs: the re-send interval, or more often if the presence
    grace period needs it (a car must be stamped a few times within its grace period)."""
    return min(config["DELIVERY_RESEND_S"], max(1, config["PRESENCE_GRACE_S"] / 3))


def _upkeep_loop(app) -> None:
    """This process's background loop (started by the first tablet that connects; none with
    ``DELIVERY_RESEND_S`` 0, as in the in-process tests): presence, then re-sends."""
    interval = upkeep_interval(app.config)
    while True:
        socketio.sleep(interval)
        for work in (cut_off_ended_sessions, refresh_presence, resend_due):
            try:
                work(app)
            except Exception:
                log.exception("upkeep pass failed", extra={"work": work.__name__})


@_handled
def job_ack(data):
    """The tablet has the job (or the revocation): stop re-sending it."""
    delivery_id, job_id = data.get("delivery_id"), data.get("job_id")
    # Only this car's own deliveries: another car's id is unknown here (and stays pending for
    # that car's tablet).
    found = delivery.acknowledge(
        db.session, patrol_id=_patrol_id(),
        delivery_id=delivery_id if is_id(delivery_id) else None,
        job_id=job_id if is_id(job_id) and not is_id(delivery_id) else None)
    if found is None:
        raise DispatchError("unknown_delivery", "nothing to acknowledge")


def _job(data) -> Job:
    """The job an event names by ``job_id``, if it is this car's: an id out of range, of
    another type, of no job or of a job this car never had is ``unknown_job``; a job that was
    this car's and has been moved to another car is ``not_your_job`` (the tablet marks it
    moved)."""
    job_id = data.get("job_id")
    job = db.session.get(Job, job_id) if is_id(job_id) else None
    if job is None:
        raise DispatchError("unknown_job", "no such job")
    patrol_id = _patrol_id()
    if job.patrol_id != patrol_id:
        had_it = db.session.scalar(select(Delivery.id).where(
            Delivery.job_id == job.id, Delivery.patrol_id == patrol_id).limit(1))
        if had_it is None:
            raise DispatchError("unknown_job", "no such job")
        raise DispatchError("not_your_job", f"job {job.id} is not assigned to this car")
    return job


def _number(value, name: str, low: float, high: float) -> float:
    """A finite number from ``low`` to ``high`` (an int or a float; a boolean is not one)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DispatchError("invalid_position", f"{name} must be a number")
    try:
        number = float(value)
    except OverflowError:
        raise DispatchError("invalid_position", f"{name} is out of range") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise DispatchError("invalid_position", f"{name} is out of range")
    return number


@_handled
def job_status(data):
    """accepted → en_route → on_site → done, each stamped by the tablet, replay-safe."""
    job = _job(data)
    event_id = data.get("event_id")
    changed = record_status(db.session, job, patrol_id=_patrol_id(), status=data.get("status"),
                            at=instant_or_none(data.get("at")),
                            event_id=str(event_id)[:64] if event_id else None)
    return {"changed": changed, "status": job.status}


@_handled
def position(data):
    """Where the car is (every 15 s and on movement)."""
    if "lat" not in data or "lon" not in data:
        raise DispatchError("invalid_position", "lat and lon are required numbers")
    lat = _number(data["lat"], "lat", -90, 90)
    lon = _number(data["lon"], "lon", -180, 180)
    accuracy = data.get("accuracy_m")
    accuracy = _number(accuracy, "accuracy_m", 0, 1e7) if accuracy is not None else None
    patrol = db.session.get(Patrol, _patrol_id())
    update_position(db.session, patrol, lat=lat, lon=lon, accuracy_m=accuracy,
                    at=instant_or_none(data.get("at")))


@_handled
def patrol_status(data):
    """On duty (available) or off duty."""
    patrol = db.session.get(Patrol, _patrol_id())
    status = data.get("status")
    set_patrol_status(db.session, patrol, status if isinstance(status, str) else "")
    return {"status": patrol.status}


@_handled
def call_attempt(data):
    """A call to the disturbed tenant from the job card: number, answered or not, when."""
    job = _job(data)
    changed = record_call_attempt(db.session, job, patrol_id=_patrol_id(),
                                  number=data.get("number"), answered=data.get("answered"),
                                  event_id=data.get("event_id"),
                                  at=instant_or_none(data.get("at")))
    return {"changed": changed}


def _crew() -> list[str] | None:
    """The crew named at this tablet's shift log-in (None for a token without one)."""
    token_id = flask_session.get("token_id")
    row = db.session.get(ApiToken, token_id) if token_id is not None else None
    return list(row.crew) if row is not None and row.crew else None


@_handled
def job_report(data):
    """The documentation; sending it again replaces it until the report is released. The
    crew of this tablet's shift log-in is who wrote it."""
    job = _job(data)
    report = submit_report(db.session, job, patrol_id=_patrol_id(), data=data, crew=_crew())
    return {"report_id": report.id}


@_handled
def patrol_alarm(data):
    """The alarm button (issue 19): ``{event_id, kind: alarm|silent, lat, lon, accuracy_m,
    at}``; the tablet sends it first in its outbox. Answered with the alarm's id."""
    alarm, new = raise_alarm(db.session, _patrol_id(), kind=data.get("kind"),
                             event_id=data.get("event_id"), lat=data.get("lat"),
                             lon=data.get("lon"), accuracy_m=data.get("accuracy_m"),
                             position_at=instant_or_none(data.get("position_at")),
                             at=instant_or_none(data.get("at")))
    return {"alarm_id": alarm.id, "changed": new,
            "acknowledged_at": alarm_json(db.session, alarm)["acknowledged_at"]}


@_handled
def check_in(data):
    """The crew's "all well?" answer while on site (issue 19): ``{job_id, event_id, at}``."""
    job = _job(data)
    return {"changed": record_check_in(db.session, job, patrol_id=_patrol_id(),
                                       event_id=data.get("event_id"),
                                       at=instant_or_none(data.get("at")))}


def ping(*_data):
    """A round trip the tablet can time to tell a live connection from a dead one."""
    return {"ok": True}


def unknown_event(event, *_data):
    """An event with no handler: answered (if it asked for an answer) and logged once per
    connection and event name, whatever a client sends how often."""
    name = str(event)[:64]
    seen = flask_session.setdefault("unknown_events", [])
    if name not in seen and len(seen) < 20:
        seen.append(name)
        log.warning("field socket: unknown event",
                    extra={"event": name, "patrol_id": flask_session.get("patrol_id")})
    return {"ok": False, "error": {"code": "unknown_event", "message": "no such event"}}


def register() -> None:
    """Bind the handlers to the SocketIO object (once per process: handlers live there)."""
    socketio.on_event("connect", on_connect, namespace=NS)
    socketio.on_event("disconnect", on_disconnect, namespace=NS)
    for name, handler in (("job.ack", job_ack), ("job.status", job_status),
                          ("position", position), ("patrol.status", patrol_status),
                          ("job.call_attempt", call_attempt), ("job.report", job_report),
                          ("patrol.alarm", patrol_alarm), ("job.check_in", check_in),
                          ("ping", ping)):
        socketio.on_event(name, handler, namespace=NS)
    socketio.on_event("*", unknown_event, namespace=NS)
