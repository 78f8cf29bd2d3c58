"""Incident reports from review to deletion: pages (``views.bp``), ``api``, and plain modules.
May import core, models, auth, api (its blueprint) and the jobs domain; no other feature's views.
"""

from dispatch.reports.views import bp

__all__ = ["bp"]
