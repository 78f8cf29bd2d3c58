"""Mina sidor's domain functions: what a tenant may see and do, on the register's shared rows.

Plain functions: session and values in, values (or ``PortalError``) out. They flush, never
commit. Every lookup by id goes through the tenant (``person_id``): another tenant's row is
"not found", never "forbidden", so that ids cannot be probed.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from dispatch.core.audit import record
from dispatch.models import (
    Agreement,
    AgreementObject,
    AgreementParty,
    Entrance,
    Landlord,
    Person,
    Property,
    RentalObject,
    utcnow,
)
from dispatch.models.portal import (
    FAULT_STATUSES,
    FaultEvent,
    FaultPhoto,
    FaultReport,
    Invoice,
    LaundryBooking,
    LaundryPass,
    LaundryRoom,
    Payment,
    PortalMessage,
)
from dispatch.portal.rules import notice_end_date


class PortalError(ValueError):
    """A request the portal's rules refuse; ``code`` is stable, ``field`` the form field."""

    def __init__(self, code: str, field: str | None = None):
        super().__init__(code)
        self.code, self.field = code, field


def local_today() -> date:
    return utcnow().astimezone(ZoneInfo(current_app.config["DISPATCH_TZ"])).date()


# -- agreements -----------------------------------------------------------------------------

@dataclass(frozen=True)
class TenancyView:
    """One of the tenant's agreements as the first page shows it."""

    agreement: Agreement
    position: int  # the tenant's own position on it: 1 sees invoices and rent debt
    first_tenant: Person | None
    objects: list[RentalObject]


def tenancies(session: Session, person_id: int, *, on: date) -> list[TenancyView]:
    """The person's agreements in force on ``on`` (or signed and not yet started), each with
    its tenant 1 and its objects still on it; newest first."""
    rows = session.execute(
        select(Agreement, AgreementParty.position)
        .join(AgreementParty, AgreementParty.agreement_id == Agreement.id)
        .where(AgreementParty.person_id == person_id)
        .where((Agreement.ends_on.is_(None)) | (Agreement.ends_on >= on))
        .options(selectinload(Agreement.parties).selectinload(AgreementParty.person),
                 selectinload(Agreement.objects).selectinload(AgreementObject.rental_object)
                 .selectinload(RentalObject.entrance).selectinload(Entrance.real_property))
        .order_by(Agreement.starts_on.desc().nulls_last(), Agreement.id.desc())
    ).all()
    views = []
    for agreement, position in rows:
        first = next((p.person for p in agreement.parties if p.position == 1), None)
        objects = [link.rental_object for link in agreement.objects
                   if link.ends_on is None or link.ends_on >= on]
        objects.sort(key=lambda o: (o.object_type != "lägenhet", o.objektsnummer))
        views.append(TenancyView(agreement, position, first, objects))
    return views


@dataclass(frozen=True)
class HomeObject:
    """An object as the first page lists it (plain values, read without the ORM's objects)."""

    objektsnummer: str
    object_type: str
    street_address: str
    postnummer: str
    ort: str
    lagenhetsnummer: str | None
    rooms: object
    area_m2: object
    designation: str | None
    country: str = "SE"  # the landlord's: how the postcode is printed


@dataclass
class HomeCard:
    """One agreement on the first page."""

    id: int
    avtalsnummer: str | None
    starts_on: date | None
    ends_on: date | None
    notice_given_on: date | None
    position: int
    in_force: bool
    tenants: list[str] = field(default_factory=list)
    first_kundnummer: str | None = None
    objects: list[HomeObject] = field(default_factory=list)
    debt_ore: int | None = None  # tenant 1 only


# The first page's reads, built once (bound per request): building and compiling them was
# most of the page's time, the SQL itself a few hundredths of a millisecond.
_ON, _IDS = bindparam("on"), bindparam("ids", expanding=True)
_HOME_AGREEMENTS = (
    select(Agreement.id, Agreement.avtalsnummer, Agreement.starts_on, Agreement.ends_on,
           Agreement.notice_given_on, AgreementParty.position)
    .join(AgreementParty, AgreementParty.agreement_id == Agreement.id)
    .where(AgreementParty.person_id == bindparam("person_id"))
    .where((Agreement.ends_on.is_(None)) | (Agreement.ends_on >= _ON))
    .order_by(Agreement.starts_on.desc().nulls_last(), Agreement.id.desc()))
