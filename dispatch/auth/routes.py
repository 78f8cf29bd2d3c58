"""Log-in and log-out pages for every role."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from dispatch.auth.forms import LoginForm
from dispatch.auth.service import authenticate
from dispatch.core.audit import record
from dispatch.core.extensions import db

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only follow ``next`` to a path on this site, never to another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def client_ip() -> str | None:
    """The client's address (behind a proxy, configure ProxyFix so that this is the real one)."""
    return request.remote_addr


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the log-in form; on success go on to ``next`` or the user's start page."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")) or url_for("main.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        cfg = current_app.config

        result = authenticate(
            db.session,
            form.email.data,
            form.password.data,
            ip=client_ip(),
            max_per_account=cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
            max_per_address=cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"],
            window=timedelta(minutes=cfg["LOGIN_FAILURE_WINDOW_MINUTES"]),
        )
        if result.user is not None:
            login_user(result.user, remember=result.user.role == "patrol")
            return redirect(_safe_next(request.args.get("next")) or url_for("main.home"))
        if result.reason == "locked":
            flash(_("Too many failed attempts. Wait a few minutes and try again."), "error")
            status = 429
        else:
            flash(_("Wrong e-mail address or password."), "error")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out (POST with the CSRF token, so that a link on another site cannot do it)."""
    if current_user.is_authenticated:
        record(
            db.session,
            "logout",
            subject=current_user.email,
            ip=client_ip(),
            user_id=current_user.id,
        )
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))
