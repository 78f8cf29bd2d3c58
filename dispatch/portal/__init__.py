"""The tenant portal (Mina sidor): tenants' accounts and log-in (``accounts``: registration
through strong identification, activation, password reset, legacy PIN log-in) and their pages
(``pages``: agreements, invoices with OCR, fault reports, laundry booking, notice, messages,
written disturbance complaints), with the landlord staff's pages for them.
One blueprint ``bp`` under ``/portal``; who is logged in is ``session`` (``portal.session``).
Mina sidor: ``pages`` (the tenant's routes), ``staff`` (the landlord staff's, ``/portal/staff/``),
``invoices`` (the invoice/payment import, the invoice PDF, ``dispatch portal import-invoices``),
``service`` (the domain functions: every lookup through the tenant), ``rules`` (OCR, notice
end date), ``labels`` (the words for the codes).
May import core, models, auth (its tenant accounts and identity providers) and the domain
packages (register, jobs); no other feature's views.
"""

# The modules that add routes to the blueprint (``portal.blueprint.bp``).
from dispatch.portal import accounts as accounts  # noqa: F401
from dispatch.portal import invoices as invoices  # noqa: F401
from dispatch.portal import pages as pages  # noqa: F401
from dispatch.portal import staff as staff  # noqa: F401
from dispatch.portal.blueprint import bp

__all__ = ["bp"]
