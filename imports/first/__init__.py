"""The staged first import: staging (shared), stage + columnar (2nd process), writer (SQLite)
and postgres (PostgreSQL). May import imports.readers, .rows, .phones_fast, .messages,
polars, ADBC, psycopg and (postgres, for binary COPY) pgpq and pyarrow; never
imports.apply/.service."""
