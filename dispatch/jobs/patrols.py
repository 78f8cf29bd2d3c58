"""Patrol cars as plain functions: list them, create them, report their state."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Patrol


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
        "updated_at": patrol.updated_at.isoformat() if patrol.updated_at else None,
    }
