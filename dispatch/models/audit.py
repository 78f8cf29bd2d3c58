"""The audit log: log-ins and their failures, imports, report reads, deletions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models.base import Base, utcnow


class AuditEvent(Base):
    """One thing that happened, who did it and from where. Never holds personal data values."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_action_at", "action", "at"),
        Index("ix_audit_events_subject_at", "subject", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))  # e.g. "login.failed", "report.read"
    # What the action was about, e.g. the e-mail tried at log-in, or "report:42".
    subject: Mapped[str | None] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(45), index=True)
    details: Mapped[dict | None] = mapped_column(JSON)
