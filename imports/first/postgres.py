"""The writer on PostgreSQL: a landlord's first register COPYed in, chunk by chunk.

The stage process is SQLite's (``imports.first.stage``: a plain UTF-8 CSV a column at a time
with polars, any other file row by row with ``RowParser``), run with OUTPUT ``arrow``: a
column stage's chunk is a folder of Arrow IPC files, one per staging table; a row stage's
chunk comes marshalled and is made into frames of the same types (``STAGING_TYPES``). For
each chunk the writer

* reserves the chunk's new ids from each table's own sequence with ``nextval``, as
  ``imports.bulk.Bulk.reserve_ids`` does, in one statement for the five tables, and gets
  them back as runs of consecutive ids. The stage numbers each table's rows from zero; an
  ``IdMap`` per table turns those numbers into the reserved ids: one offset for the whole
  file while nobody else draws from the sequence, a run more each time someone does. Every
  id used was drawn from its sequence, so the sequences end past them by construction;
* lays the chunk out as the register's rows with polars (ids mapped, the landlord and the
  time added) and encodes each table in PostgreSQL's binary COPY format (``binary_copy``:
  pgpq, from the frames as Arrow), so that the server stores each int, date, number and
  time as sent instead of parsing text. A table of the chunk with a value that does not
  convert exactly (an int too large for its column, a date that is none, a number with more
  decimals than the encoder keeps) goes as CSV instead, which the server reads, rounds or
  refuses as it always did (polars writes a null as an empty field and an empty string as
  ``""``, which is what COPY's CSV format reads them as);
* sends the tables with ``COPY ... FROM STDIN (FORMAT binary)`` (or csv) on the session's
  connection, parents first.

The three run at once, a chunk apart, each on a thread of its own: the caller's thread takes
the next chunk from the stage, a worker prepares the one before (the reservation on a second
connection, in autocommit) and another COPYs the one before that, so that PostgreSQL starts
on the first chunk as soon as it is prepared and then never waits for the writer. Its backend
is the slowest of the processes (``bench/README.md``: with the foreign-key triggers off, the
five rows and dozen index entries of each register row); at most ``Copier.AHEAD`` chunks
wait for it.

The COPYs run inside the caller's SAVEPOINT, like the general path's (``imports.bulk``): a
rejected file, a dry run or an error rolls them back. Only ids drawn from the sequences stay
drawn, as with any PostgreSQL sequence.
"""

from __future__ import annotations

import io
from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

from psycopg.errors import ForeignKeyViolation

from imports import messages
from imports.first import writer
from imports.first.staging import STAGING_TABLES, STAGING_TYPES, Staged, StageFailed
from imports.readers import StructureError

# The register tables that get ids, in the order their sequences are looked up.
ID_TABLES = ("properties", "entrances", "objects", "agreements", "people")
# Every table a first register fills, parents first.
FILLED = (*ID_TABLES, "agreement_objects", "agreement_parties")
# How the checks of the fast path find the import's own rows of a table: by a column whose
# values are ids reserved for this import (the table's own id; the link tables' agreement).
OWN_ROWS = {**{name: ("id", name) for name in ID_TABLES},
            "agreement_objects": ("agreement_id", "agreements"),
            "agreement_parties": ("agreement_id", "agreements")}

# Each reserved block of ids comes back as runs (first id, count, last id): consecutive ids
# form a run (gaps and islands: an id minus its place in the series is constant along a run,
# as one statement's nextval draws in the series' order; grouped by a hash, not sorted, and
# checked: a run's last id minus its first is its count less one).
_RESERVE = (
    "SELECT %s::int, min(v), count(*)::int, max(v) FROM ("
    "SELECT nextval(%s::oid::regclass) AS v, g FROM generate_series(1, %s) AS g"
    ") AS ids GROUP BY v - g"
)


# Binary COPY (``binary_copy``): the server reads each value as it is stored, not as text to
# parse (the times, dates and numbers of a register's rows were about a fifth of its work).
BINARY_COPY = True
BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"  # how a binary COPY's data begins
# The column types binary_copy sends, as polars types (ints and floats cast exactly or not).
_BINARY_NUMBERS = {"int2": "Int16", "int4": "Int32", "int8": "Int64", "float8": "Float64"}
_BINARY_TEXTS = ("varchar", "text")
# numeric: as a 128-bit decimal (38 digits) with at least this many decimals; a value with
# more decimals, more digits or an exponent goes as text (PostgreSQL rounds it as before).
_DECIMAL_SCALE = 10


