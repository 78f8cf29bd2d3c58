"""What the reports need besides the report itself: the morning mails (one per contact person
and morning, claimed before sending so that nothing goes twice), the operator's corrections,
one-time log-in codes for contact persons, and the ids of reports deleted after retention.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models.base import Base, utcnow

MAIL_STATUSES = ("pending", "sending", "sent", "failed", "abandoned")


class MorningMail(Base):
    """The morning mail to one contact person: planned (pending), claimed by one sender
    (sending), then sent, or failed and retried later. Unique per contact and morning, so a
    repeated run or a second scheduler finds the row taken instead of sending again.

    ``content`` is fixed when the mail is planned (counts and report ids, never personal data),
    so a retry sends what the first attempt would have sent.
    """

    __tablename__ = "morning_mails"
    __table_args__ = (
        UniqueConstraint("user_id", "morning"),
        Index("ix_morning_mails_morning_status", "morning", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    landlord_id: Mapped[int] = mapped_column(
        ForeignKey("landlords.id", ondelete="CASCADE"), index=True
    )
    morning: Mapped[date]
    content: Mapped[dict] = mapped_column(JSON)
    # The mail's link: /reports/m/<token>. Starts with the morning (YYYYMMDD), so that a link
    # whose row has been purged can still say it was deleted after the retention period.
    link_token: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    claimed_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))  # error class/code, no addresses
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportRevision(Base):
    """An operator's correction or release of a report: who, when, and each field's old and
    new value, so that what the landlord reads can be traced back to what the patrol wrote."""

    __tablename__ = "report_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("incident_reports.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))  # "corrected", "released"
    changes: Mapped[dict | None] = mapped_column(JSON)  # field → [old, new]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginCode(Base):
    """A one-time log-in code sent by mail to a contact person. Only a keyed hash is stored;
    it expires after a few minutes and allows a few attempts."""

    __tablename__ = "login_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)


class DeletedReport(Base):
    """What is left of a report deleted after the retention period: its id, landlord and night,
    so that a link to it can say it was deleted rather than that it never existed."""

    __tablename__ = "deleted_reports"

    report_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    landlord_id: Mapped[int] = mapped_column(
        ForeignKey("landlords.id", ondelete="CASCADE"), index=True
    )
    night: Mapped[date | None]
    deleted_at: Mapped[datetime] = mapped_column(default=utcnow)
