"""Calls, complaints, jobs with their status history, and incident reports.

A call (screen pop) may lead to a complaint; a complaint makes one job; the job is assigned to
a patrol (and may be reassigned); the patrol's documentation becomes the incident report the
landlord reads. Addresses are copied onto the complaint when it is logged, so that a report
says exactly what the operator saw that night whatever later imports do to the register.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.models.base import Base, utcnow
from dispatch.models.register import Entrance, RentalObject

CATEGORIES = ("music", "party", "shouting", "fight_threat", "dog", "smoke", "alarm", "other")
JOB_STATUSES = ("queued", "assigned", "accepted", "en_route", "on_site", "done", "cancelled")
OUTCOMES = ("stopped", "not_stopped", "police_called", "no_disturbance")
REPORT_STATUSES = ("submitted", "released")


class Call(Base):
    """An incoming call as the telephony system announced it (the screen pop)."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int | None] = mapped_column(ForeignKey("landlords.id", ondelete="CASCADE"))
    dialled_number: Mapped[str] = mapped_column(String(32))
    caller_number: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Complaint(Base):
    """A disturbance as the operator logged it."""

    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_object", "object_id"),
        Index("ix_complaints_suspected_object", "suspected_object_id"),
        Index("ix_complaints_entrance", "entrance_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("landlords.id", ondelete="CASCADE"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    object_id: Mapped[int | None] = mapped_column(ForeignKey("objects.id"))  # the disturbed party
    entrance_id: Mapped[int | None] = mapped_column(ForeignKey("entrances.id"))
    address: Mapped[str] = mapped_column(String(300))  # snapshot: "Götgatan 12B, 118 46 Stockholm"
    lagenhetsnummer: Mapped[str | None] = mapped_column(String(4))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    category: Mapped[str] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(default=2)  # 1 urgent, 2 normal, 3 low
    description: Mapped[str] = mapped_column(Text, default="")
    caller_name: Mapped[str | None] = mapped_column(String(200))
    caller_phone: Mapped[str | None] = mapped_column(String(20))
    disturbed_party: Mapped[str | None] = mapped_column(String(300))
    suspected_object_id: Mapped[int | None] = mapped_column(ForeignKey("objects.id"))
    suspected_source: Mapped[str | None] = mapped_column(String(300))
    call_received_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    job: Mapped[Job | None] = relationship(back_populates="complaint", uselist=False)
    entrance: Mapped[Entrance | None] = relationship()
    rental_object: Mapped[RentalObject | None] = relationship(foreign_keys=[object_id])


class Job(Base):
    """The work a patrol does for one complaint; its status moves queued → … → done."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status", "status"), Index("ix_jobs_patrol", "patrol_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), unique=True
    )
    patrol_id: Mapped[int | None] = mapped_column(ForeignKey("patrols.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    arrived_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The acknowledgement timer's alarm while it stands (jobs.ack_timer): "not_accepted" (the
    # car has not accepted in time) or "no_car" (taken from a car that did not accept, and
    # no other car was free: it waits in the queue); None when nothing is wrong.
    alarm: Mapped[str | None] = mapped_column(String(20))
    alarm_at: Mapped[datetime | None]

    complaint: Mapped[Complaint] = relationship(back_populates="job")
    events: Mapped[list[JobEvent]] = relationship(
        back_populates="job", cascade="all, delete-orphan", order_by="JobEvent.id"
    )


class JobEvent(Base):
    """One step in a job's history. ``client_event_id`` makes a tablet's resend harmless."""

    __tablename__ = "job_events"
    __table_args__ = (UniqueConstraint("job_id", "client_event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # a status, or "assigned", "acknowledged", …
    at: Mapped[datetime] = mapped_column(default=utcnow)
    patrol_id: Mapped[int | None] = mapped_column(ForeignKey("patrols.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    client_event_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict | None] = mapped_column(JSON)

    job: Mapped[Job] = relationship(back_populates="events")


class IncidentReport(Base):
    """The patrol's documentation of a job, reviewed by an operator and released to the landlord."""

    __tablename__ = "incident_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), unique=True)
    landlord_id: Mapped[int] = mapped_column(
        ForeignKey("landlords.id", ondelete="CASCADE"), index=True
    )
    patrol_id: Mapped[int | None] = mapped_column(ForeignKey("patrols.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    arrived_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    observations: Mapped[str] = mapped_column(Text, default="")
    disturber_reached: Mapped[bool | None]
    disturber_response: Mapped[str] = mapped_column(Text, default="")
    tenant_contacted: Mapped[bool | None]
    actions: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str | None] = mapped_column(String(20))
    can_testify: Mapped[bool | None]
    text: Mapped[str] = mapped_column(Text, default="")
    # The people on the car who wrote it (the shift log-in's crew at submission).
    crew: Mapped[list | None] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(index=True)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Delivery(Base):
    """The outbox of messages to tablets: written with the change it announces, emitted after
    commit, re-sent until the tablet acknowledges it. Socket.IO alone delivers at most once."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_patrol_pending", "patrol_id", "acked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id", ondelete="CASCADE"))
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(30))  # job.assigned, job.revoked
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_count: Mapped[int] = mapped_column(default=0)
    last_sent_at: Mapped[datetime | None]
    acked_at: Mapped[datetime | None]
