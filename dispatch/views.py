"""Pages every role shares: the start page after log-in and a health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import func, select, text

from dispatch.auth.access import roles_required
from dispatch.core.extensions import db
from dispatch.jobs.patrols import list_patrols
from dispatch.models import RentalObject
from dispatch.register.landlords import list_landlords

bp = Blueprint("main", __name__)


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


@bp.get("/healthz")
def healthz():
    """Liveness and database reachability, for the load balancer."""
    db.session.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})
