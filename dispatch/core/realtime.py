"""Real-time events: one publisher, emitting only after the data is safely committed.

Domain code calls ``publish(session, ...)``; the event waits in the session and goes out
through Flask-SocketIO when the transaction commits, and is dropped if it rolls back. With
``REDIS_URL`` set, Flask-SocketIO's Redis message queue carries it to every web process.

Ending sessions: ``end_sessions_after_commit(session, room, ...)`` closes a room of sessions
(``session:<token id>``, see ``auth.sockets``) after commit, which disconnects every socket in
it, on whichever web process holds it: closing a room travels through the message queue like
an emit, and this module's client managers disconnect the members of such a room instead of
only emptying it (a client that ignores the message it was sent is cut off all the same).

Frames over ``MAX_FRAME_BYTES`` (1 MiB) are refused by Engine.IO (the connection is closed) and
logged once per connection (``_FrameLimitLog``).

The web process's upkeep (``add_upkeep``, ``start_upkeep``): timed work every web process
runs in the background, such as the acknowledgement timer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import socketio as python_socketio
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from dispatch.core.extensions import socketio

log = logging.getLogger(__name__)
_PENDING = "dispatch.pending_events"
# Rooms named so are sessions: closing one disconnects its sockets (see the module's text).
SESSION_ROOM_PREFIX = "session:"
MAX_FRAME_BYTES = 1 << 20


@dataclass(frozen=True)
class Event:
    """An event to emit: name, payload, namespace and the room it goes to (None: everyone)."""

    name: str
    data: dict
    namespace: str
    to: str | None = None
    close: bool = False  # close the room ``to`` (after emitting the event, if it has a name)


def publish(session: Session, name: str, data: dict, *, namespace: str, to: str | None = None):
    """Queue an event to be emitted when ``session`` commits."""
    session.info.setdefault(_PENDING, []).append(Event(name, data, namespace, to))


def end_sessions_after_commit(session: Session, room: str, *, namespaces: tuple[str, ...],
                              event_name: str | None = None, data: dict | None = None) -> None:
    """When ``session`` commits: tell the sockets in ``room`` (``event_name``, if given), then
    disconnect them, on every web process. ``room`` must be a session room."""
    if not room.startswith(SESSION_ROOM_PREFIX):
        raise ValueError(f"not a session room: {room!r}")
    for namespace in namespaces:
        session.info.setdefault(_PENDING, []).append(
            Event(event_name or "", data or {}, namespace, room, close=True))


@event.listens_for(Session, "after_commit")
def _emit_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    for ev in pending or ():
        try:
            if ev.name:
                socketio.emit(ev.name, ev.data, namespace=ev.namespace, to=ev.to)
            if ev.close:
                socketio.close_room(ev.to, namespace=ev.namespace)
        except Exception:  # a dead queue must not undo a committed assignment
            log.exception("emit failed", extra={"event": ev.name, "namespace": ev.namespace})


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, _previous) -> None:
    session.info.pop(_PENDING, None)


class SessionEndingManager(python_socketio.Manager):
    """The one-process client manager, except that closing a session room disconnects its
    members rather than only emptying the room."""

    def close_room(self, room, namespace):
        if isinstance(room, str) and room.startswith(SESSION_ROOM_PREFIX):
            for sid, _eio_sid in list(self.get_participants(namespace, room)):
                try:
                    self.server.disconnect(sid, namespace=namespace, ignore_queue=True)
                except Exception:
                    log.exception("disconnect failed", extra={"namespace": namespace})
            log.info("session sockets closed", extra={"room": room, "namespace": namespace})
        return super().close_room(room, namespace)


class SessionEndingRedisManager(python_socketio.RedisManager, SessionEndingManager):
    """Redis's message queue, with ``SessionEndingManager``'s closing of session rooms: the
    queue's close_room reaches every process, and each disconnects the members it holds."""


class _FrameLimitLog(logging.Filter):
    """Engine.IO's logger, narrowed to one line per connection whose frame passed the limit
    (the rest of what it says stays unlogged, as with ``engineio_logger=False``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "too large" not in record.getMessage() and "too long" not in record.getMessage():
            return False
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg, record.args = "socket frame over the size limit: connection closed", ()
        record.limit_bytes = MAX_FRAME_BYTES
        return True


class _PollingFrameLimit:
    """The long-polling side of the frame limit: Engine.IO answers a POST over the limit 400
    and closes the session without a word in the log; this says so, once per request."""

    def __init__(self, wsgi_app, limit: int):
        self.wsgi_app, self.limit = wsgi_app, limit

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "POST" and "/socket.io" in environ.get("PATH_INFO", ""):
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > self.limit:
                log.warning("socket frame over the size limit: connection closed",
                            extra={"limit_bytes": self.limit, "transport": "polling"})
        return self.wsgi_app(environ, start_response)


def _engineio_logger() -> logging.Logger:
    logger = logging.getLogger("dispatch.sockets.transport")
    if not any(isinstance(f, _FrameLimitLog) for f in logger.filters):
        logger.addFilter(_FrameLimitLog())
    logger.setLevel(logging.INFO)
    return logger


# -- the web process's upkeep ------------------------------------------------------------------
# Timed work every web process does (the acknowledgement timer: ``callcenter.timers``), added
# by the features at start-up and run by one background task each, started by the serving
# entry points (``dispatch run``, the Procfile's web: ``dispatch.wsgi``), never by commands or
# the in-process tests (they call the work themselves). The work must be safe to run in every
# web process at once. (The tablets' re-sends and presence have their own loop, started by
# the first tablet that connects: ``field.events``.)
_UPKEEP = "dispatch.upkeep"
_UPKEEP_STARTED = "dispatch.upkeep_started"


def add_upkeep(app: Flask, work, *, every_s: float) -> None:
    """Run ``work(app)`` every ``every_s`` seconds in each web process (0: never)."""
    if every_s > 0:
        app.extensions.setdefault(_UPKEEP, []).append((work, every_s))


def start_upkeep(app: Flask) -> int:
    """Start this process's upkeep tasks (once); returns how many were started."""
    if app.extensions.get(_UPKEEP_STARTED):
        return 0
    app.extensions[_UPKEEP_STARTED] = True
    tasks = app.extensions.get(_UPKEEP, [])
    for work, every_s in tasks:
        socketio.start_background_task(_upkeep_loop, app, work, every_s)
    return len(tasks)


def _upkeep_loop(app: Flask, work, every_s: float) -> None:
    while True:
        socketio.sleep(every_s)
        try:
            work(app)
        except Exception:  # the next pass tries again (the database may be back by then)
            log.exception("upkeep pass failed", extra={"work": work.__name__})


def init_app(app: Flask) -> None:
    """Bind Flask-SocketIO: async mode from settings, Redis message queue when configured."""
    url = app.config["REDIS_URL"]
    manager = SessionEndingRedisManager(url, channel="flask-socketio") if url else (
        SessionEndingManager())
    limit = app.config.get("SOCKET_MAX_FRAME_BYTES", MAX_FRAME_BYTES)
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=url,
        client_manager=manager,
        # Bigger frames are refused (the connection is closed) and logged once.
        max_http_buffer_size=limit,
        # Same origin by default (browsers on our pages; python clients send their URL's
        # origin); more can be listed in CORS_ALLOWED_ORIGINS.
        cors_allowed_origins=app.config["CORS_ALLOWED_ORIGINS"] or None,
        logger=False,
        engineio_logger=_engineio_logger(),
    )
    app.wsgi_app = _PollingFrameLimit(app.wsgi_app, limit)
