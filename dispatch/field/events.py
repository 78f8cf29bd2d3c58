"""The ``/field`` namespace: tablets connect as their car, get what was not acknowledged,
send acknowledgements, statuses, positions and reports; the re-sending of what they have not
acknowledged; and the cars' presence (``jobs.patrols``): stamped at connect and on every
pass of this process's upkeep loop for the cars whose sockets it holds.

Handlers are thin: the patrol comes from the connection (set at connect), the domain
functions do the work; each event is one unit of work (``_handled``), answered with
``{"ok": true}`` or ``{"ok": false, "error": {code, message}}`` as the acknowledgement.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import wraps

from flask import current_app, request
from flask import session as flask_session
from flask_socketio import ConnectionRefusedError, disconnect, join_room

from dispatch.auth.sockets import admit, device_may_be, patrol_for, session_revoked
from dispatch.core.clock import instant_or_none
from dispatch.core.database import transactional, unit_of_work
from dispatch.core.errors import database_unavailable
from dispatch.core.extensions import db, socketio
from dispatch.jobs import delivery
from dispatch.jobs.dispatching import (
    DispatchError,
    patrol_became_available,
    record_status,
    set_patrol_status,
    update_position,
)
from dispatch.jobs.patrols import is_present, mark_seen
from dispatch.models import Job, Patrol
from dispatch.reports.service import submit_report

log = logging.getLogger(__name__)
NS = "/field"

# The tablets connected to this process: patrol id → socket ids. Re-sends go only to these,
# so that several web processes never re-send the same message twice.
_local: dict[int, set[str]] = {}
_loop_started = False


def _error(exc: DispatchError) -> dict:
    return {"ok": False, "error": {"code": exc.code, "message": exc.message}}


def _patrol_id() -> int:
    return flask_session["patrol_id"]


def _handled(handler):
    """Run a handler as one unit of work; turn refusals into an error acknowledgement."""

    @wraps(handler)
    def wrapped(data=None):
        if session_revoked():
            disconnect()
            return {"ok": False, "error": {"code": "unauthorized",
                                           "message": "this device's session has ended"}}
        try:
            with unit_of_work():
                result = handler(data if isinstance(data, dict) else {})
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
        raise ConnectionRefusedError("forbidden")
    patrol_id = flask_session["patrol_id"] = patrol.id
    join_room(f"patrol:{patrol_id}")
    _local.setdefault(patrol_id, set()).add(request.sid)
    config = current_app.config
    returning = not is_present(patrol, grace=timedelta(seconds=config["PRESENCE_GRACE_S"]))
    if not is_present(patrol, grace=timedelta(seconds=upkeep_interval(config))):
        mark_seen(db.session, [patrol_id])  # (a tablet back within seconds is still fresh)
    flush_pending(patrol_id, request.sid)
    if returning and patrol.status == "available":
        # Back after its grace period: jobs may have queued while it was away, not offered to
        # it; now it is there to take the first. (A tablet back from a short drop-out within
        # its grace period was offered everything all along.)
        patrol_became_available(db.session, patrol)
    if not _loop_started and current_app.config["DELIVERY_RESEND_S"] > 0:
        _loop_started = True
        socketio.start_background_task(_upkeep_loop, current_app._get_current_object())
    return True


def on_disconnect(*_args):
    """The socket is gone: this process stops stamping the car. No write here (tablets on 4G
    drop out all the time): the grace period runs from the last stamp, at most one upkeep
    interval before the disconnect, as it does for a process killed with -9."""
    patrol_id = flask_session.get("patrol_id")
    sids = _local.get(patrol_id)
    if sids is not None:
        sids.discard(request.sid)
        if not sids:
            _local.pop(patrol_id, None)


def refresh_presence(app) -> int:
    """Stamp the cars whose tablets are connected to this process as seen now."""
    with app.app_context(), unit_of_work():
        return mark_seen(db.session, list(_local))


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
        for work in (refresh_presence, resend_due):
            try:
                work(app)
            except Exception:
                log.exception("upkeep pass failed", extra={"work": work.__name__})


@_handled
def job_ack(data):
    """The tablet has the job (or the revocation): stop re-sending it."""
    delivery_id = data.get("delivery_id")
    job_id = data.get("job_id")
    found = delivery.acknowledge(
        db.session, patrol_id=_patrol_id(),
        delivery_id=delivery_id if isinstance(delivery_id, int) else None,
        job_id=job_id if isinstance(job_id, int) else None)
    if found is None:
        raise DispatchError("unknown_delivery", "nothing to acknowledge")


def _job(data) -> Job:
    """The job an event names by ``job_id``; an unknown or malformed id is an error."""
    job_id = data.get("job_id")
    job = db.session.get(Job, job_id) if isinstance(job_id, int) else None
    if job is None:
        raise DispatchError("unknown_job", "no such job")
    return job


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
    try:
        lat, lon = float(data["lat"]), float(data["lon"])
        accuracy = float(data["accuracy_m"]) if data.get("accuracy_m") is not None else None
    except (KeyError, TypeError, ValueError):
        raise DispatchError("invalid_position", "lat and lon are required numbers") from None
    patrol = db.session.get(Patrol, _patrol_id())
    update_position(db.session, patrol, lat=lat, lon=lon, accuracy_m=accuracy,
                    at=instant_or_none(data.get("at")))


@_handled
def patrol_status(data):
    """On duty (available) or off duty."""
    patrol = db.session.get(Patrol, _patrol_id())
    set_patrol_status(db.session, patrol, str(data.get("status")))
    return {"status": patrol.status}


@_handled
def job_report(data):
    """The documentation; sending it again replaces it until the report is released."""
    job = _job(data)
    report = submit_report(db.session, job, patrol_id=_patrol_id(), data=data)
    return {"report_id": report.id}


def ping(data=None):
    """A round trip the tablet can time to tell a live connection from a dead one."""
    return {"ok": True}


def register() -> None:
    """Bind the handlers to the SocketIO object (once per process: handlers live there)."""
    socketio.on_event("connect", on_connect, namespace=NS)
    socketio.on_event("disconnect", on_disconnect, namespace=NS)
    for name, handler in (("job.ack", job_ack), ("job.status", job_status),
                          ("position", position), ("patrol.status", patrol_status),
                          ("job.report", job_report), ("ping", ping)):
        socketio.on_event(name, handler, namespace=NS)
