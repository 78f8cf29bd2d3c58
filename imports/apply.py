"""Applying a register file to a landlord's register, all or nothing.

The file is read once, in chunks. Each valid row is compared with the object of the same
objektsnummer by a digest of its normalised values: unchanged rows cost a dictionary look-up;
new rows are written in bulk; changed rows are updated. Objects missing from the file are
retired. Everything happens inside one SAVEPOINT of the caller's transaction, released only
when the file passes the rules (at most 5 % bad rows; at most 20 % of the register retired
unless forced) and rolled back otherwise or on a dry run, so readers never see half a register.
On SQLite the Applier is given a ``Plan`` (``imports.plan``): it then only reads, on a snapshot,
and its writes go into the plan, applied afterwards in the writer's turn.

A landlord's first register, where every row is new, is parsed in a second process and
copied in with INSERT ... SELECT (SQLite) or COPY (PostgreSQL) instead (``imports.first``);
the rules and the summary are the same.
"""

from __future__ import annotations

import gc
import operator
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date, timedelta
from functools import partial

from sqlalchemy import Numeric, bindparam, text
from sqlalchemy.orm import Session

from dispatch.core.database import end_reading
from dispatch.models import Landlord, utcnow
from dispatch.register.addresses import format_postnummer
from imports import messages
from imports.bulk import Bulk
from imports.first import postgres, writer
from imports.plan import Plan
from imports.readers import Table
from imports.rows import (
    IDENTITY_COLUMNS,
    Row,
    RowError,
    RowParser,
    convert_sweref,
    duplicate,
    in_area,
)
from imports.summary import Summary

CHUNK_ROWS = 5000
MAX_BAD_SHARE = 0.05
MAX_RETIRED_SHARE = 0.20

Progress = Callable[[int, int], None]
Geocoder = Callable[[str], "tuple[float, float] | None"]


class Rejected(Exception):
    """The file is refused whole; nothing was changed. ``code`` says which rule."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@contextmanager
def _no_cyclic_gc():
    """No cyclic garbage collection while a file is applied: the register held in memory is
    millions of small tuples and no cycles, and every collection would walk them all."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Ids:
    """Primary keys reserved in blocks, so that a million rows cost a handful of round trips."""

    def __init__(self, bulk: Bulk, table: str, block: int = 20000):
        self.bulk, self.table, self.block, self.pool = bulk, table, block, []

    def next(self) -> int:
        if not self.pool:
            self.pool = self.bulk.reserve_ids(self.table, self.block)
            self.pool.reverse()
        return self.pool.pop()


