"""Priority (förtur): medical only for own tenants with a certificate, most urgent first
within a group, ending after two refused offers; the selection refuses a priority offer that
would break the 20 % share of the rolling six months or the 10 % social stock, and says which
(audited with the figures)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from dispatch.housing import service
from dispatch.models import Agreement, AgreementObject, AuditEvent, RentalObject, utcnow
from dispatch.models.housing import HousingListing, HousingOffer
from tests.housing.conftest import TZ, registered

TODAY = date(2026, 11, 26)


def _decide(db_session, applicant, group="business", urgency=1, certificate=False):
    return service.decide_priority(db_session, applicant, group=group, urgency=urgency,
                                   reason="ny tillsvidareanställning", certificate=certificate,
                                   today=TODAY, staff_user_id=None)


def _flats(db_session, queue, count: int) -> list[RentalObject]:
    flats = [RentalObject(landlord_id=queue.landlord.id, entrance_id=queue.entrance.id,
                          objektsnummer=f"S-{i}", lagenhetsnummer="1001", rooms=Decimal(2))
             for i in range(count)]
    db_session.add_all(flats)
    db_session.flush()
    return flats


def _let(db_session, queue, obj, starts_on: date, group: str | None = None, person=None):
    """A vacancy let through the queue on ``starts_on`` (to priority when ``group``)."""
    listing = HousingListing(landlord_id=queue.landlord.id, object_id=obj.id,
                             published_until=utcnow(), vacant_on=starts_on, lottery_seed=1,
                             status="let")
    agreement = Agreement(landlord_id=queue.landlord.id, starts_on=starts_on)
    agreement.objects = [AgreementObject(object_id=obj.id)]
    db_session.add_all([listing, agreement])
    db_session.flush()
    applicant = db_session.scalar(select(service.HousingApplicant).limit(1))
    db_session.add(HousingOffer(listing_id=listing.id, applicant_id=applicant.id, rank=1,
                                points=0, deadline=utcnow(), answer="accepted",
                                priority_group=group, agreement_id=agreement.id))
    db_session.flush()


def test_medical_priority_needs_a_certificate_and_an_own_tenant(db_session, queue):
    outsider = registered(db_session, queue.older, TODAY)
    tenant = registered(db_session, queue.tenant, TODAY)
    with pytest.raises(service.QueueError, match="certificate_required"):
        _decide(db_session, tenant, "medical")
    with pytest.raises(service.QueueError, match="medical_own_tenants"):
        _decide(db_session, outsider, "medical", certificate=True)
    assert _decide(db_session, tenant, "medical", certificate=True).priority_group == "medical"


def test_within_a_group_the_most_urgent_comes_first_whoever_applied_first(db_session, queue):
    first = _decide(db_session, registered(db_session, queue.older, TODAY), "social", 1)
    urgent = _decide(db_session, registered(db_session, queue.younger, TODAY), "social", 5)
    assert [p.id for p in service.priorities(db_session, queue.landlord.id)] == \
        [urgent.id, first.id]


def test_the_share_cap_refuses_a_priority_offer_and_says_why(db_session, queue):
    applicant = registered(db_session, queue.older, TODAY, renewed_on=TODAY)
    priority = _decide(db_session, applicant)
    flats = _flats(db_session, queue, 8)
    # Three vacancies let in the window: a fourth to priority would be 1 of 4 (25 %).
    for obj in flats[:3]:
        _let(db_session, queue, obj, TODAY - timedelta(days=10))
    # One let on the day six months back is outside the rolling window.
    _let(db_session, queue, flats[3], date(2026, 5, 26))
    listing = service.publish(db_session, queue.flat, now=utcnow(), days=7,
                              vacant_on=TODAY + timedelta(days=30))
    deadline = utcnow() + timedelta(days=5)
    with pytest.raises(service.QueueError, match="priority_share"):
        service.offer_priority(db_session, listing, priority, today=TODAY, deadline=deadline,
                               staff_user_id=None)
    refused = db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "housing.priority.refused"))
    assert refused.details["cap"] == "priority_share" and refused.details["all_lets"] == 3
    # A fourth let in the window (the day after six months back): 1 of 5 is allowed.
    _let(db_session, queue, flats[4], date(2026, 5, 27))
    offer = service.offer_priority(db_session, listing, priority, today=TODAY,
                                   deadline=deadline, staff_user_id=None)
    assert offer.priority_group == "business"


def test_the_social_stock_cap_refuses_a_social_offer(db_session, queue):
    applicant = registered(db_session, queue.older, TODAY, renewed_on=TODAY)
    priority = _decide(db_session, applicant, "social")
    flats = _flats(db_session, queue, 6)  # a stock of 9 flats with the fixture's three
    for obj in flats[:5]:
        _let(db_session, queue, obj, TODAY - timedelta(days=20))
    figures = service.quota_figures(db_session, queue.landlord.id, TODAY)
    assert (figures.all_lets, figures.stock, figures.share_allows) == (5, 9, True)
    listing = service.publish(db_session, queue.flat, now=utcnow(), days=7,
                              vacant_on=TODAY + timedelta(days=30))
    with pytest.raises(service.QueueError, match="social_stock"):
        service.offer_priority(db_session, listing, priority, today=TODAY,
                               deadline=utcnow() + timedelta(days=5), staff_user_id=None)


def test_priority_ends_after_two_refused_offers(db_session, queue):
    applicant = registered(db_session, queue.older, TODAY, renewed_on=TODAY)
    priority = _decide(db_session, applicant)
    flats = _flats(db_session, queue, 12)
    for obj in flats[:9]:
        _let(db_session, queue, obj, TODAY - timedelta(days=5))
    now = utcnow()
    for obj in (queue.flat, queue.small):
        listing = service.publish(db_session, obj, now=now, days=7,
                                  vacant_on=TODAY + timedelta(days=30))
        offer = service.offer_priority(db_session, listing, priority, today=TODAY,
                                       deadline=now + timedelta(days=5), staff_user_id=None)
        service.answer(db_session, offer, False, now=now, tz=TZ)
    assert priority.refused_offers == 2 and priority.ended_on is not None
    assert service.active_priority(db_session, applicant.id) is None


def test_bodirekt_takes_no_priority(db_session, queue):
    applicant = registered(db_session, queue.older, TODAY, renewed_on=TODAY)
    priority = _decide(db_session, applicant)
    listing = service.publish(db_session, queue.flat, now=utcnow(), days=7, bodirekt=True,
                              vacant_on=TODAY + timedelta(days=30))
    with pytest.raises(service.QueueError, match="bodirekt_no_priority"):
        service.offer_priority(db_session, listing, priority, today=TODAY,
                               deadline=utcnow(), staff_user_id=None)
