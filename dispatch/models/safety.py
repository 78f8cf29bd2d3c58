"""Patrol safety (issue 19): the car's alarm (överfallslarm), its missed check-ins, and how
often a car on site is asked to check in (``CheckInSetting``, per landlord and category).

One row per alarm a car raised, kept with the job it was on (if any) and the car's last
position; the operator who acknowledged it and when. The job's history gets the same steps as
``JobEvent`` rows (``alarm_raised``, ``alarm_acknowledged``) so the report's timeline has them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models.base import Base, utcnow

ALARM_KINDS = ("alarm", "silent", "checkin_missed")
# How a standing alarm ended: an operator acknowledged it, the crew checked in (a missed
# check-in), or the job left the site (a missed check-in, cleared by the server).
RESOLUTIONS = ("operator", "check_in", "left_site")


class PatrolAlarm(Base):
    """A call for help from a car: raised by the tablet (or by a missed check-in), standing
    until an operator acknowledges it. ``client_event_id`` makes the outbox's resend harmless."""

    __tablename__ = "patrol_alarms"
    __table_args__ = (
        UniqueConstraint("patrol_id", "client_event_id"),
        Index("ix_patrol_alarms_standing", "acknowledged_at", "raised_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id", ondelete="CASCADE"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20), default="alarm")
    client_event_id: Mapped[str | None] = mapped_column(String(64))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    position_at: Mapped[datetime | None]
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    resolution: Mapped[str | None] = mapped_column(String(20))  # RESOLUTIONS; None: standing


class CheckInSetting(Base):
    """How often a car on site is asked "all well?": for a landlord (``category`` None), for a
    category (``landlord_id`` None), or for one landlord's jobs of one category. The most
    specific row wins; with none, the settings' defaults (``CHECKIN_*``)."""

    __tablename__ = "checkin_settings"
    __table_args__ = (UniqueConstraint("landlord_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int | None] = mapped_column(
        ForeignKey("landlords.id", ondelete="CASCADE"))
    category: Mapped[str | None] = mapped_column(String(20))
    interval_s: Mapped[int]
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
