"""Importing a register file: check it, apply it all or nothing, and record what happened.

``import_register`` is what the CLI and the admin page call. It works in the caller's session
and leaves the commit to the caller, except that the import record itself must survive a
rejection: the register changes are made in a SAVEPOINT that is rolled back when the file is
refused (or on a dry run), and the record is added after it.

On SQLite (one writer at a time) the file is read, checked and laid out first, on a snapshot
and without the writer's turn, into a plan with a staging file of its own (``imports.plan``);
only a file that passes is applied, in one short transaction, and web writes wait for that
alone. A rejected file never touches the register. Imports of one database run one at a
time. On PostgreSQL the import reads and writes in the caller's transaction as it goes.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dispatch.core.audit import record
from dispatch.core.database import end_reading, intent, release_turn
from dispatch.models import Landlord, RegisterImport, utcnow
from imports.apply import Applier, Geocoder, Progress, Rejected
from imports.first.writer import WaitingStage
from imports.plan import Plan, RegisterMoved, database_file, import_lock, remove_hidden
from imports.readers import StructureError, open_table
from imports.summary import Summary

# The register's tables, as a first import on PostgreSQL ANALYZEs them.
REGISTER_TABLES = ("properties", "entrances", "objects", "agreements", "people",
                   "agreement_objects", "agreement_parties")
# A landlord with no row in these takes the staged first import (``Applier._first_register``).
EMPTY_BEFORE_A_FIRST_REGISTER = ("objects", "entrances", "properties", "agreements", "people")


def file_sha256(path: Path) -> str:
    """The file's SHA-256, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _early_stage(session: Session, landlord: Landlord, path: Path,
                 output: str) -> WaitingStage | None:
    """A stage process started to wait (``WaitingStage``) if ``landlord`` has nothing in the
    register (the file is likely its first register: ``Applier._first_register`` decides),
    read on a connection of its own; None on a session bound to a connection (the tests').
    ``output``: the form of its chunks, ``"sqlite"`` or (PostgreSQL's COPY) ``"arrow"``."""
    engine = session.get_bind()
    if not isinstance(engine, Engine):
        return None
    identity = inspect(landlord).identity
    if identity is not None:
        with intent("read"), engine.connect() as connection:
            if connection.execute(text(
                    " UNION ALL ".join(f"SELECT 1 FROM {table} WHERE landlord_id = :landlord"  # noqa: S608
                                       for table in EMPTY_BEFORE_A_FIRST_REGISTER) + " LIMIT 1"),
                    {"landlord": identity[0]}).first():
                return None
    try:
        return WaitingStage(path, output)
    except OSError:
        return None


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
    sqlite = session.get_bind().dialect.name == "sqlite"
    # A first register's stage process starts while this one checks the file (its digest,
    # the limits, the encoding): its start-up and check overlap them.
    early = _early_stage(session, landlord, path, "sqlite" if sqlite else "arrow")
    try:
        sha = file_sha256(path)
        summary = Summary(landlord=landlord.code, file=filename, sha256=sha, dry_run=dry_run,
                          forced=force)
        if sqlite:
            summary = _import_planned(session, landlord, path, summary, force=force,
                                      dry_run=dry_run, geocoder=geocoder, progress=progress,
                                      early=early)
        else:
            _import_in_transaction(session, landlord, path, summary, force=force,
                                   dry_run=dry_run, geocoder=geocoder, progress=progress,
                                   early=early)
    finally:
        if early is not None:
            early.close()  # unused (not a first register, refused, unchanged) or done
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


def _run_file(applier: Applier, path: Path, outcome: Summary, *, force: bool,
              progress: Progress | None) -> bool:
    """Run ``applier`` over the file; False when the file is refused (``outcome`` then says
    why: status, reason, message)."""
    try:
        table = open_table(path)
        try:
            applier.run(table, force=force, progress=progress)
        finally:
            table.close()  # a file rejected before its rows were read is open still
    except (StructureError, Rejected) as exc:
        outcome.status = "rejected"
        outcome.reason = getattr(exc, "code", "structure")
        outcome.message = str(exc)
        return False
    return True


def _import_in_transaction(session: Session, landlord: Landlord, path: Path, summary: Summary,
                           *, force: bool, dry_run: bool, geocoder: Geocoder | None,
                           progress: Progress | None, early: WaitingStage | None = None) -> None:
    """PostgreSQL: read and apply in the caller's transaction, in a SAVEPOINT (readers keep
    their snapshot, and other writers do not wait for the import but for its rows).
    ``early``: a stage process started for a first register (``_early_stage``)."""
    last = _last_accepted(session, landlord)
    if last is not None and last.sha256 == summary.sha256 and not force:
        summary.status = "unchanged"
        summary.message = f"the same file was imported on {last.started_at:%Y-%m-%d %H:%M} UTC"
    else:
        savepoint = session.begin_nested()
        # The applier counts into the summary. On a rejection the counts say what the file
        # would have done: that is the help.
        applier = Applier(session, landlord, geocoder=geocoder, outcome=summary,
                          early_stage=early)
        try:
            accepted = _run_file(applier, path, summary, force=force, progress=progress)
        except BaseException:
            savepoint.rollback()
            raise
        if accepted and not dry_run:
            if applier.first_register:
                # A first register was COPYed into tables whose statistics say "empty": without
                # fresh ones the planner joins them by nested scans (minutes for a tenant
                # query). In this unit of work: ANALYZE counts the transaction's own rows.
                session.execute(text(f"ANALYZE {', '.join(REGISTER_TABLES)}"))
            savepoint.commit()
        else:
            savepoint.rollback()


