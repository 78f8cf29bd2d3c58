"""The queue's operations on the database: registration, interests, ranking with the customer
assessment, offers and answers, refusal blocks, contracts into the shared model, the sweep."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from dispatch.housing import service
from dispatch.models import AuditEvent
from dispatch.models.housing import HousingApplicant, HousingBlock
from tests.housing.conftest import NOW, TODAY, TZ, registered


def _listing(db_session, queue, **kwargs):
    kwargs.setdefault("days", 7)
    return service.publish(db_session, queue.flat, now=NOW - timedelta(hours=1),
                           vacant_on=date(2027, 1, 1), **kwargs)


def test_registration_needs_16_years_and_one_registration_per_person(db_session, queue):
    with pytest.raises(service.QueueError, match="too_young"):
        service.register(db_session, queue.child, queue.landlord.id, TODAY)
    service.register(db_session, queue.older, queue.landlord.id, TODAY)
    with pytest.raises(service.QueueError, match="already_registered"):
        service.register(db_session, queue.older, queue.landlord.id, TODAY)


def test_a_removed_applicant_registers_again_from_zero_points(db_session, queue):
    applicant = registered(db_session, queue.older, date(2020, 1, 1))
    assert service.remove_lapsed(db_session, date(2021, 1, 2)) == 1
    db_session.expire_all()
    again = service.register(db_session, queue.older, queue.landlord.id, TODAY)
    assert service.current_points(again, TODAY) == 0
    assert again.id != applicant.id or again.registered_on == TODAY


def test_the_sweep_removes_exactly_those_past_their_last_registered_day(db_session, queue):
    kept = registered(db_session, queue.older, date(2025, 2, 28))
    gone = registered(db_session, queue.younger, date(2024, 2, 29))
    assert service.remove_lapsed(db_session, date(2025, 2, 28)) == 0
    assert service.remove_lapsed(db_session, date(2025, 3, 1)) == 1
    db_session.expire_all()
    assert (kept.status, gone.status) == ("active", "removed")
    assert service.remove_lapsed(db_session, date(2026, 2, 28)) == 0
    assert service.remove_lapsed(db_session, date(2026, 3, 1)) == 1


def test_an_interest_renews_the_registration_and_is_kept_once(db_session, queue):
    applicant = registered(db_session, queue.older, date(2026, 1, 10), renewed_on=TODAY)
    listing = _listing(db_session, queue)
    first = service.register_interest(db_session, applicant, listing, now=NOW, tz=TZ)
    again = service.register_interest(db_session, applicant, listing, now=NOW, tz=TZ)
    assert first.id == again.id
    assert applicant.renewed_on == TODAY


def test_a_lapsed_registration_cannot_register_interest_before_the_sweep(db_session, queue):
    applicant = registered(db_session, queue.older, date(2025, 11, 25))
    listing = _listing(db_session, queue)
    with pytest.raises(service.QueueError, match="lapsed"):
        service.register_interest(db_session, applicant, listing, now=NOW, tz=TZ)


def test_no_interest_after_the_listing_closes(db_session, queue):
    applicant = registered(db_session, queue.older, date(2026, 1, 10), renewed_on=TODAY)
    listing = _listing(db_session, queue, days=1)
    with pytest.raises(service.QueueError, match="listing_closed"):
        service.register_interest(db_session, applicant, listing,
                                  now=NOW + timedelta(days=1), tz=TZ)


def test_ranking_by_points_with_the_disturbances_on_the_tenants_agreement(db_session, queue):
    older = registered(db_session, queue.older, date(2021, 1, 1), renewed_on=TODAY,
                       yearly_income=300_000)
    younger = registered(db_session, queue.younger, date(2024, 1, 1), renewed_on=TODAY,
                       yearly_income=300_000)
    tenant = registered(db_session, queue.tenant, date(2019, 1, 1), renewed_on=TODAY,
                       yearly_income=300_000)
    listing = _listing(db_session, queue)
    for applicant in (younger, tenant, older):
        service.register_interest(db_session, applicant, listing, now=NOW, tz=TZ)
    rows = service.ranked(db_session, listing, today=TODAY, retention_days=90, now=NOW)
    assert [r.applicant.id for r in rows] == [older.id, younger.id, tenant.id]
    assert rows[2].reasons == ["disturbances"]
    assert rows[2].disturbances == [(queue.report.id, datetime(2026, 11, 1, 22, tzinfo=UTC))]
    # Outside the reports' retention the disturbance is not shown.
    later = service.ranked(db_session, listing, today=TODAY, retention_days=10, now=NOW)
    assert later[0].applicant.id == tenant.id and later[0].disturbances == []


def test_income_below_twice_the_annual_rent_is_not_approved(db_session, queue):
    poor = registered(db_session, queue.older, date(2021, 1, 1), renewed_on=TODAY,
                       yearly_income=191_999)
    listing = _listing(db_session, queue)  # 8,000 kr a month: 192,000 a year needed
    service.register_interest(db_session, poor, listing, now=NOW, tz=TZ)
    (row,) = service.ranked(db_session, listing, today=TODAY, retention_days=90, now=NOW)
    assert row.reasons == ["income"] and not row.approved


def test_bodirekt_is_first_come_first_served_whatever_the_points(db_session, queue):
    older = registered(db_session, queue.older, date(2021, 1, 1), renewed_on=TODAY)
    younger = registered(db_session, queue.younger, date(2026, 1, 1), renewed_on=TODAY)
    listing = _listing(db_session, queue, bodirekt=True)
    service.register_interest(db_session, younger, listing, now=NOW, tz=TZ)
    service.register_interest(db_session, older, listing, now=NOW + timedelta(seconds=1), tz=TZ)
    rows = service.ranked(db_session, listing, today=TODAY, retention_days=90, now=NOW)
    assert [r.applicant.id for r in rows] == [younger.id, older.id]


def test_offers_answers_and_the_contract_become_an_agreement(db_session, queue):
    older = registered(db_session, queue.older, date(2021, 1, 1), renewed_on=TODAY)
    younger = registered(db_session, queue.younger, date(2024, 1, 1), renewed_on=TODAY)
    listing = _listing(db_session, queue)
    for applicant in (younger, older):
        service.register_interest(db_session, applicant, listing, now=NOW, tz=TZ)
    deadline = service.offer_deadline(TODAY, 5, TZ)
    offers = service.make_offers(db_session, listing, today=TODAY, count=2, deadline=deadline,
                                 staff_user_id=None, retention_days=90, now=NOW)
    assert [o.applicant_id for o in offers] == [older.id, younger.id]
    service.answer(db_session, offers[0], True, now=NOW, tz=TZ)
    service.answer(db_session, offers[1], False, now=NOW, tz=TZ)
    with pytest.raises(service.QueueError, match="already_answered"):
        service.answer(db_session, offers[0], False, now=NOW, tz=TZ)
    agreement = service.sign_contract(db_session, offers[0], avtalsnummer="HB-200",
                                      starts_on=date(2027, 1, 1), staff_user_id=None)
    assert [p.person_id for p in agreement.parties] == [queue.older.id]
    assert [o.object_id for o in agreement.objects] == [queue.flat.id]
    assert agreement.starts_on == date(2027, 1, 1) and listing.status == "let"
    assert queue.older.landlord_id == queue.landlord.id
    actions = set(db_session.scalars(select(AuditEvent.action)))
    assert {"housing.offers.made", "housing.offer.answered", "housing.contract.signed"} <= actions


def test_an_unanswered_offer_counts_as_a_refusal_on_its_deadline_day(db_session, queue):
    applicant = registered(db_session, queue.older, date(2021, 1, 1), renewed_on=TODAY)
    listing = _listing(db_session, queue)
    service.register_interest(db_session, applicant, listing, now=NOW, tz=TZ)
    (offer,) = service.make_offers(db_session, listing, today=TODAY, count=1,
                                   deadline=service.offer_deadline(TODAY, 5, TZ),
                                   staff_user_id=None, retention_days=90, now=NOW)
    assert service.settle_missed(db_session, now=NOW + timedelta(days=5), tz=TZ) == 0
    assert service.settle_missed(db_session, now=NOW + timedelta(days=6), tz=TZ) == 1
    assert offer.answer == "missed"
    with pytest.raises(service.QueueError, match="deadline_passed"):
        service.answer(db_session, offer, True, now=NOW + timedelta(days=6), tz=TZ)


def test_the_fifth_refusal_blocks_and_resets_the_points(db_session, queue):
    applicant = registered(db_session, queue.older, date(2021, 1, 1), renewed_on=TODAY)
    for day in (date(2026, 2, 1), date(2026, 4, 1), date(2026, 6, 1), date(2026, 8, 1)):
        assert service.record_refusal(db_session, applicant, None, day, missed=False) is None
    block = service.record_refusal(db_session, applicant, None, date(2026, 12, 31),
                                   missed=True)
    assert (block.starts_on, block.ends_on) == (date(2026, 12, 31), date(2026, 12, 31))
    assert service.current_points(applicant, date(2027, 1, 1)) == 1
    listing = service.publish(db_session, queue.small, now=datetime(2026, 12, 30, tzinfo=UTC),
                              vacant_on=date(2027, 2, 1), days=7)
    with pytest.raises(service.QueueError, match="blocked"):
        service.register_interest(db_session, applicant, listing,
                                  now=datetime(2026, 12, 31, 12, tzinfo=UTC), tz=TZ)
    service.register_interest(db_session, applicant, listing,
                              now=datetime(2027, 1, 1, 12, tzinfo=UTC), tz=TZ)


def test_false_information_blocks_a_year_with_the_staff_members_reason_audited(
        db_session, queue, create_user):
    staff = create_user(role="admin")
    applicant = registered(db_session, queue.older, date(2021, 1, 1), renewed_on=TODAY)
    service.record_false_information(db_session, applicant, TODAY, staff_user_id=staff.id,
                                     note="income certificate forged")
    block = db_session.scalar(select(HousingBlock))
    assert (block.ends_on, block.staff_user_id) == (date(2027, 11, 25), staff.id)
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "housing.blocked"))
    assert event.user_id == staff.id and event.subject == f"applicant:{applicant.id}"


def test_reminders_are_due_30_and_7_days_before_the_last_day(db_session, queue):
    applicant = registered(db_session, queue.older, date(2025, 2, 28))
    assert [a.id for a in service.due_reminders(db_session, date(2026, 1, 29), 30)] == \
        [applicant.id]
    assert list(service.due_reminders(db_session, date(2026, 1, 30), 30)) == []
    assert [a.id for a in service.due_reminders(db_session, date(2026, 2, 21), 7)] == \
        [applicant.id]
    applicant.reminded_7_for = date(2026, 2, 28)
    db_session.flush()
    assert list(service.due_reminders(db_session, date(2026, 2, 21), 7)) == []


def test_points_in_sql_equal_the_rule(db_session, queue):
    for person, start in ((queue.older, date(2019, 1, 1)), (queue.younger, date(2021, 11, 25)),
                          (queue.tenant, date(2026, 11, 27))):
        registered(db_session, person, start)
    rows = db_session.execute(select(HousingApplicant, service.points_expression(
        db_session, TODAY))).all()
    assert {a.id: p for a, p in rows} == {a.id: service.current_points(a, TODAY)
                                          for a, _ in rows}


@pytest.mark.parametrize("page", [64, 4, 1])
def test_the_database_orders_ties_by_the_same_lottery_as_the_rule(db_session, queue, page,
                                                                   monkeypatch):
    # Small pages make tie groups run over a page's end (read again from the next page).
    monkeypatch.setattr(service, "ORDER_PAGE", page)
    from dispatch.housing import points as rules
    from dispatch.models import Person

    listing = _listing(db_session, queue)
    applicants = []
    for i in range(30):
        person = Person(name=f"Lika {i}", personnummer="199001012385")
        db_session.add(person)
        db_session.flush()
        # Three groups of points, each group registered the same day: ties by the lottery.
        applicant = registered(db_session, person, date(2024, 1, 1) + timedelta(days=i % 3),
                               renewed_on=TODAY)
        service.register_interest(db_session, applicant, listing, now=NOW, tz=TZ)
        applicants.append(applicant)
    in_sql = [r.applicant.id for r in service.ranked(db_session, listing, today=TODAY,
                                                     retention_days=90, now=NOW)]
    by_rule = [c.applicant_id for c in rules.rank(
        [rules.Candidate(a.id, service.current_points(a, TODAY), a.registered_on)
         for a in applicants], listing.lottery_seed)]
    assert in_sql == by_rule
    assert in_sql[:10] != sorted(in_sql[:10])  # the lottery, not the id, broke the ties
    first = service.offer_list(db_session, listing, today=TODAY, count=5, retention_days=90,
                               now=NOW)
    assert [r.applicant.id for r in first] == in_sql[:5]
    later = service.offer_list(db_session, listing, today=TODAY, count=5, retention_days=90,
                               now=NOW, skip=in_sql[:5])
    assert [r.applicant.id for r in later] == in_sql[5:10]


def test_another_landlords_queue_never_sees_the_disturbances(db_session, queue, create_landlord):
    from dispatch.models import RentalObject

    other = create_landlord(code="OTHR", name="Annan Bostad")
    obj = RentalObject(landlord_id=other.id, entrance_id=queue.entrance.id,
                       objektsnummer="O-1", lagenhetsnummer="1101")
    db_session.add(obj)
    db_session.flush()
    # The tenant (disturbances at Hammaröbostäder) applies to the other landlord's queue.
    applicant = service.register(db_session, queue.tenant, other.id, date(2020, 1, 1))
    applicant.renewed_on = TODAY
    listing = service.publish(db_session, obj, now=NOW - timedelta(hours=1), days=7,
                              vacant_on=date(2027, 1, 1))
    service.register_interest(db_session, applicant, listing, now=NOW, tz=TZ)
    (row,) = service.ranked(db_session, listing, today=TODAY, retention_days=90, now=NOW)
    assert row.disturbances == [] and row.approved
    assert service.disturbances(db_session, queue.tenant.id, queue.landlord.id,
                                since=NOW - timedelta(days=90)) != []


def test_a_failed_credit_check_passes_the_offer_to_the_next_and_every_check_is_audited(
        db_session, queue):
    from dispatch.housing.credit import LocalCreditCheck

    older = registered(db_session, queue.older, date(2021, 1, 1), renewed_on=TODAY)
    younger = registered(db_session, queue.younger, date(2024, 1, 1), renewed_on=TODAY)
    listing = _listing(db_session, queue)
    for applicant in (older, younger):
        service.register_interest(db_session, applicant, listing, now=NOW, tz=TZ)
    (offer,) = service.make_offers(
        db_session, listing, today=TODAY, count=1, deadline=service.offer_deadline(TODAY, 5, TZ),
        staff_user_id=None, retention_days=90, now=NOW,
        credit=LocalCreditCheck(frozenset({"199001012385"})))
    assert offer.applicant_id == younger.id
    checks = list(db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "housing.credit.checked").order_by(AuditEvent.id)))
    assert [(c.subject, c.details["approved"], c.details["consent"]) for c in checks] == [
        (f"applicant:{older.id}", False, "registration"),
        (f"applicant:{younger.id}", True, "registration")]
    assert "199001012385" not in str([c.details for c in checks])


def test_the_interests_copy_of_the_dates_follows_a_reset_and_a_removal(db_session, queue):
    from dispatch.models.housing import HousingInterest

    applicant = registered(db_session, queue.older, date(2021, 1, 1), renewed_on=TODAY)
    listing = _listing(db_session, queue)
    interest = service.register_interest(db_session, applicant, listing, now=NOW, tz=TZ)
    assert (interest.points_from, interest.registered_on) == (date(2021, 1, 1),
                                                              date(2021, 1, 1))
    for day in ("2026-11-01", "2026-11-05", "2026-11-10", "2026-11-15", "2026-11-20"):
        service.record_refusal(db_session, applicant, None, date.fromisoformat(day),
                               missed=False)
    db_session.expire_all()
    assert db_session.get(HousingInterest, interest.id).points_from == date(2026, 11, 20)
    assert service.remove_lapsed(db_session, date(2027, 11, 27)) == 1
    db_session.expire_all()
    assert db_session.get(HousingInterest, interest.id).withdrawn_at is not None


def test_an_own_tenant_moves_internally_after_a_year_unless_staff_made_an_exception(
        db_session, queue, create_user):
    queue.agreement.starts_on = TODAY - timedelta(days=200)
    tenant = registered(db_session, queue.tenant, date(2020, 1, 1), renewed_on=TODAY)
    listing = _listing(db_session, queue)
    service.register_interest(db_session, tenant, listing, now=NOW, tz=TZ)
    (row,) = service.ranked(db_session, listing, today=TODAY, retention_days=10, now=NOW)
    assert row.reasons == ["internal_move_too_soon"]
    staff = create_user(role="landlord", landlord=queue.landlord)
    service.record_move_exception(db_session, tenant, reason="familjebildning",
                                  staff_user_id=staff.id)
    (row,) = service.ranked(db_session, listing, today=TODAY, retention_days=10, now=NOW)
    assert row.approved
    queue.agreement.starts_on = TODAY - timedelta(days=400)
    db_session.flush()
