"""Patrol cars, their status, and their presence: where and when their tablet was last seen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, inspect, select
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from dispatch.models.base import Base, utcnow

PATROL_STATUSES = ("off_duty", "available", "busy")


class PatrolPresence(Base):
    """A car's presence, one row per car: when a tablet of the car was last known to be
    connected (``last_seen_at``, stamped at connect and every few seconds by the web process
    that holds its socket) and its last reported position.

    A table of its own (issue 12): these stamps come thousands a minute from every web
    process, upserted (``jobs.patrols.upsert_presence``), and must never lock the car's row in
    ``patrols`` that dispatching reads and updates. It lives in the database, not in a
    process, because several web processes hold the tablets; a process killed with -9 simply
    stops stamping, and the car drops out of the recommendations once the grace period
    (``PRESENCE_GRACE_S``) has passed. The nearest-car read (``jobs.dispatching``) reads the
    cars in a box around an address through ``ix_patrol_presence_lat_lon``.
    """

    __tablename__ = "patrol_presence"
    __table_args__ = (Index("ix_patrol_presence_lat_lon", "lat", "lon"),)

    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id", ondelete="CASCADE"),
                                           primary_key=True)
    last_seen_at: Mapped[datetime | None]
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    position_at: Mapped[datetime | None]


def _presence_field(name: str) -> hybrid_property:
    """A presence column as an attribute of the car: read (None without a row), set (the row
    made when missing) and queried (a correlated subquery, ``Patrol.position_at < t``)."""

    def get(self):
        presence = self.presence
        return getattr(presence, name) if presence is not None else None

    def set_(self, value):
        setattr(self.presence_row(), name, value)

    def expression(cls):
        return (select(getattr(PatrolPresence, name))
                .where(PatrolPresence.patrol_id == cls.id).scalar_subquery())

    return hybrid_property(get, set_, expr=expression)


class Patrol(Base):
    """A patrol car, known by its call sign; its status; its patrol area.

    Its presence and last position (``lat``, ``lon``, ``accuracy_m``, ``position_at``,
    ``last_seen_at``) are ``PatrolPresence``'s, loaded with the car and readable and settable
    here as before.
    """

    __tablename__ = "patrols"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sign: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default="off_duty")
    # The car's patrol area (issue 13): a GeoJSON Polygon or MultiPolygon in WGS 84, checked
    # by ``jobs.areas``; ``area_changed_at`` tells every web process to rebuild its cache.
    area_geojson: Mapped[str | None] = mapped_column(Text)
    area_changed_at: Mapped[datetime | None]
    # The car's phone (E.164, ``core.phones``), set by an admin on /admin/devices: where the
    # escalation's SMS goes when the tablet does not answer (issue 19). Never logged.
    phone: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    presence: Mapped[PatrolPresence | None] = relationship(
        lazy="joined", cascade="all, delete-orphan", passive_deletes=True)

    lat = _presence_field("lat")
    lon = _presence_field("lon")
    accuracy_m = _presence_field("accuracy_m")
    position_at = _presence_field("position_at")
    last_seen_at = _presence_field("last_seen_at")

    def presence_row(self) -> PatrolPresence:
        """The car's presence row, made if it has none. A car already stored may have gained
        one since it was loaded (a tablet's stamp from another process): the row is made with
        ``ON CONFLICT DO NOTHING`` and read, never inserted twice."""
        if self.presence is not None:
            return self.presence
        session = object_session(self)
        if session is None or self.id is None or not inspect(self).persistent:
            self.presence = PatrolPresence()
            return self.presence
        session.execute(_insert_ignoring(session, self.id))
        session.expire(self, ["presence"])
        return self.presence


def _insert_ignoring(session, patrol_id: int):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(PatrolPresence).values(patrol_id=patrol_id).on_conflict_do_nothing(
        index_elements=["patrol_id"])


class PatrolPosition(Base):
    """A position report from a tablet; kept for the retention period like the jobs."""

    __tablename__ = "patrol_positions"
    __table_args__ = (Index("ix_patrol_positions_patrol_at", "patrol_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id", ondelete="CASCADE"))
    lat: Mapped[float]
    lon: Mapped[float]
    accuracy_m: Mapped[float | None]
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
