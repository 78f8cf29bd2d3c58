"""The property register: properties, entrances (street addresses), rentable objects, imports.

An entrance is one street address (``Götgatan 12B``): the unit a patrol drives to and the scope
in which a lägenhetsnummer is unique. Objects are never deleted by an import, only retired, so
that complaints, jobs and reports pointing at them keep their address.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.models.base import Base, utcnow

OBJECT_TYPES = ("lägenhet", "lokal", "parkering", "förråd", "allmänt utrymme")


class Property(Base):
    """A property (fastighet), named by its fastighetsbeteckning, e.g. ``Söder 12:34``."""

    __tablename__ = "properties"
    __table_args__ = (UniqueConstraint("landlord_id", "designation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("landlords.id", ondelete="CASCADE"))
    designation: Mapped[str] = mapped_column(String(120))  # fastighetsbeteckning


class Entrance(Base):
    """One street address of a landlord: street, number and letter, postnummer, ort, position."""

    __tablename__ = "entrances"
    __table_args__ = (UniqueConstraint("landlord_id", "address_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("landlords.id", ondelete="CASCADE"))
    property_id: Mapped[int | None] = mapped_column(ForeignKey("properties.id"))
    street: Mapped[str] = mapped_column(String(120))
    street_number: Mapped[int | None]
    street_letter: Mapped[str] = mapped_column(String(4), default="")
    postnummer: Mapped[str] = mapped_column(String(5))
    ort: Mapped[str] = mapped_column(String(80))
    # Normalised "street|number|letter|postnummer", the identity of the address within a landlord.
    address_key: Mapped[str] = mapped_column(String(220))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    # Where the coordinates came from: "file", "same_address", "geocoder"; None: not on the map.
    position_source: Mapped[str | None] = mapped_column(String(20))
    door_code: Mapped[str | None] = mapped_column(String(40))  # portkod: shown to the patrol only

    real_property: Mapped[Property | None] = relationship()
    objects: Mapped[list[RentalObject]] = relationship(back_populates="entrance")

    @property
    def street_address(self) -> str:
        """The address as people write it: ``Götgatan 12B``."""
        number = "" if self.street_number is None else f" {self.street_number}"
        return f"{self.street}{number}{self.street_letter}"

    @property
    def placed(self) -> bool:
        """Whether the entrance can be shown on a map and used for the nearest patrol."""
        return self.lat is not None and self.lon is not None


class RentalObject(Base):
    """A rentable object (objekt): flat, premises, parking, storage or common space."""

    __tablename__ = "objects"
    __table_args__ = (
        UniqueConstraint("landlord_id", "objektsnummer"),
        Index("ix_objects_entrance_lgh", "entrance_id", "lagenhetsnummer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("landlords.id", ondelete="CASCADE"))
    entrance_id: Mapped[int] = mapped_column(ForeignKey("entrances.id"))
    objektsnummer: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(20), default="lägenhet")
    lagenhetsnummer: Mapped[str | None] = mapped_column(String(4))
    floor: Mapped[int | None]  # 0 = entrance level; from the lägenhetsnummer when there is one
    rooms: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    rent_sek: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    # A digest of the register row, so that a re-import finds changed rows without comparing
    # every column one by one.
    row_hash: Mapped[str | None] = mapped_column(String(40))
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    entrance: Mapped[Entrance] = relationship(back_populates="objects")


class RegisterImport(Base):
    """One import of a landlord's register file: who, when, which file, what it did."""

    __tablename__ = "register_imports"
    __table_args__ = (Index("ix_register_imports_landlord_started", "landlord_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("landlords.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(200))  # e-mail, or "cli:<os user>"
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(default=0)
    # running, accepted, unchanged, rejected, dry_run
    status: Mapped[str] = mapped_column(String(20), default="running")
    forced: Mapped[bool] = mapped_column(default=False)
    dry_run: Mapped[bool] = mapped_column(default=False)
    rows_total: Mapped[int] = mapped_column(default=0)
    added: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    retired: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    not_placed: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list | None] = mapped_column(JSON)
    error_report: Mapped[str | None] = mapped_column(Text)  # CSV: line, column, value, reason
