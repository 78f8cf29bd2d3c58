"""Administration pages: register imports (upload, progress, history, error reports), the
tablets' device sessions and the audit log (``audit``). May import core, models, auth, the
domain packages and imports."""

from dispatch.admin import audit, devices  # noqa: F401  (their pages are on bp)
from dispatch.admin.routes import bp

__all__ = ["bp"]
