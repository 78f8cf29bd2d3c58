"""Tenants' accounts: log-in, registration through strong identification, activation, reset."""

from __future__ import annotations

from flask import render_template_string

from dispatch.portal.blueprint import bp


@bp.get("/login")
def login():
    # Placeholder until the account pages land (issue 15).
    return render_template_string("<p>{{ _('Inloggning kommer snart.') }}</p>")