def is_binary(data) -> bool:
    """Whether ``data`` begins as a binary COPY's data does."""
    return bytes(data[:len(BINARY_SIGNATURE)]) == BINARY_SIGNATURE


class NotBinary(Exception):  # noqa: N818 (a signal, not an error)
    """A value of the frame does not convert exactly to its column's type."""


def column_types(raw) -> dict[str, dict[str, tuple[str, int]]]:
    """(type name, type modifier) of every column of the tables a first register fills."""
    with raw.cursor() as cursor:
        cursor.execute(
            "SELECT a.attrelid::regclass::text, a.attname::text, t.typname::text, a.atttypmod "
            "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE a.attrelid = ANY(%s::text[]::regclass[]) AND a.attnum > 0 "
            "AND NOT a.attisdropped", [list(FILLED)])
        types: dict[str, dict[str, tuple[str, int]]] = {}
        for table, column, name, modifier in cursor.fetchall():
            types.setdefault(table, {})[column] = (name, modifier)
        return types


def binary_copy(pl, frame, types: dict[str, tuple[str, int]]) -> list[bytes]:
    """``frame`` as the data of a binary ``COPY`` into columns of ``types``, in pieces to be
    sent in order (encoded by pgpq from Arrow). Each value is converted exactly or not at
    all: an int that does not fit its column, a date that is not one, a number with more
    than ``_DECIMAL_SCALE`` decimals raises ``NotBinary``, and the caller sends the frame as
    CSV text instead, which PostgreSQL reads, rounds or refuses as it always did. What the
    server keeps is the same either way: a binary value is checked against its column
    (length, precision, scale, NOT NULL) as a text one is."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pgpq import ArrowToPostgresBinaryEncoder

    columns, decimals = [], {}
    for name, kind in frame.schema.items():
        typname, modifier = types.get(name, ("?", -1))
        column = pl.col(name)
        if typname in _BINARY_NUMBERS:
            column = column.cast(getattr(pl, _BINARY_NUMBERS[typname]), strict=True)
        elif typname in _BINARY_TEXTS and kind == pl.String:
            pass
        elif typname == "date" and kind == pl.String:
            column = column.str.to_date("%Y-%m-%d", strict=True)
        elif typname == "timestamptz" and isinstance(kind, pl.Datetime) and kind.time_zone:
            column = column.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        elif typname == "numeric" and kind == pl.String:
            scale = (modifier - 4) & 0xFFFF if modifier >= 4 else 0
            decimals[name] = max(scale, _DECIMAL_SCALE)
        else:
            raise NotBinary(f"{name}: {kind} for {typname}")
        columns.append(column)
    try:
        frame = frame.select(columns)
        for name, scale in decimals.items():
            # Plain decimals that fit 38 digits only: pyarrow's cast refuses a value it would
            # round, but one with too many digits before the point can overflow unnoticed.
            plain = rf"^-?[0-9]{{1,{38 - scale}}}(?:\.[0-9]{{1,{scale}}})?$"
            if not frame.get_column(name).str.contains(plain).fill_null(True).all():
                raise NotBinary(f"{name}: a number that is not plain or too long")
        table = frame.to_arrow(compat_level=pl.CompatLevel.newest())  # strings uncopied
        for name, scale in decimals.items():
            table = table.set_column(table.schema.get_field_index(name), name, pc.cast(
                table.column(name), pa.decimal128(38, scale)))  # exact, or ArrowInvalid
    except (pl.exceptions.PolarsError, pa.ArrowException) as exc:
        raise NotBinary(str(exc)) from exc
    encoder = ArrowToPostgresBinaryEncoder(table.schema)
    return [encoder.write_header(), *map(encoder.write_batch, table.to_batches()),
            encoder.finish()]

class IdMap:
    """One table's rows as the stage numbered them (from zero, in order) → reserved ids."""

    def __init__(self) -> None:
        self.locals: list[int] = []  # the first stage number of each run, ascending
        self.offsets: list[int] = []  # id minus stage number, along that run
        self.next_local = 0  # the stage number the next reserved id is for
        self.runs: list[tuple[int, int]] = []  # (first id, count) as reserved, in order

    def add(self, runs: list[tuple[int, int]]) -> None:
        """Ids reserved as ``runs`` (first id, count), in order, for the next numbers."""
        for first, count in runs:
            self.runs.append((first, count))
            offset = first - self.next_local
            if not self.offsets or self.offsets[-1] != offset:
                self.locals.append(self.next_local)
                self.offsets.append(offset)
            self.next_local += count

    def __call__(self, local: int) -> int:
        return local + self.offsets[bisect_right(self.locals, local) - 1]

    def series(self, pl, numbers):
        """A polars Series of stage numbers (nulls stay null) as ids."""
        if not self.offsets:
            if numbers.null_count() != len(numbers):
                raise StageFailed("a staged row points at a row nothing was reserved for")
            return numbers
        if len(self.offsets) == 1:
            return numbers + self.offsets[0]
        runs = pl.Series(self.locals, dtype=pl.Int64)
        at = runs.search_sorted(numbers.fill_null(0), side="right").cast(pl.Int64) - 1
        return numbers + pl.Series(self.offsets, dtype=pl.Int64).gather(at)


