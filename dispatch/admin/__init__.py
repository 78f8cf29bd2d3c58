"""Administration pages: register imports (upload, progress, history, error reports), the
tablets' device sessions, the audit log (``audit``) and the patrol cars' areas (``areas``).
May import core, models, auth, the domain packages and imports."""

from dispatch.admin import areas, audit, devices  # noqa: F401  (their pages are on bp)
from dispatch.admin.routes import bp

__all__ = ["bp"]
