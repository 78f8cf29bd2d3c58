"""``dispatch import-register --landlord CODE FILE [--force] [--dry-run] [--json]``.

Exit status 0 when the file is accepted (or is the same as the last one), 1 when it is
rejected, 2 for a usage error.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from dispatch.core.database import unit_of_work
from dispatch.core.extensions import db
from dispatch.register.landlords import get_landlord
from imports.geocode import make_geocoder
from imports.service import import_register


def _progress_printer(show_bar: bool, progress_file: Path | None):
    state = {"bar": None}

    def progress(done: int, total: int) -> None:
        if progress_file is not None:
            tmp = progress_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"done": done, "total": total}))
            tmp.replace(progress_file)
        if show_bar:
            if state["bar"] is None:
                state["bar"] = click.progressbar(length=total, label="importing", file=sys.stderr)
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
    landlord = get_landlord(db.session, landlord_code)
    if landlord is None:
        click.echo(f"error: no landlord with code {landlord_code!r}", err=True)
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
    result = summary.as_json()
    if progress_file is not None:
        progress_file.with_suffix(".json").write_text(json.dumps(result))
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        _print_summary(summary)
    sys.exit(0 if summary.accepted else 1)


def _print_summary(s) -> None:
    what = "dry run: " if s.dry_run else ""
    click.echo(f"{what}{s.status} {s.file} for {s.landlord} (import {s.import_id}, "
               f"{s.seconds:.1f} s)")
    if s.message:
        click.echo(f"  {s.message}")
    click.echo(f"  rows {s.rows}: added {s.added}, changed {s.changed}, unchanged {s.unchanged}, "
               f"retired {s.retired}, skipped {s.skipped}, not on the map {s.not_placed}")
    for warning in s.warnings:
        click.echo(f"  warning: {warning}")
    for line, column, reason in s.errors[:20]:
        click.echo(f"  line {line}, {column}: {reason}")
    if s.error_count > 20:
        click.echo(f"  … {s.error_count - 20} more in the error report of import {s.import_id}")
