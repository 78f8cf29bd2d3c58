"""Log-in and log-out pages for every role."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from dispatch.auth.forms import LoginForm
from dispatch.auth.lockout import LockoutPolicy
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
    """The client's address: behind ``TRUSTED_PROXIES`` proxies, the one they forwarded
    (ProxyFix, ``dispatch/core/security.py``), which the log-in limits count by."""
    return request.remote_addr


def locked_message(retry_after: int) -> str:
    """What a locked-out log-in is told: when to try again, in the user's language."""
    return _("Too many failed attempts. Try again %(when)s.",
             when=format_timedelta(timedelta(seconds=retry_after), threshold=1,
                                   add_direction=True))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the log-in form; on success go on to ``next`` or the user's start page."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")) or url_for("main.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        result = authenticate(db.session, form.email.data, form.password.data, ip=client_ip(),
                              policy=LockoutPolicy.from_config(current_app.config))
        if result.user is not None:
            login_user(result.user, remember=result.user.role == "patrol")
            return redirect(_safe_next(request.args.get("next")) or url_for("main.home"))
        if result.reason == "locked":
            flash(locked_message(result.retry_after), "error")
            page = render_template("auth/login.html", form=form)
            return page, 429, {"Retry-After": str(result.retry_after)}
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