_HOME_OBJECTS = (
    select(AgreementObject.agreement_id, RentalObject.objektsnummer, RentalObject.object_type,
           Entrance.street, Entrance.street_number, Entrance.street_letter,
           Entrance.postnummer, Entrance.ort, RentalObject.lagenhetsnummer, RentalObject.rooms,
           RentalObject.area_m2, Property.designation, Landlord.country)
    .join(RentalObject, RentalObject.id == AgreementObject.object_id)
    .join(Entrance, Entrance.id == RentalObject.entrance_id)
    .join(Landlord, Landlord.id == Entrance.landlord_id)
    .outerjoin(Property, Property.id == Entrance.property_id)
    .where(AgreementObject.agreement_id.in_(_IDS))
    .where((AgreementObject.ends_on.is_(None)) | (AgreementObject.ends_on >= _ON))
    .order_by(RentalObject.object_type != "lägenhet", RentalObject.objektsnummer))
_HOME_TENANTS = (
    select(AgreementParty.agreement_id, AgreementParty.position, Person.name,
           Person.kundnummer)
    .join(Person, Person.id == AgreementParty.person_id)
    .where(AgreementParty.agreement_id.in_(_IDS))
    .order_by(AgreementParty.agreement_id, AgreementParty.position))
_HOME_DUE = (select(Invoice.agreement_id, func.sum(Invoice.amount_ore))
             .where(Invoice.agreement_id.in_(_IDS), Invoice.due_on < _ON)
             .group_by(Invoice.agreement_id))
_HOME_PAID = (select(Payment.agreement_id, func.sum(Payment.amount_ore))
              .where(Payment.agreement_id.in_(_IDS)).group_by(Payment.agreement_id))


def first_page(session: Session, person_id: int, *, on: date) -> list[HomeCard]:
    """The first page's agreements in five plain reads (agreements; their objects with the
    address and property; their tenants; tenant 1's invoices due and payments, summed),
    whatever the number of invoices: the page is the portal's busiest."""
    run = session.connection().execute
    cards = {r.id: HomeCard(r.id, r.avtalsnummer, r.starts_on, r.ends_on, r.notice_given_on,
                            r.position, (r.starts_on is None or r.starts_on <= on))
             for r in run(_HOME_AGREEMENTS, {"person_id": person_id, "on": on})}
    if not cards:
        return []
    ids = list(cards)
    for r in run(_HOME_OBJECTS, {"ids": ids, "on": on}):
        number = "" if r.street_number is None else f" {r.street_number}"
        cards[r.agreement_id].objects.append(HomeObject(
            r.objektsnummer, r.object_type, f"{r.street}{number}{r.street_letter}",
            r.postnummer, r.ort, r.lagenhetsnummer, r.rooms, r.area_m2, r.designation,
            r.country))
    for r in run(_HOME_TENANTS, {"ids": ids}):
        cards[r.agreement_id].tenants.append(r.name)
        if r.position == 1:
            cards[r.agreement_id].first_kundnummer = r.kundnummer
    mine = [card.id for card in cards.values() if card.position == 1]
    if mine:
        due = dict(run(_HOME_DUE, {"ids": mine, "on": on}).all())
        paid = dict(run(_HOME_PAID, {"ids": mine}).all())
        for agreement_id in mine:
            cards[agreement_id].debt_ore = max(0, int(due.get(agreement_id) or 0)
                                               - int(paid.get(agreement_id) or 0))
    return list(cards.values())


