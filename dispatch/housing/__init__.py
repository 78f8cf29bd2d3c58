"""The housing queue (intressebank, issue 16): applicants and their points, renewal and
refusals as pure functions of dates (``points``); the queue's operations on the database
(``service``: they flush, the request or job commits) on its tables
(``dispatch.models.housing``); the applicants' pages (``views``), the case officers' pages
(``staff``, under ``/bostad/staff/``), joining online through strong identification for
people who are not tenants too (``join``; the rules in ``accounts``, which also hooks the
queue into the tenant log-in: a queue applicant may log in, every log-in renews), the mails
(``mails``: offers, renewal reminders, the subscription, the joining account's activation)
and the scheduler's jobs (``jobs``).
One blueprint ``bp`` under ``/bostad``; who is logged in is the tenant portal's session
(``portal.session``: one account for the tenant pages and the queue).
The customer assessment's case (guarantors, previous landlords' references) is ``cases``;
tenants' exchanges and second-hand letting are ``tenancy`` (rules) and ``tenancy_pages``; the
landlord's vacancy file (CSV/XLSX → listings, all or nothing) is ``vacancies`` with its page and
``dispatch housing import-vacancies`` command in ``vacancy_pages``.
May import core, models, auth (the tenant accounts and identity providers), portal.session and
the domain packages (register, jobs); no other feature's views.
"""

# The modules that add routes to the blueprint (``housing.blueprint.bp``), and the log-in hooks.
from dispatch.housing import accounts as accounts  # noqa: F401
from dispatch.housing import join as join  # noqa: F401
from dispatch.housing import staff as staff  # noqa: F401
from dispatch.housing import tenancy_pages as tenancy_pages  # noqa: F401
from dispatch.housing import vacancy_pages as vacancy_pages  # noqa: F401
from dispatch.housing import views as views  # noqa: F401
from dispatch.housing.blueprint import bp

__all__ = ["bp"]
