"""Administration pages: register imports (upload, progress, history, error reports) and the
tablets' device sessions. May import core, models, auth, the domain packages and imports."""

from dispatch.admin import devices  # noqa: F401  (its pages are on bp)
from dispatch.admin.routes import bp

__all__ = ["bp"]
