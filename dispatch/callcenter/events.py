"""The ``/console`` namespace: operators' consoles connect here and hear ``job.updated``,
``patrol.updated`` and ``call.incoming`` (published by the domain after commit)."""

from __future__ import annotations

from flask_socketio import join_room

from dispatch.auth.sockets import admit
from dispatch.core.database import transactional
from dispatch.core.extensions import socketio

NS = "/console"


@transactional
def on_connect(auth=None):
    """Operators (and admins) only; they all share the ``operators`` room."""
    admit(auth, "operator")
    join_room("operators")
    return True


def register() -> None:
    """Bind the handlers to the SocketIO object (once per process: handlers live there)."""
    socketio.on_event("connect", on_connect, namespace=NS)
