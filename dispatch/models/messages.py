"""SMS messages (issue 19, escalation past the tablet): every text the escalation sends to a
car's phone or the duty supervisor, with why, for which job, alarm and car, at which step, and
what became of it at the gateway (queued → sent → delivered, or failed after its attempts).

``to_number`` is the E.164 number it went to: needed to send it, never logged, never in a URL.
``escalation_key`` + ``recipient_kind`` is one step of one escalation, once: whichever web
process (or a restarted one) gets there first inserts it, and the unique constraint keeps a
second from doing it again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models.base import Base, utcnow

SMS_STATUSES = ("queued", "sent", "delivered", "failed")
SMS_RECIPIENTS = ("car", "supervisor")
# Why it was sent: a job nobody on the car accepted (the acknowledgement timer's alarm), a
# missed check-in on site nobody handled, a car's alarm no operator acknowledged.
SMS_REASONS = ("job_not_accepted", "checkin_missed", "alarm_not_acknowledged")


class SmsMessage(Base):
    """One SMS of an escalation step and its delivery."""

    __tablename__ = "sms_messages"
    __table_args__ = (
        UniqueConstraint("escalation_key", "recipient_kind"),
        Index("ix_sms_messages_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_kind: Mapped[str] = mapped_column(String(20))  # car / supervisor
    to_number: Mapped[str | None] = mapped_column(String(20))  # E.164; None: nobody to send to
    reason: Mapped[str] = mapped_column(String(30))
    escalation_key: Mapped[str] = mapped_column(String(80))
    step: Mapped[int] = mapped_column(default=1)  # 1 the car, 2 the supervisor
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                               index=True)
    alarm_id: Mapped[int | None] = mapped_column(
        ForeignKey("patrol_alarms.id", ondelete="SET NULL"))
    patrol_id: Mapped[int | None] = mapped_column(ForeignKey("patrols.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    gateway_id: Mapped[str | None] = mapped_column(String(80), index=True)
    error: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the next attempt may be made; a sender holds a message until ``claimed_until``
    # (another process leaves it alone meanwhile; a sender that died lets it go then).
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
