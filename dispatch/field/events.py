"""The ``/field`` namespace: what tablets send (acknowledgements, statuses, positions,
reports) and the re-sending of what they have not acknowledged.

Handlers are thin: the patrol comes from the connection (set at connect), the domain
functions do the work, the handler commits and answers ``{"ok": true}`` or
``{"ok": false, "error": {code, message}}`` as the Socket.IO acknowledgement.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app, request
from flask import session as flask_session

from dispatch.core.extensions import db, socketio
from dispatch.jobs import delivery
from dispatch.jobs.dispatching import (
    DispatchError,
    record_status,
    set_patrol_status,
    update_position,
)
from dispatch.models import Job, Patrol

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


def _time(value) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _session_revoked() -> bool:
    """Whether this tablet's device token was revoked (checked every TOKEN_RECHECK_S)."""
    import time

    from dispatch.auth.service import digest_still_valid

    digest = flask_session.get("token_digest")
    if digest is None:
        return False
    now = time.monotonic()
    if now - flask_session.get("token_checked", 0) < current_app.config["TOKEN_RECHECK_S"]:
        return False
    flask_session["token_checked"] = now
    return not digest_still_valid(db.session, digest)


def _handled(handler):
    """Run a handler in a transaction; turn refusals into an error acknowledgement."""

    def wrapped(data=None):
        if _session_revoked():
            from flask_socketio import disconnect

            disconnect()
            return {"ok": False, "error": {"code": "unauthorized",
                                           "message": "this device's session has ended"}}
        try:
            result = handler(data if isinstance(data, dict) else {})
            db.session.commit()
            return {"ok": True, **(result or {})}
        except DispatchError as exc:
            db.session.rollback()
            return _error(exc)
        except Exception:
            db.session.rollback()
            log.exception("field event failed", extra={"event": handler.__name__})
            return {"ok": False, "error": {"code": "internal_error",
                                           "message": "the server could not record this"}}

    wrapped.__name__ = handler.__name__
    return wrapped


def flush_pending(patrol_id: int, sid: str) -> int:
    """Send a (re)connected tablet everything it has not acknowledged, in order."""
    pending = delivery.pending(db.session, patrol_id)
    for item in pending:
        _emit(item, sid)
    delivery.mark_sent(db.session, pending)
    db.session.commit()
    return len(pending)


def _emit(item, sid: str) -> None:
    patrol_id, delivery_id = item.patrol_id, item.id
    app = current_app._get_current_object()

    def acked(*_args):
        # The callback runs in this process: record it like the explicit job.ack event.
        with app.app_context():
            delivery.acknowledge(db.session, patrol_id=patrol_id, delivery_id=delivery_id)
            db.session.commit()

    socketio.emit(item.event, delivery.message(item), namespace=NS, to=sid, callback=acked)


def on_connected(patrol_id: int) -> None:
    """Called by the connect handler once the tablet is in its car's room."""
    global _loop_started
    _local.setdefault(patrol_id, set()).add(request.sid)
    flush_pending(patrol_id, request.sid)
    if not _loop_started and current_app.config["DELIVERY_RESEND_S"] > 0:
        _loop_started = True
        socketio.start_background_task(_resend_loop, current_app._get_current_object())


@socketio.on("disconnect", namespace=NS)
def _disconnect(*_args):
    patrol_id = flask_session.get("patrol_id")
    sids = _local.get(patrol_id)
    if sids is not None:
        sids.discard(request.sid)
        if not sids:
            _local.pop(patrol_id, None)


def resend_due(app) -> int:
    """One pass of the re-send loop: messages not acknowledged within the interval."""
    interval = timedelta(seconds=app.config["DELIVERY_RESEND_S"])
    with app.app_context():
        due = delivery.due(db.session, list(_local), older_than=interval)
        sent = []
        for item in due:
            for sid in list(_local.get(item.patrol_id, ())):
                _emit(item, sid)
            sent.append(item)
        delivery.mark_sent(db.session, sent)
        db.session.commit()
        return len(sent)


def _resend_loop(app) -> None:
    while True:
        socketio.sleep(app.config["DELIVERY_RESEND_S"])
        try:
            resend_due(app)
        except Exception:
            log.exception("re-send pass failed")


@socketio.on("job.ack", namespace=NS)
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


@socketio.on("job.status", namespace=NS)
@_handled
def job_status(data):
    """accepted → en_route → on_site → done, each stamped by the tablet, replay-safe."""
    job = _job(data)
    event_id = data.get("event_id")
    changed = record_status(db.session, job, patrol_id=_patrol_id(), status=data.get("status"),
                            at=_time(data.get("at")),
                            event_id=str(event_id)[:64] if event_id else None)
    return {"changed": changed, "status": job.status}


@socketio.on("position", namespace=NS)
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
                    at=_time(data.get("at")))


@socketio.on("patrol.status", namespace=NS)
@_handled
def patrol_status(data):
    """On duty (available) or off duty."""
    patrol = db.session.get(Patrol, _patrol_id())
    set_patrol_status(db.session, patrol, str(data.get("status")))
    return {"status": patrol.status}


@socketio.on("job.report", namespace=NS)
@_handled
def job_report(data):
    """The documentation; sending it again replaces it until the report is released."""
    from dispatch.reports.service import submit_report

    job = _job(data)
    report = submit_report(db.session, job, patrol_id=_patrol_id(), data=data)
    return {"report_id": report.id}


@socketio.on("ping", namespace=NS)
def ping(data=None):
    """A round trip the tablet can time to tell a live connection from a dead one."""
    return {"ok": True}
