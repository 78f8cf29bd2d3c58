"""Nights and mornings in the service's time zone (DISPATCH_TZ, Europe/Stockholm).

A night runs from 06:00 one day to 06:00 the next, local wall-clock time, and is named by the
evening's date; the morning after is the day it ends. The morning mail of morning D covers the
reports released between 06:00 on D-1 and 06:00 on D. 06:00 is never in the hour daylight
saving skips or repeats, so every night and morning is well defined, whether 23, 24 or 25 hours.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

MORNING_HOUR = 6
PURGE_AT = time(3, 30)  # the nightly deletion: after 03:00, out of the daylight-saving hour


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for a DISPATCH_TZ value."""
    return ZoneInfo(name)


def service_zone(config: Mapping | None = None) -> ZoneInfo:
    """The service's time zone (``DISPATCH_TZ``) from ``config``, by default the current app's."""
    return zone((current_app.config if config is None else config)["DISPATCH_TZ"])


def morning_start(morning: date, tz: ZoneInfo) -> datetime:
    """The instant (UTC) of 06:00 local time on ``morning``."""
    return datetime.combine(morning, time(MORNING_HOUR), tzinfo=tz).astimezone(UTC)


def morning_window(morning: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[06:00 the day before, 06:00 on the morning): what that morning's mail covers."""
    return morning_start(morning - timedelta(days=1), tz), morning_start(morning, tz)


def night_window(night: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[06:00 on the evening's date, 06:00 the morning after)."""
    return morning_start(night, tz), morning_start(night + timedelta(days=1), tz)


def night_of(instant: datetime, tz: ZoneInfo) -> date:
    """The night (evening's date) an instant belongs to: 01:30 on the 15th is the 14th's."""
    local = instant.astimezone(tz)
    return local.date() if local.time() >= time(MORNING_HOUR) else local.date() - timedelta(days=1)


def morning_of(instant: datetime, tz: ZoneInfo) -> date:
    """The morning whose mail covers something released at ``instant``."""
    return night_of(instant, tz) + timedelta(days=1)


def latest_morning(now: datetime, tz: ZoneInfo) -> date:
    """The most recent morning whose 06:00 has passed (today from 06:00, else yesterday)."""
    return night_of(now, tz)  # the night now running began on the latest morning's date


def purge_start(day: date, tz: ZoneInfo) -> datetime:
    """The instant (UTC) of the nightly deletion on ``day``."""
    return datetime.combine(day, PURGE_AT, tzinfo=tz).astimezone(UTC)


def purge_day(due: datetime, tz: ZoneInfo) -> date:
    """The day whose nightly deletion removes something that passes retention at ``due``."""
    local = due.astimezone(tz)
    return local.date() if local.time() < PURGE_AT else local.date() + timedelta(days=1)
