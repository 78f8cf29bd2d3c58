"""Instants on the wire: ISO 8601 text out, ISO 8601 text with a zone in (tablets stamp what
they did with their own clock, and a time without a zone is ambiguous twice a year)."""

from __future__ import annotations

from datetime import datetime


def iso(value: datetime | None) -> str | None:
    """``value`` as ISO 8601 text, or None."""
    return value.isoformat() if value else None


def parse_instant(value) -> datetime | None:
    """An ISO 8601 instant (``Z`` allowed) with its zone; None for no value. Raises ValueError
    saying what is wrong ("must be an ISO 8601 time", "must carry a time zone")."""
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise ValueError("must carry a time zone")
    return parsed


def instant_or_none(value) -> datetime | None:
    """Like ``parse_instant``, but None for anything that is not a zoned instant."""
    try:
        return parse_instant(value)
    except ValueError:
        return None
