"""The housing queue's operations on the database: they add and flush, never commit (the
request or the scheduled job that calls them is the unit of work).

Every staff decision writes an audit line (``core.audit.record``) with ids only, never a
personnummer or a name.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import groupby, islice
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    Integer,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.core import audit
from dispatch.housing import cases
from dispatch.housing import points as rules
from dispatch.housing.credit import CreditProvider
from dispatch.models import (
    Agreement,
    AgreementObject,
    AgreementParty,
    Complaint,
    IncidentReport,
    Job,
    Person,
    RentalObject,
    utcnow,
)
from dispatch.models.housing import (
    PRIORITY_GROUPS,
    HousingApplicant,
    HousingBlock,
    HousingGuarantor,
    HousingInterest,
    HousingListing,
    HousingMoveException,
    HousingOffer,
    HousingPriority,
    HousingReference,
    HousingRefusal,
)

# The queue's settings, read from the app's config with these defaults (instance settings or
# the environment may override them: see README, "Housing queue").
DEFAULTS = {
    "HOUSING_PUBLISH_DAYS": 7,  # a listing stays published about a week
    "HOUSING_ENOUGH_APPLICANTS": 50,  # … or until this many have registered interest
    "HOUSING_MAX_OFFERS": 5,  # viewings offered to between 1 and this many approved applicants
    "HOUSING_ANSWER_DAYS": 5,  # an offer's answer deadline
    "HOUSING_REMINDER_DAYS": (30, 7),
}


def setting(config, name: str):
    return config.get(name, DEFAULTS[name])


class QueueError(ValueError):
    """A rule said no; ``code`` names it for the page (translated there)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def local_today(tz: ZoneInfo, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(tz).date()


# --- applicants -----------------------------------------------------------------------------

def applicant_of(session: Session, landlord_id: int, person_id: int | None) \
        -> HousingApplicant | None:
    """The person's active registration in the landlord's queue, or None."""
    if person_id is None:
        return None
    return session.scalar(select(HousingApplicant).where(
        HousingApplicant.landlord_id == landlord_id, HousingApplicant.person_id == person_id,
        HousingApplicant.status == "active"))


def register(session: Session, person: Person, landlord_id: int, today: date, *,
             staff_user_id: int | None = None, locale: str | None = None) -> HousingApplicant:
    """Register a person in a landlord's queue (16 or older, by their personnummer)."""
    if not person.personnummer:
        raise QueueError("bad_personnummer")
    try:
        old_enough = rules.may_register(person.personnummer, today)
    except rules.InvalidPersonnummer:
        raise QueueError("bad_personnummer") from None
    if not old_enough:
        raise QueueError("too_young")
    existing = session.scalar(select(HousingApplicant).where(
        HousingApplicant.landlord_id == landlord_id, HousingApplicant.person_id == person.id))
    if existing is not None and existing.status == "active":
        raise QueueError("already_registered")
    if existing is not None:  # removed earlier: a new registration, points from today
        session.delete(existing)
        session.flush()
    applicant = HousingApplicant(landlord_id=landlord_id, person_id=person.id,
                                 registered_on=today, points_from=today,
                                 renewed_on=today, registered_by_user_id=staff_user_id,
                                 locale=locale, areas=[], income_kinds=[])
    session.add(applicant)
    session.flush()
    audit.record(session, "housing.registered", subject=f"applicant:{applicant.id}",
                 user_id=staff_user_id, details={"by_staff": staff_user_id is not None,
                                                 "credit_check_consent": True})
    return applicant


def renew(applicant: HousingApplicant, today: date) -> None:
    """A log-in or an application starts a new twelve-month period."""
    if applicant.status == "active" and rules.is_registered(applicant.renewed_on, today):
        applicant.renewed_on = max(applicant.renewed_on, today)


def blocks_of(session: Session, applicant_id: int) -> list[HousingBlock]:
    return list(session.scalars(select(HousingBlock).where(
        HousingBlock.applicant_id == applicant_id).order_by(HousingBlock.starts_on)))


def blocked_on(session: Session, applicant_id: int, today: date) -> HousingBlock | None:
    return session.scalar(select(HousingBlock).where(
        HousingBlock.applicant_id == applicant_id, HousingBlock.starts_on <= today,
        HousingBlock.ends_on >= today).limit(1))


def current_points(applicant: HousingApplicant, today: date) -> int:
    return rules.points(applicant.points_from, today)


def points_expression(session: Session, today: date, column=None):
    """The points as SQL (the same cycle as ``rules.points_for_days``), for ranking in the
    database: days since ``points_from`` (the applicant's, or ``column``), then the five-year
    cycle."""
    days = _days_between(session, HousingApplicant.points_from if column is None else column,
                         today)
    return case(
        (days <= 0, 0),
        (days <= rules.FIVE_YEARS, days),
        else_=rules.THREE_YEARS + func.mod(days - (rules.FIVE_YEARS + 1), rules.CYCLE) + 1,
    )


def _days_between(session: Session, column, today: date):
    if session.get_bind().dialect.name == "postgresql":
        return literal(today, Date) - column  # date - date is an integer on PostgreSQL
    return cast(func.julianday(literal(today.isoformat())) - func.julianday(column), Integer)


def record_false_information(session: Session, applicant: HousingApplicant, today: date, *,
                             staff_user_id: int, note: str) -> HousingBlock:
    block = rules.false_information_block(today)
    row = HousingBlock(applicant_id=applicant.id, starts_on=block.starts_on,
                       ends_on=block.ends_on, reason=block.reason, note=note,
                       staff_user_id=staff_user_id)
    session.add(row)
    session.flush()
    audit.record(session, "housing.blocked", subject=f"applicant:{applicant.id}",
                 user_id=staff_user_id, details={"reason": block.reason, "block_id": row.id,
                                                 "until": block.ends_on.isoformat()})
    return row


def record_refusal(session: Session, applicant: HousingApplicant, offer: HousingOffer | None,
                   day: date, *, missed: bool) -> HousingBlock | None:
    """Add a refusal and, when it is the fifth within a year, the block that follows (points
    from that day)."""
    session.add(HousingRefusal(applicant_id=applicant.id, offer_id=offer.id if offer else None,
                               refused_on=day, missed=missed))
    session.flush()
    days = list(session.scalars(select(HousingRefusal.refused_on).where(
        HousingRefusal.applicant_id == applicant.id)))
    known = {b.starts_on for b in blocks_of(session, applicant.id) if b.reason == "refusals"}
    for block in rules.refusal_blocks(days):
        if block.starts_on in known:
            continue
        row = HousingBlock(applicant_id=applicant.id, starts_on=block.starts_on,
                           ends_on=block.ends_on, reason="refusals")
        session.add(row)
        applicant.points_from = max(applicant.points_from, block.starts_on)
        session.execute(update(HousingInterest).where(
            HousingInterest.applicant_id == applicant.id).values(
            points_from=applicant.points_from).execution_options(synchronize_session=False))
        session.flush()
        audit.record(session, "housing.blocked", subject=f"applicant:{applicant.id}",
                     details={"reason": "refusals", "block_id": row.id,
                              "until": block.ends_on.isoformat()})
        return row
    return None


# --- listings and interests -----------------------------------------------------------------

def publish(session: Session, rental_object: RentalObject, *, now: datetime, vacant_on: date,
            days: int, min_applicants: int = 1, max_applicants: int = 5, bodirekt: bool = False,
            staff_user_id: int | None = None) -> HousingListing:
    if rental_object.retired_at is not None:
        raise QueueError("object_retired")
    open_listing = session.scalar(select(HousingListing.id).where(
        HousingListing.object_id == rental_object.id,
        HousingListing.status == "published").limit(1))
    if open_listing is not None:
        raise QueueError("already_published")
    if not 1 <= min_applicants <= max_applicants <= 5:
        raise QueueError("applicant_counts")
    listing = HousingListing(
        landlord_id=rental_object.landlord_id, object_id=rental_object.id, published_from=now,
        published_until=now + timedelta(days=days), vacant_on=vacant_on,
        min_applicants=min_applicants, max_applicants=max_applicants, bodirekt=bodirekt,
        lottery_seed=secrets.randbits(31), published_by_user_id=staff_user_id)
    session.add(listing)
    session.flush()
    audit.record(session, "housing.listing.published", subject=f"listing:{listing.id}",
                 user_id=staff_user_id, details={"object_id": rental_object.id,
                                                 "bodirekt": bodirekt})
    return listing


def is_open(listing: HousingListing, now: datetime) -> bool:
    return listing.status == "published" and listing.published_from <= now \
        < listing.published_until


def register_interest(session: Session, applicant: HousingApplicant, listing: HousingListing,
                      *, now: datetime, tz: ZoneInfo) -> HousingInterest:
    """An applicant's interest, stamped with the server's clock; an application renews the
    registration. The same interest twice is one (the unique constraint decides a race)."""
    today = local_today(tz, now)
    if not is_open(listing, now) or listing.landlord_id != applicant.landlord_id:
        raise QueueError("listing_closed")
    if applicant.status != "active" or not rules.is_registered(applicant.renewed_on, today):
        raise QueueError("lapsed")
    if blocked_on(session, applicant.id, today) is not None:
        raise QueueError("blocked")
    existing = session.scalar(select(HousingInterest).where(
        HousingInterest.listing_id == listing.id, HousingInterest.applicant_id == applicant.id))
    if existing is not None:
        if existing.withdrawn_at is not None:
            raise QueueError("withdrawn")
        return existing
    interest = HousingInterest(listing_id=listing.id, applicant_id=applicant.id, created_at=now,
                               points_from=applicant.points_from,
                               registered_on=applicant.registered_on)
    try:
        with session.begin_nested():
            session.add(interest)
            session.flush()
    except IntegrityError:
        return session.scalar(select(HousingInterest).where(
            HousingInterest.listing_id == listing.id,
            HousingInterest.applicant_id == applicant.id))
    renew(applicant, today)
    return interest


def withdraw_interest(session: Session, applicant: HousingApplicant, listing: HousingListing,
                      *, now: datetime) -> HousingInterest:
    """The applicant takes back an interest (audited). Refused while an offer of the flat to
    them waits for an answer or was accepted (``answer_offer``: they answer the offer), and
    for an interest they never registered (``no_interest``). Withdrawn is final for the
    listing: a new interest in it is refused (``withdrawn``)."""
    interest = session.scalar(select(HousingInterest).where(
        HousingInterest.listing_id == listing.id, HousingInterest.applicant_id == applicant.id))
    if interest is None:
        raise QueueError("no_interest")
    if interest.withdrawn_at is not None:
        return interest
    offered = session.scalar(select(HousingOffer.id).where(
        HousingOffer.listing_id == listing.id, HousingOffer.applicant_id == applicant.id,
        or_(HousingOffer.answer.is_(None), HousingOffer.answer == "accepted")).limit(1))
    if offered is not None:
        raise QueueError("answer_offer")
    interest.withdrawn_at = now
    session.flush()
    audit.record(session, "housing.interest_withdrawn", subject=f"applicant:{applicant.id}",
                 details={"listing_id": listing.id, "interest_id": interest.id})
    return interest


# --- assessment and ranking -----------------------------------------------------------------

@dataclass
class Ranked:
    applicant: HousingApplicant
    interest: HousingInterest
    points: int
    age: int | None
    blocked: bool
    disturbances: list[tuple[int, datetime]]  # (report id, when) on their agreements
    approved: bool
    reasons: list[str]
    # Why it passes where it is not self-evident: "income" (at least twice the annual rent),
    # "guarantor" (a guarantor covers it), "reference" (the latest reference is approved).
    grounds: list[str] = field(default_factory=list)
    guarantor: object | None = None  # the HousingGuarantor that covers the income
    reference: object | None = None  # the latest HousingReference


def disturbances(session: Session, person_id: int, landlord_id: int, *, since: datetime) \
        -> list[tuple[int, datetime]]:
    """Released incident reports about the objects of the person's current or earlier
    agreements with ``landlord_id`` (the landlord whose case officer asks: never another
    landlord's), while the agreement held the object, no older than ``since`` (the reports'
    retention): ``[(report id, call received), …]``."""
    return disturbances_of(session, [person_id], landlord_id, since=since).get(person_id, [])


def disturbances_of(session: Session, person_ids: list[int], landlord_id: int, *,
                    since: datetime) -> dict[int, list[tuple[int, datetime]]]:
    """``disturbances`` for many people at once: ``{person_id: [(report id, when), …]}``."""
    if not person_ids:
        return {}
    received = Complaint.call_received_at
    rows = session.execute(
        select(AgreementParty.person_id, IncidentReport.id, received)
        .join(Agreement, Agreement.id == AgreementParty.agreement_id)
        .join(AgreementObject, AgreementObject.agreement_id == Agreement.id)
        .join(Complaint, Complaint.suspected_object_id == AgreementObject.object_id)
        .join(Job, Job.complaint_id == Complaint.id)
        .join(IncidentReport, IncidentReport.job_id == Job.id)
        .where(AgreementParty.person_id.in_(person_ids), Agreement.landlord_id == landlord_id,
               IncidentReport.landlord_id == landlord_id,
               IncidentReport.released_at.is_not(None), received >= since,
               or_(Agreement.starts_on.is_(None),
                   func.date(received) >= Agreement.starts_on),
               or_(Agreement.ends_on.is_(None), func.date(received) <= Agreement.ends_on))
        .order_by(received)).all()
    found: dict[int, list[tuple[int, datetime]]] = {}
    seen = set()
    for person_id, report_id, at in rows:
        if (person_id, report_id) in seen:
            continue
        seen.add((person_id, report_id))
        found.setdefault(person_id, []).append((report_id, at))
    return found


ORDER_PAGE = 64  # the first page of each stretch's rows; each next page four times larger
ORDER_YEARS = 17  # the stretches the first read takes without knowing the oldest interest


def _stretches(today: date, oldest: date) -> list[tuple[date | None, date | None]]:
    """The ranges of ``points_from`` (both ends included, None: open) in which the points
    grow as ``points_from`` falls, one after the other (``rules.points_for_days``): the
    first five years (1 to 1,825 points), then each two-year cycle (1,096 to 1,825) back to
    ``oldest``. Within one, the order by ``points_from`` is the order by points, highest
    first, so each is one range of ``ix_housing_interests_rank`` read in index order."""
    found = [(today - timedelta(days=rules.FIVE_YEARS), today - timedelta(days=1))]
    last = today - timedelta(days=rules.FIVE_YEARS + 1)  # the newest day of the next cycle
    while last >= oldest:
        found.append((last - timedelta(days=rules.CYCLE - 1), last))
        last -= timedelta(days=rules.CYCLE)
    return found


def _order(session: Session, listing: HousingListing, today: date, *,
           first_page: int = 0) -> Iterator[int]:
    """The applicant ids of the listing's live interests in the order offers go out,
    read lazily: BoDirekt by the server's timestamp of the interest; otherwise by points
    (from the dates), registration date and the listing's lottery (``rules.rank``'s order
    exactly).

    The points are a saw of ``points_from`` (up five years, down to three, up again), so
    the ranking reads each rising stretch (``_stretches``, plus the interests whose points
    start today or later: none yet) as a range of ``ix_housing_interests_rank`` in index
    order, the first page of each stretch in one statement (``UNION ALL`` of ``LIMIT``
    reads: a few hundred index entries, not every interest), and merges the stretches here;
    each next page goes on after the last row taken from a stretch (no ``OFFSET``). A caller
    that knows how many it wants says so (``first_page``: that many rows of each stretch in
    the first read, at least ``ORDER_PAGE``)."""
    live = (HousingInterest.listing_id == listing.id, HousingInterest.withdrawn_at.is_(None))
    if listing.bodirekt:
        query = (select(HousingInterest.applicant_id).where(*live)
                 .order_by(HousingInterest.created_at, HousingInterest.id))
        result = session.execute(query.execution_options(yield_per=256))
        try:
            for (applicant_id,) in result:
                yield applicant_id
        finally:
            result.close()
        return
    # Stretch 0: no points yet (points from today or later), by registration date; then the
    # rising stretches by points_from. The first statement reads the stretches back
    # ORDER_YEARS and the oldest live interest (stretch -1); when that is older still, the
    # page is read again with every stretch.
    stretches = [(today, None)] + _stretches(today, today - timedelta(days=365 * ORDER_YEARS))
    cursors: list[tuple | None] = [None] * len(stretches)
    open_ = [True] * len(stretches)
    seed, size, probe = listing.lottery_seed, max(ORDER_PAGE, first_page), True
    while any(open_):
        shape = tuple((n, cursors[n] is not None) for n in range(len(stretches)) if open_[n])
        params = {"listing": listing.id, "size": size}
        for number, _ in shape:
            params[f"low{number}"], params[f"high{number}"] = stretches[number]
            for place, value in enumerate(cursors[number] or ()):
                params[f"c{number}_{place}"] = value
        # A row: (stretch, applicant id, points_from, registered on, (−points, registered
        # on): equal for a tie the lottery breaks, order in the stretch).
        rows = [(n, a, p, r, (-rules.points(p, today), r), (r, a) if n == 0 else (p, r, a))
                for n, a, p, r in session.execute(_ranking_statement(shape, probe), params)]
        if probe:
            probe = False
            oldest = [r for r in rows if r[0] < 0]
            if not oldest:
                return  # no live interest
            rows = [r for r in rows if r[0] >= 0]
            if oldest[0][2] < stretches[-1][0]:  # older than the stretches read: all again
                stretches = [(today, None)] + _stretches(today, oldest[0][2])
                cursors, open_ = [None] * len(stretches), [True] * len(stretches)
                continue
        by_stretch: dict[int, list] = {}
        for row in rows:
            by_stretch.setdefault(row[0], []).append(row)
        # Rows not read yet of a stretch that filled its page rank at or after its last row
        # read: everything before the least such row is complete, tie groups included.
        bound = None
        for mine in by_stretch.values():
            if len(mine) == size:
                last = max(mine, key=lambda r: r[5])[4]
                bound = last if bound is None else min(bound, last)
        taken = sorted((r for r in rows if bound is None or r[4] < bound), key=lambda r: r[4])
        for number, _ in shape:
            mine = by_stretch.get(number, [])
            used = [r for r in mine if bound is None or r[4] < bound]
            if used:
                cursors[number] = max(used, key=lambda r: r[5])[5]
            open_[number] = len(mine) == size or len(used) < len(mine)
        for _key, tied in groupby(taken, key=lambda r: r[4]):
            for row in sorted(tied, key=lambda r: (rules.lottery_ticket(r[1], seed), r[1])):
                yield row[1]
        size *= 4


@lru_cache(maxsize=256)
def _ranking_statement(shape: tuple[tuple[int, bool], ...], probe: bool):
    """The ranking's read of the open stretches ``shape`` (``(number, after a cursor)``),
    built once per shape with bound parameters (``listing``, ``size``, ``lowN``/``highN``,
    the cursor ``cN_i``): ``UNION ALL`` of one index range read in index order each, and
    with ``probe`` the oldest live interest as stretch -1."""
    pf, reg, aid = (HousingInterest.points_from, HousingInterest.registered_on,
                    HousingInterest.applicant_id)
    live = (HousingInterest.listing_id == bindparam("listing", type_=Integer),
            HousingInterest.withdrawn_at.is_(None))
    size = bindparam("size", type_=Integer)
    # withdrawn_at (all NULL here) named in each ORDER BY too: PostgreSQL takes the order
    # from the index only when each column before is equal or named (IS NULL is no equality
    # to it); else it reads and sorts the whole range.
    reads = []
    if probe:
        reads.append(select(literal(-1).label("stretch"), aid, pf, reg).where(*live)
                     .order_by(HousingInterest.withdrawn_at, pf).limit(1))
    for number, has_cursor in shape:
        where = [*live, pf >= bindparam(f"low{number}", type_=Date)]
        if number:
            where.append(pf <= bindparam(f"high{number}", type_=Date))
        order = (reg, aid) if number == 0 else (pf, reg, aid)
        if has_cursor:
            where.append(tuple_(*order) > tuple_(*(
                bindparam(f"c{number}_{place}", type_=column.type)
                for place, column in enumerate(order))))
        reads.append(select(literal(number).label("stretch"), aid, pf, reg).where(*where)
                     .order_by(HousingInterest.withdrawn_at, *order).limit(size))
    if len(reads) == 1:
        return reads[0]
    return union_all(*(read.subquery().select() for read in reads))


@dataclass
class _Row:
    """One interest as the assessment reads it, with whether the applicant has anything in
    the tables the assessment reads next (only those are read: most applicants have no block,
    guarantor, reference, agreement or exception)."""
    interest: HousingInterest
    applicant: HousingApplicant
    person: Person
    blocked: bool
    guarantors: bool
    references: bool
    agreements: bool  # a party to any agreement of the listing's landlord
    excepted: bool  # staff's exception to the one-year rule
    rent: object  # the listing's rent (``HousingListing.rent``), read in the same statement


def _rows(session: Session, listing: HousingListing, applicant_ids: list[int], today: date) \
        -> list[_Row]:
    """The listing's interests of ``applicant_ids``, in that order, each with its applicant,
    person, the flags above and the listing's rent: one statement (index searches by the
    ids)."""
    if not applicant_ids:
        return []
    found = {row[1].id: _Row(*row) for row in session.execute(_rows_statement(), {
        "listing": listing.id, "landlord": listing.landlord_id, "today": today,
        "ids": applicant_ids})}
    return [found[a] for a in applicant_ids if a in found]


@lru_cache(maxsize=1)
def _rows_statement():
    """``_rows``'s statement, built once (bound: ``listing``, ``landlord``, ``today``,
    ``ids``)."""
    applicant, today = HousingApplicant.id, bindparam("today", type_=Date)
    listing = bindparam("listing", type_=Integer)
    flags = (
        select(HousingBlock.id).where(
            HousingBlock.applicant_id == applicant, HousingBlock.starts_on <= today,
            HousingBlock.ends_on >= today).exists(),
        select(HousingGuarantor.id).where(HousingGuarantor.applicant_id == applicant).exists(),
        select(HousingReference.id).where(HousingReference.applicant_id == applicant).exists(),
        select(AgreementParty.agreement_id).join(
            Agreement, Agreement.id == AgreementParty.agreement_id).where(
            AgreementParty.person_id == HousingApplicant.person_id,
            Agreement.landlord_id == bindparam("landlord", type_=Integer)).exists(),
        select(HousingMoveException.id).where(
            HousingMoveException.applicant_id == applicant).exists(),
        select(func.coalesce(HousingListing.rent_sek, RentalObject.rent_sek)).join(
            RentalObject, RentalObject.id == HousingListing.object_id).where(
            HousingListing.id == listing).scalar_subquery(),
    )
    return (select(HousingInterest, HousingApplicant, Person, *flags)
            .join(HousingApplicant, HousingApplicant.id == HousingInterest.applicant_id)
            .join(Person, Person.id == HousingApplicant.person_id)
            .where(HousingInterest.listing_id == listing,
                   HousingInterest.applicant_id.in_(bindparam("ids", expanding=True))))


def _assess(session: Session, listing: HousingListing, rows: list[_Row], *, today: date,
            since: datetime) -> list[Ranked]:
    """The customer assessment of the rows, in their order."""
    if not rows:
        return []
    tenants = [r.person.id for r in rows if r.agreements]
    earlier = disturbances_of(session, tenants, listing.landlord_id, since=since)
    too_soon = internal_move_too_soon(session, tenants, listing.landlord_id, today)
    rent = rows[0].rent
    guarantors = cases.guarantors_of(session, [r.applicant.id for r in rows if r.guarantors])
    references = cases.references_of(session, [r.applicant.id for r in rows if r.references])
    result = []
    for row in rows:
        interest, applicant, person = row.interest, row.applicant, row.person
        reasons = []
        age = None
        try:
            age = rules.age_on(rules.birth_date(person.personnummer or ""), today)
        except rules.InvalidPersonnummer:
            reasons.append("no_personnummer")
        if age is not None and age < rules.RENT_FROM_AGE:
            reasons.append("under_18")
        if row.blocked:
            reasons.append("blocked")
        if applicant.status != "active" or not rules.is_registered(applicant.renewed_on, today):
            reasons.append("lapsed")
        grounds, covering = [], None
        if rent is not None and applicant.yearly_income is not None:
            if rules.income_suffices(applicant.yearly_income, int(rent)):
                grounds.append("income")
            else:
                covering = cases.covering_guarantor(guarantors.get(applicant.id, []),
                                                    int(rent), today)
                if covering is not None:
                    grounds.append("guarantor")
                else:
                    reasons.append("income")
        latest = (references.get(applicant.id) or [None])[0]
        if latest is not None:
            if latest.answer == "approved":
                grounds.append("reference")
            else:
                reasons.append("reference_remarks")
        found = earlier.get(applicant.person_id, [])
        if found:
            reasons.append("disturbances")
        if applicant.person_id in too_soon and not row.excepted:
            reasons.append("internal_move_too_soon")
        result.append(Ranked(applicant, interest, current_points(applicant, today), age,
                             row.blocked, found, not reasons, reasons,
                             grounds, covering, latest))
    return result


def internal_move_too_soon(session: Session, person_ids: list[int], landlord_id: int,
                           today: date) -> set[int]:
    """The people with an agreement of the landlord in force today that began less than a year
    ago (an own tenant may move internally after one year at the earliest)."""
    if not person_ids:
        return set()
    rows = session.execute(
        select(AgreementParty.person_id, Agreement.starts_on)
        .join(Agreement, Agreement.id == AgreementParty.agreement_id)
        .where(AgreementParty.person_id.in_(person_ids), Agreement.landlord_id == landlord_id,
               Agreement.starts_on.is_not(None), Agreement.starts_on <= today,
               or_(Agreement.ends_on.is_(None), Agreement.ends_on >= today))).all()
    return {person for person, starts in rows if not rules.may_move_internally(starts, today)}


def excepted(session: Session, applicant: HousingApplicant) -> set[int]:
    """``{applicant.id}`` when staff recorded an exception to the one-year rule for them."""
    found = session.scalar(select(HousingMoveException.id).where(
        HousingMoveException.applicant_id == applicant.id).limit(1))
    return {applicant.id} if found is not None else set()


def record_move_exception(session: Session, applicant: HousingApplicant, *, reason: str,
                          staff_user_id: int) -> HousingMoveException:
    """Staff's exception to the one-year rule (family changes, changed finances …), audited."""
    row = HousingMoveException(applicant_id=applicant.id, reason=reason,
                               staff_user_id=staff_user_id)
    session.add(row)
    session.flush()
    audit.record(session, "housing.move_exception", subject=f"applicant:{applicant.id}",
                 user_id=staff_user_id, details={"exception_id": row.id})
    return row


def ranked(session: Session, listing: HousingListing, *, today: date, retention_days: int,
           now: datetime | None = None, limit: int | None = None) -> list[Ranked]:
    """The listing's interested applicants (the first ``limit`` of them in the order offers
    go out, or all), assessed: the approved first, then the others with their reasons."""
    now = now or utcnow()
    ids = list(islice(_order(session, listing, today, first_page=limit or 0), limit))
    result = _assess(session, listing, _rows(session, listing, ids, today), today=today,
                     since=now - timedelta(days=retention_days))
    return [r for r in result if r.approved] + [r for r in result if not r.approved]


def interest_count(session: Session, listing: HousingListing) -> int:
    return session.scalar(select(func.count()).select_from(HousingInterest).join(
        HousingApplicant, HousingApplicant.id == HousingInterest.applicant_id).where(
        HousingInterest.listing_id == listing.id, HousingInterest.withdrawn_at.is_(None),
        HousingApplicant.status == "active")) or 0


def offer_list(session: Session, listing: HousingListing, *, today: date, count: int,
               retention_days: int, now: datetime | None = None,
               skip: Iterable[int] = ()) -> list[Ranked]:
    """The first ``count`` approved applicants in the order offers go out (not those in
    ``skip``): the database sorts, and only as many rows are read and assessed as the offers
    need (batches of a few times ``count``)."""
    now = now or utcnow()
    skip = set(skip)
    since = now - timedelta(days=retention_days)
    order = (a for a in _order(session, listing, today) if a not in skip)
    found: list[Ranked] = []
    batch = max(4 * count, 16)
    try:
        while len(found) < count:
            ids = list(islice(order, batch))
            if not ids:
                break
            rows = _rows(session, listing, ids, today)
            for row in _assess(session, listing, rows, today=today, since=since):
                if row.approved and len(found) < count:
                    found.append(row)
            batch *= 4
    finally:
        order.close()
    return found


def offer_deadline(today: date, days: int, tz: ZoneInfo) -> datetime:
    """The end of the ``days``-th day from today, local time."""
    return datetime.combine(today + timedelta(days=days), time(23, 59, 59), tz).astimezone(UTC)


def make_offers(session: Session, listing: HousingListing, *, today: date, count: int,
                deadline: datetime, staff_user_id: int | None, retention_days: int,
                now: datetime | None = None, credit: CreditProvider | None = None) \
        -> list[HousingOffer]:
    """Offer the viewing to the first ``count`` approved applicants not yet offered whose
    credit check (``credit``; none given: not checked) finds no rent debt or major remarks.
    Every check is audited (with the consent the registration gave); one that fails is
    passed over for the next in order."""
    if not 1 <= count <= listing.max_applicants:
        raise QueueError("offer_count")
    passed = set(session.scalars(select(HousingOffer.applicant_id).where(
        HousingOffer.listing_id == listing.id)))
    place = len(passed)
    made = []
    while len(made) < count:
        rows = offer_list(session, listing, today=today, count=count - len(made),
                          retention_days=retention_days, now=now, skip=passed)
        if not rows:
            break
        for row in rows:
            passed.add(row.applicant.id)
            if credit is not None and not _credit_approved(session, credit, row.applicant,
                                                          staff_user_id):
                continue
            place += 1
            offer = HousingOffer(listing_id=listing.id, applicant_id=row.applicant.id,
                                 rank=place, points=0 if listing.bodirekt else row.points,
                                 deadline=deadline, offered_by_user_id=staff_user_id)
            session.add(offer)
            made.append(offer)
    if not made:
        raise QueueError("no_approved_applicants")
    listing.status = "closed"
    session.flush()
    audit.record(session, "housing.offers.made", subject=f"listing:{listing.id}",
                 user_id=staff_user_id, details={"offer_ids": [o.id for o in made]})
    return made


def _credit_approved(session: Session, credit: CreditProvider, applicant: HousingApplicant,
                     staff_user_id: int | None) -> bool:
    person = session.get(Person, applicant.person_id)
    result = credit.check(person.personnummer or "")
    audit.record(session, "housing.credit.checked", subject=f"applicant:{applicant.id}",
                 user_id=staff_user_id,
                 details={"consent": "registration", "approved": result.approved,
                          "rent_debt": result.rent_debt,
                          "major_remarks": result.major_remarks})
    return result.approved


def answer(session: Session, offer: HousingOffer, accepted: bool, *, now: datetime,
           tz: ZoneInfo, staff_user_id: int | None = None) -> None:
    if now > offer.deadline:
        raise QueueError("deadline_passed")
    if offer.answer is not None:
        raise QueueError("already_answered")
    offer.answer = "accepted" if accepted else "refused"
    offer.answered_at = now
    offer.answer_recorded_by_user_id = staff_user_id
    applicant = offer.applicant
    today = local_today(tz, now)
    renew(applicant, today)
    if not accepted:
        record_refusal(session, applicant, offer, today, missed=False)
        if offer.priority_group:
            _priority_refused(session, applicant.id, today)
    session.flush()
    audit.record(session, "housing.offer.answered", subject=f"offer:{offer.id}",
                 user_id=staff_user_id, details={"answer": offer.answer})


def settle_missed(session: Session, *, now: datetime, tz: ZoneInfo) -> int:
    """Offers past their deadline without an answer: each a refusal (on its deadline's day)."""
    missed = list(session.scalars(select(HousingOffer).where(
        HousingOffer.answer.is_(None), HousingOffer.deadline < now)))
    for offer in missed:
        offer.answer = "missed"
        day = local_today(tz, offer.deadline)
        record_refusal(session, offer.applicant, offer, day, missed=True)
        if offer.priority_group:
            _priority_refused(session, offer.applicant_id, day)
    session.flush()
    return len(missed)


def sign_contract(session: Session, offer: HousingOffer, *, avtalsnummer: str,
                  starts_on: date | None, staff_user_id: int | None) -> Agreement:
    """The chosen applicant's agreement in the shared model (tenant pages open on its start):
    among those who accepted, the one with the most points (a BoDirekt listing: the first
    interest) — the case officer picks from the ranked accepted offers. When several accepted,
    the contract is written after references: the chosen one's latest reference must be
    approved (``reference_required``)."""
    listing = offer.listing
    if offer.answer != "accepted":
        raise QueueError("not_accepted")
    if listing.status == "let":
        raise QueueError("already_let")
    accepted = session.scalar(select(func.count(HousingOffer.id)).where(
        HousingOffer.listing_id == listing.id, HousingOffer.answer == "accepted")) or 0
    if accepted > 1 and not cases.has_approved_reference(session, offer.applicant_id):
        raise QueueError("reference_required")  # several accepted: "after references"
    taken = session.scalar(select(Agreement.id).where(
        Agreement.landlord_id == listing.landlord_id, Agreement.avtalsnummer == avtalsnummer))
    if taken is not None:
        raise QueueError("avtalsnummer_taken")
    starts = listing.vacant_on if listing.bodirekt or starts_on is None else starts_on
    agreement = Agreement(landlord_id=listing.landlord_id, avtalsnummer=avtalsnummer,
                          starts_on=starts)
    agreement.objects.append(AgreementObject(object_id=listing.object_id))
    agreement.parties.append(AgreementParty(person_id=offer.applicant.person_id, position=1))
    session.add(agreement)
    person = session.get(Person, offer.applicant.person_id)
    if person is not None and person.landlord_id is None:
        person.landlord_id = listing.landlord_id
    session.flush()
    offer.agreement_id = agreement.id
    listing.status = "let"
    session.flush()
    audit.record(session, "housing.contract.signed", subject=f"offer:{offer.id}",
                 user_id=staff_user_id, details={"agreement_id": agreement.id,
                                                 "listing_id": listing.id})
    return agreement


# --- the nightly sweep ----------------------------------------------------------------------

def lapse_cutoff(today: date) -> date:
    """Renewed before this day → lapsed by ``today`` (the last registered day was
    yesterday or earlier): the smallest ``r`` with ``registered_until(r) >= today``."""
    candidate = rules.add_months(today, -rules.RENEWAL_MONTHS)
    while rules.registered_until(candidate - timedelta(days=1)) >= today:
        candidate -= timedelta(days=1)
    while rules.registered_until(candidate) < today:
        candidate += timedelta(days=1)
    return candidate


def remove_lapsed(session: Session, today: date) -> int:
    """Remove every applicant whose registration lapsed (one UPDATE; their points are lost:
    a new registration starts from zero)."""
    cutoff = lapse_cutoff(today)
    lapsed = select(HousingApplicant.id).where(HousingApplicant.status == "active",
                                               HousingApplicant.renewed_on < cutoff)
    session.execute(
        update(HousingInterest)
        .where(HousingInterest.withdrawn_at.is_(None), HousingInterest.applicant_id.in_(lapsed))
        .values(withdrawn_at=utcnow()).execution_options(synchronize_session=False))
    result = session.execute(
        update(HousingApplicant)
        .where(HousingApplicant.status == "active", HousingApplicant.renewed_on < cutoff)
        .values(status="removed", removed_on=today)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def due_reminders(session: Session, today: date, days_before: int):
    """Active applicants whose last registered day is ``days_before`` days on and who have
    not had this reminder for this period: renewed on any day r with
    ``registered_until(r) == today + days_before``."""
    last_day = today + timedelta(days=days_before)
    renewed = _renewals_ending(last_day)
    column = HousingApplicant.reminded_30_for if days_before >= 30 \
        else HousingApplicant.reminded_7_for
    return session.scalars(select(HousingApplicant).where(
        HousingApplicant.status == "active", HousingApplicant.renewed_on.in_(renewed),
        or_(column.is_(None), column != last_day)).order_by(HousingApplicant.id))


def _renewals_ending(last_day: date) -> list[date]:
    start = rules.add_months(last_day, -rules.RENEWAL_MONTHS) - timedelta(days=3)
    return [start + timedelta(days=i) for i in range(8)
            if rules.registered_until(start + timedelta(days=i)) == last_day]




# --- priority (förtur) ----------------------------------------------------------------------

def active_priority(session: Session, applicant_id: int) -> HousingPriority | None:
    return session.scalar(select(HousingPriority).where(
        HousingPriority.applicant_id == applicant_id, HousingPriority.ended_on.is_(None)))


def is_own_tenant(session: Session, person_id: int, landlord_id: int, today: date) -> bool:
    """Whether the person is a party to an agreement of the landlord in force today."""
    return session.scalar(select(Agreement.id).join(
        AgreementParty, AgreementParty.agreement_id == Agreement.id).where(
        AgreementParty.person_id == person_id, Agreement.landlord_id == landlord_id,
        or_(Agreement.starts_on.is_(None), Agreement.starts_on <= today),
        or_(Agreement.ends_on.is_(None), Agreement.ends_on >= today)).limit(1)) is not None


def decide_priority(session: Session, applicant: HousingApplicant, *, group: str, urgency: int,
                    reason: str, certificate: bool, today: date,
                    staff_user_id: int) -> HousingPriority:
    """Grant priority: medical only to the landlord's own tenants and with a certificate;
    one active priority per applicant (a new decision replaces it)."""
    if group not in PRIORITY_GROUPS:
        raise QueueError("invalid_choice")
    if group == "medical":
        if not certificate:
            raise QueueError("certificate_required")
        if not is_own_tenant(session, applicant.person_id, applicant.landlord_id, today):
            raise QueueError("medical_own_tenants")
    current = active_priority(session, applicant.id)
    if current is not None:
        current.ended_on = today
    priority = HousingPriority(applicant_id=applicant.id, priority_group=group, urgency=urgency,
                               reason=reason, certificate=certificate, decided_on=today,
                               decided_by_user_id=staff_user_id)
    session.add(priority)
    session.flush()
    audit.record(session, "housing.priority.decided", subject=f"applicant:{applicant.id}",
                 user_id=staff_user_id, details={"priority_id": priority.id, "group": group,
                                                 "urgency": urgency})
    return priority


def _priority_refused(session: Session, applicant_id: int, day: date) -> None:
    """Priority ends after two refused offers."""
    priority = active_priority(session, applicant_id)
    if priority is None:
        return
    priority.refused_offers += 1
    if priority.refused_offers >= rules.PRIORITY_ENDS_AFTER_REFUSALS:
        priority.ended_on = day
        audit.record(session, "housing.priority.ended", subject=f"applicant:{applicant_id}",
                     details={"priority_id": priority.id, "reason": "two_refusals"})


def priorities(session: Session, landlord_id: int) -> list[HousingPriority]:
    """The active priorities, by group, most urgent first (no queue within a group)."""
    return list(session.scalars(
        select(HousingPriority).join(
            HousingApplicant, HousingApplicant.id == HousingPriority.applicant_id)
        .where(HousingApplicant.landlord_id == landlord_id, HousingApplicant.status == "active",
               HousingPriority.ended_on.is_(None))
        .order_by(HousingPriority.priority_group, HousingPriority.urgency.desc(),
                  HousingPriority.decided_on, HousingPriority.id)))


@dataclass
class QuotaFigures:
    window: tuple[date, date]
    all_lets: int  # vacancies let through the queue in the window
    priority_lets: int  # of them to priority (social included)
    social_contracts: int  # social contracts in force today
    stock: int  # the landlord's flats

    @property
    def share_allows(self) -> bool:
        return rules.priority_share_allows(self.priority_lets, self.all_lets)

    @property
    def social_allows(self) -> bool:
        return rules.social_stock_allows(self.social_contracts, self.stock)


def quota_figures(session: Session, landlord_id: int, today: date) -> QuotaFigures:
    first, last = rules.priority_window(today)
    lets = (select(func.count(HousingOffer.id))
            .join(Agreement, Agreement.id == HousingOffer.agreement_id)
            .join(HousingListing, HousingListing.id == HousingOffer.listing_id)
            .where(HousingListing.landlord_id == landlord_id,
                   Agreement.starts_on >= first, Agreement.starts_on <= last))
    social = (select(func.count(HousingOffer.id))
              .join(Agreement, Agreement.id == HousingOffer.agreement_id)
              .join(HousingListing, HousingListing.id == HousingOffer.listing_id)
              .where(HousingListing.landlord_id == landlord_id,
                     HousingOffer.priority_group == "social",
                     or_(Agreement.starts_on.is_(None), Agreement.starts_on <= today),
                     or_(Agreement.ends_on.is_(None), Agreement.ends_on >= today)))
    stock = select(func.count(RentalObject.id)).where(
        RentalObject.landlord_id == landlord_id, RentalObject.object_type == "lägenhet",
        RentalObject.retired_at.is_(None))
    return QuotaFigures(
        window=(first, last), all_lets=session.scalar(lets) or 0,
        priority_lets=session.scalar(lets.where(HousingOffer.priority_group.is_not(None))) or 0,
        social_contracts=session.scalar(social) or 0, stock=session.scalar(stock) or 0)


def offer_priority(session: Session, listing: HousingListing, priority: HousingPriority, *,
                   today: date, deadline: datetime, staff_user_id: int | None) -> HousingOffer:
    """Offer the listing to a priority applicant, if the quotas allow it (else QueueError
    saying which cap: ``priority_share`` or ``social_stock``)."""
    applicant = session.get(HousingApplicant, priority.applicant_id)
    if listing.bodirekt:
        raise QueueError("bodirekt_no_priority")
    if priority.ended_on is not None or applicant.landlord_id != listing.landlord_id:
        raise QueueError("priority_ended")
    if listing.status not in ("published", "closed"):
        raise QueueError("listing_closed")
    if session.scalar(select(HousingOffer.id).where(
            HousingOffer.listing_id == listing.id,
            HousingOffer.applicant_id == applicant.id)) is not None:
        raise QueueError("already_offered")
    figures = quota_figures(session, listing.landlord_id, today)
    details = {"priority_id": priority.id, "group": priority.priority_group,
               "all_lets": figures.all_lets, "priority_lets": figures.priority_lets,
               "social_contracts": figures.social_contracts, "stock": figures.stock}
    refusal = None
    if not figures.share_allows:
        refusal = "priority_share"
    elif priority.priority_group == "social" and not figures.social_allows:
        refusal = "social_stock"
    if refusal:
        audit.record(session, "housing.priority.refused", subject=f"listing:{listing.id}",
                     user_id=staff_user_id, details={**details, "cap": refusal})
        raise QueueError(refusal)
    offer = HousingOffer(listing_id=listing.id, applicant_id=applicant.id, rank=0,
                         points=current_points(applicant, today),
                         priority_group=priority.priority_group, deadline=deadline,
                         offered_by_user_id=staff_user_id)
    session.add(offer)
    listing.status = "closed"
    session.flush()
    audit.record(session, "housing.priority.offered", subject=f"listing:{listing.id}",
                 user_id=staff_user_id, details={**details, "offer_id": offer.id})
    return offer
