"""Bulk writes on the session's own connection and transaction: ``executemany`` on SQLite,
``COPY`` on PostgreSQL, and ids reserved in advance so that rows can point at each other
without a round trip per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session


def _sqlite_value(value):
    # The same text SQLAlchemy's SQLite DATETIME/DATE/NUMERIC write, so ORM reads agree.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class Bulk:
    """Fast inserts and id reservation inside the session's current transaction."""

    def __init__(self, session: Session):
        self.session = session
        connection = session.connection()
        self.dialect = connection.dialect.name
        self.raw = connection.connection.driver_connection
        self._next_id: dict[str, int] = {}

    def lock(self, landlord_id: int) -> None:
        """Take the write lock now (SQLite) / the landlord's row lock (PostgreSQL), so that
        reserved ids stay ours and two imports for one landlord run one after the other."""
        suffix = " FOR UPDATE" if self.dialect == "postgresql" else ""
        if self.dialect == "sqlite":
            self.session.execute(
                text("UPDATE landlords SET register_version = register_version WHERE id = :id"),
                {"id": landlord_id},
            )
        else:
            self.session.execute(
                text(f"SELECT id FROM landlords WHERE id = :id{suffix}"), {"id": landlord_id}
            )

    def reserve_ids(self, table: str, count: int) -> list[int]:
        """``count`` new primary keys for ``table``."""
        if count == 0:
            return []
        if self.dialect == "postgresql":
            rows = self.session.execute(
                text(
                    f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": count},
            )
            return [r[0] for r in rows]
        start = self._next_id.get(table)
        if start is None:
            start = (self.session.execute(text(f"SELECT max(id) FROM {table}")).scalar() or 0) + 1
        self._next_id[table] = start + count
        return list(range(start, start + count))

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
        """Insert ``rows`` (tuples in ``columns`` order); return how many."""
        rows = list(rows)
        if not rows:
            return 0
        self.session.flush()
        names = ", ".join(columns)
        if self.dialect == "postgresql":
            with self.raw.cursor() as cursor:
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            self.raw.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608 (our names)
                [tuple(_sqlite_value(v) for v in row) for row in rows],
            )
        return len(rows)
