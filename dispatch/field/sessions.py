"""The end of a tablet's session (an admin revoking it at ``/admin/devices``, or the patrol
logging out on the tablet), the same whichever way it ends: the car goes off duty and what was
pending for it is withdrawn if this was the car's current session, and every socket opened with
the token is told ``session.revoked`` and disconnected after commit, on every web process
(``core.realtime.end_sessions_after_commit``); a client that ignores the message is cut off all
the same. The token itself is revoked by the caller (``auth.service``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch.auth.sockets import token_room
from dispatch.core.realtime import end_sessions_after_commit
from dispatch.jobs import delivery
from dispatch.jobs.dispatching import end_shift
from dispatch.jobs.patrols import patrol_of_ended_session
from dispatch.models import ApiToken, Patrol

NAMESPACES = ("/field", "/console")


def end_token_session(session: Session, token: ApiToken, *, was_live: bool,
                      reason: str = "revoked") -> Patrol | None:
    """Everything that follows a token's revocation (``token.revoked_at`` is set); the car
    whose current session it was, if any."""
    patrol = patrol_of_ended_session(session, token) if was_live else None
    if patrol is not None:
        delivery.withdraw(session, patrol.id)
        end_shift(session, patrol)
    end_sessions_after_commit(session, token_room(token.id), namespaces=NAMESPACES,
                              event_name="session.revoked", data={"reason": reason})
    return patrol