class Applier:
    """Applies one opened file to one landlord's register in the session's transaction."""

    def __init__(
        self,
        session: Session,
        landlord: Landlord,
        *,
        geocoder: Geocoder | None = None,
        today: date | None = None,
        staged: bool = True,
        outcome: Summary | None = None,
        plan: Plan | None = None,
        early_stage: writer.WaitingStage | None = None,
    ):
        self.session = session
        self.landlord = landlord
        self.geocoder = geocoder
        self.now = utcnow()
        self.today = today or date.today()
        # What applying the file did: the counts, errors and warnings of ``outcome``.
        self.outcome = outcome if outcome is not None else Summary()
        self.bulk = Bulk(session)
        # A first register goes the staged way (imports.first) unless this is False.
        self.staged = staged
        self.first_register = False  # it went the staged way
        # With a plan (imports.plan, SQLite), the register is only read, on the session's
        # snapshot, and every write goes into the plan, to be applied later in one short
        # transaction; without one, writes go to the session's transaction as they come.
        self.plan = plan
        # PostgreSQL: a stage process started before the file was checked (``WaitingStage``),
        # for a first register's COPY; the SQLite path's is the plan's (``Plan.stage``).
        self.early_stage = early_stage

    # -- writing ------------------------------------------------------------------------
    def _insert(self, table: str, columns, rows) -> int:
        if self.plan is not None:
            return self.plan.insert(table, columns, list(rows))
        return self.bulk.insert(table, columns, rows)

    def _execute(self, statement, params) -> None:
        if self.plan is not None:
            self.plan.execute(statement, params)
        else:
            self.session.execute(statement, params)

    # -- loading what the register holds now -------------------------------------------
    def _load(self) -> None:
        # Plain driver SQL with the (integer) landlord id inline: a million rows come back
        # without per-row type processing. Agreements and people are looked up per chunk,
        # only for the rows that need them (see _lookup_keys).
        lid = int(self.landlord.id)
        run = self.session.connection().exec_driver_sql
        # objektsnummer → (id, row digest, retired, entrance id), read on the DB-API cursor
        # itself: a million rows through the Result's fetchone cost seconds.
        cursor = self.bulk.raw.cursor()
        try:
            cursor.execute(
                "SELECT objektsnummer, id, row_hash, retired_at IS NOT NULL, entrance_id "  # noqa: S608
                f"FROM objects WHERE landlord_id = {lid}"
            )
            self.objects = {r[0]: (r[1], r[2], bool(r[3]), r[4]) for r in cursor}
        finally:
            cursor.close()
        self.active_before = sum(1 for v in self.objects.values() if not v[2])
        # address_key → [id, lat, lon, position_source, door_code]
        self.entrances = {
            r[0]: [r[1], r[2], r[3], r[4], r[5]]
            for r in run(
                "SELECT address_key, id, lat, lon, position_source, door_code "  # noqa: S608
                f"FROM entrances WHERE landlord_id = {lid}"
            )
        }
        self.properties = dict(
            run(f"SELECT designation, id FROM properties WHERE landlord_id = {lid}").all()  # noqa: S608
        )
        # A landlord with no agreements and no people yet (a first import) needs no look-ups.
        self.fresh = not run(
            f"SELECT 1 FROM agreements WHERE landlord_id = {lid} UNION ALL "  # noqa: S608
            f"SELECT 1 FROM people WHERE landlord_id = {lid} LIMIT 1"
        ).first()
        self.agreements: dict[str, int] = {}
        self.people: dict[str, int] = {}
        self._looked_up: set[tuple[str, str]] = set()

    def _lookup_keys(self, rows: list[Row]) -> None:
        """Load the ids of the agreements and tenants these rows name, if they exist."""
        if self.fresh:
            return
        wanted = {"avtalsnummer": set(), "kundnummer": set()}
        for row in rows:
            for column in ("avtalsnummer", "kundnummer"):
                value = getattr(row, column)
                if value is not None and (column, value) not in self._looked_up:
                    wanted[column].add(value)
        for column, table, cache in (("avtalsnummer", "agreements", self.agreements),
                                     ("kundnummer", "people", self.people)):
            values = sorted(wanted[column])
            self._looked_up.update((column, v) for v in values)
            for start in range(0, len(values), 2000):
                found = self.session.execute(
                    text(f"SELECT {column}, id FROM {table} "  # noqa: S608 (our names)
                         f"WHERE landlord_id = :l AND {column} IN :values")
                    .bindparams(bindparam("values", expanding=True)),
                    {"l": self.landlord.id, "values": values[start:start + 2000]},
                )
                cache.update(found.all())

    # -- the run ----------------------------------------------------------------------
    def run(
        self, table: Table, *, force: bool = False, progress: Progress | None = None
    ) -> Summary:
        """Apply the whole file; raise Rejected (the caller rolls back) if a rule is broken."""
        parser = RowParser(table.header)
        if parser.missing:
            raise Rejected("missing_columns", messages.text(
                messages.ngettext("required column missing: %(columns)s",
                                  "required columns missing: %(columns)s"),
                len(parser.missing), columns=", ".join(parser.missing)))
        out = self.outcome
        # Columns a file may leave out: without them, what the register holds stays.
        self.has_ends = "avtal_till" in parser.index
        self.has_identities = any(c in parser.index for c in IDENTITY_COLUMNS)
        if parser.unknown:
            out.warnings.append("unknown columns ignored: " + ", ".join(parser.unknown))
        if parser.duplicate_columns:
            out.warnings.append(
                "repeated columns, first one used: " + ", ".join(parser.duplicate_columns)
            )
        if self.plan is None:
            self.bulk.lock(self.landlord.id)
        else:  # the apply checks that the register is still the one read here
            self.plan.version = self.session.execute(
                text("SELECT register_version FROM landlords WHERE id = :l"),
                {"l": self.landlord.id}).scalar()
        self._load()
        self.ids = {
            t: _Ids(self.bulk, t)
            for t in ("entrances", "properties", "objects", "people", "agreements")
        }
        self.seen: dict[str, int] = {}
        self.bad: set[str] = set()
        self.rows_per_entrance: dict[int, int] = {}
        self.entrance_updates: dict[int, tuple] = {}
        self.person_updates: dict[int, tuple] = {}
        self.agreements_with_parties: set[int] = set()
        with _no_cyclic_gc():
            if self.staged and self._first_register():
                self.first_register = True
                self._run_staged(table, parser, progress)
            else:
                self._run_rows(table, parser, progress)
        # Sorted, whichever pass found them (a position outside the map is found per chunk).
        out.errors.sort(key=lambda error: error[0])
        if out.rows == 0:
            raise Rejected("empty", "the file has a header but no rows")
        if out.skipped > MAX_BAD_SHARE * out.rows:
            raise Rejected("too_many_errors", messages.text(
                messages.ngettext(
                    "%(skipped)s of %(rows)s rows has an error (%(share)s, more than %(limit)s)",
                    "%(skipped)s of %(rows)s rows have errors (%(share)s, more than %(limit)s)"),
                out.skipped, skipped=out.skipped, rows=out.rows,
                share=f"{out.skipped / out.rows:.1%}", limit=f"{MAX_BAD_SHARE:.0%}"))
        retire = [
            oid
            for number, (oid, _h, retired, _e) in self.objects.items()
            if not retired and number not in self.seen and number not in self.bad
        ]
        out.retired = len(retire)
        if (
            not force
            and self.active_before
            and out.retired > MAX_RETIRED_SHARE * self.active_before
        ):
            # Where it is shown, the message says how to force it (messages.localise).
            raise Rejected("too_many_retired", messages.text(
                messages.RETIRE_ID, self.active_before, retired=out.retired,
                total=self.active_before, share=f"{out.retired / self.active_before:.0%}",
                limit=f"{MAX_RETIRED_SHARE:.0%}"))
        self._retire(retire)
        self._finish_entrances()
        self._flush_updates()
        self._execute(
            text("UPDATE landlords SET register_version = register_version + 1 WHERE id = :l"),
            {"l": self.landlord.id},
        )
        if progress:
            progress(table.size, table.size)
        return out

    def _first_register(self) -> bool:
        """Whether the landlord has nothing in the register yet (the staged path fits)."""
        return (self.bulk.dialect in ("sqlite", "postgresql") and self.fresh
                and not self.objects and not self.entrances and not self.properties)

    def _run_staged(self, table: Table, parser: RowParser, progress: Progress | None) -> None:
        """A first register: every row is new; parse in a second process (imports.first),
        copy with INSERT ... SELECT (SQLite) or COPY (PostgreSQL)."""
        self.session.flush()
        table.close()  # the stage process reads the file itself
        report = None
        if progress is not None:
            last = [0.0]

            def report(position: int) -> None:
                if time.monotonic() - last[0] > 0.2:
                    progress(position, table.size)
                    last[0] = time.monotonic()

        tables = ("properties", "entrances", "objects", "agreements", "people")
        if self.bulk.dialect == "sqlite":
            bases = {t: self.bulk.id_base(t) for t in tables}
            offsets = {"p": bases["properties"], "e": bases["entrances"],
                       "o": bases["objects"], "a": bases["agreements"], "h": bases["people"],
                       "l": self.landlord.id, "t": self.bulk.timestamp(self.now)}
            if self.plan is not None:  # into the plan's staging file; copied at its apply
                # ... or, with a live engine, each chunk into the register (hidden) too, in
                # short turns while the stage process reads on (Plan.copy_chunk).
                also = None
                if self.plan.live is not None:
                    # The keys counted on, checked before the first chunk goes in.
                    self.plan.bases = dict(self.bulk.read_bases)
                    also = partial(self.plan.copy_chunk, offsets)
                    # The snapshot read so far is not needed while the stage runs (the
                    # first chunk checks the keys again) and would pin the WAL: no
                    # checkpoint could pass it, the WAL would grow by every turn (1.8 GB at
                    # 1,000,000 rows) and each lookup and commit slow down with it.
                    end_reading(self.session)
                staged = writer.stage_into(self.plan.db, table.path, report, also,
                                           started=self.plan.stage)
                self.plan.copy_staged(offsets)
            else:
                staged = writer.write_staged(self.bulk.raw, table.path, offsets, report)
            for name in tables:
                self.bulk.claim(name, bases[name] + staged.counts[name])
            entrance_id = partial(operator.add, bases["entrances"])
            person_id = partial(operator.add, bases["people"])
        else:
            # Ids drawn from the sequences as the chunks come (imports.first.postgres).
            staged, ids = postgres.copy_staged(
                self.bulk.raw, table.path, self.landlord.id, self.now, report,
                engine=self.session.connection().engine, started=self.early_stage)
            entrance_id, person_id = ids["entrances"], ids["people"]
        out = self.outcome
        out.rows = staged.rows_total
        out.errors.extend(staged.errors)
        out.added = staged.counts["objects"]
        for key, (local, lat, lon, source, door, rows, changed) in staged.entrances.items():
            eid = entrance_id(local)
            self.entrances[key] = [eid, lat, lon, source, door]
            self.rows_per_entrance[eid] = rows
            if changed:
                self.entrance_updates[eid] = (lat, lon, source, door)
        self.person_updates = {person_id(k): v for k, v in staged.person_updates.items()}

    def _run_rows(self, table: Table, parser: RowParser, progress: Progress | None) -> None:
        """Any register: compare each row with the object it names; apply in chunks."""
        out = self.outcome
        chunk: list[Row] = []
        last_report = 0.0
        objects, seen, per_entrance = self.objects, self.seen, self.rows_per_entrance
        for line, values in table.rows:
            out.rows += 1
            values = parser.clean(values)
            number = parser.objektsnummer(values)
            first = seen.get(number)
            if first is not None:
                out.errors.append(duplicate(line, first))
                continue
            digest = parser.digest(values)
            existing = objects.get(number)
            if existing is not None and not existing[2] and (
                    existing[1] == digest
                    # (or its digest as earlier code stored it, empty newer cells included)
                    or existing[1] in parser.earlier_digests(values)):
                # The same row as last time: nothing to parse, nothing to write.
                seen[number] = line
                out.unchanged += 1
                per_entrance[existing[3]] = per_entrance.get(existing[3], 0) + 1
                continue
            try:
                row = parser.parse(line, values, digest)
            except RowError as exc:
                out.errors.append((line, exc.column, exc.reason))
                # A bad row still says its object is in the register: don't retire it.
                self.bad.add(number)
                continue
            seen[number] = line
            chunk.append(row)
            if len(chunk) >= CHUNK_ROWS:
                self._apply_chunk(chunk)
                chunk = []
                if progress and time.monotonic() - last_report > 0.2:
                    progress(table.position(), table.size)
                    last_report = time.monotonic()
        self._apply_chunk(chunk)

    # -- one chunk --------------------------------------------------------------------
    def _apply_chunk(self, rows: list[Row]) -> None:
        if not rows:
            return
        for row in convert_sweref(rows, self.outcome.errors):
            self.bad.add(row.objektsnummer)
        new_entrances, new_properties, new_objects, changed = [], [], [], []
        for row in rows:
            if row.line < 0:
                continue  # dropped by convert_sweref
            entrance_id = self._entrance(row, new_entrances, new_properties)
            self.rows_per_entrance[entrance_id] = self.rows_per_entrance.get(entrance_id, 0) + 1
            existing = self.objects.get(row.objektsnummer)
            if existing is None:
                oid = self.ids["objects"].next()
                new_objects.append(row)
                row.object_id, row.entrance_id = oid, entrance_id
                self.outcome.added += 1
            else:
                row.object_id, row.entrance_id = existing[0], entrance_id
                changed.append(row)
                self.objects[row.objektsnummer] = (existing[0], row.digest, False, entrance_id)
                self.outcome.changed += 1
        self._insert("properties", ("id", "landlord_id", "designation"), new_properties)
        self._insert(
            "entrances",
            (
                "id",
                "landlord_id",
                "property_id",
                "street",
                "street_number",
                "street_letter",
                "postnummer",
                "ort",
                "address_key",
                "lat",
                "lon",
                "position_source",
                "door_code",
            ),
            new_entrances,
        )
        for pending in new_entrances:
            # Inserted now: a later chunk or _finish_entrances must UPDATE, not edit the list.
            del self.entrances[pending[8]][5:]
        now = self.bulk.timestamp(self.now)
        self._insert(
            "objects",
            (
                "id",
                "landlord_id",
                "entrance_id",
                "objektsnummer",
                "object_type",
                "lagenhetsnummer",
                "floor",
                "rooms",
                "area_m2",
                "rent_sek",
                "row_hash",
                "retired_at",
                "created_at",
                "updated_at",
            ),
            [
                (
                    r.object_id,
                    self.landlord.id,
                    r.entrance_id,
                    r.objektsnummer,
                    r.object_type,
                    r.lagenhetsnummer,
                    r.floor,
                    r.rooms,
                    r.area_m2,
                    r.rent_sek,
                    r.digest,
                    None,
                    now,
                    now,
                )
                for r in new_objects
            ],
        )
        if changed:
            self._execute(
                text(
                    "UPDATE objects SET entrance_id = :e, object_type = :t, "
                    "lagenhetsnummer = :lgh, floor = :f, rooms = :rooms, area_m2 = :area, "
                    "rent_sek = :rent, row_hash = :h, retired_at = NULL, updated_at = :now "
                    "WHERE id = :id"
                )
                # Typed, so that SQLite's driver gets numbers, not Decimals it cannot bind.
                .bindparams(
                    bindparam("rooms", type_=Numeric(4, 1)),
                    bindparam("area", type_=Numeric(8, 2)),
                    bindparam("rent", type_=Numeric(10, 2)),
                ),
                [
                    {
                        "e": r.entrance_id,
                        "t": r.object_type,
                        "lgh": r.lagenhetsnummer,
                        "f": r.floor,
                        "rooms": r.rooms,
                        "area": r.area_m2,
                        "rent": r.rent_sek,
                        "h": r.digest,
                        "now": now,
                        "id": r.object_id,
                    }
                    for r in changed
                ],
            )
        self._agreements(new_objects, changed)

    def _entrance(self, row: Row, new_entrances: list, new_properties: list) -> int:
        key = row.address_key
        entrance = self.entrances.get(key)
        if entrance is None:
            property_id = self._property(row.designation, new_properties)
            eid = self.ids["entrances"].next()
            source = "file" if row.lat is not None else None
            new_entrances.append(
                [
                    eid,
                    self.landlord.id,
                    property_id,
                    row.street,
                    row.street_number,
                    row.street_letter,
                    row.postnummer,
                    row.ort,
                    key,
                    row.lat,
                    row.lon,
                    source,
                    row.door_code,
                ]
            )
            self.entrances[key] = [eid, row.lat, row.lon, source, row.door_code, new_entrances[-1]]
            return eid
        eid = entrance[0]
        if row.lat is not None and (entrance[1], entrance[2]) != (row.lat, row.lon):
            if entrance[1] is None or self.objects.get(row.objektsnummer, (0, ""))[1] != row.digest:
                entrance[1], entrance[2], entrance[3] = row.lat, row.lon, "file"
                self._touch_entrance(entrance)
        if row.door_code is not None and row.door_code != entrance[4]:
            entrance[4] = row.door_code
            self._touch_entrance(entrance)
        return eid

    def _touch_entrance(self, entrance: list) -> None:
        if len(entrance) > 5:  # inserted in this run: correct the pending insert instead
            pending = entrance[5]
            pending[9], pending[10], pending[11], pending[12] = (
                entrance[1],
                entrance[2],
                entrance[3],
                entrance[4],
            )
        else:
            self.entrance_updates[entrance[0]] = (
                entrance[1],
                entrance[2],
                entrance[3],
                entrance[4],
            )

    def _property(self, designation: str | None, new_properties: list) -> int | None:
        if designation is None:
            return None
        pid = self.properties.get(designation)
        if pid is None:
            pid = self.ids["properties"].next()
            self.properties[designation] = pid
            new_properties.append((pid, self.landlord.id, designation))
        return pid

    # -- agreements and tenants ---------------------------------------------------------
    def _agreements(self, new_objects: list[Row], changed: list[Row]) -> None:
        lid, now = self.landlord.id, self.bulk.timestamp(self.now)
        self._lookup_keys([*new_objects, *changed])
        current: dict[int, list[tuple[int, str | None]]] = {}
        parties: dict[int, dict[int, int]] = {}
        if changed:
            ids = [r.object_id for r in changed]
            rows = self.session.execute(
                text(
                    "SELECT ao.object_id, a.id, a.avtalsnummer FROM agreement_objects ao "
                    "JOIN agreements a ON a.id = ao.agreement_id "
                    # The object's open link: its agreement may carry an end date (avtal_till).
                    "WHERE ao.object_id IN :ids AND ao.ends_on IS NULL"
                ).bindparams(bindparam("ids", expanding=True)),
                {"ids": ids},
            )
            for object_id, agreement_id, number in rows:
                current.setdefault(object_id, []).append((agreement_id, number))
        # The tenants of the agreements these rows name (also one that gains an object), so
        # that a tenant without kundnummer stays the same person.
        agreement_ids = {a for links in current.values() for a, _ in links}
        agreement_ids.update(
            self.agreements[r.avtalsnummer]
            for r in (*new_objects, *changed)
            if r.avtalsnummer in self.agreements
        )
        if agreement_ids:
            for agreement_id, person_id, position in self.session.execute(
                text(
                    "SELECT agreement_id, person_id, position FROM agreement_parties "
                    "WHERE agreement_id IN :ids"
                ).bindparams(bindparam("ids", expanding=True)),
                {"ids": sorted(agreement_ids)},
            ):
                parties.setdefault(agreement_id, {})[position] = person_id
        new_agreements, links, new_people, new_parties = [], [], [], []
        # (agreement, object) pairs the register no longer shows; and links to re-open.
        left, relinked, replaced_parties = [], [], []
        for row in (*new_objects, *changed):
            links_now = current.get(row.object_id, [])
            if not row.tenants and row.avtalsnummer is None:
                left += [(a, row.object_id) for a, _ in links_now]
                continue
            same = [a for a, number in links_now if number == row.avtalsnummer]
            if same:
                agreement_id = same[0]
                left += [(a, row.object_id) for a, _ in links_now if a != agreement_id]
                self._dates(agreement_id, row)
                if agreement_id not in self.agreements_with_parties:
                    replaced_parties.append(agreement_id)
            else:
                left += [(a, row.object_id) for a, _ in links_now]
                agreement_id = self.agreements.get(row.avtalsnummer) if row.avtalsnummer else None
                if agreement_id is None:
                    agreement_id = self.ids["agreements"].next()
                    new_agreements.append(
                        (agreement_id, lid, row.avtalsnummer, row.starts_on, row.ends_on, None,
                         now)
                    )
                    if row.avtalsnummer:
                        self.agreements[row.avtalsnummer] = agreement_id
                else:
                    # An existing agreement gains the object (maybe again: an old, ended link
                    # of the same pair gives way to the new one).
                    relinked.append((agreement_id, row.object_id))
                    if self.has_ends:
                        self._execute(text("UPDATE agreements SET ends_on = :e WHERE id = :id"),
                                      {"e": row.ends_on, "id": agreement_id})
                    if agreement_id not in self.agreements_with_parties:
                        replaced_parties.append(agreement_id)
                links.append((agreement_id, row.object_id))
            if agreement_id in self.agreements_with_parties:
                continue  # an agreement covering several objects: its first row named the tenants
            self.agreements_with_parties.add(agreement_id)
            before = parties.get(agreement_id, {})
            for position, tenant in enumerate(row.tenants, start=1):
                kundnummer = row.kundnummer if position == 1 else None
                person_id = self.people.get(kundnummer) if kundnummer else before.get(position)
                if person_id is None:
                    person_id = self.ids["people"].next()
                    new_people.append(
                        (
                            person_id,
                            lid,
                            tenant.name,
                            tenant.phone,
                            tenant.email,
                            kundnummer,
                            tenant.personnummer,
                            now,
                            now,
                        )
                    )
                    if kundnummer:
                        self.people[kundnummer] = person_id
                else:
                    self.person_updates[person_id] = (tenant.name, tenant.phone, tenant.email,
                                                      tenant.personnummer)
                new_parties.append((agreement_id, person_id, position))
        if left:
            yesterday = self.today - timedelta(days=1)
            self._execute(
                text("UPDATE agreement_objects SET ends_on = :d WHERE agreement_id = :a "
                     "AND object_id = :o AND ends_on IS NULL"),
                [{"d": yesterday, "a": a, "o": o} for a, o in sorted(set(left))],
            )
            # An agreement ends when the register shows it on no object any more.
            self._execute(
                text(
                    "UPDATE agreements SET ends_on = :d WHERE id IN :ids "
                    "AND (ends_on IS NULL OR ends_on > :d) "
                    "AND NOT EXISTS (SELECT 1 FROM agreement_objects ao "
                    "WHERE ao.agreement_id = agreements.id AND ao.ends_on IS NULL)"
                ).bindparams(bindparam("ids", expanding=True)),
                {"d": yesterday, "ids": sorted({a for a, _ in left})},
            )
        if relinked:
            self._execute(
                text("DELETE FROM agreement_objects WHERE agreement_id = :a AND object_id = :o"),
                [{"a": a, "o": o} for a, o in relinked],
            )
        if replaced_parties:
            self._execute(
                text("DELETE FROM agreement_parties WHERE agreement_id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": replaced_parties},
            )
        self._insert(
            "agreements",
            (
                "id",
                "landlord_id",
                "avtalsnummer",
                "starts_on",
                "ends_on",
                "notice_given_on",
                "created_at",
            ),
            new_agreements,
        )
        self._insert(
            "people",
            (
                "id",
                "landlord_id",
                "name",
                "phone",
                "email",
                "kundnummer",
                "personnummer",
                "created_at",
                "updated_at",
            ),
            new_people,
        )
        self._insert("agreement_objects", ("agreement_id", "object_id", "ends_on"),
                         [(a, o, None) for a, o in links])
        self._insert(
            "agreement_parties", ("agreement_id", "person_id", "position"), new_parties
        )

    def _dates(self, agreement_id: int, row: Row) -> None:
        """An agreement the register shows again: its dates as the row gives them (its end
        only from a file with ``avtal_till``)."""
        if self.has_ends:
            self._execute(
                text("UPDATE agreements SET starts_on = :s, ends_on = :e WHERE id = :id"),
                {"s": row.starts_on, "e": row.ends_on, "id": agreement_id},
            )
        else:
            self._execute(
                text("UPDATE agreements SET starts_on = :s WHERE id = :id"),
                {"s": row.starts_on, "id": agreement_id},
            )

    # -- the end of the run -------------------------------------------------------------
    def _retire(self, ids: list[int]) -> None:
        for start in range(0, len(ids), 5000):
            self._execute(
                text(
                    "UPDATE objects SET retired_at = :now, updated_at = :now WHERE id IN :ids"
                ).bindparams(bindparam("ids", expanding=True)),
                {"now": self.now, "ids": ids[start : start + 5000]},
            )

    def _finish_entrances(self) -> None:
        """Place entrances no row gave coordinates: ask the geocoder, else flag them."""
        unplaced = [
            e for e in self.entrances.values() if e[1] is None and e[0] in self.rows_per_entrance
        ]
        if not unplaced:
            return
        if self.geocoder is not None:
            rows = self.session.execute(
                text(
                    "SELECT id, street, street_number, street_letter, postnummer, ort "
                    "FROM entrances WHERE id IN :ids"
                ).bindparams(bindparam("ids", expanding=True)),
                {"ids": [e[0] for e in unplaced if len(e) <= 5]},
            ).all()
            pending = {e[5][0]: e[5] for e in unplaced if len(e) > 5}
            addresses = {r[0]: (r[1], r[2], r[3], r[4], r[5]) for r in rows}
            if self.plan is not None:  # entrances the plan inserts are not in the database
                addresses.update(self.plan.entrance_addresses(
                    [e[0] for e in unplaced if len(e) <= 5 and e[0] not in addresses]))
            addresses.update({eid: (p[3], p[4], p[5], p[6], p[7]) for eid, p in pending.items()})
            by_id = {e[0]: e for e in unplaced}
            for eid, (street, number, letter, postnummer, ort) in addresses.items():
                query = f"{street} {number or ''}{letter}, {format_postnummer(postnummer)} {ort}"
                try:
                    point = self.geocoder(query)
                except Exception:  # a geocoder that fails places nothing, it breaks nothing
                    point = None
                if point and in_area(*point):
                    entrance = by_id[eid]
                    entrance[1], entrance[2], entrance[3] = point[0], point[1], "geocoder"
                    self._touch_entrance(entrance)
        self.outcome.not_placed = sum(
            self.rows_per_entrance[e[0]] for e in unplaced if e[1] is None
        )

    def _flush_updates(self) -> None:
        if self.entrance_updates:
            self._execute(
                text(
                    "UPDATE entrances SET lat = :lat, lon = :lon, position_source = :src, "
                    "door_code = :code WHERE id = :id"
                ),
                [
                    {"lat": v[0], "lon": v[1], "src": v[2], "code": v[3], "id": k}
                    for k, v in self.entrance_updates.items()
                ],
            )
        if self.person_updates:
            # The personnummer only from a file that has the column (an older export keeps it).
            identity = ", personnummer = :pn" if self.has_identities else ""
            self._execute(
                text(
                    f"UPDATE people SET name = :n, phone = :p, email = :e{identity}, "  # noqa: S608
                    "updated_at = :now WHERE id = :id"
                ),
                [
                    {"n": v[0], "p": v[1], "e": v[2], "pn": v[3], "now": self.now, "id": k}
                    for k, v in self.person_updates.items()
                ],
            )
