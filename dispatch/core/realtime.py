"""Real-time events: one publisher, emitting only after the data is safely committed.

Domain code calls ``publish(session, ...)``; the event waits in the session and goes out
through Flask-SocketIO when the transaction commits, and is dropped if it rolls back. With
``REDIS_URL`` set, Flask-SocketIO's Redis message queue carries it to every web process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from dispatch.core.extensions import socketio

log = logging.getLogger(__name__)
_PENDING = "dispatch.pending_events"


@dataclass(frozen=True)
class Event:
    """An event to emit: name, payload, namespace and the room it goes to (None: everyone)."""

    name: str
    data: dict
    namespace: str
    to: str | None = None


def publish(session: Session, name: str, data: dict, *, namespace: str, to: str | None = None):
    """Queue an event to be emitted when ``session`` commits."""
    session.info.setdefault(_PENDING, []).append(Event(name, data, namespace, to))


@event.listens_for(Session, "after_commit")
def _emit_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    for ev in pending or ():
        try:
            socketio.emit(ev.name, ev.data, namespace=ev.namespace, to=ev.to)
        except Exception:  # a dead queue must not undo a committed assignment
            log.exception("emit failed", extra={"event": ev.name, "namespace": ev.namespace})


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, _previous) -> None:
    session.info.pop(_PENDING, None)


def init_app(app: Flask) -> None:
    """Bind Flask-SocketIO: async mode from settings, Redis message queue when configured."""
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config["REDIS_URL"],
        # Same origin by default (browsers on our pages; python clients send their URL's
        # origin); more can be listed in CORS_ALLOWED_ORIGINS.
        cors_allowed_origins=app.config["CORS_ALLOWED_ORIGINS"] or None,
        logger=False,
        engineio_logger=False,
    )
