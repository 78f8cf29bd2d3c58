"""Authentication and roles: log-in pages, sessions, bearer tokens, who is on a websocket
(``sockets``), and the one place for role checks (``access``); tenants' accounts (``tenants``)
and their strong identification (``identity``: BankID, Finnish OpenID Connect), with their
scheduled sweeps (``jobs``). Imports core and models."""

from __future__ import annotations

from flask import Flask, current_app, request, session

from dispatch.auth.routes import bp
from dispatch.auth.service import user_for_token
from dispatch.core.extensions import csrf, db, login_manager
from dispatch.models import User


def bearer_token() -> str | None:
    """The token from ``Authorization: Bearer …``, if the request carries one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def signed_in_by_cookie() -> bool:
    """Whether the request's cookies log someone in: a session naming a user, or a remember-me
    cookie. A browser sends those to us on any site's behalf, so such a request must prove
    with the CSRF token that it comes from our own page, whatever other headers it carries."""
    remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    return session.get("_user_id") is not None or remember in request.cookies


def init_app(app: Flask) -> None:
    """Set up Flask-Login (session and bearer token), CSRF protection and the auth pages."""

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    # "basic", not "strong": a tablet's address changes every time 4G hands it over.
    login_manager.session_protection = "basic"
    csrf.init_app(app)

    @login_manager.user_loader
    def _load_user(user_id: str):
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and user.active else None

    # Flask-Login asks for the bearer token only when no cookie logs a user in: a request
    # with both is the cookie's user's, and the API checks its CSRF token (api/__init__.py).
    @login_manager.request_loader
    def _load_from_token(req):
        token = bearer_token()
        return user_for_token(db.session, token) if token else None

    app.register_blueprint(bp)
