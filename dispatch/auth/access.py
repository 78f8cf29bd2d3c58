"""Who may do what: the one place where roles are checked.

Every view and socket handler states the roles it admits with ``roles_required``; an admin is
admitted everywhere. API callers get JSON 401/403; browsers are sent to the log-in page.
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


def roles_required(*roles: str):
    """Decorate a view so that only users with one of ``roles`` (or admins) reach it."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if wants_json():
                    abort(401)
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not has_role(current_user, *roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator
