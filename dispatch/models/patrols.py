"""Patrol cars, their status and where they were last seen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models.base import Base, utcnow

PATROL_STATUSES = ("off_duty", "available", "busy")


class Patrol(Base):
    """A patrol car, known by its call sign; its last reported position and status.

    ``last_seen_at`` is the car's presence: when a tablet of this car was last known to be
    connected (stamped at connect and every few seconds by the web process that holds its
    socket). It lives here, not in a process, because several web processes
    hold the tablets; a process killed with -9 simply stops stamping, and the car drops out
    of the recommendations once the grace period (``PRESENCE_GRACE_S``) has passed.
    """

    __tablename__ = "patrols"
    # The nearest-car read (``jobs.dispatching.nearest_available``): available cars in a
    # latitude band, their longitudes checked in the index, a box's few rows read.
    __table_args__ = (Index("ix_patrols_status_lat_lon", "status", "lat", "lon"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sign: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default="off_duty")
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    position_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    # The car's patrol area (issue 13): a GeoJSON Polygon or MultiPolygon in WGS 84, checked
    # by ``jobs.areas``; ``area_changed_at`` tells every web process to rebuild its cache.
    area_geojson: Mapped[str | None] = mapped_column(Text)
    area_changed_at: Mapped[datetime | None]
    # The car's phone (E.164, ``core.phones``), set by an admin on /admin/devices: where the
    # escalation's SMS goes when the tablet does not answer (issue 19). Never logged.
    phone: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


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
