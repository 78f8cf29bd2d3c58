"""Störningsjour: the application factory.

``create_app`` builds one Flask app with its extensions, blueprints, socket handlers and CLI
commands. It never touches the database schema: ``dispatch db upgrade`` (the Procfile's
``release``) does that. Every request is one unit of work (``core.database.App``).
May import every package; nothing imports it but the entry points (``cli``, ``wsgi``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["create_app"]


def create_app(overrides: dict | None = None) -> Flask:
    """Create and configure the application; ``overrides`` win over the environment (tests).

    Everything is imported here, not at the top: the importer's stage process imports
    ``dispatch.register`` and ``dispatch.core`` modules and must not load the web app."""
    from dispatch import auth, commands
    from dispatch.admin import bp as admin_bp
    from dispatch.api import bp as api_bp
    from dispatch.callcenter import bp as callcenter_bp
    from dispatch.callcenter import events as callcenter_events
    from dispatch.callcenter.api import bp as callcenter_api_bp
    from dispatch.callcenter.sms_hooks import bp as sms_hooks_bp
    from dispatch.core import (
        database,
        errors,
        i18n,
        ids,
        logs,
        realtime,
        security,
        settings,
        templating,
    )
    from dispatch.core.database import App
    from dispatch.field import bp as field_bp
    from dispatch.field import events as field_events
    from dispatch.housing import bp as housing_bp
    from dispatch.portal import bp as portal_bp
    from dispatch.reports import bp as reports_bp
    from dispatch.reports.api import bp as reports_api_bp
    from dispatch.views import bp as main_bp

    instance_path = os.environ.get("DISPATCH_INSTANCE") or str(Path.cwd() / "instance")
    app = App(__name__, instance_path=instance_path, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(settings.load(Path(app.instance_path)))
    if overrides:
        app.config.update(overrides)

    logs.init_app(app)
    ids.init_app(app)
    database.init_app(app)
    i18n.init_app(app)
    templating.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    realtime.init_app(app)
    security.init_app(app)  # after Socket.IO: its ProxyFix wraps the websockets too
    callcenter_events.register()
    field_events.register()

    for blueprint in (main_bp, admin_bp, api_bp, callcenter_bp, callcenter_api_bp, field_bp,
                      reports_bp, reports_api_bp, portal_bp, housing_bp, sms_hooks_bp):
        app.register_blueprint(blueprint)
    commands.init_app(app)
    return app
