"""Staff and landlord user accounts, their roles, and bearer tokens for the API and websockets."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.models.base import Base, utcnow
from dispatch.models.landlords import Landlord

ROLES = ("admin", "operator", "patrol", "landlord")


class User(UserMixin, Base):
    """A person who logs in. A ``landlord`` user is one of that landlord's contact persons."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    landlord_id: Mapped[int | None] = mapped_column(
        ForeignKey("landlords.id", ondelete="CASCADE"), index=True
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # For contact persons: whether the morning mail goes to them.
    receives_reports: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    landlord: Mapped[Landlord | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class ApiToken(Base):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"
    # A car's tokens by call sign: its crew for an alarm (issue 19), its sessions.
    __table_args__ = (Index("ix_api_tokens_kind_label", "kind", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "api" for integrations, "device" for a patrol tablet's shift log-in, "car" for an
    # integration acting as one patrol car (create-token --call-sign); for "device" and "car"
    # the label is the car's call sign, the one car the token may be on /field.
    kind: Mapped[str] = mapped_column(String(10), default="api")
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # A tablet's shift log-in: the names of the people on the car (one or two), for reports.
    crew: Mapped[list | None] = mapped_column(JSON)

    user: Mapped[User] = relationship()
