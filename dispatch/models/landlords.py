"""Landlords (hyresvärdar), the customers, and the on-call numbers (journummer) that reach us."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.models.base import Base, utcnow


class Landlord(Base):
    """A customer. Its ``code`` is the short, stable name used on the command line and in APIs."""

    __tablename__ = "landlords"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), default="SE")
    # A landlord may ask for a mail also on mornings after a night without reports.
    quiet_night_mail: Mapped[bool] = mapped_column(default=False)
    # Bumped by every accepted register import, so that caches (the address search) know to
    # reload without a restart.
    register_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    oncall_numbers: Mapped[list[OncallNumber]] = relationship(
        back_populates="landlord", cascade="all, delete-orphan", order_by="OncallNumber.number"
    )

    def __repr__(self) -> str:
        return f"<Landlord {self.code}>"


class OncallNumber(Base):
    """An on-call number (journummer) in E.164. A call to it belongs to exactly one landlord."""

    __tablename__ = "oncall_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("landlords.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(20), unique=True)

    landlord: Mapped[Landlord] = relationship(back_populates="oncall_numbers")
