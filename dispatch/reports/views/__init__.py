"""The reports' pages on one blueprint (``common.bp``): ``login``, ``reading``, ``review``.
May import core, models, auth and the reports' plain modules; never another package's views.
"""

from dispatch.reports.views import login, reading, review  # noqa: F401  (their pages are on bp)
from dispatch.reports.views.common import bp

__all__ = ["bp"]
