"""Administration pages: register imports (upload, progress, history, error reports), the
tablets' device sessions and the cars' phones for SMS (``devices``, issue 19), the audit log
(``audit``), the patrol cars' areas (``areas``) and the check-in intervals per landlord and
category (``checkins``, issue 19).
May import core, models, auth, the domain packages and imports."""

from dispatch.admin import areas, audit, checkins, devices  # noqa: F401  (their pages are on bp)
from dispatch.admin.routes import bp

__all__ = ["bp"]
