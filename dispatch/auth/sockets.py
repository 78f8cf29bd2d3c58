"""Who is on the other end of a websocket: the bearer token in ``auth`` (tablets,
integrations) or the browser session; whether that user may use a namespace; and, while the
socket lives, whether its device token still holds. The namespaces' own connect handlers are
in the feature packages (``callcenter/events.py``, ``field/events.py``)."""

from __future__ import annotations

import time

from flask import current_app
from flask import session as flask_session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room
from sqlalchemy import select

from dispatch.auth.access import has_role
from dispatch.auth.service import digest_still_valid, token_digest, user_for_token
from dispatch.core.extensions import db
from dispatch.models import ApiToken, Patrol


def authenticate_socket(auth: dict | None):
    """The user behind a connection: the bearer token in ``auth``, else the browser session."""
    token = (auth or {}).get("token") if isinstance(auth, dict) else None
    if token:
        user = user_for_token(db.session, str(token))
        if user is not None:
            # Rechecked now and then while the socket lives: a revoked tablet must not keep
            # receiving jobs until its next reconnect (``session_revoked``).
            flask_session["token_digest"] = token_digest(str(token))
            flask_session["token_checked"] = time.monotonic()
        return user
    return current_user if current_user.is_authenticated else None


def admit(auth: dict | None, *roles: str):
    """The connecting user if it has one of ``roles``; else refuse the connection. Joins the
    user's own room."""
    user = authenticate_socket(auth)
    if user is None:
        raise ConnectionRefusedError("unauthorized")
    if not has_role(user, *roles):
        raise ConnectionRefusedError("forbidden")
    flask_session["socket_user_id"] = user.id
    join_room(f"user:{user.id}")
    return user


def patrol_for(auth: dict | None) -> Patrol | None:
    """The patrol car a tablet says it is (its call sign, chosen at the start of a shift)."""
    call_sign = (auth or {}).get("call_sign") if isinstance(auth, dict) else None
    if not call_sign:
        return None
    return db.session.scalar(select(Patrol).where(Patrol.call_sign == str(call_sign)))


def device_may_be(call_sign: str) -> bool:
    """A tablet's shift log-in names its car: that token connects as that car only."""
    digest = flask_session.get("token_digest")
    if digest is None:
        return True  # a browser session or an integration token: no car bound
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    return row is None or row.kind != "device" or not row.label or row.label == call_sign


def session_revoked() -> bool:
    """Whether this socket's device token was revoked (checked every TOKEN_RECHECK_S)."""
    digest = flask_session.get("token_digest")
    if digest is None:
        return False
    now = time.monotonic()
    if now - flask_session.get("token_checked", 0) < current_app.config["TOKEN_RECHECK_S"]:
        return False
    flask_session["token_checked"] = now
    return not digest_still_valid(db.session, digest)
