"""Running a register import from the admin page: in its own process, with progress on disk.

An import of a million rows is CPU work for many seconds; in the web process it would stall
every websocket of that gevent worker. So the page saves the upload and starts
``dispatch import-register`` as a child process, which writes its progress and, at the end,
its JSON summary next to the upload. The page polls for them. (Behind a load balancer the
polls must reach the same machine: the sticky sessions Socket.IO needs already do that.)

An import keeps what it says (message, warnings, the error report's reasons) in one
language-neutral form; ``shown_record`` and ``shown_report`` give them in the page's language
(``imports.messages.localise``), with the page's own words for forcing an import.
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from imports.messages import localise

ALLOWED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")


@dataclass
class RunState:
    """Where a started import is: ``running`` (with done/total), ``done`` or ``failed``."""

    state: str
    done: int = 0
    total: int = 0
    result: dict | None = None


def uploads_dir(instance_path: str) -> Path:
    return Path(instance_path) / "uploads"


def run_dir(instance_path: str, token: str) -> Path | None:
    """The folder of one run; None for a token that is not one of ours."""
    if not token.isalnum():
        return None
    folder = uploads_dir(instance_path) / token
    return folder if folder.is_dir() else None


def start_import(
    *, instance_path: str, database_url: str, upload: FileStorage, landlord_code: str,
    actor: str, user_id: int, force: bool, dry_run: bool,
) -> str:
    """Save the upload and start the import process; return the run's token."""
    token = secrets.token_hex(12)
    folder = uploads_dir(instance_path) / token
    folder.mkdir(parents=True)
    name = upload.filename or "register.csv"
    path = folder / (secure_filename(name) or "register.csv")
    upload.save(path)
    args = [
        sys.executable, "-c", "from dispatch.cli import main; main()", "import-register",
        "--landlord", landlord_code, str(path), "--json", "--filename", name,
        "--actor", actor, "--user-id", str(user_id),
        "--progress-file", str(folder / "progress"),
    ]
    if force:
        args.append("--force")
    if dry_run:
        args.append("--dry-run")
    env = {**os.environ, "DATABASE_URL": database_url, "DISPATCH_INSTANCE": instance_path}
    log = (folder / "log").open("wb")
    subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT,
                     stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    (folder / "started").write_text(str(os.getpid()))
    return token


def run_state(folder: Path) -> RunState:
    """Read a run's progress and result files."""
    result = folder / "progress.json"
    if result.exists():
        return RunState("done", result=json.loads(result.read_text()))
    progress = folder / "progress"
    done = total = 0
    if progress.exists():
        try:
            data = json.loads(progress.read_text())
            done, total = data["done"], data["total"]
        except (ValueError, KeyError):
            pass  # being replaced right now; the next poll reads it
    log = folder / "log"
    if log.exists() and b"Traceback" in log.read_bytes()[-20000:]:
        return RunState("failed", done, total)
    return RunState("running", done, total)


@dataclass
class ShownRecord:
    """An import record's words in the current language, for its page."""

    message: str | None
    warnings: list[str]
    errors: list[tuple[str, str, str]]  # line, column, reason


def _report_rows(report: str | None) -> list[list[str]]:
    if not report:
        return []
    return list(csv.reader(io.StringIO(report), delimiter=";"))


def shown_record(message: str | None, warnings: list[str] | None, report: str | None,
                 errors: int = 100) -> ShownRecord:
    """The record's message, warnings and first ``errors`` row errors, translated."""
    rows = _report_rows(report)[1:errors + 1]
    return ShownRecord(
        localise(message, web=True),
        [localise(w, web=True) for w in warnings or []],
        [(line, column, localise(reason, web=True)) for line, column, reason, *_ in rows],
    )


def shown_report(report: str) -> str:
    """The error report (``rad;kolumn;fel``) with its reasons translated."""
    from flask_babel import gettext

    rows = _report_rows(report)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow([gettext("line"), gettext("column"), gettext("reason")])
    writer.writerows([line, column, localise(reason, web=True)]
                     for line, column, reason, *_ in rows[1:])
    return out.getvalue()
