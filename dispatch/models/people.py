"""People and rental agreements, shared by dispatch, the tenant portal and the housing queue.

A person is anyone we hold contact details for: a tenant on an agreement today, later a
housing applicant. Agreements link people to objects; one agreement may cover several objects
(a flat and its storage) and have up to two tenants.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.models.base import Base, link_key, utcnow
from dispatch.models.register import RentalObject


class Person(Base):
    """A person's name and contact details. Personnummer only where identity must be proven."""

    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("landlord_id", "kundnummer"),
        # Looked up by the whole number only: a hash index on PostgreSQL (cheaper to fill).
        Index("ix_people_phone", "phone", postgresql_using="hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The landlord whose customer this person is; None for someone known to no landlord yet.
    landlord_id: Mapped[int | None] = mapped_column(ForeignKey("landlords.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    email: Mapped[str | None] = mapped_column(String(254))
    kundnummer: Mapped[str | None] = mapped_column(String(40))  # used instead of personnummer
    personnummer: Mapped[str | None] = mapped_column(String(12))  # 12 digits, YYYYMMDDNNNC
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Agreement(Base):
    """A rental agreement (hyresavtal), identified by its avtalsnummer within the landlord."""

    __tablename__ = "agreements"
    __table_args__ = (UniqueConstraint("landlord_id", "avtalsnummer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("landlords.id", ondelete="CASCADE"))
    # None when the register gives tenants but no agreement number.
    avtalsnummer: Mapped[str | None] = mapped_column(String(40))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    notice_given_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    objects: Mapped[list[AgreementObject]] = relationship(cascade="all, delete-orphan")
    parties: Mapped[list[AgreementParty]] = relationship(
        cascade="all, delete-orphan", order_by="AgreementParty.position"
    )

    def in_force(self, on: date) -> bool:
        """Whether the agreement is in force on the given day (start and end days included)."""
        started = self.starts_on is None or self.starts_on <= on
        not_ended = self.ends_on is None or on <= self.ends_on
        return started and not_ended


class AgreementObject(Base):
    """An object covered by an agreement."""

    __tablename__ = "agreement_objects"
    # A link table needs no rowid: on SQLite that saves a B-tree per insert.
    __table_args__ = {"sqlite_with_rowid": False}

    agreement_id: Mapped[int] = link_key("agreements")
    object_id: Mapped[int] = link_key("objects", index=True)

    # The day the object left the agreement (the register moved it to another one); the
    # agreement itself ends when its last object has left.
    ends_on: Mapped[date | None] = mapped_column(Date)

    rental_object: Mapped[RentalObject] = relationship()


class AgreementParty(Base):
    """A tenant on an agreement; position 1 is the one whose kundnummer invoices show."""

    __tablename__ = "agreement_parties"
    __table_args__ = {"sqlite_with_rowid": False}

    agreement_id: Mapped[int] = link_key("agreements")
    person_id: Mapped[int] = link_key("people", index=True)
    position: Mapped[int] = mapped_column(default=1)

    person: Mapped[Person] = relationship()
