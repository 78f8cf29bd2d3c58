"""Who is logged in to the tenant portal: the register's person, kept in Flask's session.

A tenant's log-in (``portal.accounts``) rotates the session and sets ``PERSON_KEY`` to the
``people.id`` of the person whose account it is (and ``ACCOUNT_KEY`` to the account). Every page
of the portal reads the person through ``current_person_id`` or ``tenant_required``: tests log a
tenant in by setting these two keys in the test client's session.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import redirect, request, session, url_for

PERSON_KEY = "portal_person_id"
ACCOUNT_KEY = "portal_account_id"
QUEUE_ONLY_KEY = "portal_queue_only"  # no agreement in force: the housing queue's pages only


def current_person_id() -> int | None:
    """The logged-in tenant's ``people.id``, or None."""
    value = session.get(PERSON_KEY)
    return value if isinstance(value, int) else None


def log_in(*, person_id: int, account_id: int, queue_only: bool = False) -> None:
    """Start a tenant's session: a new session (no fixation), then the two keys (and
    ``QUEUE_ONLY_KEY`` for a housing-queue applicant with no agreement in force)."""
    session.clear()
    session[PERSON_KEY] = person_id
    session[ACCOUNT_KEY] = account_id
    if queue_only:
        session[QUEUE_ONLY_KEY] = True
    session.permanent = True


def queue_only() -> bool:
    return bool(session.get(QUEUE_ONLY_KEY))


def log_out() -> None:
    session.pop(PERSON_KEY, None)
    session.pop(ACCOUNT_KEY, None)
    session.pop(QUEUE_ONLY_KEY, None)


def tenant_required(view: Callable) -> Callable:
    """A portal page for a logged-in tenant: anyone else goes to the portal's log-in page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_person_id() is None:
            return redirect(url_for("portal.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped
