"""The register importer: readers, validation, normalisation, diff and apply.

See ../shared/register-format.md for the file it accepts.
"""
