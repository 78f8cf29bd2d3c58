"""The declarative base every model shares, and the column types the whole model uses."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, MetaData
from sqlalchemy.orm import DeclarativeBase, MappedColumn, mapped_column, registry
from sqlalchemy.types import TypeDecorator

# Named constraints make Alembic migrations reproducible on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current instant, time-zone aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A point in time stored in UTC and always returned time-zone aware.

    SQLite keeps no zone; without this, the same column would be naive on SQLite and aware on
    PostgreSQL, and comparing them would fail only in production.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with the project's naming convention."""

    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def link_key(table: str, *, index: bool = False) -> MappedColumn:
    """One half of a link table's primary key: the row of ``table`` it links, deleted with it."""
    return mapped_column(ForeignKey(f"{table}.id", ondelete="CASCADE"), primary_key=True,
                         index=index)
