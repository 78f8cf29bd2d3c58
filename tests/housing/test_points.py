"""The housing queue's date rules (domain-rules.md, "Housing queue"): every vector given there,
the boundaries issue 16 names, and properties of the points."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.housing import points as p

START = date(2020, 1, 1)


@pytest.mark.parametrize(("days", "expected"), [
    (0, 0), (1, 1), (365, 365), (1_825, 1_825), (1_826, 1_096), (1_827, 1_097),
    (2_555, 1_825), (2_556, 1_096), (3_285, 1_825), (3_286, 1_096),
])
def test_points_are_the_days_up_to_five_years_then_cycle_from_three_years(days, expected):
    assert p.points_for_days(days) == expected
    assert p.points(START, START + timedelta(days=days)) == expected


def test_points_count_whole_calendar_days_across_leap_days():
    # 2024 is a leap year: 29 February is a day like any other.
    assert p.points(date(2024, 2, 28), date(2024, 3, 1)) == 2
    assert p.points(date(2023, 2, 28), date(2023, 3, 1)) == 1
    # Five calendar years with a leap day in them are 1,826 days: already back at 1,096.
    assert p.points(date(2020, 3, 1), date(2025, 3, 1)) == 1_096
    assert p.points(date(2020, 3, 1), date(2025, 2, 28)) == 1_825


def test_a_day_before_registration_gives_no_points():
    assert p.points(START, START - timedelta(days=3)) == 0


@given(st.integers(min_value=-10_000, max_value=40_000))
def test_points_are_never_negative_nor_above_five_years(days):
    assert 0 <= p.points_for_days(days) <= p.FIVE_YEARS


@given(st.integers(min_value=0, max_value=40_000))
def test_points_grow_by_one_a_day_except_where_a_cycle_restarts(days):
    today, tomorrow = p.points_for_days(days), p.points_for_days(days + 1)
    restarts = days + 1 > p.FIVE_YEARS and (days + 1 - (p.FIVE_YEARS + 1)) % p.CYCLE == 0
    if restarts:
        assert (today, tomorrow) == (p.FIVE_YEARS, p.THREE_YEARS + 1)
    else:
        assert tomorrow == today + 1


@given(st.integers(min_value=p.FIVE_YEARS + 1, max_value=40_000))
def test_after_five_years_points_stay_between_three_and_five_years(days):
    assert p.THREE_YEARS < p.points_for_days(days) <= p.FIVE_YEARS


@pytest.mark.parametrize(("renewed", "last_day"), [
    (date(2025, 2, 28), date(2026, 2, 28)),
    (date(2024, 2, 29), date(2025, 2, 28)),
    (date(2025, 1, 31), date(2026, 1, 31)),
    (date(2023, 2, 28), date(2024, 2, 28)),
])
def test_registration_lapses_at_the_end_of_the_day_twelve_months_after_renewal(renewed, last_day):
    assert p.registered_until(renewed) == last_day
    assert p.is_registered(renewed, last_day)
    assert not p.is_registered(renewed, last_day + timedelta(days=1))


def test_the_renewal_reminders_go_out_30_and_7_days_before_the_last_day():
    assert p.reminder_days(date(2025, 2, 28)) == [date(2026, 1, 29), date(2026, 2, 21)]


def _refusals(*days: str) -> list[date]:
    return [date.fromisoformat(d) for d in days]


def test_four_refusals_within_a_year_do_not_block():
    assert p.refusal_blocks(_refusals("2025-01-10", "2025-03-01", "2025-06-01", "2025-09-01")) \
        == []


def test_the_fifth_refusal_within_a_year_blocks_for_the_rest_of_the_year_and_resets():
    blocks = p.refusal_blocks(_refusals(
        "2025-01-10", "2025-03-01", "2025-06-01", "2025-09-01", "2025-10-15"))
    assert blocks == [p.Block(date(2025, 10, 15), date(2025, 12, 31), "refusals", True)]


def test_a_fifth_refusal_on_31_december_blocks_that_day_only_and_resets_the_points():
    blocks = p.refusal_blocks(_refusals(
        "2025-02-01", "2025-05-01", "2025-08-01", "2025-11-01", "2025-12-31"))
    assert blocks == [p.Block(date(2025, 12, 31), date(2025, 12, 31), "refusals", True)]
    assert not blocks[0].covers(date(2026, 1, 1))
    registered = date(2020, 1, 1)
    counted = p.points_counted_from(registered, blocks, date(2026, 1, 1))
    assert counted == date(2025, 12, 31)
    assert p.points(counted, date(2026, 1, 1)) == 1


def test_a_fifth_refusal_on_1_january_blocks_the_whole_new_year():
    blocks = p.refusal_blocks(_refusals(
        "2025-02-01", "2025-05-01", "2025-08-01", "2025-11-01", "2026-01-01"))
    assert blocks == [p.Block(date(2026, 1, 1), date(2026, 12, 31), "refusals", True)]
    assert blocks[0].covers(date(2026, 12, 31))


def test_refusals_more_than_twelve_months_before_the_fifth_do_not_count():
    # The first is exactly twelve months before the fifth: out of the year.
    assert p.refusal_blocks(_refusals(
        "2025-01-01", "2025-05-01", "2025-08-01", "2025-11-01", "2026-01-01")) == []
    assert p.refusal_blocks(_refusals(
        "2025-01-02", "2025-05-01", "2025-08-01", "2025-11-01", "2026-01-01")) != []


def test_refusals_before_a_block_do_not_count_towards_the_next():
    blocks = p.refusal_blocks(_refusals(
        "2025-01-10", "2025-02-10", "2025-03-10", "2025-04-10", "2025-05-10",
        "2026-01-10", "2026-02-10", "2026-03-10", "2026-04-10"))
    assert len(blocks) == 1


def test_points_before_a_reset_are_lost_but_a_block_not_yet_started_changes_nothing():
    block = p.Block(date(2025, 6, 1), date(2025, 12, 31), "refusals", True)
    assert p.points_counted_from(date(2020, 1, 1), [block], date(2025, 5, 31)) == date(2020, 1, 1)
    assert p.points_counted_from(date(2020, 1, 1), [block], date(2025, 6, 1)) == date(2025, 6, 1)


def test_false_information_blocks_one_year_and_keeps_the_points():
    block = p.false_information_block(date(2025, 3, 15))
    assert (block.starts_on, block.ends_on, block.resets_points) == \
        (date(2025, 3, 15), date(2026, 3, 14), False)


@pytest.mark.parametrize(("number", "born"), [
    ("199001012385", date(1990, 1, 1)),
    ("19900101-2385", date(1990, 1, 1)),
    ("900101-2385", date(1990, 1, 1)),
    ("201701012393", date(2017, 1, 1)),
    ("199908072391", date(1999, 8, 7)),
    ("200002292399", date(2000, 2, 29)),
    ("19130401+2931", date(1913, 4, 1)),
    ("19701063-2391", date(1970, 10, 3)),  # samordningsnummer: day + 60
])
def test_the_birth_date_comes_from_the_personnummer_or_samordningsnummer(number, born):
    assert p.birth_date(number) == born


@pytest.mark.parametrize("number", ["199001012386", "19900230-2385", "abc", "", "1990010123"])
def test_an_invalid_number_is_refused_without_repeating_it(number):
    with pytest.raises(p.InvalidPersonnummer) as caught:
        p.birth_date(number)
    assert number not in str(caught.value) or not number


def test_registration_from_16_and_renting_from_18_on_the_birthday():
    # 201701012393: born 2017-01-01.
    assert not p.may_register("201701012393", date(2032, 12, 31))
    assert p.may_register("201701012393", date(2033, 1, 1))
    assert not p.may_rent("201701012393", date(2034, 12, 31))
    assert p.may_rent("201701012393", date(2035, 1, 1))


def test_someone_born_on_a_leap_day_turns_a_year_older_on_1_march_in_a_common_year():
    # 200002292399: born 2000-02-29; 2018 is a common year.
    assert not p.may_rent("200002292399", date(2018, 2, 28))
    assert p.may_rent("200002292399", date(2018, 3, 1))
    assert p.age_on(date(2000, 2, 29), date(2016, 2, 29)) == 16


@pytest.mark.parametrize(("given_on", "ends_on"), [
    ("2025-01-15", "2025-04-30"), ("2025-01-31", "2025-04-30"), ("2025-02-01", "2025-05-31"),
    ("2025-11-20", "2026-02-28"), ("2023-11-30", "2024-02-29"),
])
def test_three_calendar_months_notice_from_the_end_of_the_month(given_on, ends_on):
    assert p.notice_ends_on(date.fromisoformat(given_on)) == date.fromisoformat(ends_on)


def test_internal_moves_have_two_months_notice_and_one_to_a_larger_flat():
    assert p.notice_ends_on(date(2025, 1, 15), "internal") == date(2025, 3, 31)
    assert p.notice_ends_on(date(2023, 12, 31), "internal") == date(2024, 2, 29)
    assert p.notice_ends_on(date(2025, 1, 15), "internal_larger") == date(2025, 2, 28)


def test_internal_move_after_one_year_unless_staff_recorded_an_exception():
    assert not p.may_move_internally(date(2024, 2, 29), date(2025, 2, 27))
    assert p.may_move_internally(date(2024, 2, 29), date(2025, 2, 28))
    assert p.may_move_internally(date(2025, 1, 1), date(2025, 2, 1), exception=True)


def test_income_twice_the_annual_rent_or_a_guarantor_with_five_times_the_monthly_rent():
    assert p.income_suffices(240_000, 10_000)
    assert not p.income_suffices(239_999, 10_000)
    assert p.guarantor_suffices(50_000, 10_000)
    assert not p.guarantor_suffices(49_999, 10_000)


def test_a_guarantee_ends_at_the_earliest_two_years_on_and_after_nine_months_notice():
    assert p.guarantee_earliest_end(date(2025, 1, 1), date(2026, 4, 1)) == date(2027, 1, 1)
    assert p.guarantee_earliest_end(date(2025, 1, 1), date(2027, 1, 1)) == date(2027, 10, 1)


def test_ranking_most_points_then_earliest_registration_then_the_recorded_lottery():
    c = p.Candidate
    candidates = [c(1, 100, date(2020, 1, 2)), c(2, 300, date(2021, 1, 1)),
                  c(3, 100, date(2020, 1, 1)), c(4, 999, date(2019, 1, 1), approved=False),
                  c(5, 50, date(2020, 1, 1)), c(6, 50, date(2020, 1, 1))]
    ranked = [x.applicant_id for x in p.rank(candidates, lottery_seed=7)]
    assert ranked[:3] == [2, 3, 1]
    assert sorted(ranked[3:]) == [5, 6] and 4 not in ranked
    # The same seed replays the same draw whatever the order the interests came in.
    assert [x.applicant_id for x in p.rank(reversed(candidates), lottery_seed=7)] == ranked


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=2, max_size=12,
                unique_by=lambda t: t), st.integers())
def test_a_tie_is_broken_by_the_seed_alone(pairs, seed):
    candidates = [p.Candidate(i, pts, date(2020, 1, 1) + timedelta(days=reg))
                  for i, (pts, reg) in enumerate(pairs)]
    first = p.rank(candidates, seed)
    assert first == p.rank(list(reversed(candidates)), seed)
    keys = [(-x.points, x.registered_on) for x in first]
    assert keys == sorted(keys)


def test_the_priority_window_is_the_rolling_six_months_ending_today():
    assert p.priority_window(date(2026, 8, 31)) == (date(2026, 3, 1), date(2026, 8, 31))
    assert p.priority_window(date(2026, 3, 1)) == (date(2025, 9, 2), date(2026, 3, 1))
    # Clamped months: six months before 31 August is 28 February (29 in a leap year).
    assert p.priority_window(date(2024, 8, 31)) == (date(2024, 3, 1), date(2024, 8, 31))


@pytest.mark.parametrize(("priority", "lets", "allowed"), [
    (0, 0, False), (0, 3, False), (0, 4, True), (1, 8, False), (1, 9, True), (2, 14, True),
    (3, 14, False),
])
def test_at_most_a_fifth_of_the_windows_vacancies_go_to_priority(priority, lets, allowed):
    assert p.priority_share_allows(priority, lets) is allowed


@pytest.mark.parametrize(("social", "stock", "allowed"), [
    (0, 9, False), (0, 10, True), (9, 100, True), (10, 100, False)])
def test_at_most_a_tenth_of_the_stock_on_social_contracts(social, stock, allowed):
    assert p.social_stock_allows(social, stock) is allowed
