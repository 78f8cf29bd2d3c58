"""Pages every role shares: the start page after log-in, the accessibility statement
(``/tillganglighet``, open to everyone, with a feedback form mailed to
``ACCESSIBILITY_FEEDBACK_TO``) and a health check.

``GET /healthz``, for the load balancer and for people:

- ``200 {"status": "ok"}``: the database answers (and Redis, when ``REDIS_URL`` is set).
  With ``"alarms": n`` when n open jobs have the acknowledgement timer's alarm standing (not
  accepted by the car in time, or back in the queue with no car free: ``jobs.ack_timer``).
- ``200 {"status": "degraded", "redis": "unreachable"}``: the database answers but the
  message queue does not. Still 200 on purpose: the process serves HTTP and its own sockets
  (events reach the tablets and consoles connected to it, and the re-send loop delivers jobs
  to its tablets), so a load balancer must keep it in; with every process in the same state,
  a 503 would turn a partial outage into a full one. Logged as a warning at every check.
- ``200 {"status": "warming", "search": "warming"}``: the process has just started and its
  address search index is still being built in the background (seconds for millions of
  objects); searches answer meanwhile straight from the database, typos not forgiven. 200:
  the process serves everything else, and every process of a fresh start is in this state.
- ``503 {"status": "unavailable", "database": "unreachable"}``: nothing useful can be done
  here; take the process out until the database is back (it reconnects by itself).
"""

from __future__ import annotations

import logging
from datetime import date

import redis
from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select, text
from wtforms import EmailField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from dispatch.auth.access import roles_required
from dispatch.core.errors import database_unavailable
from dispatch.core.extensions import db
from dispatch.core.mail import MailError, build_message, send_one, sender_address
from dispatch.jobs.ack_timer import standing_alarms
from dispatch.jobs.patrols import list_patrols
from dispatch.models import RentalObject
from dispatch.register.landlords import list_landlords
from dispatch.register.search import address_search

bp = Blueprint("main", __name__)
log = logging.getLogger(__name__)
REDIS_TIMEOUT_S = 1.0
STATEMENT_UPDATED = date(2026, 11, 26)  # change with the accessibility statement's content


@bp.get("/")
@roles_required("admin", "operator", "patrol", "landlord")
def home():
    """The start page: what this user can reach, and the state of landlords and patrols."""
    landlords = (
        list_landlords(db.session) if current_user.role != "landlord" else [current_user.landlord]
    )
    counts = dict(
        db.session.execute(
            select(RentalObject.landlord_id, func.count())
            .where(RentalObject.retired_at.is_(None))
            .group_by(RentalObject.landlord_id)
        ).all()
    )
    patrols = list_patrols(db.session) if current_user.role != "landlord" else []
    return render_template("home.html", landlords=landlords, object_counts=counts, patrols=patrols)


class AccessibilityFeedback(FlaskForm):
    """What a user reports about content they cannot use; only the message is required."""

    where = StringField(_l("Which page or part of the service"),
                        validators=[Optional(), Length(max=300)])
    message = TextAreaField(_l("What did not work for you?"), validators=[
        DataRequired(_l("Write what did not work.")), Length(max=4000)])
    email = EmailField(_l("Your e-mail address, if you want an answer"), validators=[
        Optional(), Email(_l("Not a valid e-mail address.")), Length(max=254)])
    submit = SubmitField(_l("Send"))


@bp.route("/tillganglighet", methods=["GET", "POST"])
def accessibility():
    """The accessibility statement (DIGG's model) and its feedback form, mailed to staff."""
    form = AccessibilityFeedback()
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                _mail_feedback(form)
            except (MailError, OSError) as exc:
                log.warning("accessibility feedback not sent",
                            extra={"error": getattr(exc, "code", type(exc).__name__)})
                form.message.errors.append(
                    _("Your message could not be sent just now. Try again in a while: "
                      "what you wrote is kept."))
                status = 503
            else:
                flash(_("Thank you. Your message has reached our staff."), "success")
                return redirect(url_for("main.accessibility", _anchor="feedback"))
        else:
            status = 400
    return render_template("accessibility.html", form=form,
                           updated=format_date(STATEMENT_UPDATED, "long")), status


def _mail_feedback(form: AccessibilityFeedback) -> None:
    config = current_app.config
    text_body = "\n\n".join([
        _("Accessibility feedback from the statement page"),
        f"{_('Which page or part of the service')}: {form.where.data or '-'}",
        f"{_('What did not work for you?')}\n{form.message.data}",
        f"{_('Your e-mail address, if you want an answer')}: {form.email.data or '-'}",
    ])
    send_one(config, build_message(
        sender=sender_address(config), to=config["ACCESSIBILITY_FEEDBACK_TO"],
        subject=_("Accessibility feedback"), text=text_body,
        headers={"Reply-To": form.email.data} if form.email.data else None))


@bp.get("/healthz")
def healthz():
    """Liveness, the database and the message queue (see the module's docstring)."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        log.warning("health check: database unreachable", extra={"error": str(exc)[:300]})
        return jsonify({"status": "unavailable", "database": "unreachable"}), 503
    body = {"status": "ok"}
    if address_search.status() == "warming":
        body = {"status": "warming", "search": "warming"}
    if current_app.config.get("REDIS_URL") and not _redis_answers():
        body = {"status": "degraded", "redis": "unreachable"}
    alarms = standing_alarms(db.session)
    if alarms:  # the acknowledgement timer's, for whoever watches when no console is open
        body["alarms"] = alarms
    return jsonify(body)


def _redis_answers() -> bool:
    """Whether the message queue's Redis answers a PING within a second; logs if not."""
    client = current_app.extensions.get("dispatch.healthz_redis")
    if client is None:
        client = redis.Redis.from_url(current_app.config["REDIS_URL"],
                                      socket_connect_timeout=REDIS_TIMEOUT_S,
                                      socket_timeout=REDIS_TIMEOUT_S)
        current_app.extensions["dispatch.healthz_redis"] = client
    try:
        return bool(client.ping())
    except redis.RedisError as exc:
        log.warning("health check: redis unreachable (events reach only the sockets of "
                    "this process)", extra={"error": str(exc)[:300]})
        return False
