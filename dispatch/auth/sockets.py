"""Who is on the other end of a websocket: the bearer token in ``auth`` (tablets,
integrations) or the browser session; whether that user may use a namespace; which car a
``/field`` socket is (one car or none: the call sign its token is bound to); and, while the
socket lives, whether its token still holds. The namespaces' own connect handlers are in the
feature packages (``callcenter/events.py``, ``field/events.py``).

A token's sockets share the room ``token_room(id)``: ending the token's session (an admin
revoking a tablet, the tablet logging out) closes that room, which disconnects every socket in
it on every web process (``dispatch.core.realtime.end_sessions_after_commit``)."""

from __future__ import annotations

import time

from flask import current_app
from flask import session as flask_session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room
from sqlalchemy import select

from dispatch.auth.access import has_role
from dispatch.auth.service import digest_still_valid, token_digest, user_for_token
from dispatch.core.database import among
from dispatch.core.extensions import db
from dispatch.core.realtime import SESSION_ROOM_PREFIX
from dispatch.models import ApiToken, Patrol, User, utcnow

# Tokens that stand for one car: a tablet's shift log-in ("device") and an integration made
# with ``dispatch create-token --role patrol --call-sign X`` ("car"); the label is the call sign.
CAR_TOKEN_KINDS = ("device", "car")


def token_room(token_id: int) -> str:
    """The room of every socket opened with one token (closed when its session ends)."""
    return f"{SESSION_ROOM_PREFIX}{token_id}"


def bound_call_sign(row: ApiToken | None) -> str | None:
    """The car a token is bound to, or None: a browser session, an operator's or an
    integration's token without ``--call-sign`` is no car."""
    if row is None or row.kind not in CAR_TOKEN_KINDS or not row.label:
        return None
    return row.label


def _token_row(digest: str) -> ApiToken | None:
    return db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))


def authenticate_socket(auth: dict | None):
    """The user behind a connection: the bearer token in ``auth``, else the browser session.
    A token that was revoked is refused as ``revoked`` (the tablet wipes what it keeps)."""
    token = (auth or {}).get("token") if isinstance(auth, dict) else None
    if token:
        token = str(token)
        user = user_for_token(db.session, token)
        digest = token_digest(token)
        if user is None:
            row = _token_row(digest)
            if row is not None and row.revoked_at is not None:
                raise ConnectionRefusedError("revoked")
            return None
        row = _token_row(digest)
        # Rechecked now and then while the socket lives (``session_revoked``), besides the
        # room that ending the session closes.
        flask_session["token_digest"] = digest
        flask_session["token_id"] = row.id
        flask_session["token_checked"] = time.monotonic()
        join_room(token_room(row.id))
        return user
    flask_session.pop("token_digest", None)
    flask_session.pop("token_id", None)
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
    if not call_sign or not isinstance(call_sign, str):
        return None
    return db.session.scalar(select(Patrol).where(Patrol.call_sign == call_sign))


def socket_call_sign() -> str | None:
    """The one car this connection may be: the call sign its token is bound to. A browser
    session is no car (a tablet's shift log-in gives a device token; the socket uses that)."""
    digest = flask_session.get("token_digest")
    if digest is None:
        return None
    return bound_call_sign(_token_row(digest))


def device_may_be(call_sign: str) -> bool:
    """Whether this connection may act as the car ``call_sign``: only with a token bound to
    exactly that car (a tablet's shift log-in, or a car's integration token)."""
    bound = socket_call_sign()
    return bound is not None and bound == call_sign


def session_revoked() -> bool:
    """Whether this socket's token was revoked (checked every TOKEN_RECHECK_S)."""
    digest = flask_session.get("token_digest")
    if digest is None:
        return False
    now = time.monotonic()
    if now - flask_session.get("token_checked", 0) < current_app.config["TOKEN_RECHECK_S"]:
        return False
    flask_session["token_checked"] = now
    return not digest_still_valid(db.session, digest)


def live_token_ids(session, token_ids) -> set[int]:
    """Which of these tokens still hold (not revoked, not expired, user active): for the
    upkeep pass that cuts off sockets whose session ended while a queue message was lost."""
    ids = sorted(set(token_ids))
    if not ids:
        return set()
    now = utcnow()
    return set(session.scalars(
        select(ApiToken.id).join(User, User.id == ApiToken.user_id)
        .where(among(session, ApiToken.id, ids), ApiToken.revoked_at.is_(None),
               User.active.is_(True),
               (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now))))
