"""Socket.IO connection handling shared by every namespace: who is connecting, in what role.

A client authenticates with ``auth: {token}`` (tablets, integrations) or its browser session.
Each namespace admits only its roles; the feature packages add their event handlers.
"""

from __future__ import annotations

import time

from flask import session as flask_session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from dispatch.auth.access import has_role
from dispatch.auth.service import token_digest, user_for_token
from dispatch.core.extensions import db, socketio

NAMESPACE_ROLES = {"/console": ("operator",), "/field": ("patrol",)}


def authenticate_socket(auth: dict | None):
    """The user behind a connection: the bearer token in ``auth``, else the browser session."""
    token = (auth or {}).get("token") if isinstance(auth, dict) else None
    if token:
        user = user_for_token(db.session, str(token))
        db.session.commit()
        if user is not None:
            # Rechecked now and then while the socket lives: a revoked tablet must not keep
            # receiving jobs until its next reconnect (see field/events.py).
            flask_session["token_digest"] = token_digest(str(token))
            flask_session["token_checked"] = time.monotonic()
        return user
    return current_user if current_user.is_authenticated else None


def _patrol_for(auth):
    """The patrol car a tablet says it is (its call sign, chosen at the start of a shift)."""
    from sqlalchemy import select

    from dispatch.models import Patrol

    call_sign = (auth or {}).get("call_sign") if isinstance(auth, dict) else None
    if not call_sign:
        return None
    return db.session.scalar(select(Patrol).where(Patrol.call_sign == str(call_sign)))


def _device_may_be(call_sign: str) -> bool:
    """A tablet's shift log-in names its car: that token connects as that car only."""
    from sqlalchemy import select

    from dispatch.models import ApiToken

    digest = flask_session.get("token_digest")
    if digest is None:
        return True  # a browser session or an integration token: no car bound
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    return row is None or row.kind != "device" or not row.label or row.label == call_sign


def _connect_handler(namespace: str):
    roles = NAMESPACE_ROLES[namespace]

    def on_connect(auth=None):
        user = authenticate_socket(auth)
        if user is None:
            raise ConnectionRefusedError("unauthorized")
        if not has_role(user, *roles):
            raise ConnectionRefusedError("forbidden")
        flask_session["socket_user_id"] = user.id
        join_room(f"user:{user.id}")
        if namespace == "/console":
            join_room("operators")
        elif namespace == "/field":
            patrol = _patrol_for(auth)
            if patrol is None:
                raise ConnectionRefusedError("unknown patrol: give auth.call_sign")
            if not _device_may_be(patrol.call_sign):
                raise ConnectionRefusedError("forbidden")
            flask_session["patrol_id"] = patrol.id
            join_room(f"patrol:{patrol.id}")
            from dispatch.field.events import on_connected

            on_connected(patrol.id)
        return True

    return on_connect


def register() -> None:
    """Register the connect handlers once per process (handlers live on the SocketIO object)."""
    if getattr(socketio, "_dispatch_registered", False):
        return
    for namespace in NAMESPACE_ROLES:
        socketio.on_event("connect", _connect_handler(namespace), namespace=namespace)
    import dispatch.field.events  # noqa: F401  (registers the /field handlers)

    socketio._dispatch_registered = True
