"""Patrol cars as plain functions: list them, create them, report their state, and their
presence: whether a tablet of the car is there to take a job.

Presence is ``patrol_presence.last_seen_at`` (``models.PatrolPresence``, one row per car), in
the database because several web processes hold the tablets, and in a table of its own so
that its stamps never lock the car rows dispatching reads and updates (issue 12). The process
that holds a car's socket stamps it at connect and every few seconds while the socket lives
(``mark_seen``, one upsert per process and pass); a car counts as present while that stamp,
or its last position report, is younger than the grace period (``PRESENCE_GRACE_S``). A
disconnect writes nothing: the stamps stop, and the car lapses a grace period after the last
one; a process killed with -9, which never says disconnect, is the same case. A tablet that
reconnects anywhere is stamped again at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from dispatch.core.database import among
from dispatch.models import ApiToken, Patrol, PatrolPresence, UTCDateTime, utcnow

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


def _insert(session: Session):
    """An upsert of ``patrol_presence`` as plain Core (its rowcount kept: SQLAlchemy drops an
    INSERT's rowcount unless asked)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(PatrolPresence.__table__).execution_options(preserve_rowcount=True)


def _expire_held(session: Session, patrol_ids) -> None:
    """Cars' presence rows already in the session read the new values when next used."""
    for patrol_id in patrol_ids:
        held = session.identity_map.get(session.identity_key(PatrolPresence, patrol_id))
        if held is not None:
            session.expire(held)


def upsert_presence(session: Session, patrol_id: int, values: dict, *, where=None) -> bool:
    """Write a car's presence row: ``INSERT ... ON CONFLICT (patrol_id) DO UPDATE``, which
    makes the row the first time and touches no other table (no lock on ``patrols``).
    ``where``, if given, is the condition on the stored row (``PatrolPresence``'s columns)
    for it to be updated. True if the row was written."""
    statement = _insert(session).values(patrol_id=patrol_id, **values)
    statement = statement.on_conflict_do_update(
        index_elements=["patrol_id"], set_={c: statement.excluded[c] for c in values},
        where=where)
    session.flush()
    written = bool(session.connection().execute(statement).rowcount)
    held = session.identity_map.get(session.identity_key(PatrolPresence, patrol_id))
    if held is not None and written:
        for name, value in values.items():  # what the row now holds: no read back
            set_committed_value(held, name, value)
    elif held is not None:
        session.expire(held)
    else:  # a car in hand that had no row reads the new one when next asked
        car = session.identity_map.get(session.identity_key(Patrol, patrol_id))
        if car is not None:
            session.expire(car, ["presence"])
    return written


def mark_seen(session: Session, patrol_ids, *, now: datetime | None = None) -> int:
    """Stamp these cars as seen now: their tablets are connected to this process. One upsert
    for all of them, on ``patrol_presence`` only: the car's row in ``patrols`` (and its
    ``updated_at``) is left alone, so a dispatch that reads or updates it never waits for a
    stamp. On PostgreSQL the ids go as one array (``among``), compiled once and cached, not
    thousands of bound values. Returns the rows stamped."""
    ids = sorted(set(patrol_ids))
    if not ids:
        return 0
    now = now or utcnow()
    # The cars' own ids, read from ``patrols`` (a car deleted meanwhile is left out, not a
    # foreign-key error): a plain read, no lock on their rows.
    statement = _insert(session).from_select(
        ["patrol_id", "last_seen_at"],
        select(Patrol.id, bindparam("now", now, type_=UTCDateTime))
        .where(among(session, Patrol.id, ids)))
    statement = statement.on_conflict_do_update(
        index_elements=["patrol_id"], set_={"last_seen_at": statement.excluded.last_seen_at})
    session.flush()
    written = session.connection().execute(statement).rowcount
    _expire_held(session, ids)
    return written


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
