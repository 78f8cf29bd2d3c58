"""Störningsjour: the application factory.

``create_app`` builds one Flask app with its extensions, blueprints and CLI. It never touches
the database schema: ``dispatch db upgrade`` (the Procfile's ``release``) does that.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from dispatch.core import settings

__all__ = ["create_app"]


def create_app(overrides: dict | None = None) -> Flask:
    """Create and configure the application; ``overrides`` win over the environment (tests)."""
    instance_path = os.environ.get("DISPATCH_INSTANCE") or str(Path.cwd() / "instance")
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(settings.load(Path(app.instance_path)))
    if overrides:
        app.config.update(overrides)

    from dispatch.core import logs

    logs.init_app(app)

    from dispatch.core import database

    database.init_app(app)

    from dispatch.core import i18n, templating

    i18n.init_app(app)
    templating.init_app(app)

    from dispatch.auth import init_app as init_auth

    init_auth(app)

    from dispatch.core import errors

    errors.init_app(app)

    from dispatch.core import realtime

    realtime.init_app(app)

    from dispatch.admin import bp as admin_bp
    from dispatch.api import bp as api_bp
    from dispatch.callcenter import bp as callcenter_bp
    from dispatch.callcenter.api import bp as callcenter_api_bp
    from dispatch.field import bp as field_bp
    from dispatch.reports import bp as reports_bp
    from dispatch.reports.api import bp as reports_api_bp
    from dispatch.views import bp as main_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(callcenter_bp)
    app.register_blueprint(callcenter_api_bp)
    app.register_blueprint(field_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(reports_api_bp)

    from dispatch import cli

    cli.init_app(app)
    return app
