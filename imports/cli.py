"""``dispatch import-register --landlord CODE FILE [--force] [--dry-run] [--json]``.

Exit status 0 when the file is accepted (or is the same as the last one), 1 when it is
rejected, 2 for a usage error. Everything it prints is in the configured language
(``BABEL_DEFAULT_LOCALE``): the summary's words, and the import's own messages through
``imports.messages.localise`` (``--json`` too: its ``message``, ``warnings`` and each error's
``reason``; the codes ``status``, ``reason`` and ``column`` stay as they are).
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale, gettext, ngettext

from dispatch.core.database import unit_of_work
from dispatch.core.extensions import db
from dispatch.register.landlords import get_landlord
from imports.geocode import make_geocoder
from imports.messages import localise
from imports.service import import_register


def _progress_printer(show_bar: bool, progress_file: Path | None):
    state = {"bar": None}
    label = gettext("importing")

    def progress(done: int, total: int) -> None:
        if progress_file is not None:
            tmp = progress_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"done": done, "total": total}))
            tmp.replace(progress_file)
        if show_bar:
            if state["bar"] is None:
                state["bar"] = click.progressbar(length=total, label=label, file=sys.stderr)
                state["bar"].__enter__()
            bar = state["bar"]
            bar.update(done - bar.pos)

    def close() -> None:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)

    return progress, close


@click.command("import-register")
@click.option("--landlord", "landlord_code", required=True, help="The landlord's code.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Import even if more than 20 % would be retired.")
@click.option("--dry-run", is_flag=True, help="Report what the import would do; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--filename", hidden=True, help="The name to record (uploads keep theirs).")
@click.option("--actor", hidden=True, help="Who imports (the admin page passes the user).")
@click.option("--user-id", hidden=True, type=int)
@click.option("--progress-file", hidden=True, type=click.Path(path_type=Path))
@with_appcontext
def import_register_command(landlord_code, file, force, dry_run, as_json, filename, actor,
                            user_id, progress_file) -> None:
    """Import a landlord's register file (CSV or XLSX, see register-format.md)."""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "sv")):
        _import(landlord_code, file, force, dry_run, as_json, filename, actor, user_id,
                progress_file)


def _import(landlord_code, file, force, dry_run, as_json, filename, actor, user_id,
            progress_file) -> None:
    landlord = get_landlord(db.session, landlord_code)
    if landlord is None:
        click.echo(gettext("error: no landlord with code %(code)s", code=repr(landlord_code)),
                   err=True)
        sys.exit(2)
    progress, close = _progress_printer(sys.stderr.isatty() and not as_json, progress_file)
    try:
        with unit_of_work():
            summary = import_register(
                db.session, landlord, file, filename=filename, force=force, dry_run=dry_run,
                actor=actor or f"cli:{getpass.getuser()}", user_id=user_id,
                geocoder=make_geocoder(current_app.config.get("GEOCODER")), progress=progress,
            )
    finally:
        close()
    result = localised(summary.as_json())
    if progress_file is not None:
        progress_file.with_suffix(".json").write_text(json.dumps(result))
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        _print_summary(summary)
    sys.exit(0 if summary.accepted else 1)


def localised(result: dict) -> dict:
    """The ``--json`` object with its words in the current language (codes as they are)."""
    result = dict(result)
    result["message"] = localise(result["message"])
    result["warnings"] = [localise(w) for w in result["warnings"]]
    result["errors"] = [{**e, "reason": localise(e["reason"])} for e in result["errors"]]
    return result



def _print_summary(s) -> None:
    from flask_babel import format_decimal

    from dispatch.core.templating import IMPORT_STATUS_NAMES

    status = str(IMPORT_STATUS_NAMES.get(s.status, s.status))
    head = gettext("%(status)s: %(file)s for %(landlord)s (import %(id)s, %(seconds)s s)",
                   status=status, file=s.file, landlord=s.landlord, id=s.import_id,
                   seconds=format_decimal(round(s.seconds, 1), format="#,##0.0"))
    click.echo(gettext("Dry run: %(summary)s", summary=head) if s.dry_run else head)
    if s.message:
        click.echo(f"  {localise(s.message)}")
    click.echo("  " + ngettext(
        "%(num)s row: added %(added)s, changed %(changed)s, unchanged %(unchanged)s, "
        "retired %(retired)s, skipped %(skipped)s, not on the map %(not_placed)s",
        "%(num)s rows: added %(added)s, changed %(changed)s, unchanged %(unchanged)s, "
        "retired %(retired)s, skipped %(skipped)s, not on the map %(not_placed)s",
        s.rows, added=s.added, changed=s.changed, unchanged=s.unchanged, retired=s.retired,
        skipped=s.skipped, not_placed=s.not_placed))
    for warning in s.warnings:
        click.echo("  " + gettext("warning: %(warning)s", warning=localise(warning)))
    for line, column, reason in s.errors[:20]:
        click.echo("  " + gettext("line %(line)s, %(column)s: %(reason)s", line=line,
                                  column=column, reason=localise(reason)))
    if s.error_count > 20:
        click.echo("  " + ngettext("… %(num)s more in the error report of import %(id)s",
                                   "… %(num)s more in the error report of import %(id)s",
                                   s.error_count - 20, id=s.import_id))