def agreement_of(session: Session, person_id: int, agreement_id: int, *,
                 first_tenant: bool = False) -> Agreement:
    """The tenant's agreement ``agreement_id`` (with ``first_tenant``: only as tenant 1)."""
    query = (select(Agreement).join(AgreementParty)
             .where(Agreement.id == agreement_id, AgreementParty.person_id == person_id))
    if first_tenant:
        query = query.where(AgreementParty.position == 1)
    agreement = session.scalars(query).first()
    if agreement is None:
        raise PortalError("not_found")
    return agreement


def objects_of(session: Session, person_id: int, *, on: date) -> list[RentalObject]:
    """The objects on the tenant's agreements in force (for fault reports and complaints)."""
    return [obj for view in tenancies(session, person_id, on=on)
            if view.agreement.in_force(on) for obj in view.objects]


def object_of(session: Session, person_id: int, object_id: int, *, on: date) -> RentalObject:
    for obj in objects_of(session, person_id, on=on):
        if obj.id == object_id:
            return obj
    raise PortalError("unknown_object", "object_id")


def give_notice(session: Session, person_id: int, agreement_id: int, *, on: date) -> Agreement:
    """Record the tenant's written notice on ``on``: the end date by hyreslagen 12 kap. 4 §."""
    agreement = agreement_of(session, person_id, agreement_id)
    if not agreement.in_force(on):
        raise PortalError("not_in_force")
    if agreement.notice_given_on is not None:
        raise PortalError("notice_already_given")
    ends = notice_end_date(on)
    agreement.notice_given_on = on
    if agreement.ends_on is None or agreement.ends_on > ends:
        agreement.ends_on = ends
    record(session, "portal.notice", subject=f"agreement:{agreement.id}",
           details={"person_id": person_id, "given_on": on.isoformat(),
                    "ends_on": ends.isoformat()})
    # The landlord's staff see it among the messages (body: the end date, ISO 8601).
    session.add(PortalMessage(landlord_id=agreement.landlord_id, person_id=person_id,
                              kind="notice", subject=agreement.avtalsnummer or "",
                              body=ends.isoformat()))
    session.flush()
    return agreement


# -- invoices -------------------------------------------------------------------------------

@dataclass(frozen=True)
class InvoiceLine:
    invoice: Invoice
    paid_ore: int

    @property
    def settled(self) -> bool:
        return self.paid_ore >= self.invoice.amount_ore

    @property
    def left_ore(self) -> int:
        """What is left to pay on the invoice (0 when settled)."""
        return max(0, self.invoice.amount_ore - self.paid_ore)

    @property
    def partly_paid(self) -> bool:
        return 0 < self.paid_ore < self.invoice.amount_ore


def invoices_of(session: Session, agreement: Agreement, *, limit: int = 24) -> list[InvoiceLine]:
    invoices = session.scalars(
        select(Invoice).where(Invoice.agreement_id == agreement.id)
        .order_by(Invoice.due_on.desc(), Invoice.id.desc()).limit(limit)).all()
    paid = dict(session.execute(
        select(Payment.invoice_id, func.sum(Payment.amount_ore))
        .where(Payment.invoice_id.in_([i.id for i in invoices]))
        .group_by(Payment.invoice_id)).all()) if invoices else {}
    return [InvoiceLine(i, paid.get(i.id) or 0) for i in invoices]


def payments_of(session: Session, agreement: Agreement, *, limit: int = 24) -> list[Payment]:
    return list(session.scalars(
        select(Payment).where(Payment.agreement_id == agreement.id)
        .order_by(Payment.paid_on.desc(), Payment.id.desc()).limit(limit)))


def rent_debt_ore(session: Session, agreement: Agreement, *, on: date) -> int:
    """What falls due up to ``on`` less everything paid: the rent debt (0 when none)."""
    due = session.scalar(select(func.coalesce(func.sum(Invoice.amount_ore), 0))
                         .where(Invoice.agreement_id == agreement.id, Invoice.due_on < on))
    paid = session.scalar(select(func.coalesce(func.sum(Payment.amount_ore), 0))
                          .where(Payment.agreement_id == agreement.id))
    return max(0, int(due) - int(paid))