class Copier:
    """COPYs chunk after chunk of a first register into PostgreSQL (see the module).

    Three steps run at once, each on its own thread, a chunk apart: the caller's thread reads
    chunk n+2 from the stage, a worker prepares chunk n+1 (ids reserved, rows laid out, CSV
    written) and another COPYs chunk n on the session's connection, so that PostgreSQL, which
    does most of the work (inserts, index updates, foreign-key checks), starts on the first
    chunk as soon as it is prepared and never waits for us. At most ``AHEAD`` chunks are in
    hand at a time (memory): the caller waits for the oldest one's COPY beyond that.
    Ids are reserved on ``reserving`` (another connection, in autocommit: drawing from a
    sequence is not transactional anyway) or, without one, on the session's connection on
    the COPY's thread, between the COPYs."""

    AHEAD = 2

    def __init__(self, raw, landlord_id: int, now: datetime, reserving=None):
        import polars as pl

        self.pl, self.raw, self.reserving = pl, raw, reserving
        self.landlord_id, self.now = int(landlord_id), now
        self.types = column_types(raw)
        # Binary COPY needs the instant itself; a naive time is read in the session's zone.
        self.binary = BINARY_COPY and now.tzinfo is not None
        self.maps = {name: IdMap() for name in ID_TABLES}
        self.schemas = {name: {column: getattr(pl, kind) for column, kind in types.items()}
                        for name, types in STAGING_TYPES.items()}
        with raw.cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join(
                    f"pg_get_serial_sequence('{name}', 'id')::regclass::oid"
                    for name in ID_TABLES))
            self.sequences = dict(zip(ID_TABLES, cursor.fetchone(), strict=True))
        self.preparing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-prepare")
        self.copying = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-copy")
        self.pending: deque[Future] = deque()  # the chunks' COPYs, oldest first
        self.copied: dict[str, int] = {}  # rows COPYed, by table (the COPY's own count)

    # -- one chunk -------------------------------------------------------------------------
    def load(self, chunk: Path | None, rows: dict | None) -> None:
        """Take one chunk (a folder of Arrow files, or a row stage's rows): queue its
        preparation and its COPY; wait only while ``AHEAD`` chunks are in hand."""
        tables = self._frames(chunk, rows)  # now: the files go when this returns
        if self.reserving is None:  # the session's connection reserves: not beside a COPY
            self.pending.append(self.copying.submit(
                lambda: self._copy_all(self._prepare(tables))))
        else:
            prepared = self.preparing.submit(self._prepare, tables)
            self.pending.append(self.copying.submit(lambda: self._copy_all(prepared.result())))
        while self.pending and (len(self.pending) > self.AHEAD or self.pending[0].done()):
            self.pending.popleft().result()  # a failed COPY or preparation raises here

    def finish(self) -> None:
        """Wait for the last chunks' COPYs."""
        while self.pending:
            self.pending.popleft().result()

    def close(self) -> None:
        """Drop what has not started; wait for what runs (it uses the session's connection,
        which the caller is about to roll back or go on with)."""
        for future in self.pending:
            future.cancel()
        self.pending.clear()
        self.preparing.shutdown(wait=True, cancel_futures=True)
        self.copying.shutdown(wait=True, cancel_futures=True)

    def _copy_all(self, prepared: list[tuple[str, str, memoryview]]) -> None:
        for name, columns, data in prepared:
            self._copy(name, columns, data)

    def _prepare(self, tables: dict) -> list[tuple[str, str, memoryview]]:
        """Reserve the chunk's ids; its rows as CSV, by register table, parents first."""
        objects = tables["objects"]
        made = objects.filter(self.pl.col("agreement_new") == 1)
        self._reserve({"properties": tables["properties"].get_column("id"),
                       "entrances": tables["entrances"].get_column("id"),
                       "objects": objects.get_column("id"),
                       "agreements": made.get_column("agreement_id"),
                       "people": tables["people"].get_column("id")})
        return [(name, columns, self._encode(name, frame.rename(dict(zip(
                    frame.columns, (c.strip() for c in columns.split(",")), strict=True)))))
                for name, columns, frame in self._layout(tables, made) if frame.height]

    def _encode(self, name: str, frame) -> list[bytes] | memoryview:
        """The rows of ``frame`` (its columns named as the table's) for ``COPY name``: binary
        where every value converts exactly to its column's type, else CSV (what the server
        then makes of it, or refuses, is the same either way; ``binary_copy``)."""
        if self.binary:
            try:
                return binary_copy(self.pl, frame, self.types[name])
            except NotBinary:
                pass
        frame = frame.with_columns(  # the time as text, as PostgreSQL reads it
            self.pl.lit(self.now.isoformat()).alias(column)
            for column, kind in frame.schema.items() if isinstance(kind, self.pl.Datetime))
        data = io.BytesIO()
        frame.write_csv(data, include_header=False)
        return data.getbuffer()

    def _frames(self, chunk: Path | None, rows: dict | None) -> dict:
        pl = self.pl
        frames = {}
        for name in STAGING_TABLES:
            schema = self.schemas[name]
            if chunk is not None:
                path = chunk / f"{name}.arrow"
                frame = (pl.read_ipc(path).cast(schema) if path.exists()
                         else pl.DataFrame(schema=schema))
            else:
                frame = pl.DataFrame(rows[name], schema=schema, orient="row")
            frames[name] = frame
        return frames

    def _reserve(self, new: dict) -> None:
        """Draw the chunk's new ids from the sequences; the stage numbered them on from where
        the chunk before stopped, without gaps."""
        wanted = []
        for index, name in enumerate(ID_TABLES):
            numbers = new[name]
            if not len(numbers):
                continue
            expected = self.maps[name].next_local
            if (numbers.min(), numbers.max(), numbers.n_unique()) != (
                    expected, expected + len(numbers) - 1, len(numbers)):
                raise StageFailed(f"the stage numbered new {name} out of order")
            wanted.append((index, self.sequences[name], len(numbers)))
        if not wanted:
            return
        sql = " UNION ALL ".join([_RESERVE] * len(wanted)) + " ORDER BY 1, 2"
        with (self.reserving or self.raw).cursor() as cursor:
            cursor.execute(sql, [value for request in wanted for value in request])
            runs = cursor.fetchall()
        if any(last - first + 1 != count for _i, first, count, last in runs):
            raise StageFailed("the ids drawn from a sequence did not come in runs")
        for index, _sequence, _count in wanted:
            self.maps[ID_TABLES[index]].add([(first, count) for i, first, count, _last in runs
                                             if i == index])

    def _layout(self, tables: dict, made):
        """(table, columns, frame) of the register's rows, parents first."""
        pl, maps = self.pl, self.maps

        def ids(frame, column: str, table: str):
            return maps[table].series(pl, frame.get_column(column)).alias(column)

        landlord = pl.lit(self.landlord_id, dtype=pl.Int64).alias("landlord_id")
        now = pl.lit(self.now, dtype=pl.Datetime("us", "UTC"))
        properties, entrances = tables["properties"], tables["entrances"]
        objects, people, parties = tables["objects"], tables["people"], tables["parties"]
        linked = objects.filter(pl.col("agreement_id").is_not_null())
        yield ("properties", "id, landlord_id, designation", properties.select(
            ids(properties, "id", "properties"), landlord, "designation"))
        yield ("entrances", "id, landlord_id, property_id, street, street_number, "
               "street_letter, postnummer, ort, address_key, lat, lon, position_source, "
               "door_code", entrances.select(
                   ids(entrances, "id", "entrances"), landlord,
                   ids(entrances, "property_id", "properties"), "street", "street_number",
                   "street_letter", "postnummer", "ort", "address_key", "lat", "lon",
                   "position_source", "door_code"))
        yield ("objects", "id, landlord_id, entrance_id, objektsnummer, object_type, "
               "lagenhetsnummer, floor, rooms, area_m2, rent_sek, row_hash, created_at, "
               "updated_at", objects.select(
                   ids(objects, "id", "objects"), landlord,
                   ids(objects, "entrance_id", "entrances"), "objektsnummer", "object_type",
                   "lagenhetsnummer", "floor", "rooms", "area_m2", "rent_sek", "row_hash",
                   now.alias("created_at"), now.alias("updated_at")))
        yield ("agreements", "id, landlord_id, avtalsnummer, starts_on, ends_on, created_at",
               made.select(ids(made, "agreement_id", "agreements"), landlord, "avtalsnummer",
                           "starts_on", "ends_on", now.alias("created_at")))
        yield ("people", "id, landlord_id, name, phone, email, kundnummer, personnummer, "
               "created_at, updated_at", people.select(
                   ids(people, "id", "people"), landlord, "name", "phone", "email",
                   "kundnummer", "personnummer", now.alias("created_at"),
                   now.alias("updated_at")))
        yield ("agreement_objects", "agreement_id, object_id", linked.select(
            ids(linked, "agreement_id", "agreements"), ids(linked, "id", "objects")))
        yield ("agreement_parties", "agreement_id, person_id, position", parties.select(
            ids(parties, "agreement_id", "agreements"), ids(parties, "person_id", "people"),
            "position"))

    def _copy(self, name: str, columns: str, data) -> None:
        """COPY ``data`` (bytes, or a list of pieces) into ``name``: binary data by its
        signature, else CSV."""
        pieces = data if isinstance(data, list) else [data]
        kind = "binary" if is_binary(pieces[0]) else "csv"
        with self.raw.cursor() as cursor:
            with cursor.copy(f"COPY {name} ({columns}) FROM STDIN (FORMAT {kind})") as copy:
                for piece in pieces:
                    copy.write(piece)
            self.copied[name] = self.copied.get(name, 0) + cursor.rowcount


