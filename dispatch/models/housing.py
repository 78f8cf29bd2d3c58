"""The housing queue's tables (intressebank, issue 16). Imports only models and core.

An applicant is a person of the shared model (``people``: one with no landlord when they are
not a tenant yet) with the queue's dates; points are computed from ``points_from`` (the
registration or the last reset to zero) and the day, never kept as a counter
(``dispatch.housing.points``). A listing is a vacant object of the register; interests, offers,
refusals, blocks and priority decisions hang off applicants and listings. A contract signed
through the queue becomes an ``Agreement`` of the shared model (``HousingOffer.agreement_id``).
The customer assessment's guarantors (a ``Person`` each) and previous landlords' references
hang off the applicant; a tenant's applications to exchange or let second-hand hang off their
agreement.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.models.base import Base, utcnow
from dispatch.models.people import Person
from dispatch.models.register import RentalObject

# The kinds of income the seed accepts (004, "Vår uthyrningspolicy" and "Kundbedömning").
INCOME_KINDS = (
    "employment",  # tjänst
    "pension",
    "business",  # företagarinkomst
    "unemployment",  # a-kassa
    "student_loan",  # studielån
    "student_grant",  # studiebidrag
    "social_assistance",  # försörjningsstöd styrkt av kommunen (seed 004 names Hammarö, its own)
    "housing_allowance",  # bostadsbidrag
    "child_allowance",  # barnbidrag
    "maintenance",  # underhållsbidrag
    "introduction",  # introduktionsersättning
    "boarding",  # inackorderingstillägg
)
APPLICANT_STATUSES = ("active", "removed")
OFFER_ANSWERS = ("accepted", "refused", "missed")
BLOCK_REASONS = ("refusals", "false_information")
PRIORITY_GROUPS = ("medical", "social", "business")
LISTING_STATUSES = ("published", "closed", "let", "withdrawn")
REFERENCE_ANSWERS = ("approved", "remarks")
TENANCY_KINDS = ("exchange", "sublet")  # bostadsbyte, andrahandsuthyrning
TENANCY_STATUSES = ("pending", "approved", "refused")
# The reasons the seed gives for second-hand letting (004, "Hyra och hyra ut i andra hand").
SUBLET_REASONS = (
    "studies",  # utbildning på annan ort
    "temporary_job",  # visstidsanställning / tillfälligt arbete på annan ort
    "trial_cohabitation",  # provboende med sambo
    "abroad",  # lång utlandsvistelse
)


class HousingApplicant(Base):
    """A person registered in a landlord's queue, with their wishes and household."""

    __tablename__ = "housing_applicants"
    __table_args__ = (Index("ix_housing_applicants_status_renewed", "status", "renewed_on"),
                      UniqueConstraint("landlord_id", "person_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # Whose queue: each landlord keeps its own intressebank.
    landlord_id: Mapped[int] = mapped_column(ForeignKey("landlords.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                           index=True)
    registered_on: Mapped[date] = mapped_column(Date)
    # Where the points count from: the registration, or the last reset to zero.
    points_from: Mapped[date] = mapped_column(Date)
    renewed_on: Mapped[date] = mapped_column(Date)  # last log-in or application
    status: Mapped[str] = mapped_column(String(10), default="active")
    removed_on: Mapped[date | None] = mapped_column(Date)
    # Wishes.
    areas: Mapped[list] = mapped_column(JSON, default=list)
    rooms_min: Mapped[int | None]
    max_rent: Mapped[int | None]  # kronor a month
    lowest_floor: Mapped[int | None]
    highest_floor: Mapped[int | None]
    needs_lift: Mapped[bool] = mapped_column(default=False)
    subscribes: Mapped[bool] = mapped_column(default=True)  # mail when a match is published
    # Household and income.
    adults: Mapped[int] = mapped_column(default=1)
    children: Mapped[int] = mapped_column(default=0)
    income_kinds: Mapped[list] = mapped_column(JSON, default=list)
    yearly_income: Mapped[int | None]  # kronor
    locale: Mapped[str | None] = mapped_column(String(5))
    # Staff member who registered them on the phone, if any.
    registered_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    # The renewal period each reminder was last sent for (its last registered day).
    reminded_30_for: Mapped[date | None] = mapped_column(Date)
    reminded_7_for: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    person: Mapped[Person] = relationship()


class HousingListing(Base):
    """A vacant object published to the queue."""

    __tablename__ = "housing_listings"
    __table_args__ = (Index("ix_housing_listings_status_until", "status", "published_until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("landlords.id", ondelete="CASCADE"))
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"),
                                           index=True)
    published_from: Mapped[datetime] = mapped_column(default=utcnow)
    published_until: Mapped[datetime]
    vacant_on: Mapped[date] = mapped_column(Date)  # move-in (BoDirekt: the contract date)
    min_applicants: Mapped[int] = mapped_column(default=1)
    max_applicants: Mapped[int] = mapped_column(default=5)
    bodirekt: Mapped[bool] = mapped_column(default=False)
    lottery_seed: Mapped[int]  # drawn at publication; replays a tie's lottery
    # The rent the vacancy is let at, when the landlord's vacancy file gave one (else the
    # register's rent of the object: ``rent``).
    rent_sek: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    status: Mapped[str] = mapped_column(String(10), default="published")
    published_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rental_object: Mapped[RentalObject] = relationship()

    @property
    def rent(self) -> Decimal | None:
        return self.rent_sek if self.rent_sek is not None else self.rental_object.rent_sek


class HousingInterest(Base):
    """An applicant's interest in a listing; ``created_at`` is the server's clock (BoDirekt:
    first come, first served, ties by the row's id). ``points_from`` and ``registered_on`` are
    the applicant's, copied and kept in step (a reset to zero updates them; a removal from the
    queue withdraws the interests), so that ranking a listing reads one index of this table."""

    __tablename__ = "housing_interests"
    __table_args__ = (UniqueConstraint("listing_id", "applicant_id"),
                      Index("ix_housing_interests_rank", "listing_id", "withdrawn_at",
                            "points_from", "registered_on", "applicant_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("housing_listings.id",
                                                       ondelete="CASCADE"))
    applicant_id: Mapped[int] = mapped_column(ForeignKey("housing_applicants.id",
                                                         ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    points_from: Mapped[date] = mapped_column(Date)
    registered_on: Mapped[date] = mapped_column(Date)

    applicant: Mapped[HousingApplicant] = relationship()
    listing: Mapped[HousingListing] = relationship()


class HousingOffer(Base):
    """An offer of a viewing and the flat, with its deadline and the answer."""

    __tablename__ = "housing_offers"
    __table_args__ = (UniqueConstraint("listing_id", "applicant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("housing_listings.id",
                                                       ondelete="CASCADE"))
    applicant_id: Mapped[int] = mapped_column(ForeignKey("housing_applicants.id",
                                                         ondelete="CASCADE"), index=True)
    rank: Mapped[int]  # place in the ranked list when offered
    points: Mapped[int]  # points when offered (for the record)
    priority_group: Mapped[str | None] = mapped_column(String(10))
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    offered_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    deadline: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(String(10))  # OFFER_ANSWERS
    answered_at: Mapped[datetime | None]
    answer_recorded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    # The agreement the contract became, when this applicant got the flat.
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id",
                                                                ondelete="SET NULL"))

    applicant: Mapped[HousingApplicant] = relationship()
    listing: Mapped[HousingListing] = relationship()


class HousingRefusal(Base):
    """A refused offer (``missed``: no answer by the deadline counts as a refusal)."""

    __tablename__ = "housing_refusals"

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("housing_applicants.id",
                                                         ondelete="CASCADE"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("housing_offers.id",
                                                            ondelete="SET NULL"))
    refused_on: Mapped[date] = mapped_column(Date)
    missed: Mapped[bool] = mapped_column(default=False)


class HousingBlock(Base):
    """A block from offers: five refusals (rest of the year, points reset) or obviously false
    information (one year, a staff decision with its reason)."""

    __tablename__ = "housing_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("housing_applicants.id",
                                                         ondelete="CASCADE"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(20))  # BLOCK_REASONS
    note: Mapped[str | None] = mapped_column(Text)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HousingPriority(Base):
    """A priority (förtur) decision: its group, the staff-set urgency (most urgent first, no
    queue within a group); it ends after two refused offers."""

    __tablename__ = "housing_priorities"

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("housing_applicants.id",
                                                         ondelete="CASCADE"), index=True)
    priority_group: Mapped[str] = mapped_column(String(10))  # PRIORITY_GROUPS
    urgency: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str | None] = mapped_column(Text)
    certificate: Mapped[bool] = mapped_column(default=False)  # läkarintyg or equivalent seen
    decided_on: Mapped[date] = mapped_column(Date)
    decided_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    refused_offers: Mapped[int] = mapped_column(default=0)
    ended_on: Mapped[date | None] = mapped_column(Date)


class HousingMoveException(Base):
    """Staff's recorded exception to the one-year rule for an internal move, with a reason."""

    __tablename__ = "housing_move_exceptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("housing_applicants.id",
                                                         ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HousingGuarantor(Base):
    """A guarantor (borgensman) on an applicant's case: a person 18 or older whose monthly
    income is at least five times the monthly rent, credit-checked with their consent. The
    guarantee runs two years from ``starts_on``; after that the guarantor may end it with nine
    months' notice (given so that it may end exactly at two years): ``ends_on``."""

    __tablename__ = "housing_guarantors"

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("housing_applicants.id",
                                                         ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                           index=True)
    monthly_income: Mapped[int]  # kronor
    starts_on: Mapped[date] = mapped_column(Date)
    notice_given_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)  # set by the notice
    credit_approved: Mapped[bool] = mapped_column(default=False)
    credit_checked_at: Mapped[datetime]
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship()


class HousingReference(Base):
    """A previous landlord's reference on an applicant, as staff took it."""

    __tablename__ = "housing_references"

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("housing_applicants.id",
                                                         ondelete="CASCADE"), index=True)
    landlord_name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(200))
    answer: Mapped[str] = mapped_column(String(10))  # REFERENCE_ANSWERS
    remarks: Mapped[str | None] = mapped_column(Text)
    given_on: Mapped[date] = mapped_column(Date)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HousingTenancyApplication(Base):
    """A tenant's application to exchange flats (``exchange``: with ``counterpart``, both
    credit-checked) or to let theirs second-hand (``sublet``: a period and a reason from
    ``SUBLET_REASONS``), decided by staff with a reason."""

    __tablename__ = "housing_tenancy_applications"
    __table_args__ = (Index("ix_housing_tenancy_applications_landlord_status", "landlord_id",
                            "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("landlords.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # TENANCY_KINDS
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                           index=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"),
                                              index=True)
    # The other tenant of an exchange, or the second-hand tenant.
    counterpart_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"))
    counterpart_address: Mapped[str | None] = mapped_column(String(300))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)  # a sublet's last day
    reason: Mapped[str | None] = mapped_column(String(20))  # SUBLET_REASONS
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    credit_approved: Mapped[bool | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    counterpart: Mapped[Person | None] = relationship(foreign_keys=[counterpart_person_id])


__all__ = [
    "APPLICANT_STATUSES", "BLOCK_REASONS", "INCOME_KINDS", "LISTING_STATUSES", "OFFER_ANSWERS",
    "PRIORITY_GROUPS", "REFERENCE_ANSWERS", "SUBLET_REASONS", "TENANCY_KINDS",
    "TENANCY_STATUSES", "HousingApplicant", "HousingBlock", "HousingGuarantor",
    "HousingInterest", "HousingListing", "HousingMoveException", "HousingOffer",
    "HousingPriority", "HousingReference", "HousingRefusal", "HousingTenancyApplication",
]