def invoice_of(session: Session, person_id: int, invoice_id: int) -> Invoice:
    """The invoice ``invoice_id`` if the person is tenant 1 on its agreement."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise PortalError("not_found")
    agreement_of(session, person_id, invoice.agreement_id, first_tenant=True)
    return invoice


# -- contact details ------------------------------------------------------------------------

# -- fault reports --------------------------------------------------------------------------

PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}
PHOTO_MAX_SIDE = 2000
PHOTO_MAX_PIXELS = 50_000_000  # a 50-megapixel camera's photo still goes


def clean_photo(data: bytes, *, max_bytes: int) -> tuple[bytes, int, int]:
    """A photo as we keep it: checked by its content (JPEG, PNG or WebP, not its name), turned
    upright, at most 2000 px a side, re-encoded as JPEG without EXIF (no position, no camera)."""
    if len(data) > max_bytes:
        raise PortalError("photo_too_large", "photos")
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its pixel limit; here that is a refusal too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
        with probe:
            kind, (width, height) = probe.format, probe.size
            probe.verify()
        if kind not in PHOTO_FORMATS:
            raise PortalError("photo_type", "photos")
        if width * height > PHOTO_MAX_PIXELS:  # a small file that would unpack to gigabytes
            raise PortalError("photo_too_large", "photos")
        with Image.open(io.BytesIO(data)) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=85)
            return out.getvalue(), image.width, image.height
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise PortalError("photo_too_large", "photos") from None
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise PortalError("photo_type", "photos") from None


def report_fault(session: Session, person_id: int, *, object_id: int, category: str, room: str,
                 description: str, master_key_allowed: bool, photos: list[bytes],
                 on: date) -> FaultReport:
    obj = object_of(session, person_id, object_id, on=on)
    fault = FaultReport(landlord_id=obj.landlord_id, person_id=person_id, object_id=obj.id,
                        category=category, room=room, description=description.strip(),
                        master_key_allowed=master_key_allowed, status="received")
    fault.events.append(FaultEvent(status="received"))
    for data in photos:
        cleaned, width, height = clean_photo(
            data, max_bytes=current_app.config["PORTAL_PHOTO_MAX_BYTES"])
        fault.photos.append(FaultPhoto(data=cleaned, width=width, height=height))
    session.add(fault)
    session.flush()
    return fault


def fault_of(session: Session, person_id: int, fault_id: int) -> FaultReport:
    fault = session.get(FaultReport, fault_id)
    if fault is None or fault.person_id != person_id:
        raise PortalError("not_found")
    return fault


def set_fault_status(session: Session, fault: FaultReport, status: str, *, user_id: int | None,
                     note: str = "") -> bool:
    """Move the report on the timeline; False when it already has that status."""
    if status not in FAULT_STATUSES:
        raise PortalError("invalid_status", "status")
    if status == fault.status:
        return False
    fault.status = status
    fault.events.append(FaultEvent(status=status, user_id=user_id, note=note.strip(),
                                   at=utcnow()))
    session.flush()
    return True


def messages_of(session: Session, person_id: int, *, fault_id: int | None = None,
                limit: int = 100) -> list[PortalMessage]:
    query = select(PortalMessage).where(PortalMessage.person_id == person_id)
    if fault_id is not None:
        query = query.where(PortalMessage.fault_id == fault_id)
    return list(session.scalars(query.order_by(PortalMessage.created_at.desc(),
                                               PortalMessage.id.desc()).limit(limit)))


# -- laundry --------------------------------------------------------------------------------

@dataclass(frozen=True)
class FreePass:
    laundry_pass: LaundryPass
    day: date

    @property
    def starts(self) -> datetime:
        return datetime.combine(self.day, self.laundry_pass.starts_at)


def property_ids_of(session: Session, person_id: int, *, on: date) -> set[int]:
    return {obj.entrance.property_id for obj in objects_of(session, person_id, on=on)
            if obj.entrance.property_id is not None}


def rooms_of(session: Session, person_id: int, *, on: date) -> list[LaundryRoom]:
    ids = property_ids_of(session, person_id, on=on)
    if not ids:
        return []
    return list(session.scalars(select(LaundryRoom).where(LaundryRoom.property_id.in_(ids))
                                .options(selectinload(LaundryRoom.passes))
                                .order_by(LaundryRoom.name, LaundryRoom.id)))


def free_passes(session: Session, person_id: int, *, now: datetime, days: int,
                limit: int = 30) -> list[FreePass]:
    """The next free passes of the tenant's laundry rooms from ``now`` (local wall time)."""
    rooms = rooms_of(session, person_id, on=now.date())
    passes = [p for room in rooms for p in room.passes]
    if not passes:
        return []
    last = now.date() + timedelta(days=days)
    taken = set(session.execute(
        select(LaundryBooking.pass_id, LaundryBooking.day)
        .where(LaundryBooking.pass_id.in_([p.id for p in passes]),
               LaundryBooking.day >= now.date(), LaundryBooking.day <= last)).all())
    free = []
    day = now.date()
    while day <= last and len(free) < limit:
        for p in sorted(passes, key=lambda p: (p.starts_at, p.room_id)):
            if (p.id, day) in taken or datetime.combine(day, p.starts_at) <= now:
                continue
            free.append(FreePass(p, day))
        day += timedelta(days=1)
    return free[:limit]