# -- the foreign keys: checked by PostgreSQL row by row, or by the import set-wise ------------

class BrokenReference(StructureError):
    """New rows of a first register point at rows that are not there: the file is refused
    whole (the caller rolls its savepoint back), with a message ``imports.messages`` shows
    translated."""

    def __init__(self, message: str):
        super().__init__(message, "broken_reference")


def _broken(table: str, column: str, parent: str, rows: int) -> BrokenReference:
    return BrokenReference(messages.text(messages.BROKEN_REFERENCE, rows, rows=rows,
                                         table=table, parent=parent, column=column))


def foreign_keys(raw) -> list[tuple[str, str, str, str, str]]:
    """(constraint, table, column, parent table, parent column) of every foreign key of the
    tables a first register fills; a key of several columns has the column ``None``."""
    with raw.cursor() as cursor:
        cursor.execute(
            "SELECT k.conname, k.conrelid::regclass::text, "
            "CASE WHEN cardinality(k.conkey) = 1 THEN a.attname::text END, "
            "k.confrelid::regclass::text, pa.attname::text "
            "FROM pg_constraint k "
            "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] "
            "JOIN pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = k.confkey[1] "
            "WHERE k.contype = 'f' AND k.conrelid = ANY(%s::text[]::regclass[]) "
            "ORDER BY 2, 3", [list(FILLED)])
        return cursor.fetchall()


