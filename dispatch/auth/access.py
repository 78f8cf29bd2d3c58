"""Who may do what: the one place where roles are checked.

Every view and socket handler states the roles it admits with ``roles_required``; an admin is
admitted everywhere. API callers get JSON 401/403; browsers are sent to a log-in page.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user


def has_role(user, *roles: str) -> bool:
    """Whether ``user`` is logged in with one of ``roles`` (admins have every role)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.role == "admin" or user.role in roles


def wants_json() -> bool:
    """Whether the caller is an API client rather than a browser page."""
    return request.path.startswith("/api/")


def log_in_first(login: str = "auth.login"):
    """Send a browser to the log-in page ``login`` (an endpoint), to come back here after."""
    return redirect(url_for(login, next=request.full_path.rstrip("?")))


def roles_required(*roles: str, login: str = "auth.login"):
    """Decorate a view so that only users with one of ``roles`` (or admins) reach it.

    A browser that is not logged in goes to the ``login`` endpoint first: the reports use
    ``login="reports.login"``, the page that also offers a one-time code by mail.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if wants_json():
                    abort(401)
                return log_in_first(login)
            if not has_role(current_user, *roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator
