"""The applicant's pages under ``/bostad``: the queue's first page (points, renewal, blocks),
registration of the logged-in person, wishes and household, open listings and interest, offers
and their answers, withdrawing an interest. Who is logged in is the portal's session; every id
in a URL is looked up through the applicant (another applicant's offer answers 404). Every
log-in renews the registration (``housing.accounts`` hooks into the tenant log-in), and so does
every application. Joining online (non-tenants too) is ``housing.join``."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_date, format_time, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dispatch.auth import tenants
from dispatch.core.extensions import db
from dispatch.core.phones import normalise_phone
from dispatch.housing import labels, service
from dispatch.housing import points as rules
from dispatch.housing.blueprint import bp
from dispatch.models import Entrance, Landlord, Person, RentalObject, utcnow
from dispatch.models.housing import (
    INCOME_KINDS,
    HousingApplicant,
    HousingInterest,
    HousingListing,
    HousingOffer,
)
from dispatch.portal.invoices import postal_address
from dispatch.portal.session import current_person_id, tenant_required


def tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["DISPATCH_TZ"])


def today() -> date:
    return service.local_today(tz())


def me() -> Person:
    person = db.session.get(Person, current_person_id())
    if person is None:
        abort(404)
    return person


def queue_landlord() -> Landlord:
    """Whose queue these pages are: the landlord ``HOUSING_LANDLORD`` names (its code), or the
    only landlord there is."""
    code = current_app.config.get("HOUSING_LANDLORD")
    if code:
        landlord = db.session.scalar(select(Landlord).where(Landlord.code == code))
    else:
        found = list(db.session.scalars(select(Landlord).limit(2)))
        landlord = found[0] if len(found) == 1 else None
    if landlord is None:
        abort(404)
    return landlord


def my_applicant() -> HousingApplicant | None:
    return service.applicant_of(db.session, queue_landlord().id, current_person_id())


def applicant_required() -> HousingApplicant:
    applicant = my_applicant()
    if applicant is None or not rules.is_registered(applicant.renewed_on, today()):
        abort(404)
    return applicant


@bp.context_processor
def _words() -> dict:
    return {"income_kind_names": labels.INCOME_KIND_NAMES, "error_names": labels.ERRORS,
            "answer_names": labels.ANSWER_NAMES, "reason_names": labels.REASON_NAMES,
            "listing_status_names": labels.LISTING_STATUS_NAMES,
            "priority_group_names": labels.PRIORITY_GROUP_NAMES,
            "ground_names": labels.GROUND_NAMES,
            "reference_answer_names": labels.REFERENCE_ANSWER_NAMES}


@bp.app_template_filter("housing_day")
def _day(value) -> str:
    return "" if value is None else format_date(value, format="long")


@bp.app_template_filter("housing_address")
def _address(entrance: Entrance) -> str:
    """``Götgatan 12B, 116 46 Stockholm``: the postcode as on the portal and the invoices."""
    landlord = db.session.get(Landlord, entrance.landlord_id)
    return postal_address(entrance, landlord.country if landlord else None)


@bp.app_template_filter("housing_time")
def _time(value) -> str:
    """A moment as "3 dec. 2026 22:49" (the month in words, a 24-hour clock, in every
    language: Babel's English short form was "12/3/26, 10:49 PM")."""
    if value is None:
        return ""
    return f"{format_date(value, format='medium')} {format_time(value, format='HH:mm')}"


def open_listings():
    now = utcnow()
    return list(db.session.scalars(
        select(HousingListing)
        .where(HousingListing.landlord_id == queue_landlord().id,
               HousingListing.status == "published", HousingListing.published_from <= now,
               HousingListing.published_until > now)
        .options(selectinload(HousingListing.rental_object).selectinload(
            RentalObject.entrance).selectinload(Entrance.real_property))
        .order_by(HousingListing.published_until, HousingListing.id)))


def points_text(value: int) -> str:
    return ngettext("%(num)d point", "%(num)d points", value)


# -- the first page and registration ---------------------------------------------------------

@bp.get("/")
def index():
    person_id = current_person_id()
    applicant = my_applicant() if person_id else None
    listings = open_listings()
    if applicant is None:
        return render_template("housing/index.html", applicant=None, logged_in=bool(person_id),
                               listings=listings)
    day = today()
    registered = rules.is_registered(applicant.renewed_on, day)
    block = service.blocked_on(db.session, applicant.id, day)
    offers = db.session.scalar(select(HousingOffer.id).where(
        HousingOffer.applicant_id == applicant.id, HousingOffer.answer.is_(None)).limit(1))
    return render_template(
        "housing/index.html", applicant=applicant, logged_in=True, listings=listings,
        registered=registered, points=points_text(service.current_points(applicant, day)),
        until=rules.registered_until(applicant.renewed_on), block=block,
        open_offer=offers is not None)


@bp.post("/register")
@tenant_required
def register():
    person = me()
    try:
        service.register(db.session, person, queue_landlord().id, today(),
                         locale=session.get("lang"))
    except service.QueueError as exc:
        flash(labels.error(exc.code), "error")
        return redirect(url_for("housing.index"), 303)
    flash(_("You are registered in the housing queue. Your points count from today."), "info")
    return redirect(url_for("housing.wishes"), 303)


# -- wishes ----------------------------------------------------------------------------------

WISH_NUMBERS = {"rooms_min": (1, 10), "max_rent": (0, 100_000), "lowest_floor": (-5, 50),
                "highest_floor": (-5, 50), "adults": (1, 10), "children": (0, 20),
                "yearly_income": (0, 100_000_000)}

# Spaces between digits group them ("300 000", also with a no-break or thin space as phones
# and copied figures have): they are dropped, anything else must be a whole number.
DIGIT_GROUPS = re.compile(r"(?<=\d)\s+(?=\d)")


def wishes_form(applicant: HousingApplicant, person: Person) -> dict:
    form = {name: "" if getattr(applicant, name) is None else str(getattr(applicant, name))
            for name in WISH_NUMBERS}
    form.update(areas=", ".join(applicant.areas or []), name=person.name,
                email=person.email or "", phone=person.phone or "",
                needs_lift="on" if applicant.needs_lift else "",
                subscribes="on" if applicant.subscribes else "")
    return form


def read_wishes(form: dict, errors: dict, *, kinds: list[str]) -> dict:
    """The wishes' values from the form; what is wrong goes into ``errors`` by field (a code,
    or the range error's own words)."""
    values: dict = {}
    for name, (low, high) in WISH_NUMBERS.items():
        raw = DIGIT_GROUPS.sub("", (form.get(name) or "").strip())
        if not raw:
            values[name] = None if name not in ("adults", "children") else (
                1 if name == "adults" else 0)
            continue
        try:
            number = int(raw)
        except ValueError:
            errors[name] = "not_a_number"
            continue
        if not low <= number <= high:
            errors[name] = labels.out_of_range(low, high)
        values[name] = number
    lowest, highest = values.get("lowest_floor"), values.get("highest_floor")
    if lowest is not None and highest is not None and highest < lowest \
            and "lowest_floor" not in errors:
        errors.setdefault("highest_floor", "floors_reversed")
    areas = [a.strip() for a in (form.get("areas") or "").split(",") if a.strip()]
    if len(", ".join(areas)) > 500:
        errors["areas"] = "too_long"
    values["areas"] = areas
    if any(kind not in INCOME_KINDS for kind in kinds):
        errors["income_kinds"] = "invalid_choice"
    values["income_kinds"] = [k for k in INCOME_KINDS if k in kinds]
    values["needs_lift"] = form.get("needs_lift") == "on"
    values["subscribes"] = form.get("subscribes") == "on"
    return values


def is_email(value: str) -> bool:
    """The portal's rule for an e-mail address (``tenants.EMAIL_RE``): ``per@`` is not one."""
    return bool(tenants.EMAIL_RE.match(value)) and len(value) <= 254


@bp.route("/wishes", methods=["GET", "POST"])
@tenant_required
def wishes():
    applicant = applicant_required()
    person = me()
    errors: dict = {}
    if request.method == "GET":
        return render_template("housing/wishes.html", form=wishes_form(applicant, person),
                               kinds=applicant.income_kinds or [], errors=errors)
    form = request.form.to_dict()
    kinds = request.form.getlist("income_kinds")
    values = read_wishes(form, errors, kinds=kinds)
    name = (form.get("name") or "").strip()
    if not name:
        errors["name"] = "required"
    elif len(name) > 200:
        errors["name"] = "too_long"
    email = (form.get("email") or "").strip()
    if email and not is_email(email):
        errors["email"] = "bad_email"
    phone_raw = (form.get("phone") or "").strip()
    phone = normalise_phone(phone_raw, "SE") if phone_raw else None
    if phone_raw and phone is None:
        errors["phone"] = "bad_phone"
    if errors:
        return render_template("housing/wishes.html", form=form, kinds=kinds,
                               errors=errors), 400
    for key, value in values.items():
        setattr(applicant, key, value)
    person.name, person.email, person.phone = name, email or None, phone
    service.renew(applicant, today())
    flash(_("Your wishes are saved."), "info")
    return redirect(url_for("housing.wishes"), 303)


# -- listings and interest -------------------------------------------------------------------

@bp.get("/listings")
def listings():
    applicant = my_applicant() if current_person_id() else None
    mine, withdrawn = set(), set()
    if applicant is not None:
        for listing_id, withdrawn_at in db.session.execute(
                select(HousingInterest.listing_id, HousingInterest.withdrawn_at).where(
                    HousingInterest.applicant_id == applicant.id)):
            (mine if withdrawn_at is None else withdrawn).add(listing_id)
    return render_template("housing/listings.html", listings=open_listings(), mine=mine,
                           withdrawn=withdrawn, applicant=applicant,
                           logged_in=current_person_id() is not None)


@bp.get("/listings/<int:listing_id>")
def listing(listing_id: int):
    """One listing (the subscription mail links here): its facts, and interest for a
    registered applicant while it is open."""
    found = db.session.get(HousingListing, listing_id)
    if found is None or found.landlord_id != queue_landlord().id \
            or found.published_from > utcnow():
        abort(404)
    applicant = my_applicant() if current_person_id() else None
    mine, withdrawn = set(), set()
    if applicant is not None:
        withdrawn_at = db.session.execute(select(HousingInterest.withdrawn_at).where(
            HousingInterest.applicant_id == applicant.id,
            HousingInterest.listing_id == found.id)).first()
        if withdrawn_at is not None:
            (mine if withdrawn_at[0] is None else withdrawn).add(found.id)
    return render_template("housing/listing.html", listing=found, mine=mine,
                           withdrawn=withdrawn, applicant=applicant,
                           open=service.is_open(found, utcnow()),
                           logged_in=current_person_id() is not None)


def _back(listing_id: int):
    """Where an interest form sends its user back: the listing's own page when it came from
    there, else the list."""
    if request.form.get("back") == "listing":
        return redirect(url_for("housing.listing", listing_id=listing_id), 303)
    return redirect(url_for("housing.listings"), 303)


@bp.post("/listings/<int:listing_id>/interest")
@tenant_required
def interest(listing_id: int):
    applicant = applicant_required()
    listing = db.session.get(HousingListing, listing_id)
    if listing is None or listing.landlord_id != applicant.landlord_id:
        abort(404)
    try:
        service.register_interest(db.session, applicant, listing, now=utcnow(), tz=tz())
    except service.QueueError as exc:
        flash(labels.error(exc.code), "error")
        return _back(listing_id)
    flash(_("Your interest is registered."), "info")
    return _back(listing_id)


@bp.route("/listings/<int:listing_id>/withdraw", methods=["GET", "POST"])
@tenant_required
def withdraw(listing_id: int):
    """Withdrawing is final for the listing: the page asks first (GET), the form withdraws."""
    applicant = applicant_required()
    listing = db.session.get(HousingListing, listing_id)
    if listing is None or listing.landlord_id != applicant.landlord_id:
        abort(404)
    if request.method == "GET":
        return render_template("housing/withdraw.html", listing=listing)
    try:
        service.withdraw_interest(db.session, applicant, listing, now=utcnow())
    except service.QueueError as exc:
        flash(labels.error(exc.code), "error")
        return redirect(url_for("housing.listings"), 303)
    flash(_("Your interest is withdrawn."), "info")
    return redirect(url_for("housing.listings"), 303)


# -- offers ----------------------------------------------------------------------------------

@bp.get("/offers")
@tenant_required
def offers():
    applicant = applicant_required()
    rows = list(db.session.scalars(
        select(HousingOffer).where(HousingOffer.applicant_id == applicant.id)
        .options(selectinload(HousingOffer.listing).selectinload(HousingListing.rental_object)
                 .selectinload(RentalObject.entrance))
        .order_by(HousingOffer.offered_at.desc())))
    return render_template("housing/offers.html", offers=rows, now=utcnow())


@bp.post("/offers/<int:offer_id>/answer")
@tenant_required
def answer(offer_id: int):
    applicant = applicant_required()
    offer = db.session.get(HousingOffer, offer_id)
    if offer is None or offer.applicant_id != applicant.id:
        abort(404)
    choice = request.form.get("answer")
    if choice not in ("accept", "refuse"):
        flash(labels.error("invalid_choice"), "error")
        return redirect(url_for("housing.offers"), 303)
    try:
        service.answer(db.session, offer, choice == "accept", now=utcnow(), tz=tz())
    except service.QueueError as exc:
        flash(labels.error(exc.code), "error")
        return redirect(url_for("housing.offers"), 303)
    flash(_("Thank you: you accepted the offer. We will contact you about the contract.")
          if choice == "accept" else _("You refused the offer."), "info")
    return redirect(url_for("housing.offers"), 303)


def local_deadline(value: datetime) -> datetime:
    return value.astimezone(tz())
