"""The housing queue (intressebank, issue 16): applicants and their points, renewal and
refusals as pure functions of dates (``points``), the queue's tables (``dispatch.models.housing``),
the applicants' and the case officers' pages (``views``) and the queue's scheduled jobs.
One blueprint ``bp`` under ``/bostad``; who is logged in is the tenant portal's session
(``portal.session``: one account for the tenant pages and the queue).
May import core, models, auth (the tenant accounts and identity providers), portal.session and
the domain packages (register, jobs); no other feature's views.
"""

from dispatch.housing.blueprint import bp

__all__ = ["bp"]
