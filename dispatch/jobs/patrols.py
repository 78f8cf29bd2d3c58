"""Patrol cars as plain functions: list them, create them, report their state, and their
presence: whether a tablet of the car is there to take a job.

Presence is ``patrols.last_seen_at``, in the database because several web processes hold the
tablets. The process that holds a car's socket stamps it at connect and every few seconds
while the socket lives (``mark_seen``, one statement per process and pass); a car counts as
present while that stamp, or its last position report, is younger than the grace period
(``PRESENCE_GRACE_S``). A disconnect writes nothing: the stamps stop, and the car lapses a
grace period after the last one; a process killed with -9, which never says disconnect, is
the same case. A tablet that reconnects anywhere is stamped again at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dispatch.core.database import among
from dispatch.models import ApiToken, Patrol, utcnow

# The default of the PRESENCE_GRACE_S setting.
PRESENCE_GRACE = timedelta(seconds=60)


def list_patrols(session: Session) -> list[Patrol]:
    """Every patrol, by call sign."""
    return list(session.scalars(select(Patrol).order_by(Patrol.call_sign)))


def upsert_patrol(session: Session, *, call_sign: str, name: str) -> Patrol:
    """Create the patrol with this call sign, or rename it."""
    patrol = session.scalar(select(Patrol).where(Patrol.call_sign == call_sign))
    if patrol is None:
        patrol = Patrol(call_sign=call_sign, name=name)
        session.add(patrol)
    patrol.name = name
    session.flush()
    return patrol


def patrol_json(patrol: Patrol) -> dict:
    """The contract's shape: ``{patrol_id, name, status, lat, lon, updated_at}``."""
    return {
        "patrol_id": patrol.id,
        "call_sign": patrol.call_sign,
        "name": patrol.name,
        "status": patrol.status,
        "lat": patrol.lat,
        "lon": patrol.lon,
        "position_at": patrol.position_at.isoformat() if patrol.position_at else None,
        "last_seen_at": patrol.last_seen_at.isoformat() if patrol.last_seen_at else None,
        "updated_at": patrol.updated_at.isoformat() if patrol.updated_at else None,
    }


def mark_seen(session: Session, patrol_ids, *, now: datetime | None = None) -> int:
    """Stamp these cars as seen now: their tablets are connected to this process. One
    statement for all of them; ``updated_at`` is left alone (presence is not a change the
    consoles hear of). On PostgreSQL a car whose row another transaction holds is skipped,
    not waited for (it is stamped again on the next pass). Returns the rows stamped."""
    ids = sorted(set(patrol_ids))
    if not ids:
        return 0
    now = now or utcnow()
    rows = among(session, Patrol.id, ids)
    if session.get_bind().dialect.name == "postgresql":
        rows = Patrol.id.in_(select(Patrol.id).where(rows).order_by(Patrol.id)
                             .with_for_update(skip_locked=True))
    return session.execute(
        update(Patrol).where(rows).values(last_seen_at=now, updated_at=Patrol.updated_at),
        execution_options={"synchronize_session": False}).rowcount


def is_present(patrol: Patrol, *, grace: timedelta = PRESENCE_GRACE,
               now: datetime | None = None) -> bool:
    """Whether a tablet of the car was connected, or sent a position, within ``grace``
    (the same rule as the recommendation's query, for one car in hand)."""
    since = (now or utcnow()) - grace
    return any(t is not None and t >= since for t in (patrol.last_seen_at, patrol.position_at))


def patrol_of_ended_session(session: Session, token: ApiToken) -> Patrol | None:
    """The car whose tablet session ``token`` was, if it was the car's latest live one: a
    tablet's shift log-in ended (logged out, or revoked by an admin). An older session of the
    car (a tablet replaced during the shift, whose newer log-in is still live) names no car:
    ending it leaves the car as it is."""
    if token.kind != "device" or not token.label:
        return None
    now = utcnow()
    newer = session.scalar(
        select(ApiToken.id).where(
            ApiToken.kind == "device", ApiToken.label == token.label, ApiToken.id > token.id,
            ApiToken.revoked_at.is_(None),
            (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now))
        .limit(1))
    if newer is not None:
        return None
    return session.scalar(select(Patrol).where(Patrol.call_sign == token.label))
