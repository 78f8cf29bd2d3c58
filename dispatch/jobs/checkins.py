"""How often a car on site is asked "all well?" (issue 19): the settings' defaults
(``CHECKIN_INTERVAL_S``, 600; ``CHECKIN_FIGHT_THREAT_S``, 300 for a fight or threat) and an
admin's overrides (``CheckInSetting``) for a landlord, a category, or one landlord's jobs of one
category.

Which interval a job gets, most specific first: its landlord's row for its category; the row
for its category (any landlord); the fight-or-threat default for that category; its landlord's
row (any category); the default. A category's rule goes before a landlord's general one so
that a landlord who lengthens its interval does not lengthen it for fights and threats too
(give that landlord a row for the category to do that). The server's timer and the tablet's
prompt use the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.core.audit import record
from dispatch.models import CATEGORIES, Landlord, utcnow
from dispatch.models.safety import CheckInSetting

FIGHT_THREAT = "fight_threat"
DEFAULT_S, FIGHT_THREAT_S = 600, 300
MIN_S, MAX_S = 60, 4 * 3600  # an admin's interval: one minute to four hours


@dataclass(frozen=True)
class Defaults:
    default_s: int = DEFAULT_S
    fight_threat_s: int = FIGHT_THREAT_S


def defaults_from_config() -> Defaults:
    """The ``CHECKIN_*`` settings of the current app (the built-in ones outside an app)."""
    if not has_app_context():
        return Defaults()
    config = current_app.config
    return Defaults(int(config.get("CHECKIN_INTERVAL_S", DEFAULT_S)),
                    int(config.get("CHECKIN_FIGHT_THREAT_S", FIGHT_THREAT_S)))


class Overrides:
    """The admins' rows, read once (a timer pass asks for many jobs)."""

    def __init__(self, session: Session):
        self.rows = {(r.landlord_id, r.category): r.interval_s
                     for r in session.scalars(select(CheckInSetting))}

    def interval(self, landlord_id: int | None, category: str | None,
                 defaults: Defaults) -> int:
        for key in ((landlord_id, category), (None, category)):
            if key in self.rows:
                return self.rows[key]
        if category == FIGHT_THREAT:
            return defaults.fight_threat_s
        return self.rows.get((landlord_id, None), defaults.default_s)


def interval_s(session: Session, landlord_id: int | None, category: str | None,
               defaults: Defaults | None = None) -> int:
    """The check-in interval, in seconds, for a job of this landlord and category."""
    return Overrides(session).interval(landlord_id, category, defaults or defaults_from_config())


# The same rule as ``Overrides.interval``, as an SQL expression (PostgreSQL): for a dispatch's
# one statement (``dispatching.assign``), which then needs no read of its own for the tablet's
# interval. Parameters: ``ci_landlord``, ``ci_category`` and ``ci_default``, ``ci_fight``
# (``Defaults``); ``tests/safety/test_check_in_settings.py`` checks it against the rule.
INTERVAL_SQL = (
    "COALESCE("  # noqa: S608 (constants only)
    "(SELECT interval_s FROM checkin_settings WHERE landlord_id = :ci_landlord "
    "AND category = :ci_category LIMIT 1), "
    "(SELECT interval_s FROM checkin_settings WHERE landlord_id IS NULL "
    "AND category = :ci_category LIMIT 1), "
    f"CASE WHEN :ci_category = '{FIGHT_THREAT}' THEN :ci_fight END, "
    "(SELECT interval_s FROM checkin_settings WHERE landlord_id = :ci_landlord "
    "AND category IS NULL LIMIT 1), "
    ":ci_default)")


def interval_sql_params(landlord_id: int | None, category: str | None,
                        defaults: Defaults | None = None) -> dict:
    """The bound values of ``INTERVAL_SQL`` for a job of this landlord and category."""
    defaults = defaults or defaults_from_config()
    return {"ci_landlord": landlord_id, "ci_category": category,
            "ci_default": defaults.default_s, "ci_fight": defaults.fight_threat_s}


class SettingError(ValueError):
    """An admin's setting refused: ``code`` stable, ``field`` the form's field it belongs to."""

    def __init__(self, code: str, field: str, message: str):
        super().__init__(message)
        self.code, self.field, self.message = code, field, message


def settings(session: Session) -> list[CheckInSetting]:
    """Every override, the landlord-wide ones before the per-category ones."""
    rows = list(session.scalars(select(CheckInSetting)))
    names = {landlord.id: landlord.name for landlord in session.scalars(select(Landlord))}
    return sorted(rows, key=lambda r: (r.landlord_id is None, names.get(r.landlord_id, ""),
                                       r.category or ""))


def set_interval(session: Session, *, landlord_id: int | None, category: str | None,
                 interval_s: int, user_id: int | None, ip: str | None = None
                 ) -> CheckInSetting:
    """Create or change the override for (landlord, category); audited."""
    if landlord_id is None and category is None:
        raise SettingError("nothing_chosen", "landlord",
                           "choose a landlord, a category or both")
    if landlord_id is not None and session.get(Landlord, landlord_id) is None:
        raise SettingError("unknown_landlord", "landlord", f"no landlord {landlord_id}")
    if category is not None and category not in CATEGORIES:
        raise SettingError("unknown_category", "category", f"no category {category}")
    if isinstance(interval_s, bool) or not isinstance(interval_s, int) \
            or not MIN_S <= interval_s <= MAX_S:
        raise SettingError("bad_interval", "minutes", f"from {MIN_S} to {MAX_S} seconds")
    row = session.scalar(select(CheckInSetting).where(
        CheckInSetting.landlord_id.is_(None) if landlord_id is None
        else CheckInSetting.landlord_id == landlord_id,
        CheckInSetting.category.is_(None) if category is None
        else CheckInSetting.category == category))
    before = row.interval_s if row is not None else None
    if row is None:
        row = CheckInSetting(landlord_id=landlord_id, category=category, interval_s=interval_s)
        session.add(row)
    row.interval_s, row.changed_at, row.changed_by_id = interval_s, utcnow(), user_id
    session.flush()
    record(session, "checkin.setting_changed", subject=f"checkin_setting:{row.id}", ip=ip,
           user_id=user_id, details={"landlord_id": landlord_id, "category": category,
                                     "interval_s": interval_s, "before_s": before})
    return row


def remove_setting(session: Session, row: CheckInSetting, *, user_id: int | None,
                   ip: str | None = None) -> None:
    """Take an override away (the next rule applies again); audited."""
    record(session, "checkin.setting_removed", subject=f"checkin_setting:{row.id}", ip=ip,
           user_id=user_id, details={"landlord_id": row.landlord_id, "category": row.category,
                                     "interval_s": row.interval_s})
    session.delete(row)
    session.flush()