def may_set_replication_role(raw) -> bool:
    """Whether the session's role may set ``session_replication_role``: PostgreSQL 15+ with
    ``GRANT SET ON PARAMETER session_replication_role TO <role>``, or a superuser."""
    with raw.cursor() as cursor:
        if raw.info.server_version >= 150000:
            cursor.execute("SELECT has_parameter_privilege(current_user, "
                           "'session_replication_role', 'SET')")
        else:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        return bool(cursor.fetchone()[0])


def may_skip_checks(raw, keys: list | None = None) -> bool:
    """Whether this import may turn PostgreSQL's foreign-key triggers off for its own
    transaction and check the keys itself afterwards (the fast path): its role may set
    ``session_replication_role`` (PostgreSQL 15+: ``GRANT SET ON PARAMETER
    session_replication_role TO <role>``, or a superuser), the filled tables have no trigger
    or rule that ``replica`` would silence besides the foreign keys' own (a user's trigger, a
    deferrable unique key's recheck) and every foreign key is of one column."""
    keys = foreign_keys(raw) if keys is None else keys
    if any(column is None for _name, _table, column, _parent, _pcolumn in keys):
        return False
    if not may_set_replication_role(raw):
        return False
    with raw.cursor() as cursor:
        # Fired only in the session's default role ('O'), or only in replica ('R').
        cursor.execute(
            "SELECT (SELECT count(*) FROM pg_trigger t "
            "        LEFT JOIN pg_constraint k ON k.oid = t.tgconstraint "
            "        WHERE t.tgrelid = ANY(%(tables)s::text[]::regclass[]) "
            "        AND t.tgenabled IN ('O', 'R') "
            "        AND NOT (t.tgisinternal AND k.contype IS NOT DISTINCT FROM 'f')) "
            "     + (SELECT count(*) FROM pg_rewrite "
            "        WHERE ev_class = ANY(%(tables)s::text[]::regclass[]) "
            "        AND rulename <> '_RETURN' AND ev_enabled IN ('O', 'R'))",
            {"tables": list(FILLED)})
        return cursor.fetchone()[0] == 0


