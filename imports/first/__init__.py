"""The staged first import: staging (shared), stage + columnar (2nd process), writer (SQLite)
and postgres (PostgreSQL). May import imports.readers, .rows, .phones_fast, polars and ADBC;
never imports.apply/.service."""
