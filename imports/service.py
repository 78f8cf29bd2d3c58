"""Importing a register file: check it, apply it all or nothing, and record what happened.

``import_register`` is what the CLI and the admin page call. It works in the caller's session
and leaves the commit to the caller, except that the import record itself must survive a
rejection: the register changes are made in a SAVEPOINT that is rolled back when the file is
refused (or on a dry run), and the record is added after it.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.core.audit import record
from dispatch.models import Landlord, RegisterImport, utcnow
from imports.apply import Applier, Geocoder, Progress, Rejected
from imports.readers import StructureError, open_table
from imports.summary import Summary


def file_sha256(path: Path) -> str:
    """The file's SHA-256, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _last_accepted(session: Session, landlord: Landlord) -> RegisterImport | None:
    return session.scalar(
        select(RegisterImport)
        .where(RegisterImport.landlord_id == landlord.id,
               RegisterImport.status == "accepted", RegisterImport.dry_run.is_(False))
        .order_by(RegisterImport.id.desc()).limit(1)
    )


def import_register(
    session: Session,
    landlord: Landlord,
    path: Path,
    *,
    filename: str | None = None,
    actor: str,
    user_id: int | None = None,
    force: bool = False,
    dry_run: bool = False,
    geocoder: Geocoder | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Import ``path`` as ``landlord``'s whole register; the caller commits."""
    started, started_at = time.monotonic(), utcnow()
    path = Path(path)
    filename = filename or path.name
    sha = file_sha256(path)
    summary = Summary(landlord=landlord.code, file=filename, sha256=sha, dry_run=dry_run,
                      forced=force)
    last = _last_accepted(session, landlord)
    if last is not None and last.sha256 == sha and not force:
        summary.status = "unchanged"
        summary.message = f"the same file was imported on {last.started_at:%Y-%m-%d %H:%M} UTC"
    else:
        savepoint = session.begin_nested()
        # The applier counts into the summary. On a rejection the counts say what the file
        # would have done: that is the help.
        applier = Applier(session, landlord, geocoder=geocoder, outcome=summary)
        try:
            table = open_table(path)
            try:
                applier.run(table, force=force, progress=progress)
            finally:
                table.close()  # a file rejected before its rows were read is open still
        except (StructureError, Rejected) as exc:
            savepoint.rollback()
            summary.status = "rejected"
            summary.reason = getattr(exc, "code", "structure")
            summary.message = str(exc)
        except BaseException:
            savepoint.rollback()
            raise
        else:
            if dry_run:
                savepoint.rollback()
            else:
                savepoint.commit()
    summary.seconds = round(time.monotonic() - started, 3)
    row = RegisterImport(
        landlord_id=landlord.id, user_id=user_id, actor=actor, filename=filename[:255],
        sha256=sha, size_bytes=path.stat().st_size, status=summary.status, forced=force,
        dry_run=dry_run, rows_total=summary.rows, added=summary.added, changed=summary.changed,
        retired=summary.retired, unchanged=summary.unchanged, skipped=summary.skipped,
        not_placed=summary.not_placed, message=summary.message, warnings=summary.warnings,
        error_report=summary.error_csv() if summary.errors else None, started_at=started_at,
        finished_at=utcnow(),
    )
    session.add(row)
    session.flush()
    summary.import_id = row.id
    record(session, "register.import", subject=f"landlord:{landlord.code}", user_id=user_id,
           details={"import_id": row.id, "status": summary.status, "dry_run": dry_run,
                    "added": summary.added, "changed": summary.changed,
                    "retired": summary.retired, "skipped": summary.skipped})
    return summary

