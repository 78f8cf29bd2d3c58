"""The tenant portal's own data: invoices and payments, fault reports, laundry rooms and
bookings, notices and messages (issue 15). Imports only models and core.

Everything here hangs off the register's shared rows (landlords, people, agreements, objects,
properties), deleted with them; amounts are whole öre (cents), never floats.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.models.base import Base, utcnow

FAULT_STATUSES = ("received", "planned", "done")
FAULT_CATEGORIES = ("water", "electricity", "heating", "appliance", "door_lock", "ventilation",
                    "other")
FAULT_ROOMS = ("kitchen", "bathroom", "living_room", "bedroom", "hall", "balcony", "other")
MESSAGE_KINDS = ("message", "service_request", "rent", "contact_change", "notice")


class Invoice(Base):
    """A rent invoice (avi) on an agreement, imported from the landlord's file."""

    __tablename__ = "portal_invoices"
    __table_args__ = (
        UniqueConstraint("landlord_id", "invoice_number"),
        Index("ix_portal_invoices_agreement_due", "agreement_id", "due_on"),
        Index("ix_portal_invoices_landlord_ocr", "landlord_id", "ocr"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("landlords.id", ondelete="CASCADE"))
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"))
    invoice_number: Mapped[str] = mapped_column(String(40))
    ocr: Mapped[str] = mapped_column(String(25))
    amount_ore: Mapped[int]
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(String(40), default="")  # e.g. "2026-12"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Payment(Base):
    """A payment received for an agreement, matched to an invoice by its OCR number."""

    __tablename__ = "portal_payments"
    __table_args__ = (
        UniqueConstraint("landlord_id", "reference"),
        Index("ix_portal_payments_agreement", "agreement_id", "paid_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("landlords.id", ondelete="CASCADE"))
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"))
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_invoices.id", ondelete="SET NULL"), index=True)
    reference: Mapped[str] = mapped_column(String(60))  # the bank's id of the payment
    ocr: Mapped[str] = mapped_column(String(25))
    amount_ore: Mapped[int]
    paid_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TenantContact(Base):
    """A tenant's contact details beyond the register's one phone: a second phone (E.164)."""

    __tablename__ = "portal_contacts"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                           primary_key=True)
    other_phone: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FaultReport(Base):
    """A fault report (felanmälan) on one of the tenant's objects."""

    __tablename__ = "portal_fault_reports"
    __table_args__ = (Index("ix_portal_fault_reports_landlord_status", "landlord_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("landlords.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                           index=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(20))
    room: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    master_key_allowed: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default="received")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    events: Mapped[list[FaultEvent]] = relationship(
        cascade="all, delete-orphan", order_by="FaultEvent.at")
    photos: Mapped[list[FaultPhoto]] = relationship(
        cascade="all, delete-orphan", order_by="FaultPhoto.id")


class FaultEvent(Base):
    """One step of a fault report's timeline: its status from then on, who set it, a note."""

    __tablename__ = "portal_fault_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    fault_id: Mapped[int] = mapped_column(
        ForeignKey("portal_fault_reports.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")


class FaultPhoto(Base):
    """A photo of a fault, re-encoded as JPEG (no EXIF: no position, no camera)."""

    __tablename__ = "portal_fault_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    fault_id: Mapped[int] = mapped_column(
        ForeignKey("portal_fault_reports.id", ondelete="CASCADE"), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PortalMessage(Base):
    """A message between a tenant and the landlord: free text, a service request, a reported
    change of contact details or a notice; on a fault report when ``fault_id`` is set."""

    __tablename__ = "portal_messages"
    __table_args__ = (
        Index("ix_portal_messages_person", "person_id", "created_at"),
        Index("ix_portal_messages_landlord", "landlord_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("landlords.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    fault_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_fault_reports.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="message")
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    from_staff: Mapped[bool] = mapped_column(default=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LaundryRoom(Base):
    """A laundry room (tvättstuga) of a property."""

    __tablename__ = "portal_laundry_rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("landlords.id", ondelete="CASCADE"))
    property_id: Mapped[int] = mapped_column(ForeignKey("properties.id", ondelete="CASCADE"),
                                             index=True)
    name: Mapped[str] = mapped_column(String(120))

    passes: Mapped[list[LaundryPass]] = relationship(
        cascade="all, delete-orphan", order_by="LaundryPass.starts_at")


class LaundryPass(Base):
    """A pass of a laundry room, the same every day: from ``starts_at`` to ``ends_at``."""

    __tablename__ = "portal_laundry_passes"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(
        ForeignKey("portal_laundry_rooms.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)

    room: Mapped[LaundryRoom] = relationship(back_populates="passes")


class LaundryBooking(Base):
    """A tenant's booking of one pass on one day: at most one per pass and day (the unique
    constraint is what keeps two simultaneous requests from both getting it)."""

    __tablename__ = "portal_laundry_bookings"
    __table_args__ = (
        UniqueConstraint("pass_id", "day"),
        Index("ix_portal_laundry_bookings_person_day", "person_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pass_id: Mapped[int] = mapped_column(
        ForeignKey("portal_laundry_passes.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    laundry_pass: Mapped[LaundryPass] = relationship()
