"""The case officers' pages under ``/bostad/staff/``: listings (publish a vacant object from
the register), the ranked applicants of a listing with the customer assessment (earlier
disturbances from released incident reports: count, dates and links; every read audited),
offers and their answers, the contract that becomes an agreement, registration of an
applicant on the phone, and a block for obviously false information. For landlord staff (their
own landlord's rows only; another landlord's id answers 404) and admins (every landlord)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import selectinload

from dispatch.auth.access import roles_required
from dispatch.auth.identity.numbers import InvalidNumber, masked, swedish
from dispatch.core import audit
from dispatch.core.extensions import db
from dispatch.core.phones import normalise_phone
from dispatch.housing import cases, credit, labels, service
from dispatch.housing import points as rules
from dispatch.housing.blueprint import bp
from dispatch.housing.views import is_email, today, tz
from dispatch.models import (
    Agreement,
    AgreementObject,
    Landlord,
    Person,
    RentalObject,
    utcnow,
)
from dispatch.models.housing import (
    PRIORITY_GROUPS,
    REFERENCE_ANSWERS,
    HousingApplicant,
    HousingGuarantor,
    HousingListing,
    HousingOffer,
    HousingPriority,
)

staff_only = roles_required("landlord")
# The ranked list shows the first applicants in the order offers go out (at most five get an
# offer at a time); the count of all is shown beside it.
RANKED_SHOWN = 200


def landlord_ids() -> list[int]:
    if current_user.role == "admin":
        return list(db.session.scalars(select(Landlord.id)))
    return [current_user.landlord_id] if current_user.landlord_id else []


def mine(row):
    if row is None or row.landlord_id not in landlord_ids():
        abort(404)
    return row


def retention_days() -> int:
    return current_app.config["REPORT_RETENTION_DAYS"]


def vacant_objects(ids: list[int], day: date, limit: int = 200) -> list[RentalObject]:
    """Flats of the landlords with no agreement in force on ``day`` and no open listing."""
    in_force = exists().where(
        AgreementObject.object_id == RentalObject.id,
        Agreement.id == AgreementObject.agreement_id,
        or_(AgreementObject.ends_on.is_(None), AgreementObject.ends_on >= day),
        or_(Agreement.starts_on.is_(None), Agreement.starts_on <= day),
        or_(Agreement.ends_on.is_(None), Agreement.ends_on >= day))
    listed = exists().where(HousingListing.object_id == RentalObject.id,
                            HousingListing.status.in_(("published", "closed")))
    return list(db.session.scalars(
        select(RentalObject)
        .where(RentalObject.landlord_id.in_(ids), RentalObject.object_type == "lägenhet",
               RentalObject.retired_at.is_(None), ~in_force, ~listed)
        .options(selectinload(RentalObject.entrance))
        .order_by(RentalObject.objektsnummer).limit(limit)))


def parse_int(form: dict, errors: dict, name: str, low: int, high: int, default=None):
    raw = (form.get(name) or "").strip()
    if not raw:
        if default is None:
            errors[name] = "required"
        return default
    try:
        value = int(raw)
    except ValueError:
        errors[name] = "not_a_number"
        return default
    if not low <= value <= high:
        errors[name] = "out_of_range"
    return value


def parse_day(form: dict, errors: dict, name: str) -> date | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        errors[name] = "required"
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = "bad_date"
        return None


# -- listings ---------------------------------------------------------------------------------

@bp.get("/staff/")
@staff_only
def staff_home(form: dict | None = None, errors: dict | None = None, status: int = 200):
    ids = landlord_ids()
    listings = list(db.session.scalars(
        select(HousingListing).where(HousingListing.landlord_id.in_(ids))
        .options(selectinload(HousingListing.rental_object).selectinload(RentalObject.entrance))
        .order_by(HousingListing.published_from.desc()).limit(200)))
    defaults = {"days": str(service.setting(current_app.config, "HOUSING_PUBLISH_DAYS")),
                "min_applicants": "1",
                "max_applicants": str(service.setting(current_app.config,
                                                      "HOUSING_MAX_OFFERS")),
                "vacant_on": (today() + timedelta(days=30)).isoformat()}
    return render_template("housing/staff/home.html", listings=listings,
                           objects=vacant_objects(ids, today()), form=form or defaults,
                           errors=errors or {}), status


@bp.post("/staff/listings")
@staff_only
def publish():
    form = request.form.to_dict()
    errors: dict = {}
    obj = db.session.get(RentalObject, parse_int(form, errors, "object_id", 1, 2**62, 0) or 0)
    if obj is None or obj.landlord_id not in landlord_ids():
        errors["object_id"] = "invalid_choice"
    vacant_on = parse_day(form, errors, "vacant_on")
    days = parse_int(form, errors, "days", 1, 60)
    low = parse_int(form, errors, "min_applicants", 1, 5)
    high = parse_int(form, errors, "max_applicants", 1, 5)
    if not errors and low > high:
        errors["max_applicants"] = "applicant_counts"
    if errors:
        return staff_home(form, errors, 400)
    try:
        listing = service.publish(db.session, obj, now=utcnow(), vacant_on=vacant_on, days=days,
                                  min_applicants=low, max_applicants=high,
                                  bodirekt=form.get("bodirekt") == "on",
                                  staff_user_id=current_user.id)
    except service.QueueError as exc:
        errors["object_id"] = exc.code
        return staff_home(form, errors, 400)
    from dispatch.housing.mails import send_subscriptions

    send_subscriptions(db.session, listing,
                       link=url_for("housing.listing", listing_id=listing.id, _external=True))
    flash(_("The flat is published."), "info")
    return redirect(url_for("housing.staff_listing", listing_id=listing.id), 303)


@bp.get("/staff/listings/<int:listing_id>")
@staff_only
def staff_listing(listing_id: int, errors: dict | None = None, status: int = 200):
    listing = mine(db.session.get(HousingListing, listing_id))
    rows = service.ranked(db.session, listing, today=today(), retention_days=retention_days(),
                          limit=RANKED_SHOWN)
    people = {p.id: p for p in db.session.scalars(select(Person).where(
        Person.id.in_([r.applicant.person_id for r in rows])))} if rows else {}
    offers = list(db.session.scalars(
        select(HousingOffer).where(HousingOffer.listing_id == listing.id)
        .order_by(HousingOffer.rank)))
    # The assessment shows earlier disturbances: who read which applicants' is audited.
    audit.record(db.session, "housing.assessment.read", subject=f"listing:{listing.id}",
                 user_id=current_user.id, ip=request.remote_addr,
                 details={"applicant_ids": [r.applicant.id for r in rows if r.disturbances]})
    deadline_days = service.setting(current_app.config, "HOUSING_ANSWER_DAYS")
    offered = {o.applicant_id for o in offers}
    waiting = [p for p in service.priorities(db.session, listing.landlord_id)
               if p.applicant_id not in offered]
    return render_template(
        "housing/staff/listing.html", listing=listing, rows=rows, people=people, offers=offers,
        deadline_days=deadline_days, errors=errors or {},
        total=service.interest_count(db.session, listing), shown=RANKED_SHOWN,
        priorities=waiting, figures=service.quota_figures(db.session, listing.landlord_id,
                                                          today()),
        priority_people={p.applicant_id: db.session.get(HousingApplicant, p.applicant_id)
                         .person for p in waiting},
        form=request.form.to_dict() if errors else {"count": str(listing.max_applicants),
                                                    "deadline_days": str(deadline_days)},
        masked=masked), status


@bp.post("/staff/listings/<int:listing_id>/offers")
@staff_only
def make_offers(listing_id: int):
    listing = mine(db.session.get(HousingListing, listing_id))
    form = request.form.to_dict()
    errors: dict = {}
    count = parse_int(form, errors, "count", 1, listing.max_applicants)
    days = parse_int(form, errors, "deadline_days", 1, 30)
    if errors:
        return staff_listing(listing_id, errors, 400)
    try:
        made = service.make_offers(
            db.session, listing, today=today(), count=count,
            deadline=service.offer_deadline(today(), days, tz()), staff_user_id=current_user.id,
            retention_days=retention_days(), credit=credit.provider(current_app.config))
    except service.QueueError as exc:
        errors["count"] = exc.code
        return staff_listing(listing_id, errors, 400)
    from dispatch.housing.mails import send_offer_mail

    for offer in made:
        send_offer_mail(offer)
    flash(_("Offers sent."), "info")
    return redirect(url_for("housing.staff_listing", listing_id=listing.id), 303)


def my_offer(offer_id: int) -> HousingOffer:
    offer = db.session.get(HousingOffer, offer_id)
    if offer is None:
        abort(404)
    mine(offer.listing)
    return offer


@bp.post("/staff/offers/<int:offer_id>/answer")
@staff_only
def record_answer(offer_id: int):
    offer = my_offer(offer_id)
    choice = request.form.get("answer")
    if choice not in ("accept", "refuse"):
        flash(labels.error("invalid_choice"), "error")
    else:
        try:
            service.answer(db.session, offer, choice == "accept", now=utcnow(), tz=tz(),
                           staff_user_id=current_user.id)
            flash(_("The answer is recorded."), "info")
        except service.QueueError as exc:
            flash(labels.error(exc.code), "error")
    return redirect(url_for("housing.staff_listing", listing_id=offer.listing_id), 303)


@bp.post("/staff/offers/<int:offer_id>/contract")
@staff_only
def contract(offer_id: int):
    offer = my_offer(offer_id)
    form = request.form.to_dict()
    errors: dict = {}
    number = (form.get("avtalsnummer") or "").strip()
    if not number:
        errors["avtalsnummer"] = "required"
    elif len(number) > 40:
        errors["avtalsnummer"] = "too_long"
    starts_on = parse_day(form, errors, "starts_on")
    if not errors:
        try:
            service.sign_contract(db.session, offer, avtalsnummer=number, starts_on=starts_on,
                                  staff_user_id=current_user.id)
        except service.QueueError as exc:
            errors["avtalsnummer"] = exc.code
    if errors:
        return staff_listing(offer.listing_id, errors, 400)
    flash(_("The contract is written: the agreement is in the register."), "info")
    return redirect(url_for("housing.staff_listing", listing_id=offer.listing_id), 303)


# -- applicants -------------------------------------------------------------------------------

@bp.route("/staff/applicants/new", methods=["GET", "POST"])
@staff_only
def register_by_phone():
    """Customer service registers a caller: name, personnummer, e-mail, phone."""
    ids = landlord_ids()
    landlords = list(db.session.scalars(select(Landlord).where(Landlord.id.in_(ids))
                                        .order_by(Landlord.name)))
    errors: dict = {}
    if request.method == "GET":
        return render_template("housing/staff/register.html", form={}, errors=errors,
                               landlords=landlords)
    form = request.form.to_dict()
    landlord_id = parse_int(form, errors, "landlord_id", 1, 2**62, 0)
    if landlord_id not in ids:
        errors["landlord_id"] = "invalid_choice"
    name = (form.get("name") or "").strip()
    if not name:
        errors["name"] = "required"
    elif len(name) > 200:
        errors["name"] = "too_long"
    number = None
    try:
        number = swedish(form.get("personnummer") or "")
    except InvalidNumber:
        errors["personnummer"] = "bad_personnummer"
    email = (form.get("email") or "").strip()
    if email and not is_email(email):
        errors["email"] = "bad_email"
    phone_raw = (form.get("phone") or "").strip()
    phone = normalise_phone(phone_raw, "SE") if phone_raw else None
    if phone_raw and phone is None:
        errors["phone"] = "bad_phone"
    if not errors:
        person = db.session.scalar(select(Person).where(
            Person.personnummer == number,
            or_(Person.landlord_id.is_(None), Person.landlord_id == landlord_id))
            .order_by(Person.landlord_id.is_(None)).limit(1))
        if person is None:
            person = Person(name=name, personnummer=number, email=email or None, phone=phone)
            db.session.add(person)
            db.session.flush()
        try:
            applicant = service.register(db.session, person, landlord_id, today(),
                                         staff_user_id=current_user.id)
        except service.QueueError as exc:
            errors["personnummer"] = exc.code
    if errors:
        # What was typed comes back to be corrected (a personnummer too), never cached.
        return render_template("housing/staff/register.html", form=form, errors=errors,
                               landlords=landlords), 400, NO_STORE
    flash(_("The applicant is registered in the housing queue."), "info")
    return redirect(url_for("housing.staff_applicant", applicant_id=applicant.id), 303)


@bp.get("/staff/applicants/<int:applicant_id>")
@staff_only
def staff_applicant(applicant_id: int, errors: dict | None = None, status: int = 200):
    applicant = mine(db.session.get(HousingApplicant, applicant_id))
    person = db.session.get(Person, applicant.person_id)
    day = today()
    offers = list(db.session.scalars(
        select(HousingOffer).where(HousingOffer.applicant_id == applicant.id)
        .options(selectinload(HousingOffer.listing).selectinload(HousingListing.rental_object)
                 .selectinload(RentalObject.entrance))
        .order_by(HousingOffer.offered_at.desc())))
    return render_template(
        "housing/staff/applicant.html", applicant=applicant, person=person,
        points=service.current_points(applicant, day),
        until=rules.registered_until(applicant.renewed_on),
        blocks=service.blocks_of(db.session, applicant.id), offers=offers,
        priority=service.active_priority(db.session, applicant.id), groups=PRIORITY_GROUPS,
        masked=masked(person.personnummer if person else None), errors=errors or {},
        guarantors=cases.guarantors_of(db.session, [applicant.id]).get(applicant.id, []),
        references=cases.references_of(db.session, [applicant.id]).get(applicant.id, []),
        in_force=cases.in_force, runs_until=cases.runs_two_years_until, day=day,
        mask=masked, answers=REFERENCE_ANSWERS,
        form=request.form.to_dict() if errors else {}), status, NO_STORE


# A page that may show a personnummer as typed (a refused form): never kept by a cache.
NO_STORE = {"Cache-Control": "private, no-store"}


@bp.post("/staff/applicants/<int:applicant_id>/block")
@staff_only
def block(applicant_id: int):
    applicant = mine(db.session.get(HousingApplicant, applicant_id))
    note = (request.form.get("note") or "").strip()
    if not note:
        return staff_applicant(applicant_id, {"note": "required"}, 400)
    if len(note) > 2000:
        return staff_applicant(applicant_id, {"note": "too_long"}, 400)
    service.record_false_information(db.session, applicant, today(),
                                     staff_user_id=current_user.id, note=note)
    flash(_("The applicant is blocked from offers for one year."), "info")
    return redirect(url_for("housing.staff_applicant", applicant_id=applicant.id), 303)



# -- priority (förtur) --------------------------------------------------------------------------

@bp.post("/staff/applicants/<int:applicant_id>/priority")
@staff_only
def decide_priority(applicant_id: int):
    applicant = mine(db.session.get(HousingApplicant, applicant_id))
    form = request.form.to_dict()
    errors: dict = {}
    urgency = parse_int(form, errors, "urgency", 0, 100)
    reason = (form.get("reason") or "").strip()
    if not reason:
        errors["reason"] = "required"
    elif len(reason) > 2000:
        errors["reason"] = "too_long"
    if not errors:
        try:
            service.decide_priority(db.session, applicant, group=form.get("group") or "",
                                    urgency=urgency, reason=reason,
                                    certificate=form.get("certificate") == "on",
                                    today=today(), staff_user_id=current_user.id)
        except service.QueueError as exc:
            errors["group"] = exc.code
    if errors:
        return staff_applicant(applicant_id, errors, 400)
    flash(_("The priority is decided."), "info")
    return redirect(url_for("housing.staff_applicant", applicant_id=applicant.id), 303)


@bp.post("/staff/listings/<int:listing_id>/priority/<int:priority_id>")
@staff_only
def offer_priority(listing_id: int, priority_id: int):
    listing = mine(db.session.get(HousingListing, listing_id))
    priority = db.session.get(HousingPriority, priority_id)
    if priority is None:
        abort(404)
    mine(db.session.get(HousingApplicant, priority.applicant_id))
    days = service.setting(current_app.config, "HOUSING_ANSWER_DAYS")
    try:
        offer = service.offer_priority(
            db.session, listing, priority, today=today(),
            deadline=service.offer_deadline(today(), days, tz()), staff_user_id=current_user.id)
    except service.QueueError as exc:
        flash(labels.error(exc.code), "error")
        return redirect(url_for("housing.staff_listing", listing_id=listing.id), 303)
    from dispatch.housing.mails import send_offer_mail

    send_offer_mail(offer)
    flash(_("Offers sent."), "info")
    return redirect(url_for("housing.staff_listing", listing_id=listing.id), 303)


@bp.post("/staff/applicants/<int:applicant_id>/move-exception")
@staff_only
def move_exception(applicant_id: int):
    """An exception to the one-year rule for an internal move, with its reason."""
    applicant = mine(db.session.get(HousingApplicant, applicant_id))
    reason = (request.form.get("exception_reason") or "").strip()
    if not reason or len(reason) > 2000:
        return staff_applicant(applicant_id,
                               {"exception_reason": "required" if not reason else "too_long"},
                               400)
    service.record_move_exception(db.session, applicant, reason=reason,
                                  staff_user_id=current_user.id)
    flash(_("The exception is recorded."), "info")
    return redirect(url_for("housing.staff_applicant", applicant_id=applicant.id), 303)


# -- the customer assessment's case: guarantors and references ----------------------------------

@bp.post("/staff/applicants/<int:applicant_id>/guarantors")
@staff_only
def add_guarantor(applicant_id: int):
    """A guarantor on the case: a person 18+, credit-checked with their consent (audited)."""
    applicant = mine(db.session.get(HousingApplicant, applicant_id))
    form = request.form.to_dict()
    errors: dict = {}
    name = (form.get("guarantor_name") or "").strip()
    if not name:
        errors["guarantor_name"] = "required"
    elif len(name) > 200:
        errors["guarantor_name"] = "too_long"
    if not (form.get("guarantor_personnummer") or "").strip():
        errors["guarantor_personnummer"] = "required"
    income = parse_int(form, errors, "guarantor_income", 0, 100_000_000)
    starts_on = parse_day(form, errors, "guarantor_starts_on")
    if not errors:
        try:
            cases.add_guarantor(
                db.session, applicant, name=name,
                personnummer=form.get("guarantor_personnummer") or "", monthly_income=income,
                starts_on=starts_on, consent=form.get("guarantor_consent") == "on",
                credit=credit.provider(current_app.config), today=today(),
                staff_user_id=current_user.id)
        except cases.CaseError as exc:
            field = "guarantor_consent" if exc.code == "consent_required" \
                else "guarantor_personnummer"
            errors[field] = exc.code
    if errors:
        return staff_applicant(applicant_id, errors, 400)
    flash(_("The guarantor is recorded."), "info")
    return redirect(url_for("housing.staff_applicant", applicant_id=applicant.id) + "#guarantors",
                    303)


@bp.post("/staff/guarantors/<int:guarantor_id>/notice")
@staff_only
def guarantor_notice(guarantor_id: int):
    guarantor = db.session.get(HousingGuarantor, guarantor_id)
    if guarantor is None:
        abort(404)
    applicant = mine(db.session.get(HousingApplicant, guarantor.applicant_id))
    errors: dict = {}
    given_on = parse_day(request.form.to_dict(), errors, "notice_given_on")
    if not errors:
        try:
            cases.guarantor_notice(db.session, guarantor, given_on=given_on,
                                   staff_user_id=current_user.id)
        except cases.CaseError as exc:
            errors["notice_given_on"] = exc.code
    if errors:
        return staff_applicant(applicant.id, errors, 400)
    flash(_("The guarantor's notice is recorded."), "info")
    return redirect(url_for("housing.staff_applicant", applicant_id=applicant.id) + "#guarantors",
                    303)


@bp.post("/staff/applicants/<int:applicant_id>/references")
@staff_only
def add_reference(applicant_id: int):
    """The previous landlord's reference as staff took it (audited)."""
    applicant = mine(db.session.get(HousingApplicant, applicant_id))
    form = request.form.to_dict()
    errors: dict = {}
    values = {}
    for name in ("reference_landlord", "reference_contact"):
        values[name] = (form.get(name) or "").strip()
        if not values[name]:
            errors[name] = "required"
        elif len(values[name]) > 200:
            errors[name] = "too_long"
    answer = form.get("reference_answer") or ""
    if answer not in REFERENCE_ANSWERS:
        errors["reference_answer"] = "invalid_choice"
    remarks = (form.get("reference_remarks") or "").strip()
    if answer == "remarks" and not remarks:
        errors["reference_remarks"] = "remarks_required"
    elif len(remarks) > 2000:
        errors["reference_remarks"] = "too_long"
    given_on = parse_day(form, errors, "reference_given_on")
    if not errors:
        cases.add_reference(db.session, applicant, landlord_name=values["reference_landlord"],
                            contact=values["reference_contact"], answer=answer,
                            remarks=remarks if answer == "remarks" else None, given_on=given_on,
                            staff_user_id=current_user.id)
    if errors:
        return staff_applicant(applicant_id, errors, 400)
    flash(_("The reference is recorded."), "info")
    return redirect(url_for("housing.staff_applicant", applicant_id=applicant.id) + "#references",
                    303)