def _replication_role(raw, role: str) -> str:
    """Set ``session_replication_role`` for the rest of the transaction (SET LOCAL: a rolled
    back savepoint takes it back too); return what it was."""
    with raw.cursor() as cursor:
        cursor.execute("SELECT current_setting('session_replication_role'), "
                       "set_config('session_replication_role', %s, true)", [role])
        return cursor.fetchone()[0]


def _multirange(runs: list[tuple[int, int]]) -> str:
    return "{" + ",".join(f"[{first},{first + count})" for first, count in runs) + "}"


def check_references(raw, landlord_id: int, maps: dict[str, IdMap], copied: dict[str, int],
                     keys: list) -> None:
    """The foreign keys of the rows this import COPYed with PostgreSQL's checks off, checked
    set-wise (raises ``BrokenReference``): one statement per table, parents first, and an
    anti-join per key where one is needed.

    The import's own rows of a table are found by ids reserved for it (``OWN_ROWS``, an index
    range). Each table must hold exactly as many of them as were COPYed, and every id
    reserved must be a row (so a row written with an id, or a link row with an agreement,
    not of this import is caught). Those ids, and the landlord's, are then known to exist:
    the same statement counts, per foreign key, the own rows whose value is none of the
    parent's known ids (none, unless something is wrong); only those are anti-joined with the
    parent table, and any left points at nothing. Nobody else can point at or remove these
    rows meanwhile (they are not committed; the landlord's row is locked by the import)."""
    by_table: dict[str, list] = {}
    for _name, table, column, parent, parent_column in keys:
        by_table.setdefault(table, []).append((column, parent, parent_column))
    with raw.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM landlords WHERE id = %s", [landlord_id])
        known = {"landlords": _multirange([(landlord_id, cursor.fetchone()[0])])}
        for table in FILLED:
            key, ids = OWN_ROWS[table]
            runs = maps[ids].runs
            own = (f"c.{key} BETWEEN %(lo)s AND %(hi)s AND c.{key} <@ %(own)s::int4multirange")
            params = {"lo": min((first for first, _ in runs), default=0),
                      "hi": max((first + count - 1 for first, count in runs), default=-1),
                      "own": _multirange(runs)}
            suspects = []
            for n, (column, parent, parent_column) in enumerate(by_table.get(table, ())):
                params[f"good{n}"] = known.get(parent, "{}") if parent_column == "id" else "{}"
                suspects.append(f"count(*) FILTER (WHERE c.{column} IS NOT NULL AND NOT "
                                f"c.{column} <@ %(good{n})s::int4multirange)")
            cursor.execute(f"SELECT {', '.join(['count(*)', *suspects])} "  # noqa: S608
                           f"FROM {table} c WHERE {own}", params)
            found, *suspect = cursor.fetchone()
            sent = copied.get(table, 0)
            if table in ID_TABLES:
                reserved = sum(count for _first, count in runs)
                if found != sent or sent != reserved:
                    raise BrokenReference(messages.text(
                        messages.ROWS_MISSING, table=table, rows=found,
                        total=sent if found != sent else reserved))
                known[table] = params["own"]  # every id reserved is a row now
            elif found != sent:  # link rows whose agreement is not one of the import's
                raise _broken(table, key, ids, sent - found)
            for (column, parent, parent_column), count in zip(
                    by_table.get(table, ()), suspect, strict=True):
                if not count:
                    continue
                cursor.execute(
                    f"SELECT count(*) FROM {table} c WHERE {own} "  # noqa: S608 (our names)
                    f"AND c.{column} IS NOT NULL AND NOT EXISTS "
                    f"(SELECT 1 FROM {parent} p WHERE p.{parent_column} = c.{column})", params)
                broken = cursor.fetchone()[0]
                if broken:
                    raise _broken(table, column, parent, broken)


