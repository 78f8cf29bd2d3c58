"""The housing queue's rules as pure functions of dates (domain-rules.md, "Housing queue").

Nothing here reads the clock or the database: every function is given the days it needs, so
that points, renewal, refusal blocks, ages and notice periods are the same whenever (and
however late) they are computed. Points are never kept as a running counter.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.fi import hetu as _hetu
from stdnum.se import personnummer as _personnummer

FIVE_YEARS = 5 * 365  # 1,825 days: the most points anyone has
THREE_YEARS = 3 * 365  # 1,095: where the points drop to after five years
CYCLE = FIVE_YEARS - THREE_YEARS  # 730 days from 1,096 back up to 1,825

REGISTER_FROM_AGE = 16
RENT_FROM_AGE = 18
RENEWAL_MONTHS = 12
REFUSALS_TO_BLOCK = 5
FALSE_INFORMATION_BLOCK_MONTHS = 12
INTERNAL_MOVE_AFTER_MONTHS = 12

# Notice periods in calendar months, counted from the end of the month of notice.
NOTICE_MONTHS = {"standard": 3, "internal": 2, "internal_larger": 1}


# --- calendar helpers -----------------------------------------------------------------------

def add_months(day: date, months: int) -> date:
    """``day`` moved ``months`` calendar months on (or back), clamped to the month's last day
    (2024-02-29 + 12 months is 2025-02-28; 2025-01-31 + 1 month is 2025-02-28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def end_of_month(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


# --- points ---------------------------------------------------------------------------------

def points_for_days(days: int) -> int:
    """Points after ``days`` whole days in the queue: one a day up to 1,825, then a cycle from
    1,096 back up to 1,825 (day 1,826 → 1,096, day 2,555 → 1,825, day 2,556 → 1,096).
    A day before the start gives none."""
    if days <= 0:
        return 0
    if days <= FIVE_YEARS:
        return days
    return THREE_YEARS + (days - (FIVE_YEARS + 1)) % CYCLE + 1


def points(counted_from: date, today: date) -> int:
    """Points on ``today`` for an applicant whose points count from ``counted_from`` (the
    registration date, or the last reset to zero)."""
    return points_for_days((today - counted_from).days)


# --- renewal --------------------------------------------------------------------------------

def registered_until(last_renewed: date) -> date:
    """The last day an applicant stays registered: twelve calendar months after the last
    renewal (log-in or application), clamped to the month's last day. Removed the day after."""
    return add_months(last_renewed, RENEWAL_MONTHS)


def is_registered(last_renewed: date, today: date) -> bool:
    return last_renewed <= today <= registered_until(last_renewed)


def reminder_days(last_renewed: date, before: Sequence[int] = (30, 7)) -> list[date]:
    """The days the renewal reminders go out: ``before`` days before the last registered
    day."""
    last = registered_until(last_renewed)
    return [last - timedelta(days=n) for n in before]


# --- refusals and blocks --------------------------------------------------------------------

@dataclass(frozen=True)
class Block:
    """A block from the queue: from ``starts_on`` to ``ends_on`` (both included). A block for
    refusals also resets the points to zero from ``starts_on``."""

    starts_on: date
    ends_on: date
    reason: str  # "refusals" or "false_information"
    resets_points: bool

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


def refusal_blocks(refusals: Iterable[date]) -> list[Block]:
    """The blocks that refusals (a missed answer counts: its deadline's day) lead to: the fifth
    refusal within a year (the five within twelve calendar months, the first after the day
    twelve months before the fifth) blocks for the rest of that calendar year and resets the
    points. Refusals before a block do not count towards the next."""
    blocks: list[Block] = []
    window: list[date] = []
    for day in sorted(refusals):
        if blocks and day <= blocks[-1].ends_on:
            continue  # no offers while blocked; nothing counts twice
        window = [d for d in window if d > add_months(day, -12)]
        window.append(day)
        if len(window) >= REFUSALS_TO_BLOCK:
            blocks.append(Block(day, date(day.year, 12, 31), "refusals", True))
            window = []
    return blocks


def false_information_block(decided_on: date) -> Block:
    """Obviously false information: blocked one year (until the day before the same date next
    year); the points stay."""
    return Block(decided_on, add_months(decided_on, FALSE_INFORMATION_BLOCK_MONTHS)
                 - timedelta(days=1), "false_information", False)


def points_counted_from(registered_on: date, blocks: Iterable[Block], today: date) -> date:
    """Where the points count from on ``today``: the registration, or the latest reset (a
    refusal block that has started)."""
    resets = [b.starts_on for b in blocks if b.resets_points and b.starts_on <= today]
    return max([registered_on, *resets])


# --- age ------------------------------------------------------------------------------------

def _is_hetu(number: str) -> bool:
    try:
        _hetu.validate(number, allow_temporary=True)  # the test numbers are temporary ones
    except ValidationError:
        return False
    return True


HETU_CENTURIES = {"+": 1800, **dict.fromkeys("-UVWXY", 1900), **dict.fromkeys("ABCDEF", 2000)}


class InvalidPersonnummer(ValueError):
    """Not a valid personnummer or samordningsnummer (the message never holds the number)."""


def birth_date(number: str) -> date:
    """The date of birth in a personnummer or samordningsnummer (day + 60), in the stored
    12-digit form or as written (``YYYYMMDD-NNNC``, ``YYMMDD-NNNC``, ``+`` from 100),
    checked with python-stdnum (Luhn over the ten digits, a real date); or in a Finnish
    henkilötunnus (``DDMMYYCZZZQ``, the century sign C), checked with python-stdnum too."""
    if _is_hetu(number or ""):
        compact = _hetu.compact(number)
        century = HETU_CENTURIES[compact[6]]
        return date(century + int(compact[4:6]), int(compact[2:4]), int(compact[0:2]))
    compact = _personnummer.compact((number or "").strip())
    if len(compact) == 12 and compact.isdigit():
        compact = f"{compact[:8]}-{compact[8:]}"
    try:
        if len(compact) not in (11, 13) or compact[-5] not in "-+":
            raise ValidationError
        digits = compact[:-5] + compact[-4:]
        if not digits.isdigit():
            raise ValidationError
        luhn.validate(digits[-10:])
        at = len(compact) - 7  # where the day of birth stands
        day = int(compact[at:at + 2])
        if day > 60:  # samordningsnummer
            compact = f"{compact[:at]}{day - 60:02d}{compact[at + 2:]}"
        return _personnummer.get_birth_date(compact)
    except (ValidationError, ValueError) as exc:
        raise InvalidPersonnummer("not a valid personnummer or samordningsnummer") from exc


def age_on(born: date, today: date) -> int:
    """Whole years on ``today``. Someone born on 29 February turns a year older on 1 March in
    a common year (not on 28 February)."""
    years = today.year - born.year
    if (today.month, today.day) < (born.month, born.day):
        years -= 1
    return years


def may_register(number: str, today: date) -> bool:
    return age_on(birth_date(number), today) >= REGISTER_FROM_AGE


def may_rent(number: str, today: date) -> bool:
    return age_on(birth_date(number), today) >= RENT_FROM_AGE


# --- notice, internal moves -----------------------------------------------------------------

def notice_ends_on(given_on: date, kind: str = "standard") -> date:
    """The last day of an agreement after notice given on ``given_on``: the end of the month
    ``NOTICE_MONTHS[kind]`` calendar months after the month of notice (2025-01-15 → 2025-04-30,
    2023-11-30 → 2024-02-29; internal move two months, smaller to larger one month)."""
    return end_of_month(add_months(given_on.replace(day=1), NOTICE_MONTHS[kind]))


def may_move_internally(agreement_started: date, today: date, *, exception: bool = False)\
        -> bool:
    """A tenant with their own agreement may move internally after one year (staff may record
    an exception with a reason: ``exception``)."""
    return exception or today >= add_months(agreement_started, INTERNAL_MOVE_AFTER_MONTHS)


# --- assessment figures ---------------------------------------------------------------------

def income_suffices(yearly_income: int, monthly_rent: int) -> bool:
    """Income at least twice the annual rent (amounts in whole kronor)."""
    return yearly_income >= 2 * 12 * monthly_rent


def guarantor_suffices(guarantor_monthly_income: int, monthly_rent: int) -> bool:
    """A guarantor's monthly income at least five times the monthly rent."""
    return guarantor_monthly_income >= 5 * monthly_rent


def guarantee_earliest_end(starts_on: date, notice_given_on: date) -> date:
    """A guarantee runs two years; after that the guarantor may end it with nine months'
    notice, and it may be given so that it ends exactly at two years."""
    return max(add_months(starts_on, 24), add_months(notice_given_on, 9))


# --- ranking --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """One interest in a listing as the ranking sees it."""

    applicant_id: int
    points: int
    registered_on: date
    approved: bool = True


# The lottery's arithmetic: a ticket per applicant from the listing's recorded seed, the same
# in Python and in SQL (SQLite and PostgreSQL: 64-bit integers, no overflow below 2**31 ids).
LOTTERY_PRIME = 2_147_483_647  # 2**31 - 1
LOTTERY_MULTIPLIER = 48_271  # a primitive root modulo the prime (MINSTD)


def lottery_ticket(applicant_id: int, seed: int) -> int:
    """The applicant's draw in a listing's lottery: a permutation of ids that the seed picks
    (two rounds of a MINSTD step), replayable from the recorded seed alone."""
    value = (applicant_id + seed) % LOTTERY_PRIME
    value = (value * LOTTERY_MULTIPLIER + seed) % LOTTERY_PRIME
    return (value * LOTTERY_MULTIPLIER) % LOTTERY_PRIME


def rank(candidates: Iterable[Candidate], lottery_seed: int) -> list[Candidate]:
    """The approved candidates, most points first; ties by the earlier registration, then by
    the lottery drawn from ``lottery_seed`` (recorded with the listing, so it can be replayed),
    then by id."""
    approved = [c for c in candidates if c.approved]
    return sorted(approved, key=lambda c: (-c.points, c.registered_on,
                                           lottery_ticket(c.applicant_id, lottery_seed),
                                           c.applicant_id))


# --- priority (förtur) quotas ---------------------------------------------------------------

PRIORITY_SHARE_PERCENT = 20  # of the vacancies let per rolling six months
SOCIAL_STOCK_PERCENT = 10  # of the stock on social contracts
PRIORITY_WINDOW_MONTHS = 6
PRIORITY_ENDS_AFTER_REFUSALS = 2


def priority_window(today: date) -> tuple[date, date]:
    """The rolling six months that end today: (first day, last day), both included (today
    2026-08-31 → 2026-03-01 … 2026-08-31; the day six months back is out)."""
    return add_months(today, -PRIORITY_WINDOW_MONTHS) + timedelta(days=1), today


def priority_share_allows(priority_lets: int, all_lets: int) -> bool:
    """Whether one more vacancy may go to priority: with it counted, priority lets stay at
    most 20 % of the window's vacancies (1 of 5, 2 of 10)."""
    return 100 * (priority_lets + 1) <= PRIORITY_SHARE_PERCENT * (all_lets + 1)


def social_stock_allows(social_contracts: int, stock: int) -> bool:
    """Whether one more social contract keeps them at most 10 % of the stock."""
    return 100 * (social_contracts + 1) <= SOCIAL_STOCK_PERCENT * stock
