"""The ``dispatch`` console script: a Flask CLI group over the app factory
(../shared/CONTRACT.md). The commands themselves are in ``dispatch.commands``."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from dispatch import create_app


@click.group(
    cls=FlaskGroup, create_app=create_app, add_default_commands=False, add_version_option=False
)
def main() -> None:
    """Störningsjour: call centre, patrol tablets and landlord reports."""
