"""Authentication and roles: log-in pages, sessions, bearer tokens, who is on a websocket
(``sockets``), and the one place for role checks (``access``). Imports core and models."""

from __future__ import annotations

from flask import Flask, request

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

    @login_manager.request_loader
    def _load_from_token(req):
        token = bearer_token()
        return user_for_token(db.session, token) if token else None

    app.register_blueprint(bp)
