"""Bulk writes on the session's own connection and transaction: ``executemany`` on SQLite,
``COPY`` on PostgreSQL, and ids reserved in advance so that rows can point at each other
without a round trip per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from dispatch.core.database import sqlite_timestamp

# Table names are put into SQL text: only these, never a value from outside.
TABLES = frozenset({"properties", "entrances", "objects", "people", "agreements",
                    "agreement_objects", "agreement_parties"})


def _table(name: str) -> str:
    if name not in TABLES:
        raise ValueError(f"not a register table: {name!r}")
    return name


class Bulk:
    """Fast inserts and id reservation inside the session's current transaction."""

    def __init__(self, session: Session):
        self.session = session
        connection = session.connection()
        self.dialect = connection.dialect.name
        self.raw = connection.connection.driver_connection
        self._next_id: dict[str, int] = {}
        # SQLite: the first free key of each table as read from the database (max(id) + 1),
        # so that a plan made on a snapshot can check at its apply that they are free still.
        self.read_bases: dict[str, int] = {}

    def timestamp(self, value: datetime):
        """``value`` ready to bind many times: pre-formatted text on SQLite, as is elsewhere."""
        return sqlite_timestamp(value) if self.dialect == "sqlite" else value

    def lock(self, landlord_id: int) -> None:
        """Take the write lock now (SQLite) / the landlord's row lock (PostgreSQL), so that
        reserved ids stay ours and two imports for one landlord run one after the other."""
        if self.dialect == "sqlite":
            # A bigger page cache keeps the indexes' B-trees in memory while a million rows go
            # in (the default 2 MB makes index inserts read pages back). This connection only.
            self.raw.execute("PRAGMA cache_size = -65536")
            self.session.execute(
                text("UPDATE landlords SET register_version = register_version WHERE id = :id"),
                {"id": landlord_id},
            )
        else:
            # NO KEY UPDATE: a second import of this landlord waits, but rows that refer to it
            # (a complaint an operator logs meanwhile: its foreign key takes KEY SHARE) do not.
            self.session.execute(
                text("SELECT id FROM landlords WHERE id = :id FOR NO KEY UPDATE"),
                {"id": landlord_id},
            )

    def reserve_ids(self, table: str, count: int) -> list[int]:
        """``count`` new primary keys for ``table``."""
        if count == 0:
            return []
        if self.dialect == "postgresql":
            rows = self.session.execute(
                text(
                    f"SELECT nextval(pg_get_serial_sequence('{_table(table)}', 'id')) "  # noqa: S608
                    "FROM generate_series(1, :n)"
                ),
                {"n": count},
            )
            return [r[0] for r in rows]
        start = self._next_id.get(table)
        if start is None:
            start = self._read_base(table)
        self._next_id[table] = start + count
        return list(range(start, start + count))

    def id_base(self, table: str) -> int:
        """The next free primary key of ``table`` (SQLite, under the write lock)."""
        if self.dialect != "sqlite":
            raise NotImplementedError("ids are counted ahead on SQLite only")
        start = self._next_id.get(table)
        if start is None:
            start = self._next_id[table] = self._read_base(table)
        return start

    def _read_base(self, table: str) -> int:
        query = text(f"SELECT max(id) FROM {_table(table)}")  # noqa: S608
        start = self.read_bases[table] = (self.session.execute(query).scalar() or 0) + 1
        return start

    def claim(self, table: str, next_id: int) -> None:
        """Keys below ``next_id`` are taken (written without ``reserve_ids``)."""
        self._next_id[table] = max(next_id, self._next_id.get(table, 0))

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
        """Insert ``rows`` (tuples in ``columns`` order); return how many."""
        rows = list(rows)
        if not rows:
            return 0
        self.session.flush()
        names = ", ".join(columns)
        if self.dialect == "postgresql":
            with self.raw.cursor() as cursor:
                with cursor.copy(f"COPY {_table(table)} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            self.raw.executemany(
                f"INSERT INTO {_table(table)} ({names}) VALUES ({marks})",  # noqa: S608
                rows,
            )
        return len(rows)