def bookings_of(session: Session, person_id: int, *, from_day: date) -> list[LaundryBooking]:
    return list(session.scalars(
        select(LaundryBooking).where(LaundryBooking.person_id == person_id,
                                     LaundryBooking.day >= from_day)
        .options(selectinload(LaundryBooking.laundry_pass).selectinload(LaundryPass.room))
        .order_by(LaundryBooking.day, LaundryBooking.id)))


def book_pass(session: Session, person_id: int, pass_id: int, day: date, *, now: datetime,
              max_future: int, days: int) -> LaundryBooking:
    """Book pass ``pass_id`` on ``day`` for the tenant. Refused: a room not of the tenant's
    property, a pass already begun or too far ahead, more than ``max_future`` bookings, a pass
    someone else has (the unique constraint decides between simultaneous requests)."""
    laundry_pass = session.get(LaundryPass, pass_id)
    if laundry_pass is None or laundry_pass.room.property_id not in property_ids_of(
            session, person_id, on=now.date()):
        raise PortalError("not_found")
    if datetime.combine(day, laundry_pass.starts_at) <= now:
        raise PortalError("pass_past")
    if day > now.date() + timedelta(days=days):
        raise PortalError("pass_too_far")
    # One request at a time per tenant for the limit's count (PostgreSQL: the person's row
    # locked until commit; SQLite has a single writer anyway).
    session.execute(select(Person.id).where(Person.id == person_id).with_for_update())
    upcoming = session.scalar(
        select(func.count()).select_from(LaundryBooking).join(LaundryPass)
        .where(LaundryBooking.person_id == person_id, LaundryBooking.day >= now.date())
        .where((LaundryBooking.day > now.date()) | (LaundryPass.ends_at > now.time())))
    if upcoming >= max_future:
        raise PortalError("too_many_bookings")
    booking = LaundryBooking(pass_id=pass_id, day=day, person_id=person_id)
    try:
        with session.begin_nested():
            session.add(booking)
            session.flush()
    except IntegrityError:
        raise PortalError("pass_taken") from None
    return booking


def cancel_booking(session: Session, person_id: int, booking_id: int, *, now: datetime) -> None:
    booking = session.get(LaundryBooking, booking_id)
    if booking is None or booking.person_id != person_id:
        raise PortalError("not_found")
    if datetime.combine(booking.day, booking.laundry_pass.starts_at) <= now:
        raise PortalError("pass_past")
    session.delete(booking)
    session.flush()


def staff_landlord_ids(session: Session, user) -> list[int]:
    """The landlords a staff user works for: a landlord contact's own; an admin's: all."""
    if user.role == "admin":
        return list(session.scalars(select(Landlord.id).order_by(Landlord.name)))
    return [user.landlord_id] if user.landlord_id else []


def pass_time(text: str) -> time:
    return time.fromisoformat(text)
