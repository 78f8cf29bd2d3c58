"""The queue's mails through the shared mail layer (``core.mail``), each in the applicant's
language (their saved locale, else Swedish): an offer, the renewal reminders 30 and 7 days
before the registration lapses, the subscription's "a matching flat is published", and the
decision on a tenant's exchange or second-hand application.
Subjects and plain text are templates (``housing/mail/*``); no personnummer, phone or door
code is ever in them."""

from __future__ import annotations

import logging
from datetime import date

from flask import current_app, url_for
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.core import mail
from dispatch.housing import points as rules
from dispatch.models import Person
from dispatch.models.housing import HousingApplicant, HousingListing, HousingOffer

log = logging.getLogger("dispatch.housing")


def _locale(applicant: HousingApplicant | None, wanted: str | None = None) -> str:
    wanted = wanted or (applicant.locale if applicant is not None else None) or "sv"
    return wanted if wanted in current_app.config["LANGUAGES"] else "sv"


def send(applicant: HousingApplicant, person: Person | None, template: str, **context) -> bool:
    """One mail to an applicant; False when they have no address or it could not be sent."""
    return send_to(person, _locale(applicant), template, {"applicant_id": applicant.id},
                   **context)


def send_to(person: Person | None, locale: str, template: str, ids: dict, **context) -> bool:
    """One mail to a person in ``locale``; ``ids`` go to the log if it could not be sent."""
    if person is None or not person.email:
        return False
    # The app's environment without a request's context processors: the scheduler sends
    # these with no request at all.
    env = current_app.jinja_env
    with force_locale(locale):
        subject = env.get_template(f"housing/mail/{template}.subject.txt").render(
            **context).strip()
        text = env.get_template(f"housing/mail/{template}.txt").render(person=person,
                                                                        **context)
    try:
        message = mail.build_message(sender=mail.sender_address(current_app.config),
                                     to=person.email, subject=subject, text=text)
        mail.send_one(current_app.config, message)
    except (mail.MailError, OSError):
        log.warning("housing mail not sent", extra={"template": template, **ids})
        return False
    return True


def _link(endpoint: str) -> str:
    return url_for(endpoint, _external=True)


def send_offer_mail(offer: HousingOffer) -> bool:
    applicant = offer.applicant
    from dispatch.core.extensions import db

    person = db.session.get(Person, applicant.person_id)
    return send(applicant, person, "offer", offer=offer, listing=offer.listing,
                link=_link("housing.offers"))


def send_reminders(session: Session, today: date, *, link: str) -> dict:
    """The renewal reminders due today (30 and 7 days before the last registered day), each
    once per renewal period (``reminded_30_for`` / ``reminded_7_for``)."""
    from dispatch.housing.service import due_reminders

    sent = {30: 0, 7: 0}
    for days in (30, 7):
        for applicant in list(due_reminders(session, today, days)):
            last_day = rules.registered_until(applicant.renewed_on)
            person = session.get(Person, applicant.person_id)
            if send(applicant, person, "reminder", days=(last_day - today).days,
                    last_day=last_day, link=link):
                sent[days] += 1
            if days == 30:
                applicant.reminded_30_for = last_day
            else:
                applicant.reminded_7_for = last_day
        session.flush()
    return sent


def matches(applicant: HousingApplicant, listing: HousingListing) -> bool:
    """Whether a listing fits an applicant's saved wishes (what is not given fits)."""
    obj = listing.rental_object
    area = obj.entrance.ort if obj.entrance else ""
    if applicant.areas and not any(a.casefold() in (area or "").casefold()
                                   or a.casefold() in obj.entrance.street.casefold()
                                   for a in applicant.areas):
        return False
    if applicant.rooms_min and (obj.rooms is None or obj.rooms < applicant.rooms_min):
        return False
    if applicant.max_rent and listing.rent is not None and listing.rent > applicant.max_rent:
        return False
    if applicant.lowest_floor is not None and obj.floor is not None \
            and obj.floor < applicant.lowest_floor:
        return False
    return not (applicant.highest_floor is not None and obj.floor is not None
                and obj.floor > applicant.highest_floor)


def send_subscriptions(session: Session, listing: HousingListing, *, link: str) -> int:
    """Tell the subscribing applicants whose wishes the new listing matches."""
    return send_subscriptions_many(session, [listing], {listing.id: link})


def send_subscriptions_many(session: Session, listings: list[HousingListing],
                            links: dict[int, str]) -> int:
    """The subscription mails for several new listings of one landlord (a vacancy file),
    reading the subscribing applicants once: one mail per match, with that listing's link."""
    if not listings:
        return 0
    count = 0
    for applicant in session.scalars(select(HousingApplicant).where(
            HousingApplicant.landlord_id == listings[0].landlord_id,
            HousingApplicant.status == "active", HousingApplicant.subscribes.is_(True))):
        for listing in listings:
            if matches(applicant, listing):
                person = session.get(Person, applicant.person_id)
                count += send(applicant, person, "published", listing=listing,
                              link=links[listing.id])
    return count


def send_tenancy_decision(session: Session, row, *, link: str) -> bool:
    """The decision on a tenant's exchange or second-hand application, in the language of
    their portal account (else their queue registration's, else Swedish)."""
    from dispatch.models.accounts import TenantAccount

    person = session.get(Person, row.person_id)
    account = session.scalar(select(TenantAccount).where(
        TenantAccount.person_id == row.person_id).limit(1))
    applicant = session.scalar(select(HousingApplicant).where(
        HousingApplicant.person_id == row.person_id,
        HousingApplicant.landlord_id == row.landlord_id).limit(1))
    return send_to(person, _locale(applicant, account.locale if account else None),
                   "tenancy_decision", {"tenancy_id": row.id}, application=row, link=link)