def _import_planned(session: Session, landlord: Landlord, path: Path, summary: Summary,
                    *, force: bool, dry_run: bool, geocoder: Geocoder | None,
                    progress: Progress | None, early: WaitingStage | None = None) -> Summary:
    """SQLite: read, check and lay out the file without the writer's turn, then apply it in
    one short transaction (``imports.plan``). Imports of one database run one at a time."""
    database = database_file(session)
    directory = Path(database).parent if database else Path(tempfile.gettempdir())
    # Not waiting for another import while holding the writer's turn: that import's apply
    # needs it. (A caller that has written holds it anyway; its import runs in its turn.)
    release_turn(session)
    # A session on an engine of its own (the CLI's, the admin page's import process) can
    # copy a first register in turns on another connection; one bound to a connection that
    # holds a transaction (the tests') applies in that transaction.
    engine = session.get_bind() if isinstance(session.get_bind(), Engine) else None
    if inspect(landlord).identity is None:  # added just now: the caller's transaction goes on
        session.flush()
    landlord_id = inspect(landlord).identity[0]  # without loading it (that would begin)
    with import_lock(database):
        if engine is not None:
            remove_hidden(engine, landlord_id)  # what a stopped first import left
        for _attempt in range(3):
            outcome = replace(summary, warnings=[], errors=[])
            # The plan reads a snapshot of its own unless the caller's transaction has written
            # (then it reads, and waits, inside that transaction, which holds the turn anyway).
            outside = release_turn(session)
            plan = Plan(directory)
            plan.stage = early  # once: a second attempt starts a stage of its own
            if outside and engine is not None and not dry_run:
                # A first register's chunks go into the register (hidden) as they are read.
                plan.live = (engine, landlord_id)
            try:
                try:
                    with intent("read") if outside else nullcontext():
                        last = _last_accepted(session, landlord)
                        if last is not None and last.sha256 == outcome.sha256 and not force:
                            outcome.status = "unchanged"
                            outcome.message = (f"the same file was imported on "
                                               f"{last.started_at:%Y-%m-%d %H:%M} UTC")
                        else:
                            _make_plan(session, landlord, path, outcome, plan, force=force,
                                       geocoder=geocoder, progress=progress)
                except BaseException as exc:
                    if plan.copied:  # stopped while a first register's chunks went in
                        if outside:
                            end_reading(session)
                        plan.close()
                        remove_hidden(engine, landlord_id)
                    if isinstance(exc, RegisterMoved):
                        continue  # changed before the first chunk went in: plan again
                    raise
                if outside:
                    end_reading(session)  # the snapshot's end: nothing was written
                if outcome.status != "accepted" or dry_run:
                    if plan.copied:  # a refused first register copied while it was read
                        plan.close()
                        remove_hidden(engine, landlord_id)
                    return outcome
                if outside and engine is not None:
                    try:
                        plan.copy_in_turns(engine, landlord_id)
                    except RegisterMoved:
                        continue
                    except BaseException:
                        remove_hidden(engine, landlord_id)
                        raise
                with intent("write"):
                    savepoint = session.begin_nested()
                    try:
                        plan.apply(session, landlord_id)
                    except RegisterMoved:
                        savepoint.rollback()
                        if outside:
                            end_reading(session)
                        continue  # imported meanwhile by a writer outside this lock: again
                    except BaseException:
                        savepoint.rollback()
                        if plan.copied:  # the turns' rows go again, on another connection
                            end_reading(session)
                            remove_hidden(engine, landlord_id)
                        raise
                    savepoint.commit()
                return outcome
            finally:
                plan.close()
    raise RuntimeError("the register kept changing while the file was read")


def _make_plan(session: Session, landlord: Landlord, path: Path, outcome: Summary, plan: Plan,
               *, force: bool, geocoder: Geocoder | None, progress: Progress | None) -> None:
    """Run the Applier into ``plan``; a rejection sets ``outcome``'s status and reason."""
    applier = Applier(session, landlord, geocoder=geocoder, outcome=outcome, plan=plan)
    if not _run_file(applier, path, outcome, force=force, progress=progress):
        return
    plan.bases = dict(applier.bulk.read_bases)