def copy_staged(raw, path: Path, landlord_id: int, now: datetime,
                progress: Callable[[int], None] | None = None, *, engine=None,
                fast: bool | None = None,
                started: writer.WaitingStage | None = None) -> tuple[Staged, dict[str, IdMap]]:
    """Run the stage process on ``path`` and COPY every chunk into the register.

    ``raw`` is the session's psycopg connection, inside the caller's transaction (its
    SAVEPOINT); ids are reserved on a connection of its own from ``engine`` (SQLAlchemy) when
    given. Returns the stage's summary and, per table, the map from the stage's numbers to
    the ids used. A reference that does not hold raises ``BrokenReference``. ``started``: a
    stage process started on ``path`` before the file was checked (``writer.WaitingStage``).

    The fast path (``fast``; by default whenever ``may_skip_checks``): the COPYs run with
    ``session_replication_role = replica`` (PostgreSQL's foreign-key triggers, a query and a
    row lock per key and row, about two thirds of the backend's time, stay off for this
    transaction only) and ``check_references`` checks the keys afterwards, set-wise. Else
    PostgreSQL checks them row by row as the COPYs go in (the checked path).
    """
    keys = foreign_keys(raw)
    if fast is None:
        fast = may_skip_checks(raw, keys)
    with ExitStack() as stack:
        reserving = None
        if engine is not None:
            connection = stack.enter_context(
                engine.connect().execution_options(isolation_level="AUTOCOMMIT"))
            reserving = connection.connection.driver_connection
        copier = Copier(raw, landlord_id, now, reserving)
        stack.callback(copier.close)
        role = _replication_role(raw, "replica") if fast else None
        try:
            staged = writer.run_stage(path, "arrow", copier.load, progress, started=started)
            copier.finish()
        except ForeignKeyViolation as exc:  # the checked path: PostgreSQL's own check
            named = {name: (table, column, parent) for name, table, column, parent, _c in keys}
            table, column, parent = named.get(exc.diag.constraint_name, (
                exc.diag.table_name or "?", exc.diag.column_name or "?", "?"))
            raise _broken(table, column, parent, 1) from exc
    if role is not None:
        _replication_role(raw, role)
    for name in ID_TABLES:
        if staged.counts.get(name, 0) != copier.maps[name].next_local:
            raise StageFailed(f"the stage counted {staged.counts.get(name)} {name}, "
                              f"{copier.maps[name].next_local} were copied")
    if fast:
        check_references(raw, landlord_id, copier.maps, copier.copied, keys)
    return staged, copier.maps
