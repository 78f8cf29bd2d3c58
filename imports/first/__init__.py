"""The staged first import on SQLite: staging (shared), stage + columnar (2nd process), writer.
May import imports.readers, .rows, .phones_fast, polars and ADBC; never imports.apply/.service."""
