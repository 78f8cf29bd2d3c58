"""The database's ranking of a listing (``service._order`` through ``ranked`` and
``offer_list``) is ``rules.rank``'s order exactly, whatever the points' five-year cycle, the
registration dates, the resets to zero, the withdrawals and the page size: hypothesis draws
the interests (SQLite, and PostgreSQL with ``TEST_DATABASE_URL``)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.housing import points as rules
from dispatch.housing import service
from dispatch.models import Person
from dispatch.models.housing import HousingApplicant, HousingInterest
from tests.housing.conftest import NOW, TODAY

# Days since points_from around every edge of the cycle (0: today, no points yet; negative:
# a reset later than today; 6,206 and more: older than the first read's stretches), and a
# few registration offsets so that equal registration dates meet in different stretches.
EDGES = (-2, 0, 1, 2, 700, 1094, 1095, 1096, 1824, 1825, 1826, 1827, 2000, 2554, 2555, 2556,
         2557, 3284, 3285, 3286, 3287, 4015, 4016, 5000, 6205, 6206, 9000)


def _listing(db_session, queue):
    return service.publish(db_session, queue.flat, now=NOW - timedelta(hours=1),
                           vacant_on=date(2027, 1, 1), days=7)


def _add(db_session, queue, listing, draws) -> list[HousingApplicant]:
    live = []
    for number, (days, earlier, withdrawn) in enumerate(draws):
        points_from = TODAY - timedelta(days=days)
        registered_on = min(points_from, TODAY) - timedelta(days=earlier)
        person = Person(name=f"Sökande {number}", personnummer="199001012385")
        db_session.add(person)
        db_session.flush()
        applicant = HousingApplicant(
            landlord_id=queue.landlord.id, person_id=person.id, registered_on=registered_on,
            points_from=points_from, renewed_on=TODAY, areas=[], income_kinds=[])
        db_session.add(applicant)
        db_session.flush()
        db_session.add(HousingInterest(
            listing_id=listing.id, applicant_id=applicant.id, created_at=NOW,
            points_from=points_from, registered_on=registered_on,
            withdrawn_at=NOW if withdrawn else None))
        if not withdrawn:
            live.append(applicant)
    db_session.flush()
    return live


def _by_rule(applicants, seed) -> list[int]:
    return [c.applicant_id for c in rules.rank(
        [rules.Candidate(a.id, rules.points(a.points_from, TODAY), a.registered_on)
         for a in applicants], seed)]


@pytest.mark.parametrize("page", [1, 3, 64])
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(draws=st.lists(st.tuples(st.sampled_from(EDGES), st.sampled_from((0, 0, 1, 731, 1826)),
                                st.sampled_from((False, False, False, True))),
                      min_size=0, max_size=24))
def test_the_database_ranks_every_stretch_of_the_cycle_in_the_rules_order(
        db_session, queue, monkeypatch, page, draws):
    monkeypatch.setattr(service, "ORDER_PAGE", page)
    nested = db_session.begin_nested()
    try:
        listing = _listing(db_session, queue)
        live = _add(db_session, queue, listing, draws)
        expected = _by_rule(live, listing.lottery_seed)
        in_sql = [r.applicant.id for r in service.ranked(
            db_session, listing, today=TODAY, retention_days=90, now=NOW)]
        assert in_sql == expected
        first = service.offer_list(db_session, listing, today=TODAY, count=5,
                                   retention_days=90, now=NOW)
        assert [r.applicant.id for r in first] == expected[:5]
        later = service.offer_list(db_session, listing, today=TODAY, count=5,
                                   retention_days=90, now=NOW, skip=expected[:5])
        assert [r.applicant.id for r in later] == expected[5:10]
    finally:
        nested.rollback()
        db_session.expire_all()


def test_one_tie_group_larger_than_every_page_comes_whole_in_lottery_order(
        db_session, queue, monkeypatch):
    # 40 applicants with the same points and registration date, pages of 2 rows: the page
    # grows until the group fits, and the group is in the lottery's order.
    monkeypatch.setattr(service, "ORDER_PAGE", 2)
    listing = _listing(db_session, queue)
    live = _add(db_session, queue, listing, [(1826, 0, False)] * 40 + [(2556, 0, False)] * 3
                + [(100, 0, False)] * 2)
    in_sql = [r.applicant.id for r in service.ranked(db_session, listing, today=TODAY,
                                                     retention_days=90, now=NOW)]
    assert in_sql == _by_rule(live, listing.lottery_seed)
    assert in_sql[:40] != sorted(in_sql[:40])  # the lottery, not the id, orders the group


def test_an_interest_withdrawn_or_of_no_listing_is_not_ranked(db_session, queue):
    listing = _listing(db_session, queue)
    assert service.offer_list(db_session, listing, today=TODAY, count=5, retention_days=90,
                              now=NOW) == []
    live = _add(db_session, queue, listing, [(10, 0, True), (20, 0, False)])
    assert [r.applicant.id for r in service.ranked(
        db_session, listing, today=TODAY, retention_days=90, now=NOW)] == [live[0].id]
