"""What the commands share: a refusal said wholly in the app's language.

Click prints a ``ClickException`` as "Error: …" in English whatever the language; a command
that runs in the app's language (``dispatch.core.i18n.in_default_locale``) raises
``CommandRefused`` instead, worded when raised ("fel: …"), so a refusal inside a unit of work
still rolls it back.
"""

from __future__ import annotations

import click
from flask_babel import gettext


class CommandRefused(click.ClickException):
    """A refusal printed as "error: MESSAGE" in the language in force where it is raised;
    ``exit_code`` 1, or 2 for arguments that do not go together."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(gettext("error: %(message)s", message=message))
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(self.format_message(), file=file, err=True)
